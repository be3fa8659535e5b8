"""Plots of circuit and training results: cell voltages, IR drop, write-disturb margins,
accuracy per epoch, energy by category, conductance histograms, pulse schedules.

Every function draws on the ``ax`` it is given or on a new ``matplotlib.figure.Figure`` (not
pyplot: the global backend and pyplot's figure list are left alone, so the functions work in
scripts, servers and notebooks alike; show a new figure with ``ax.figure`` in a notebook or save
it with ``ax.figure.savefig(path)``).  They return the ``Axes``.  The numbers behind a plot are
available on their own (:func:`ir_drop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from .exceptions import ConfigError

__all__ = [
    "voltage_map",
    "ir_drop",
    "ir_drop_map",
    "disturb_margin_plot",
    "subplots",
    "accuracy_plot",
    "energy_by_category_plot",
    "conductance_histograms",
    "pulse_schedule_plot",
]


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] = (5.0, 3.5),
    squeeze: bool = True,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
):
    """A new ``matplotlib.figure.Figure`` and its grid of Axes, without pyplot.

    Like ``matplotlib.pyplot.subplots`` but the global backend and pyplot's list of open figures
    are left alone (nothing to close; the figure is freed with its last reference).

    Parameters
    ----------
    nrows, ncols : int
        Rows and columns of the grid of Axes.
    figsize : (float, float), default (5.0, 3.5)
        Width and height in inches.
    squeeze : bool, default True
        As in pyplot: a single Axes is returned as it is, one row or column as a 1-D array;
        False always gives a 2-D array.
    layout : str or None, default "constrained"
        The figure's layout engine (``None`` for none).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, squeeze=squeeze)


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    return subplots(figsize=figsize)[1]


def _solution(result):
    sol = getattr(result, "solution", result)
    if not hasattr(sol, "cell_voltages") or not hasattr(sol, "row_voltages"):
        raise ConfigError(
            f"result must be a CircuitSolution or a PulseResult, got {type(result).__name__}"
        )
    if np.ndim(sol.cell_voltages) != 2:
        raise ConfigError(
            "needs a single (unbatched) solution, got cell voltages of shape "
            f"{np.shape(sol.cell_voltages)}: pick one, e.g. xb.solve(v[k], ...)"
        )
    return sol


def _finish_map(ax, im, result, label: str, title: str | None):
    """Colour bar, selected cells outlined, axis labels and title of a cell map."""
    ax.figure.colorbar(im, ax=ax, label=label)
    sel = getattr(result, "selected", None)
    if sel is not None:
        ii, jj = np.nonzero(sel)
        ax.scatter(
            jj, ii, s=12, facecolors="none", edgecolors="k", linewidths=0.8, label="selected"
        )
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("bit line j")
    ax.set_ylabel("word line i")
    if title:
        ax.set_title(title)
    return ax


def voltage_map(result, ax=None, *, title: str | None = None):
    """Image of the voltage across every cell (V), selected cells outlined.

    ``result`` is a ``CircuitSolution`` or a ``PulseResult`` (from ``Crossbar.apply_pulse``).
    For 1T1R cells the voltage is the memristor's (without the access transistor).
    Returns the matplotlib ``Axes``.

    Parameters
    ----------
    result : CircuitSolution or PulseResult
        One (unbatched) solve, e.g. ``xb.solve(v)`` or ``xb.apply_pulse(...)``.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    title : str or None
        Axes title.
    """
    sol = _solution(result)
    v = np.asarray(sol.cell_voltages)
    ax = _new_axes(ax, (5, 4))
    lim = np.nanmax(np.abs(v)) or 1.0
    im = ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="upper", aspect="auto")
    return _finish_map(ax, im, result, "cell voltage (V)", title)


def ir_drop(result, *, relative: bool = True) -> np.ndarray:
    """Voltage lost before each cell, ``(V_row[i] - V_col[j]) - V_cell[i, j]`` (M, N).

    The ideal cell voltage is the difference of the terminal source voltages (what the cell would
    see with ideal wires, drivers and sense amplifiers); the loss is what the word- and bit-line
    segments, driver and sense resistances and, for 1T1R cells, the access transistor take.

    Parameters
    ----------
    result : CircuitSolution or PulseResult
        One (unbatched) solve.
    relative : bool
        True: the loss as a fraction of the ideal cell voltage (NaN where that is 0 or a line
        floats); False: in V (NaN where a line floats).

    Returns
    -------
    (M, N) ndarray
        Fraction (dimensionless) or voltage (V).
    """
    sol = _solution(result)
    ideal = np.asarray(sol.row_voltages)[:, None] - np.asarray(sol.col_voltages)[None, :]
    lost = ideal - np.asarray(sol.cell_voltages)
    if not relative:
        return lost
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ideal != 0, lost / np.where(ideal != 0, ideal, 1.0), np.nan)


def ir_drop_map(result, ax=None, *, relative: bool = True, title: str | None = None):
    """Image of the IR drop before every cell (:func:`ir_drop`): in % of the ideal cell voltage
    (``relative``) or in V.  Selected cells of a ``PulseResult`` are outlined.  Returns the Axes.

    Parameters
    ----------
    result : CircuitSolution or PulseResult
        One (unbatched) solve, e.g. ``xb.solve(v)`` or ``xb.apply_pulse(...)``.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    relative : bool, default True
        IR drop in % of the ideal cell voltage, or in V.
    title : str or None
        Axes title.
    """
    d = ir_drop(result, relative=relative)
    ax = _new_axes(ax, (5, 4))
    shown = 100.0 * d if relative else d
    fin = shown[np.isfinite(shown)]
    lim = float(np.max(np.abs(fin))) if fin.size and np.max(np.abs(fin)) > 0 else 1.0
    # a loss is positive; a cell that gains voltage (sneak paths feeding a floating line) is blue
    im = ax.imshow(shown, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="upper", aspect="auto")
    return _finish_map(
        ax, im, result, "IR drop (% of ideal cell voltage)" if relative else "IR drop (V)", title
    )


def disturb_margin_plot(margins: Sequence, ax=None, *, title: str | None = None):
    """Write-disturb margins against pulse amplitude, one colour per bias scheme.

    ``margins`` are :class:`xbar.circuit.write.DisturbMargins` (from
    ``xbar.circuit.write.disturb_margins(xb, amplitude, scheme)``), for any mix of schemes and
    amplitudes.  Solid: the smallest |voltage| a selected cell receives (IR drop); dashed: the
    largest |voltage| on a non-selected cell; the band between them is the window in which a
    switching threshold must lie (a negative margin, dashed above solid, has none).  Returns the
    Axes.

    Parameters
    ----------
    margins : sequence of DisturbMargins
        From ``xbar.circuit.write.disturb_margins``, any mix of schemes and amplitudes.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    title : str or None
        Axes title.
    """
    margins = list(margins)
    if not margins:
        raise ConfigError("margins must hold at least one DisturbMargins, got none")
    for m in margins:
        if not all(
            hasattr(m, a)
            for a in ("scheme", "amplitude", "worst_selected_voltage", "worst_disturb_voltage")
        ):
            raise ConfigError(
                "margins must be DisturbMargins (xbar.circuit.write."
                f"disturb_margins), got {type(m).__name__}"
            )
    ax = _new_axes(ax, (5, 3.6))
    schemes = list(dict.fromkeys(m.scheme for m in margins))
    for k, scheme in enumerate(schemes):
        ms = sorted((m for m in margins if m.scheme == scheme), key=lambda m: m.amplitude)
        a = np.array([m.amplitude for m in ms])
        sel = np.array([m.worst_selected_voltage for m in ms])
        dist = np.array([m.worst_disturb_voltage for m in ms])
        color = f"C{k}"
        ax.plot(a, sel, "o-", color=color, ms=3, label=f"{scheme}: worst selected")
        ax.plot(a, dist, "s--", color=color, ms=3, label=f"{scheme}: worst disturbed")
        ax.fill_between(a, dist, sel, where=sel > dist, color=color, alpha=0.15, interpolate=True)
    ax.set_xlabel("pulse amplitude (V)")
    ax.set_ylabel("|cell voltage| (V)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title)
    return ax


def accuracy_plot(history: Sequence[dict], ax=None):
    """Accuracy per epoch of a training run (``FitResult.history`` rows).

    Draws ``train_accuracy``, ``train_running_accuracy`` and ``test_accuracy`` (those present;
    ``None`` entries are gaps) against the epoch (from 1).

    Parameters
    ----------
    history : sequence of dict
        Rows with an ``epoch`` key and accuracy keys (fractions, dimensionless).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    Axes
    """
    from matplotlib.ticker import MaxNLocator

    ax = _new_axes(ax, (5, 3.5))
    ep = [r["epoch"] for r in history]
    for key, label, style in (
        ("train_accuracy", "train", "o-"),
        ("train_running_accuracy", "train (running, during epoch)", "x:"),
        ("test_accuracy", "test", "s-"),
    ):
        vals = [r.get(key) for r in history]
        if any(v is not None for v in vals):
            ax.plot(ep, [np.nan if v is None else v for v in vals], style, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    return ax


def energy_by_category_plot(totals: dict, ax=None):
    """Bar chart (log scale) of energy per category, largest first.

    Parameters
    ----------
    totals : dict
        Category -> energy (J), e.g. ``EnergyLedger.totals("category")``.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    Axes
    """
    ax = _new_axes(ax, (5, 3.5))
    names = sorted(totals, key=lambda k: -totals[k])
    ax.bar(names, [totals[k] for k in names])
    ax.set_yscale("log")
    ax.set_ylabel("energy (J)")
    ax.set_title("energy by category")
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    return ax


def conductance_histograms(g_final: dict, g_initial: dict | None = None):
    """One histogram per array of its conductances (in µS), after and (if given) before.

    Parameters
    ----------
    g_final : dict
        Array name -> conductances (S), any shape.
    g_initial : dict, optional
        The same before training (S); names missing here are drawn "after" only.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not g_final:
        raise ConfigError("g_final must hold at least one array of conductances, got none")
    g_initial = g_initial or {}
    fig, axes = subplots(1, len(g_final), figsize=(4 * len(g_final), 3.2), squeeze=False)
    for ax, (name, g) in zip(axes[0], g_final.items()):
        if name in g_initial:
            ax.hist(np.ravel(g_initial[name]) * 1e6, bins=50, alpha=0.6, label="before")
        ax.hist(np.ravel(g) * 1e6, bins=50, alpha=0.6, label="after")
        ax.set_xlabel("conductance (µS)")
        ax.set_title(name)
        ax.legend()
    return fig


def pulse_schedule_plot(schedule, ax=None, *, n_cols: int | None = None):
    """Raster of a pulse schedule: pulse start time (s) vs cell index ``row·n_cols + col``.

    One marker per cell pulse, coloured by polarity (set red, reset blue, verify read grey).
    ``PulseSchedule.plot`` calls this.

    Parameters
    ----------
    schedule : xbar.pulses.PulseSchedule
        The schedule (start times in s).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure (6 x 3.5 in).
    n_cols : int or None
        Columns of the array for the cell index (None: the largest column + 1).

    Returns
    -------
    Axes
    """
    from .pulses.schedule import POLARITIES, PulseSchedule

    if not isinstance(schedule, PulseSchedule):
        raise ConfigError(
            f"schedule must be an xbar.pulses.PulseSchedule, got {type(schedule).__name__}"
        )
    s = schedule
    if n_cols is not None and (
        isinstance(n_cols, bool) or not isinstance(n_cols, (int, np.integer)) or n_cols < 1
    ):
        raise ConfigError(f"n_cols must be a positive integer or None, got {n_cols!r}")
    ax = _new_axes(ax, (6, 3.5))
    n_cols = int(s.col.max()) + 1 if n_cols is None and s.n_cell_pulses else (n_cols or 1)
    t = s.t_start[s.slot] if s.n_cell_pulses else np.zeros(0)
    pol = s.polarity[s.slot]
    for code, (name, colour) in enumerate(zip(POLARITIES, ("tab:red", "tab:blue", "0.5"))):
        m = pol == code
        if m.any():
            ax.scatter(t[m], s.row[m] * n_cols + s.col[m], s=4, c=colour, label=name, marker="|")
    ax.set_xlabel("pulse start time (s)")
    ax.set_ylabel("cell index (row·N + col)")
    ax.set_title(f"{s.n_pulses:,} pulses ({s.mode}), {s.duration:.3g} s")
    if s.n_cell_pulses:
        ax.legend(loc="upper right", fontsize="small")
    return ax
