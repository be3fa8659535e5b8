"""Nonlinear cells: damped Newton on the nodal KCL equations.

Each Newton step solves ``J δ = −F`` with the line-preconditioned Schur-complement CG kernel: the
Jacobian has exactly the linear network's structure, with every cell's conductance replaced by its
differential conductance ``dI/dV`` at the present voltages, so nothing is refactorised.  Steps are
damped by backtracking on ``||F||₂`` (Armijo), starting from the linear (small-signal) solution.
The linear solves are inexact (forcing term ``min(0.1, ||F_k||/||F_0||)``), the final test is on
the true nonlinear residual.
"""

from __future__ import annotations

import numpy as np

from .._deprecate import renamed_kwarg
from .._kernels import _pcg  # type: ignore[attr-defined]  # compiled, no stub
from .._kernels._newton import newton as _kernel_newton
from . import direct
from .nodal import NodalNetwork as Network, Problem, line_labels, node_currents


class CellModel:
    """Current through a whole cell (memristor, and access transistor for 1T1R) vs its voltage.

    Parameters
    ----------
    iv : xbar.iv model
        The memristor's I-V shape.
    G : (M, N) np.ndarray
        Small-signal conductances, S.
    r_access : (M, N) np.ndarray
        Series access resistance, ohm (0 for 0T1R).
    on : (M, N) np.ndarray of bool
        Gate mask; off cells carry nothing.
    """

    def __init__(self, iv, G: np.ndarray, r_access: np.ndarray, on: np.ndarray):
        self.iv, self.G, self.r_access, self.on = iv, G, r_access, on
        self.series = bool((r_access > 0).any())

    def evaluate(self, V: np.ndarray):
        """(I, dI/dV, V_memristor) for total cell voltages ``V`` (…, M, N).

        Parameters
        ----------
        V : (..., M, N) np.ndarray
            Voltage across each whole cell, V.

        Returns
        -------
        tuple of np.ndarray
            Cell current (A), differential conductance dI/dV (S), memristor voltage (V).
        """
        if not self.series:
            I, g = self.iv._evaluate(V, self.G)
            vm = V
        else:
            vm = self._memristor_voltage(V)
            I, gm = self.iv._evaluate(vm, self.G)
            g = gm / (1.0 + self.r_access * gm)
        I = np.where(self.on, I, 0.0)
        g = np.where(self.on, g, 0.0)
        return I, g, np.where(self.on, vm, 0.0)

    def _memristor_voltage(self, V):
        """Solve ``u + r_a·I(u) = V`` for the memristor voltage u (monotone; bracketed Newton)."""
        ra, G = self.r_access, self.G
        lo = np.minimum(V, 0.0)
        hi = np.maximum(V, 0.0)
        u = V / (1.0 + ra * G)  # the linear split
        for _ in range(100):
            I, g = self.iv._evaluate(u, G)
            F = u + ra * I - V
            lo = np.where(F < 0, u, lo)
            hi = np.where(F > 0, u, hi)
            new = u - F / (1.0 + ra * g)
            bad = ~((new >= lo) & (new <= hi)) | ~np.isfinite(new)
            new = np.where(bad, 0.5 * (lo + hi), new)
            if np.all(np.abs(new - u) <= 1e-15 * np.abs(V) + 1e-300):
                return new
            u = new
        return u


def residual(net: Network, prob: Problem, cells: CellModel, X: np.ndarray):
    """Nonlinear KCL residual F (B, 2MN) on free nodes (0 on fixed), plus the cells' dI/dV.

    Parameters
    ----------
    net : Network
        The wires and terminals.
    prob : Problem
        Sources and fixed nodes.
    cells : CellModel
        The cells' I-V.
    X : (B, 2MN) np.ndarray
        Node voltages, V.

    Returns
    -------
    tuple of np.ndarray
        F (B, 2MN), A, and the cells' differential conductances (B, M, N), S.
    """
    B = X.shape[0]
    M, N = net.shape
    x = X.reshape(B, 2, M, N)
    I, g, _ = cells.evaluate(x[:, 0] - x[:, 1])
    out_w, out_b = node_currents(net, prob, x[:, 0], x[:, 1], I)
    out_w[:, prob.fixed_w > 0] = 0.0
    out_b[:, prob.fixed_b > 0] = 0.0
    return np.concatenate([out_w.reshape(B, -1), out_b.reshape(B, -1)], axis=1), g


def _merged(net: Network, prob: Problem, F: np.ndarray) -> np.ndarray:
    """KCL residual per electrical node: node residuals summed over zero-resistance wires."""
    if not net.ideal_wires:
        return F
    lw, lb, n = line_labels(net)
    labels = np.concatenate([lw.ravel(), lb.ravel()])
    fixed = np.zeros(n, dtype=bool)
    fixed[labels[np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0]] = True
    out = np.stack([np.bincount(labels, weights=f, minlength=n) for f in F])
    out[:, fixed] = 0.0
    return out


def kernel_description(cells: CellModel):
    """(kind, v0_pos, v0_neg, knots, values, slopes) for the compiled Newton, or None.

    The compiled loop evaluates Linear, Sinh, Asymmetric without selector and Table cells of
    0T1R arrays; a series selector or access transistor needs an inner solve per cell and uses
    the NumPy loop below.

    Parameters
    ----------
    cells : CellModel
        The cells (their I-V and whether a series element is present).

    Returns
    -------
    tuple or None
        ``(kind, v0_pos, v0_neg, knots, values, slopes)``: the ``xbar.iv`` kernel code, the
        sinh scale voltages v0 (V) for positive and negative bias, and for a Table the knots
        (V), the values I/G (V) and the slopes (dimensionless) as contiguous arrays (unused
        arrays are a 1-element placeholder); ``None`` when the compiled loop cannot evaluate
        these cells.
    """
    from .. import iv as ivmod

    iv = cells.iv
    empty = np.zeros(1)
    if cells.series:
        return None
    if isinstance(iv, ivmod.Sinh):
        return ivmod.KIND_SINH, iv.v0, iv.v0, empty, empty, empty
    if isinstance(iv, ivmod.Asymmetric) and iv.selector is None:
        return ivmod.KIND_ASYMMETRIC, iv.v0_pos, iv.v0_neg, empty, empty, empty
    if isinstance(iv, ivmod.Table):
        return (
            ivmod.KIND_TABLE,
            0.0,
            0.0,
            np.ascontiguousarray(iv.v),
            np.ascontiguousarray(iv.i_over_g),
            np.ascontiguousarray(iv.slopes),
        )
    return None


def _tolerance(net, prob, cells, X, rtol, atol):
    """Residual tolerance per item (A): rtol times the residual with every free node at 0 V."""
    X0 = np.where(np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0, X, 0.0)
    F0 = residual(net, prob, cells, X0)[0]
    return np.maximum(rtol * np.linalg.norm(_merged(net, prob, F0), axis=1), atol)


@renamed_kwarg(num_threads="n_threads")
def solve(
    net: Network,
    prob: Problem,
    cells: CellModel,
    X: np.ndarray,
    *,
    rtol: float,
    atol: float,
    maxiter: int,
    max_newton: int = 50,
    n_threads: int = 1,
):
    """Refine ``X`` (B, 2MN; the linear solution) in place to the nonlinear solution.

    Parameters
    ----------
    net : Network
        The wires and terminals.
    prob : Problem
        Sources and fixed nodes.
    cells : CellModel
        The cells' I-V.
    X : (B, 2MN) np.ndarray
        Start (the linear solution), V; overwritten with the solution.
    rtol, atol : float
        Stop when ||F||₂ <= max(rtol·||F(x_fixed)||₂, atol); atol in A.
    maxiter : int
        CG iteration limit per linear solve.
    max_newton : int
        Newton step limit.
    n_threads : int
        Threads for the compiled Newton (one item per thread); ``num_threads`` is its
        deprecated name.

    Returns
    -------
    newton_iterations, cg_iterations : (B,) ndarray of int
        Newton steps and CG iterations per batch item.
    residual : (B,) ndarray
        Final residual 2-norm ||F||₂ per item, A.
    status : (B,) ndarray of int
        0 (converged), 2 (Newton step limit), -1 (Jacobian breakdown), -2 (line search
        stalled), as in ``xbar.circuit.solution.INFO``.

    Notes
    -----
    Items that Newton cannot solve from the linear start (strongly nonlinear cells, e.g. sinh at
    V/v0 >> 10) are solved again by voltage continuation: the sources are ramped up from a
    fraction where Newton converges, each stage starting from the previous one's solution.
    """
    X_lin = X.copy()
    n_newton, n_cg, res, status = _newton(
        net,
        prob,
        cells,
        X,
        rtol=rtol,
        atol=atol,
        maxiter=maxiter,
        max_newton=max_newton,
        n_threads=n_threads,
    )
    for k in np.flatnonzero(status != 0):
        out = _continuation(
            net,
            prob,
            cells,
            int(k),
            X_lin[k],
            rtol=rtol,
            atol=atol,
            maxiter=maxiter,
            max_newton=max_newton,
        )
        if out is not None:
            X[k], n_newton[k], n_cg[k], res[k] = out
            status[k] = 0
    return n_newton, n_cg, res, status


def _scaled(prob: Problem, lam: float, k: slice) -> Problem:
    """The problem with every source voltage scaled by ``lam`` (item slice ``k``)."""
    fixed = np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0
    return Problem(
        prob.dw_extra,
        prob.db_extra,
        prob.fixed_w,
        prob.fixed_b,
        np.ascontiguousarray(lam * prob.f[k]),
        np.where(fixed, lam * prob.x[k], 0.0),
    )


def _continuation(
    net,
    prob,
    cells,
    k: int,
    X_lin: np.ndarray,
    *,
    rtol,
    atol,
    maxiter,
    max_newton,
    max_stages: int = 200,
):
    """Voltage continuation for item ``k`` (``X_lin``: its linear solution, (2MN,)).

    Returns (X, newton steps, CG iterations, residual) on success, None otherwise.  The step in
    the source scale doubles after a converged stage and halves after a failed one.
    """
    sl = slice(k, k + 1)
    fixed = np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0
    lam, step, X = 0.0, 0.125, None
    steps = cg = 0
    for _ in range(max_stages):
        target = min(1.0, lam + step)
        sub = _scaled(prob, target, sl)
        trial = np.ascontiguousarray(
            (target * X_lin if X is None else np.where(fixed, sub.x[0], X))[None]
        )
        nn, nc, rr, st = _newton(
            net,
            sub,
            cells,
            trial,
            rtol=rtol,
            atol=atol,
            maxiter=maxiter,
            max_newton=max_newton,
            n_threads=1,
        )
        steps += int(nn[0])
        cg += int(nc[0])
        if st[0] == 0:
            lam, X = target, trial[0]
            if lam >= 1.0:
                return X, steps, cg, float(rr[0])
            step *= 2.0
        else:
            step *= 0.5
            if step < 1e-6:
                return None
    return None


def _newton(
    net: Network,
    prob: Problem,
    cells: CellModel,
    X: np.ndarray,
    *,
    rtol: float,
    atol: float,
    maxiter: int,
    max_newton: int = 50,
    n_threads: int = 1,
):
    """Damped Newton from ``X`` in place; (newton steps, CG iterations, residual, status)."""
    B = X.shape[0]
    M, N = net.shape
    gw = np.ascontiguousarray(net.gw if N > 1 else np.ones((M, 1)))
    gb = np.ascontiguousarray(net.gb if M > 1 else np.ones((1, N)))
    tol = _tolerance(net, prob, cells, X, rtol, atol)
    desc = kernel_description(cells)
    if desc is not None and not net.ideal_wires:
        G = np.ascontiguousarray(np.where(cells.on, cells.G, 0.0))
        status, n_cg, n_newton, res = _kernel_newton(
            G,
            gw,
            gb,
            prob.dw_extra,
            prob.db_extra,
            prob.fixed_w,
            prob.fixed_b,
            prob.f,
            X,
            desc[0],
            desc[1],
            desc[2],
            desc[3],
            desc[4],
            desc[5],
            np.ascontiguousarray(tol),
            int(maxiter),
            int(max_newton),
            int(n_threads),
        )
        status = np.asarray(status, dtype=int)
        # Kernel codes: 1 Newton limit, -1 breakdown, 2 line search stalled.
        status = np.select([status == 1, status == 2], [2, -2], status)
        return n_newton.astype(int), n_cg.astype(int), res, status
    n_newton = np.zeros(B, dtype=int)
    n_cg = np.zeros(B, dtype=int)
    res = np.zeros(B)
    status = np.zeros(B, dtype=int)
    full = prob
    for k in range(B):
        x = X[k : k + 1]
        prob = Problem(
            full.dw_extra,
            full.db_extra,
            full.fixed_w,
            full.fixed_b,
            full.f[k : k + 1],
            full.x[k : k + 1],
        )  # item k alone
        F, g = residual(net, prob, cells, x)
        fn = fn_first = float(np.linalg.norm(_merged(net, prob, F)))
        while fn > tol[k] or not np.isfinite(fn):
            if n_newton[k] >= max_newton or not np.isfinite(fn):
                status[k] = 2
                break
            eta = min(0.1, fn / max(fn_first, 1e-300))
            delta = np.zeros_like(x)
            if net.ideal_wires:
                # Zero-resistance wires: exact step from the direct solver on merged nodes.
                jac = Network(np.ascontiguousarray(g[0]), net.gw, net.gb, net.g_driver, net.g_sense)
                step = Problem(
                    prob.dw_extra,
                    prob.db_extra,
                    prob.fixed_w,
                    prob.fixed_b,
                    np.ascontiguousarray(-F),
                    delta,
                )
                delta = direct.solve(jac, step)
                st, it = 0, 0
            else:
                st, it, _, _, _ = _pcg.solve(
                    np.ascontiguousarray(g[0]),
                    gw,
                    gb,
                    prob.dw_extra,
                    prob.db_extra,
                    prob.fixed_w,
                    prob.fixed_b,
                    np.ascontiguousarray(-F),
                    delta,
                    max(eta, 1e-14),
                    0.0,
                    int(maxiter),
                    1,
                )
                st, it = int(st[0]), int(it[0])
            n_cg[k] += it
            if st not in (0, 1) or not np.all(np.isfinite(delta)):
                status[k] = -1
                break
            # Backtracking line search on ||F|| (Armijo, sufficient decrease 1e-4).
            t = 1.0
            while True:
                trial = x + t * delta
                Ft, gt = residual(net, prob, cells, trial)
                ft = float(np.linalg.norm(_merged(net, prob, Ft)))
                if ft <= (1.0 - 1e-4 * t) * fn or t < 1e-6:
                    break
                t *= 0.5
            if not ft <= (1.0 - 1e-4 * t) * fn:
                status[k] = -2
                x[:] = trial if ft < fn else x
                fn = min(ft, fn)
                break
            x[:] = trial
            F, g, fn = Ft, gt, ft
            n_newton[k] += 1
        res[k] = fn
    return n_newton, n_cg, res, status
