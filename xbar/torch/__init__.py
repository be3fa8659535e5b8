"""PyTorch bridge: run the ``Linear`` and ``Conv2d`` layers of a trained ``torch.nn.Module`` on
circuit-accurate crossbars, evaluate it and fine-tune it hardware-aware with any torch optimiser.

>>> import xbar.torch as xt                                  # doctest: +SKIP
>>> analog = xt.convert(model, hardware=xt.Hardware())       # doctest: +SKIP
>>> analog.eval()(x)                                         # doctest: +SKIP

* :func:`convert` returns a copy of the model in which every ``nn.Linear`` and ``nn.Conv2d`` is a
  :class:`CrossbarLinear` / :class:`CrossbarConv2d`: DAC -> circuit solve of every tile -> TIA ->
  ADC through :class:`xbar.periphery.AnalogLinear`; biases and everything else stay digital PyTorch.
* :func:`to_float` reads the effective weights back from the arrays into a plain PyTorch copy.
* :func:`calibrate` sets calibrated ADC ranges from example inputs.
* :func:`relax` lets the programmed conductances relax (drift) for a time, per the device model.

Needs the optional extra: ``pip install "xbar-sim[torch]"``.  Only this subpackage imports torch.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without torch
    raise ImportError(
        'xbar.torch needs PyTorch: pip install "xbar-sim[torch]" '
        f"(or pip install torch); the import failed with: {exc}"
    ) from exc

from .convert import analog_modules, calibrate, convert, energy, relax, to_float
from .hardware import Hardware
from .modules import CrossbarConv2d, CrossbarLinear

__all__ = [
    "Hardware",
    "CrossbarLinear",
    "CrossbarConv2d",
    "convert",
    "to_float",
    "calibrate",
    "relax",
    "analog_modules",
    "energy",
]
