"""Device models of filamentary RRAM, vectorised over arrays of devices, seeded, SI units.

* :class:`HfOxReRAM` -> :class:`DeviceArray`: analog conductance window with d2d variation,
  state-dependent pulse response with soft bounds and c2c noise (reset-only sub-1 V updates and
  conventional SET/RESET with :meth:`DeviceArray.program_verify`), relaxation in log time and
  1/f read noise.  The per-device pulse update runs in the Cython kernel ``_pulse_update``.
* :class:`StochasticBinaryReRAM` -> :class:`BinaryDeviceArray`: switching probability versus
  pulse amplitude and width (log-normal switching time), G drawn from a state distribution.
* :mod:`xbar.devices.presets`: parameter sets fitted to measured data (each cites its data set).
* :mod:`xbar.devices.fit`: fitting and validation against measured data.

The cell I-V models live in :mod:`xbar.iv`.
"""

from __future__ import annotations

import importlib

from .hfox import DeviceArray, HfOxReRAM, ProgramVerifyResult, RelaxationNoiseConfig
from .stochastic import BinaryDeviceArray, StochasticBinaryReRAM, switching_probability

__all__ = [
    "HfOxReRAM",
    "DeviceArray",
    "ProgramVerifyResult",
    "RelaxationNoiseConfig",
    "StochasticBinaryReRAM",
    "BinaryDeviceArray",
    "switching_probability",
    "fit",
    "presets",
]


def __getattr__(name: str):
    if name in ("fit", "presets"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
