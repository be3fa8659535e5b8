"""Parameter schemas: what a sweep task accepts, as data.

A task declares its parameters as a table of :class:`Param` entries (type, allowed range or
choices, default, unit).  Spec validation, the error messages for bad specs and the tests that
generate invalid values all read the same table, so a new parameter needs one line.
"""
from __future__ import annotations

import difflib
import numbers
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigError

_TYPES = {int: "an integer", float: "a real number", bool: "a boolean", str: "a string"}


@dataclass(frozen=True)
class Param:
    """One parameter a sweep task accepts.

    Attributes
    ----------
    type : type
        ``int``, ``float``, ``bool`` or ``str``.  An integer is accepted for a ``float`` parameter
        (and converted); nothing else is coerced.
    default : Any
        Value used when the spec gives none.
    low, high : float or None
        Inclusive bounds for numbers (``None`` = unbounded).
    low_open : bool
        Make ``low`` exclusive (``> low``), e.g. for strictly positive quantities.
    choices : tuple of str or None
        Allowed values of a ``str`` parameter.
    unit : str
        SI unit ("ohm", "S", "V", "s", "J") or "" for dimensionless numbers.
    doc : str
        One line: what the parameter means (shown by ``xbar sweep SPEC --check``).
    """

    type: type = float
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None
    unit: str = ""
    doc: str = ""

    def __post_init__(self):
        if self.type not in _TYPES:
            raise ConfigError(f"Param.type must be one of int, float, bool, str, got {self.type!r}")

    def describe(self) -> str:
        """Human-readable type and range, e.g. ``a real number > 0 ohm``."""
        text = _TYPES[self.type]
        if self.choices is not None:
            return f"one of {list(self.choices)}"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"<= {self.high:g}")
        if parts:
            text += " " + " and ".join(parts)
        if self.unit:
            text += f" {self.unit}"
        return text

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ConfigError.

        ``where`` names the value in the message, e.g. ``"[axes] r_wire[2]"``.
        """
        bad = ConfigError(f"{where} must be {self.describe()}, got {type(value).__name__} {value!r}")
        if self.type is bool:
            if not isinstance(value, bool):
                raise bad
            return value
        if self.type is str:
            if not isinstance(value, str) or (self.choices is not None and value not in self.choices):
                raise bad
            return value
        if isinstance(value, bool):
            raise bad
        if self.type is int:
            if not isinstance(value, numbers.Integral):
                raise bad
            value = int(value)
        else:
            if not isinstance(value, numbers.Real) or value != value or abs(value) == float("inf"):
                raise bad
            value = float(value)
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            raise bad
        if self.high is not None and value > self.high:
            raise bad
        return value


SEED = Param(int, default=0, low=0, doc="random seed of the point (passed to the task separately)")
"""Every task accepts ``seed``; it is an ordinary axis (``seed = [0, 1, 2]``) or a base value."""


def unknown_name(name: str, known, what: str, where: str) -> ConfigError:
    """A ConfigError for an unknown name, with the closest known names suggested."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown {what} {name!r} in {where}{hint}; known: {', '.join(known)}")
