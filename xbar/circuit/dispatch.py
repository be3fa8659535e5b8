"""Solve dispatch of a crossbar: which solver takes which inputs, batched and grouped.

``Crossbar.solve`` and ``Crossbar.read`` delegate here.  Inputs are grouped by their pattern of
floating lines (one operator each); each group is solved by line-preconditioned PCG (Cython,
batched over the inputs on ``xbar._threads`` threads), by the sparse direct solver (zero-resistance
wires, ``method="direct"``, or items PCG broke down on under ``"auto"``) and, for nonlinear cells,
by damped Newton from that linear solution.  Every batch item is judged on its own
(``xbar.circuit.accuracy``); a failed item never stops the rest of the batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import _threads
from .._kernels import _pcg, _scratch  # type: ignore[attr-defined]  # compiled, no stub
from ..exceptions import ConfigError, ConvergenceError
from . import accuracy, assembly, cost, direct, memory, newton
from .nodal import Problem, build_problem, check_connected, current_errors
from .solution import INFO, CircuitSolution

__all__ = ["METHODS", "READ_METHODS", "solve_nodes", "solve", "read", "map_solve"]

#: Residual targets of the iterations: PCG runs to the rounding floor of its residual (this
#: relative tolerance is below it); Newton stops at this fraction of its initial residual.
_PCG_RTOL = 1e-15
_NEWTON_RTOL = 1e-13
#: A read's problem vectors (4·M·N doubles per input) are built for this many bytes of inputs at
#: a time.
_READ_CHUNK_BYTES = 256e6
METHODS = ("auto", "pcg", "direct")
READ_METHODS = ("auto", "pcg", "direct", "transfer")


def _num_threads(batch: int) -> int:
    """Threads for a batch of right-hand sides (``xbar._threads.batch_threads``)."""
    return _threads.batch_threads(batch)


def solve_nodes(
    xb, rv: np.ndarray, cv: np.ndarray, method: str, maxiter: int | None, scratch: bool = False
):
    """Node voltages for terminal voltages (B, M), (B, N), one NaN pattern at a time.

    Parameters
    ----------
    xb : Crossbar
        The array.
    rv, cv : (B, M), (B, N) ndarray
        Row and column source voltages, V (NaN = floating).
    method : {"auto", "pcg", "direct"}
        Solver.
    maxiter : int or None
        CG iteration limit per item (None: 20·(M+N)+200).
    scratch : bool
        Build the problem and node voltages in reused scratch memory, valid only until the
        generator resumes (the caller copies out what it needs).

    Yields
    ------
    tuple
        ``(batch indices, problem, w, b, CG iterations, method, Newton steps, status,
        errors)``: ``w``, ``b`` node voltages (V); ``status`` per item an ``INFO`` code of the
        iteration itself (the accuracy test is the caller's); ``errors`` the kernel's (B, 2, N)
        column error estimates and gross currents (A) for linear PCG solves (None otherwise).
        Iterations always run to the rounding floor of the residual.
    """
    net = xb.network()
    M, N = xb.shape
    check_connected(net, ~np.isnan(rv), ~np.isnan(cv))
    if method == "pcg" and net.ideal_wires:
        raise ConfigError(
            "method='pcg' needs every wire segment > 0 ohm; zero-resistance "
            "wires are solved with method='direct' (or 'auto')"
        )
    use_direct = method == "direct" or (method == "auto" and net.ideal_wires)
    n_newton = 0
    if maxiter is None:
        maxiter = 20 * (M + N) + 200
    if rv.shape[0] == 1:
        group = np.zeros(1, dtype=int)
    else:
        pattern = np.concatenate([np.isnan(rv), np.isnan(cv)], axis=1)
        group = np.unique(pattern, axis=0, return_inverse=True)[1].ravel()
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        size = idx.size * 2 * M * N
        buffers = (_scratch.take(size), _scratch.take(size)) if scratch else None
        prob = build_problem(
            net,
            rv[idx],
            cv[idx],
            xb.terminal_pattern(~np.isnan(rv[idx[0]]), ~np.isnan(cv[idx[0]])),
            buffers,
        )
        errors = None
        if use_direct:
            X = direct.solve(net, prob)
            iters = np.zeros(idx.size, dtype=int)
            status = np.where(np.isfinite(X).all(axis=1), 0, -1)
            used = "direct"
            if not xb.linear:
                n_newton, iters, _, status = newton.solve(
                    net, prob, xb.cell_model(), X, rtol=_NEWTON_RTOL, atol=0.0, maxiter=maxiter
                )
                used = "newton-direct"
        else:
            X = prob.x  # the start; overwritten with the solution
            fixed_idx = np.flatnonzero(np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]))
            fixed_val = X[:, fixed_idx].copy()  # the sources, for a direct fallback
            gw = net.gw if N > 1 else np.ones((M, 1))
            gb = net.gb if M > 1 else np.ones((1, N))
            status, iters, _, _, errors = _pcg.solve(
                net.gc,
                np.ascontiguousarray(gw),
                np.ascontiguousarray(gb),
                prob.dw_extra,
                prob.db_extra,
                prob.fixed_w,
                prob.fixed_b,
                prob.f,
                X,
                _PCG_RTOL,
                0.0,
                int(maxiter),
                _num_threads(idx.size),
            )
            status = np.asarray(status, dtype=int)
            # A breakdown or a non-finite iterate (pivots lost to cancellation next to
            # stiff wires): the sparse direct solver takes those items under "auto".
            bad = (status == -1) | ~np.isfinite(X).all(axis=1)
            status[bad] = -1
            if bad.any() and method == "auto":
                x_bad = X[bad]
                x_bad[:, fixed_idx] = fixed_val[bad]
                sub = Problem(
                    prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b, prob.f[bad], x_bad
                )
                X[bad] = direct.solve(net, sub)
                status[bad] = np.where(np.isfinite(X[bad]).all(axis=1), 0, -1)
                errors = None  # estimates are recomputed for the whole group
            used = "pcg"
            if not xb.linear:
                n_newton, iters, _, st = newton.solve(
                    net,
                    prob,
                    xb.cell_model(),
                    X,
                    rtol=_NEWTON_RTOL,
                    atol=0.0,
                    maxiter=maxiter,
                    n_threads=_num_threads(idx.size),
                )
                status = np.where(status == 0, st, status)
                errors = None
                used = "newton-pcg"
        X = X.reshape(idx.size, 2, M, N)
        yield idx, prob, X[:, 0], X[:, 1], np.asarray(iters), used, n_newton, status, errors
        if buffers is not None:
            for buf in buffers:
                _scratch.give(buf)


def solve(
    xb,
    rv: np.ndarray,
    cv: np.ndarray,
    batched: bool,
    *,
    method: str,
    rtol: float,
    atol: float,
    maxiter: int | None,
    on_failure: str,
) -> CircuitSolution:
    """The body of ``Crossbar.solve`` for validated terminal voltages (see there).

    Parameters
    ----------
    xb : Crossbar
        The array.
    rv, cv : (B, M), (B, N) ndarray
        Row and column source voltages, V (NaN = floating).
    batched : bool
        Whether to return the batched solution (else the single one).
    method : {"auto", "pcg", "direct"}
        Solver.
    rtol, atol : float
        Required accuracy of the terminal currents (dimensionless, A).
    maxiter : int or None
        CG iteration limit per item.
    on_failure : {"raise", "warn", "ignore"}
        What failed items do once the whole batch is solved.

    Returns
    -------
    CircuitSolution
    """
    B = rv.shape[0]
    M, N = xb.shape
    net = xb.network()
    memory.check_fits(
        f"a solve of {B} item(s) on a {M}x{N} array",
        memory.solve_bytes(
            M, N, B, _num_threads(B), full=True, direct=method == "direct" or net.ideal_wires
        ),
        "solve fewer items at a time, or use read() for column currents",
    )
    w = np.empty((B, M, N))
    b = np.empty((B, M, N))
    iters = np.zeros(B, dtype=int)
    resid = np.zeros(B)
    status = np.zeros(B, dtype=int)
    row_err = np.zeros((B, M))
    col_err = np.zeros((B, N))
    used = set()
    newton_iters = np.zeros(B, dtype=int)
    # Nonlinear cells: their currents and memristor voltages, evaluated once per solve (for
    # 1T1R cells every evaluation is an inner solve of each series cell).
    cells = None if xb.linear else (np.empty((B, M, N)), np.empty((B, M, N)))
    for idx, prob, wg, bg, it, how, nn, st, _ in solve_nodes(xb, rv, cv, method, maxiter):
        w[idx], b[idx], iters[idx], newton_iters[idx], status[idx] = wg, bg, it, nn, st
        i_cell = g_cell = None
        if cells is not None:
            i_cell, g_cell, cells[1][idx] = xb.cell_model().evaluate(wg - bg)
            cells[0][idx] = i_cell
        row_err[idx], col_err[idx], resid[idx] = current_errors(net, prob, wg, bg, i_cell, g_cell)
        used.add(how)
    sol = assembly.assemble_solution(
        net, xb.G, xb.cell, w, b, rv, cv, iters, resid, used.pop(), newton_iters, cells
    )
    rel, ok = accuracy.accuracy(net, sol, row_err, col_err, rv, cv, rtol, atol)
    info = accuracy.info_codes(status, ok)
    sol = dataclasses.replace(
        sol, row_current_errors=row_err, col_current_errors=col_err, error_estimate=rel, info=info
    )
    accuracy.report(sol, on_failure, rtol, atol, lambda: accuracy.stiffness(net, rv, cv))
    return sol if batched else assembly.unbatch(sol)


def read(
    xb,
    V: np.ndarray,
    batched: bool,
    *,
    method: str,
    rtol: float,
    atol: float,
    maxiter: int | None,
    on_failure: str,
) -> np.ndarray:
    """The body of ``Crossbar.read`` for validated inputs (see there).

    Parameters
    ----------
    xb : Crossbar
        The array.
    V : (B, M) ndarray
        Driver source voltages, V.
    batched : bool
        Whether to return (B, N) (else (N,)).
    method : {"auto", "pcg", "direct", "transfer"}
        Solver; ``"auto"`` reads through the transfer matrix when it is cached or the batch has
        at least ``cost.transfer_break_even(M, N)`` inputs.
    rtol, atol, maxiter, on_failure :
        As in :func:`solve` (``rtol`` dimensionless, ``atol`` in A), for each column current.

    Returns
    -------
    (N,) or (B, N) ndarray
        Column currents into the sense terminals, A.
    """
    if method == "transfer" and not xb.linear:
        raise ConfigError(
            "method='transfer' needs linear cells (the read map of nonlinear cells is not a matrix)"
        )
    if method == "auto" and xb.linear:
        big = V.shape[0] >= cost.transfer_break_even(*xb.shape)
        method = "transfer" if (xb.has_transfer_matrix() or big) else "auto"
    if method == "transfer":
        out = V @ xb.transfer_matrix().T
        return out if batched else out[0]
    B = V.shape[0]
    M, N = xb.shape
    C = np.zeros((B, N))
    out = np.empty_like(C)
    net = xb.network()
    ideal_sense = bool(np.isinf(net.g_sense).any())
    # Inputs go through in chunks whose problem vectors (4·M·N doubles each) stay
    # within ~256 MB; only the (B, N) result has to fit as a whole.
    threads = _num_threads(B)
    chunk = max(threads, int(_READ_CHUNK_BYTES // (32 * M * N)))
    memory.check_fits(
        f"a read of {B} input(s) on a {M}x{N} array",
        memory.solve_bytes(
            M, N, min(B, chunk), threads, full=False, direct=method == "direct" or net.ideal_wires
        )
        + 8.0 * B * N,
        "read fewer inputs at a time",
    )
    failed = []
    for s0 in range(0, B, chunk):
        Vc, Cc = V[s0 : s0 + chunk], C[s0 : s0 + chunk]
        for idx, prob, w, b, _, _, _, status, errors in solve_nodes(
            xb, Vc, Cc, method, maxiter, scratch=True
        ):
            # Cell currents only where a bit line meets its source without a resistor.
            i_cell = g_cell = None
            if not xb.linear:
                i_cell, g_cell, _ = xb.cell_model().evaluate(w - b)
            elif ideal_sense or errors is None:
                i_cell = net.gc * (w - b)
            res = assembly.col_currents(net, i_cell, b, Cc[idx])
            out[s0 + idx] = res
            if errors is None:
                assert i_cell is not None  # set above whenever errors is None
                err = current_errors(net, prob, w, b, i_cell, g_cell)[1]
                gross = np.abs(i_cell).sum(axis=1)
            else:
                err, gross = errors[:, 0], errors[:, 1]
            ok = (err <= rtol * (gross + np.abs(res)) + atol).all(axis=1)
            status = accuracy.info_codes(status, ok)
            for k in np.flatnonzero(status != 0):
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.max(np.where(err[k] > 0, err[k] / gross[k], 0.0))
                failed.append((int(s0 + idx[k]), int(status[k]), float(rel)))
    if failed:
        accuracy.report_read(
            failed, on_failure, rtol, atol, lambda: accuracy.stiffness(net, V, C), out, batched
        )
    return out if batched else out[0]


def map_solve(xb, rv: np.ndarray, cv: np.ndarray, method: str) -> CircuitSolution:
    """Unit-excitation solve for a read map.

    A far line's tiny current may miss rtol relative to itself (info 3) while being exact
    relative to the map's scale; other failures raise ``ConvergenceError``.

    Parameters
    ----------
    xb : Crossbar
        The array.
    rv, cv : (B, M), (B, N) ndarray
        Row and column source voltages (unit excitations), V.
    method : {"auto", "pcg", "direct"}
        Solver.

    Returns
    -------
    CircuitSolution
        The batched solution.
    """
    sol = xb.solve(rv, cv, method=method, on_failure="ignore")
    info = np.asarray(sol.info)
    bad = np.flatnonzero((info != 0) & (info != 3))
    if bad.size:
        k = int(bad[0])
        raise ConvergenceError(
            f"unit-excitation solve {k} of the map did not converge: "
            f"info={int(info[k])} ({INFO[int(info[k])]})",
            iterations=int(np.asarray(sol.iterations)[k]),
            residual=float(np.asarray(sol.residual)[k]),
        )
    return sol
