"""Exact read maps of a linear crossbar: transfer matrix ``T`` and driver admittance ``Y``.

Read conditions: every word line i driven by ``V_row[i]`` behind ``g_d[i]`` (S), every bit line
held at 0 V behind ``g_s[j]``.  Then ``I_col = T @ V_row`` (T is (N, M), A/V) and
``I_row = Y @ V_row`` (Y is (M, M), A/V).  Both come from one block sweep over the columns, from
column N−1 to column 0, whose *front* is the M word-line nodes of the current column:

* **Bit line j** (tridiagonal ``Tb_j``: cells ``gc[:, j]`` to the word nodes, segments
  ``gb[:, j]``, ``g_s[j]`` to 0 V at its bottom end) is eliminated exactly.  It adds
  ``C_j = diag(gc_j) − diag(gc_j) Tb_j⁻¹ diag(gc_j)`` to the front.  ``Tb_j⁻¹`` is written in
  closed form from the admittances seen up (``L``) and down (``R``) the line from each node and
  the voltage ratios of consecutive nodes, all series combinations ``a·b/(a+b)`` of positive
  numbers: no subtraction, O(M²) per line.  The diagonal of ``C_j`` is the series combination of
  the cell with ``L + R``.
* **Word-line segments** ``gw[:, j]`` couple column j to j+1.  The front of column j is
  ``S_j = diag(gw_{j−1}) + E_j`` (``g_d`` in place of ``gw_{−1}``), where ``E_j`` is the
  admittance of column j and everything to its right as seen from its word nodes:
  ``E_j = C_j + X_{j+1}`` with ``X_{j+1} = E_{j+1} − E_{j+1} S_{j+1}⁻¹ E_{j+1}`` what column j+1
  presents through the wires ``gw_j``.  This equals the textbook
  ``diag(gw_j) − diag(gw_j) S_{j+1}⁻¹ diag(gw_j)``, but that form is the small difference of two
  wire-sized numbers (1 ohm wires against 0.1 µS cells lose ~7 of 16 digits of ``E``; Y was off
  by 3e-9 relative in that case), while ``E − E S⁻¹ E`` subtracts a term smaller than ``E``
  by the ratio ``E/gw``.  Per column: dpotrf of ``S_j`` (M³/3 flops), ``L⁻¹ E_j`` by dtrsm (M³),
  ``X_j`` by dsyrk (M³).  ``S_j`` is ``diag(gw_{j−1})`` plus a positive semi-definite matrix,
  so its condition number stays near ``1 + ‖E_j‖/min(gw)`` whatever the ratio of wire to cell
  conductance.
* **Admittance**: the Schur complement of the whole network on the driver nodes is ``S_0``, so
  ``Y = diag(g_d) − diag(g_d) S_0⁻¹ diag(g_d) = E_0 − E_0 S_0⁻¹ E_0 = X_0``.
* **Transfer matrix** by the adjoint: ``T[k, i] = g_s[k] g_d[i] x_k[w(i, 0)]`` with ``x_k`` the
  node voltages for a unit current injected at the bottom node of bit line k (the nodal matrix
  is symmetric).  That source enters the front at column k as ``gc_k ∘ Tb_k⁻¹[:, M−1]``; the
  sources that have entered are carried as an M x (N − j) block, multiplied by ``S_j⁻¹`` (the
  same dtrsm as ``E_j``, then one with ``Lᵀ``) and by ``diag(gw_{j−1})`` at each column,
  M²·N² flops in all.

Whole cost N·(7/3)·M³ + M²·N² flops, memory 8·(4M² + 2MN) bytes (T and Y included).  Needs
finite, positive ``g_d``, ``g_s`` and wire conductances (resistive terminals, no zero-resistance
wire); cells may be 0 S (isolated).
Python validates; nothing here re-checks its input.  Status: 0 = done, k > 0 = the front
matrix of column k − 1 is not positive definite (non-finite or negative conductances).
"""
from scipy.linalg.cython_blas cimport dsyrk, dtrsm
from scipy.linalg.cython_lapack cimport dpotrf

import numpy as np


cdef void _bit_line(Py_ssize_t M, Py_ssize_t N, Py_ssize_t j, const double* gc, const double* gb,
                    double g_s, double* up, double* down, double* rdiag,
                    double* ratio) noexcept nogil:
    """Closed form of ``Tb_j⁻¹`` for bit line j (word nodes at 0 V).

    ``up[i]``: admittance at node i of the line above it (rows < i, their cells included), S;
    ``down[i]``: of the line below it (rows > i, their cells and the sense terminal), S;
    ``rdiag[i] = Tb⁻¹[i, i] = 1 / (up + gc + down)``, ohm; ``ratio[i] = v[i+1] / v[i]`` for a
    current injected at or above node i, so ``Tb⁻¹[k, i] = rdiag[i] · Π_{m=i}^{k−1} ratio[m]``
    for k > i.
    """
    cdef Py_ssize_t i
    cdef double a, g
    up[0] = 0.0
    for i in range(1, M):
        a = up[i - 1] + gc[(i - 1) * N + j]
        g = gb[(i - 1) * N + j]
        up[i] = g * a / (g + a)
    down[M - 1] = g_s
    for i in range(M - 2, -1, -1):
        a = down[i + 1] + gc[(i + 1) * N + j]
        g = gb[i * N + j]
        down[i] = g * a / (g + a)
        ratio[i] = g / (g + a)
    for i in range(M):
        rdiag[i] = 1.0 / (up[i] + gc[i * N + j] + down[i])


cdef int _sweep(Py_ssize_t M, Py_ssize_t N, const double* gc, const double* gw, const double* gb,
                const double* g_d, const double* g_s, double* T, double* Y, double* S,
                double* X, double* B, double* line) noexcept nogil:
    """The column sweep of the module docstring.  ``S``, ``X`` (M²), ``B`` (M·(N + M)) and
    ``line`` (4·M) are scratch; ``T`` (N, M) row-major and ``Y`` (M, M, or NULL) are outputs.
    Matrices handed to LAPACK are column-major.  ``B`` holds the carried sources in its first N
    columns and ``E_j`` in its last M, so that one dtrsm serves both; ``X`` the lower triangle of
    ``E_j − E_j S_j⁻¹ E_j`` (what column j presents to column j − 1 through the wires)."""
    cdef double* up = line
    cdef double* down = line + M
    cdef double* rdiag = line + 2 * M
    cdef double* ratio = line + 3 * M
    cdef double* E = B + N * M
    cdef double* zk
    cdef Py_ssize_t i, k, j
    cdef double p, a, gck
    cdef int m = <int>M, n, info = 0
    cdef double one = 1.0, minus_one = -1.0
    cdef char left = b'L', lower = b'L', notrans = b'N', trans = b'T', nonunit = b'N'
    for j in range(N - 1, -1, -1):
        _bit_line(M, N, j, gc, gb, g_s[j], up, down, rdiag, ratio)
        # E_j = C_j + X_{j+1}: the bit line's cells and everything to the right, behind the wires.
        for k in range(M):
            gck = gc[k * N + j]
            a = up[k] + down[k]
            E[k + k * M] = gck * a / (gck + a) if gck > 0.0 else 0.0
            p = gck * rdiag[k]
            for i in range(k + 1, M):
                p *= ratio[i - 1]
                E[i + k * M] = -gc[i * N + j] * p
            if j < N - 1:
                for i in range(k, M):
                    E[i + k * M] += X[i + k * M]
        for k in range(M):
            for i in range(k, M):
                X[i + k * M] = E[i + k * M]
                S[i + k * M] = E[i + k * M]
                E[k + i * M] = E[i + k * M]
            # S_j = diag(gw_{j−1}) + E_j (g_d at column 0).
            S[k + k * M] += gw[k * (N - 1) + j - 1] if j > 0 else g_d[k]
        # Carried sources: Z[:, j+1:] ← diag(gw_j) S_{j+1}⁻¹ Z[:, j+1:] (S⁻¹ applied last step).
        if j < N - 1:
            for k in range(j + 1, N):
                for i in range(M):
                    B[i + k * M] *= gw[i * (N - 1) + j]
        # The source of column j: gc_j ∘ Tb_j⁻¹[:, M−1].
        zk = B + j * M
        p = 1.0
        for i in range(M - 1, -1, -1):
            if i < M - 1:
                p *= ratio[i]
            zk[i] = gc[i * N + j] * rdiag[i] * p
        dpotrf(&lower, &m, S, &m, &info)
        if info != 0:
            return <int>(j + 1)
        # [Z | E] ← L⁻¹ [Z | E];  X = E − (L⁻¹E)ᵀ(L⁻¹E) = E − E S⁻¹ E;  Z ← L⁻ᵀ Z = S⁻¹ Z.
        n = <int>(N - j + M)
        dtrsm(&left, &lower, &notrans, &nonunit, &m, &n, &one, S, &m, B + j * M, &m)
        dsyrk(&lower, &trans, &m, &m, &minus_one, E, &m, &one, X, &m)
        n = <int>(N - j)
        dtrsm(&left, &lower, &trans, &nonunit, &m, &n, &one, S, &m, B + j * M, &m)
    # Column 0: B[:, :N] = S_0⁻¹ Z (word-node voltages of every adjoint source) and
    # X = E_0 − E_0 S_0⁻¹ E_0 = diag(g_d) − diag(g_d) S_0⁻¹ diag(g_d) = Y.
    for k in range(N):
        for i in range(M):
            T[k * M + i] = g_s[k] * g_d[i] * B[i + k * M]
    if Y != NULL:
        for k in range(M):
            for i in range(k, M):
                Y[i * M + k] = X[i + k * M]
                Y[k * M + i] = X[i + k * M]
    return 0


def read_maps(const double[:, ::1] gc, const double[:, ::1] gw, const double[:, ::1] gb,
              const double[::1] g_driver, const double[::1] g_sense, bint admittance):
    """``(T, Y, status)``: T (N, M) and Y (M, M, None unless ``admittance``), A/V.

    ``gc`` (M, N) cells, ``gw`` (M, N−1) word-line segments, ``gb`` (M−1, N) bit-line segments,
    ``g_driver`` (M,), ``g_sense`` (N,), all S.  Releases the GIL for the whole sweep.
    """
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1]
    T = np.empty((N, M))
    Y = np.empty((M, M)) if admittance else None
    work = np.empty(2 * M * M + M * (N + M) + 4 * M)
    cdef double[:, ::1] t = T
    cdef double[:, ::1] y
    cdef double[::1] w = work
    cdef double* yp = NULL
    cdef const double* gwp = &gw[0, 0] if gw.shape[1] > 0 else NULL
    cdef const double* gbp = &gb[0, 0] if gb.shape[0] > 0 else NULL
    cdef double* base = &w[0]
    cdef int status
    if admittance:
        y = Y
        yp = &y[0, 0]
    with nogil:
        status = _sweep(M, N, &gc[0, 0], gwp, gbp, &g_driver[0], &g_sense[0], &t[0, 0], yp,
                        base, base + M * M, base + 2 * M * M,
                        base + 2 * M * M + M * (N + M))
    return T, Y, status
