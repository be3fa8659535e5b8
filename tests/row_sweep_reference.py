"""The former Python implementation of the exact read maps: a block-Cholesky sweep down the rows.

Kept as an independent reference for the Cython column sweep (``xbar._kernels._maps``): other
orientation (fronts of N bit-line nodes), other elimination order (word lines first), scipy's
LAPACK wrappers, and Y from a block back-substitution instead of the front's Schur complement.

Row i has word-line nodes ``w_i`` and bit-line nodes ``b_i`` (N each).  The word line is
eliminated exactly, ``w_i = Tw_i⁻¹ (f_i + D_i b_i)``, which leaves a block-tridiagonal SPD system in
the bit-line rows:

    K_i b_i − Gb_{i−1} b_{i−1} − Gb_i b_{i+1} = D_i Tw_i⁻¹ f_i,   K_i = Db_i − D_i Tw_i⁻¹ D_i

with ``Gb`` the (diagonal) bit-line segment conductances between rows.  Forward sweeps
``S_i = K_i − Gb_{i−1} S_{i−1}⁻¹ Gb_{i−1}`` carry the right-hand sides of all M unit inputs at
once; ``I_col = g_sense · b_{M−1}``.
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solveh_banded


def row_sweep(net, admittance: bool = False):
    """T (N, M), A/V, for the network ``net`` (see module docstring).

    With ``admittance=True`` also returns the driver admittance ``Y`` (M, M), A/V,
    ``I_row = Y @ V_row`` (bit lines at 0 V), from a block back-substitution that recovers every
    bit-line row and hence every word line's first node; this stores the M Cholesky factors and
    forward right-hand sides, O(M N² + N M²) memory.
    """
    M, N = net.shape
    gc, gw, gb = net.gc, net.gw, net.gb
    Z = np.zeros((N, M))  # right-hand sides of all unit inputs at the current row
    chol = None
    eye = np.eye(N)
    factors, rhs, t0 = [], [], []
    for i in range(M):
        # Tw_i⁻¹ (dense, from its tridiagonal band): diagonal = cells + segments + driver.
        diag = gc[i].copy()
        diag[0] += net.g_driver[i]
        if N > 1:
            diag[:-1] += gw[i]
            diag[1:] += gw[i]
        band = np.zeros((2, N))
        band[1] = diag
        if N > 1:
            band[0, 1:] = -gw[i]
        tinv = solveh_banded(band, eye, check_finite=False)
        K = -(gc[i][:, None] * tinv * gc[i][None, :])
        kd = gc[i].copy()
        if i > 0:
            kd += gb[i - 1]
        if i < M - 1:
            kd += gb[i]
        else:
            kd += net.g_sense
        K[np.diag_indices(N)] += kd
        if i > 0:
            # X = S_{i−1}⁻¹ [Gb_{i−1} | Z[:, :i]] in one triangular solve pair.
            X = cho_solve(chol, np.hstack([np.diag(gb[i - 1]), Z[:, :i]]), check_finite=False)
            K -= gb[i - 1][:, None] * X[:, :N]
            Z[:, :i] = gb[i - 1][:, None] * X[:, N:]
        Z[:, i] = net.g_driver[i] * gc[i] * tinv[:, 0]
        chol = cho_factor(K, lower=True, check_finite=False)
        if admittance:
            factors.append(chol)
            rhs.append(Z[:, : i + 1].copy())
            t0.append((tinv[0, 0], gc[i] * tinv[:, 0]))
    b_last = cho_solve(chol, Z, check_finite=False)  # (N, M): b_{M−1} per unit input
    T = net.g_sense[:, None] * b_last
    if not admittance:
        return T
    # Back substitution b_i = S_i⁻¹ (y_i + Gb_i b_{i+1}); then w_{i,0} and I_row,i = g_d (V_i − w_{i,0}).
    Y = np.empty((M, M))
    b = b_last
    for i in range(M - 1, -1, -1):
        if i < M - 1:
            y = gb[i][:, None] * b
            y[:, : i + 1] += rhs[i]
            b = cho_solve(factors[i], y, check_finite=False)
        w0 = t0[i][1] @ b  # from the cells of row i
        w0[i] += net.g_driver[i] * t0[i][0]  # from its own driver
        Y[i] = -net.g_driver[i] * w0
        Y[i, i] += net.g_driver[i]
    return T, Y
