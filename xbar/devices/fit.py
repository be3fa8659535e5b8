"""Fit the device models to measured data, and the statistics used to validate them.

* I-V sweeps (:func:`fit_iv_cycle`, :func:`lrs_iv_table`): LRS/HRS resistance, V_set/V_reset,
  per-branch sinh fits, RMS of log10|I| of the hysteretic sweep model per cycle.
* Pulse ramps (:func:`fit_pulse_ramps`, :func:`simulate_ramps`): mean dG(G) and its spread.
* Relaxation (:func:`fit_relaxation`): drift rate and broadening per level in log time.
* Read noise (:func:`fit_read_noise`, :func:`psd_slope`): relative noise per level, 1/f slope.
* Switching probability (:func:`fit_switching`): log-normal switching-time model by maximum
  likelihood.

Units: S, V, A, s throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import Any

import numpy as np
from scipy import optimize, signal
from scipy.special import log_ndtr

from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError, ConvergenceError
from ..iv import Asymmetric, Table
from ._common import log_time

__all__ = [
    "fit_sinh_branch",
    "IVCycleFit",
    "switching_steps",
    "fit_iv_cycle",
    "lrs_iv_table",
    "RampFit",
    "fit_pulse_ramps",
    "ramp_mean_step",
    "simulate_ramps",
    "RelaxationFit",
    "fit_relaxation",
    "ReadNoiseFit",
    "fit_read_noise",
    "psd_slope",
    "fit_switching",
    "ks_distance",
]


# =================================================================================== I-V
def fit_sinh_branch(v, i) -> tuple[float, float]:
    """Fit ``|I| = G * v0 * sinh(|V| / v0)`` in log space; returns (G in S, v0 in V).

    Parameters
    ----------
    v : array_like
        Voltages of the branch, V (magnitudes are used).
    i : array_like
        Currents at ``v``, A (magnitudes are used; at least 3 points with V != 0 and I != 0).

    Returns
    -------
    G : float
        Small-signal conductance, S.
    v0 : float
        Sinh scale voltage, V.
    """
    v = np.abs(as_float_array(v, "v"))
    i = np.abs(as_float_array(i, "i"))
    ok = (v > 0) & (i > 0)
    if ok.sum() < 3:
        raise ConfigError(f"need at least 3 points with V != 0 and I != 0 to fit, got {ok.sum()}")
    v, li = v[ok], np.log(i[ok])
    g0 = float(np.exp(np.median(li - np.log(v))))

    def res(p):
        lg, lv0 = p
        v0 = np.exp(lv0)
        return lg + lv0 + np.log(np.sinh(v / v0)) - li

    sol = optimize.least_squares(
        res, [np.log(g0), np.log(0.5)], bounds=([-40, np.log(0.02)], [10, np.log(20.0)])
    )
    return float(np.exp(sol.x[0])), float(np.exp(sol.x[1]))


@dataclass
class IVCycleFit:
    """One SET + RESET cycle of quasi-static sweeps, fitted (see :func:`fit_iv_cycle`).

    The fields are also the attributes of the same name.

    Parameters
    ----------
    cycle : int
        Cycle number of the SET sweep.
    v_set, v_reset : float
        Switching voltages, V.
    r_lrs, r_hrs : float
        Resistance at |V| = ``v_read``, ohm.
    g_lrs : float
        Sinh fit of the LRS, S (geometric mean of the two polarities' fits).
    v0_lrs_pos, v0_lrs_neg : float
        Sinh scale voltages of the LRS at positive and negative bias, V.
    g_hrs, v0_hrs : float
        Sinh fit of the HRS before the SET, S and V.
    rms_set, rms_reset : float
        RMS of log10|I| (decades) of the sweep model over each sweep.
    model_set, model_reset : ndarray
        Model current at every point of the SET and RESET sweeps, A.
    n_set_steps, n_reset_steps : int, default 1
        Number of piecewise-constant levels of the state before the SET and after the RESET
        peak (:func:`switching_steps`).
    """

    cycle: int
    v_set: float
    v_reset: float
    r_lrs: float
    r_hrs: float
    g_lrs: float
    v0_lrs_pos: float
    v0_lrs_neg: float
    g_hrs: float
    v0_hrs: float
    rms_set: float
    rms_reset: float
    model_set: np.ndarray = field(repr=False)
    model_reset: np.ndarray = field(repr=False)
    n_set_steps: int = 1
    n_reset_steps: int = 1


def switching_steps(log_state, step_dec: float) -> tuple[np.ndarray, int]:
    """Piecewise-constant fit of a conductance state along a sweep (log10 values).

    A new level starts where the state moves by more than ``step_dec`` decades from the median
    of the present level (a switching event: a filament grows or ruptures in a discrete step);
    each level is the median of its points.

    Parameters
    ----------
    log_state : array_like
        log10 of the state (e.g. of a conductance in S) at each sweep point, in sweep order.
    step_dec : float
        Smallest move that starts a new level, decades.

    Returns
    -------
    levels : ndarray
        Fitted log10 state per point.
    n_levels : int
        Number of levels.
    """
    ls = np.asarray(log_state, float)
    seg = np.zeros(ls.size, dtype=int)
    start = 0
    for j in range(1, ls.size):
        if abs(ls[j] - np.median(ls[start:j])) > step_dec:
            start = j
        seg[j] = start
    starts = np.unique(seg)
    lev = np.empty(ls.size)
    for a in starts:
        lev[seg == a] = np.median(ls[seg == a])
    return lev, int(starts.size)


def _r_at(v, i, v_read):
    k = int(np.argmin(np.abs(np.abs(v) - v_read)))
    return float(abs(v[k] / i[k]))


def fit_iv_cycle(
    set_sweep,
    reset_sweep,
    *,
    v_min: float = 0.05,
    v_read: float = 0.1,
    compliance: float | None = None,
    step_dec: float = 0.2,
) -> IVCycleFit:
    """Fit one cycle: a SET sweep (0 -> V- -> 0) and the following RESET sweep (0 -> V+ -> 0).

    Extraction: V_set = voltage of the largest jump of log10|I| on the SET up-branch; V_reset =
    voltage of the current maximum on the RESET up-branch; R_LRS at ``v_read`` on the RESET
    up-branch, R_HRS at ``-v_read`` on the SET up-branch.  Branch fits (sinh, log space, points
    with |V| >= ``v_min``): HRS = SET up-branch before V_set; LRS negative = SET down-branch once
    below 95 % of the compliance; LRS positive = RESET up-branch below 0.8 V_reset; the HRS left by
    the RESET = RESET down-branch.

    Sweep model: on the SET sweep the HRS up to V_set, then the LRS (limited to the compliance);
    on the RESET sweep the LRS up to the current peak, then the post-RESET HRS on the way down.
    Switching is in discrete steps (:func:`switching_steps`, ``step_dec`` decades, default 0.2:
    a change of the conductance by 1.6x or more): before V_set the HRS state (current over the
    HRS sinh shape fitted on |V| <= max(0.5 |V_set|, 0.3 V)) and after the RESET peak on the
    up-branch the state (current over the post-RESET HRS shape) are piecewise constant;
    ``n_set_steps``/``n_reset_steps`` count the levels.  RMS of log10|I| over points with
    |V| >= ``v_min`` (below that the current is near the instrument floor).

    Parameters
    ----------
    set_sweep, reset_sweep : IVSweep
        The SET and the following RESET sweep (``v`` in V, ``i`` in A; ``compliance`` and
        ``cycle`` are used when present).
    v_min : float, default 0.05
        Smallest |V| of the points fitted and scored, V.
    v_read : float, default 0.1
        Voltage at which ``r_lrs`` and ``r_hrs`` are read off, V.
    compliance : float, optional
        SET current compliance, A; default the SET sweep's recorded compliance, else its
        largest |I|.
    step_dec : float, default 0.2
        Level step of :func:`switching_steps`, decades.

    Returns
    -------
    IVCycleFit
    """
    vs, is_ = set_sweep.v, set_sweep.i
    vr, ir = reset_sweep.v, reset_sweep.i
    icc = compliance if compliance is not None else getattr(set_sweep, "compliance", np.nan)
    if not np.isfinite(icc):
        icc = np.max(np.abs(is_))
    ts, tr = int(np.argmax(np.abs(vs))), int(np.argmax(np.abs(vr)))
    up_s = np.arange(ts + 1)
    with np.errstate(divide="ignore"):
        ls = np.log10(np.abs(is_) + 1e-15)
    jump = np.diff(ls[up_s])
    k_set = int(np.argmax(np.where(np.abs(vs[up_s[1:]]) >= v_min, jump, -np.inf))) + 1
    v_set = float(vs[k_set])
    k_reset = int(np.argmax(np.abs(ir[: tr + 1])))
    v_reset = float(vr[k_reset])
    idx = np.arange(vs.size)
    hrs = (idx < k_set) & (np.abs(vs) >= v_min)
    lrs_neg = (idx > ts) & (np.abs(is_) < 0.95 * icc) & (np.abs(vs) >= v_min)
    lrs_pos = (np.arange(vr.size) <= k_reset) & (vr <= 0.8 * v_reset) & (vr >= v_min)
    g_h, v0_h = fit_sinh_branch(vs[hrs], is_[hrs])
    g_ln, v0_ln = fit_sinh_branch(vs[lrs_neg], is_[lrs_neg])
    g_lp, v0_lp = fit_sinh_branch(vr[lrs_pos], ir[lrs_pos])
    hrs_after = (np.arange(vr.size) > tr) & (vr >= v_min)
    g_h2, v0_h2 = fit_sinh_branch(vr[hrs_after], ir[hrs_after])
    g_l = float(np.sqrt(g_ln * g_lp))
    lrs_model = Asymmetric(v0_lp, v0_ln)
    hrs_model = Asymmetric(v0_h, v0_h)
    m_set = np.where(idx < k_set, hrs_model.current(vs, g_h), lrs_model.current(vs, g_ln))
    m_set = np.sign(m_set) * np.minimum(np.abs(m_set), icc)
    idr = np.arange(vr.size)
    m_reset = np.where(
        idr <= k_reset, lrs_model.current(vr, g_lp), Asymmetric(v0_h2, v0_h2).current(vr, g_h2)
    )
    # stepwise switching: HRS state before V_set, state after the RESET peak on the up-branch
    low = hrs & (np.abs(vs) <= max(0.5 * abs(v_set), 0.3))
    v0_low = fit_sinh_branch(vs[low], is_[low])[1] if low.sum() >= 3 else v0_h
    n_set = n_reset = 1
    sel = np.flatnonzero(hrs)
    if sel.size:
        shape = v0_low * np.sinh(np.abs(vs[sel]) / v0_low)
        lev, n_set = switching_steps(np.log10(np.abs(is_[sel]) + 1e-15) - np.log10(shape), step_dec)
        m_set[sel] = np.sign(vs[sel]) * 10.0**lev * shape
    sel = np.arange(k_reset + 1, tr + 1)
    sel = sel[np.abs(vr[sel]) >= v_min]
    if sel.size:
        shape = v0_h2 * np.sinh(np.abs(vr[sel]) / v0_h2)
        lev, n_reset = switching_steps(
            np.log10(np.abs(ir[sel]) + 1e-15) - np.log10(shape), step_dec
        )
        m_reset[sel] = np.sign(vr[sel]) * 10.0**lev * shape

    def rms(v, i, m):
        ok = np.abs(v) >= v_min
        return float(
            np.sqrt(
                np.mean((np.log10(np.abs(i[ok]) + 1e-15) - np.log10(np.abs(m[ok]) + 1e-15)) ** 2)
            )
        )

    return IVCycleFit(
        cycle=int(getattr(set_sweep, "cycle", 0)),
        v_set=v_set,
        v_reset=v_reset,
        r_lrs=_r_at(vr[: tr + 1], ir[: tr + 1], v_read),
        r_hrs=_r_at(vs[:k_set], is_[:k_set], v_read),
        g_lrs=g_l,
        v0_lrs_pos=v0_lp,
        v0_lrs_neg=v0_ln,
        g_hrs=g_h,
        v0_hrs=v0_h,
        rms_set=rms(vs, is_, m_set),
        rms_reset=rms(vr, ir, m_reset),
        model_set=m_set,
        model_reset=m_reset,
        n_set_steps=n_set,
        n_reset_steps=n_reset,
    )


def lrs_iv_table(reset_sweeps, set_sweeps, fits, v_max: float = 0.6, n_knots: int = 25) -> Table:
    """Median measured LRS curve ``I / G_LRS`` on ``[-v_max, v_max]`` as an :class:`xbar.iv.Table`.

    Positive side: RESET up-branches; negative side: SET down-branches (after compliance); each
    normalised by its cycle's fitted small-signal G and interpolated on a common grid; the median
    over cycles is made monotone (running maximum) and pinned to 0 at 0 V.

    Parameters
    ----------
    reset_sweeps, set_sweeps : sequence of IVSweep
        RESET and SET sweeps, one of each per cycle (``v`` in V, ``i`` in A).
    fits : sequence of IVCycleFit
        The cycles' fits (:func:`fit_iv_cycle`): ``g_lrs`` (S) and ``v_reset`` (V) are used.
    v_max : float, default 0.6
        Half-width of the voltage grid, V.
    n_knots : int, default 25
        Number of grid points.

    Returns
    -------
    xbar.iv.Table
        The I/G curve (V) at the knots (V).
    """
    grid = np.linspace(-v_max, v_max, n_knots)
    curves = []
    for rs, ss, f in zip(reset_sweeps, set_sweeps, fits):
        tr = int(np.argmax(np.abs(rs.v)))
        up = slice(0, tr + 1)
        ts = int(np.argmax(np.abs(ss.v)))
        vp, ip = rs.v[up], rs.i[up] / f.g_lrs
        vn, i_n = ss.v[ts:][::-1], ss.i[ts:][::-1] / f.g_lrs
        keep_p = vp <= 0.8 * f.v_reset
        vv = np.concatenate([vn[vn < 0], vp[keep_p & (vp > 0)]])
        ii = np.concatenate([i_n[vn < 0], ip[keep_p & (vp > 0)]])
        order = np.argsort(vv)
        curves.append(np.interp(grid, vv[order], ii[order]))
    f = np.median(np.array(curves), axis=0)
    f[np.argmin(np.abs(grid))] = 0.0
    f = np.maximum.accumulate(f)
    return Table(grid, f)


# ================================================================================= ramps
@dataclass
class RampFit:
    """Pulse-response fit of one device's ramps (see :func:`fit_pulse_ramps`).

    The fields are also the attributes of the same name.

    Parameters
    ----------
    g_min, g_max : float
        Window that frames the normalised state, S.
    set, reset : dict
        Per polarity the law of :class:`HfOxReRAM` (without the polarity prefix): ``alpha``
        (relative to the window), ``kappa``, ``kappa_d``, ``gamma``, ``warmup``, ``warmup_dx``
        (window units), and the state noise, which accumulates: ``sigma_rel`` (relative to the
        mean step), ``sigma_abs`` (S) and ``sigma_ramp`` (log-normal sigma of a rate factor per
        ramp; see ``_fit_ramp_noise``).
    read_sigma : float, default 0.0
        Std of the measurement noise of each stored read, S, separated from the c2c step noise
        by the lag-1 anti-correlation of the step residuals.
    """

    g_min: float
    g_max: float
    set: dict
    reset: dict
    read_sigma: float = 0.0

    def to_model(self, **overrides):
        """An :class:`~xbar.devices.HfOxReRAM` with this law at its reference pulse and no d2d.

        Parameters
        ----------
        **overrides
            Further ``HfOxReRAM`` fields (in their units), applied last.

        Returns
        -------
        HfOxReRAM
        """
        from .hfox import DTOD_FIELDS, HfOxReRAM

        kw: dict[str, Any] = dict(
            g_min=self.g_min,
            g_max=self.g_max,
            **dict.fromkeys(DTOD_FIELDS, 0.0),
            set_sigma_win=0.0,
            reset_sigma_win=0.0,
        )
        for p in ("set", "reset"):
            for k, v in getattr(self, p).items():
                kw[f"{p}_{k}"] = v
        kw.update(overrides)
        return HfOxReRAM(**kw)


_RAMP_LAW = ("alpha", "kappa", "kappa_d", "gamma", "warmup", "warmup_dx")


def ramp_mean_step(p: dict, g, g_rev, g_min: float, g_max: float, sign: int) -> np.ndarray:
    """Mean step (S) of one reference pulse of the :class:`HfOxReRAM` law with parameters ``p``
    (keys ``_RAMP_LAW``) at conductance ``g`` with ``g_rev`` the conductance at the last polarity
    reversal (S); the law the pulse kernel integrates.

    Parameters
    ----------
    p : dict
        The law: ``alpha`` (relative to the window), ``kappa``, ``kappa_d``, ``gamma``,
        ``warmup``, ``warmup_dx`` (window units), as in ``RampFit.set``.
    g : float or array_like
        Conductance before the pulse, S.
    g_rev : float or array_like
        Conductance at the last polarity reversal, S.
    g_min, g_max : float
        Window, S.
    sign : int
        > 0 SET, otherwise RESET.

    Returns
    -------
    ndarray
        Mean conductance change, S (positive for SET, negative for RESET).
    """
    w = g_max - g_min
    x = np.clip((np.asarray(g) - g_min) / w, 0.0, 1.0)
    d = np.abs(np.asarray(g) - g_rev) / w
    warm = 1.0 - p["warmup"] * np.exp(-d / p["warmup_dx"])
    if sign > 0:
        return (
            p["alpha"]
            * w
            * np.exp(p["kappa"] * x + p["kappa_d"] * d)
            * (1 - x) ** p["gamma"]
            * warm
        )
    return (
        -p["alpha"] * w * np.exp(p["kappa"] * (1 - x) + p["kappa_d"] * d) * x ** p["gamma"] * warm
    )


def _ramp_matrix(ramps):
    """(n_max, n_ramps) conductances and the mask of measured points."""
    g = np.asarray(ramps.g, float)
    return g, np.isfinite(g)


def _trajectories(p, g0, n, g_min, g_max, sign):
    """Deterministic ramps of ``n`` reference pulses from each start (one Euler step per
    pulse, as the kernel does while the step is below ``dx_max``)."""
    out = np.empty((n + 1, g0.size))
    out[0] = g0
    for k in range(n):
        out[k + 1] = np.clip(
            out[k] + ramp_mean_step(p, out[k], g0, g_min, g_max, sign), g_min, g_max
        )
    return out


#: Weight of each ramp's end point (its last pulse common to all ramps) in the trajectory fit,
#: relative to one read of the trajectory: the end points are the figure the law is judged by.
_END_WEIGHT = 40.0


def _fit_polarity(ramps, g_min, g_max, sign, end_weight=None):
    """Mean law by least squares on whole trajectories, then the read noise and the step noise.

    The six mean-law parameters minimise the squared error (in window units) of the
    deterministic trajectory started at each ramp's first read against the ramp's measured
    reads, each ramp's end point (its last pulse common to all ramps) weighted ``end_weight``
    times: trajectories (not single steps) carry the information on how differences between
    ramps propagate, which separates the dependence on G from the dependence on the pulse
    history.  Its start is the better of two one-step least-squares fits (with and without
    warm-up).  The noise: see ``_fit_ramp_noise``.
    """
    w = g_max - g_min
    gm, ok = _ramp_matrix(ramps)
    n = gm.shape[0] - 1
    g0 = gm[0]
    target = np.where(ok, gm, 0.0)
    n_end = int(ok.all(axis=1).nonzero()[0].max())
    we = np.sqrt(_END_WEIGHT if end_weight is None else end_weight)

    def unpack(q):
        return dict(zip(_RAMP_LAW, q))

    def res(q):
        t = _trajectories(unpack(q), g0, n, g_min, g_max, sign)
        r = np.where(ok, t - target, 0.0) / w
        return np.concatenate([r[1:].ravel(), we * r[n_end]])

    dg_all = np.diff(gm, axis=0)
    pair = ok[1:] & ok[:-1]
    g_pair, dg_pair = gm[:-1][pair], dg_all[pair]
    rev_pair = np.broadcast_to(g0, gm[:-1].shape)[pair]

    def res_step(q):  # one-step residuals: cheap, gives the trajectory fit its start
        return (ramp_mean_step(unpack(q), g_pair, rev_pair, g_min, g_max, sign) - dg_pair) / w

    a0 = float(np.abs(np.mean(dg_pair)) / w)
    lb = [1e-9, -15.0, -15.0, 0.0, 0.0, 1e-3]
    ub = [1.0, 15.0, 15.0, 8.0, 0.99, 1.0]
    best = None
    for c0 in (0.0, 0.5):
        sol = optimize.least_squares(
            res_step, [a0, 0.0, 0.0, 0.5, c0, 0.05], bounds=(lb, ub), x_scale="jac", max_nfev=40
        )
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    best = optimize.least_squares(res, best.x, bounds=(lb, ub), x_scale="jac", max_nfev=40)
    p = unpack(best.x)
    # one-step residuals of the law, each ramp's memory starting at its first read
    same = ok[1:] & ok[:-1]
    mu = ramp_mean_step(p, gm[:-1], g0[None, :], g_min, g_max, sign)
    resid = np.where(same, dg_all - mu, np.nan)
    # Read noise e_n of each stored read enters dG_n = G_{n+1} - G_n + e_{n+1} - e_n: it
    # makes consecutive residuals anti-correlated by -var(e).  Estimate var(e) from that
    # lag-1 covariance.
    lag = resid[1:] * resid[:-1]
    var_e = max(0.0, -float(np.nanmean(lag)))
    out = {k: float(v) for k, v in p.items()}
    out.update(_fit_ramp_noise(p, gm[: n_end + 1], g_min, g_max, sign, var_e))
    return out, var_e


def _fit_ramp_noise(p, gm, g_min, g_max, sign, var_e) -> dict:
    """Step noise and ramp-rate spread from the growth of the ramp-to-ramp spread.

    Each ramp's deviation from the deterministic trajectory of the law ``p`` started at its
    first read, ``r_k = G_k - T_k``, has (to first order) the variance

        s_r**2 J_k**2 + sigma_abs**2 V_k + sigma_rel**2 U_k + var_e (1 + D_k**2)

    with ``J_k = dT_k / d ln alpha`` (a ramp-rate factor: grows with the distance travelled),
    ``V_k``, ``U_k`` the random walk of a white step noise of unit std (and of std
    proportional to the mean step) propagated by the law's tangent, and ``D_k = dT_k / dG_0``
    (the read noise of the first read).  ``(s_r**2, sigma_abs**2, sigma_rel**2)`` are the
    non-negative least-squares fit, in relative error, of the variance across ramps per pulse
    (``gm``: pulses common to all ramps, ``(k, n_ramps)``, S).
    """
    n = gm.shape[0] - 1
    g0 = gm[0]
    w = g_max - g_min
    T = _trajectories(p, g0, n, g_min, g_max, sign)
    eps, h = 1e-4, 1e-6 * w
    J = (_trajectories(dict(p, alpha=p["alpha"] * (1 + eps)), g0, n, g_min, g_max, sign) - T) / eps
    D = (_trajectories(p, g0 + h, n, g_min, g_max, sign) - T) / h
    mu = ramp_mean_step(p, T[:-1], g0, g_min, g_max, sign)
    A = 1.0 + (ramp_mean_step(p, T[:-1] + h, g0, g_min, g_max, sign) - mu) / h
    V, U = np.zeros_like(T), np.zeros_like(T)
    for k in range(1, n + 1):
        V[k] = A[k - 1] ** 2 * V[k - 1] + 1.0
        U[k] = A[k - 1] ** 2 * U[k - 1] + mu[k - 1] ** 2
    r = gm - T
    # what the start explains is the law's (mis)fit, not noise: regress it out per pulse
    z = g0 - g0.mean()
    r = r - r.mean(1, keepdims=True) - np.outer((r @ z) / (z @ z), z)
    var = (r**2).sum(1)[1:] / (gm.shape[1] - 2)
    X = np.column_stack([(J**2).mean(1), V.mean(1), U.mean(1)])[1:]
    rhs = np.maximum(var - var_e * (1.0 + (D**2).mean(1)[1:]), 0.0)
    wt = 1.0 / np.maximum(var, 1e-30)
    coef, _ = optimize.nnls(X * wt[:, None], rhs * wt)
    s_r, s_a, s_m = np.sqrt(coef)
    return dict(sigma_abs=float(s_a), sigma_rel=float(s_m), sigma_ramp=float(s_r))


def fit_pulse_ramps(set_ramps, reset_ramps, margin: float = 0.05) -> RampFit:
    """Fit the mean step dG(G) and its spread per polarity from measured ramps.

    The window is the range of the ramps widened by ``margin`` of that range on each side (ramps
    of a fixed pulse count do not show the true window).  Mean law (``alpha``, ``kappa``,
    ``kappa_d``, ``gamma``, ``warmup``, ``warmup_dx`` of :class:`HfOxReRAM`) fitted by least
    squares on whole trajectories from each ramp's first read (each ramp starts after a polarity
    reversal; end points weighted ``_END_WEIGHT`` times); the read noise from the lag-1
    anti-correlation of the one-step residuals; the ramp-rate spread ``sigma_ramp`` and the step
    noise ``sigma_abs``, ``sigma_rel`` by non-negative least squares of the growth of the
    spread about the fitted paths (``_fit_ramp_noise``).  Each ramp's pulse is the
    reference pulse.

    Parameters
    ----------
    set_ramps, reset_ramps : PulseRamps
        Measured SET and RESET ramps (conductances in S).
    margin : float, default 0.05
        Widening of the window on each side, as a fraction of the ramps' range (0 to 1).

    Returns
    -------
    RampFit
    """
    check_scalar(margin, "margin", low=0.0, high=1.0)
    g_all = np.concatenate(
        [set_ramps.g[np.isfinite(set_ramps.g)], reset_ramps.g[np.isfinite(reset_ramps.g)]]
    )
    lo, hi = float(g_all.min()), float(g_all.max())
    g_min, g_max = lo - margin * (hi - lo), hi + margin * (hi - lo)
    fs, ve_s = _fit_polarity(set_ramps, g_min, g_max, +1)
    fr, ve_r = _fit_polarity(reset_ramps, g_min, g_max, -1)
    return RampFit(g_min, g_max, fs, fr, float(np.sqrt(0.5 * (ve_s + ve_r))))


def simulate_ramps(
    model, g_start, n_pulses: int, polarity: int, read_sigma: float = 0.0, random_state=None
) -> np.ndarray:
    """Simulate ramps of ``n_pulses`` reference pulses from each start conductance (S).

    Returns shape ``(n_pulses + 1, len(g_start))``; row 0 is the start.  Uses the model's
    reference pulse (amplitude ``±v_ref``, width ``t_ref``) through
    :meth:`DeviceArray.apply_pulses`; rows after the start get Gaussian measurement noise of std
    ``read_sigma`` (S) so they compare with measured reads.

    Parameters
    ----------
    model : HfOxReRAM
        The device model (one device sampled per start).
    g_start : (n,) array_like
        Start conductances, S.
    n_pulses : int
        Reference pulses per ramp.
    polarity : int
        > 0 SET, otherwise RESET.
    read_sigma : float, default 0.0
        Std of the measurement noise added to the reads after the start, S.
    random_state : None, int or Generator
        Split into the devices' stream and the measurement-noise stream.

    Returns
    -------
    (n_pulses + 1, n) ndarray
        Conductance after each pulse, S; row 0 is the start.
    """
    g_start = as_float_array(g_start, "g_start", shape=(None,))
    check_scalar(read_sigma, "read_sigma", low=0.0, unit="S")
    rs_dev, rs_read = (
        np.random.default_rng(random_state).spawn(2)
        if not isinstance(random_state, np.random.Generator)
        else random_state.spawn(2)
    )
    arr = model.sample(g_start.size, random_state=rs_dev)
    arr.set_state(g_start)
    p = "set" if polarity > 0 else "reset"
    v = getattr(model, f"{p}_v_ref") * model.set_polarity * (1 if polarity > 0 else -1)
    t = getattr(model, f"{p}_t_ref")
    out = np.empty((n_pulses + 1, g_start.size))
    out[0] = arr.G
    for k in range(n_pulses):
        arr.apply_pulses(v, t)
        out[k + 1] = arr.G
    if read_sigma > 0:
        out[1:] += read_sigma * rs_read.standard_normal(out[1:].shape)
    return out


def ks_distance(a, b) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov distance and p-value.

    Parameters
    ----------
    a, b : array_like
        The two samples (same unit).

    Returns
    -------
    distance : float
        KS statistic (largest difference of the empirical CDFs).
    pvalue : float
        Two-sided p-value.
    """
    from scipy.stats import ks_2samp

    r = ks_2samp(np.asarray(a, float), np.asarray(b, float))
    return float(r.statistic), float(r.pvalue)


# ============================================================================ relaxation
@dataclass
class RelaxationFit:
    """Relaxation per level: tables of the shift ``g(t) - gi`` in the clock, or a linear law.

    ``L(t) = log10(1 + t/t0)``.  Linear law: ``E[g(t) - gi] = W r L(t)``,
    ``Var[g(t) - gi] = W^2 s^2 L(t) + c``.  Tables (``law="tables"`` in
    :func:`fit_relaxation`): the mean and std of the unclipped shift at every fitted time point
    (``L_knots``), interpolated by PCHIP in ``L`` and continued beyond the last knot with the
    last segment's slopes, which are then ``rate`` and ``s**2``.  The fields are also the
    attributes of the same name; the arrays run over levels.

    Parameters
    ----------
    levels : ndarray of int
        The fitted levels (target ranges).
    x : ndarray
        Mean normalised programmed state gi/W per level.
    rate : ndarray
        r: mean drift per decade of L, relative to W.
    sigma : ndarray
        s: broadening per sqrt(decade) of L, relative to W.
    floor : ndarray
        c: read-noise floor of a difference of two reads, S^2.
    t0 : float
        Clock origin, s.
    window : float
        W: the conductance window, S.
    t_fit_max : float
        Latest time point used, s.
    L_knots : ndarray or None
        Clock knots of the tables (decades), one per fitted time point; None for the linear law.
    mean_table, std_table : ndarray or None
        Mean and std of the unclipped shift per (level, knot), relative to W.
    """

    levels: np.ndarray
    x: np.ndarray
    rate: np.ndarray
    sigma: np.ndarray
    floor: np.ndarray
    t0: float
    window: float
    t_fit_max: float
    L_knots: np.ndarray | None = None
    mean_table: np.ndarray | None = None
    std_table: np.ndarray | None = None

    def read_noise_rel(self) -> np.ndarray:
        """Relative read noise per level implied by the floor: sqrt(c/2) / (x W)."""
        return np.sqrt(self.floor / 2.0) / np.maximum(self.x * self.window, 1e-12)

    def to_model(self, **overrides):
        """:class:`HfOxReRAM` on ``[~0, W]`` carrying these drift and read-noise tables.

        Parameters
        ----------
        **overrides
            Further ``HfOxReRAM`` fields (in their units), applied last.

        Returns
        -------
        HfOxReRAM
        """
        from .presets import relaxation_model

        return relaxation_model(
            self.window,
            self.t0,
            self.x,
            self.rate,
            self.sigma,
            np.minimum(self.read_noise_rel(), 1.0),
            "xbar.devices.fit.fit_relaxation",
            overrides,
            tables=None
            if self.L_knots is None
            else (self.L_knots, self.mean_table, self.std_table),
        )


def _level_stats(data, levels, tps):
    """mean and var of g - gi per (level, timepoint); shapes (n_levels, n_tp)."""
    d = data.g - data.gi
    mean = np.full((levels.size, tps.size), np.nan)
    var = np.full_like(mean, np.nan)
    for a, lv in enumerate(levels):
        for b, tp in enumerate(tps):
            sel = (data.level == lv) & (data.timept == tp)
            if sel.sum() > 2:
                mean[a, b] = d[sel].mean()
                var[a, b] = d[sel].var()
    return mean, var


def fit_relaxation(
    data,
    window: float,
    t_fit_max: float | None = None,
    levels=None,
    t0_grid=None,
    law: str = "tables",
) -> RelaxationFit:
    """Fit the relaxation per level on the time points ``0 < t <= t_fit_max``.

    Linear law first: for each candidate ``t0`` (grid, s), per level, ``rate`` by least squares
    through the origin of the mean of ``g - gi`` against ``L``; ``sigma**2`` and the floor by
    non-negative least squares of the variance against ``[L, 1]``.  The ``t0`` with the
    smallest total squared error (means and standard deviations in units of W) is kept; the
    floor gives the read noise.  ``law="tables"`` (default) then keeps, per level and fitted
    time point, the mean and std of the *unclipped* shift whose clipped version (to the
    preset's window ``[1e-3 W, W]``, started at each cell's ``gi``) plus one read's noise (the
    floor's relative read noise) has the measured mean and variance of ``g - gi``
    (censored-normal moments, matched by least squares; the std made non-decreasing in time), and sets ``rate``/``sigma`` to the last
    segment's slopes (the law beyond the last time point).

    Parameters
    ----------
    data : RelaxationData
        The re-reads (``g``, ``gi`` in S, ``timept`` in s, ``level``).
    window : float
        W: the conductance window the fit is relative to, S (> 0).
    t_fit_max : float, optional
        Latest time point used, s; default the whole record.
    levels : array_like of int, optional
        Levels to fit; default every level in ``data``.
    t0_grid : array_like, optional
        Candidate clock origins, s (> 0); default 26 log-spaced values from 1e-4 to 10 s.
    law : {"tables", "linear"}
        The measured tables in the clock (default), or the linear law alone.

    Returns
    -------
    RelaxationFit
        The levels with enough data (levels with fewer than 2 usable time points are dropped).
    """
    check_scalar(window, "window", low=0.0, low_open=True, unit="S")
    if law not in ("tables", "linear"):
        raise ConfigError(f"law must be 'tables' or 'linear', got {law!r}")
    levels = np.unique(data.level) if levels is None else np.asarray(levels)
    tps = data.timepoints
    if t_fit_max is None:
        t_fit_max = float(tps.max())
    tps = tps[(tps > 0) & (tps <= t_fit_max)]
    if tps.size < 2:
        raise ConfigError(f"need at least 2 time points in (0, {t_fit_max}] s, got {tps}")
    mean, var = _level_stats(data, levels, tps)
    t0_grid = np.logspace(-4, 1, 26) if t0_grid is None else np.asarray(t0_grid, float)
    if t0_grid.ndim != 1 or t0_grid.size == 0 or not np.all(np.isfinite(t0_grid) & (t0_grid > 0)):
        raise ConfigError(
            f"t0_grid must be a non-empty 1-D array of finite times > 0 s, got {t0_grid!r}"
        )
    best: tuple | None = None
    for t0 in t0_grid:
        L = log_time(tps, t0)
        rate = np.zeros(levels.size)
        s2 = np.zeros(levels.size)
        c = np.zeros(levels.size)
        err = 0.0
        for a in range(levels.size):
            ok = np.isfinite(mean[a])
            if ok.sum() < 2:
                rate[a] = s2[a] = c[a] = np.nan
                continue
            m, v, l = mean[a, ok] / window, var[a, ok] / window**2, L[ok]
            rate[a] = np.dot(m, l) / np.dot(l, l)
            (s2[a], c[a]), _ = optimize.nnls(np.column_stack([l, np.ones_like(l)]), v)
            err += np.sum((m - rate[a] * l) ** 2) + np.sum(
                (np.sqrt(v) - np.sqrt(s2[a] * l + c[a])) ** 2
            )
        if best is None or err < best[0]:
            best = (err, t0, rate.copy(), s2.copy(), c.copy())
    assert best is not None
    _, t0, rate, s2, c = best
    x = np.array([np.mean(data.gi[data.level == lv]) for lv in levels]) / window
    ok = np.isfinite(rate)
    lin = RelaxationFit(
        levels[ok],
        x[ok],
        rate[ok],
        np.sqrt(s2[ok]),
        c[ok] * window**2,
        float(t0),
        float(window),
        float(t_fit_max),
    )
    if law == "linear":
        return lin
    return _relaxation_tables(data, lin, tps)


def _clipped_moments(gi, m, s, lo, hi):
    """Mean and variance of ``clip(gi + m + s z, lo, hi) - gi`` over the cells ``gi`` and
    ``z ~ N(0, 1)`` (censored-normal moments, closed form; all in one unit)."""
    from scipy.special import ndtr

    s = max(s, 1e-12)
    mu = gi + m
    a, b = (lo - mu) / s, (hi - mu) / s
    pa, pb = ndtr(a), ndtr(b)
    fa, fb = np.exp(-0.5 * a * a), np.exp(-0.5 * b * b)
    fa, fb = fa / np.sqrt(2 * np.pi), fb / np.sqrt(2 * np.pi)
    mid = pb - pa
    e1 = lo * pa + hi * (1 - pb) + mu * mid + s * (fa - fb)
    e2 = (
        lo * lo * pa
        + hi * hi * (1 - pb)
        + (mu * mu + s * s) * mid
        + 2 * mu * s * (fa - fb)
        + s * s * (a * fa - b * fb)
    )
    d1 = e1 - gi
    d2 = e2 - 2 * gi * e1 + gi * gi
    mean = d1.mean()
    return mean, max(d2.mean() - mean * mean, 0.0), e2.mean()


#: The law beyond the last time point continues with the slopes fitted (least squares in the
#: clock) over the knots of the last this-many decades of time (at least the last two knots).
_END_DECADES = 2.0


def _end_slopes(knots, tps, mean, var):
    """Slopes per decade of the clock of ``mean`` and ``var`` (per level, rows) over the knots
    with ``t >= t_last / 10**_END_DECADES`` (at least the last two); var's slope >= 0."""
    if knots.size == 1:
        return mean[:, 0] / knots[0], var[:, 0] / knots[0]
    use = tps >= tps[-1] / 10**_END_DECADES
    use[-2:] = True
    lk = knots[use] - knots[use].mean()
    den = np.dot(lk, lk)
    rate = (mean[:, use] @ lk) / den
    s2 = np.maximum((var[:, use] @ lk) / den, 0.0)
    return rate, s2


def _relaxation_tables(data, lin: RelaxationFit, tps) -> RelaxationFit:
    """The linear fit ``lin`` with per-level tables at the time points ``tps`` (see
    :func:`fit_relaxation`)."""
    w = lin.window
    lo, hi = 1e-3 * w, w  # the window of presets.relaxation_model
    knots = log_time(tps, lin.t0)
    n_l, n_k = lin.levels.size, tps.size
    mean = np.full((n_l, n_k), np.nan)
    std = np.full((n_l, n_k), np.nan)
    rn2 = np.minimum(lin.read_noise_rel() ** 2, 1.0)
    for a, lv in enumerate(lin.levels):
        of_level = data.level == lv
        # the read noise cannot exceed the whole spread at the first time point (the linear
        # fit's floor absorbs the law's curvature in log time)
        first = of_level & (data.timept == tps[0])
        if first.sum() > 2:
            d0 = data.g[first] - data.gi[first]
            rn2[a] = min(rn2[a], d0.var() / np.mean(data.g[first] ** 2))
    for a, lv in enumerate(lin.levels):
        of_level = data.level == lv
        for b, tp in enumerate(tps):
            sel = of_level & (data.timept == tp)
            if sel.sum() < 3:
                continue
            gi = np.clip(data.gi[sel], lo, hi)
            d = data.g[sel] - gi
            target_m, target_v = d.mean(), d.var()
            r2 = rn2[a]  # a read adds relative noise r (the level's): var + r**2 E[G**2]
            q = np.quantile(gi, np.linspace(0.0025, 0.9975, 200))
            m0 = target_m
            v0 = (target_v - r2 * np.mean((q + m0) ** 2)) / (1.0 + r2)
            s0 = np.sqrt(max(v0, 0.0))
            if v0 > 0 and np.all(q + m0 - 5 * s0 > lo) and np.all(q + m0 + 5 * s0 < hi):
                mean[a, b], std[a, b] = m0 / w, s0 / w  # no clipping: closed form
                continue

            def resid(p, q=q, tm=target_m, tv=target_v, r2=r2):
                mm, vv, e2 = _clipped_moments(q, p[0] * w, p[1] * w, lo, hi)
                return [(mm - tm) / w, (np.sqrt(vv + r2 * e2) - np.sqrt(tv)) / w]

            sol = optimize.least_squares(
                resid, [m0 / w, max(s0 / w, 1e-4)], bounds=([-1.0, 0.0], [1.0, 1.0])
            )
            mean[a, b], std[a, b] = sol.x
        # a time point without reads of this level: interpolate in the clock
        for tab in (mean[a], std[a]):
            ok = np.isfinite(tab)
            if not ok.all():
                tab[~ok] = np.interp(knots[~ok], knots[ok], tab[ok]) if ok.any() else 0.0
    std = np.maximum.accumulate(std, axis=1)
    rate, s2 = _end_slopes(knots, tps, mean, std**2)
    return RelaxationFit(
        lin.levels,
        lin.x,
        rate,
        np.sqrt(s2),
        2.0 * rn2 * (lin.x * w) ** 2,  # the floor of a difference of two reads, S**2
        lin.t0,
        w,
        lin.t_fit_max,
        knots,
        mean,
        std,
    )


# ============================================================================ read noise
def psd_slope(x, fs: float, band=(1.0, 40.0), nperseg: int = 32768) -> float:
    """Log-log slope of the Welch PSD of ``x`` over ``band`` (Hz).

    Parameters
    ----------
    x : 1-D array_like
        Evenly sampled series (any unit; its mean is removed).
    fs : float
        Sampling rate, Hz.
    band : (float, float), default (1.0, 40.0)
        Frequency range of the fit, Hz.
    nperseg : int, default 32768
        Welch segment length (at most the length of ``x``).

    Returns
    -------
    float
        Slope of log10 PSD against log10 f (-1 for 1/f noise).
    """
    x = np.asarray(x, float)
    f, p = signal.welch(x - x.mean(), fs=fs, nperseg=min(nperseg, x.size))
    sel = (f >= band[0]) & (f <= band[1]) & (p > 0)
    return float(np.polyfit(np.log10(f[sel]), np.log10(p[sel]), 1)[0])


@dataclass
class ReadNoiseFit:
    """Read noise per measured series (see :func:`fit_read_noise`).

    The fields are also the attributes of the same name; the arrays run over series.

    Parameters
    ----------
    levels : ndarray of int
        Conductance range (level) of each series.
    g_mean : ndarray
        Mean conductance, S.
    sigma_rel : ndarray
        Relative read noise, std/mean.
    slope : ndarray
        Log-log slope of the PSD over ``band``.
    band : tuple of float
        Frequency range of the slope fit, Hz.
    fs : float
        Sampling rate, Hz.

    Attributes
    ----------
    exponent : float
        ``-median(slope)``: the 1/f exponent (a property).
    """

    levels: np.ndarray
    g_mean: np.ndarray
    sigma_rel: np.ndarray
    slope: np.ndarray
    band: tuple
    fs: float

    @property
    def exponent(self) -> float:
        """The 1/f exponent, ``-median(slope)``."""
        return float(-np.median(self.slope))


def fit_read_noise(series, band=(1.0, 40.0)) -> ReadNoiseFit:
    """Relative read noise and PSD slope of each measured series (:class:`ReadNoiseSeries`).

    Parameters
    ----------
    series : ReadNoiseSeries
        The measured series (``g`` in S, ``fs`` in Hz).
    band : (float, float), default (1.0, 40.0)
        Frequency range of the PSD slope fit, Hz.

    Returns
    -------
    ReadNoiseFit
    """
    g = series.g
    mean = g.mean(axis=1)
    rel = g.std(axis=1) / mean
    slope = np.array([psd_slope(row, series.fs, band) for row in g])
    return ReadNoiseFit(np.asarray(series.levels), mean, rel, slope, tuple(band), series.fs)


# ============================================================================= switching
def fit_switching(amplitude, width, switched) -> dict:
    """Maximum-likelihood fit of ``P = Phi((ln t - ln tau0 + |V|/v0) / sigma_t)``.

    Parameters
    ----------
    amplitude : (n,) array_like
        Pulse amplitude of each trial, V (its magnitude is used).
    width : (n,) array_like
        Pulse width of each trial, s.
    switched : (n,) array_like of bool
        Outcome of each trial (both outcomes must occur).

    Returns
    -------
    dict
        ``{"tau0": s, "v0": V, "sigma_t": dimensionless, "n_iter": int}``.
    """
    u = np.abs(as_float_array(amplitude, "amplitude", shape=(None,)))
    t = as_float_array(width, "width", shape=(u.size,))
    y = np.asarray(switched, dtype=bool)
    if y.shape != u.shape:
        raise ConfigError(f"switched must have shape {u.shape}, got {y.shape}")
    if y.all() or not y.any():
        raise ConfigError("switched must contain both outcomes to identify the model")
    X = np.column_stack([np.ones_like(u), np.log(t), u])
    sgn = np.where(y, 1.0, -1.0)

    def nll(beta):
        z = X @ beta
        ll = log_ndtr(sgn * z)
        phi = np.exp(-0.5 * z * z - ll) / np.sqrt(2 * np.pi)  # pdf / cdf(s z)
        grad = -(X * (sgn * phi)[:, None]).sum(axis=0)
        return -ll.sum(), grad

    beta0 = np.array([-np.log(np.median(t)), 1.0, 1.0 / max(np.std(u), 0.05)])
    sol = optimize.minimize(
        nll, beta0, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 1000}
    )
    if not sol.success and sol.status != 2:
        raise ConvergenceError(
            f"switching fit did not converge: {sol.message}",
            sol.nit,
            float(np.linalg.norm(sol.jac)),
        )
    a, b, c = sol.x
    if b <= 0 or c <= 0:
        raise ConfigError(
            f"switching data do not follow the model (fitted 1/sigma_t = {b:g}, "
            f"1/(v0 sigma_t) = {c:g} must be > 0)"
        )
    return {
        "tau0": float(np.exp(-a / b)),
        "v0": float(b / c),
        "sigma_t": float(1.0 / b),
        "n_iter": int(sol.nit),
    }
