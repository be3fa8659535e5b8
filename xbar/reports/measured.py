"""Validation of the device models against the measured data: fits, held-out checks, a markdown
report with PNG figures, and pass/fail against stated bounds.

Used by ``validation/measured/run.py`` and ``xbar validate measured``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._deprecate import renamed_kwarg
from ..devices import fit, presets
from ..exceptions import ConfigError
from ..plot import subplots

# Goals of issue 18 (the held-out figures a reviewer would accept).
GOALS = {
    "iv_rms_set_median": 0.05,
    "iv_rms_reset_median": 0.10,
    "ramp_ks_max_SET": 0.15,
    "ramp_ks_max_RESET": 0.15,
    "ramp_spread_ratio_max": 1.25,
    "ramp_spread_ratio_min": 0.8,
    "relax_mean_err_rms_C": 0.01,
}

# Stated bounds (a check fails when the value is worse).  At the goal where the goal is met;
# where it is not (the report says why), just above the best held-out value reached, so a
# regression fails the report.
BOUNDS = {
    "iv_rms_set_median": 0.05,  # decades of log10|I|, median over cycles (goal)
    "iv_rms_set_max": 0.25,
    "iv_rms_reset_median": 0.10,  # goal
    "iv_rms_reset_max": 0.15,
    "ramp_traj_rms_rel": 0.005,  # RMS error of the mean trajectory / window
    "ramp_spread_ratio_max": 1.25,  # simulated / measured c2c spread (mean over pulses), goal
    "ramp_spread_ratio_min": 0.8,  # goal
    "ramp_ks_max_SET": 0.15,  # KS distance of end points, simulated vs held-out (2 folds), goal
    "ramp_ks_max_RESET": 0.15,  # goal
    # relaxation, held-out cells at the last time point, / gmax: RMS over the levels of the
    # mean error (the checked statistic, see validate_relaxation; C at the goal: 0.85-0.87 %
    # over seeds 0-2, floor 0.82 %), the worst level's mean error beyond 3 of its standard
    # errors, the worst level's error and std error
    "relax_mean_err_rms_B": 0.006,  # 0.52-0.53 % (seeds 0-2), floor 0.54 %
    "relax_mean_err_rms_C": 0.01,  # goal
    "relax_mean_err_excess_B": 0.005,
    "relax_mean_err_excess_C": 0.005,
    "relax_mean_err_rel_B": 0.02,  # the figure: worst level's |mean error|
    "relax_mean_err_rel_C": 0.026,
    "relax_std_err_rel": 0.045,
    # extrapolation in time (fit on the early times only), at the measured level; no goal
    "relax_extrap_rms_B": 0.008,  # 0.67-0.71 % (seeds 0-2)
    "relax_extrap_rms_C": 0.02,  # 1.76-1.82 %
    "noise_sigma_rel_err": 0.20,  # |simulated - measured| relative noise / measured
    "noise_slope_err": 0.1,  # |simulated - measured| PSD log-log slope
    "preset_rel_diff": 1e-3,  # presets vs a fresh fit
}


@dataclass
class Check:
    """One pass/fail figure of the report.

    Parameters
    ----------
    name : str
        What is checked.
    value : float
        The measured figure (in the unit its name states).
    bound : float
        Its stated bound.
    kind : {"max", "min"}, default "max"
        The value must be <= (max) or >= (min) the bound.
    goal : float or None
        The issue's goal, reported as met or not.
    """

    name: str
    value: float
    bound: float
    kind: str = "max"  # value must be <= bound ("max") or >= bound ("min")
    goal: float | None = None  # issue 18's goal, when it differs from the bound

    @property
    def ok(self) -> bool:
        return self.value <= self.bound if self.kind == "max" else self.value >= self.bound

    @property
    def goal_met(self) -> bool | None:
        if self.goal is None:
            return None
        return self.value <= self.goal if self.kind == "max" else self.value >= self.goal


@dataclass
class Report:
    """The markdown report being built: text lines, checks and the folder of its figures.

    Parameters
    ----------
    out : Path
        Report folder (``report.md`` and the PNG figures).
    lines : list of str
        Markdown lines after the checks table.
    checks : list of Check
        The pass/fail figures.
    """

    out: Path
    lines: list = field(default_factory=list)
    checks: list = field(default_factory=list)

    def add(self, text: str = "") -> None:
        """Append markdown text to the report.

        Parameters
        ----------
        text : str, default ''
            A markdown line (or block).
        """
        self.lines.append(text)

    def check(self, name, value, bound, kind="max", goal=None) -> None:
        """Record a pass/fail check against a stated bound.

        Parameters
        ----------
        name : str
            What is checked.
        value : float
            The measured figure.
        bound : float
            Its stated bound.
        kind : {"max", "min"}, default "max"
            The value must be <= (max) or >= (min) the bound.
        goal : float or None
            The issue's goal, reported as met or not.
        """
        self.checks.append(
            Check(name, float(value), float(bound), kind, None if goal is None else float(goal))
        )

    def figure(self, fig, name: str, caption: str) -> None:
        """Save a figure next to the report and link it.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
            The figure (saved at 90 dpi).
        name : str
            File name inside the report folder.
        caption : str
            Alt text / caption in the markdown.
        """
        fig.savefig(self.out / name, dpi=90, bbox_inches="tight")
        self.add(f"![{caption}]({name})\n")

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def write(self) -> Path:
        """Write ``report.md`` (the checks table first) and return its path."""
        rows = ["| check | value | bound | result | issue-18 goal |", "|---|---|---|---|---|"]
        for c in self.checks:
            rel = "<=" if c.kind == "max" else ">="
            goal = (
                ""
                if c.goal is None
                else f"{rel} {c.goal:.4g}: {'met' if c.goal_met else '**not met**'}"
            )
            rows.append(
                f"| {c.name} | {c.value:.4g} | {rel} {c.bound:.4g} | "
                f"{'pass' if c.ok else '**FAIL**'} | {goal} |"
            )
        text = "\n".join(
            [
                "# xbar device models vs measured data",
                "",
                f"Overall: **{'PASS' if self.ok else 'FAIL'}**",
                "",
            ]
            + rows
            + [""]
            + self.lines
        )
        path = self.out / "report.md"
        path.write_text(text + "\n")
        return path


def _rel_diff(a, b, scale=1e-12) -> float:
    """Largest ``|a - b| / max(|b|, scale)`` (``scale``: the size below which a value counts
    as zero, scalar or per entry)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), scale)))


def validate_iv(rep: Report, root: Path, quick: bool) -> None:
    """I-V cycles of ``tud-rram-iv-cycles``: fit per cycle, fit error, preset vs fresh fit.

    Parameters
    ----------
    rep : Report
        The report the section and checks are added to.
    root : Path
        Folder of the measured data sets (``$XBAR_DATA_DIR``).
    quick : bool
        Reduced run (fewer cycles, draws and levels).
    """
    from ..data import read_keithley_xlsx

    folder = root / "tud-rram-iv-cycles"
    S = read_keithley_xlsx(folder / "H16248L_M12_03_endurance_set.xlsx")
    R = read_keithley_xlsx(folder / "H16248L_M12_03_endurance_reset.xlsx")
    n = 10 if quick else len(S)
    fits = [fit.fit_iv_cycle(s, r) for s, r in zip(S[:n], R[:n])]
    a = {
        k: np.array([getattr(f, k) for f in fits])
        for k in (
            "rms_set",
            "rms_reset",
            "v_set",
            "v_reset",
            "r_lrs",
            "r_hrs",
            "v0_hrs",
            "v0_lrs_pos",
            "v0_lrs_neg",
            "n_set_steps",
            "n_reset_steps",
        )
    }
    rep.add(f"## I-V sweeps (`tud-rram-iv-cycles`, {n} SET + {n} RESET cycles)\n")
    rep.add(
        "Sweep model per cycle (`fit.fit_iv_cycle`): sinh branches (HRS before V_set, LRS "
        "after, limited to the 0.5 mA compliance; LRS up to the RESET current peak, then the "
        "post-RESET HRS), with switching in discrete steps: before V_set and after the RESET "
        "peak the conductance state is piecewise constant, a new level where it moves by "
        "more than 0.2 decades (`fit.switching_steps`; a multi-step filament rupture, not one "
        "abrupt RESET).  Fit error = RMS of log10|I| over the sweep, points with |V| >= "
        "50 mV.  These are per-cycle fits (each cycle's own parameters), not a held-out "
        "prediction: there is one device.\n"
    )
    rep.add("| quantity | median | mean | sd | min | max |\n|---|---|---|---|---|---|")
    for k, unit in (
        ("v_set", "V"),
        ("v_reset", "V"),
        ("r_lrs", "ohm"),
        ("r_hrs", "ohm"),
        ("v0_hrs", "V"),
        ("n_set_steps", "-"),
        ("n_reset_steps", "-"),
        ("rms_set", "dec"),
        ("rms_reset", "dec"),
    ):
        v = a[k]
        rep.add(
            f"| {k} ({unit}) | {np.median(v):.4g} | {v.mean():.4g} | {v.std():.3g} | "
            f"{v.min():.4g} | {v.max():.4g} |"
        )
    rep.add("")
    rep.check(
        "I-V RMS log10|I|, SET sweeps, median (dec)",
        np.median(a["rms_set"]),
        BOUNDS["iv_rms_set_median"],
        goal=GOALS["iv_rms_set_median"],
    )
    rep.check(
        "I-V RMS log10|I|, SET sweeps, worst cycle (dec)",
        a["rms_set"].max(),
        BOUNDS["iv_rms_set_max"],
    )
    rep.check(
        "I-V RMS log10|I|, RESET sweeps, median (dec)",
        np.median(a["rms_reset"]),
        BOUNDS["iv_rms_reset_median"],
        goal=GOALS["iv_rms_reset_median"],
    )
    rep.check(
        "I-V RMS log10|I|, RESET sweeps, worst cycle (dec)",
        a["rms_reset"].max(),
        BOUNDS["iv_rms_reset_max"],
    )
    if not quick:
        fresh = [np.median(a[k]) for k in ("r_lrs", "r_hrs", "v_set", "v_reset")]
        pre = [presets.TUD[k] for k in ("r_lrs", "r_hrs", "v_set", "v_reset")]
        rep.check(
            "preset tud_hfox vs fresh fit (max rel. diff)",
            _rel_diff(pre, fresh),
            BOUNDS["preset_rel_diff"] * 5,
        )  # presets are rounded to 4 digits
    fig, ax = subplots(1, 3, layout=None, figsize=(14, 4))
    for c in (0, n // 2, n - 1):
        f, s, r = fits[c], S[c], R[c]
        ax[0].semilogy(s.v, np.abs(s.i), ".", ms=2, label=f"cycle {f.cycle} measured")
        ax[0].semilogy(s.v, np.abs(f.model_set), "-", lw=1, label=f"cycle {f.cycle} model")
        ax[1].semilogy(r.v, np.abs(r.i), ".", ms=2)
        ax[1].semilogy(r.v, np.abs(f.model_reset), "-", lw=1)
    ax[0].set(title="SET sweeps", xlabel="V (V)", ylabel="|I| (A)")
    ax[0].legend(fontsize=6)
    ax[1].set(title="RESET sweeps", xlabel="V (V)")
    ax[2].plot(a["rms_set"], "o-", label="SET")
    ax[2].plot(a["rms_reset"], "s-", label="RESET")
    ax[2].set(title="fit error per cycle", xlabel="cycle", ylabel="RMS log10|I| (dec)")
    ax[2].legend()
    rep.figure(fig, "iv_sweeps.png", "measured vs model I-V sweeps and fit error per cycle")


def _ks_floor(folds, pol, reps, random_state, n_draws=20) -> np.ndarray:
    """KS distances a perfect model would show: pseudo held-out end points drawn from each
    fold's model (one ramp per held-out start, pooled over the folds) against the pooled
    simulated ensemble (``reps`` per start).  ``folds``: (model, starts, n, read_sigma)."""

    def ends(k, rs):
        m, g0, n, rsig = folds[k]
        return fit.simulate_ramps(
            m, np.repeat(g0, rs), n, pol, rsig, random_state=random_state + k
        )[-1]

    sim = np.concatenate([ends(k, reps) for k in range(len(folds))])
    draws = []
    for j in range(n_draws):
        pseudo = np.concatenate(
            [
                fit.simulate_ramps(
                    m, g0, n, pol, rsig, random_state=random_state + 1000 + 10 * j + k
                )[-1]
                for k, (m, g0, n, rsig) in enumerate(folds)
            ]
        )
        draws.append(fit.ks_distance(pseudo, sim)[0])
    return np.array(draws)


#: Two-fold split of the ramps (by their index in the file): fold k trains on the ramps
#: ``k, k + 2, ...`` and predicts the others from their own first reads.
RAMP_FOLDS = (0, 1)


@renamed_kwarg(seed="random_state")
def validate_ramps(rep: Report, root: Path, quick: bool, random_state: int) -> None:
    """Pulse ramps of ``crosssim-pulse-ramps``: two-fold cross-validation (even/odd ramps).

    Fold 0 fits the even ramps and predicts the odd ones, fold 1 the reverse; the held-out
    figures pool both folds (39 SET, 40 RESET held-out ramps), each ramp predicted by the fit
    that did not see it.

    Parameters
    ----------
    rep : Report
        The report the section and checks are added to.
    root : Path
        Folder of the measured data sets (``$XBAR_DATA_DIR``).
    quick : bool
        Reduced run (fewer simulated ramps per start and fewer perfect-model draws).
    random_state : int
        Seed of the simulated draws (the draws use ``random_state + k``); ``seed`` is its
        deprecated name.
    """
    from ..data import read_pulse_ramps

    folder = root / "crosssim-pulse-ramps"
    sr, rr = read_pulse_ramps(folder / "set.csv"), read_pulse_ramps(folder / "reset.csv")
    fits = [
        fit.fit_pulse_ramps(
            sr.subset(np.arange(k, sr.n_ramps, 2)), rr.subset(np.arange(k, rr.n_ramps, 2))
        )
        for k in RAMP_FOLDS
    ]
    rf = fits[0]
    w = rf.g_max - rf.g_min
    rep.add("## Pulse ramps (`crosssim-pulse-ramps`): two-fold cross-validation\n")
    rep.add(
        f"Held-out split: fold 0 fits ramps 0, 2, 4, ... ({(sr.n_ramps + 1) // 2} SET, "
        f"{(rr.n_ramps + 1) // 2} RESET) and predicts ramps 1, 3, ... ({sr.n_ramps // 2} SET, "
        f"{rr.n_ramps // 2} RESET) from their own first reads; fold 1 the reverse.  The "
        f"held-out figures pool both folds ({sr.n_ramps} SET, {rr.n_ramps} RESET ramps, each "
        "predicted by the fit that did not see it).  Pulse law: soft bounds in G with a "
        "pulse-history memory (the step depends on the displacement since the last polarity "
        "reversal, with a warm-up after each reversal), fitted on whole training trajectories "
        "(end points weighted); noise: read noise from the lag-1 anti-correlation of the steps, "
        "then a ramp-to-ramp rate factor (`sigma_ramp`) and the step noise from the growth of "
        "the spread about the fitted paths (`fit.fit_pulse_ramps`).  The preset "
        "`crosssim_ramps` (and the `HfOxReRAM` default law) is the fold-0 fit.\n"
    )
    rep.add(
        "Fitted window ["
        + ", ".join(f"{f.g_min * 1e3:.4f}" for f in fits)
        + "] / ["
        + ", ".join(f"{f.g_max * 1e3:.4f}" for f in fits)
        + "] mS (fold 0, 1); read noise "
        + ", ".join(f"{f.read_sigma * 1e6:.3g}" for f in fits)
        + " uS.\n"
    )
    rep.add(
        "| parameter | SET fold 0 | SET fold 1 | RESET fold 0 | RESET fold 1 |\n"
        "|---|---|---|---|---|"
    )
    for k in rf.set:
        rep.add(
            f"| {k} | "
            + " | ".join(f"{getattr(f, p)[k]:.5g}" for p in ("set", "reset") for f in fits)
            + " |"
        )
    rep.add("")
    keys = list(fit._RAMP_LAW) + ["sigma_abs", "sigma_rel", "sigma_ramp"]
    pre = [presets.RAMPS[p][k] for p in ("set", "reset") for k in keys]
    fresh = [getattr(rf, p)[k] for p in ("set", "reset") for k in keys]
    # flat directions of the fit (kappa, gamma near 0) compare on an absolute scale
    scale = [1e-6 if k in ("sigma_abs",) else 1e-2 for p in ("set", "reset") for k in keys]
    rep.check(
        "preset crosssim_ramps vs fresh fold-0 fit (max rel. diff)",
        _rel_diff(pre, fresh, scale),
        BOUNDS["preset_rel_diff"],
    )
    models = [f.to_model() for f in fits]
    reps = 40
    fig, axs = subplots(2, 2, layout=None, figsize=(12, 8))
    ax = axs.ravel()
    rep.add(
        "| ramps | mean-trajectory RMS error (uS) | c2c spread measured / simulated (uS) | "
        "end-point mean measured / simulated (uS) | end-point sd measured / simulated (uS) "
        "| KS distance (p), pooled | per fold | KS of a perfect model: median (90 %) |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for col, (pol, R, name) in enumerate(((1, sr, "SET"), (-1, rr, "RESET"))):
        n = int(R.lengths.min()) - 1
        meas_f, sim_f, folds = [], [], []
        for k, (f, m) in zip(RAMP_FOLDS, zip(fits, models)):
            held = R.subset(np.arange(1 - k, R.n_ramps, 2))
            sim_f.append(
                fit.simulate_ramps(
                    m,
                    np.repeat(held.g[0], reps),
                    n,
                    pol,
                    f.read_sigma,
                    random_state=random_state + 2 * col + k,
                )
            )
            meas_f.append(held.g[: n + 1])
            folds.append((m, held.g[0], n, f.read_sigma))
        meas, sim = np.hstack(meas_f), np.hstack(sim_f)
        traj = float(np.sqrt(np.mean((sim.mean(1) - meas.mean(1)) ** 2)))
        sp_m, sp_s = meas.std(1).mean(), sim.std(1).mean()
        ks, p = fit.ks_distance(sim[-1], meas[-1])
        ks_fold = [fit.ks_distance(s_[-1], m_[-1])[0] for s_, m_ in zip(sim_f, meas_f)]
        floor = _ks_floor(folds, pol, reps, random_state + 10 + col, n_draws=10 if quick else 40)
        rep.add(
            f"| {name} | {traj * 1e6:.2f} | {sp_m * 1e6:.2f} / {sp_s * 1e6:.2f} | "
            f"{meas[-1].mean() * 1e6:.1f} / {sim[-1].mean() * 1e6:.1f} | "
            f"{meas[-1].std() * 1e6:.2f} / {sim[-1].std() * 1e6:.2f} | {ks:.3f} ({p:.2g}) | "
            + " / ".join(f"{v:.3f}" for v in ks_fold)
            + f" | {np.median(floor):.3f} ({np.quantile(floor, 0.9):.3f}) |"
        )
        rep.check(
            f"{name} ramps: mean-trajectory RMS error / window",
            traj / w,
            BOUNDS["ramp_traj_rms_rel"],
        )
        rep.check(
            f"{name} ramps: c2c spread simulated/measured (upper)",
            sp_s / sp_m,
            BOUNDS["ramp_spread_ratio_max"],
            goal=GOALS["ramp_spread_ratio_max"],
        )
        rep.check(
            f"{name} ramps: c2c spread simulated/measured (lower)",
            sp_s / sp_m,
            BOUNDS["ramp_spread_ratio_min"],
            kind="min",
            goal=GOALS["ramp_spread_ratio_min"],
        )
        rep.check(
            f"{name} ramps: KS distance of end points (2 folds pooled)",
            ks,
            BOUNDS[f"ramp_ks_max_{name}"],
            goal=GOALS[f"ramp_ks_max_{name}"],
        )
        # trajectories relative to the held-out mean path, so the spread is visible
        k = np.arange(n + 1)
        ref = meas.mean(1)
        for j in range(meas.shape[1]):
            ax[col].plot(
                k,
                (meas[:, j] - ref) * 1e6,
                color="0.7",
                lw=0.4,
                label="held-out ramps" if j == 0 else None,
            )
        ax[col].fill_between(
            k,
            (sim.mean(1) - sim.std(1) - ref) * 1e6,
            (sim.mean(1) + sim.std(1) - ref) * 1e6,
            color="r",
            alpha=0.25,
            label="model ±1 sd",
        )
        ax[col].plot(k, -meas.std(1) * 1e6, "k:", lw=1.0, label="held-out ±1 sd")
        ax[col].plot(k, meas.std(1) * 1e6, "k:", lw=1.0)
        ax[col].plot(k, (sim.mean(1) - ref) * 1e6, "r--", label="model mean")
        ax[col].set(
            title=f"{name} ramps (2 folds pooled; mean path {ref[0] * 1e3:.2f} -> "
            f"{ref[-1] * 1e3:.2f} mS)",
            xlabel="pulse",
            ylabel="G - held-out mean (uS)",
        )
        ax[col].legend(fontsize=7)
        # end points relative to the held-out mean, so SET and RESET share one axis
        c = meas[-1].mean()
        ax[2].hist((meas[-1] - c) * 1e6, bins=12, alpha=0.5, density=True, label=f"{name} measured")
        ax[2].hist(
            (sim[-1] - c) * 1e6,
            bins=30,
            alpha=0.8,
            density=True,
            histtype="step",
            lw=2,
            label=f"{name} model",
        )
        for vals, style, lab in ((meas[-1], "-", "measured"), (sim[-1], "--", "model")):
            v = np.sort(vals - c) * 1e6
            ax[3].step(
                v,
                np.arange(1, v.size + 1) / v.size,
                style,
                where="post",
                color=f"C{col}",
                label=f"{name} {lab}",
            )
    ax[2].set(title="end points (held-out)", xlabel="G - measured mean (uS)", ylabel="density")
    ax[2].legend(fontsize=7)
    ax[3].set(
        title="end-point CDF (KS = largest gap)", xlabel="G - measured mean (uS)", ylabel="CDF"
    )
    ax[3].legend(fontsize=7)
    fig.tight_layout()
    rep.add("")
    rep.add(
        "A KS distance between ~40 held-out end points and the simulated ensemble fluctuates "
        "by itself: the last column gives what the fitted models score against ramps drawn "
        "from themselves with the same starts (pooled like the held-out ramps).\n"
    )
    rep.figure(fig, "pulse_ramps.png", "held-out ramps vs simulated ramps (two folds pooled)")


#: Relaxation data: (tech, file, gmax (S), latest training time (s) of the extrapolation in
#: time).  The preset as used is fitted on each whole record and checked on held-out cells
#: (:data:`_RELAX_FOLDS`); the extrapolation in time fits every cell on t <= that time only
#: and predicts the last time point (B 1e4 s, C 1e5 s).
RELAX_SPLITS = (
    ("B", "techB_relaxdata_10k.min.tsv.gz", 128e-6, 1.0),
    ("C", "techC_relaxdata.min.tsv.gz", 40e-6, 4.0),
)
_RELAX_REPS = 4  # simulated copies of each held-out cell (the prediction's Monte-Carlo noise)
_RELAX_Z = 3.0  # a level's error counts as excess beyond this many standard errors
_HIST_LEVELS = (0, 1, 2, 10, 20, 31)  # levels of the histogram figure
_RELAX_SPLIT_SEED = 0  # the two-fold split of the cells (part of the check's definition)


def _relax_predict(d, rf, t: float, random_state: int):
    """Per fitted level: ``(level, gi, g measured at t, g predicted at t)`` (S).

    Each cell of the level read at ``t`` starts at its measured first read ``gi``;
    ``_RELAX_REPS`` simulated copies are aged by ``DeviceArray.age`` for ``t`` and read once.
    """
    model = rf.to_model()
    for a, lv in enumerate(rf.levels):
        sel = (d.level == lv) & (d.timept == t)
        gi, gm = d.gi[sel], d.g[sel]
        arr = model.sample(gi.size * _RELAX_REPS, random_state=random_state + a)
        arr.set_state(np.tile(gi, _RELAX_REPS))
        arr.age(t)
        yield lv, gi, gm, arr.read()


def _relax_errors(test, rf, t: float, random_state: int, train=None):
    """Per level at ``t``: mean error (S), its standard error (S), std error (S) and the rows
    ``(lv, gi, gm, gp)``.  The sem combines the test cells' mean shift, the simulated one and,
    with ``train``, the training cells' mean shift the model carries (all of ``g - gi``)."""
    err, sem, serr, rows = [], [], [], []
    for lv, gi, gm, gp in _relax_predict(test, rf, t, random_state):
        v = np.var(gm - gi) / gm.size + np.var(gp - np.tile(gi, _RELAX_REPS)) / gp.size
        if train is not None:
            st = (train.level == lv) & (train.timept == t)
            v += np.var(train.g[st] - train.gi[st]) / max(int(st.sum()), 1)
        err.append(gp.mean() - gm.mean())
        sem.append(np.sqrt(v))
        serr.append(gp.std() - gm.std())
        rows.append((lv, gi, gm, gp))
    return np.array(err), np.array(sem), np.array(serr), rows


def _cell_folds(d):
    """Two halves of the cells (by a seeded permutation of the cell ids; the id's parity is not
    random: even and odd addresses differ systematically in these arrays)."""
    ids = np.unique(d.addr)
    half = np.random.default_rng(_RELAX_SPLIT_SEED).permutation(ids)[: ids.size // 2]
    in_a = np.isin(d.addr, half)
    return (d.select(in_a), d.select(~in_a)), (d.select(~in_a), d.select(in_a))


def _relax_hist(ax, gm, gp, gi, tech, lv, tl) -> None:
    """Histogram of measured (filled) and predicted (line) g at the held-out time, S -> uS."""
    # the central 99.6 % of both samples (a few far outliers would squeeze the histograms)
    lo = min(np.percentile(gm, 0.2), np.percentile(gp, 0.2), gi.min())
    hi = max(np.percentile(gm, 99.8), np.percentile(gp, 99.8))
    bins = np.linspace(lo, hi, 40) * 1e6
    ax.hist(gm * 1e6, bins=bins, density=True, alpha=0.5, label="measured")
    ax.hist(gp * 1e6, bins=bins, density=True, histtype="step", lw=1.5, label="model")
    ax.axvline(gi.mean() * 1e6, color="k", lw=0.8, ls=":")
    ax.set(
        title=f"tech {tech}, level {lv}: g({tl:g} s)\nmean {gm.mean() * 1e6:.2f} / "
        f"{gp.mean() * 1e6:.2f} uS (meas./model)",
        xlabel="G (uS)",
    )
    ax.title.set_fontsize(8)
    ax.legend(fontsize=6)


def relaxation_statistics(err, sem, gmax: float) -> dict:
    """Summary statistics of per-level mean errors of a relaxation prediction, relative to gmax.

    Why the RMS is the checked figure: each level's mean error is a noisy estimate (``sem``,
    the standard error of the measured mean combined with the simulated one's), and the worst of
    many levels grows with their number even for a perfect model (about 2.2 sem for 32
    levels, i.e. near 1 % of gmax for ``stanford-rram-relaxation`` C), so a bound on the worst
    level cannot sit at a 1 % goal.  The RMS over levels averages that noise (a perfect model
    scores ``floor`` = the RMS of the sems on average) and still grows with any systematic error,
    bias or level-to-level; the worst level is covered by ``excess`` (its error beyond
    ``_RELAX_Z`` sems).

    Parameters
    ----------
    err : (n,) array_like
        Predicted minus measured mean per level, S.
    sem : (n,) array_like
        Standard error of each level's error, S (> 0).
    gmax : float
        Full-scale conductance the figures are relative to, S.

    Returns
    -------
    dict
        ``n``; ``bias`` (mean signed error), ``rms``, ``floor`` (RMS of the sems),
        ``systematic`` (``sqrt(max(rms**2 - floor**2, 0))``), ``worst`` (largest |error|),
        ``worst_index``, ``worst_floor`` (about the worst |error| of a perfect model:
        ``sqrt(2 ln n)`` median sems), ``z_max`` (largest |error| / sem) and ``excess``
        (largest ``|error| - _RELAX_Z sem``, at least 0); all but the counts relative to gmax.
    """
    e = np.asarray(err, float)
    s = np.asarray(sem, float)
    if e.shape != s.shape or e.ndim != 1 or e.size == 0:
        raise ConfigError(
            f"err and sem must be 1-D arrays of one equal, non-zero length, got shapes "
            f"{e.shape} and {s.shape}"
        )
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ConfigError("err must be finite (S) and sem finite and > 0 (S)")
    rms = float(np.sqrt(np.mean(e**2)))
    floor = float(np.sqrt(np.mean(s**2)))
    k = int(np.argmax(np.abs(e)))
    return dict(
        n=int(e.size),
        bias=float(e.mean()) / gmax,
        rms=rms / gmax,
        floor=floor / gmax,
        systematic=float(np.sqrt(max(rms**2 - floor**2, 0.0))) / gmax,
        worst=float(abs(e[k])) / gmax,
        worst_index=k,
        worst_floor=float(np.sqrt(2.0 * np.log(max(e.size, 2))) * np.median(s)) / gmax,
        z_max=float(np.max(np.abs(e) / s)),
        excess=float(max(np.max(np.abs(e) - _RELAX_Z * s), 0.0)) / gmax,
    )


@renamed_kwarg(seed="random_state")
def validate_relaxation(rep: Report, root: Path, quick: bool, random_state: int) -> None:
    """Relaxation of ``stanford-rram-relaxation`` B and C: held-out cells, and extrapolation in time.

    The law the presets use is fitted on each whole record; it is checked on held-out cells
    (two folds: fit on half the cells, predict the other half at every time point, the last
    one checked at issue 18's goal), and, separately, by extrapolation in time (fit on the
    early times only, predict the last time point).

    Parameters
    ----------
    rep : Report
        The report the section and checks are added to.
    root : Path
        Folder of the measured data sets (``$XBAR_DATA_DIR``).
    quick : bool
        Reduced run (fewer cycles, draws and levels).
    random_state : int
        Seed of the simulated draws (the draws use ``random_state + k``); ``seed`` is its deprecated name.
    """
    from ..data import read_relaxation

    folder = root / "stanford-rram-relaxation"
    fig, axes = subplots(1, 2, layout=None, figsize=(12, 4))
    hfig, haxes = subplots(2, len(_HIST_LEVELS), layout=None, figsize=(20, 6))
    for col, (tech, fname, gmax, t_ext) in enumerate(RELAX_SPLITS):
        d = read_relaxation(folder / fname)
        d = d.select(d.level <= 31)
        # quick mode: every level (the checked RMS needs them: its floor is near the goal), but
        # the held-out cells are predicted at the last time point only
        levels = None
        tps = d.timepoints[d.timepoints > 0]
        tl = float(tps.max())
        t_pred = tps[-1:] if quick else tps
        folds = _cell_folds(d)
        fits = [fit.fit_relaxation(tr, gmax, None, levels=levels) for tr, _ in folds]
        rep.add(
            f"## Relaxation, technology {tech} (`stanford-rram-relaxation`, gmax "
            f"{gmax * 1e6:g} uS): whole record ({tps.min():g} s - {tl:g} s), held-out cells\n"
        )
        seen = ", ".join(f"{tp:g} s: {np.unique(d.addr[d.timept == tp]).size}" for tp in tps)
        rep.add(
            f"The law (`fit_relaxation`, the preset's law): per level and measured time, the "
            f"mean and std of the shift g - gi, PCHIP in the clock L = log10(1 + t/t0) (t0 = "
            f"{fits[0].t0:.3g} s), the std of the unclipped shift matched so that the clipped "
            f"one has the measured moments; beyond {tl:g} s the law continues with the slopes "
            f"of the last {fit._END_DECADES:g} decades (not validated there).  Held-out split: "
            f"by cell.  The {np.unique(d.addr).size} cells are split in two halves (seeded "
            f"permutation of the cell ids); the law is fitted on the whole record of one half "
            f"and predicts the other half at every time point, and the other way round; the "
            f"statistics pool both folds (2 x {len(fits[0].levels)} level errors).  Cells "
            f"re-read per time: {seen}.  Prediction: each held-out cell starts at its measured "
            f"first read, {_RELAX_REPS} simulated copies are aged by `DeviceArray.age` and read "
            "once.  'sem' combines the held-out, training and simulated mean shifts; "
            "z = error / sem.\n"
        )
        per_t = {
            tp: [_relax_errors(te, rf, tp, random_state, tr) for (tr, te), rf in zip(folds, fits)]
            for tp in t_pred
        }
        rep.add("| t (s) | RMS mean error | floor | bias | worst level |\n|---|---|---|---|---|")
        for tp in t_pred:
            e = np.concatenate([o[0] for o in per_t[tp]])
            sm = np.concatenate([o[1] for o in per_t[tp]])
            st = relaxation_statistics(e, sm, gmax)
            rep.add(
                f"| {tp:g} | {st['rms'] * 100:.2f} % | {st['floor'] * 100:.2f} % | "
                f"{st['bias'] * 100:+.2f} % | {st['worst'] * 100:.2f} % |"
            )
        rep.add("")
        (e1, s1, es1, rows1), (e2, s2, es2, _) = per_t[tl]
        rep.add(
            f"At {tl:g} s, per level (fold 1: predicted / measured of the held-out half; "
            "error of fold 2 beside):\n\n"
            "| level | n | measured mean / std (uS) | predicted mean / std (uS) | "
            "error fold 1 / fold 2 (uS) | sem (uS) | z |\n|---|---|---|---|---|---|---|"
        )
        pick = np.searchsorted(fits[0].levels, _HIST_LEVELS).clip(max=fits[0].levels.size - 1)
        hist_levels = fits[0].levels[pick]
        for a, (lv, gi, gm, gp) in enumerate(rows1):
            rep.add(
                f"| {lv} | {gi.size} | {gm.mean() * 1e6:.2f} / {gm.std() * 1e6:.2f} | "
                f"{gp.mean() * 1e6:.2f} / {gp.std() * 1e6:.2f} | {e1[a] * 1e6:+.2f} / "
                f"{e2[a] * 1e6:+.2f} | {s1[a] * 1e6:.2f} | {e1[a] / s1[a]:+.1f} |"
            )
            for k in np.flatnonzero(hist_levels == lv):
                _relax_hist(haxes[col, k], gm, gp, gi, tech, lv, tl)
        rep.add("")
        st = relaxation_statistics(np.concatenate([e1, e2]), np.concatenate([s1, s2]), gmax)
        std_err = float(np.max(np.abs(np.concatenate([es1, es2])))) / gmax
        rep.add(
            f"Held-out cells at {tl:g} s: bias {st['bias'] * 100:+.2f} % of gmax.  Checked "
            f"statistic: the RMS over the {st['n']} level errors of the mean, "
            f"{st['rms'] * 100:.2f} % of gmax; its sampling floor (what a perfect model scores "
            f"on average) {st['floor'] * 100:.2f} %, systematic part about "
            f"{st['systematic'] * 100:.2f} %.  The issue's figure, the worst level's |mean "
            f"error| / gmax, is {st['worst'] * 100:.2f} %; a perfect model's worst of "
            f"{st['n']} is itself about {st['worst_floor'] * 100:.2f} %.  Largest |error| / sem "
            f"{st['z_max']:.1f}; worst error beyond {_RELAX_Z} sem {st['excess'] * 100:.2f} %.\n"
        )
        # extrapolation in time: every cell, fitted on the early times only
        rx = fit.fit_relaxation(d, gmax, t_ext, levels=levels)
        ex, sx, _, _ = _relax_errors(d, rx, tl, random_state)
        sx_st = relaxation_statistics(ex, sx, gmax)
        rep.add(
            f"Extrapolation in time (a different question: how far the law reaches beyond "
            f"its data): the same law fitted on every cell's reads at t <= {t_ext:g} s "
            f"predicts {tl:g} s ({np.log10(tl / t_ext):.1f} decades beyond its last knot, "
            f"continued with the slopes of its last {fit._END_DECADES:g} decades): RMS "
            f"{sx_st['rms'] * 100:.2f} % of gmax (floor {sx_st['floor'] * 100:.2f} %), bias "
            f"{sx_st['bias'] * 100:+.2f} %, worst level {sx_st['worst'] * 100:.2f} %.  So "
            f"the fitted law is validated only within the measured record ({tl:g} s); a time "
            "beyond it (e.g. a study's 1 month) is an extrapolation with errors of this "
            "order.\n"
        )
        rep.check(
            f"relaxation {tech}: held-out cells, RMS over levels of mean error at {tl:g} s / gmax",
            st["rms"],
            BOUNDS[f"relax_mean_err_rms_{tech}"],
            goal=GOALS.get(f"relax_mean_err_rms_{tech}"),
        )
        rep.check(
            f"relaxation {tech}: held-out cells, worst level's |mean error| beyond "
            f"{_RELAX_Z} sem / gmax",
            st["excess"],
            BOUNDS[f"relax_mean_err_excess_{tech}"],
        )
        rep.check(
            f"relaxation {tech}: held-out cells, worst |mean error| at {tl:g} s / gmax "
            "(issue's figure)",
            st["worst"],
            BOUNDS[f"relax_mean_err_rel_{tech}"],
        )
        rep.check(
            f"relaxation {tech}: held-out cells, worst |std error| at {tl:g} s / gmax",
            std_err,
            BOUNDS["relax_std_err_rel"],
        )
        rep.check(
            f"relaxation {tech}: extrapolation in time (no goal: bound at the measured "
            f"level), fit t <= {t_ext:g} s, RMS mean error at {tl:g} s / gmax",
            sx_st["rms"],
            BOUNDS[f"relax_extrap_rms_{tech}"],
        )
        rows = np.array(
            [(gi.mean(), gm.mean(), gm.std(), gp.mean(), gp.std()) for _, gi, gm, gp in rows1]
        )
        ax = axes[col]
        ax.errorbar(
            rows[:, 0] * 1e6,
            (rows[:, 1] - rows[:, 0]) * 1e6,
            rows[:, 2] * 1e6,
            fmt="ko",
            ms=3,
            label="measured mean drift ± std (held-out half)",
        )
        ax.errorbar(
            rows[:, 0] * 1e6 + 0.3,
            (rows[:, 3] - rows[:, 0]) * 1e6,
            rows[:, 4] * 1e6,
            fmt="rs",
            ms=3,
            label="predicted (law fitted on the other half)",
        )
        ax.set(title=f"tech {tech}: g({tl:g} s) - gi", xlabel="gi (uS)", ylabel="uS")
        ax.legend(fontsize=7)
    rep.figure(fig, "relaxation.png", "predicted vs measured relaxation at the last time point")
    hfig.tight_layout()
    rep.figure(
        hfig,
        "relaxation_hist.png",
        "distributions of g at the last time point, held-out half measured vs predicted by "
        "the law fitted on the other half, per level (dotted: mean first read)",
    )


@renamed_kwarg(seed="random_state")
def validate_read_noise(rep: Report, root: Path, quick: bool, random_state: int) -> None:
    """Read noise of ``stanford-rram-relaxation`` tech A: relative noise and 1/f exponent, measured vs simulated.

    Parameters
    ----------
    rep : Report
        The report the section and checks are added to.
    root : Path
        Folder of the measured data sets (``$XBAR_DATA_DIR``).
    quick : bool
        Reduced run (fewer cycles, draws and levels).
    random_state : int
        Seed of the simulated draws (the draws use ``random_state + k``); ``seed`` is its deprecated name.
    """
    from ..data import read_read_noise
    from ..devices.hfox import DTOD_FIELDS, HfOxReRAM

    s = read_read_noise(root / "stanford-rram-relaxation" / "techA_tsdata.min.tsv.gz")
    nf = fit.fit_read_noise(s)
    gmax = 1.1 * 240e-6
    no_dtod: dict[str, Any] = dict.fromkeys(DTOD_FIELDS, 0.0)
    model = HfOxReRAM(
        g_min=1e-3 * gmax,
        g_max=gmax,
        **no_dtod,
        read_noise_x=tuple(float(v) for v in nf.g_mean / gmax),
        read_noise_rel=tuple(float(v) for v in nf.sigma_rel),
        read_noise_exponent=nf.exponent,
    )
    n = 20000 if quick else s.g.shape[1]
    arr = model.sample(nf.g_mean.size, random_state=random_state)
    arr.set_state(nf.g_mean)
    sim = arr.read_series(n, s.fs)
    rel = sim.std(axis=0) / sim.mean(axis=0)
    slopes = np.array([fit.psd_slope(sim[:, k], s.fs, nf.band) for k in range(sim.shape[1])])
    rep.add("## Read noise, technology A (`stanford-rram-relaxation`, 400 Hz series)\n")
    rep.add(
        f"Model: relative noise per level and 1/f^{nf.exponent:.3f} spectrum (median measured "
        f"exponent), series of {n} reads.\n"
    )
    rep.add(
        "| level | G (uS) | sigma/G measured / model | PSD slope measured / model |\n"
        "|---|---|---|---|"
    )
    for k in range(nf.levels.size):
        rep.add(
            f"| {nf.levels[k]} | {nf.g_mean[k] * 1e6:.1f} | {nf.sigma_rel[k]:.4f} / "
            f"{rel[k]:.4f} | {nf.slope[k]:.2f} / {slopes[k]:.2f} |"
        )
    rep.add("")
    rep.check(
        "read noise: worst relative error of sigma/G",
        np.max(np.abs(rel - nf.sigma_rel) / nf.sigma_rel),
        BOUNDS["noise_sigma_rel_err"],
    )
    rep.check(
        "read noise: |model slope - median measured slope|",
        abs(np.median(slopes) - np.median(nf.slope)),
        BOUNDS["noise_slope_err"],
    )
    fig, ax = subplots(1, 2, layout=None, figsize=(12, 4))
    from scipy import signal

    for k in range(nf.levels.size):
        f, p = signal.welch(s.g[k, :n] - s.g[k, :n].mean(), fs=s.fs, nperseg=min(32768, n) // 4)
        ax[0].loglog(f[1:], p[1:], lw=0.8, label=f"level {nf.levels[k]} measured")
        f, p = signal.welch(sim[:, k] - sim[:, k].mean(), fs=s.fs, nperseg=min(32768, n) // 4)
        ax[0].loglog(f[1:], p[1:], "--", lw=0.8)
    ax[0].set(title="PSD (solid measured, dashed model)", xlabel="f (Hz)", ylabel="S^2/Hz")
    ax[0].legend(fontsize=6)
    t = np.arange(min(n, 4000)) / s.fs
    ax[1].plot(t, s.g[2, : t.size] * 1e6, lw=0.6, label="measured level 16")
    ax[1].plot(t, sim[: t.size, 2] * 1e6, lw=0.6, label="model")
    ax[1].set(xlabel="t (s)", ylabel="G (uS)")
    ax[1].legend(fontsize=7)
    rep.figure(fig, "read_noise.png", "read-noise spectra and series")


def validate_provenance(rep: Report) -> None:
    """The table of the default model's parameters: value, fitted / estimated / assumed, source.

    Parameters
    ----------
    rep : Report
        The report the section and checks are added to.
    """
    import dataclasses
    from ..devices.hfox import HfOxReRAM

    m = HfOxReRAM()
    rep.add("## Parameters of the default `HfOxReRAM` (a fitted preset)\n")
    rep.add(
        "fitted: by `xbar.devices.fit` on the data named; estimated: from data that bear on "
        "it under the stated assumption; assumed: no data here.  Presets carry their own "
        "data set (`xbar.devices.presets`).\n"
    )
    rep.add("| parameter | value | kind | source |\n|---|---|---|---|")
    counts: dict[str, int] = {}
    for f in dataclasses.fields(m):
        if f.name == "source":
            continue
        kind, src = presets.PROVENANCE[f.name]
        counts[kind] = counts.get(kind, 0) + 1
        v = getattr(m, f.name)
        val = (
            f"{v:.5g}"
            if isinstance(v, float)
            else ("(" + ", ".join(f"{x:.3g}" for x in v) + ")" if isinstance(v, tuple) else str(v))
        )
        rep.add(f"| {f.name} | {val} | {kind} | {src} |")
    rep.add("")
    rep.add(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + ".\n")


def summarize(rep: Report) -> int:
    """Print one line per check and the report path; return the exit code (0 pass, 1 fail).

    Parameters
    ----------
    rep : Report
        A finished report.
    """
    for c in rep.checks:
        print(
            f"{'pass' if c.ok else 'FAIL'}  {c.name}: {c.value:.4g} "
            f"({'<=' if c.kind == 'max' else '>='} {c.bound:.4g})"
        )
    print(f"report: {rep.out / 'report.md'}")
    return 0 if rep.ok else 1


@renamed_kwarg(seed="random_state")
def run(out_dir, quick: bool = False, random_state: int = 0, root=None) -> Report:
    """Run every validation, write ``report.md`` and PNGs into ``out_dir``, return the report.

    Parameters
    ----------
    out_dir : str or Path
        Report folder (created).
    quick : bool, default False
        Reduced run (< 2 min).
    random_state : int, default 0
        Seed of the simulated draws; ``seed`` is its deprecated name.
    root : str, Path or None
        Folder of the measured data; default ``xbar.data.data_dir()``.
    """
    from ..data import data_dir

    root = Path(root) if root is not None else data_dir()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rep = Report(out)
    t0 = time.perf_counter()
    validate_iv(rep, root, quick)
    validate_ramps(rep, root, quick, random_state)
    validate_relaxation(rep, root, quick, random_state)
    validate_read_noise(rep, root, quick, random_state)
    validate_provenance(rep)
    rep.add(
        f"\n_{'quick' if quick else 'full'} run, seed {random_state}, "
        f"{time.perf_counter() - t0:.1f} s; bounds in xbar/reports/measured.py (BOUNDS)._"
    )
    rep.write()
    return rep
