"""One declaration per parameter: type, allowed range or choices, unit, default and text.

A dataclass field declared with :func:`param` carries a :class:`Constraint` in its metadata.
The same object then

* validates instances (:func:`validate`, called from ``__post_init__``; the error names the
  class and field, the allowed range with its unit and the value received),
* documents the field in ``help()`` (:func:`declared` runs ``xbar._fielddoc.document_fields``
  and adds the allowed range and unit to each field's entry),
* becomes a sweep parameter (``xbar.sweep.Param`` is :class:`Constraint`) and a key of the
  TOML tables of ``xbar train`` and of :class:`xbar.config.HardwareConfig`
  (:func:`constraints` lists the declared fields of a class, with their defaults).

Example::

    @declared
    @dataclass
    class Driver:
        \"\"\"A word-line driver.\"\"\"

        v_read: float = param(0.2, low=0.0, low_open=True, unit="V")
        \"\"\"Read voltage, V.\"\"\"

        def __post_init__(self):
            validate(self)
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, cast

from .._fielddoc import document_fields, field_docs
from ..exceptions import ConfigError

__all__ = ["Constraint", "param", "bound", "validate", "declared", "constraints", "field_text"]

_TYPES = {
    int: "an integer",
    float: "a real number",
    bool: "a boolean (true or false)",
    str: "a string",
}
_KEY = "xbar.constraint"


@dataclass(frozen=True)
class Constraint:
    """What one parameter accepts (also exported as ``xbar.sweep.Param``).

    Parameters
    ----------
    type : type
        ``int``, ``float``, ``bool`` or ``str``.  An integer is accepted for a ``float``
        parameter (and converted by :meth:`check`); nothing else is coerced.
    default : Any
        Value used when none is given (for a sweep: when the spec gives none).
    low, high : float or None
        Bounds of a number, in ``unit`` (``None`` = unbounded); inclusive unless ``low_open`` /
        ``high_open``.
    low_open : bool
        Make ``low`` exclusive (``> low``), e.g. for strictly positive quantities.
    choices : tuple or None
        The allowed values (any type), e.g. ``("0T1R", "1T1R")``.
    unit : str
        SI unit ("ohm", "S", "V", "A", "s", "J", "W") or another unit name ("LSB", "%"); ""
        for dimensionless numbers.
    doc : str
        One line: what the parameter means (shown by ``xbar sweep SPEC --check`` and
        ``xbar hardware show``).  Empty for a dataclass field: its attribute docstring is used.
    high_open : bool
        Make ``high`` exclusive (``< high``).
    optional : bool
        Also accept ``None`` (e.g. an ideal converter, ``bits=None``).
    """

    type: type = float
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple | None = None
    unit: str = ""
    doc: str = ""
    high_open: bool = False
    optional: bool = False

    def __post_init__(self):
        if self.type not in _TYPES:
            raise ConfigError(f"Param.type must be one of int, float, bool, str, got {self.type!r}")
        if self.choices is not None and not isinstance(self.choices, tuple):
            object.__setattr__(self, "choices", tuple(self.choices))

    def bounds_text(self) -> str:
        """The allowed range, e.g. ``> 0 and <= 10 ohm``, or ``one of [...]`` ("" if free)."""
        if self.choices is not None:
            return f"one of {sorted(self.choices, key=repr)}"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        text = " and ".join(parts)
        if text and self.unit:
            text += f" {self.unit}"
        return text

    def describe(self) -> str:
        """Type and range, e.g. ``a real number > 0 ohm`` (``or None`` when optional)."""
        if self.choices is not None:
            text = self.bounds_text()
        else:
            text = _TYPES[self.type]
            rng = self.bounds_text()
            text += f" {rng}" if rng else (f" ({self.unit})" if self.unit else "")
        return text + (" or None" if self.optional else "")

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ConfigError.

        Parameters
        ----------
        value : Any
            The value to check (``None`` passes when ``optional``).
        where : str
            Names the value in the message, e.g. ``"ADC.bits"`` or ``"[axes] r_wire[2]"``.

        Returns
        -------
        Any
            ``value`` (an ``int`` given for a ``float`` parameter becomes a ``float``).
        """
        if value is None and self.optional:
            return None
        got = f"got {type(value).__name__} {value!r}"
        kind = _TYPES[self.type] + (" or None" if self.optional else "")
        if self.type is bool:
            if type(value).__name__ == "bool_":  # numpy.bool_
                value = bool(value)
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be {kind}, {got}")
        elif self.type is str:
            if not isinstance(value, str):
                raise ConfigError(f"{where} must be {kind}, {got}")
        else:
            if isinstance(value, bool) or not isinstance(
                value, numbers.Integral if self.type is int else numbers.Real
            ):
                raise ConfigError(f"{where} must be {kind}, {got}")
            value = int(cast(int, value)) if self.type is int else float(value)
            if value != value or abs(value) == float("inf"):
                raise ConfigError(f"{where} must be finite, {got}")
        if self.choices is not None:
            if value not in self.choices:
                raise ConfigError(f"{where} must be {self.bounds_text()}, got {value!r}")
            return value
        lo_bad = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        hi_bad = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if lo_bad or hi_bad:
            raise ConfigError(f"{where} must be {self.bounds_text()}, got {value!r}")
        return value


def param(
    default: Any = dataclasses.MISSING,
    *,
    kind: type | None = None,
    default_factory: Any = dataclasses.MISSING,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple | None = None,
    unit: str = "",
    optional: bool = False,
    doc: str = "",
    repr: bool = True,
) -> Any:
    """A dataclass field whose allowed values are declared (see the module docstring).

    Parameters
    ----------
    default : Any
        The field's default.
    kind : type, optional
        ``int``, ``float``, ``bool`` or ``str``; default: the type of ``default``.
    default_factory : callable, optional
        As for :func:`dataclasses.field` (instead of ``default``).
    low, high : float, optional
        Bounds, in ``unit``.
    low_open, high_open : bool
        Exclusive bounds.
    choices : tuple, optional
        The allowed values.
    unit : str
        Unit of the value ("ohm", "S", "V", "s", "J", "W", ...; "" dimensionless).
    optional : bool
        ``None`` is allowed.
    doc : str
        One line of text; default: the attribute docstring below the field.
    repr : bool
        Include the field in the dataclass ``repr``.

    Returns
    -------
    dataclasses.Field
        The field, with the :class:`Constraint` in ``metadata``.
    """
    if kind is None:
        kind = type(default)
        if kind not in _TYPES:
            raise ConfigError(
                f"param(): give kind= (int, float, bool or str) for default {default!r}"
            )
    c = Constraint(
        kind,
        None if default is dataclasses.MISSING else default,
        low,
        high,
        low_open,
        choices,
        unit,
        doc,
        high_open,
        optional,
    )
    return dataclasses.field(
        default=default, default_factory=default_factory, repr=repr, metadata={_KEY: c}
    )


def bound(
    low: float | None = None, high: float | None = None, low_open: bool = False, unit: str = ""
) -> Constraint:
    """A real number's range, for parameter tables keyed by field name (the device models').

    Parameters
    ----------
    low, high : float, optional
        Inclusive bounds in ``unit`` (None: unbounded).
    low_open : bool
        Make ``low`` exclusive.
    unit : str
        The unit ("S", "V", "s", ...; "" dimensionless).

    Returns
    -------
    Constraint
        A ``float`` constraint.
    """
    return Constraint(float, None, low, high, low_open, None, unit)


def _constraint(f: dataclasses.Field) -> Constraint | None:
    c = f.metadata.get(_KEY)
    return c if isinstance(c, Constraint) else None


def validate(obj: Any) -> None:
    """Check every declared field of the dataclass instance ``obj``.

    Parameters
    ----------
    obj : dataclass instance
        Its fields declared with :func:`param` are checked; others are left to the class.

    Raises
    ------
    ConfigError
        Naming ``Class.field``, the allowed range with its unit and the value received.
    """
    name = type(obj).__name__
    for f in dataclasses.fields(obj):
        c = _constraint(f)
        if c is not None:
            c.check(getattr(obj, f.name), f"{name}.{f.name}")


def field_text(cls: type) -> dict[str, str]:
    """``{field: first sentence of its attribute docstring}`` of the dataclass ``cls``."""
    out = {}
    for name, text in field_docs(cls).items():
        one = " ".join(text.split())
        cut = one.find(". ")
        out[name] = one if cut < 0 else one[: cut + 1]
    return out


def constraints(cls: type) -> dict[str, Constraint]:
    """The declared fields of the dataclass ``cls``: ``{field: Constraint}``.

    Each constraint carries the field's default (``None`` for a ``default_factory``) and, when
    it has no ``doc`` of its own, the first sentence of the field's attribute docstring.
    """
    cached = cls.__dict__.get("__xbar_constraints__")
    if cached is not None:
        return dict(cached)
    texts = None
    out = {}
    for f in dataclasses.fields(cls):
        c = _constraint(f)
        if c is None:
            continue
        if not c.doc:
            texts = field_text(cls) if texts is None else texts
            c = dataclasses.replace(c, doc=texts.get(f.name, ""))
        out[f.name] = c
    setattr(cls, "__xbar_constraints__", out)
    return dict(out)


def declared(cls: type) -> type:
    """Class decorator: ``xbar._fielddoc.document_fields``, plus the declared range.

    Each declared field's entry in the generated ``Parameters`` section gains a line
    ``Allowed: <range>`` (from its :class:`Constraint`), so ``help()``, the API reference and
    the validation read one declaration.
    """
    document_fields(cls)
    doc = cls.__doc__
    if not doc:
        return cls
    lines = doc.splitlines()
    for f in dataclasses.fields(cls):
        c = _constraint(f)
        if c is None:
            continue
        head = f"{f.name} : "
        for k, ln in enumerate(lines):
            if ln.startswith(head):
                lines.insert(k + 1, f"    Allowed: {c.describe()}.")
                break
    cls.__doc__ = "\n".join(lines) + ("\n" if doc.endswith("\n") else "")
    return cls
