"""xbar: circuit-accurate memristor crossbar simulation and on-chip training with per-pulse energy.

Units are SI throughout: ohms, siemens, volts, amperes, seconds, joules, watts.

Subpackages load on first use (``xbar.devices``, ``xbar.periphery``, ...), so ``import xbar`` stays
fast and importing the circuit solver does not pull in optional dependencies.
"""

from __future__ import annotations

import importlib

from .circuit import Crossbar, CircuitSolution, PowerBreakdown, bias
from .exceptions import ConfigError, ConvergenceError, ConvergenceWarning, XbarError

__version__ = "0.1.0"

_SUBMODULES = {
    "bias",
    "circuit",
    "data",
    "devices",
    "iv",
    "periphery",
    "plot",
    "pulses",
    "spice",
    "sweep",
    "train",
}
# Public names defined in subpackages, loaded lazily: name -> module.
_LAZY = {
    "EnergyLedger": "xbar.pulses",
    "AnalogLinear": "xbar.periphery",
}  # also listed in __all__ below

__all__ = [
    "Crossbar",
    "CircuitSolution",
    "PowerBreakdown",
    "bias",
    "ConfigError",
    "ConvergenceError",
    "ConvergenceWarning",
    "XbarError",
    "__version__",
    "AnalogLinear",
    "EnergyLedger",
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"xbar.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xbar' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_LAZY))
