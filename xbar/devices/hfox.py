"""Analog filamentary RRAM (HfOx/Ti, HfO2 class): pulse response, program-and-verify, relaxation,
read noise.

>>> import xbar
>>> model = xbar.devices.HfOxReRAM()
>>> arr = model.sample((64, 64), random_state=0)      # fabrication: d2d parameters, G = g_max
>>> dG = arr.apply_pulses(-0.8, 100e-9)               # reset-only sub-1 V pulse on every device
>>> res = arr.program_verify(50e-6, atol=2e-6)          # conventional ISPP program-and-verify
>>> arr.age(3600.0); G = arr.read()

Conventions: conductances in S, voltages in V (the signed voltage across the cell, the sign that
sets the device is ``set_polarity``), widths and times in s, currents in A, energies in J.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._random import spawn
from .._validation import check_choice, check_scalar
from ..config.declare import bound
from ..exceptions import ON_FAILURE, ConfigError, ConvergenceError, handle_failure
from ..iv import IVModel, Sinh
from .._deprecate import renamed_kwarg
from .._fielddoc import document_fields
from ..pulses.verify import Ramp, check_band, ramps_from_legacy, run_program_verify
from ._common import (
    _DeviceArrayBase,
    as_mask,
    broadcast_input,
    check_pulse,
    lognormal_factor,
    validate_config,
)

__all__ = ["RelaxationNoiseConfig", "HfOxReRAM", "DeviceArray", "ProgramVerifyResult"]

_INF = float("inf")


@document_fields
@dataclass(slots=True)
class RelaxationNoiseConfig:
    """Relaxation (drift) after programming and read noise, shared by every device model.

    Default tables: ``stanford-rram-relaxation`` technology B drift fit (t <= 100 s, 32 levels,
    read off at 5 knots, rounded) and technology A read noise, both by ``xbar.devices.fit``; see
    ``xbar.devices.presets`` for the full fits and ``validation/measured`` for the checks.
    """

    drift_t0: float = 1.6e-3
    """Time origin of the relaxation clock ``L(t) = log10(1 + t/drift_t0)`` (s)."""
    drift_x: tuple = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Knots in the normalised programmed state ``x_p = (G - g_min)/(g_max - g_min)``."""
    drift_rate: tuple = (0.0005, -0.0048, -0.0039, -0.0002, 0.0)
    """Mean relaxation per decade of ``L`` at each knot, relative to the window ``g_max - g_min``."""
    drift_sigma: tuple = (0.005, 0.025, 0.028, 0.003, 0.002)
    """Broadening: std per sqrt(decade) of ``L`` at each knot, relative to the window."""
    drift_L: tuple = ()
    """Clock knots ``L`` (decades, strictly increasing, > 0) of the measured relaxation tables;
    empty (default) = the linear law ``drift_rate * L``, ``drift_sigma**2 * L``."""
    drift_mean: tuple = ()
    """Mean shift since programming at each (``drift_x`` knot, ``drift_L`` knot), relative to
    the window: one tuple of ``len(drift_L)`` values per ``drift_x`` knot (empty with
    ``drift_L``).  Monotone cubic (PCHIP) in ``L`` from 0 at ``L = 0``; beyond the last knot
    the law continues with slopes ``drift_rate`` and ``drift_sigma**2``."""
    drift_std: tuple = ()
    """Std of the (unclipped) shift at the same knots, relative to the window; non-decreasing
    in ``L`` (the variance is interpolated by PCHIP, so the increments stay independent)."""
    read_noise_x: tuple = (0.04, 0.35, 0.56, 0.77, 1.0)
    """Knots in the normalised state for the read noise."""
    read_noise_rel: tuple = (0.09, 0.05, 0.017, 0.014, 0.002)
    """Relative read noise ``std(G_read)/G`` at each knot (std over a 250 s record at 400 Hz;
    ``stanford-rram-relaxation`` tech A: 9.1 %, 11.9 % (an unstable cell, capped here at 5 %),
    1.7 %, 1.4 %, 0.2 %)."""
    read_noise_exponent: float = 1.1
    """Exponent of the read-noise spectrum, PSD ~ 1/f**exponent (tech A: 0.92-1.38)."""


_RELAX_CONSTRAINTS = {
    "drift_t0": bound(0.0, None, True, "s"),
    "drift_x": bound(0.0, 1.0, False, ""),
    "drift_rate": bound(-1.0, 1.0, False, ""),
    "drift_sigma": bound(0.0, 1.0, False, ""),
    "drift_L": bound(0.0, 20.0, True, ""),
    "drift_mean": bound(-1.0, 1.0, False, ""),
    "drift_std": bound(0.0, 1.0, False, ""),
    "read_noise_x": bound(0.0, 2.0, False, ""),
    "read_noise_rel": bound(0.0, 1.0, False, ""),
    "read_noise_exponent": bound(0.0, 3.0, False, ""),
}


#: The device-to-device spreads of :class:`HfOxReRAM` (all zero: every device is the nominal one).
DTOD_FIELDS = ("g_min_dtod", "g_max_dtod", "alpha_dtod", "v_th_dtod")


@document_fields
@dataclass(slots=True)
class HfOxReRAM(RelaxationNoiseConfig):
    """Analog filamentary RRAM: conductance window, state-dependent pulse response, d2d, c2c.

    **Pulse response.**  A pulse of amplitude ``V`` (V across the cell) and width ``t`` (s) acts as
    ``s`` reference pulses, ``s = (t/t_ref)**width_exponent * S(|V|)`` with
    ``S(u) = max(0, exp((u - v_ref)/v_scale) - exp((v_th - v_ref)/v_scale)) /
    (1 - exp((v_th - v_ref)/v_scale))`` (0 below the threshold ``v_th``, 1 at ``v_ref``,
    exponential above: ion migration is field-accelerated).  The mean change per reference pulse
    at normalised state ``x = (G - g_min)/(g_max - g_min)`` (soft bounds with an exponential state
    dependence) is::

        SET:   +set_alpha   * W * exp(set_kappa * x + set_kappa_d * d)         * (1 - x)**set_gamma
                   * (1 - set_warmup * exp(-d / set_warmup_dx))
        RESET: -reset_alpha * W * exp(reset_kappa * (1 - x) + reset_kappa_d * d) * x**reset_gamma
                   * (1 - reset_warmup * exp(-d / reset_warmup_dx))

    with ``d = |G - G_rev| / W`` the displacement since the device's last polarity reversal (a
    pulse-history memory: measured ramps stay parallel, so the step follows the pulses since the
    reversal rather than G alone, and is smaller right after a reversal), and cycle-to-cycle
    noise of std ``sqrt(sigma_abs**2 + (sigma_win * W)**2 + (sigma_rel * mean)**2)`` per
    reference pulse, and a ramp-to-ramp rate factor: at each polarity reversal (and at the first
    pulse after :meth:`DeviceArray.set_state`) the device draws ``f = exp(sigma_ramp * z)``,
    z ~ N(0, 1), that scales its mean step until the next reversal (measured ramps spread in
    proportion to the distance travelled, not as a random walk); a pulse of strength ``s`` is
    integrated in sub-steps (Euler-Maruyama) so the step mean scales with ``s`` and its variance
    with ``s``, and G never leaves the window. A SET with a current ``compliance`` stops at the
    conductance whose current at ``V`` equals the compliance. *Reset-only updates*: sub-1 V RESET
    pulses (``reset_v_th`` < |V| < 1 V) give small, amplitude-controlled decreases; *conventional
    programming* uses SET with compliance and RESET above 1 V (:meth:`DeviceArray.program_verify`).

    **Defaults** are a fitted preset, each parameter fitted, estimated or assumed as listed in
    ``xbar.devices.presets.PROVENANCE`` (and the validation report): the window is the
    ``tud-rram-iv-cycles`` medians (1/R_HRS, 1/R_LRS at 0.1 V); the normalised pulse law and
    its c2c noise are the ``crosssim-pulse-ramps`` fit (even ramps; alpha, kappa, kappa_d, gamma,
    warm-up in window units, the noise floor per window, the ramp-to-ramp rate spread
    ``sigma_ramp``); d2d spreads of the window and of the thresholds are estimated from the
    cycle-to-cycle spread of the one ``tud`` device (robust sd over 50 cycles: ln R_HRS 0.49, ln
    R_LRS 0.15, V_reset 0.067 V; d2d taken equal to c2c, an assumption: there are no multi-device
    data here); relaxation and read noise come from ``stanford-rram-relaxation`` (tech B, tech A).
    Thresholds, voltage acceleration, reference width and alpha_dtod are assumptions (no
    pulse-amplitude data: the crosssim pulse is undocumented, the tud sweeps are quasi-static).

    Other Parameters
    ----------------
    drift_t0, drift_x, drift_rate, drift_sigma, read_noise_x, read_noise_rel, read_noise_exponent
        Relaxation after programming and read noise, as in :class:`RelaxationNoiseConfig`
        (``drift_t0`` in s, the others dimensionless; same defaults).
    drift_L, drift_mean, drift_std
        Measured relaxation tables in the clock (dimensionless; empty by default: the linear
        law), as in :class:`RelaxationNoiseConfig`.
    """

    g_min: float = 9.1075e-6
    """Lower window edge, HRS conductance (S); tud-rram-iv-cycles 1/R_HRS, median 109.8 kohm."""
    g_max: float = 580.72e-6
    """Upper window edge, LRS conductance (S); tud-rram-iv-cycles 1/R_LRS, median 1.722 kohm."""
    g_min_dtod: float = 0.49
    """Device-to-device log-normal sigma of g_min (relative)."""
    g_max_dtod: float = 0.15
    """Device-to-device log-normal sigma of g_max (relative); g_max stays >= 1.05 g_min."""
    iv: IVModel = field(default_factory=lambda: Sinh(0.5))
    """Cell I-V (pulse energy, compliance, reads); Sinh(0.5 V) ~ tud-rram-iv-cycles LRS branch."""
    set_polarity: int = 1
    """Sign of the cell voltage that SETs (+1 or -1); tud-rram-iv-cycles sets at negative V."""

    set_alpha: float = 0.0035923
    """SET mean step per reference pulse at x = 0 with kappa = 0, relative to the window."""
    set_kappa: float = -0.055925
    """SET exponential state dependence (0: standard soft bounds)."""
    set_gamma: float = 0.087252
    """SET soft-bound exponent on (1 - x)."""
    set_v_ref: float = 1.2
    """SET reference amplitude (V): s = 1 at this |V| and width set_t_ref."""
    set_v_th: float = 0.8
    """SET threshold amplitude (V): no change below."""
    set_v_scale: float = 0.1
    """SET voltage acceleration (V per e-fold of the rate)."""
    set_t_ref: float = 100e-9
    """SET reference width (s)."""
    set_sigma_rel: float = 0.0
    """SET c2c noise relative to the mean step."""
    set_sigma_abs: float = 0.0
    """SET c2c noise floor per reference pulse (S)."""
    set_sigma_win: float = 1.7023e-4
    """SET c2c noise floor per reference pulse relative to each device's window (added in
    quadrature to ``set_sigma_abs``; scales with the window when g_min/g_max change)."""
    set_sigma_ramp: float = 0.0089331
    """SET ramp-to-ramp log-normal sigma of the mean step, drawn at each polarity reversal."""
    set_kappa_d: float = 1.1481
    """SET exponential dependence on ``d``, the displacement since the device's last polarity
    reversal in window units (pulse-history memory; 0: the step depends on G only)."""
    set_warmup: float = 0.55539
    """Fraction of the SET step missing right after a polarity reversal, fading as
    ``exp(-d / set_warmup_dx)`` (0: no warm-up)."""
    set_warmup_dx: float = 0.099672
    """Displacement (window units) over which the SET warm-up fades."""

    reset_alpha: float = 0.0064915
    """RESET mean step per reference pulse at x = 1 with kappa = 0, relative to the window."""
    reset_kappa: float = 0.75818
    """RESET exponential state dependence, in (1 - x)."""
    reset_gamma: float = 0.0
    """RESET soft-bound exponent on x."""
    reset_v_ref: float = 0.8
    """RESET reference amplitude (V): sub-1 V gradual reset regime."""
    reset_v_th: float = 0.5
    """RESET threshold amplitude (V)."""
    reset_v_scale: float = 0.1
    """RESET voltage acceleration (V per e-fold)."""
    reset_t_ref: float = 100e-9
    """RESET reference width (s)."""
    reset_sigma_rel: float = 0.064175
    """RESET c2c noise relative to the mean step."""
    reset_sigma_abs: float = 0.0
    """RESET c2c noise floor per reference pulse (S)."""
    reset_sigma_win: float = 0.0
    """RESET c2c noise floor per reference pulse relative to each device's window (added in
    quadrature to ``reset_sigma_abs``; scales with the window when g_min/g_max change)."""
    reset_sigma_ramp: float = 0.01126
    """RESET ramp-to-ramp log-normal sigma of the mean step, drawn at each polarity reversal."""
    reset_kappa_d: float = -1.0778
    """RESET exponential dependence on ``d``, the displacement since the device's last polarity
    reversal in window units (pulse-history memory; 0: the step depends on G only)."""
    reset_warmup: float = 0.58955
    """Fraction of the RESET step missing right after a polarity reversal, fading as
    ``exp(-d / reset_warmup_dx)`` (0: no warm-up)."""
    reset_warmup_dx: float = 0.039574
    """Displacement (window units) over which the RESET warm-up fades."""

    width_exponent: float = 1.0
    """s grows as (t/t_ref)**width_exponent (1: the effect is proportional to time at field)."""
    alpha_dtod: float = 0.2
    """Device-to-device log-normal sigma of set_alpha and reset_alpha (independent draws)."""
    v_th_dtod: float = 0.067
    """Device-to-device std (V) of a shift applied to v_th and v_ref (per polarity)."""
    dx_max: float = 0.02
    """Largest mean sub-step of a pulse integration, relative to the window."""
    max_substeps: int = 1000
    """Cap on sub-steps per pulse (strong pulses then saturate at the window edge)."""
    source: str = (
        "fitted defaults: window and d2d from tud-rram-iv-cycles, pulse law and c2c "
        "noise from crosssim-pulse-ramps (per window), relaxation stanford tech B, "
        "read noise tech A; thresholds assumed (xbar.devices.presets.PROVENANCE)"
    )
    """Provenance of the parameter set (presets name their data set)."""

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check every field against its allowed range (raises ConfigError)."""
        validate_config(self, _HFOX_CONSTRAINTS)
        if self.set_polarity not in (1, -1):
            raise ConfigError(f"HfOxReRAM.set_polarity must be +1 or -1, got {self.set_polarity!r}")
        for p in ("set", "reset"):
            if not getattr(self, f"{p}_v_th") < getattr(self, f"{p}_v_ref"):
                raise ConfigError(
                    f"HfOxReRAM.{p}_v_th must be < {p}_v_ref (V), got "
                    f"{getattr(self, f'{p}_v_th')!r} >= "
                    f"{getattr(self, f'{p}_v_ref')!r}"
                )

    def without_dtod(self) -> "HfOxReRAM":
        """The same model with every device-to-device spread (``DTOD_FIELDS``) set to zero.

        Returns
        -------
        HfOxReRAM
            A copy whose sampled devices all carry the nominal parameters.
        """
        zeros: dict[str, Any] = dict.fromkeys(DTOD_FIELDS, 0.0)
        return replace(self, **zeros)

    def sample(self, shape=(), random_state=None, g_init: float | None = None) -> "DeviceArray":
        """Fabricate an array of devices with device-to-device variation.

        Parameters
        ----------
        shape : tuple of int
            Array shape, e.g. (M, N).
        random_state : None, int or Generator
            Split into a fabrication stream (d2d parameters) and an operation stream (used by the
            array's stochastic methods when they get ``random_state=None``).
        g_init : float or None
            Initial conductance (S), clipped to each device's window; default each device's
            ``g_max`` (as after forming / a SET).
        """
        self.validate()
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        n = int(np.prod(shape))
        fab, op = spawn(random_state, 2)
        g_min = self.g_min * lognormal_factor(fab, self.g_min_dtod, n)
        g_max = np.maximum(self.g_max * lognormal_factor(fab, self.g_max_dtod, n), 1.05 * g_min)
        params = {
            "alpha_set": self.set_alpha * lognormal_factor(fab, self.alpha_dtod, n),
            "alpha_reset": self.reset_alpha * lognormal_factor(fab, self.alpha_dtod, n),
            "dv_set": self.v_th_dtod * fab.standard_normal(n) if self.v_th_dtod else np.zeros(n),
            "dv_reset": (
                self.v_th_dtod * fab.standard_normal(n) if self.v_th_dtod else np.zeros(n)
            ),
        }
        if g_init is None:
            G = g_max.copy()
        else:
            check_scalar(g_init, "g_init", low=0.0, unit="S")
            G = np.clip(np.full(n, float(g_init)), g_min, g_max)
        return DeviceArray(self, shape, g_min, g_max, G, params, fab, op)


_HFOX_CONSTRAINTS = dict(_RELAX_CONSTRAINTS)
_HFOX_CONSTRAINTS.update(
    {
        "g_min": bound(0.0, None, True, "S"),
        "g_max": bound(0.0, None, True, "S"),
        "g_min_dtod": bound(0.0, 2.0, False, ""),
        "g_max_dtod": bound(0.0, 2.0, False, ""),
        "set_alpha": bound(0.0, 1.0, False, ""),
        "reset_alpha": bound(0.0, 1.0, False, ""),
        "set_kappa": bound(-20.0, 20.0, False, ""),
        "reset_kappa": bound(-20.0, 20.0, False, ""),
        "set_gamma": bound(0.0, 10.0, False, ""),
        "reset_gamma": bound(0.0, 10.0, False, ""),
        "set_v_ref": bound(0.0, None, True, "V"),
        "reset_v_ref": bound(0.0, None, True, "V"),
        "set_v_th": bound(0.0, None, False, "V"),
        "reset_v_th": bound(0.0, None, False, "V"),
        "set_v_scale": bound(0.0, None, True, "V"),
        "reset_v_scale": bound(0.0, None, True, "V"),
        "set_t_ref": bound(0.0, None, True, "s"),
        "reset_t_ref": bound(0.0, None, True, "s"),
        "set_sigma_rel": bound(0.0, 10.0, False, ""),
        "reset_sigma_rel": bound(0.0, 10.0, False, ""),
        "set_sigma_abs": bound(0.0, None, False, "S"),
        "reset_sigma_abs": bound(0.0, None, False, "S"),
        "width_exponent": bound(0.0, 3.0, False, ""),
        "alpha_dtod": bound(0.0, 2.0, False, ""),
        "v_th_dtod": bound(0.0, 1.0, False, "V"),
        "dx_max": bound(1e-6, 1.0, False, ""),
        "set_kappa_d": bound(-20.0, 20.0, False, ""),
        "reset_kappa_d": bound(-20.0, 20.0, False, ""),
        "set_warmup": bound(0.0, 0.999, False, ""),
        "reset_warmup": bound(0.0, 0.999, False, ""),
        "set_warmup_dx": bound(1e-6, 1.0, False, ""),
        "reset_warmup_dx": bound(1e-6, 1.0, False, ""),
        "set_sigma_win": bound(0.0, 1.0, False, ""),
        "set_sigma_ramp": bound(0.0, 2.0, False, ""),
        "reset_sigma_ramp": bound(0.0, 2.0, False, ""),
        "reset_sigma_win": bound(0.0, 1.0, False, ""),
    }
)


def _strength(u, t, v_ref, v_th, v_scale, t_ref, width_exponent):
    """Pulse strength in reference pulses (see HfOxReRAM)."""
    floor = np.exp((v_th - v_ref) / v_scale)
    # exponent clipped (exp(700) ~ 1e304): the caller caps the strength at saturation anyway
    s = np.maximum(np.exp(np.minimum((u - v_ref) / v_scale, 700.0)) - floor, 0.0) / (1.0 - floor)
    with np.errstate(over="ignore"):
        st = np.minimum(np.where(t > 0, (t / t_ref) ** width_exponent, 0.0), 1e300)
        return st * s  # both finite: inf at worst (capped by the caller), never NaN


@dataclass
class ProgramVerifyResult:
    """Outcome of :meth:`DeviceArray.program_verify` (arrays of the device-array shape).

    The fields are also the attributes of the same name.

    Parameters
    ----------
    G : ndarray
        Final conductance, S.
    G_read : ndarray
        Last verify read, S.
    n_pulses : ndarray of int
        Write pulses per device.
    n_reads : ndarray of int
        Verify reads per device.
    energy_pulses : ndarray
        Energy of the write pulses through the device I-V, J per device.
    energy_reads : ndarray
        Energy of the verify reads, J per device.
    converged : ndarray of bool
        True where the last verify read is within the acceptance band.

    Attributes
    ----------
    energy : ndarray
        ``energy_pulses + energy_reads``, J per device (a property).
    """

    G: np.ndarray
    G_read: np.ndarray
    n_pulses: np.ndarray
    n_reads: np.ndarray
    energy_pulses: np.ndarray
    energy_reads: np.ndarray
    converged: np.ndarray

    @property
    def energy(self) -> np.ndarray:
        """Total energy per device, J (pulses and verify reads)."""
        return self.energy_pulses + self.energy_reads


_U64 = np.uint64


def _splitmix(state: np.ndarray) -> np.ndarray:
    """One SplitMix64 output per element of the uint64 ``state`` (advanced in place)."""
    state += _U64(0x9E3779B97F4A7C15)
    z = state.copy()
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def _device_normals(seed: int, idx: np.ndarray) -> np.ndarray:
    """One standard normal per device index (Box-Muller on SplitMix64), from the stream of
    (``seed``, index): independent of the pulse kernel's stream of the same seed."""
    with np.errstate(over="ignore"):
        state = (_U64(seed) ^ _U64(0x5851F42D4C957F2D)) ^ (
            idx.astype(_U64) * _U64(0xD1B54A32D192ED03)
        )
        u1 = ((_splitmix(state) >> _U64(11)).astype(float) + 1.0) / 9007199254740992.0
        u2 = ((_splitmix(state) >> _U64(11)).astype(float) + 1.0) / 9007199254740992.0
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


class DeviceArray(_DeviceArrayBase):
    """An array of :class:`HfOxReRAM` devices: per-device (d2d) parameters and state G (S).

    Build it with :meth:`HfOxReRAM.sample`.  Stochastic methods take ``random_state``; with
    ``None`` they use the array's own operation stream, so a seeded array is reproducible.

    Parameters
    ----------
    model : HfOxReRAM
        The nominal model the devices were sampled from.
    shape : tuple of int
        Array shape.
    g_min, g_max : (n,) ndarray
        Per-device window edges, S (flattened, ``n = prod(shape)``).
    G : (n,) array_like
        Initial conductance per device, S.
    params : dict of str to (n,) ndarray
        Per-device (d2d) parameters: ``alpha_set``, ``alpha_reset`` (mean step
        per reference pulse, relative to the window) and ``dv_set``, ``dv_reset`` (shifts of
        the threshold and reference amplitudes, V).
    fab_rng, op_rng : numpy.random.Generator
        Fabrication stream and operation stream (the default of ``random_state=None``).
    """

    def __init__(self, model, shape, g_min, g_max, G, params, fab_rng, op_rng):
        super().__init__(model, shape, g_min, g_max, G, fab_rng, op_rng)
        self.params = params
        m = model
        self._prm = np.array(
            [
                m.set_kappa,
                m.set_gamma,
                m.set_sigma_rel,
                m.set_sigma_abs,
                m.reset_kappa,
                m.reset_gamma,
                m.reset_sigma_rel,
                m.reset_sigma_abs,
                m.dx_max,
                float(m.max_substeps),
                m.set_kappa_d,
                m.set_warmup,
                m.set_warmup_dx,
                m.reset_kappa_d,
                m.reset_warmup,
                m.reset_warmup_dx,
                m.set_sigma_win,
                m.reset_sigma_win,
            ]
        )
        # pulse-history memory: G at the last polarity reversal and the last polarity (0: none)
        self._g_rev = self._G.copy()
        self._last_pol = np.zeros(self.size, dtype=np.int8)
        # ramp-to-ramp rate factor of the present ramp (drawn at each reversal)
        self._ramp_f = np.ones(self.size)

    def set_state(self, G) -> None:
        """Set the conductance (S) directly, clipped to the window.

        Counts as a programming event for relaxation (the clock restarts at 0 s) and clears the
        pulse-history memory (the next pulse of either polarity starts a fresh ramp).

        Parameters
        ----------
        G : float or array_like
            New conductance, S, broadcast to the array.
        """
        super().set_state(G)
        self._g_rev[:] = self._G
        self._last_pol[:] = 0
        self._ramp_f[:] = 1.0

    def pulse_strength(self, amplitude, width) -> tuple[np.ndarray, np.ndarray]:
        """Polarity (+1 SET, -1 RESET, 0 none) and strength (reference pulses) per device.

        Parameters
        ----------
        amplitude : float or array_like
            Cell voltage, V, broadcast to the array (sign ``set_polarity`` SETs).
        width : float or array_like
            Pulse width, s, broadcast to the array.

        Returns
        -------
        polarity : (n,) ndarray of int8
            +1 SET, -1 RESET, 0 no pulse, per device (flattened).
        strength : (n,) ndarray
            Strength in reference pulses (see :class:`HfOxReRAM`), capped where the pulse
            saturates.
        """
        v, t = check_pulse(amplitude, width, self.shape)
        return self._strength_at(v, t, np.arange(self.size))

    def _strength_at(self, v, t, idx) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`pulse_strength` of the devices ``idx`` only (flat indices), from their
        checked amplitudes ``v`` (V) and widths ``t`` (s), one per entry of ``idx``; a pulse
        on a few cells of a large array costs the few cells."""
        m = self.model
        pol = np.sign(v * m.set_polarity).astype(np.int8)
        u = np.abs(v)
        p = self.params
        s = np.zeros(pol.shape)
        for sign, name in ((1, "set"), (-1, "reset")):
            sel = pol == sign
            if not sel.any():
                continue
            dv = p[f"dv_{name}"][idx]
            law = _strength(
                u,
                t,
                getattr(m, f"{name}_v_ref") + dv,
                getattr(m, f"{name}_v_th") + dv,
                getattr(m, f"{name}_v_scale"),
                getattr(m, f"{name}_t_ref"),
                m.width_exponent,
            )
            s = np.where(sel, law, s)
        return pol, np.minimum(s, self._s_cap(pol, idx))

    def _s_cap(self, pol, idx=None) -> np.ndarray:
        """Strength (reference pulses) at which a pulse saturates: the strength whose sub-step
        count reaches ``max_substeps`` (``max_substeps * dx_max`` windows of travel at the
        fastest mean rate).  Stronger pulses act as this one (G ends at the window edge); this
        keeps the state finite for any finite pulse."""
        m = self.model
        sel = slice(None) if idx is None else idx
        fast_s = self.params["alpha_set"][sel] * np.exp(abs(m.set_kappa) + abs(m.set_kappa_d))
        fast_r = self.params["alpha_reset"][sel] * np.exp(abs(m.reset_kappa) + abs(m.reset_kappa_d))
        fast = np.where(pol > 0, fast_s, fast_r)
        return m.max_substeps * m.dx_max / np.maximum(fast, 1e-300)

    def apply_pulses(
        self, amplitude, width, mask=None, compliance=None, random_state=None, n_threads: int = 1
    ) -> np.ndarray:
        """Apply one pulse to every (masked) device and return the change dG (S).

        Parameters
        ----------
        amplitude : float or array
            Cell voltage (V), broadcast to the array; sign ``set_polarity`` SETs, the other
            RESETs, 0 does nothing.  Pass the voltage each cell actually sees (circuit solve).
        width : float or array
            Pulse width (s), >= 0.
        mask : bool array or None
            Devices to pulse (default all).
        compliance : float, array or None
            SET current compliance (A): a SET stops at ``G_cc = compliance / (I(V, G)/G)``.
        random_state : None, int or Generator
            Cycle-to-cycle noise stream (default: the array's operation stream).  One uint64
            is drawn from it to seed the kernel's per-device SplitMix64 streams.
        n_threads : int
            OpenMP threads of the kernel.

        Returns
        -------
        ndarray
            Conductance change per device, S (array shape; 0 outside the mask).

        See Also
        --------
        apply_pulses_at : The same pulse on devices given by flat index (cost of those only).
        """
        v, t = check_pulse(amplitude, width, self.shape)
        cand = np.flatnonzero(as_mask(mask, self.shape))
        icc = None
        if compliance is not None:
            icc = broadcast_input(compliance, "compliance", self.shape)[cand]
        dG = np.zeros(self.size)
        dG[cand] = self._pulse_at(cand, v[cand], t[cand], icc, random_state, n_threads)
        return dG.reshape(self.shape)

    def apply_pulses_at(
        self, index, amplitude, width, compliance=None, random_state=None, n_threads: int = 1
    ) -> np.ndarray:
        """:meth:`apply_pulses` on the devices ``index`` (flat, row-major) only; dG of those (S).

        The same pulse, the same draws and the same result as ``apply_pulses`` with a mask of
        these devices (the kernel's noise is a counter-based stream of the seed and the device
        index), at a cost proportional to ``len(index)`` instead of the array size.

        Parameters
        ----------
        index : (k,) int array_like
            Flat indices of the devices pulsed, distinct, in ``[0, size)``.
        amplitude : float or (k,) array_like
            Cell voltage per pulsed device, V (sign ``set_polarity`` SETs).
        width : float or (k,) array_like
            Pulse width, s (>= 0).
        compliance : float, (k,) array_like or None
            SET current compliance, A.
        random_state : None, int or Generator
            Cycle-to-cycle noise stream (default: the array's operation stream); one uint64
            is drawn.
        n_threads : int
            OpenMP threads of the kernel.

        Returns
        -------
        (k,) ndarray
            Conductance change of each device of ``index``, S.
        """
        idx = np.asarray(index)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ConfigError(
                f"index must be a 1-D array of integer device indices, got dtype {idx.dtype}, "
                f"shape {idx.shape}"
            )
        idx = idx.astype(np.int64, copy=False)
        if idx.size:
            rising = idx.size < 2 or bool(np.all(idx[1:] > idx[:-1]))  # the usual, sorted case
            lo, hi = (idx[0], idx[-1]) if rising else (idx.min(), idx.max())
            if lo < 0 or hi >= self.size:
                bad = idx[(idx < 0) | (idx >= self.size)][0]
                raise ConfigError(
                    f"index must be in [0, {self.size}) (flat device index), got {bad}"
                )
            if not rising and np.unique(idx).size != idx.size:
                raise ConfigError("index must not repeat a device (one pulse per device per call)")
        v, t = check_pulse(amplitude, width, (idx.size,))
        icc = None if compliance is None else broadcast_input(compliance, "compliance", idx.shape)
        return self._pulse_at(idx, v, t, icc, random_state, n_threads)

    def _pulse_at(self, cand, v, t, icc, random_state, n_threads: int) -> np.ndarray:
        """One pulse on the devices ``cand`` (flat indices) with their checked amplitudes ``v``
        (V), widths ``t`` (s) and compliances ``icc`` (A, or None); returns their dG (S)."""
        from .._kernels._pulse_update import pulse_update

        rng = self._rng(random_state)
        pol_c, s_c = self._strength_at(v, t, cand)
        keep = (pol_c != 0) & (s_c > 0)
        idx = cand[keep]
        pol, s = pol_c[keep], s_c[keep]  # of the devices idx
        seed = int(rng.integers(0, 2**63))
        out = np.zeros(cand.size)
        if idx.size == 0:
            return out
        gcap = np.full(idx.size, _INF)
        if icc is not None:
            icc = icc[keep]
            if np.any(icc <= 0):
                raise ConfigError(f"compliance must be > 0 A, got {icc[icc <= 0][0]!r}")
            gref = self._g_max[idx]
            f = np.abs(self.model.iv.current(v[keep], gref)) / gref
            gcap = np.where(f > 0, icc / np.where(f > 0, f, 1.0), _INF)
        alpha = np.where(pol > 0, self.params["alpha_set"][idx], self.params["alpha_reset"][idx])
        g = self._G[idx].copy()
        flip = pol != self._last_pol[idx]  # a reversal (or a first pulse) restarts the memory
        self._g_rev[idx[flip]] = g[flip]
        self._last_pol[idx] = pol
        self._draw_ramp_factor(idx[flip], pol[flip], seed)
        alpha = alpha * self._ramp_f[idx]
        pulse_update(
            g,
            self._g_min[idx],
            self._g_max[idx],
            gcap,
            np.ascontiguousarray(self._g_rev[idx]),
            np.ascontiguousarray(s),
            np.ascontiguousarray(pol),
            np.ascontiguousarray(alpha),
            idx.astype(np.int64),
            self._prm,
            np.uint64(seed),
            int(n_threads),
        )
        out[keep] = g - self._G[idx]
        self._G[idx] = g
        self._programmed(idx)
        return out

    def _draw_ramp_factor(self, idx, pol, seed: int) -> None:
        """New ramp-rate factors ``exp(sigma_ramp * z)`` for the devices ``idx`` that start a
        ramp of polarity ``pol``: ``z`` from a counter-based stream of (``seed``, device index),
        like the kernel's step noise, so a device's factor does not depend on which other
        devices are pulsed."""
        if idx.size == 0:  # no device starts a ramp (the usual case within a ramp)
            return
        m = self.model
        for p, sig in ((1, m.set_sigma_ramp), (-1, m.reset_sigma_ramp)):
            sel = idx[pol == p]
            if sel.size:
                self._ramp_f[sel] = np.exp(sig * _device_normals(seed, sel)) if sig > 0 else 1.0

    def reversal_state(self, polarity: int, G=None) -> np.ndarray:
        """The pulse-history memory a pulse of ``polarity`` starts from, S (array shape).

        Parameters
        ----------
        polarity : int
            +1 SET, -1 RESET.
        G : float or array_like, optional
            Present state, S (broadcast to the array; default the devices' own).

        Returns
        -------
        ndarray
            Per device, the conductance at its last polarity reversal when its last pulse had
            this polarity (the ramp goes on), else ``G`` (a pulse of the other polarity starts a
            fresh ramp).
        """
        G = self._G if G is None else broadcast_input(G, "G", self.shape)
        return np.where(self._last_pol == np.sign(polarity), self._g_rev, G).reshape(self.shape)

    def mean_step(self, polarity: int, G=None, g_rev=None) -> np.ndarray:
        """Mean dG (S) of one reference pulse of ``polarity`` (+1 SET, -1 RESET) at state ``G``
        (default the present state), before clipping; the law the kernel integrates, for the
        median ramp (the ramp-rate factor of ``sigma_ramp`` is not included).

        Parameters
        ----------
        polarity : int
            +1 SET, -1 RESET.
        G : float or array_like, optional
            State at which to evaluate the step, S (broadcast to the array); default the
            present state.
        g_rev : float or array_like, optional
            Conductance at the last polarity reversal (the pulse-history memory), S; default:
            the device's own when its last pulse had this polarity, else ``G`` (a pulse of the
            other polarity starts a fresh ramp).

        Returns
        -------
        ndarray
            Mean conductance change per device, S (array shape).
        """
        m = self.model
        G = self._G if G is None else broadcast_input(G, "G", self.shape)
        if g_rev is None:
            g_rev = self.reversal_state(polarity, G.reshape(self.shape)).reshape(-1)
        else:
            g_rev = broadcast_input(g_rev, "g_rev", self.shape)
        w = self._g_max - self._g_min
        x = np.clip((G - self._g_min) / w, 0.0, 1.0)
        d = np.abs(G - g_rev) / w
        p = "set" if polarity > 0 else "reset"
        a, kd = self.params[f"alpha_{p}"], getattr(m, f"{p}_kappa_d")
        warm = 1.0 - getattr(m, f"{p}_warmup") * np.exp(-d / getattr(m, f"{p}_warmup_dx"))
        if polarity > 0:
            mu = a * w * np.exp(m.set_kappa * x + kd * d) * (1 - x) ** m.set_gamma * warm
        else:
            mu = -a * w * np.exp(m.reset_kappa * (1 - x) + kd * d) * x**m.reset_gamma * warm
        return mu.reshape(self.shape)

    @renamed_kwarg(tol="atol")
    def program_verify(
        self,
        G_target,
        atol: float | None = None,
        max_pulses: int = 100,
        *,
        rtol: float = 0.0,
        width: float = 100e-9,
        set_ramp: Ramp | None = None,
        reset_ramp: Ramp | None = None,
        compliance: float | None = None,
        v_read: float = 0.2,
        t_read: float = 1e-6,
        mask=None,
        allow_set: bool = True,
        on_failure: str = "warn",
        random_state=None,
        **deprecated,
    ) -> ProgramVerifyResult:
        """Conventional program-and-verify (incremental step pulses with verify reads).

        The loop of :func:`xbar.pulses.verify.run_program_verify`: per device, read (with read
        noise); stop when ``|G_read - G_target| <= atol + rtol·|G_target|``; else a SET pulse
        (with ``compliance``) if below target, a RESET pulse if above, the amplitudes following
        ``set_ramp`` / ``reset_ramp`` (restarting when the direction flips).  Energy: every pulse
        ``|V I| t`` through the device I-V (state before the pulse, current limited by the
        compliance for SET) and every verify read ``v_read * I(v_read) * t_read``.

        Parameters
        ----------
        G_target : float or array
            Target conductance, S.
        atol : float or None
            Absolute acceptance band on the verify read, S; default 1 % of the nominal window.
            Deprecated name: ``tol``.
        max_pulses : int, default 100
            Pulses per device before giving up.
        rtol : float, default 0.0
            Relative acceptance band (fraction of the target).
        width : float, default 100e-9
            Pulse width, s.
        set_ramp : Ramp or None
            SET amplitudes, V; default ``Ramp(v_start=0.9, v_step=0.05, v_stop=1.5)``.
            Deprecated keywords: ``v_set_start``, ``v_set_step``, ``v_set_max``.
        reset_ramp : Ramp or None
            RESET amplitudes, V; default ``Ramp(v_start=0.6, v_step=0.05, v_stop=1.5)``.
            Deprecated keywords: ``v_reset_start``, ``v_reset_step``, ``v_reset_max``.
        compliance : float or None
            SET current compliance, A.  With a sinh-like I-V the reachable G at the cap,
            ``compliance / (I(V)/G)``, falls as the amplitude grows, so a compliance too low for
            the target stalls the loop; default None (no compliance).
        v_read : float, default 0.2
            Verify read voltage, V.
        t_read : float, default 1e-6
            Verify read time, s.
        mask : bool array or None
            Devices to program (default all).
        allow_set : bool, default True
            False: reset-only programming (no SET pulses; a device that reads below its target
            is done, as close as RESET pulses get it from above).
        on_failure : {"warn", "raise", "ignore"}
            What to do if some devices do not reach the band: a ConvergenceWarning (default; the
            ``converged`` flags say which), a ConvergenceError, or nothing.
        random_state : None, int or Generator
            Read-noise and cycle-noise stream (default: the array's operation stream).
        **deprecated
            Only the deprecated ramp keywords ``v_set_start``, ``v_set_step``, ``v_set_max``,
            ``v_reset_start``, ``v_reset_step``, ``v_reset_max`` (V); each warns
            (DeprecationWarning), any other keyword raises TypeError.

        Returns
        -------
        ProgramVerifyResult
        """
        m = self.model
        set_ramp, reset_ramp = ramps_from_legacy(
            set_ramp, reset_ramp, deprecated, defaults=(Ramp(0.9, 0.05, 1.5), Ramp(0.6, 0.05, 1.5))
        )
        target = broadcast_input(G_target, "G_target", self.shape)
        if atol is None:
            atol = 0.01 * (m.g_max - m.g_min)
        check_band(rtol, atol)
        check_scalar(max_pulses, "max_pulses", low=1, integer=True)
        check_choice(on_failure, "on_failure", ON_FAILURE)
        for name, val in (("width", width), ("t_read", t_read)):
            check_scalar(val, name, low=0.0, low_open=True)
        rng = self._rng(random_state)
        todo = as_mask(mask, self.shape)
        n = self.size
        e_pulse = np.zeros(n)
        e_read = np.zeros(n)
        pol_sign = m.set_polarity

        def read(sel):
            g = self.read(rng).reshape(-1)
            e_read[sel] += self.read_energy(v_read, t_read).reshape(-1)[sel]
            return g

        def pulse(active, direction, amp, level):
            volts = np.where(active, amp * direction * pol_sign, 0.0)
            e = self.pulse_energy(volts.reshape(self.shape), width).reshape(-1)
            if compliance is not None:
                f = np.abs(m.iv.current(volts, self._G))
                icc = np.where(direction > 0, compliance, _INF)
                e = np.abs(volts) * np.minimum(f, icc) * width
            e_pulse[active] += e[active]
            self.apply_pulses(
                volts.reshape(self.shape),
                width,
                mask=active.reshape(self.shape),
                compliance=None
                if compliance is None
                else np.where(direction > 0, compliance, 1.0).reshape(self.shape),
                random_state=rng,
            )

        out = run_program_verify(
            read,
            pulse,
            target,
            todo,
            rtol=rtol,
            atol=atol,
            max_pulses=max_pulses,
            set_ramp=set_ramp,
            reset_ramp=reset_ramp,
            allow_set=allow_set,
        )
        converged = out.converged
        res = ProgramVerifyResult(
            *(
                a.reshape(self.shape)
                for a in (
                    self._G.copy(),
                    out.g_read,
                    out.n_pulses,
                    out.n_reads,
                    e_pulse,
                    e_read,
                    converged,
                )
            )
        )
        if not converged.all():
            k = int(np.sum(~converged))
            msg = (
                f"program_verify: {k} of {int(todo.sum())} devices not within atol = {atol:g} S"
                f" + rtol = {rtol:g} after max_pulses = {max_pulses}"
            )
            worst = float(np.nanmax(np.abs(out.g_read - target)[~converged]))
            # stacklevel 4: the caller of the renamed_kwarg wrapper
            handle_failure(on_failure, ConvergenceError(msg, max_pulses, worst), stacklevel=4)
        return res
