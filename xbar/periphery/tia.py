"""Sense amplifiers: trans-impedance amplifiers holding each bit line at virtual ground.

The TIA's input resistance is the circuit's ``r_sense``; its trans-impedance gain (V/A = ohm)
turns the channel current into a voltage that saturates at the output swing ``±v_swing``.  The
sign of the inverting stage is dropped (the ADC sees ``+gain·I``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.declare import declared, param, validate

__all__ = ["TIA"]


@declared
@dataclass
class TIA:
    """Trans-impedance amplifier of one read-out channel."""

    r_in: float = param(10.0, low=0.0, unit="ohm")
    """Input (virtual-ground) resistance, ohm, used as the crossbar's ``r_sense`` (0 = ideal
    virtual ground) [H: small against a full bit line, 1 / (256 x 10 µS) = 390 ohm]."""
    gain: float | None = param(None, kind=float, low=0.0, low_open=True, optional=True, unit="ohm")
    """Trans-impedance gain, ohm (V/A).  ``None``: set per channel (a programmable-gain TIA) so
    that the largest current a full-scale input (``±v_read``) can give reaches ``v_swing``; see
    ``auto_gain`` for which largest current."""
    auto_gain: str = param("weights", choices=("weights", "window"))
    """Bound behind the automatic gain: ``"weights"`` — the conductances mapped at construction
    (best resolution for those weights; writes that raise a channel's current beyond it saturate
    until ``AnalogLinear.update_gains()``); ``"window"`` — any weights the conductance window
    allows (never saturates, coarser resolution: the choice for on-chip training)."""
    v_swing: float = param(1.0, low=0.0, low_open=True, unit="V")
    """Output swing, V: the output saturates at ``±v_swing`` [H, typical 1 V analog supply]."""
    power: float = param(9.7e-9, low=0.0, unit="W")
    """Power per channel while a read is sensed, W.  Default: ISAAC's sample-and-hold
    (9.7e-6 mW dynamic + leakage, ``Aayush-Ankit/puma-simulator:include/constants.py``,
    docs/references.rst, ref-dac-driver-energy); ISAAC integrates the column current instead of using an active
    TIA, so a real TIA costs more (tens of uW): set this for your design."""

    def __post_init__(self):
        validate(self)

    def channel_gains(
        self, i_bound: np.ndarray, i_fallback: np.ndarray | None = None
    ) -> np.ndarray:
        """Gain per channel (ohm): fixed ``gain``, or ``v_swing / i_bound`` when automatic.

        Parameters
        ----------
        i_bound : (K,) array_like
            Largest current (A, >= 0) each channel is expected to carry.
        i_fallback : (K,) array_like, optional
            Bound (A) used where ``i_bound`` is 0 (a channel whose weights are all zero), e.g.
            the largest current the conductance window allows.  Where both are 0 the gain is 0:
            such a channel carries no current and its read-out is exactly 0.

        Returns
        -------
        (K,) ndarray
            Trans-impedance gain per channel, ohm (finite, >= 0).
        """
        i_bound = np.asarray(i_bound, dtype=np.float64)
        if self.gain is not None:
            return np.full(i_bound.shape, float(self.gain))
        if i_fallback is not None:
            i_bound = np.where(
                i_bound > 0,
                i_bound,
                np.broadcast_to(np.asarray(i_fallback, dtype=np.float64), i_bound.shape),
            )
        ok = i_bound > 0
        return np.where(ok, self.v_swing / np.where(ok, i_bound, 1.0), 0.0)

    def amplify(self, current: np.ndarray, gains: np.ndarray) -> tuple[np.ndarray, int]:
        """Output voltages (V) for channel currents (B, K) A; returns (voltages, n_saturated).

        Parameters
        ----------
        current : (B, K) ndarray
            Channel currents, A.
        gains : (K,) ndarray
            Trans-impedance gain per channel, ohm (see :meth:`channel_gains`).

        Returns
        -------
        voltages : (B, K) ndarray
            ``current * gains`` clipped to ``±v_swing``, V.
        n_saturated : int
            How many outputs clipped.
        """
        v = current * gains
        out = np.clip(v, -self.v_swing, self.v_swing)
        return out, int(np.count_nonzero(out != v))
