"""Stochastic binary (few-level) RRAM: switching probability versus pulse amplitude and width.

Switching times are log-normal around ``tau(V) = tau0 * exp(-|V| / v0)`` (field-accelerated
ionic hopping), so a pulse of width ``t`` switches a device in the opposite state with
probability::

    P_sw(V, t) = Phi((ln t - ln tau(V)) / sigma_t)

(Phi: standard normal CDF), separately for SET and RESET.  After a switch the new conductance is
drawn from the state's log-normal distribution (median per device, c2c log-sigma), redrawn at every
switching event.  References: docs/references.rst, ref-learning-from-mistakes (standard forms; IHP CMOS-integrated HfO2
probabilistic switching, Sci. Rep. 10 (2020)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from .._fielddoc import document_fields
from .._random import spawn
from ..exceptions import ConfigError
from ..iv import IVModel, Sinh
from ._common import _DeviceArrayBase, as_mask, check_pulse, lognormal_factor, validate_config
from ..config.declare import bound
from .hfox import _RELAX_CONSTRAINTS, RelaxationNoiseConfig

__all__ = ["StochasticBinaryReRAM", "BinaryDeviceArray", "switching_probability"]


def switching_probability(amplitude, width, tau0: float, v0: float, sigma_t: float) -> np.ndarray:
    """``Phi((ln t - ln(tau0 exp(-|V|/v0))) / sigma_t)`` for amplitude (V) and width (s).

    Parameters
    ----------
    amplitude : float or array_like
        Pulse voltage across the cell, V (its magnitude is used).
    width : float or array_like
        Pulse width, s (0 gives probability 0).
    tau0 : float or array_like
        Switching-time prefactor, s.
    v0 : float
        Voltage acceleration, V per e-fold of the switching time.
    sigma_t : float
        Log-normal sigma of the switching time (dimensionless).

    Returns
    -------
    ndarray
        Switching probability, in [0, 1] (broadcast shape of the inputs).
    """
    u = np.abs(np.asarray(amplitude, dtype=float))
    t = np.asarray(width, dtype=float)
    with np.errstate(divide="ignore"):
        z = (np.log(t) - np.log(tau0) + u / v0) / sigma_t
    return ndtr(z)


@document_fields
@dataclass(slots=True)
class StochasticBinaryReRAM(RelaxationNoiseConfig):
    """Binary RRAM with stochastic switching.

    Defaults are illustrative HfO2 values [H] (docs/references.rst, ref-learning-from-mistakes): HRS 10 uS / LRS 200 uS, 50 %
    switching at 1.0 V (SET) and 1.1 V (RESET) for 100 ns pulses, a decade of switching time per
    0.23 V (v0 = 0.1 V).

    Other Parameters
    ----------------
    drift_t0, drift_x, drift_rate, drift_sigma, read_noise_x, read_noise_rel, read_noise_exponent
        Relaxation after programming and read noise, as in :class:`RelaxationNoiseConfig`
        (``drift_t0`` in s, the others dimensionless; same defaults).
    drift_L, drift_mean, drift_std
        Measured relaxation tables in the clock (dimensionless; empty by default: the linear
        law), as in :class:`RelaxationNoiseConfig`.
    """

    g_hrs: float = 10e-6
    """Median high-resistance-state conductance (S)."""
    g_lrs: float = 200e-6
    """Median low-resistance-state conductance (S)."""
    g_hrs_sigma: float = 0.3
    """Cycle-to-cycle log-normal sigma of the HRS conductance drawn at each RESET."""
    g_lrs_sigma: float = 0.1
    """Cycle-to-cycle log-normal sigma of the LRS conductance drawn at each SET."""
    g_dtod: float = 0.1
    """Device-to-device log-normal sigma of both state medians."""
    iv: IVModel = field(default_factory=lambda: Sinh(0.5))
    """Cell I-V (energy, read current)."""
    set_polarity: int = 1
    """Sign of the cell voltage that SETs (+1 or -1)."""
    set_tau0: float = 100e-9 * float(np.exp(10.0))
    """SET switching-time prefactor (s): tau(1.0 V) = 100 ns with set_v0 = 0.1 V."""
    set_v0: float = 0.1
    """SET voltage acceleration (V per e-fold of tau)."""
    set_sigma_t: float = 1.0
    """SET log-normal sigma of the switching time."""
    reset_tau0: float = 100e-9 * float(np.exp(11.0))
    """RESET switching-time prefactor (s): tau(1.1 V) = 100 ns."""
    reset_v0: float = 0.1
    """RESET voltage acceleration (V)."""
    reset_sigma_t: float = 1.0
    """RESET log-normal sigma of the switching time."""
    tau_dtod: float = 0.5
    """Device-to-device log-normal sigma of tau0 (both polarities, independent draws)."""
    source: str = "illustrative HfO2 values (docs/references.rst, ref-learning-from-mistakes, [H])"
    """Provenance of the parameter set."""

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check every field against its allowed range (raises ConfigError)."""
        validate_config(self, _BIN_CONSTRAINTS)
        if not self.g_hrs < self.g_lrs:
            raise ConfigError(
                f"StochasticBinaryReRAM: g_hrs must be < g_lrs (S), got "
                f"{self.g_hrs!r} >= {self.g_lrs!r}"
            )
        if self.set_polarity not in (1, -1):
            raise ConfigError(f"set_polarity must be +1 or -1, got {self.set_polarity!r}")

    def sample(self, shape=(), random_state=None, state: str = "hrs") -> "BinaryDeviceArray":
        """Fabricate an array (d2d medians and switching times), all devices in ``state``.

        Parameters
        ----------
        shape : int or tuple of int
            Array shape, e.g. (M, N).
        random_state : None, int or Generator
            Split into a fabrication stream (d2d parameters) and an operation stream (used by
            the array's stochastic methods when they get ``random_state=None``).
        state : {"hrs", "lrs"}
            Initial state: every device at its HRS or LRS median conductance.

        Returns
        -------
        BinaryDeviceArray
        """
        self.validate()
        if state not in ("hrs", "lrs"):
            raise ConfigError(f"state must be 'hrs' or 'lrs', got {state!r}")
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        n = int(np.prod(shape))
        fab, op = spawn(random_state, 2)
        med_hrs = self.g_hrs * lognormal_factor(fab, self.g_dtod, n)
        med_lrs = np.maximum(self.g_lrs * lognormal_factor(fab, self.g_dtod, n), 1.5 * med_hrs)
        params = {
            "med_hrs": med_hrs,
            "med_lrs": med_lrs,
            "tau0_set": self.set_tau0 * lognormal_factor(fab, self.tau_dtod, n),
            "tau0_reset": self.reset_tau0 * lognormal_factor(fab, self.tau_dtod, n),
        }
        # window: generous bounds of the state distributions (4 sigma)
        g_min = med_hrs * np.exp(-4 * self.g_hrs_sigma)
        g_max = med_lrs * np.exp(4 * self.g_lrs_sigma)
        G = (med_hrs if state == "hrs" else med_lrs).copy()
        return BinaryDeviceArray(self, shape, g_min, g_max, G, params, fab, op)


_BIN_CONSTRAINTS = dict(_RELAX_CONSTRAINTS)
_BIN_CONSTRAINTS.update(
    {
        "g_hrs": bound(0.0, None, True, "S"),
        "g_lrs": bound(0.0, None, True, "S"),
        "g_hrs_sigma": bound(0.0, 2.0, False, ""),
        "g_lrs_sigma": bound(0.0, 2.0, False, ""),
        "g_dtod": bound(0.0, 2.0, False, ""),
        "set_tau0": bound(0.0, None, True, "s"),
        "reset_tau0": bound(0.0, None, True, "s"),
        "set_v0": bound(0.0, None, True, "V"),
        "reset_v0": bound(0.0, None, True, "V"),
        "set_sigma_t": bound(0.0, None, True, ""),
        "reset_sigma_t": bound(0.0, None, True, ""),
        "tau_dtod": bound(0.0, 5.0, False, ""),
    }
)


class BinaryDeviceArray(_DeviceArrayBase):
    """An array of :class:`StochasticBinaryReRAM` devices (state: LRS/HRS and G in S).

    Build it with :meth:`StochasticBinaryReRAM.sample`.

    Parameters
    ----------
    model : StochasticBinaryReRAM
        The nominal model the devices were sampled from.
    shape : tuple of int
        Array shape.
    g_min, g_max : (n,) ndarray
        Per-device window edges, S (flattened, ``n = prod(shape)``).
    G : (n,) array_like
        Initial conductance per device, S.
    params : dict of str to (n,) ndarray
        Per-device (d2d) parameters: ``med_hrs``, ``med_lrs`` (state median
        conductances, S) and ``tau0_set``, ``tau0_reset`` (switching-time prefactors, s).
    fab_rng, op_rng : numpy.random.Generator
        Fabrication stream and operation stream (the default of ``random_state=None``).
    """

    def __init__(self, model, shape, g_min, g_max, G, params, fab_rng, op_rng):
        super().__init__(model, shape, g_min, g_max, G, fab_rng, op_rng)
        self.params = params
        self._lrs = np.zeros(self.size, dtype=bool)
        self._classify()

    def _classify(self) -> None:
        """State flags from G: LRS above the geometric mean of the device's two medians."""
        self._lrs[:] = self._G >= np.sqrt(self.params["med_hrs"] * self.params["med_lrs"])

    def set_state(self, G) -> None:
        """Set G (S) directly, clipped to the window; the LRS/HRS state follows the new G.

        Parameters
        ----------
        G : float or array_like
            New conductance, S, broadcast to the array.
        """
        super().set_state(G)
        self._classify()

    @property
    def is_lrs(self) -> np.ndarray:
        """True where the device is in its low-resistance state."""
        return self._lrs.reshape(self.shape).copy()

    def switching_probability(self, amplitude, width) -> np.ndarray:
        """Probability that one pulse switches each device (0 if it is already in the state the
        pulse polarity would set).

        Parameters
        ----------
        amplitude : float or array_like
            Cell voltage, V, broadcast to the array (sign ``set_polarity`` SETs).
        width : float or array_like
            Pulse width, s, broadcast to the array.

        Returns
        -------
        ndarray
            Switching probability per device, in [0, 1] (array shape).
        """
        m = self.model
        v, t = check_pulse(amplitude, width, self.shape)
        pol = np.sign(v * m.set_polarity)
        p_set = switching_probability(v, t, self.params["tau0_set"], m.set_v0, m.set_sigma_t)
        p_reset = switching_probability(
            v, t, self.params["tau0_reset"], m.reset_v0, m.reset_sigma_t
        )
        p = np.where((pol > 0) & ~self._lrs, p_set, np.where((pol < 0) & self._lrs, p_reset, 0.0))
        return p.reshape(self.shape)

    def apply_pulses(self, amplitude, width, mask=None, random_state=None) -> np.ndarray:
        """One pulse per (masked) device; switched devices draw a new G. Returns dG (S).

        Parameters
        ----------
        amplitude : float or array_like
            Cell voltage, V, broadcast to the array (sign ``set_polarity`` SETs).
        width : float or array_like
            Pulse width, s, broadcast to the array.
        mask : bool array or None
            Devices to pulse (default all).
        random_state : None, int or Generator
            Switching and conductance-draw stream (default: the array's operation stream).

        Returns
        -------
        ndarray
            Conductance change per device, S (array shape).
        """
        rng = self._rng(random_state)
        m = self.model
        p = self.switching_probability(amplitude, width).reshape(-1)
        u = rng.random(self.size)
        z = rng.standard_normal(self.size)
        sw = as_mask(mask, self.shape) & (u < p)
        to_lrs = sw & ~self._lrs
        to_hrs = sw & self._lrs
        g_old = self._G.copy()
        self._G[to_lrs] = self.params["med_lrs"][to_lrs] * np.exp(m.g_lrs_sigma * z[to_lrs])
        self._G[to_hrs] = self.params["med_hrs"][to_hrs] * np.exp(m.g_hrs_sigma * z[to_hrs])
        np.clip(self._G, self._g_min, self._g_max, out=self._G)
        self._lrs[to_lrs] = True
        self._lrs[to_hrs] = False
        self._programmed(np.flatnonzero(sw))
        return (self._G - g_old).reshape(self.shape)
