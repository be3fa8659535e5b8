"""Node voltages and terminal currents correct to float64 rounding for ill-conditioned networks.

The dense system of ``dense_reference`` is solved by iterative refinement whose residual is
computed exactly in rational arithmetic (``fractions.Fraction``: every float64 is a rational), with
float64 corrections; it converges to the correctly rounded solution while cond(A)·eps < 1
(refinement with an exact residual).  The terminal currents are evaluated exactly from the
solution plus its last, sub-ulp correction, so that ``(V − w0)/r`` does not cancel either.  Slow:
small networks only.
"""

from fractions import Fraction

import numpy as np

from dense_reference import dense_system


def _refine(A, f, x, fixed, rounds=8):
    """(x, d): refined node voltages and the remaining correction below their ulp."""
    free = np.flatnonzero(~fixed)
    Af = A[np.ix_(free, free)]
    nz = [np.flatnonzero(A[k]) for k in free]
    Arow = [[Fraction(float(A[k, l])) for l in cols] for k, cols in zip(free, nz)]
    fk = [Fraction(float(f[k])) for k in free]
    x = x.copy()
    x[free] = np.linalg.solve(Af, f[free] - A[np.ix_(free, np.flatnonzero(fixed))] @ x[fixed])
    d = np.zeros_like(x)
    for _ in range(rounds + 1):
        xf = [Fraction(float(v)) for v in x]
        r = np.array(
            [
                float(fk[n] - sum(a * xf[l] for a, l in zip(Arow[n], nz[n])))
                for n in range(free.size)
            ]
        )
        d[free] = np.linalg.solve(Af, r)
        if np.all(np.abs(d[free]) <= 1e-17 * np.abs(x[free])):
            break
        x[free] += d[free]
    return x, d


def exact_solve(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, r_access=None, select=None):
    """(w, b, I_row, I_col) like ``dense_solve``, to float64 rounding of the exact solution."""
    A, f, x, fixed, M, N = dense_system(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, r_access, select)
    x, d = _refine(A, f, x, fixed)
    hi = [Fraction(float(a)) + Fraction(float(b)) for a, b in zip(x, d)]
    r_drv = np.broadcast_to(np.asarray(r_drv, float), (M,))
    r_sns = np.broadcast_to(np.asarray(r_sns, float), (N,))

    def kcl(k):  # net current leaving node k into the network, exactly
        return float(sum(Fraction(float(A[k, l])) * hi[l] for l in np.flatnonzero(A[k])))

    i_row = np.zeros(M)
    for i in range(M):
        k = i * N
        if not np.isnan(v_row[i]):
            i_row[i] = (
                kcl(k)
                if r_drv[i] == 0
                else float((Fraction(float(v_row[i])) - hi[k]) / Fraction(float(r_drv[i])))
            )
    i_col = np.zeros(N)
    for j in range(N):
        k = M * N + (M - 1) * N + j
        if not np.isnan(v_col[j]):
            i_col[j] = (
                -kcl(k)
                if r_sns[j] == 0
                else float((hi[k] - Fraction(float(v_col[j]))) / Fraction(float(r_sns[j])))
            )
    return x[: M * N].reshape(M, N), x[M * N : 2 * M * N].reshape(M, N), i_row, i_col
