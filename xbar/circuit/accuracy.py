"""How far a crossbar solve can be trusted: tolerances, INFO codes, failure reports.

A solve is accepted per batch item (as SciPy's iterative solvers report ``info``): every terminal
current's a-posteriori error estimate (``xbar.circuit.nodal.current_errors``, A) must be at most
``rtol·S + atol``, S being that line's gross current (:func:`line_scale`): an estimate per terminal,
not a bound (the sum over an item's terminals is the bound).  Items that miss it get
an ``INFO`` code (``xbar.circuit.solution.INFO``) and are reported together after the whole batch
is solved, by the caller's ``on_failure`` (:func:`report`, :func:`report_read`).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ON_FAILURE, ConvergenceError, handle_failure
from .nodal import NodalNetwork
from .solution import INFO, CircuitSolution

__all__ = [
    "check_tolerances",
    "info_codes",
    "line_scale",
    "accuracy",
    "stiffness",
    "failure_text",
    "report",
    "report_read",
]


def check_tolerances(
    rtol: float, atol: float, maxiter: int | None, on_failure: str
) -> tuple[float, float, int | None]:
    """Validated ``(rtol, atol, maxiter)`` of a solve or read; ``on_failure`` checked.

    Parameters
    ----------
    rtol : float
        Relative accuracy of the terminal currents, 0 < rtol < 1 (dimensionless).
    atol : float
        Absolute accuracy of the terminal currents, A (>= 0).
    maxiter : int or None
        CG iteration limit per item (>= 1), or None for the solver's default.
    on_failure : {"raise", "warn", "ignore"}
        What a failed item does.

    Returns
    -------
    tuple
        ``(float(rtol), float(atol), int(maxiter) or None)``.
    """
    check_scalar(rtol, "rtol", low=0.0, high=1.0, low_open=True, high_open=True)
    check_scalar(atol, "atol", low=0.0, unit="A")
    if maxiter is not None:
        check_scalar(maxiter, "maxiter", low=1, integer=True)
    check_choice(on_failure, "on_failure", ON_FAILURE)
    return float(rtol), float(atol), None if maxiter is None else int(maxiter)


def info_codes(status: np.ndarray, accurate: np.ndarray) -> np.ndarray:
    """INFO codes from the iteration's status and the accuracy test.

    A Newton iteration that stopped (step limit, stalled line search: at the rounding floor of
    its residual) is accepted when the error estimate meets the tolerance; a finished one that
    misses it is 3.

    Parameters
    ----------
    status : (B,) int ndarray
        The iteration's own ``INFO`` code per item.
    accurate : (B,) bool ndarray
        Whether each item's error estimate meets the tolerance.

    Returns
    -------
    (B,) int ndarray
        ``INFO`` codes (0 = converged).
    """
    newton_stop = (status == 2) | (status == -2)
    return np.where(accurate & newton_stop, 0, np.where((status == 0) & ~accurate, 3, status))


def line_scale(
    gross: np.ndarray,
    current: np.ndarray,
    source: np.ndarray,
    g_term: np.ndarray,
    g_near: np.ndarray,
) -> np.ndarray:
    """Gross current of each line, A: Σ|I_cell| + |I_terminal| + g_terminal·|V_source|.

    Parameters
    ----------
    gross : (B, K) ndarray
        Σ|I_cell| over each line's cells, A.
    current : (B, K) ndarray
        Terminal currents, A.
    source : (B, K) ndarray
        Terminal source voltages, V (NaN = floating).
    g_term : (K,) ndarray
        Terminal conductances, S (``inf`` = ideal terminal).
    g_near : (K,) ndarray
        Conductance of the element next to each terminal, S (stands in for an ideal terminal).

    Returns
    -------
    (B, K) ndarray
        Gross current per line, A.
    """
    g = np.where(np.isinf(g_term), g_near, g_term)
    g = np.where(np.isfinite(g), g, 0.0)
    return gross + np.abs(current) + g * np.where(np.isnan(source), 0.0, np.abs(source))


def accuracy(
    net: NodalNetwork,
    sol: CircuitSolution,
    row_err: np.ndarray,
    col_err: np.ndarray,
    rv: np.ndarray,
    cv: np.ndarray,
    rtol: float,
    atol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(worst relative error estimate, accuracy met) per item, from terminal estimates.

    Parameters
    ----------
    net : NodalNetwork
        The solved network, S.
    sol : CircuitSolution
        The batched solution (cell, row and column currents, A).
    row_err, col_err : (B, M), (B, N) ndarray
        Error estimates of the row and column currents, A.
    rv, cv : (B, M), (B, N) ndarray
        Row and column source voltages, V (NaN = floating).
    rtol : float
        Relative tolerance (dimensionless).
    atol : float
        Absolute tolerance, A.

    Returns
    -------
    rel : (B,) ndarray
        Worst estimate relative to its line's gross current (dimensionless).
    ok : (B,) bool ndarray
        Whether every estimate is within ``rtol·S + atol``.
    """
    M, N = net.shape
    rows = line_scale(
        np.abs(sol.cell_currents).sum(axis=2),
        sol.row_currents,
        rv,
        net.g_driver,
        net.gw[:, 0] if N > 1 else net.gc[:, 0],
    )
    cols = line_scale(
        np.abs(sol.cell_currents).sum(axis=1),
        sol.col_currents,
        cv,
        net.g_sense,
        net.gb[-1] if M > 1 else net.gc[0],
    )
    # A floating line carries no terminal current, and neither does a line whose every cell
    # is open or gated off (cut off from the array, whatever its source): nothing to resolve.
    conducting = net.gc > 0
    row_err = np.where(np.isnan(rv) | ~conducting.any(axis=1), 0.0, row_err)
    col_err = np.where(np.isnan(cv) | ~conducting.any(axis=0), 0.0, col_err)
    ok = (row_err <= rtol * rows + atol).all(axis=1) & (col_err <= rtol * cols + atol).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.maximum(
            np.where(row_err > 0, row_err / rows, 0.0).max(axis=1),
            np.where(col_err > 0, col_err / cols, 0.0).max(axis=1),
        )
    return rel, np.asarray(ok)


def stiffness(net: NodalNetwork, rv: np.ndarray, cv: np.ndarray) -> float:
    """The current scale whose float64 rounding limits every other current's accuracy, A.

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    rv, cv : ndarray
        Row and column source voltages, V (NaN = floating).

    Returns
    -------
    float
        Largest finite conductance (S) times the largest |source voltage| (V), A.
    """
    g = max(
        float(np.max(a[np.isfinite(a)], initial=0.0))
        for a in (net.gc, net.gw, net.gb, net.g_driver, net.g_sense)
    )
    v = max(float(np.nanmax(np.abs(rv), initial=0.0)), float(np.nanmax(np.abs(cv), initial=0.0)))
    return g * v


def failure_text(
    items: list, rtol: float, atol: float, stiffness, residual: float | None = None
) -> str:
    """Message for failed batch items.

    Parameters
    ----------
    items : list of (int, int, float)
        ``(batch index, info, relative error estimate)`` per failed item, first failure first.
    rtol : float
        Relative tolerance (dimensionless).
    atol : float
        Absolute tolerance, A.
    stiffness : callable
        ``stiffness()`` gives the stiffest current scale, A (computed only when the message
        needs it: info 3).
    residual : float or None
        KCL residual of the first failed item, A.

    Returns
    -------
    str
    """
    k, code, rel = items[0]
    res = "" if residual is None else f", KCL residual {residual:.3e} A"
    text = (
        f"{len(items)} batch item(s) did not converge (first: item {k}, info={code}: "
        f"{INFO[code]}; estimated relative error {rel:.2e} against rtol={rtol:g}, "
        f"atol={atol:g} A{res})"
    )
    if code == 3:
        scale = stiffness()
        text += (
            f".  Conditioning: the stiffest element carries currents of up to "
            f"{scale:.3g} A (largest conductance × largest |source voltage|), whose "
            f"float64 rounding (eps = 2.2e-16) is {scale * 2.2e-16:.2e} A; weak lines "
            "cannot be resolved below it.  Check G for a unit slip (S, not ohm) and the "
            "wire/terminal resistances, or loosen rtol"
        )
    return text


def report(
    sol: CircuitSolution, on_failure: str, rtol: float, atol: float, stiffness, stacklevel: int = 5
) -> None:
    """Apply ``on_failure`` to a batched solution's failed items (after the whole batch).

    Parameters
    ----------
    sol : CircuitSolution
        The batched solution; attached to the exception as ``solution``.
    on_failure : {"raise", "warn", "ignore"}
        What the failure does.
    rtol, atol : float
        The tolerances (dimensionless, A), for the message.
    stiffness : callable
        As in :func:`failure_text`.
    stacklevel : int
        Stack level of a warning (the user's call).
    """
    info, residual = np.asarray(sol.info), np.asarray(sol.residual)
    bad = np.flatnonzero(info != 0)
    if not bad.size or on_failure == "ignore":
        return
    estimate = np.asarray(sol.error_estimate)
    items = [(int(k), int(info[k]), float(estimate[k])) for k in bad]
    text = failure_text(items, rtol, atol, stiffness, float(residual[bad[0]]))
    k = int(bad[0])
    err = ConvergenceError(
        text, iterations=int(np.asarray(sol.iterations)[k]), residual=float(residual[k])
    )
    err.solution = sol  # type: ignore[attr-defined]  # documented
    handle_failure(on_failure, err, stacklevel=stacklevel)


def report_read(
    items: list,
    on_failure: str,
    rtol: float,
    atol: float,
    stiffness,
    out: np.ndarray,
    batched: bool,
    stacklevel: int = 5,
) -> None:
    """Apply ``on_failure`` to failed read items (the column currents attached to the exception).

    Parameters
    ----------
    items : list of (int, int, float)
        As in :func:`failure_text`.
    on_failure : {"raise", "warn", "ignore"}
        What the failure does.
    rtol, atol : float
        The tolerances (dimensionless, A).
    stiffness : callable
        As in :func:`failure_text`.
    out : (B, N) ndarray
        The read's column currents, A (``solution`` of the exception).
    batched : bool
        Whether the read was batched (else ``out[0]`` is attached).
    stacklevel : int
        Stack level of a warning (the user's call).
    """
    if on_failure == "ignore":
        return
    err = ConvergenceError(
        failure_text(items, rtol, atol, stiffness), iterations=-1, residual=float("nan")
    )
    err.solution = out if batched else out[0]  # type: ignore[attr-defined]
    handle_failure(on_failure, err, stacklevel=stacklevel)
