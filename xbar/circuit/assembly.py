"""Solution assembly: terminal and cell currents and the power split, from solved node voltages.

The solvers (``xbar.circuit.dispatch``) return node voltages; this module turns them into a
:class:`~xbar.circuit.solution.CircuitSolution` (currents in A, power in W).
"""

from __future__ import annotations

import numpy as np

from .nodal import NodalNetwork
from .solution import CircuitSolution, PowerBreakdown

__all__ = ["assemble_solution", "col_currents", "unbatch"]


def assemble_solution(
    net: NodalNetwork,
    G: np.ndarray,
    cell: str,
    w: np.ndarray,
    b: np.ndarray,
    rv: np.ndarray,
    cv: np.ndarray,
    iters: np.ndarray,
    resid: np.ndarray,
    method: str,
    newton_iters: np.ndarray,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
) -> CircuitSolution:
    """Currents and power of a batch of solved node voltages.

    Parameters
    ----------
    net : NodalNetwork
        The solved network, S.
    G : (M, N) ndarray
        Memristor conductances, S (for the memristor voltage of linear 1T1R cells).
    cell : {"0T1R", "1T1R"}
        Cell type.
    w, b : (B, M, N) ndarray
        Word-line and bit-line node voltages, V.
    rv, cv : (B, M), (B, N) ndarray
        Row and column source voltages, V (NaN = floating).
    iters : (B,) int ndarray
        CG iterations per item.
    resid : (B,) ndarray
        Largest KCL imbalance per item, A.
    method : str
        Solver that produced the voltages.
    newton_iters : (B,) int ndarray
        Newton steps per item.
    cells : ((B, M, N), (B, M, N)) ndarrays, optional
        Cell currents (A) and memristor voltages (V) of nonlinear cells.

    Returns
    -------
    CircuitSolution
        The batched solution (error estimates and ``info`` not yet filled in).
    """
    M, N = net.shape
    drop = w - b
    if cells is None:
        i_cell = net.gc * drop
        with np.errstate(invalid="ignore", divide="ignore"):
            v_cell = np.where(net.gc > 0, i_cell / G, 0.0) if cell == "1T1R" else drop
    else:
        i_cell, v_cell = cells
    rdrv = ~np.isnan(rv)
    cdrv = ~np.isnan(cv)
    rv0 = np.where(rdrv, rv, 0.0)
    cv0 = np.where(cdrv, cv, 0.0)
    gd = np.where(np.isinf(net.g_driver), 0.0, net.g_driver)
    gs = np.where(np.isinf(net.g_sense), 0.0, net.g_sense)
    # Terminal currents: by KCL over the whole line (a word line connects only to its driver
    # and its cells), or through the driver resistor where that is better conditioned:
    # V − w0 cancels when the driver drop is small, the cell sum when cell currents cancel.
    cell_sum = i_cell.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        resistor = gd * (rv0 - w[:, :, 0])
        sum_cond = np.abs(i_cell).sum(axis=2) / np.abs(cell_sum)
        res_cond = (np.abs(rv0) + np.abs(w[:, :, 0])) / np.abs(rv0 - w[:, :, 0])
    use_res = ~np.isinf(net.g_driver) & (res_cond < sum_cond)
    i_row = np.where(rdrv, np.where(use_res, resistor, cell_sum), 0.0)
    i_col = col_currents(net, i_cell, b, cv)
    gw = np.where(np.isinf(net.gw), 0.0, net.gw)
    gb = np.where(np.isinf(net.gb), 0.0, net.gb)
    p_wires = (gw * np.diff(w, axis=2) ** 2).sum(axis=(1, 2)) + (gb * np.diff(b, axis=1) ** 2).sum(
        axis=(1, 2)
    )
    power = PowerBreakdown(
        cells=(i_cell * v_cell).sum(axis=(1, 2)),
        access=(i_cell * (drop - v_cell)).sum(axis=(1, 2)),
        wires=p_wires,
        drivers=(np.where(rdrv, gd * (rv0 - w[:, :, 0]) ** 2, 0.0)).sum(axis=1),
        sense=(np.where(cdrv, gs * (b[:, M - 1, :] - cv0) ** 2, 0.0)).sum(axis=1),
        supplied=(rv0 * i_row).sum(axis=1) - (cv0 * i_col).sum(axis=1),
    )
    return CircuitSolution(
        w, b, rv, cv, i_cell, v_cell, i_row, i_col, power, iters, resid, method, newton_iters
    )


def col_currents(
    net: NodalNetwork, i_cell: np.ndarray | None, b: np.ndarray, cv: np.ndarray
) -> np.ndarray:
    """Current out of each bit line into its terminal, A.

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    i_cell : (B, M, N) ndarray or None
        Cell currents, A (needed only where a bit line meets its source without a resistor).
    b : (B, M, N) ndarray
        Bit-line node voltages, V.
    cv : (B, N) ndarray
        Column source voltages, V (NaN = floating: 0 A).

    Returns
    -------
    (B, N) ndarray
        Column currents, A.
    """
    cdrv = ~np.isnan(cv)
    ideal = np.isinf(net.g_sense)
    gs = np.where(ideal, 0.0, net.g_sense)
    i_col = gs * (b[:, -1, :] - np.where(cdrv, cv, 0.0))
    if ideal.any():
        assert i_cell is not None, "an ideal sense terminal needs the cell currents"
        i_col = np.where(ideal, i_cell.sum(axis=1), i_col)
    return np.where(cdrv, i_col, 0.0)


def unbatch(sol: CircuitSolution) -> CircuitSolution:
    """The single solution of a batch of one (scalars instead of (1,) arrays).

    Parameters
    ----------
    sol : CircuitSolution
        A batched solution of one item.

    Returns
    -------
    CircuitSolution
    """

    def first(x):
        return x[0] if isinstance(x, np.ndarray) and x.ndim else x

    assert isinstance(sol.power, PowerBreakdown)
    return CircuitSolution(
        first(sol.v_wordline),
        first(sol.v_bitline),
        first(sol.row_voltages),
        first(sol.col_voltages),
        first(sol.cell_currents),
        first(sol.cell_voltages),
        first(sol.row_currents),
        first(sol.col_currents),
        sol.power.item(0),
        int(np.asarray(sol.iterations)[0]),
        float(np.asarray(sol.residual)[0]),
        sol.method,
        int(np.asarray(sol.newton_iterations)[0]),
        first(sol.row_current_errors),
        first(sol.col_current_errors),
        float(np.asarray(sol.error_estimate)[0]),
        int(np.asarray(sol.info)[0]),
    )
