"""Write pulses through the real array: what each cell sees, and what the pulse costs.

A pulse selects a set of rows times a set of columns; the selected rows are driven at
``polarity · amplitude`` and the selected columns at 0 V, the other lines follow the bias scheme
(``xbar.circuit.bias``).  The network is solved with the cells' present conductances and I-V, so
IR drop lowers the voltage of selected cells far from the drivers and half-selected cells see
about V/2 (or V/3).  Energies integrate V·I over the pulse from the solved network.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass
from typing import Callable, cast

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError, UnitWarning
from . import bias as bias_mod
from .solution import CircuitSolution


# Beyond these a pulse is implausible for an RRAM write and more likely a unit slip.
MAX_PLAUSIBLE_WIDTH = 1e-3  # s (write pulses are ns to µs)
MAX_PLAUSIBLE_AMPLITUDE = 10.0  # V (set/reset voltages are ~0.5-5 V)

_ENERGY_PARTS = (
    "selected",
    "half_selected",
    "unselected",
    "access",
    "wires",
    "word_drivers",
    "sense",
)


@dataclass(frozen=True)
class PulseEnergy:
    """Energy of one pulse by part, J, split like :class:`~xbar.circuit.solution.PowerBreakdown`.

    The fields are also the attributes of the same name.

    Parameters
    ----------
    selected : float
        Selected memristive cells, Σ ∫V·I dt, J.
    half_selected : float
        Memristive cells sharing a selected row or column (not selected), J.
    unselected : float
        All other memristive cells (sneak paths under V/3, floating or grounded schemes), J.
    access : float
        Access transistors of 1T1R cells, J.
    wires : float
        Word- and bit-line segments, J.
    word_drivers : float
        Word-line driver output resistances, J.
    sense : float
        Bit-line terminal (sense / TIA input) resistances, J.
    supplied : float
        Delivered by the sources, J; equals ``total`` to the solver tolerance.
    """

    selected: float
    half_selected: float
    unselected: float
    access: float
    wires: float
    word_drivers: float
    sense: float
    supplied: float

    @property
    def drivers(self) -> float:
        """Deprecated: ``word_drivers + sense`` (J), the former lumped terminal energy.

        Use ``word_drivers`` and ``sense`` (as in ``PowerBreakdown``); removed in the next
        release.
        """
        warnings.warn(
            "PulseEnergy.drivers is deprecated (it lumps word-line drivers and bit-line "
            "terminals): use word_drivers and sense",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.word_drivers + self.sense

    @property
    def total(self) -> float:
        """Total dissipated energy, J."""
        return sum(getattr(self, k) for k in _ENERGY_PARTS)

    def as_dict(self) -> dict:
        """Parts, ``total`` and ``supplied`` as a dict of floats, J."""
        d = {k: getattr(self, k) for k in _ENERGY_PARTS}
        d.update(total=self.total, supplied=self.supplied)
        return d


@dataclass(frozen=True)
class PulseResult:
    """A write pulse as the array experienced it (the last sub-step's operating point).

    Parameters
    ----------
    solution : xbar.CircuitSolution
        The solved network of the last sub-step (unbatched: node voltages (M, N), V; currents, A).
        Word lines that float with every gate off (1T1R, ``scheme="floating"``) are isolated:
        their node voltages are NaN (undetermined) and they carry no current.
    selected : (M, N) bool ndarray
        Selected cells (selected rows x selected columns).
    half_selected : (M, N) bool ndarray
        Cells on a selected row or a selected column, not selected.
    width : float
        Pulse width, s.
    cell_voltages : (M, N) ndarray
        Voltage across each memristive element (word side minus bit side, excluding a 1T1R
        access transistor) in the last sub-step, V.
    cell_charge : (M, N) ndarray
        Charge through each cell over the whole pulse, C.
    cell_energy : (M, N) ndarray
        Energy dissipated in each memristive element over the whole pulse, J.
    energy : PulseEnergy
        Energy of the whole pulse by part, J.
    """

    solution: CircuitSolution
    selected: np.ndarray
    half_selected: np.ndarray
    width: float
    cell_voltages: np.ndarray
    cell_charge: np.ndarray
    cell_energy: np.ndarray
    energy: PulseEnergy


def check_pulse(amplitude, width, polarity=1) -> float:
    """Validate a write pulse; return the signed voltage ``polarity·amplitude`` (V).

    Implausible magnitudes warn (``UnitWarning``).

    Parameters
    ----------
    amplitude : float
        Pulse amplitude, V (> 0).
    width : float
        Pulse width, s (> 0).
    polarity : {1, -1}, default 1
        Sign of the selected rows' voltage.
    """
    check_scalar(amplitude, "amplitude", low=0.0, low_open=True, unit="V")
    check_scalar(width, "width", low=0.0, low_open=True, unit="s")
    if (
        isinstance(polarity, (bool, np.bool_))
        or not isinstance(polarity, numbers.Integral)
        or polarity not in (1, -1)
    ):
        raise ConfigError(
            f"polarity must be the integer +1 or -1, got {type(polarity).__name__} {polarity!r}"
        )
    if width > MAX_PLAUSIBLE_WIDTH:
        warnings.warn(
            f"width = {width!r} s is longer than {MAX_PLAUSIBLE_WIDTH:g} s; write pulses "
            "last ns to µs: was it given in ns or µs instead of seconds?",
            UnitWarning,
            stacklevel=4,
        )
    if amplitude > MAX_PLAUSIBLE_AMPLITUDE:
        warnings.warn(
            f"amplitude = {amplitude!r} V exceeds {MAX_PLAUSIBLE_AMPLITUDE:g} V; RRAM "
            "write voltages are ~0.5-5 V: was it given in mV instead of volts?",
            UnitWarning,
            stacklevel=4,
        )
    return int(polarity) * float(amplitude)


def _mask(n: int, idx, name: str) -> np.ndarray:
    if idx is None:
        return np.ones(n, dtype=bool)
    return bias_mod.select_lines(n, idx, name)


def apply_pulse(
    xb,
    rows=None,
    cols=None,
    *,
    amplitude: float,
    width: float,
    polarity: int = 1,
    scheme: str = "half",
    substeps: int = 1,
    on_substep: Callable[[CircuitSolution, float], np.ndarray | None] | None = None,
) -> PulseResult:
    """Apply one write pulse to ``rows`` x ``cols`` of crossbar ``xb`` (see ``Crossbar.apply_pulse``).

    Parameters
    ----------
    xb : xbar.Crossbar
        The array (conductances in S, wires in ohm).
    rows, cols : int, sequence of int or None
        Selected word and bit lines (None = all).
    amplitude : float
        Pulse amplitude, V (> 0).
    width : float
        Pulse width, s (> 0).
    polarity : {1, -1}, default 1
        Sign of the selected rows' voltage.
    scheme : {"half", "third", "floating", "grounded"}, default "half"
        Bias of the unselected lines (:mod:`xbar.circuit.bias`).
    substeps : int, default 1
        Solves over the pulse (each ``width / substeps`` s).
    on_substep : callable or None
        ``on_substep(solution, dt) -> G_new or None`` after each sub-step (dt in s; new
        conductances in S, e.g. from a device model).

    Returns
    -------
    PulseResult
    """
    M, N = xb.shape
    v = check_pulse(amplitude, width, polarity)
    check_choice(scheme, "scheme", bias_mod.SCHEMES)
    check_scalar(substeps, "substeps", low=1, integer=True)
    rmask = _mask(M, rows, "rows")
    cmask = _mask(N, cols, "cols")
    rsel = np.flatnonzero(rmask)
    csel = np.flatnonzero(cmask)
    rv, cv = bias_mod.scheme(scheme, M, N, rsel, csel, v)
    selected = rmask[:, None] & cmask[None, :]
    half = (rmask[:, None] | cmask[None, :]) & ~selected
    target = xb
    isolated = np.zeros(M, dtype=bool)
    if xb.cell == "1T1R":
        # Gates open on the selected rows only; an unselected 1T1R cell is isolated.
        target = xb.with_select(xb.select & rmask[:, None])
        # A floating word line whose gates are all off touches nothing: its potential is
        # undetermined and irrelevant.  It is solved tied to 0 V (it carries no current, so no
        # other value changes) and reported as NaN.
        isolated = np.isnan(rv) & ~target.select.any(axis=1)
        rv = np.where(isolated, 0.0, rv)
    dt = width / substeps
    acc: dict[str, float] = dict.fromkeys((*_ENERGY_PARTS, "supplied"), 0.0)
    charge = np.zeros((M, N))
    cell_e = np.zeros((M, N))
    sol = None
    for _ in range(substeps):
        sol = target.solve(rv, cv)
        if isolated.any():
            sol = _float_isolated(sol, isolated)
        e_cells = sol.cell_voltages * sol.cell_currents * dt
        cell_e += e_cells
        charge += sol.cell_currents * dt
        acc["selected"] += float(e_cells[selected].sum())
        acc["half_selected"] += float(e_cells[half].sum())
        acc["unselected"] += float(e_cells[~selected & ~half].sum())
        p = sol.power
        acc["access"] += float(p.access) * dt
        acc["wires"] += float(p.wires) * dt
        acc["word_drivers"] += float(p.drivers) * dt
        acc["sense"] += float(p.sense) * dt
        acc["supplied"] += float(p.supplied) * dt
        if on_substep is not None:
            G_new = on_substep(sol, dt)
            if G_new is not None:
                xb.set_conductances(G_new)
                if target is not xb:
                    target.set_conductances(G_new)
    assert sol is not None  # substeps >= 1
    return PulseResult(
        sol, selected, half, float(width), sol.cell_voltages, charge, cell_e, PulseEnergy(**acc)
    )


def _float_isolated(sol: CircuitSolution, rows: np.ndarray) -> CircuitSolution:
    """``sol`` with the isolated word lines ``rows`` reported floating (NaN source and nodes)."""
    w = sol.v_wordline.copy()
    w[rows] = np.nan
    rv = sol.row_voltages.copy()
    rv[rows] = np.nan
    return dataclasses.replace(sol, v_wordline=w, row_voltages=rv)


@dataclass(frozen=True)
class DisturbMargins:
    """Worst cases of a write scheme over candidate selected cells (the V/2 vs V/3 trade).

    Parameters
    ----------
    scheme : str
        Bias scheme (``"half"``, ``"third"``, ...).
    amplitude : float
        Pulse amplitude, V.
    worst_selected_voltage : float
        Smallest |voltage| a selected cell receives (IR drop), V.
    worst_selected_cell : (int, int)
        The selected cell that receives it.
    worst_disturb_voltage : float
        Largest |voltage| on any non-selected cell, V.
    worst_disturb_cell : (int, int)
        The cell that sees it (for the selection that produced it).
    selected_for_disturb : (int, int)
        Which selected cell produced the worst disturb.
    """

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


def _cell_index(cell, M: int, N: int) -> tuple[int, int]:
    """A (row, col) pair of in-range integers (no bools, floats or strings truncated)."""
    ok = (
        isinstance(cell, (tuple, list, np.ndarray))
        and len(cell) == 2
        and all(
            isinstance(k, numbers.Integral) and not isinstance(k, (bool, np.bool_)) for k in cell
        )
    )
    if not ok or not (0 <= cell[0] < M and 0 <= cell[1] < N):
        raise ConfigError(
            f"cells must hold (row, col) integer pairs with 0 <= row < {M} and "
            f"0 <= col < {N}, got {cell!r}"
        )
    return int(cell[0]), int(cell[1])


def disturb_margins(xb, amplitude: float, scheme: str = "half", cells="corners") -> DisturbMargins:
    """Worst selected-cell and worst disturbed-cell voltages of ``scheme`` at ``amplitude`` (V).

    Parameters
    ----------
    xb : xbar.Crossbar
        The array.
    amplitude : float
        Pulse amplitude, V.
    scheme : {"half", "third", "floating", "grounded"}, default "half"
        Bias of the unselected lines.
    cells : "corners", "all" or list of (int, int)
        Candidate selected cells: ``"corners"`` (the four corners and the centre: IR drop is
        extreme at the corners), ``"all"`` (every cell; M·N solves) or a list of (i, j).
    """
    M, N = xb.shape
    if isinstance(cells, str):
        check_choice(cells, "cells", ("corners", "all"))
        if cells == "all":
            cand = [(i, j) for i in range(M) for j in range(N)]
        else:
            cand = sorted({(0, 0), (0, N - 1), (M - 1, 0), (M - 1, N - 1), (M // 2, N // 2)})
    else:
        cand = [_cell_index(c, M, N) for c in cells]
        if not cand:
            raise ConfigError("cells must name at least one (row, col) cell")
    worst_sel, worst_sel_cell = np.inf, None
    worst_dist, worst_dist_cell, worst_src = -np.inf, None, None
    for i, j in cand:
        res = apply_pulse(xb, i, j, amplitude=amplitude, width=1e-9, scheme=scheme)
        vsel = abs(res.cell_voltages[i, j])
        if vsel < worst_sel:
            worst_sel, worst_sel_cell = vsel, (i, j)
        others = np.abs(np.where(res.selected, 0.0, res.cell_voltages))
        k = np.unravel_index(np.argmax(others), others.shape)
        if others[k] > worst_dist:
            worst_dist, worst_dist_cell, worst_src = (
                float(others[k]),
                (int(k[0]), int(k[1])),
                (i, j),
            )
    return DisturbMargins(
        scheme,
        float(amplitude),
        float(worst_sel),
        cast(tuple[int, int], worst_sel_cell),
        worst_dist,
        cast(tuple[int, int], worst_dist_cell),
        cast(tuple[int, int], worst_src),
    )
