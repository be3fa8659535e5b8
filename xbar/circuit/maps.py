"""Exact read maps of a linear crossbar from unit excitations, or from the block sweep.

``T`` (N, M) and ``Y`` (M, M), A/V: in a read (bit lines at 0 V) ``I_col = T @ V_row`` and
``I_row = Y @ V_row``.  ``Crossbar.transfer_matrix`` and ``Crossbar.port_admittance`` cache
what these functions build.  Two builders: the block sweep of ``xbar.circuit.transfer``
(chosen under ``method="auto"`` when ``xbar.circuit.cost.sweep_applies``), or one solve per row
(``T`` and ``Y``) or per column (``T`` only, by reciprocity of the resistive network:
``T[j, i] = −I_row[i]`` when column j alone is at 1 V) -- :func:`unit_solves`.
"""

from __future__ import annotations

import numpy as np

from . import cost, memory, transfer
from .dispatch import map_solve

__all__ = ["check_map_fits", "build_transfer", "build_maps", "unit_solves"]


def check_map_fits(M: int, N: int, admittance: bool) -> None:
    """Refuse a transfer map (and admittance) that cannot fit in memory, before building it.

    Parameters
    ----------
    M, N : int
        Word lines and bit lines of the array.
    admittance : bool
        Whether ``Y`` (M, M) is built too.

    Raises
    ------
    xbar.exceptions.ResourceLimitError
        When the estimate (bytes) exceeds the available memory.
    """
    front = transfer.front_nodes(M, N, admittance)
    need = 8.0 * (M * N + (M * M if admittance else 0) + 4 * front**2 + 2 * M * N)
    memory.check_fits(
        f"the {M}x{N} array's transfer map{' and admittance' if admittance else ''}",
        need + memory.network_bytes(M, N),
        "read with method='pcg' instead",
    )


def build_transfer(xb, method: str = "auto", chunk: int | None = None) -> np.ndarray:
    """The transfer matrix ``T`` (N, M) of a linear crossbar, A/V (read-only, not cached).

    Parameters
    ----------
    xb : Crossbar
        A linear array.
    method : {"auto", "pcg", "direct"}
        ``"auto"``: the block sweep when :func:`~xbar.circuit.cost.sweep_applies`, else unit
        solves; ``"pcg"``/``"direct"``: unit solves with that solver.
    chunk : int, optional
        Unit excitations solved per batch.

    Returns
    -------
    (N, M) ndarray
        ``T``, A/V.
    """
    M, N = xb.shape
    net = xb.network()
    if method == "auto" and cost.sweep_applies(net):
        T = transfer.transfer_rows(net)
    else:
        T = unit_solves(xb, rows=M <= N, method=method, chunk=chunk)[0]
    T.flags.writeable = False
    return T


def build_maps(xb, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """``(T, Y)`` of a linear crossbar, A/V (read-only, not cached).

    Parameters
    ----------
    xb : Crossbar
        A linear array.
    method : {"auto", "pcg", "direct"}
        ``"auto"``: one block sweep when :func:`~xbar.circuit.cost.sweep_applies` (with the
        admittance), else M unit-row solves; ``"pcg"``/``"direct"`` force the solves.

    Returns
    -------
    T : (N, M) ndarray
        Transfer matrix, A/V.
    Y : (M, M) ndarray
        Driver admittance, A/V.
    """
    if method == "auto" and cost.sweep_applies(xb.network(), admittance=True):
        T, Y = transfer.transfer_rows(xb.network(), admittance=True)
    else:
        T, Y = unit_solves(xb, rows=True, method=method)
    for arr in (T, Y):
        arr.flags.writeable = False
    return T, Y


def unit_solves(xb, rows: bool, method: str = "auto", chunk: int | None = None):
    """T (N, M), and Y (M, M) when ``rows``, from unit excitations of the rows or columns.

    Column excitations give T by reciprocity, ``T[j, i] = −I_row[i]`` (column j at 1 V).

    Parameters
    ----------
    xb : Crossbar
        A linear array.
    rows : bool
        Excite the rows (T and Y) or the columns (T only).
    method : {"auto", "pcg", "direct"}
        Solver of the unit solves.
    chunk : int, optional
        Excitations per batched solve (default: ~256 MB of problem vectors).

    Returns
    -------
    T : (N, M) ndarray
        A/V.
    Y : (M, M) ndarray or None
        A/V (None for column excitations).
    """
    M, N = xb.shape
    n = M if rows else N
    if chunk is None:
        chunk = max(1, min(n, int(256e6 // (8 * 2 * M * N * 4))))
    T = np.empty((N, M))
    Y = np.empty((M, M))
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        eye = np.zeros((e - s, n))
        eye[np.arange(e - s), np.arange(s, e)] = 1.0
        if rows:
            sol = map_solve(xb, eye, np.zeros((e - s, N)), method)
            T[:, s:e] = sol.col_currents.T
            Y[:, s:e] = sol.row_currents.T
        else:
            sol = map_solve(xb, np.zeros((e - s, M)), eye, method)
            T[s:e, :] = -sol.row_currents
    return T, (Y if rows else None)
