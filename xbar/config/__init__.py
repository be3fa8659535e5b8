"""Configuration: one declaration per parameter, and the composite hardware configuration.

* ``xbar.config.declare``: :func:`param` declares a dataclass field's type, range, unit and
  default once; :func:`validate`, the documentation, the sweep parameters and the TOML keys
  derive from it.
* :mod:`xbar.config.hardware`: :class:`HardwareConfig` gathers array, cell, wires, device, DAC,
  TIA, ADC and mapping; printable, TOML-serialisable, and the one object the analog layer,
  ``xbar train``, sweeps and ``xbar read``/``xbar hardware`` accept.
"""

from __future__ import annotations

from .declare import Constraint, constraints, declared, param, validate

__all__ = [
    "Constraint",
    "param",
    "validate",
    "declared",
    "constraints",
    "HardwareConfig",
    "DeviceConfig",
    "load_hardware",
]


def __getattr__(name: str):
    # The hardware configuration imports the periphery, whose dataclasses import this package's
    # declarations: loaded on first use to keep the import order acyclic.
    if name in ("HardwareConfig", "DeviceConfig", "load_hardware"):
        from . import hardware

        return getattr(hardware, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
