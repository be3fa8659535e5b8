"""Write pulses through the real array: what each cell sees, and what the pulse costs.

A pulse selects a set of rows times a set of columns; the selected rows are driven at
``polarity · amplitude`` and the selected columns at 0 V, the other lines follow the bias scheme
(``xbar.circuit.bias``).  The network is solved with the cells' present conductances and I-V, so
IR drop lowers the voltage of selected cells far from the drivers and half-selected cells see
about V/2 (or V/3).  Energies integrate V·I over the pulse from the solved network.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError
from . import bias as bias_mod
from .solution import CircuitSolution


@dataclass(frozen=True)
class PulseEnergy:
    """Energy of one pulse by part, J."""

    selected: float
    """Selected memristive cells, Σ ∫V·I dt."""
    half_selected: float
    """Cells sharing a selected row or column (not selected)."""
    unselected: float
    """All other cells (sneak paths under V/3, floating or grounded schemes)."""
    access: float
    """Access transistors (1T1R)."""
    wires: float
    """Word- and bit-line segments."""
    drivers: float
    """Driver output and sense resistances (the terminals)."""
    supplied: float
    """Delivered by the sources; equals ``total`` to the solver tolerance."""

    @property
    def total(self) -> float:
        """Total dissipated energy, J."""
        return (self.selected + self.half_selected + self.unselected + self.access + self.wires
                + self.drivers)

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("selected", "half_selected", "unselected", "access",
                                           "wires", "drivers")}
        d.update(total=self.total, supplied=self.supplied)
        return d


@dataclass(frozen=True)
class PulseResult:
    """A write pulse as the array experienced it (the last sub-step's operating point)."""

    solution: CircuitSolution
    selected: np.ndarray
    """(M, N) bool: selected cells."""
    half_selected: np.ndarray
    """(M, N) bool: cells on a selected row or column, not selected."""
    width: float
    """Pulse width, s."""
    cell_voltages: np.ndarray
    """(M, N) voltage across each memristive element during the pulse, V (last sub-step)."""
    cell_charge: np.ndarray
    """(M, N) charge through each cell over the pulse, C."""
    cell_energy: np.ndarray
    """(M, N) energy dissipated in each memristive element over the pulse, J."""
    energy: PulseEnergy
    """Energy by part, J."""


def _mask(n: int, idx, name: str) -> np.ndarray:
    if idx is None:
        return np.ones(n, dtype=bool)
    return bias_mod._select(n, idx, name)


def apply_pulse(xb, rows=None, cols=None, *, amplitude: float, width: float, polarity: int = 1,
                scheme: str = "half", substeps: int = 1,
                on_substep: Callable[[CircuitSolution, float], np.ndarray | None] | None = None
                ) -> PulseResult:
    """Apply one write pulse to ``rows`` x ``cols`` of crossbar ``xb`` (see ``Crossbar.apply_pulse``)."""
    M, N = xb.shape
    check_scalar(amplitude, "amplitude", low=0.0, low_open=True, unit="V")
    check_scalar(width, "width", low=0.0, low_open=True, unit="s")
    if polarity not in (1, -1):
        raise ConfigError(f"polarity must be +1 or -1, got {polarity!r}")
    check_choice(scheme, "scheme", bias_mod.SCHEMES)
    check_scalar(substeps, "substeps", low=1, integer=True)
    rmask = _mask(M, rows, "rows")
    cmask = _mask(N, cols, "cols")
    rsel = np.flatnonzero(rmask)
    csel = np.flatnonzero(cmask)
    v = polarity * float(amplitude)
    rv, cv = bias_mod.scheme(scheme, M, N, rsel, csel, v)
    selected = rmask[:, None] & cmask[None, :]
    half = (rmask[:, None] | cmask[None, :]) & ~selected
    target = xb
    if xb.cell == "1T1R":
        # Gates open on the selected rows only; an unselected 1T1R cell is isolated.
        target = xb.with_select(xb.select & rmask[:, None])
    dt = width / substeps
    acc = dict(selected=0.0, half_selected=0.0, unselected=0.0, access=0.0, wires=0.0,
               drivers=0.0, supplied=0.0)
    charge = np.zeros((M, N))
    cell_e = np.zeros((M, N))
    sol = None
    for _ in range(substeps):
        sol = target.solve(rv, cv)
        e_cells = sol.cell_voltages * sol.cell_currents * dt
        cell_e += e_cells
        charge += sol.cell_currents * dt
        acc["selected"] += float(e_cells[selected].sum())
        acc["half_selected"] += float(e_cells[half].sum())
        acc["unselected"] += float(e_cells[~selected & ~half].sum())
        p = sol.power
        acc["access"] += p.access * dt
        acc["wires"] += p.wires * dt
        acc["drivers"] += (p.drivers + p.sense) * dt
        acc["supplied"] += p.supplied * dt
        if on_substep is not None:
            G_new = on_substep(sol, dt)
            if G_new is not None:
                xb.set_conductances(G_new)
                if target is not xb:
                    target.set_conductances(G_new)
    return PulseResult(sol, selected, half, float(width), sol.cell_voltages, charge, cell_e,
                       PulseEnergy(**acc))


@dataclass(frozen=True)
class DisturbMargins:
    """Worst cases of a write scheme over candidate selected cells (the V/2 vs V/3 trade)."""

    scheme: str
    amplitude: float
    """Pulse amplitude, V."""
    worst_selected_voltage: float
    """Smallest |voltage| a selected cell receives (IR drop), V."""
    worst_selected_cell: tuple[int, int]
    worst_disturb_voltage: float
    """Largest |voltage| on any non-selected cell, V."""
    worst_disturb_cell: tuple[int, int]
    """The cell that sees it (for the selection that produced it)."""
    selected_for_disturb: tuple[int, int]
    """Which selected cell produced the worst disturb."""

    @property
    def margin(self) -> float:
        """worst selected − worst disturb voltage, V (> 0: a threshold between them exists)."""
        return self.worst_selected_voltage - self.worst_disturb_voltage


def disturb_margins(xb, amplitude: float, scheme: str = "half", cells="corners") -> DisturbMargins:
    """Worst selected-cell and worst disturbed-cell voltages of ``scheme`` at ``amplitude`` (V).

    ``cells``: ``"corners"`` (the four corners and the centre: IR drop is extreme at the corners),
    ``"all"`` (every cell; M·N solves) or a list of (i, j).
    """
    M, N = xb.shape
    if isinstance(cells, str):
        check_choice(cells, "cells", ("corners", "all"))
        if cells == "all":
            cand = [(i, j) for i in range(M) for j in range(N)]
        else:
            cand = sorted({(0, 0), (0, N - 1), (M - 1, 0), (M - 1, N - 1), (M // 2, N // 2)})
    else:
        cand = [(int(i), int(j)) for i, j in cells]
    worst_sel, worst_sel_cell = np.inf, None
    worst_dist, worst_dist_cell, worst_src = -np.inf, None, None
    for i, j in cand:
        res = apply_pulse(xb, i, j, amplitude=amplitude, width=1.0, scheme=scheme)
        vsel = abs(res.cell_voltages[i, j])
        if vsel < worst_sel:
            worst_sel, worst_sel_cell = vsel, (i, j)
        others = np.abs(np.where(res.selected, 0.0, res.cell_voltages))
        k = np.unravel_index(np.argmax(others), others.shape)
        if others[k] > worst_dist:
            worst_dist, worst_dist_cell, worst_src = float(others[k]), (int(k[0]), int(k[1])), (i, j)
    return DisturbMargins(scheme, float(amplitude), float(worst_sel), worst_sel_cell,
                          worst_dist, worst_dist_cell, worst_src)
