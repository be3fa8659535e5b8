"""Exact reads of a linear crossbar for a batch of inputs, right-hand sides innermost.

Read conditions (as ``_maps``): word line i driven by ``V[r, i]`` behind ``g_d[i]`` at its column-0
end, bit line j held at 0 V behind ``g_s[j]`` at its row-(M−1) end.  The nodal system

    [ Tw  −D ] [w]   [g_d V e_0]
    [ −D  Tb ] [b] = [    0    ]

(``Tw``/``Tb`` one tridiagonal block per word/bit line with the cell conductances ``D = diag(gc)``
on the diagonal) is reduced to the bit-line layer, ``S b = D Tw⁻¹ g_d V e_0`` with the SPD Schur
complement ``S = Tb − D Tw⁻¹ D``, and solved by conjugate gradients preconditioned with exact
bit-line solves ``Tb⁻¹`` (the same reduction as ``_pcg``; here for reads only, linear cells,
every terminal resistive).  Outputs: ``I_col = g_s ∘ b[M−1, :]`` and
``I_row = g_d ∘ (V − w[:, 0])``.

What differs from the general kernel, and makes a read of a small batch cheap:

* the B right-hand sides are the innermost index of every vector (bit-layer vectors (M, N, B),
  the word-line temporary (N, M, B)), so each recurrence step of a line solve is one contiguous
  loop over lines x right-hand sides and the factors are loaded once for all B;
* the line factors are written without subtracting wire-sized numbers: eliminating a line from
  its terminal end (word lines) or open end (bit lines), the pivot is ``s_k + c_k`` with
  ``s_k = gc_k + c_{k−1}·s_{k−1}/(c_{k−1} + s_{k−1})`` (the admittance already eliminated, a series
  combination of positive numbers) and ``c_k`` the segment to the next node; ``Tb p`` is formed
  from differences of neighbouring values (``Σ c (p_k − p_{k±1}) + gc p_k``);
* five passes per iteration: the direction update rides on the word-line gather, ``pᵀSp`` on
  the Schur product, the x/r update on the forward bit-line sweep, ``rᵀz`` on the backward one;
* the driver currents need no word-line sweep after convergence: ``Tw`` is symmetric, so the
  word-line voltage at the driver is ``k0[0]·V + Σ_j k0[j]·gc[j]·b[j] / g_d`` (one pass over
  ``b`` with the right-hand side's weights, instead of a forward and a backward sweep);
* the three sweeps have a copy for one right-hand side (``*_1``: the same loops without the
  inner one over B, whose overhead exceeded the work at B = 1: 2.0-2.4 vs 3.5 ms per 128² read);
* row strides padded to an odd number of cache lines, since the word-line sweeps walk the bit
  layout down its columns (a power-of-two stride maps every row to the same L1 sets);
* no fixed nodes, no general terminal pattern, no power assembly.

The stopping test is on the preconditioned residual, ``rᵀ Tb⁻¹ r <= rtol² · r₀ᵀ Tb⁻¹ r₀`` per
right-hand side (start b = 0); with the coupling of the two layers weak (cells of µS against wires
of S) the preconditioned operator's condition number is close to 1 and 3-5 iterations reach
1e-13.  Python validates; nothing here re-checks its input.  Status: 0 converged, 1 iteration
limit, -1 breakdown (pᵀ S p <= 0: not positive definite).
"""
from libc.math cimport sqrt

import numpy as np

cimport cython


cdef inline Py_ssize_t _padded(Py_ssize_t k) noexcept nogil:
    """k rounded up to whole cache lines (8 doubles), made an odd number of lines."""
    cdef Py_ssize_t lines = (k + 7) // 8
    if lines % 2 == 0:
        lines += 1
    return lines * 8


cdef void _word_factors(const double[:, ::1] gc, const double[:, ::1] gw,
                        const double[::1] gd, double[:, ::1] m, double[:, ::1] inv,
                        double[:, ::1] c, double[:, ::1] k0) noexcept nogil:
    """Word-line factors in (N, M) layout: y_j = f_j + m_j y_{j−1}; x_j = (y_j + c_j x_{j+1})·inv_j.

    ``k0[j, i]`` is the word line's response to a unit driver voltage, ``g_d Tw⁻¹ e_0``.
    """
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], i, j
    cdef double cl, piv
    # lines side by side (j outer) so that the divisions vectorise; s kept in ``k0`` for now
    for i in range(M):
        k0[0, i] = gd[i] + gc[i, 0]
        m[0, i] = 0.0
    for j in range(N):
        for i in range(M):
            if j > 0:
                cl = gw[i, j - 1]
                k0[j, i] = gc[i, j] + cl * k0[j - 1, i] / (cl + k0[j - 1, i])
                m[j, i] = cl * inv[j - 1, i]
            c[j, i] = gw[i, j] if j < N - 1 else 0.0
            inv[j, i] = 1.0 / (k0[j, i] + c[j, i])
    # unit driver response: forward y_0 = g_d, y_j = m_j y_{j-1}; then the backward pass
    for i in range(M):
        k0[0, i] = gd[i]
    for j in range(1, N):
        for i in range(M):
            k0[j, i] = m[j, i] * k0[j - 1, i]
    for i in range(M):
        k0[N - 1, i] = k0[N - 1, i] * inv[N - 1, i]
    for j in range(N - 2, -1, -1):
        for i in range(M):
            k0[j, i] = (k0[j, i] + c[j, i] * k0[j + 1, i]) * inv[j, i]


cdef void _bit_factors(const double[:, ::1] gc, const double[:, ::1] gb,
                       const double[::1] gs, double[:, ::1] m, double[:, ::1] inv,
                       double[:, ::1] c) noexcept nogil:
    """Bit-line factors in (M, N) layout, eliminated from the open top end (row 0) to the sense
    end (row M−1, ``g_s`` to ground)."""
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], i, j
    cdef double cl, s
    for j in range(N):
        m[0, j] = gc[0, j]          # s of row 0, replaced by the multiplier below
    for i in range(M):
        for j in range(N):
            if i > 0:
                cl = gb[i - 1, j]
                s = gc[i, j] + cl * m[i - 1, j] / (cl + m[i - 1, j])
            else:
                s = gc[0, j]
            m[i, j] = s
            c[i, j] = gb[i, j] if i < M - 1 else 0.0
            inv[i, j] = 1.0 / (s + (c[i, j] if i < M - 1 else gs[j]))
    for i in range(M - 1, 0, -1):
        for j in range(N):
            m[i, j] = gb[i - 1, j] * inv[i - 1, j]
    for j in range(N):
        m[0, j] = 0.0


cdef void _word_solve_gc(const double* wm, const double* winv, const double* wc,
                         const double* gcT, double* p, const double* z, const double* beta,
                         double* y, Py_ssize_t M, Py_ssize_t N, Py_ssize_t B, Py_ssize_t prow,
                         Py_ssize_t yrow) noexcept nogil:
    """y (N, M, B) = Tw⁻¹ (gc ∘ p), p in the bit layout (M, N, B).

    First ``p = z + beta[r]·p`` (the CG direction update, fused into the gather), or ``p = z``
    with ``beta`` NULL (the first iteration: p is not read, so it needs no zeroing).
    Factors and ``gcT`` are (N, M).
    """
    cdef Py_ssize_t i, j, r, o, op, k
    cdef double mm, g, cc, ii
    for j in range(N):
        for i in range(M):
            k = j * M + i
            g = gcT[k]
            mm = wm[k]
            o = j * yrow + i * B
            op = i * prow + j * B
            if beta == NULL:
                for r in range(B):
                    p[op + r] = z[op + r]
            else:
                for r in range(B):
                    p[op + r] = z[op + r] + beta[r] * p[op + r]
            if j > 0:
                for r in range(B):
                    y[o + r] = g * p[op + r] + mm * y[o - yrow + r]
            else:
                for r in range(B):
                    y[o + r] = g * p[op + r]
    for i in range(M):
        ii = winv[(N - 1) * M + i]
        o = (N - 1) * yrow + i * B
        for r in range(B):
            y[o + r] = y[o + r] * ii
    for j in range(N - 2, -1, -1):
        for i in range(M):
            k = j * M + i
            cc = wc[k]
            ii = winv[k]
            o = j * yrow + i * B
            for r in range(B):
                y[o + r] = (y[o + r] + cc * y[o + yrow + r]) * ii


cdef void _word_solve_gc_1(const double* wm, const double* winv, const double* wc,
                         const double* gcT, double* p, const double* z, const double* beta,
                         double* y, Py_ssize_t M, Py_ssize_t N, Py_ssize_t B, Py_ssize_t prow,
                         Py_ssize_t yrow) noexcept nogil:
    """_word_solve_gc for one right-hand side (the same loops without the inner one over B,
    which costs more than the work at B = 1).

    y (N, M, B) = Tw⁻¹ (gc ∘ p), p in the bit layout (M, N, B).

    First ``p = z + beta[r]·p`` (the CG direction update, fused into the gather), or ``p = z``
    with ``beta`` NULL (the first iteration: p is not read, so it needs no zeroing).
    Factors and ``gcT`` are (N, M).
    """
    cdef Py_ssize_t i, j, r, o, op, k
    cdef double mm, g, cc, ii
    for j in range(N):
        for i in range(M):
            k = j * M + i
            g = gcT[k]
            mm = wm[k]
            o = j * yrow + i * B
            op = i * prow + j * B
            r = 0
            if beta == NULL:
                p[op + r] = z[op + r]
            else:
                p[op + r] = z[op + r] + beta[r] * p[op + r]
            if j > 0:
                r = 0
                y[o + r] = g * p[op + r] + mm * y[o - yrow + r]
            else:
                r = 0
                y[o + r] = g * p[op + r]
    for i in range(M):
        ii = winv[(N - 1) * M + i]
        o = (N - 1) * yrow + i * B
        r = 0
        y[o + r] = y[o + r] * ii
    for j in range(N - 2, -1, -1):
        for i in range(M):
            k = j * M + i
            cc = wc[k]
            ii = winv[k]
            o = j * yrow + i * B
            r = 0
            y[o + r] = (y[o + r] + cc * y[o + yrow + r]) * ii


cdef void _schur_apply(const double* gc, const double* gb, const double* gs, const double* p,
                       const double* y, double* q, double* pq, Py_ssize_t M, Py_ssize_t N,
                       Py_ssize_t B, Py_ssize_t row, Py_ssize_t yrow) noexcept nogil:
    """q = S p = Tb p − gc ∘ y with y = Tw⁻¹ (gc ∘ p) (N, M, B); pq[r] = p·q per right-hand
    side.  Tb p is formed from differences of neighbours (no wire-sized cancellation)."""
    cdef Py_ssize_t i, j, r, o, yo
    cdef double g, cu, cd, t
    for r in range(B):
        pq[r] = 0.0
    for i in range(M):
        for j in range(N):
            g = gc[i * N + j]
            cu = gb[(i - 1) * N + j] if i > 0 else 0.0
            cd = gb[i * N + j] if i < M - 1 else 0.0
            o = i * row + j * B
            yo = j * yrow + i * B
            if i == 0:
                for r in range(B):
                    t = g * (p[o + r] - y[yo + r])
                    if M > 1:
                        t = t + cd * (p[o + r] - p[o + row + r])
                    q[o + r] = t
            elif i < M - 1:
                for r in range(B):
                    q[o + r] = (g * (p[o + r] - y[yo + r]) + cu * (p[o + r] - p[o - row + r])
                                + cd * (p[o + r] - p[o + row + r]))
            else:
                for r in range(B):
                    q[o + r] = g * (p[o + r] - y[yo + r]) + cu * (p[o + r] - p[o - row + r])
            if i == M - 1:
                for r in range(B):
                    q[o + r] = q[o + r] + gs[j] * p[o + r]
            for r in range(B):
                pq[r] += p[o + r] * q[o + r]


cdef void _schur_apply_1(const double* gc, const double* gb, const double* gs, const double* p,
                       const double* y, double* q, double* pq, Py_ssize_t M, Py_ssize_t N,
                       Py_ssize_t B, Py_ssize_t row, Py_ssize_t yrow) noexcept nogil:
    """_schur_apply for one right-hand side (the same loops without the inner one over B,
    which costs more than the work at B = 1).

    q = S p = Tb p − gc ∘ y with y = Tw⁻¹ (gc ∘ p) (N, M, B); pq[r] = p·q per right-hand
    side.  Tb p is formed from differences of neighbours (no wire-sized cancellation)."""
    cdef Py_ssize_t i, j, r, o, yo
    cdef double g, cu, cd, t
    r = 0
    pq[r] = 0.0
    for i in range(M):
        for j in range(N):
            g = gc[i * N + j]
            cu = gb[(i - 1) * N + j] if i > 0 else 0.0
            cd = gb[i * N + j] if i < M - 1 else 0.0
            o = i * row + j * B
            yo = j * yrow + i * B
            if i == 0:
                r = 0
                t = g * (p[o + r] - y[yo + r])
                if M > 1:
                    t = t + cd * (p[o + r] - p[o + row + r])
                q[o + r] = t
            elif i < M - 1:
                r = 0
                q[o + r] = (g * (p[o + r] - y[yo + r]) + cu * (p[o + r] - p[o - row + r])
                            + cd * (p[o + r] - p[o + row + r]))
            else:
                r = 0
                q[o + r] = g * (p[o + r] - y[yo + r]) + cu * (p[o + r] - p[o - row + r])
            if i == M - 1:
                r = 0
                q[o + r] = q[o + r] + gs[j] * p[o + r]
            r = 0
            pq[r] += p[o + r] * q[o + r]


cdef void _bit_step(const double* m, const double* inv, const double* c, double* x,
                    double* res, const double* p, const double* q, const double* alpha,
                    double* z, double* rz, Py_ssize_t M, Py_ssize_t N,
                    Py_ssize_t B, Py_ssize_t row, bint fresh) noexcept nogil:
    """x += α p (x = α p when ``fresh``: x is not read); res −= α q; z = Tb⁻¹ res;
    rz[r] = res·z (alpha NULL: only z and rz)."""
    cdef Py_ssize_t i, j, r, o, k
    cdef double mm, cc, ii
    for r in range(B):
        rz[r] = 0.0
    for i in range(M):
        for j in range(N):
            k = i * N + j
            mm = m[k]
            o = i * row + j * B
            if alpha != NULL and fresh:
                for r in range(B):
                    x[o + r] = alpha[r] * p[o + r]
                    res[o + r] -= alpha[r] * q[o + r]
            elif alpha != NULL:
                for r in range(B):
                    x[o + r] += alpha[r] * p[o + r]
                    res[o + r] -= alpha[r] * q[o + r]
            if i > 0:
                for r in range(B):
                    z[o + r] = res[o + r] + mm * z[o - row + r]
            else:
                for r in range(B):
                    z[o + r] = res[o + r]
    for i in range(M - 1, -1, -1):
        for j in range(N):
            k = i * N + j
            cc = c[k]
            ii = inv[k]
            o = i * row + j * B
            if i < M - 1:
                for r in range(B):
                    z[o + r] = (z[o + r] + cc * z[o + row + r]) * ii
            else:
                for r in range(B):
                    z[o + r] = z[o + r] * ii
            for r in range(B):
                rz[r] += res[o + r] * z[o + r]


cdef void _bit_step_1(const double* m, const double* inv, const double* c, double* x,
                    double* res, const double* p, const double* q, const double* alpha,
                    double* z, double* rz, Py_ssize_t M, Py_ssize_t N,
                    Py_ssize_t B, Py_ssize_t row, bint fresh) noexcept nogil:
    """_bit_step for one right-hand side (the same loops without the inner one over B,
    which costs more than the work at B = 1).

    x += α p (x = α p when ``fresh``); res −= α q; z = Tb⁻¹ res; rz[r] = res·z (alpha NULL:
    only z and rz)."""
    cdef Py_ssize_t i, j, r, o, k
    cdef double mm, cc, ii
    r = 0
    rz[r] = 0.0
    for i in range(M):
        for j in range(N):
            k = i * N + j
            mm = m[k]
            o = i * row + j * B
            if alpha != NULL:
                r = 0
                if fresh:
                    x[o + r] = alpha[r] * p[o + r]
                else:
                    x[o + r] += alpha[r] * p[o + r]
                res[o + r] -= alpha[r] * q[o + r]
            if i > 0:
                r = 0
                z[o + r] = res[o + r] + mm * z[o - row + r]
            else:
                r = 0
                z[o + r] = res[o + r]
    for i in range(M - 1, -1, -1):
        for j in range(N):
            k = i * N + j
            cc = c[k]
            ii = inv[k]
            o = i * row + j * B
            if i < M - 1:
                r = 0
                z[o + r] = (z[o + r] + cc * z[o + row + r]) * ii
            else:
                r = 0
                z[o + r] = z[o + r] * ii
            r = 0
            rz[r] += res[o + r] * z[o + r]


cdef void _cg_block(const double[:, ::1] gc, const double[::1] gd, const double[::1] gs,
                    const double[:, ::1] V, Py_ssize_t s0, Py_ssize_t B,
                    const double* wm, const double* winv, const double* wc,
                    const double[:, ::1] k0, const double* bm, const double* binv,
                    const double* bc, const double* pgc, const double* pgb, const double* pgcT,
                    double* x, double* res, double* z, double* p, double* q, double* y,
                    double* rz, double* rz0, double* pq, double* alpha, double* beta,
                    unsigned char* act, double[:, ::1] icol, double[:, ::1] irow,
                    long long[::1] iters, long long[::1] status, double rtol,
                    int maxiter) noexcept nogil:
    """PCG for the reads ``V[s0:s0 + B]`` (one block of right-hand sides), outputs into rows
    ``s0:s0 + B`` of ``icol``/``irow``/``iters``/``status``."""
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], i, j, r, o, row, yrow
    cdef Py_ssize_t nact
    cdef int it
    cdef double t, g
    row = _padded(N * B)
    yrow = _padded(M * B)
    # right-hand side h = gc ∘ (k0 V) in the bit layout; start b = 0, r = h (x and p are
    # written before they are read: the first iteration sets p = z and x = α p)
    for i in range(M):
        for j in range(N):
            g = gc[i, j] * k0[j, i]
            o = i * row + j * B
            for r in range(B):
                res[o + r] = g * V[s0 + r, i]
    (_bit_step_1 if B == 1 else _bit_step)(bm, binv, bc, x, res, p, q, NULL, z, rz, M, N, B,
                                            row, False)
    nact = 0
    for r in range(B):
        rz0[r] = rz[r]
        beta[r] = 0.0
        iters[s0 + r] = 0
        status[s0 + r] = 1
        act[r] = 1
        if rz[r] <= 0.0:       # zero input: b = 0 exactly
            act[r] = 0
            status[s0 + r] = 0
        else:
            nact += 1
    it = 0
    while nact > 0 and it < maxiter:
        it += 1
        # p = z + β p (β = 0 on the first pass: p = z), gathered into y = Tw⁻¹ (gc ∘ p)
        (_word_solve_gc_1 if B == 1 else _word_solve_gc)(wm, winv, wc, pgcT, p, z,
                                                         beta if it > 1 else NULL, y, M, N, B,
                                                         row, yrow)
        (_schur_apply_1 if B == 1 else _schur_apply)(pgc, pgb, &gs[0], p, y, q, pq, M, N, B,
                                                     row, yrow)
        for r in range(B):
            if act[r] and pq[r] <= 0.0:
                act[r] = 0
                status[s0 + r] = -1
                nact -= 1
            alpha[r] = rz[r] / pq[r] if act[r] else 0.0
        (_bit_step_1 if B == 1 else _bit_step)(bm, binv, bc, x, res, p, q, alpha, z, pq, M, N,
                                                B, row, it == 1)
        for r in range(B):
            if act[r]:
                iters[s0 + r] = it
                if pq[r] <= rtol * rtol * rz0[r]:
                    act[r] = 0
                    status[s0 + r] = 0
                    nact -= 1
            beta[r] = pq[r] / rz[r] if act[r] else 0.0
            if act[r]:
                rz[r] = pq[r]
    if it == 0:                # every input of the block zero: b = 0 (x never written)
        for o in range(M * row):
            x[o] = 0.0
    # outputs: I_col from the bottom bit nodes; I_row = g_d (V − w[:, 0]) with
    # w[:, 0] = k0[0] V + (Tw⁻¹ (gc ∘ b))[0].  Tw is symmetric, so row 0 of Tw⁻¹ is
    # k0 / g_d and g_d (Tw⁻¹ (gc ∘ b))[0] = Σ_j k0[j] gc[j] b[j]: one pass over b, no word
    # sweep (the weights are those of the right-hand side h)
    for j in range(N):
        o = (M - 1) * row + j * B
        for r in range(B):
            icol[s0 + r, j] = gs[j] * x[o + r]
    for i in range(M):
        for r in range(B):
            alpha[r] = 0.0
        for j in range(N):
            g = gc[i, j] * k0[j, i]
            o = i * row + j * B
            for r in range(B):
                alpha[r] += g * x[o + r]
        t = gd[i] * (1.0 - k0[0, i])
        for r in range(B):
            irow[s0 + r, i] = t * V[s0 + r, i] - alpha[r]


@cython.boundscheck(False)
@cython.wraparound(False)
def read(const double[:, ::1] gc, const double[:, ::1] gw, const double[:, ::1] gb,
         const double[::1] gd, const double[::1] gs, const double[:, ::1] V,
         double rtol, int maxiter, Py_ssize_t block=16):
    """Column and row currents of the reads ``V`` (B, M): ``(I_col (B, N), I_row (B, M),
    iterations (B,), status (B,))`` (A).  ``gw`` is (M, max(N−1, 1)) and ``gb``
    (max(M−1, 1), N) (dummy rows/columns are never read).

    The right-hand sides are solved in equal blocks of at most ``block`` (the line factors
    shared):
    a block's six work vectors stay in cache (128² tile: 8-16 per block ran 0.5-0.6 ms per read,
    one block of 100 1.3 ms, one of 200 0.85 ms).  The result does not depend on ``block``
    (each right-hand side's arithmetic is the same).
    """
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], B = V.shape[0], n, s0, Bb
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    # equal blocks of at most ``block`` (10 = 5 + 5, not 8 + 2: a block of 2 costs ~2x per read)
    Bb = (B + (B + block - 1) // block - 1) // ((B + block - 1) // block) if B > 0 else 1
    n = M * _padded(N * Bb)
    wm_a = np.empty((N, M)); winv_a = np.empty((N, M)); wc_a = np.empty((N, M))
    k0_a = np.empty((N, M))
    bm_a = np.empty((M, N)); binv_a = np.empty((M, N)); bc_a = np.empty((M, N))
    cdef double[:, ::1] wm = wm_a, winv = winv_a, wc = wc_a, k0 = k0_a
    cdef double[:, ::1] bm = bm_a, binv = binv_a, bc = bc_a
    work = np.zeros((5, n))
    ybuf = np.empty(N * _padded(M * Bb))
    cdef double[:, ::1] wk = work
    cdef double[::1] yv = ybuf
    icol_a = np.empty((B, N)); irow_a = np.empty((B, M))
    iters_a = np.zeros(B, dtype=np.int64); status_a = np.ones(B, dtype=np.int64)
    cdef double[:, ::1] icol = icol_a, irow = irow_a
    cdef long long[::1] iters = iters_a, status = status_a
    scal = np.zeros((5, Bb))
    cdef double[:, ::1] sc = scal
    act_a = np.ones(Bb, dtype=np.uint8)
    cdef unsigned char[::1] act = act_a
    gcT_a = np.ascontiguousarray(np.asarray(gc).T)
    gbp_a = np.ascontiguousarray(gb) if M > 1 else np.zeros((1, N))
    cdef const double[:, ::1] gcT = gcT_a
    cdef const double[:, ::1] gbp = gbp_a
    if B == 0:
        return icol_a, irow_a, iters_a, status_a
    with nogil:
        _word_factors(gc, gw, gd, wm, winv, wc, k0)
        _bit_factors(gc, gb, gs, bm, binv, bc)
        s0 = 0
        while s0 < B:
            _cg_block(gc, gd, gs, V, s0, min(Bb, B - s0), &wm[0, 0], &winv[0, 0], &wc[0, 0], k0,
                      &bm[0, 0], &binv[0, 0], &bc[0, 0], &gc[0, 0], &gbp[0, 0], &gcT[0, 0],
                      &wk[0, 0], &wk[1, 0], &wk[2, 0], &wk[3, 0], &wk[4, 0], &yv[0],
                      &sc[0, 0], &sc[1, 0], &sc[2, 0], &sc[3, 0], &sc[4, 0], &act[0],
                      icol, irow, iters, status, rtol, maxiter)
            s0 += Bb
    return icol_a, irow_a, iters_a, status_a
