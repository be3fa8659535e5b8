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

from .._kernels import _line_pcg
from ..exceptions import ConvergenceError
from . import direct
from .network import Network, Problem, line_labels, node_currents


class CellModel:
    """Current through a whole cell (memristor, and access transistor for 1T1R) vs its voltage.

    ``iv`` is an ``xbar.iv`` model; ``G`` the small-signal conductances (S); ``r_access`` (ohm,
    0 for 0T1R) in series; ``on`` the gate mask (off cells carry nothing).
    """

    def __init__(self, iv, G: np.ndarray, r_access: np.ndarray, on: np.ndarray):
        self.iv, self.G, self.r_access, self.on = iv, G, r_access, on
        self.series = bool((r_access > 0).any())

    def evaluate(self, V: np.ndarray):
        """(I, dI/dV, V_memristor) for total cell voltages ``V`` (…, M, N)."""
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
        u = V / (1.0 + ra * G)                        # the linear split
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
    """Nonlinear KCL residual F (B, 2MN) on free nodes (0 on fixed), plus the cells' (I, g)."""
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
        return (ivmod.KIND_TABLE, 0.0, 0.0, np.ascontiguousarray(iv.v),
                np.ascontiguousarray(iv.i_over_g), np.ascontiguousarray(iv.slopes))
    return None


def solve(net: Network, prob: Problem, cells: CellModel, X: np.ndarray, *, rtol: float,
          atol: float, maxiter: int, max_newton: int = 50, num_threads: int = 1):
    """Refine ``X`` (B, 2MN; the linear solution) in place to the nonlinear solution.

    Returns (newton_iterations, cg_iterations, residual 2-norm) per batch item.
    """
    B = X.shape[0]
    M, N = net.shape
    gw = np.ascontiguousarray(net.gw if N > 1 else np.ones((M, 1)))
    gb = np.ascontiguousarray(net.gb if M > 1 else np.ones((1, N)))
    # Scale of the problem: residual with every free node at 0 V.
    X0 = np.where(np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0, X, 0.0)
    F0 = residual(net, prob, cells, X0)[0]
    scale = np.linalg.norm(_merged(net, prob, F0), axis=1)
    tol = np.maximum(rtol * scale, atol)
    desc = kernel_description(cells)
    if desc is not None and not net.ideal_wires:
        G = np.ascontiguousarray(np.where(cells.on, cells.G, 0.0))
        status, n_cg, n_newton, res = _line_pcg.newton(
            G, gw, gb, prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b, prob.f, X,
            desc[0], desc[1], desc[2], desc[3], desc[4], desc[5], np.ascontiguousarray(tol),
            int(maxiter), int(max_newton), int(num_threads))
        bad = np.flatnonzero(status != 0)
        if bad.size:
            k = int(bad[0])
            why = {1: f"no convergence in {max_newton} Newton steps",
                   -1: "the Jacobian solve broke down",
                   2: "the line search stalled"}.get(int(status[k]), f"status {int(status[k])}")
            raise ConvergenceError(
                f"Newton failed for batch item {k}: {why}; residual {res[k]:.3e} A > tolerance "
                f"{tol[k]:.3e} A after {int(n_newton[k])} steps and {int(n_cg[k])} CG iterations",
                iterations=int(n_newton[k]), residual=float(res[k]))
        return n_newton.astype(int), n_cg.astype(int), res
    n_newton = np.zeros(B, dtype=int)
    n_cg = np.zeros(B, dtype=int)
    res = np.zeros(B)
    for k in range(B):
        x = X[k:k + 1]
        # This item's right-hand side only: the residual reshapes f to the batch of x.
        prob_k = Problem(prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b,
                         prob.f[k:k + 1], x)
        F, g = residual(net, prob_k, cells, x)
        fn = fn_first = float(np.linalg.norm(_merged(net, prob, F)))
        while fn > tol[k]:
            if n_newton[k] >= max_newton:
                raise ConvergenceError(
                    f"Newton did not converge for batch item {k} in {max_newton} steps: residual "
                    f"{fn:.3e} A > tolerance {tol[k]:.3e} A ({n_cg[k]} CG iterations)",
                    iterations=int(n_newton[k]), residual=fn)
            eta = min(0.1, fn / max(fn_first, 1e-300))
            delta = np.zeros_like(x)
            if net.ideal_wires:
                # Zero-resistance wires: exact step from the direct solver on merged nodes.
                jac = Network(np.ascontiguousarray(g[0]), net.gw, net.gb, net.g_driver,
                              net.g_sense)
                step = Problem(prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b,
                               np.ascontiguousarray(-F), delta)
                delta = direct.solve(jac, step)
                status, it = np.zeros(1, dtype=int), np.zeros(1, dtype=int)
            else:
                status, it, r, _ = _line_pcg.solve(
                    np.ascontiguousarray(g[0]), gw, gb,
                    prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b,
                    np.ascontiguousarray(-F), delta, max(eta, 1e-14), 0.0, int(maxiter), 1)
            n_cg[k] += int(it[0])
            if status[0] not in (0, 1):
                raise ConvergenceError(
                    f"Newton step {n_newton[k] + 1} of batch item {k}: the Jacobian solve broke "
                    f"down (status {int(status[0])}), residual {fn:.3e} A",
                    iterations=int(n_newton[k]), residual=fn)
            # Backtracking line search on ||F|| (Armijo, sufficient decrease 1e-4).
            t = 1.0
            while True:
                trial = x + t * delta
                Ft, gt = residual(net, prob_k, cells, trial)
                ft = float(np.linalg.norm(_merged(net, prob, Ft)))
                if ft <= (1.0 - 1e-4 * t) * fn or t < 1e-6:
                    break
                t *= 0.5
            x[:] = trial
            F, g, fn = Ft, gt, ft
            n_newton[k] += 1
        res[k] = fn
    return n_newton, n_cg, res
