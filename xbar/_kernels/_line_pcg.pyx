"""Conjugate gradients on the crossbar nodal system, reduced to the bit-line layer.

Unknowns are the word-line node voltages ``w[i, j]`` and the bit-line node voltages ``b[i, j]``,
stored as one vector ``x = [w (M*N), b (M*N)]`` in row-major ``(i, j)`` order.  Nodes tied straight
to a source (zero terminal resistance) are *fixed*: their value in ``x`` is imposed.  On the free
nodes KCL reads

    [ Tw  −D ] [w]   [fw]
    [ −D  Tb ] [b] = [fb]

with ``Tw`` (``Tb``) block-tridiagonal, one tridiagonal block per word (bit) line including the cell
conductances on its diagonal, and ``D = diag(gc)`` the cells.  Word lines are eliminated exactly
(Thomas algorithm inside the operator), leaving the SPD Schur complement
``S = Tb − D Tw⁻¹ D`` on the bit-line layer, solved by CG preconditioned with exact bit-line solves
``Tb⁻¹``.  Each iteration costs two sweeps of line solves, O(M N); the condition number is
``1/(1−μ²)`` where ``μ`` measures the coupling of the two layers, against ``(1+μ)/(1−μ)`` for
block-Jacobi CG on the full system.  The word-line voltages follow from one more sweep.

The stopping test is on the true residual of the full system, recomputed at the end.
Python validates; nothing here re-checks its input.

Status codes: 0 converged, 1 iteration limit reached, -1 breakdown (operator not positive
definite, e.g. a floating sub-network), -2 out of memory.
"""
from cython.parallel cimport prange, parallel
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from libc.math cimport sqrt
from libc.float cimport DBL_EPSILON

import numpy as np

cdef enum:
    ROWBLOCK = 8     # word lines swept together (independent recurrences overlap)
    COLCHUNK = 64    # bit lines swept together (contiguous, vectorisable)
    NBUF = 7         # scratch vectors of length M*N per right-hand side


cdef struct Net:
    Py_ssize_t M
    Py_ssize_t N
    double* gc     # (M, N) cell conductance between w[i,j] and b[i,j]
    double* gw     # (M, N-1) word-line segment conductances
    double* gb     # (M-1, N) bit-line segment conductances
    double* dw     # (M, N) diagonal of word nodes
    double* db     # (M, N) diagonal of bit nodes
    double* w_inv  # (M, N) 1 / Thomas pivot of the word lines, 0 on fixed nodes
    double* b_inv  # (M, N) same for the bit lines
    Py_ssize_t* fixed_w   # indices in [0, MN) of fixed word nodes
    Py_ssize_t nfw
    Py_ssize_t* fixed_b   # indices in [0, MN) of fixed bit nodes
    Py_ssize_t nfb


cdef void _word_solve(const Net* n, double* z, int nt) noexcept nogil:
    """z <- Tw⁻¹ z in place (every word line; z must vanish on fixed word nodes)."""
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, i0, i1, blk, nblk
    nblk = (M + ROWBLOCK - 1) // ROWBLOCK
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        i0 = blk * ROWBLOCK
        i1 = i0 + ROWBLOCK
        if i1 > M:
            i1 = M
        for i in range(i0, i1):
            z[i * N] = z[i * N] * n.w_inv[i * N]
        for j in range(1, N):
            for i in range(i0, i1):
                k = i * N + j
                z[k] = (z[k] + n.gw[i * (N - 1) + j - 1] * z[k - 1]) * n.w_inv[k]
        for j in range(N - 2, -1, -1):
            for i in range(i0, i1):
                k = i * N + j
                z[k] = z[k] + n.gw[i * (N - 1) + j] * n.w_inv[k] * z[k + 1]


cdef double _bit_solve(const Net* n, const double* r, double* z, int nt) noexcept nogil:
    """z = Tb⁻¹ r (every bit line; r must vanish on fixed bit nodes); returns r . z."""
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, j0, j1, cb, ncb
    cdef double rz = 0.0
    ncb = (N + COLCHUNK - 1) // COLCHUNK
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * COLCHUNK
        j1 = j0 + COLCHUNK
        if j1 > N:
            j1 = N
        for j in range(j0, j1):
            z[j] = r[j] * n.b_inv[j]
        for i in range(1, M):
            for j in range(j0, j1):
                k = i * N + j
                z[k] = (r[k] + n.gb[k - N] * z[k - N]) * n.b_inv[k]
        for j in range(j0, j1):
            k = (M - 1) * N + j
            rz += r[k] * z[k]
        for i in range(M - 2, -1, -1):
            for j in range(j0, j1):
                k = i * N + j
                z[k] = z[k] + n.gb[k] * n.b_inv[k] * z[k + N]
                rz += r[k] * z[k]
    return rz


cdef double _schur_matvec(const Net* n, const double* p, double* q, double* t,
                          int nt) noexcept nogil:
    """q = S p = Tb p − D Tw⁻¹ D p on free bit nodes (0 on fixed ones); returns p . q."""
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k
    cdef double acc, pq = 0.0
    for k in prange(MN, num_threads=nt, schedule="static"):
        t[k] = n.gc[k] * p[k]
    for k in range(n.nfw):
        t[n.fixed_w[k]] = 0.0
    _word_solve(n, t, nt)
    for i in prange(M, num_threads=nt, schedule="static"):
        for j in range(N):
            k = i * N + j
            acc = n.db[k] * p[k] - n.gc[k] * t[k]
            if i > 0:
                acc = acc - n.gb[k - N] * p[k - N]
            if i < M - 1:
                acc = acc - n.gb[k] * p[k + N]
            q[k] = acc
            pq += acc * p[k]
    for k in range(n.nfb):
        pq -= q[n.fixed_b[k]] * p[n.fixed_b[k]]
        q[n.fixed_b[k]] = 0.0
    return pq


cdef double _residual(const Net* n, const double* f, const double* x, double* r,
                      int nt) noexcept nogil:
    """r = f − A x on the free nodes of the full system, 0 on fixed nodes.

    Returns the rounding floor of that residual, 4·eps·||diag(A) ∘ x||₂ over free nodes: no
    residual computed in double precision can be trusted below it (stiff wires make it matter).
    """
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k
    cdef const double* w = x
    cdef const double* b = x + MN
    cdef double acc, dx = 0.0
    for i in prange(M, num_threads=nt, schedule="static"):
        for j in range(N):
            k = i * N + j
            acc = n.dw[k] * w[k] - n.gc[k] * b[k]
            if j > 0:
                acc = acc - n.gw[i * (N - 1) + j - 1] * w[k - 1]
            if j < N - 1:
                acc = acc - n.gw[i * (N - 1) + j] * w[k + 1]
            r[k] = f[k] - acc
            acc = n.db[k] * b[k] - n.gc[k] * w[k]
            if i > 0:
                acc = acc - n.gb[k - N] * b[k - N]
            if i < M - 1:
                acc = acc - n.gb[k] * b[k + N]
            r[MN + k] = f[MN + k] - acc
            dx += (n.dw[k] * w[k]) * (n.dw[k] * w[k]) + (n.db[k] * b[k]) * (n.db[k] * b[k])
    for k in range(n.nfw):
        r[n.fixed_w[k]] = 0.0
    for k in range(n.nfb):
        r[MN + n.fixed_b[k]] = 0.0
    return 4.0 * DBL_EPSILON * sqrt(dx)


cdef double _norm(const double* a, Py_ssize_t L, int nt) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t k
    for k in prange(L, num_threads=nt, schedule="static"):
        s += a[k] * a[k]
    return sqrt(s)


cdef int _solve_one(const Net* n, const double* f, double* x, double* buf, double rtol,
                    double atol, int maxiter, int nt, int* it_out, double* res_out,
                    double* scale_out) noexcept nogil:
    """Solve one right-hand side in place with ``nt`` threads; returns a status code.

    Outer loop: r = f − A x; correct x by the exact reduced solve of A δ = r (word lines
    eliminated), stopping the inner CG when its residual — which equals the full residual, the
    word-line rows being solved exactly — is below tolerance; confirm on the true residual.
    """
    cdef Py_ssize_t MN = n.M * n.N, L = 2 * MN, k
    cdef double* r = buf              # 2MN: full residual; r[MN:] accumulates δ_b during CG
    cdef double* s = buf + 2 * MN     # MN: reduced residual (s and z adjoin: 2MN scratch)
    cdef double* z = buf + 3 * MN
    cdef double* p = buf + 4 * MN
    cdef double* q = buf + 5 * MN
    cdef double* t = buf + 6 * MN     # MN scratch
    cdef double scale, tol, rz, rz_new, pq, alpha, beta, rn, floor
    cdef int it = 0, status = 1, rounds = 0
    # Scale of the problem: the residual with every free node at 0 V (s|z as scratch).
    memset(s, 0, L * sizeof(double))
    for k in range(n.nfw):
        s[n.fixed_w[k]] = x[n.fixed_w[k]]
    for k in range(n.nfb):
        s[MN + n.fixed_b[k]] = x[MN + n.fixed_b[k]]
    _residual(n, f, s, r, nt)
    scale = _norm(r, L, nt)
    scale_out[0] = scale
    tol = rtol * scale
    if atol > tol:
        tol = atol

    floor = _residual(n, f, x, r, nt)
    rn = _norm(r, L, nt)
    while rn > tol and rn > floor and it < maxiter and rounds < 50:
        rounds += 1
        # Reduced right-hand side: s = r_b + D Tw⁻¹ r_w.
        memcpy(t, r, MN * sizeof(double))
        _word_solve(n, t, nt)
        for k in prange(MN, num_threads=nt, schedule="static"):
            s[k] = r[MN + k] + n.gc[k] * t[k]
        for k in range(n.nfb):
            s[n.fixed_b[k]] = 0.0
        # CG on S δ_b = s; δ_b accumulates in r[MN:] (r_b is no longer needed).
        memset(r + MN, 0, MN * sizeof(double))
        rz = _bit_solve(n, s, z, nt)
        memcpy(p, z, MN * sizeof(double))
        rn = _norm(s, MN, nt)
        while rn > tol and rn > floor and it < maxiter:
            pq = _schur_matvec(n, p, q, t, nt)
            if pq <= 0.0 or rz <= 0.0:
                status = -1
                break
            alpha = rz / pq
            rn = 0.0
            for k in prange(MN, num_threads=nt, schedule="static"):
                r[MN + k] += alpha * p[k]
                s[k] -= alpha * q[k]
                rn += s[k] * s[k]
            it += 1
            rn = sqrt(rn)
            if rn <= tol or rn <= floor:
                break
            rz_new = _bit_solve(n, s, z, nt)
            beta = rz_new / rz
            rz = rz_new
            for k in prange(MN, num_threads=nt, schedule="static"):
                p[k] = z[k] + beta * p[k]
        if status == -1:
            break
        # δ_w = Tw⁻¹ (r_w + D δ_b); x += δ.
        for k in prange(MN, num_threads=nt, schedule="static"):
            r[k] = r[k] + n.gc[k] * r[MN + k]
        for k in range(n.nfw):
            r[n.fixed_w[k]] = 0.0
        _word_solve(n, r, nt)
        for k in prange(L, num_threads=nt, schedule="static"):
            x[k] += r[k]
        # Confirm on the recomputed true residual of the full system.
        floor = _residual(n, f, x, r, nt)
        rn = _norm(r, L, nt)
    if status != -1:
        status = 0 if (rn <= tol or rn <= floor) else 1
    it_out[0] = it
    res_out[0] = rn
    return status


def solve(const double[:, ::1] gc not None,
          const double[:, ::1] gw not None,
          const double[:, ::1] gb not None,
          const double[:, ::1] dw_extra not None,
          const double[:, ::1] db_extra not None,
          const unsigned char[:, ::1] fixed_w not None,
          const unsigned char[:, ::1] fixed_b not None,
          const double[:, ::1] f not None,
          double[:, ::1] x not None,
          double rtol, double atol, int maxiter, int num_threads=1):
    """Solve ``A x = f`` for a batch of right-hand sides.

    Parameters
    ----------
    gc : (M, N) cell conductances, S (0 for an isolated cell).
    gw, gb : (M, max(N-1, 1)) and (max(M-1, 1), N) segment conductances, S (> 0).
    dw_extra, db_extra : (M, N) conductances from word/bit nodes to a source, S (terminals).
    fixed_w, fixed_b : (M, N) 1 where the node voltage is imposed (its value is taken from ``x``).
    f : (B, 2*M*N) injected currents, A, on free nodes.
    x : (B, 2*M*N) initial guess with the imposed values; overwritten with the solution, V.
    rtol, atol : stop when ||f − A x||₂ <= max(rtol·||f − A x_fixed||₂, atol, 4·eps·||diag(A)∘x||₂)
        (true residual, A; the last term is the rounding floor of the residual itself).
    maxiter : limit on CG iterations per right-hand side.
    num_threads : threads (one right-hand side per thread, or all on one right-hand side).

    Returns
    -------
    status, iterations, residual, scale : arrays of length B.
    """
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], MN = M * N, B = f.shape[0]
    cdef Py_ssize_t i, j, bi
    dw = np.empty((M, N)); db = np.empty((M, N))
    w_inv = np.zeros((M, N)); b_inv = np.zeros((M, N))
    cdef double[:, ::1] dwv = dw, dbv = db, wiv = w_inv, biv = b_inv
    cdef double piv, e_prev
    for i in range(M):
        for j in range(N):
            dwv[i, j] = gc[i, j] + dw_extra[i, j]
            if j > 0:
                dwv[i, j] += gw[i, j - 1]
            if j < N - 1:
                dwv[i, j] += gw[i, j]
            dbv[i, j] = gc[i, j] + db_extra[i, j]
            if i > 0:
                dbv[i, j] += gb[i - 1, j]
            if i < M - 1:
                dbv[i, j] += gb[i, j]
    # Thomas pivots; a fixed node gets 1/pivot = 0, which cuts it from its neighbours.
    for i in range(M):
        e_prev = 0.0
        for j in range(N):
            if fixed_w[i, j]:
                wiv[i, j] = 0.0
                e_prev = 0.0
                continue
            piv = dwv[i, j] - (gw[i, j - 1] * e_prev if j > 0 else 0.0)
            wiv[i, j] = 1.0 / piv
            e_prev = (gw[i, j] if j < N - 1 else 0.0) * wiv[i, j]
    for j in range(N):
        e_prev = 0.0
        for i in range(M):
            if fixed_b[i, j]:
                biv[i, j] = 0.0
                e_prev = 0.0
                continue
            piv = dbv[i, j] - (gb[i - 1, j] * e_prev if i > 0 else 0.0)
            biv[i, j] = 1.0 / piv
            e_prev = (gb[i, j] if i < M - 1 else 0.0) * biv[i, j]

    fw_idx = np.flatnonzero(np.asarray(fixed_w).ravel()).astype(np.intp)
    fb_idx = np.flatnonzero(np.asarray(fixed_b).ravel()).astype(np.intp)
    fw_buf = np.concatenate([fw_idx, [0]]).astype(np.intp)
    fb_buf = np.concatenate([fb_idx, [0]]).astype(np.intp)
    cdef Py_ssize_t[::1] fwv = fw_buf, fbv = fb_buf
    cdef Net net
    net.M = M
    net.N = N
    net.gc = <double*> &gc[0, 0]
    net.gw = <double*> &gw[0, 0]
    net.gb = <double*> &gb[0, 0]
    net.dw = &dwv[0, 0]
    net.db = &dbv[0, 0]
    net.w_inv = &wiv[0, 0]
    net.b_inv = &biv[0, 0]
    net.fixed_w = &fwv[0]
    net.nfw = fw_idx.size
    net.fixed_b = &fbv[0]
    net.nfb = fb_idx.size

    status = np.zeros(B, dtype=np.intc)
    iters = np.zeros(B, dtype=np.intc)
    resid = np.zeros(B)
    scale = np.zeros(B)
    cdef int[::1] st = status, itv = iters
    cdef double[::1] rv = resid, sv = scale
    cdef double* buf
    cdef int nt = num_threads if num_threads > 0 else 1
    if B == 1:
        # One right-hand side: the threads share each iteration's loops.
        buf = <double*> malloc(NBUF * MN * sizeof(double))
        if buf == NULL:
            raise MemoryError()
        with nogil:
            st[0] = _solve_one(&net, &f[0, 0], &x[0, 0], buf, rtol, atol, maxiter, nt,
                               &itv[0], &rv[0], &sv[0])
        free(buf)
        return status, iters, resid, scale
    if nt > B:
        nt = <int> B
    # Several right-hand sides: one per thread at a time (nested loops then run serially).
    with nogil, parallel(num_threads=nt):
        buf = <double*> malloc(NBUF * MN * sizeof(double))
        if buf != NULL:
            for bi in prange(B, schedule="dynamic"):
                st[bi] = _solve_one(&net, &f[bi, 0], &x[bi, 0], buf, rtol, atol, maxiter, 1,
                                    &itv[bi], &rv[bi], &sv[bi])
            free(buf)
        else:
            for bi in prange(B, schedule="dynamic"):
                st[bi] = -2
    return status, iters, resid, scale
