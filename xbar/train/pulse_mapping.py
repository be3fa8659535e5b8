"""Turning a requested weight change into signed pulse counts per cell (pair).

Three methods (docs/references.rst, ref-forward-forward and ref-manhattan-rule)::

    "threshold"      n_ij = sign(Δw_ij) · 1[|Δw_ij| > τ]                    sign-and-threshold, one pulse
    "proportional"   n_ij = sign(Δw_ij) · min(round(|Δw_ij| / Δw_p), n_max)  pulses ∝ |Δw|
    "stochastic"     n_ij = sign(Δw_ij) · Bernoulli(min(|Δw_ij| / Δw_p, 1))  stochastic pulse probability

``Δw_p`` (``dw_per_pulse``) is the nominal weight change of one pulse, in weight units; a pulsed
layer fills it from its device when left ``None``. ``n > 0`` asks to raise the weight, ``n < 0``
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
        Cap on pulses per cell per update for the proportional method.
    """

    method: str = "threshold"
    threshold: float = 0.0
    dw_per_pulse: float | None = None
    max_pulses: int = 1

    def __post_init__(self):
        check_choice(self.method, "method", METHODS)
        check_scalar(self.threshold, "threshold", low=0.0)
        if self.dw_per_pulse is not None:
            check_scalar(self.dw_per_pulse, "dw_per_pulse", low=0.0, low_open=True)
        check_scalar(self.max_pulses, "max_pulses", low=1, integer=True)

    def counts(
        self, dW: np.ndarray, dw_per_pulse: float | None = None, random_state=None
    ) -> np.ndarray:
        """Signed pulse counts (int64, shape of ``dW``) for the weight change ``dW``.

        Parameters
        ----------
        dW : array
            Requested weight change (dimensionless).
        dw_per_pulse : float, optional
            Used when ``self.dw_per_pulse`` is None (required then for "proportional" and
            "stochastic").
        random_state : None | int | Generator
            Draws of the stochastic method.
        """
        dW = np.asarray(dW, dtype=np.float64)
        sign = np.sign(dW).astype(np.int64)
        mag = np.abs(dW)
        if self.method == "threshold":
            return sign * (mag > self.threshold)
        step = self.dw_per_pulse if self.dw_per_pulse is not None else dw_per_pulse
        if step is None or not step > 0:
            raise ConfigError(f"dw_per_pulse must be > 0 for method={self.method!r}, got {step!r}")
        if self.method == "proportional":
            n = np.minimum(np.rint(mag / step), self.max_pulses).astype(np.int64)
            return sign * n
        rng = check_random_state(random_state)
        p = np.minimum(mag / step, 1.0)
        return sign * (rng.random(dW.shape) < p)
