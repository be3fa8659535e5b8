"""The composite hardware configuration: array, cell, wires, device, DAC, TIA, ADC and mapping.

:class:`HardwareConfig` gathers the configuration dataclasses of one analog layer, as aihwkit's
RPU configs gather theirs.  Each value has one home:

* ``array`` (:class:`xbar.periphery.ArrayConfig`): tile size (``max_rows``, ``max_cols``), cell
  (``cell``, ``r_access``) and wires (``r_wordline``, ``r_bitline``), ohm;
* ``device`` (:class:`DeviceConfig`): a preset name or a model and its parameters;
* ``dac`` (:class:`xbar.periphery.DAC`): drivers, with ``r_driver`` (ohm);
* ``tia`` (:class:`xbar.periphery.TIA`): sense amplifiers, with ``r_in``, the circuit's
  ``r_sense`` (ohm);
* ``adc`` (:class:`xbar.periphery.ADC`): column converters;
* ``mapping`` (:class:`xbar.periphery.WeightMapping`): weights to conductances.

The same TOML file (one table per section; keys are the dataclass fields, checked against their
declarations) is read by :meth:`HardwareConfig.from_toml`, ``xbar read --hardware``,
``xbar hardware show|dump`` and the ``[hardware]`` table of ``xbar train``; every declared field
is a sweep parameter ``hardware.<section>.<field>`` (:func:`hardware_params`).  TOML has no
null: ``"none"`` stands for ``None`` (e.g. ``bits = "none"``, an ideal converter).

>>> from xbar.config import HardwareConfig
>>> hw = HardwareConfig.from_dict({"array": {"max_rows": 64}, "adc": {"bits": 6}})
>>> HardwareConfig.from_toml(hw.to_toml()) == hw
True
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError
from ..periphery.adc import ADC
from ..periphery.dac import DAC
from ..periphery.mapping import ConductanceRange, WeightMapping
from ..periphery.tia import TIA
from ..periphery.tiling import ArrayConfig
from ._toml import dump_toml
from .declare import Constraint, constraints, declared, field_text, param, validate

__all__ = [
    "HardwareConfig",
    "DeviceConfig",
    "SECTIONS",
    "NONE",
    "hardware_params",
    "load_hardware",
    "device_constraints",
    "PRESETS",
    "MODELS",
]

#: The TOML spelling of ``None``.
NONE = "none"

#: Section name -> configuration class (``device`` is :class:`DeviceConfig`).
SECTIONS: dict[str, type] = {
    "array": ArrayConfig,
    "dac": DAC,
    "tia": TIA,
    "adc": ADC,
    "mapping": WeightMapping,
}


def _presets() -> tuple[str, ...]:
    import inspect

    from ..devices import presets

    return tuple(
        n
        for n in presets.__all__
        if n.islower()
        and inspect.signature(getattr(presets, n)).return_annotation in ("HfOxReRAM",)
    )


def _models() -> dict[str, type]:
    from ..devices import HfOxReRAM, StochasticBinaryReRAM

    return {
        "window": ConductanceRange,
        "HfOxReRAM": HfOxReRAM,
        "StochasticBinaryReRAM": StochasticBinaryReRAM,
    }


#: Names of the measured device presets (``xbar.devices.presets``).
PRESETS: tuple[str, ...] = _presets()
#: Device model names: ``"window"`` (a conductance window only) and the ``xbar.devices`` models.
MODELS: tuple[str, ...] = tuple(_models())
#: How the analog layer writes device-backed tiles (``AnalogLinear(programming=...)``).
PROGRAMMING: tuple[str, ...] = ("exact", "verify")


def device_constraints(model: str = "HfOxReRAM") -> dict[str, Constraint]:
    """The declared bounds of a device model's parameters, ``{field: Constraint}``.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.

    Returns
    -------
    dict
        Each constraint carries the model's default for the field (knot tables are tuples: the
        bound applies to every element).
    """
    cls = _models()[model]
    if model == "window":
        return constraints(cls)
    from ..devices import hfox, stochastic

    table = hfox._HFOX_CONSTRAINTS if model == "HfOxReRAM" else stochastic._BIN_CONSTRAINTS
    defaults = {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }
    texts: dict[str, str] = {}
    for klass in reversed(cls.__mro__):  # the attribute docstrings of the model and its bases
        if dataclasses.is_dataclass(klass):
            texts.update(field_text(klass))
    return {
        k: dataclasses.replace(c, default=defaults.get(k), doc=c.doc or texts.get(k, k))
        for k, c in table.items()
    }


@declared
@dataclass
class DeviceConfig:
    """The device of every cell: a measured preset, a device model with its parameters, or a
    conductance window.

    ``build()`` gives the model: ``presets.<preset>(**params)`` for a preset, the model class
    ``model`` with ``params`` otherwise (``model`` defaults to ``"HfOxReRAM"`` when parameters
    are given), and ``None`` (the analog layer's default window) when nothing is given.
    """

    preset: str | None = param(None, kind=str, choices=PRESETS, optional=True)
    """Name of a fitted preset of ``xbar.devices.presets``, e.g. ``"tud_hfox"``."""
    model: str | None = param(None, kind=str, choices=MODELS, optional=True)
    """``"window"`` (``g_min``/``g_max`` only, S), ``"HfOxReRAM"`` or
    ``"StochasticBinaryReRAM"``; not used with ``preset`` (a preset fixes its model)."""
    params: dict = field(default_factory=dict)
    """Model parameters (S, V, s, as the model documents them) overriding the preset's or the
    model's defaults; knot tables as tuples."""
    programming: str = param("exact", choices=PROGRAMMING)
    """How the analog layer writes its devices (``AnalogLinear(programming=...)``): ``"exact"``
    sets every device's conductance, ``"verify"`` runs the model's program-and-verify."""
    read_noise: bool = param(False)
    """Add the model's read noise to every read of the analog layer
    (``AnalogLinear(read_noise=...)``)."""
    program_options: dict = field(default_factory=dict)
    """Keyword arguments of the model's program-and-verify for ``programming = "verify"``
    (``AnalogLinear(program_options=...)``: tolerance in S, ``max_pulses``, pulse width in s)."""

    def __post_init__(self):
        validate(self)
        if not isinstance(self.params, dict):
            raise ConfigError(
                f"DeviceConfig.params must be a dict, got {type(self.params).__name__}"
            )
        if self.preset is not None and self.model is not None:
            raise ConfigError(
                f"DeviceConfig: give preset or model, not both (got preset="
                f"{self.preset!r}, model={self.model!r})"
            )
        self.params = {k: tuple(v) if isinstance(v, list) else v for k, v in self.params.items()}
        cls = _models()[self.model_name]
        known = {f.name for f in dataclasses.fields(cls)}
        for k in self.params:
            if k not in known:
                raise _unknown(k, known, f"{self.model_name} parameter", "DeviceConfig.params")
        if not isinstance(self.program_options, dict):
            raise ConfigError(
                "DeviceConfig.program_options must be a dict, got "
                f"{type(self.program_options).__name__}"
            )
        model = self.build()  # the model's own checks (declared bounds, g_min < g_max, ...)
        if self.layer_options() and (model is None or isinstance(model, ConductanceRange)):
            raise ConfigError(
                f"DeviceConfig: {sorted(self.layer_options())} need a device model "
                "(a preset or model = 'HfOxReRAM', ...), not a conductance window"
            )

    def layer_options(self) -> dict:
        """The ``AnalogLinear`` keywords ``programming``, ``read_noise``, ``program_options``
        that differ from the defaults (so the default layer is built with the defaults)."""
        out: dict[str, Any] = {}
        if self.programming != "exact":
            out["programming"] = self.programming
        if self.read_noise:
            out["read_noise"] = True
        if self.program_options:
            out["program_options"] = dict(self.program_options)
        return out

    @property
    def model_name(self) -> str:
        """The model class's name (``"HfOxReRAM"`` for the presets)."""
        if self.model is not None:
            return self.model
        return "HfOxReRAM"

    @property
    def is_default(self) -> bool:
        """True when nothing is configured (the layer's default conductance window)."""
        return self.preset is None and self.model is None and not self.params

    def build(self):
        """The device model (an ``xbar.devices`` model or a ``ConductanceRange``), or None."""
        if self.is_default:
            return None
        if self.preset is not None:
            from ..devices import presets

            return getattr(presets, self.preset)(**self.params)
        return _models()[self.model_name](**self.params)

    def to_dict(self) -> dict:
        """The TOML table: ``preset``/``model`` and the parameters."""
        out: dict[str, Any] = {}
        if self.preset is not None:
            out["preset"] = self.preset
        if self.model is not None:
            out["model"] = self.model
        for k, v in self.params.items():
            out[k] = _plain(v, f"device.{k}")
        if self.programming != "exact":
            out["programming"] = self.programming
        if self.read_noise:
            out["read_noise"] = True
        if self.program_options:
            out["program_options"] = _plain(self.program_options, "device.program_options")
        return out

    @classmethod
    def from_dict(cls, table: dict, where: str = "device") -> "DeviceConfig":
        """From a TOML table (``preset``, ``model`` and parameter keys), checked key by key.

        Parameters
        ----------
        table : dict
            The table.
        where : str
            Names the table in error messages (e.g. ``"hardware.device"``).
        """
        if not isinstance(table, dict):
            raise ConfigError(f"[{where}] must be a table, got {type(table).__name__} {table!r}")
        table = dict(table)
        own = constraints(cls)
        opts = {
            k: own[k].check(table.pop(k), f"[{where}] {k}")
            for k in ("preset", "model", "programming", "read_noise")
            if k in table
        }
        preset, model = opts.pop("preset", None), opts.pop("model", None)
        if "program_options" in table:
            po = table.pop("program_options")
            if not isinstance(po, dict):
                raise ConfigError(
                    f"[{where}] program_options must be a table of program-and-verify "
                    f"keywords, got {type(po).__name__} {po!r}"
                )
            opts["program_options"] = po
        name = model or "HfOxReRAM"
        bounds = device_constraints(name)
        known = {f.name for f in dataclasses.fields(_models()[name])}
        for k, v in table.items():
            if k not in known:
                raise _unknown(k, known | set(_OWN_KEYS), "key", f"[{where}]")
            c = bounds.get(k)
            if isinstance(v, (list, tuple)) and not isinstance(c.default if c else (), tuple):
                raise ConfigError(
                    f"[{where}] {k} must be {(c or Constraint()).describe()}, got "
                    f"{type(v).__name__} {v!r}"
                )
            if c is not None:
                for i, x in enumerate(v if isinstance(v, (list, tuple)) else [v]):
                    c.check(
                        x, f"[{where}] {k}" + (f"[{i}]" if isinstance(v, (list, tuple)) else "")
                    )
        return _wrap(where, lambda: cls(preset=preset, model=model, params=table, **opts))


def _note(c: Constraint, width: int = 64) -> str:
    """A one-line comment: unit, then the start of the field's text."""
    text = c.doc.replace("``", "")
    if len(text) > width:
        text = text[:width].rsplit(" ", 1)[0] + " ..."
    return (f"[{c.unit}] " if c.unit else "") + text


_OWN_KEYS = ("preset", "model", "programming", "read_noise", "program_options")


def _wrap(where: str, make):
    try:
        return make()
    except TypeError as exc:
        raise ConfigError(f"[{where}] {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"[{where}] {exc}") from None


def _unknown(name: str, known, what: str, where: str) -> ConfigError:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown {what} {name!r} in {where}{hint}; known: {', '.join(known)}")


def _plain(value, where: str):
    """A TOML value: None -> "none", tuples -> lists; anything else TOML cannot hold is refused."""
    if value is None:
        return NONE
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return _plain(value.item(), where)
    raise ConfigError(
        f"{where} = {value!r} ({type(value).__name__}) cannot be written to TOML "
        "(numbers, strings, booleans and lists only)"
    )


def _fields_dict(obj) -> dict:
    """A section's fields as a TOML table (None -> "none"; empty dicts left out)."""
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, dict) and not v:
            continue
        out[f.name] = _plain(v, f"{type(obj).__name__}.{f.name}")
    return out


def _section_from_dict(cls: type, table: dict, where: str):
    """``cls(**table)`` with every key checked against the declarations, errors naming it."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table, got {type(table).__name__} {table!r}")
    fields = {f.name for f in dataclasses.fields(cls)}
    decl = constraints(cls)
    kw = {}
    for k, v in table.items():
        if k not in fields:
            raise _unknown(k, fields, "key", f"[{where}]")
        c = decl.get(k)
        if v == NONE and (c is None or c.optional):
            v = None
        elif isinstance(v, list):
            v = tuple(v)
        if c is not None:
            v = c.check(v, f"[{where}] {k}")
        kw[k] = v
    return _wrap(where, lambda: cls(**kw))


@dataclass
class HardwareConfig:
    """Array, cell, wires, device, DAC, TIA, ADC and mapping of an analog layer, in one object.

    Printable (``str`` gives commented TOML with units), serialisable (:meth:`to_dict`,
    :meth:`from_dict`, :meth:`to_toml`, :meth:`from_toml`), validated from the fields'
    declarations, and accepted by the analog layer (:meth:`build_layer`), ``xbar train``
    (``[hardware]``), sweeps (``hardware.<section>.<field>``) and ``xbar read --hardware``.
    The defaults equal ``AnalogLinear``'s.

    Parameters
    ----------
    array : ArrayConfig
        Tile size, cell type and access resistance (ohm), word- and bit-line resistance per
        segment (ohm).
    device : DeviceConfig
        The cells' device: preset, model and parameters (S, V, s).
    dac : DAC
        Drivers: resolution, read voltage (V), read time (s), ``r_driver`` (ohm), power (W).
    tia : TIA
        Sense amplifiers: ``r_in`` (the circuit's ``r_sense``, ohm), gain (ohm), swing (V).
    adc : ADC
        Column converters: resolution, range, errors, energy (J) and time (s) per conversion.
    mapping : WeightMapping
        How signed weights become conductances.
    """

    array: ArrayConfig = field(default_factory=ArrayConfig)
    device: DeviceConfig = field(default_factory=DeviceConfig)
    dac: DAC = field(default_factory=DAC)
    tia: TIA = field(default_factory=TIA)
    adc: ADC = field(default_factory=ADC)
    mapping: WeightMapping = field(default_factory=WeightMapping)

    def __post_init__(self):
        for name, cls in {**SECTIONS, "device": DeviceConfig}.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(
                    f"HardwareConfig.{name} must be a {cls.__name__}, got "
                    f"{type(getattr(self, name)).__name__}"
                )

    # ------------------------------------------------------------------ views
    @property
    def cell(self) -> str:
        """``"0T1R"`` or ``"1T1R"`` (``array.cell``)."""
        return self.array.cell

    @property
    def wires(self) -> dict[str, float]:
        """The resistances of the circuit, ohm: ``r_wordline``, ``r_bitline`` (per segment),
        ``r_driver`` (``dac.r_driver``), ``r_sense`` (``tia.r_in``)."""
        return {
            "r_wordline": self.array.r_wordline,
            "r_bitline": self.array.r_bitline,
            "r_driver": self.dac.r_driver,
            "r_sense": self.tia.r_in,
        }

    # ------------------------------------------------------------------ builders
    def layer_kwargs(self) -> dict:
        """Keyword arguments of :class:`xbar.periphery.AnalogLinear` for this hardware."""
        return dict(
            array=self.array,
            dac=self.dac,
            adc=self.adc,
            tia=self.tia,
            mapping=self.mapping,
            device=self.device.build(),
            **self.device.layer_options(),
        )

    def build_layer(self, W, *, random_state=None, **kwargs):
        """An :class:`xbar.periphery.AnalogLinear` of weights ``W`` on this hardware.

        Parameters
        ----------
        W : (out, in) array_like
            Weights (weight units).
        random_state : None, int or numpy.random.Generator
            Seeds the layer's fabrication and operation streams.
        **kwargs
            Further ``AnalogLinear`` keywords (``ledger``, ``name``, ``read_method``, ...).

        Returns
        -------
        AnalogLinear
        """
        from ..periphery.layer import AnalogLinear

        clash = set(kwargs) & set(self.layer_kwargs())
        if clash:
            raise ConfigError(
                f"build_layer: {sorted(clash)} come from the HardwareConfig; change "
                "the config instead of passing them"
            )
        return AnalogLinear(W, **self.layer_kwargs(), random_state=random_state, **kwargs)

    def crossbar_kwargs(self) -> dict:
        """Keyword arguments of :class:`xbar.Crossbar` for one array of this hardware: wires,
        cell, ``r_driver = dac.r_driver``, ``r_sense = tia.r_in`` (ohm), and the device's I-V
        (``iv``) when the device model has one and ``array.crossbar_options`` sets none."""
        kw = self.array.crossbar_kwargs(self.dac.r_driver, self.tia.r_in)
        iv = getattr(self.device.build(), "iv", None)
        if iv is not None and "iv" not in kw:
            kw["iv"] = iv
        return kw

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """``{section: {field: value}}``, TOML-ready (``None`` as ``"none"``, tuples as lists)."""
        out = {name: _fields_dict(getattr(self, name)) for name in ("array",)}
        out["device"] = self.device.to_dict()
        for name in ("dac", "tia", "adc", "mapping"):
            out[name] = _fields_dict(getattr(self, name))
        return out

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> "HardwareConfig":
        """From ``{section: {field: value}}``; absent sections and fields take their defaults.

        Parameters
        ----------
        data : dict
            Tables ``array``, ``device``, ``dac``, ``tia``, ``adc``, ``mapping`` (or one table
            ``hardware`` holding them).  Every key is checked against its declaration.
        where : str
            Prefix of the table names in error messages (e.g. ``"hardware."``).

        Raises
        ------
        ConfigError
            Naming the table, the key, the allowed range and the value.
        """
        if not isinstance(data, dict):
            raise ConfigError(
                f"a hardware configuration must be a table, got {type(data).__name__}"
            )
        if set(data) == {"hardware"} and isinstance(data["hardware"], dict):
            data = data["hardware"]
        known = set(SECTIONS) | {"device"}
        for name in data:
            if name not in known:
                raise _unknown(
                    name,
                    known,
                    "section",
                    f"the hardware configuration{' ' + where if where else ''}",
                )
        kw = {
            name: _section_from_dict(c, data[name], f"{where}{name}")
            for name, c in SECTIONS.items()
            if name in data
        }
        if "device" in data:
            kw["device"] = DeviceConfig.from_dict(data["device"], f"{where}device")
        return cls(**kw)

    def to_toml(self, *, comments: bool = False) -> str:
        """The configuration as TOML text (``comments``: each value's unit and meaning).

        Parameters
        ----------
        comments : bool
            Add ``# unit: text`` after each declared value (what ``str()`` shows).

        Returns
        -------
        str
            Text :meth:`from_toml` reads back to an equal configuration.
        """
        notes = {}
        if comments:
            for name, c in list(SECTIONS.items()) + [("device", DeviceConfig)]:
                for k, con in constraints(c).items():
                    notes[(name, k)] = _note(con)
        return dump_toml(self.to_dict(), notes)

    @classmethod
    def from_toml(cls, text: str, where: str = "") -> "HardwareConfig":
        """Parse TOML text (see :meth:`from_dict`)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"hardware configuration: invalid TOML: {exc}") from None
        return cls.from_dict(data, where)

    def __str__(self) -> str:
        head = [
            "# xbar hardware configuration (TOML; [unit] and meaning in the comments)",
            f"# cell {self.cell}; wires: "
            + ", ".join(f"{k} = {v:g} ohm" for k, v in self.wires.items()),
        ]
        return "\n".join(head) + "\n" + self.to_toml(comments=True)

    # ------------------------------------------------------------------ sweeps
    @classmethod
    def from_flat(cls, params: dict, prefix: str = "hardware") -> "HardwareConfig":
        """From sweep parameters ``{"<prefix>.<section>.<field>": value}`` (others ignored).

        Device parameters whose value is ``None`` are not set (the model's default applies).
        """
        nested: dict[str, dict] = {}
        for key, value in params.items():
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != prefix:
                continue
            _, section, name = parts
            if section == "device" and value is None:
                continue
            nested.setdefault(section, {})[name] = value
        return cls.from_dict(nested, f"{prefix}.")


def hardware_params(
    prefix: str = "hardware", device_model: str = "HfOxReRAM"
) -> dict[str, Constraint]:
    """Every declared hardware field as a sweep parameter ``<prefix>.<section>.<field>``.

    Parameters
    ----------
    prefix : str
        First part of the names.
    device_model : str
        Model whose parameters appear as ``<prefix>.device.<name>`` (optional, default None:
        the preset's or model's own value).

    Returns
    -------
    dict
        ``{name: Constraint}`` with the :class:`HardwareConfig` defaults.
    """
    out = {}
    base = HardwareConfig()
    for section in SECTIONS:
        for k, c in constraints(SECTIONS[section]).items():
            out[f"{prefix}.{section}.{k}"] = dataclasses.replace(
                c, default=getattr(getattr(base, section), k)
            )
    for k, c in constraints(DeviceConfig).items():
        out[f"{prefix}.device.{k}"] = c
    for k, c in device_constraints(device_model).items():
        out[f"{prefix}.device.{k}"] = dataclasses.replace(
            c,
            default=None,
            optional=True,
            doc=f"device {k} (None: the preset's or model's value {c.default!r})",
        )
    return out


def load_hardware(path: "str | os.PathLike") -> HardwareConfig:
    """Read a hardware configuration TOML file.

    Parameters
    ----------
    path : str or path-like
        The file (tables ``array``, ``device``, ``dac``, ``tia``, ``adc``, ``mapping``, or one
        ``hardware`` table holding them).

    Returns
    -------
    HardwareConfig
    """
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise ConfigError(f"hardware configuration {p}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"hardware configuration {p}: cannot be read: {exc}") from None
    try:
        return HardwareConfig.from_toml(text)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
