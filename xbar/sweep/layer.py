"""The ``layer`` sweep task: an analog layer on a :class:`~xbar.config.HardwareConfig`.

A random weight matrix (fabrication stream of the random_state, uniform in [-1, 1]) is mapped onto the
hardware by :meth:`HardwareConfig.build_layer <xbar.config.HardwareConfig.build_layer>` and read
with a batch of random inputs (operation stream, uniform in [-1, 1]); the outputs are compared
with the exact product ``x @ W.T`` and the read energy booked by the layer is reported.  Every
declared hardware field is a parameter ``hardware.<section>.<field>`` (defaults: the
``HardwareConfig`` defaults; device parameters default to the preset's or model's values)::

    [sweep]
    task = "layer"
    [axes]
    hardware.adc.bits = [4, 6, 8]
    hardware.array.r_wordline = [0.0, 2.5]
"""

from __future__ import annotations

import numpy as np

from .._deprecate import renamed_kwarg
from .._random import spawn
from ..config.hardware import HardwareConfig, hardware_params
from .params import Param
from .tasks import task

LAYER_PARAMS = {
    "n_out": Param(int, 16, low=1, high=4096, doc="layer outputs (weight rows)"),
    "n_in": Param(int, 64, low=1, high=4096, doc="layer inputs (weight columns, word lines)"),
    "batch": Param(int, 32, low=1, high=100_000, doc="input vectors read per point"),
    **hardware_params("hardware"),
}

LAYER_METRICS = {
    "rel_rms_error": "||y - x W^T|| / ||x W^T|| over the batch (dimensionless)",
    "max_error": "max |y - x W^T| / max |x W^T| over the batch (dimensionless)",
    "energy_per_sample_j": "read energy booked by the layer (array, DAC, TIA, ADC) per input, J",
    "tiles": "arrays the layer occupies",
}


def _check(params: dict) -> None:
    HardwareConfig.from_flat(params)  # cross-field rules (1T1R needs r_access, ...)


@task("layer", params=LAYER_PARAMS, metrics=LAYER_METRICS, check=_check, version="1")
@renamed_kwarg(seed="random_state")
def layer(params: dict, random_state=None) -> dict:
    """One point: see the module docstring.  Units: weight units, J.

    Parameters
    ----------
    params : dict
        Every parameter of the task's schema ``LAYER_PARAMS`` (spec values over defaults; the
        ``seed`` axis excluded), in the units of their ``Param`` docs.
    random_state : int, numpy.random.Generator or None
        Randomness of the point (the spec's ``seed``); spawned into independent streams
        (fabrication: the weights and the layer's programming; operation: the inputs).  ``seed`` is its deprecated keyword name.

    Returns
    -------
    dict
        The metrics ``LAYER_METRICS`` (name -> float; units in their descriptions).
    """
    hw = HardwareConfig.from_flat(params)
    fab, op = spawn(random_state, 2)
    W = fab.uniform(-1.0, 1.0, size=(params["n_out"], params["n_in"]))
    x = op.uniform(-1.0, 1.0, size=(params["batch"], params["n_in"]))
    lay = hw.build_layer(W, random_state=fab)
    if not isinstance(hw.adc.range, tuple) and hw.adc.range != "full":
        lay.calibrate(op.uniform(-1.0, 1.0, size=(params["batch"], params["n_in"])))
    y = lay.forward(x)
    ideal = x @ W.T
    norm, peak = np.linalg.norm(ideal), np.max(np.abs(ideal))
    return {
        "rel_rms_error": float(np.linalg.norm(y - ideal) / norm) if norm > 0 else float("nan"),
        "max_error": float(np.max(np.abs(y - ideal)) / peak) if peak > 0 else float("nan"),
        "energy_per_sample_j": lay.ledger.total() / params["batch"],
        "tiles": float(len(lay.tiles)),
    }
