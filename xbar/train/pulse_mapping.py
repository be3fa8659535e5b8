"""Turning a requested weight change into signed pulse counts per cell (pair).

Three methods (docs/references.rst, ref-forward-forward and ref-manhattan-rule)::

    "threshold"      n_ij = sign(Δw_ij) · 1[|Δw_ij| > τ]                    sign-and-threshold, one pulse
    "proportional"   n_ij = sign(Δw_ij) · min(round(|Δw_ij| / Δw_p), n_max)  pulses ∝ |Δw|
    "stochastic"     n_ij = sign(Δw_ij) · min(⌊m⌋ + Bernoulli(m − ⌊m⌋), n_max),  m = |Δw_ij| / Δw_p
                     (stochastic rounding; with the default n_max = 1 a pulse of probability
                     min(m, 1))

``Δw_p`` (``dw_per_pulse``) is the weight change of one pulse, in weight units.  Where it comes
from is the mapping's ``step``:

``"nominal"``     one number for every cell, the device's mean step from mid-window (a pulsed
                  layer fills it when ``dw_per_pulse`` is ``None``): the controller is blind to
                  the state, so on a device whose step depends on the state the realised change
                  departs from the requested one;
``"calibrated"``  per cell, the mean step of the pulse the cell is about to receive at its present
                  state: the controller reads the cells it may pulse (the reads are booked) and
                  looks the step up in the devices' calibrated step law (the writer's
                  ``step_per_count``; with device arrays each device's own d2d parameters and
                  pulse history), so that ``n · Δw_p(G)`` realises the request on average. ``n > 0`` asks to raise the weight, ``n < 0``
to lower it. Which device of a differential pair receives the pulse, and with what polarity, is
the writer's business (reset-only or conventional).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._random import check_random_state
from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError

METHODS = ("threshold", "proportional", "stochastic")
STEPS = ("nominal", "calibrated")


@dataclass
class PulseMapping:
    """How a weight change becomes pulses.

    Parameters
    ----------
    method : {"threshold", "proportional", "stochastic"}, default "threshold"
    threshold : float, default 0.0
        τ of the threshold method, weight units (dimensionless): pulse only where ``|Δw| > τ``.
    dw_per_pulse : float or None, default None
        Nominal |Δw| per pulse, weight units; ``None`` = the layer's nominal device step.
    max_pulses : int, default 1
        Cap on pulses per cell per update (proportional and stochastic methods).
    step : {"nominal", "calibrated"}, default "nominal"
        Where the step per pulse comes from (module docstring): one nominal step, or each
        cell's calibrated mean step at its read state (then ``dw_per_pulse`` must be None).
    """

    method: str = "threshold"
    threshold: float = 0.0
    dw_per_pulse: float | None = None
    max_pulses: int = 1
    step: str = "nominal"

    def __post_init__(self):
        check_choice(self.method, "method", METHODS)
        check_choice(self.step, "step", STEPS)
        if self.step == "calibrated" and self.dw_per_pulse is not None:
            raise ConfigError(
                "dw_per_pulse must be None with step='calibrated' (the step per pulse is each "
                f"cell's calibrated step), got {self.dw_per_pulse!r}"
            )
        check_scalar(self.threshold, "threshold", low=0.0)
        if self.dw_per_pulse is not None:
            check_scalar(self.dw_per_pulse, "dw_per_pulse", low=0.0, low_open=True)
        check_scalar(self.max_pulses, "max_pulses", low=1, integer=True)

    def counts(
        self, dW: np.ndarray, dw_per_pulse: float | np.ndarray | None = None, random_state=None
    ) -> np.ndarray:
        """Signed pulse counts (int64, shape of ``dW``) for the weight change ``dW``.

        Parameters
        ----------
        dW : array
            Requested weight change (dimensionless).
        dw_per_pulse : float or array, optional
            Weight change of one pulse (dimensionless; an array broadcast to ``dW`` gives each
            cell its own, ``inf`` where a pulse would do nothing); used when
            ``self.dw_per_pulse`` is None (required then for "proportional" and "stochastic").
        random_state : None | int | Generator
            Draws of the stochastic method.
        """
        dW = np.asarray(dW, dtype=np.float64)
        sign = np.sign(dW).astype(np.int64)
        mag = np.abs(dW)
        if self.method == "threshold":
            return sign * (mag > self.threshold)
        step = self.dw_per_pulse if self.dw_per_pulse is not None else dw_per_pulse
        if step is None or not np.all(np.asarray(step) > 0):
            arr = np.asarray(step)
            shown = step if arr.ndim == 0 else f"an array with min {arr.min()!r}"
            raise ConfigError(f"dw_per_pulse must be > 0 for method={self.method!r}, got {shown}")
        if self.method == "proportional":
            n = np.minimum(np.rint(mag / step), self.max_pulses).astype(np.int64)
            return sign * n
        rng = check_random_state(random_state)
        m = np.minimum(mag / step, self.max_pulses)
        whole = np.floor(m)
        n = whole + (rng.random(dW.shape) < m - whole)
        return sign * n.astype(np.int64)
