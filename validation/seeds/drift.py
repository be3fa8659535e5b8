"""Stability: the drift law of the device model fitted and validated on the longest measured
relaxation data (``stanford-rram-relaxation``), and how far the "1 month" of study 1 reaches.

    XBAR_DATA_DIR=/path/to/data PYTHONPATH=. python validation/seeds/drift.py [--quick] [--out DIR]

The device model's relaxation (``xbar.devices._common``, ``age``) is a random walk in the clock
``L(t) = log10(1 + t/t0)``: a cell programmed at normalised state x moves on average by
``W·rate(x)·L(t)`` with variance ``W²·sigma(x)²·L(t)`` (W the window). Here, per technology and per
bin of the initial state ``x = gi/gmax``, ``rate`` and ``sigma`` are fitted (least squares through
the origin in L) to the per-cell change ``u = (g − gi)/gmax`` at the short time points only, then
used to predict the longest measured time point:

- tech C: fitted on t <= 4 s, predicted at 1e5 s: 4.4 decades, the same reach as extrapolating a
  fit to <= 100 s to 1 month (2.6e6 s);
- tech B: fitted on t <= 100 s (the range the preset's tables were fitted on), predicted at 1e3
  and 1e4 s.

Uncertainty: bootstrap over cells (``n_boot`` resamples of each (bin, time point)). Then the fit
on every time point of tech C (to 1e5 s) extrapolates to 1 month: 1.4 decades beyond the data,
reported with its bootstrap interval and the error the 4.4-decade validation measured. The
preset's own tables (``HfOxReRAM()``) are checked against tech B beyond their fitting range.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))

from common import Progress, plt, save_figure, table  # noqa: E402
from xbar._random import check_random_state  # noqa: E402

MONTH = 30 * 86400.0
TECHS = {
    "B": ("techB_relaxdata_10k.min.tsv.gz", 128e-6, 100.0),
    "C": ("techC_relaxdata.min.tsv.gz", 40e-6, 4.0),
}
"""tech -> (file, full-scale conductance gmax (S, tech*_settings.json), longest fitted time (s))."""


def _clock(t, t0):
    return np.log10(1.0 + np.asarray(t, float) / t0)


def _bins(n_bins: int):
    return np.linspace(0.0, 1.0, n_bins + 1)


def load(tech: str, max_rows: int | None = None):
    """Per-row (x = gi/gmax, u = (g − gi)/gmax, nominal time) of one technology."""
    from xbar.data import data_dir
    from xbar.data.measured import read_relaxation

    fname, gmax, _ = TECHS[tech]
    d = read_relaxation(data_dir() / "stanford-rram-relaxation" / fname)
    keep = d.timept > 0
    if tech == "B":
        keep &= d.addr % 2 == 0  # upstream keeps only even addresses of the 2T2R tech B
    x, u, tp = d.gi[keep] / gmax, (d.g[keep] - d.gi[keep]) / gmax, d.timept[keep]
    if max_rows is not None and len(x) > max_rows:
        sel = np.random.default_rng(0).choice(len(x), max_rows, replace=False)
        x, u, tp = x[sel], u[sel], tp[sel]
    return x, u, tp


def fit_law(x, u, tp, t_max: float, t0: float, n_bins: int):
    """rate and sigma per x bin from the time points <= t_max (least squares through the origin:
    mean(u) = rate·L, var(u) = sigma²·L)."""
    edges = _bins(n_bins)
    rate, sig = np.full(n_bins, np.nan), np.full(n_bins, np.nan)
    for b in range(n_bins):
        inb = (x >= edges[b]) & (x < edges[b + 1]) & (tp <= t_max)
        tps = np.unique(tp[inb])
        if len(tps) < 2:
            continue
        L = _clock(tps, t0)
        m = np.array([u[inb & (tp == t)].mean() for t in tps])
        v = np.array([u[inb & (tp == t)].var() for t in tps])
        rate[b] = float(L @ m / (L @ L))
        sig[b] = float(np.sqrt(max(L @ v / (L @ L), 0.0)))
    return rate, sig


def measured_at(x, u, tp, t: float, n_bins: int):
    """Measured mean and std of u per x bin at nominal time t (and counts)."""
    edges = _bins(n_bins)
    m, s, n = (np.full(n_bins, np.nan) for _ in range(3))
    for b in range(n_bins):
        sel = (x >= edges[b]) & (x < edges[b + 1]) & (tp == t)
        if sel.sum() >= 5:
            m[b], s[b], n[b] = u[sel].mean(), u[sel].std(), sel.sum()
    return m, s, n


def _bootstrap(x, u, tp, fn, n_boot: int, random_state):
    rng = check_random_state(random_state)
    """``fn`` evaluated on ``n_boot`` resamples (rows resampled within each time point)."""
    out = []
    groups = [np.flatnonzero(tp == t) for t in np.unique(tp)]
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        out.append(fn(x[idx], u[idx], tp[idx]))
    return out


def validate(
    tech: str, *, t0: float, n_bins: int, n_boot: int, max_rows, random_state=None
) -> dict:
    """Fit on t <= the tech's short range, predict every longer measured time point."""
    x, u, tp = load(tech, max_rows)
    t_fit = TECHS[tech][2]
    rate, sig = fit_law(x, u, tp, t_fit, t0, n_bins)
    boots = _bootstrap(
        x, u, tp, lambda a, b, c: fit_law(a, b, c, t_fit, t0, n_bins), n_boot, random_state
    )
    R = np.array([b[0] for b in boots])
    S = np.array([b[1] for b in boots])
    out = {
        "tech": tech,
        "t_fit_max": t_fit,
        "rate": rate.tolist(),
        "sigma": sig.tolist(),
        "predictions": [],
    }
    for t in [t for t in np.unique(tp) if t > t_fit]:
        L = _clock(t, t0)
        mm, ms, n = measured_at(x, u, tp, t, n_bins)
        pm_, ps_ = rate * L, sig * np.sqrt(L)
        lo_m, hi_m = np.nanpercentile(R * L, [2.5, 97.5], axis=0)
        lo_s, hi_s = np.nanpercentile(S * np.sqrt(L), [2.5, 97.5], axis=0)
        ok = np.isfinite(mm) & np.isfinite(pm_)
        out["predictions"].append(
            {
                "t": float(t),
                "decades_beyond_fit": float(np.log10(t / t_fit)),
                "measured_mean": mm.tolist(),
                "measured_std": ms.tolist(),
                "n": n.tolist(),
                "pred_mean": pm_.tolist(),
                "pred_std": ps_.tolist(),
                "pred_mean_ci": [lo_m.tolist(), hi_m.tolist()],
                "pred_std_ci": [lo_s.tolist(), hi_s.tolist()],
                "rms_mean_error": float(np.sqrt(np.mean((pm_[ok] - mm[ok]) ** 2))),
                "rms_std_error": float(np.sqrt(np.mean((ps_[ok] - ms[ok]) ** 2))),
                "rms_measured_std": float(np.sqrt(np.mean(ms[ok] ** 2))),
                "std_ratio_median": float(np.median(ps_[ok] / ms[ok])),
                "mean_in_ci": float(np.mean((mm[ok] >= lo_m[ok]) & (mm[ok] <= hi_m[ok]))),
            }
        )
    return out


def month_extrapolation(
    *, t0: float, n_bins: int, n_boot: int, max_rows, random_state=None
) -> dict:
    """Fit tech C on every time point (to 1e5 s) and extrapolate to 1 month."""
    x, u, tp = load("C", max_rows)
    t_last = float(np.max(tp))
    rate, sig = fit_law(x, u, tp, t_last, t0, n_bins)
    boots = _bootstrap(
        x, u, tp, lambda a, b, c: fit_law(a, b, c, t_last, t0, n_bins), n_boot, random_state
    )
    L = _clock(MONTH, t0)
    R = np.array([b[0] for b in boots]) * L
    S = np.array([b[1] for b in boots]) * np.sqrt(L)
    return {
        "t_last": t_last,
        "decades_beyond": float(np.log10(MONTH / t_last)),
        "clock_ratio": float(L / _clock(t_last, t0)),
        "mean": (rate * L).tolist(),
        "std": (sig * np.sqrt(L)).tolist(),
        "mean_ci": np.nanpercentile(R, [2.5, 97.5], axis=0).tolist(),
        "std_ci": np.nanpercentile(S, [2.5, 97.5], axis=0).tolist(),
    }


def preset_check(n_bins: int, max_rows) -> dict:
    """The preset's tables (HfOxReRAM(), fitted on tech B <= 100 s) against tech B at every time
    point beyond 100 s (window W = gmax of tech B: u is in window units)."""
    from xbar.devices import HfOxReRAM
    from xbar.devices._common import interp_knots

    m = HfOxReRAM()
    x, u, tp = load("B", max_rows)
    centres = 0.5 * (_bins(n_bins)[1:] + _bins(n_bins)[:-1])
    rate = interp_knots(centres, m.drift_x, m.drift_rate)
    sig = interp_knots(centres, m.drift_x, m.drift_sigma)
    out = []
    for t in [t for t in np.unique(tp) if t > 100.0]:
        L = _clock(t, m.drift_t0)
        mm, ms, _ = measured_at(x, u, tp, t, n_bins)
        ok = np.isfinite(mm)
        out.append(
            {
                "t": float(t),
                "rms_mean_error": float(np.sqrt(np.mean((rate[ok] * L - mm[ok]) ** 2))),
                "rms_std_error": float(np.sqrt(np.mean((sig[ok] * np.sqrt(L) - ms[ok]) ** 2))),
                "rms_measured_std": float(np.sqrt(np.mean(ms[ok] ** 2))),
                "std_ratio_median": float(np.median(sig[ok] * np.sqrt(L) / ms[ok])),
            }
        )
    return {"drift_t0": m.drift_t0, "checks": out}


def run(quick: bool, out: Path, progress: Progress) -> dict:
    from xbar.devices import HfOxReRAM

    t0 = HfOxReRAM().drift_t0
    n_bins, n_boot = (4, 20) if quick else (8, 200)
    max_rows = 8000 if quick else None
    rng = np.random.default_rng(0)
    res = {"quick": quick, "t0": t0, "n_bins": n_bins, "n_boot": n_boot, "validation": {}}
    for tech in TECHS:
        res["validation"][tech] = validate(
            tech, t0=t0, n_bins=n_bins, n_boot=n_boot, max_rows=max_rows, random_state=rng
        )
        progress(f"tech {tech}: fitted on t <= {TECHS[tech][2]:g} s")
    res["month"] = month_extrapolation(
        t0=t0, n_bins=n_bins, n_boot=n_boot, max_rows=max_rows, random_state=rng
    )
    res["preset"] = preset_check(n_bins, max_rows)
    _plot(res, out)
    return res


def _plot(res, out: Path) -> None:
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(5.5, 3.8))
    n = res["n_bins"]
    centres = 0.5 * (_bins(n)[1:] + _bins(n)[:-1])
    for tech, v in res["validation"].items():
        p = v["predictions"][-1]
        ax.plot(
            centres,
            np.array(p["measured_std"]) * 100,
            "o",
            label=f"tech {tech} measured {p['t']:.0e} s",
        )
        ax.plot(
            centres,
            np.array(p["pred_std"]) * 100,
            "-",
            label=f"tech {tech} predicted (fit <= {v['t_fit_max']:g} s)",
        )
        lo, hi = (np.array(c) * 100 for c in p["pred_std_ci"])
        ax.fill_between(centres, lo, hi, alpha=0.2)
    ax.plot(centres, np.array(res["month"]["std"]) * 100, "k--", label="tech C fit, 1 month")
    save_figure(
        fig,
        ax,
        out / "drift_validation.png",
        "initial state gi / gmax",
        "spread of g − gi (% of gmax)",
    )


def report(res) -> str:
    L = ["## Stability: drift fitted and validated on the longest measured relaxation", ""]
    L.append(
        f"Law of the device model: mean shift W·rate(x)·L(t), variance W²·sigma(x)²·L(t), "
        f"L = log10(1 + t/t0), t0 = {res['t0']:g} s (the preset's); {res['n_bins']} bins of "
        f"the initial state; 95 % intervals from {res['n_boot']} bootstrap resamples."
    )
    L.append("")
    rows = []
    for tech, v in res["validation"].items():
        for p in v["predictions"]:
            rows.append(
                [
                    tech,
                    f"<= {v['t_fit_max']:g} s",
                    f"{p['t']:.0e} s",
                    f"{p['decades_beyond_fit']:.1f}",
                    f"{100 * p['rms_mean_error']:.2f}",
                    f"{100 * p['rms_std_error']:.2f}",
                    f"{100 * p['rms_measured_std']:.2f}",
                    f"{p['std_ratio_median']:.2f}",
                    f"{100 * p['mean_in_ci']:.0f} %",
                ]
            )
    L.append(
        table(
            [
                "tech",
                "fitted on",
                "predicted at",
                "decades beyond the fit",
                "RMS error of the mean shift (% gmax)",
                "RMS error of the spread (% gmax)",
                "measured spread, RMS (% gmax)",
                "predicted / measured spread (median)",
                "bins whose measured mean is in the 95 % band",
            ],
            rows,
        )
    )
    L.append("")
    mo = res["month"]
    L.append(
        f"1 month from the tech C fit on every time point (to {mo['t_last']:.0e} s): "
        f"**{mo['decades_beyond']:.1f} decades** beyond the data (the clock L grows "
        f"{mo['clock_ratio']:.2f}x). Predicted spread at 1 month per bin (% gmax): "
        + ", ".join(
            f"{100 * s:.2f} [{100 * lo:.2f}, {100 * hi:.2f}]"
            for s, lo, hi in zip(mo["std"], *mo["std_ci"])
        )
        + ". A fit to <= 100 s (study 1's preset) reaches 1 month over 4.4 decades; the "
        "tech C row above measures what such a reach costs."
    )
    L.append("")
    rows = [
        [
            f"{c['t']:.0e} s",
            f"{100 * c['rms_mean_error']:.2f}",
            f"{100 * c['rms_std_error']:.2f}",
            f"{100 * c['rms_measured_std']:.2f}",
            f"{c['std_ratio_median']:.2f}",
        ]
        for c in res["preset"]["checks"]
    ]
    L.append(
        "The preset's own tables (`HfOxReRAM()`, fitted on tech B <= 100 s) against tech B "
        "beyond their range:"
    )
    L.append("")
    L.append(
        table(
            [
                "t",
                "RMS error of the mean (% gmax)",
                "RMS error of the spread (% gmax)",
                "measured spread (% gmax)",
                "predicted / measured spread",
            ],
            rows,
        )
    )
    L.append("")
    L.append("![drift validation](drift_validation.png)")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or HERE / "results" / f"drift{'-quick' if args.quick else ''}"
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(True)
    t = time.monotonic()
    res = run(args.quick, out, progress)
    res["wall_s"] = time.monotonic() - t
    (out / "results.json").write_text(json.dumps(res, indent=1))
    (out / "report.md").write_text(
        f"# xbar seed study: drift\n\nCommand: `python "
        f"validation/seeds/drift.py{' --quick' if args.quick else ''}`"
        f"; wall time {res['wall_s']:.0f} s.\n\n" + report(res) + "\n"
    )
    progress(f"report written to {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
