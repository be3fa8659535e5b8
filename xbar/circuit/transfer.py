"""Exact read transfer matrix ``T`` (N, M) with ``I_col = T @ V_row`` (bit lines at 0 V).

Block elimination down the rows.  Row i has word-line nodes ``w_i`` and bit-line nodes ``b_i``
(N each).  The word line is eliminated exactly, ``w_i = Tw_i⁻¹ (f_i + D_i b_i)``, which leaves a
block-tridiagonal SPD system in the bit-line rows:

    K_i b_i − Gb_{i−1} b_{i−1} − Gb_i b_{i+1} = D_i Tw_i⁻¹ f_i,   K_i = Db_i − D_i Tw_i⁻¹ D_i

with ``Gb`` the (diagonal) bit-line segment conductances between rows.  Block Cholesky forward
sweeps ``S_i = K_i − Gb_{i−1} S_{i−1}⁻¹ Gb_{i−1}`` carry the right-hand sides of all M unit inputs
at once; only ``b_{M−1}`` is needed, and ``I_col = g_sense · b_{M−1}``.  Cost O(M N³ + M² N²)
flops in LAPACK, O(N (N + M)) memory.  Needs finite, non-zero terminal and wire resistances.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solveh_banded
from threadpoolctl import threadpool_limits

from .network import Network


def supported(net: Network) -> bool:
    """True if the block sweep applies (resistive terminals, no zero-resistance wire)."""
    return bool(np.isfinite(net.g_driver).all() and np.isfinite(net.g_sense).all()
                and (net.g_sense > 0).all() and not net.ideal_wires)


def transfer_rows(net: Network, *, admittance: bool = False):
    """T (N, M) and optionally Y (M, M); see :func:`_sweep`.

    The sweep makes ~M mid-size LAPACK calls; a multi-threaded BLAS spin-waits between them and
    becomes ~10x slower as soon as another process competes for the cores, so it runs on one
    BLAS thread.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _sweep(net, admittance)


def _sweep(net: Network, admittance: bool):
    """T (N, M), A/V, for the network ``net`` (see module docstring).

    With ``admittance=True`` also returns the driver admittance ``Y`` (M, M), A/V,
    ``I_row = Y @ V_row`` (bit lines at 0 V), from a block back-substitution that recovers every
    bit-line row and hence every word line's first node; this stores the M Cholesky factors and
    forward right-hand sides, O(M N² + N M²) memory.
    """
    M, N = net.shape
    gc, gw, gb = net.gc, net.gw, net.gb
    Z = np.zeros((N, M))          # right-hand sides of all unit inputs at the current row
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
            rhs.append(Z[:, :i + 1].copy())
            t0.append((tinv[0, 0], gc[i] * tinv[:, 0]))
    b_last = cho_solve(chol, Z, check_finite=False)       # (N, M): b_{M−1} per unit input
    T = net.g_sense[:, None] * b_last
    if not admittance:
        return T
    # Back substitution b_i = S_i⁻¹ (y_i + Gb_i b_{i+1}); then w_{i,0} and I_row,i = g_d (V_i − w_{i,0}).
    Y = np.empty((M, M))
    b = b_last
    for i in range(M - 1, -1, -1):
        if i < M - 1:
            y = gb[i][:, None] * b
            y[:, :i + 1] += rhs[i]
            b = cho_solve(factors[i], y, check_finite=False)
        w0 = t0[i][1] @ b                                  # from the cells of row i
        w0[i] += net.g_driver[i] * t0[i][0]                # from its own driver
        Y[i] = -net.g_driver[i] * w0
        Y[i, i] += net.g_driver[i]
    return T, Y
