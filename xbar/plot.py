"""Plots of circuit results (matplotlib, imported on use)."""
from __future__ import annotations

import numpy as np


def voltage_map(result, ax=None, *, title: str | None = None):
    """Image of the voltage across every cell (V), selected cells outlined.

    ``result`` is a ``CircuitSolution`` or a ``PulseResult`` (from ``Crossbar.apply_pulse``).
    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    sol = getattr(result, "solution", result)
    v = np.asarray(sol.cell_voltages)
    if v.ndim != 2:
        raise ValueError("voltage_map needs a single (unbatched) solution")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    lim = np.abs(v).max() or 1.0
    im = ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="upper", aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="cell voltage (V)")
    sel = getattr(result, "selected", None)
    if sel is not None:
        ii, jj = np.nonzero(sel)
        ax.scatter(jj, ii, s=12, facecolors="none", edgecolors="k", linewidths=0.8,
                   label="selected")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("bit line j")
    ax.set_ylabel("word line i")
    if title:
        ax.set_title(title)
    return ax
