"""``xbar sweep report DIR``: standard plots and a markdown summary of a sweep's results.

For every metric one PNG holds the metric against each axis (mean over the other axes, with
min-max band; one line per value of the smallest other axis when it has at most six values) and a
heatmap for each pair of axes (mean over the rest).  ``seed`` is averaged over, never plotted.
``REPORT.md`` lists the fixed parameters, the axes, per-metric statistics with the best point,
mean metric per axis value, and the failed points with their errors.
"""

from __future__ import annotations

import itertools
import math
import os
from typing import cast
from pathlib import Path

import numpy as np

from .._io import open_atomic, write_atomic
from .runner import load_records

_MAX_LINES = 6
_MAX_TICKS = 10  # numeric axes with at most this many values are labelled at each value


def _grid(meta: dict, records: list, metric: str) -> np.ndarray:
    """Metric values on the axis-index grid (NaN where a point is missing or failed)."""
    shape = tuple(len(a["values"]) for a in meta["axes"])
    index = [{tuple(v): k for k, v in enumerate(a["values"])} for a in meta["axes"]]
    grid = np.full(shape, np.nan)
    for rec in records:
        if rec is None or rec["status"] != "ok":
            continue
        val = rec["metrics"].get(metric)
        if not isinstance(val, (int, float)) or isinstance(val, bool):
            continue
        idx = tuple(
            ix[tuple(rec["params"][n] for n in a["names"])] for ix, a in zip(index, meta["axes"])
        )
        grid[idx] = val
    return grid


def _nanreduce(kind: str, arr: np.ndarray, axis: tuple) -> np.ndarray:
    """NaN-ignoring "mean", "min" or "max" over ``axis`` (NaN where every entry is NaN)."""
    if not axis:
        return arr
    nan = np.isnan(arr)
    if kind == "mean":
        out = np.where(nan, 0.0, arr).sum(axis=axis) / np.maximum((~nan).sum(axis=axis), 1)
    elif kind == "min":
        out = np.where(nan, np.inf, arr).min(axis=axis)
    else:
        out = np.where(nan, -np.inf, arr).max(axis=axis)
    return np.where(nan.all(axis=axis), np.nan, out)


def _positions(values: list) -> tuple[np.ndarray, list[str], bool]:
    """x positions, tick labels and whether a log axis suits the values."""
    first = [v[0] for v in values]
    labels = [_fmt_values(v) for v in values]
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in first):
        x = np.array(first, dtype=float)
        log = len(x) >= 3 and x.min() > 0 and x.max() / x.min() >= 10
        return x, labels, log
    return np.arange(len(values), dtype=float), labels, False


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _fmt_values(v) -> str:
    """Tick label of one axis position: zipped values joined by '/', repeats shown once."""
    return "/".join(dict.fromkeys(_fmt(x) for x in v))


def _log_scale(arr: np.ndarray) -> bool:
    fin = arr[np.isfinite(arr)]
    return fin.size > 1 and fin.min() > 0 and fin.max() / fin.min() >= 100


def _readable_log(axis, values: np.ndarray | None = None) -> None:
    """Label an axis so it can be read: at the sweep's own values (x axes, log or linear) or, for
    log data axes, at 1-2-5 steps (or decades when the data span more than three), in plain
    numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    fmt = FuncFormatter(lambda v, _pos: f"{v:.3g}")
    if values is not None:
        axis.set_ticks(values, [f"{v:.3g}" for v in values])
        axis.set_minor_locator(NullLocator())
        return
    axis.axes.autoscale_view()
    lo, hi = sorted(axis.get_view_interval())
    decades = np.log10(max(hi, 1e-300) / max(lo, 1e-300)) if lo > 0 else np.inf
    axis.set_major_locator(LogLocator(base=10.0, subs=(1.0,) if decades > 3 else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(NullFormatter())


def _plot_metric(meta: dict, grid: np.ndarray, metric: str, path: Path) -> None:
    fig = metric_figure(meta, grid, metric)
    with open_atomic(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)


def metric_figure(meta: dict, grid: np.ndarray, metric: str):
    """The report's ``matplotlib.figure.Figure`` of one metric (no pyplot, no global backend).

    Parameters
    ----------
    meta : dict
        The sweep description (``DIR/sweep.json``: axes, name, metric docs).
    grid : ndarray
        The metric on the grid of the axes (NaN where not run).
    metric : str
        The metric's name.
    """
    from matplotlib.figure import Figure

    axes = meta["axes"]
    shown = [k for k, a in enumerate(axes) if a["names"] != ["seed"] and len(a["values"]) > 1]
    pairs = list(itertools.combinations(shown, 2))
    ncols = max(len(shown), len(pairs), 1)
    nrows = 2 if pairs else 1
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows), layout="constrained")
    doc = meta.get("metric_docs", {}).get(metric, "")
    fig.suptitle(f"{meta['name']}: {metric}" + (f"\n{doc}" if doc else ""), fontsize=9)
    every = tuple(range(grid.ndim))
    ylog = _log_scale(grid)
    if not shown:
        ax = fig.add_subplot(nrows, ncols, 1)
        ax.text(
            0.5,
            0.5,
            f"{metric} = {np.nanmean(grid):.4g} (no axis with >1 value)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
    for col, k in enumerate(shown):
        ax = fig.add_subplot(nrows, ncols, col + 1)
        x, labels, xlog = _positions(axes[k]["values"])
        others = [o for o in shown if o != k and len(axes[o]["values"]) <= _MAX_LINES]
        if others:
            o = min(others, key=lambda j: len(axes[j]["values"]))
            rest = tuple(i for i in every if i not in (k, o))
            mean = _nanreduce("mean", grid, rest)  # dims (k, o) in ascending order
            mean = mean if k < o else mean.T
            for j, val in enumerate(axes[o]["values"]):
                ax.plot(x, mean[:, j], "o-", ms=3, label=f"{axes[o]['names'][0]}={_fmt(val[0])}")
            ax.legend(fontsize=7)
        else:
            rest = tuple(i for i in every if i != k)
            mean = _nanreduce("mean", grid, rest)
            ax.plot(x, mean, "o-", ms=3, label="mean")
            if rest:
                ax.fill_between(
                    x,
                    _nanreduce("min", grid, rest),
                    _nanreduce("max", grid, rest),
                    alpha=0.2,
                    label="min-max",
                )
                ax.legend(fontsize=7)
        unit = meta.get("units", {}).get(axes[k]["names"][0], "")
        ax.set_xlabel(" / ".join(axes[k]["names"]) + (f" ({unit})" if unit else ""))
        ax.set_ylabel(metric)
        if xlog:
            ax.set_xscale("log")
        numeric = np.issubdtype(np.asarray([v[0] for v in axes[k]["values"]]).dtype, np.number)
        if numeric and len(x) <= _MAX_TICKS:
            _readable_log(ax.xaxis, x)  # ticks at the swept values, plain numbers
        elif not numeric:
            ax.set_xticks(x, labels)
        if ylog:
            ax.set_yscale("log")
            _readable_log(ax.yaxis)
        ax.grid(alpha=0.3, which="both")
    for col, (k, l) in enumerate(pairs):
        ax = fig.add_subplot(nrows, ncols, ncols + col + 1)
        rest = tuple(i for i in every if i not in (k, l))
        heat = _nanreduce("mean", grid, rest)  # (k, l)
        norm = None
        if _log_scale(heat):
            from matplotlib.colors import LogNorm

            norm = LogNorm()
        im = ax.imshow(heat, origin="lower", aspect="auto", cmap="viridis", norm=norm)
        ax.set_yticks(range(heat.shape[0]), [_fmt_values(v) for v in axes[k]["values"]])
        ax.set_xticks(
            range(heat.shape[1]),
            [_fmt_values(v) for v in axes[l]["values"]],
            rotation=45 if heat.shape[1] > 5 else 0,
        )
        ax.set_ylabel(" / ".join(axes[k]["names"]))
        ax.set_xlabel(" / ".join(axes[l]["names"]))
        if heat.size <= 64:
            for (i, j), v in np.ndenumerate(heat):
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2g}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="k" if cast(float, im.norm(v)) > 0.6 else "w",
                    )
        cbar = fig.colorbar(im, ax=ax, label=metric)
        if norm is not None:
            _readable_log(cbar.ax.yaxis)
    return fig


def report(out: "str | os.PathLike", *, metrics: list[str] | None = None) -> Path:
    """Write ``DIR/report/REPORT.md`` and one PNG per metric; return the markdown path.

    Parameters
    ----------
    out : path
        A sweep output directory (written by :func:`xbar.sweep.run`).
    metrics : list of str or None
        Metrics to report (default: the spec's).
    """
    meta, records = load_records(out)
    metrics = list(metrics or meta["metrics"])
    rdir = Path(out) / "report"
    rdir.mkdir(exist_ok=True)
    ok = [r for r in records if r and r["status"] == "ok"]
    failed = [r for r in records if r and r["status"] == "failed"]
    missing = sum(r is None for r in records)
    axis_names = [n for a in meta["axes"] for n in a["names"]]
    units = meta.get("units", {})
    walls = [r["wall_time_s"] for r in ok + failed if r.get("wall_time_s") is not None]

    md = [f"# Sweep report: {meta['name']}", ""]
    if meta.get("description"):
        md += [meta["description"], ""]
    md += [
        f"Task `{meta['task']}` (version {meta['task_version']}), xbar {meta['xbar_version']}.",
        "",
        f"- points: {len(records)} — {len(ok)} ok, {len(failed)} failed, {missing} not run yet",
        f"- compute time: {sum(walls):.1f} s in total, {np.mean(walls) if walls else math.nan:.3g} s "
        "per point (sum of per-point wall times)",
        "",
    ]
    md += ["## Parameters", "", "| parameter | value | unit |", "|---|---|---|"]
    for name, val in meta["base"].items():
        if name not in axis_names:
            md.append(f"| {name} | {_fmt(val)} | {units.get(name, '')} |")
    md += [
        "",
        "Axes (Cartesian product; zipped parameters share a row):",
        "",
        "| axis | values | unit |",
        "|---|---|---|",
    ]
    for a in meta["axes"]:
        vals = ", ".join(
            "(" + ", ".join(_fmt(x) for x in v) + ")" if len(v) > 1 else _fmt(v[0])
            for v in a["values"]
        )
        md.append(f"| {' / '.join(a['names'])} | {vals} | {units.get(a['names'][0], '')} |")

    md += [
        "",
        "## Metrics",
        "",
        "| metric | min | median | max | point of the min | description |",
        "|---|---|---|---|---|---|",
    ]
    grids = {}
    for m in metrics:
        grid = grids[m] = _grid(meta, records, m)
        fin = grid[np.isfinite(grid)]
        if fin.size:
            best = np.unravel_index(
                np.nanargmin(np.where(np.isfinite(grid), grid, np.inf)), grid.shape
            )
            where = ", ".join(
                f"{'/'.join(a['names'])}={_fmt(a['values'][i][0])}"
                for a, i in zip(meta["axes"], best)
            )
            stats = f"{fin.min():.4g} | {np.median(fin):.4g} | {fin.max():.4g} | {where}"
        else:
            stats = "– | – | – | –"
        timing = " (wall clock, machine dependent)" if m in meta.get("timing_metrics", []) else ""
        doc = meta.get("metric_docs", {}).get(m, "").replace("|", "\\|")
        md.append(f"| {m} | {stats} | {doc}{timing} |")

    md += ["", "## Plots", ""]
    for m in metrics:
        _plot_metric(meta, grids[m], m, rdir / f"{m}.png")
        md += [f"![{m}]({m}.png)", ""]

    md += ["## Mean of each metric by axis value", ""]
    for k, a in enumerate(meta["axes"]):
        md += [
            f"| {' / '.join(a['names'])} | " + " | ".join(metrics) + " |",
            "|---" * (len(metrics) + 1) + "|",
        ]
        for i, v in enumerate(a["values"]):
            cells = []
            for m in metrics:
                sub = np.take(grids[m], i, axis=k)
                cells.append(f"{np.nanmean(sub):.4g}" if np.isfinite(sub).any() else "–")
            md.append(f"| {_fmt_values(v)} | " + " | ".join(cells) + " |")
        md.append("")

    if failed:
        md += [f"## Failed points ({len(failed)})", "", "| hash | point | error |", "|---|---|---|"]
        for r in failed[:50]:
            coords = ", ".join(f"{n}={_fmt(r['params'][n])}" for n in axis_names)
            err = r["error"] or {}
            msg = f"{err.get('type', '?')}: {err.get('message', '')}".replace("|", "\\|").replace(
                "\n", " "
            )
            md.append(f"| `{r['hash']}` | {coords} | {msg[:200]} |")
        if len(failed) > 50:
            md.append(f"| … | {len(failed) - 50} more | |")
        md.append("")
    path = rdir / "REPORT.md"
    write_atomic(path, "\n".join(md) + "\n")
    return path
