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

Speed is set by memory traffic (at 256² every vector is 512 KiB, the size of L2): word lines are
swept R at a time from a transposed copy in L1 (a row-major sweep at stride N thrashes the L1
sets), the Thomas multipliers are precomputed, the CG update shares a pass with the forward
bit-line sweep, and scratch comes from a pool reused between calls (fresh pages fault).

Status codes: 0 converged, 1 iteration limit reached, -1 breakdown (operator not positive
definite, e.g. a floating sub-network).
"""
from cython.parallel cimport prange, parallel, threadid
from libc.string cimport memcpy, memset
from libc.math cimport sqrt, sinh, cosh, fabs
from libc.float cimport DBL_EPSILON

import numpy as np

cdef enum:
    R = 8            # word lines swept together, from a transposed copy (_word_block)
    COLCHUNK = 64    # bit lines swept together (contiguous, vectorisable)
    NBUF = 6         # scratch vectors of length M*N per right-hand side

# Rounding of one nodal KCL sum, in units of |A||x| + |f| (xbar.circuit.network.FLOOR_EPS).
cdef double FLOOR = DBL_EPSILON


cdef struct Net:
    Py_ssize_t M
    Py_ssize_t N
    double* gc     # (M, N) cell conductance between w[i,j] and b[i,j]
    double* gw     # (M, N-1) word-line segment conductances
    double* gb     # (M-1, N) bit-line segment conductances
    double* dw     # (M, N) diagonal of word nodes
    double* db     # (M, N) diagonal of bit nodes
    # Thomas factors of the word lines in the row-block layout of ``_wb`` (rows padded to a
    # multiple of R with zeros): z_j = rhs_j·wi_j + aw_j·z_{j-1}, then z_j += ew_j·z_{j+1};
    # cw = gc·wi scales the operator's right-hand side.  Zero on fixed nodes, which cuts them off.
    double* wi
    double* cw
    double* aw
    double* ew
    # Same for the bit lines, row-major: z_i = r_i·bi_i + ab_i·z_{i-1}, then z_i += eb_i·z_{i+1}.
    double* bi
    double* ab
    double* eb
    Py_ssize_t* fixed_w   # indices in [0, MN) of fixed word nodes
    Py_ssize_t nfw
    Py_ssize_t* fixed_b   # indices in [0, MN) of fixed bit nodes
    Py_ssize_t nfb


cdef inline Py_ssize_t _min(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef inline Py_ssize_t _padded(Py_ssize_t M) noexcept nogil:
    return (M + R - 1) // R * R


cdef inline Py_ssize_t _state_size(Py_ssize_t M, Py_ssize_t N) noexcept nogil:
    """Doubles of factor state: dw, db, bi, ab, eb (M·N each), wi, cw, aw, ew (padded rows)."""
    return 5 * M * N + 4 * _padded(M) * N


cdef inline Py_ssize_t _wb(Py_ssize_t i, Py_ssize_t j, Py_ssize_t N) noexcept nogil:
    """Index of word node (i, j) in the row-block layout: blocks of R rows, column-major inside."""
    return (i // R) * R * N + j * R + i % R


cdef void _word_block(const Net* n, Py_ssize_t blk, const double* src, const double* coef,
                      double* zb) noexcept nogil:
    """zb = Tw⁻¹ (coef-scaled src) on the R word lines of block ``blk``, transposed (j·R + ii).

    ``src`` is row-major (M, N); ``coef`` is ``n.wi`` (Tw⁻¹ src) or ``n.cw`` (Tw⁻¹ (gc∘src)).  The
    rows are first copied into a small transposed buffer so that the recurrences along the lines
    run over R independent lines at unit stride (strided row-major sweeps thrash the L1 sets).
    """
    cdef Py_ssize_t M = n.M, N = n.N, i0 = blk * R, r = M - blk * R, ii, j, base = blk * R * N
    cdef const double* c = coef + base
    cdef const double* a = n.aw + base
    cdef const double* e = n.ew + base
    if r > R:
        r = R
    for ii in range(r):
        for j in range(N):
            zb[j * R + ii] = src[(i0 + ii) * N + j]
    for ii in range(r, R):
        for j in range(N):
            zb[j * R + ii] = 0.0
    for ii in range(R):
        zb[ii] = zb[ii] * c[ii]
    for j in range(1, N):
        for ii in range(R):
            zb[j * R + ii] = zb[j * R + ii] * c[j * R + ii] + a[j * R + ii] * zb[(j - 1) * R + ii]
    for j in range(N - 2, -1, -1):
        for ii in range(R):
            zb[j * R + ii] = zb[j * R + ii] + e[j * R + ii] * zb[(j + 1) * R + ii]


cdef void _word_solve(const Net* n, const double* rhs, double* z, double* wb,
                      int nt) noexcept nogil:
    """z = Tw⁻¹ rhs on every word line (row-major; ``z`` may alias ``rhs``); 0 on fixed nodes.

    ``wb``: nt·R·N scratch (a transposed block of word lines per thread).
    """
    cdef Py_ssize_t M = n.M, N = n.N, blk, nblk = (M + R - 1) // R, ii, j, r
    cdef double* zb
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        zb = wb + threadid() * R * N
        _word_block(n, blk, rhs, n.wi, zb)
        r = _min(M - blk * R, R)
        for ii in range(r):
            for j in range(N):
                z[(blk * R + ii) * N + j] = zb[j * R + ii]


cdef double _bit_backward(const Net* n, const double* r, double* z, int nt) noexcept nogil:
    """Backward half of z = Tb⁻¹ r (z holds the forward half); returns r . z."""
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, j0, j1, cb, ncb
    cdef double rz = 0.0
    ncb = (N + COLCHUNK - 1) // COLCHUNK
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * COLCHUNK
        j1 = _min(j0 + COLCHUNK, N)
        for j in range(j0, j1):
            k = (M - 1) * N + j
            rz += r[k] * z[k]
        for i in range(M - 2, -1, -1):
            for j in range(j0, j1):
                k = i * N + j
                z[k] = z[k] + n.eb[k] * z[k + N]
                rz += r[k] * z[k]
    return rz


cdef double _step_forward(const Net* n, double alpha, const double* p, const double* q,
                          double* xb, double* s, double* z, int nt) noexcept nogil:
    """CG step xb += α·p, s −= α·q, fused with the forward half of z = Tb⁻¹ s; returns ||s||²."""
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, j0, j1, cb, ncb
    cdef double rn = 0.0, sk
    ncb = (N + COLCHUNK - 1) // COLCHUNK
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * COLCHUNK
        j1 = _min(j0 + COLCHUNK, N)
        for j in range(j0, j1):
            xb[j] += alpha * p[j]
            sk = s[j] - alpha * q[j]
            s[j] = sk
            rn += sk * sk
            z[j] = sk * n.bi[j]
        for i in range(1, M):
            for j in range(j0, j1):
                k = i * N + j
                xb[k] += alpha * p[k]
                sk = s[k] - alpha * q[k]
                s[k] = sk
                rn += sk * sk
                z[k] = sk * n.bi[k] + n.ab[k] * z[k - N]
    return rn


cdef double _schur_matvec(const Net* n, const double* p, double* q, double* wb,
                          int nt) noexcept nogil:
    """q = S p = Tb p − D Tw⁻¹ D p on free bit nodes (0 on fixed ones); returns p . q.

    ``wb``: nt·R·N scratch (a transposed block of word lines per thread).
    """
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, blk, nblk = (M + R - 1) // R, ii, r
    cdef double acc, pq = 0.0
    cdef double* zb
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        zb = wb + threadid() * R * N
        _word_block(n, blk, p, n.cw, zb)
        r = _min(M - blk * R, R)
        for ii in range(r):
            i = blk * R + ii
            for j in range(N):
                k = i * N + j
                acc = n.db[k] * p[k] - n.gc[k] * zb[j * R + ii]
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


cdef double _norm(const double* a, Py_ssize_t L, int nt) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t k
    for k in prange(L, num_threads=nt, schedule="static"):
        s += a[k] * a[k]
    return sqrt(s)


cdef double _residual(const Net* n, const double* f, const double* x, double* r,
                      double* norm, int nt) noexcept nogil:
    """r = f − A x on the free nodes of the full system, 0 on fixed nodes; ``norm`` = ||r||₂.

    Returns the rounding floor of that residual, 4·eps·||diag(A) ∘ x||₂ over free nodes: no
    residual computed in double precision can be trusted below it (stiff wires make it matter).
    Branch-free row loops (the end nodes of each line are handled by the loop bounds).

    """
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k, o
    cdef const double* w = x
    cdef const double* b = x + MN
    cdef double dx = 0.0, rr = 0.0
    for i in prange(M, num_threads=nt, schedule="static"):
        o = i * N
        for j in range(N):
            k = o + j
            r[k] = f[k] - n.dw[k] * w[k] + n.gc[k] * b[k]
            r[MN + k] = f[MN + k] - n.db[k] * b[k] + n.gc[k] * w[k]
        for j in range(1, N):
            r[o + j] += n.gw[i * (N - 1) + j - 1] * w[o + j - 1]
            r[o + j - 1] += n.gw[i * (N - 1) + j - 1] * w[o + j]
        if i > 0:
            for j in range(N):
                r[MN + o + j] += n.gb[o - N + j] * b[o - N + j]
        if i < M - 1:
            for j in range(N):
                r[MN + o + j] += n.gb[o + j] * b[o + N + j]
        for j in range(N):
            k = o + j
            dx += (n.dw[k] * w[k]) * (n.dw[k] * w[k]) + (n.db[k] * b[k]) * (n.db[k] * b[k])
            rr += r[k] * r[k] + r[MN + k] * r[MN + k]
    if n.nfw + n.nfb > 0:
        # Fixed nodes carry their sources' currents: zero them and sum again (subtracting
        # them from rr would cancel catastrophically).
        for k in range(n.nfw):
            r[n.fixed_w[k]] = 0.0
        for k in range(n.nfb):
            r[MN + n.fixed_b[k]] = 0.0
        norm[0] = _norm(r, 2 * MN, nt)
    else:
        norm[0] = sqrt(rr)
    return 4.0 * DBL_EPSILON * sqrt(dx)


cdef void _col_errors(const Net* n, const double* f, const double* x, const double* r,
                      double* tmp, double* E) noexcept nogil:
    """E[j]: error estimate of bit line j's terminal current, A; E[N + j]: its gross cell
    current Σ|gc·(w − b)|, A (``xbar.circuit.network.current_errors``: Σ over the line's bit
    nodes of |r| + FLOOR·(|A||x| + |f|), plus the share gc/diag of the same at its word nodes).

    ``r``: the residual of ``_residual`` at x (0 on fixed nodes); ``tmp``: 2N scratch.  One pass
    after the iterations, serial (accumulated by bit line).
    """
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k, o
    cdef const double* w = x
    cdef const double* b = x + MN
    cdef double* sw = tmp
    cdef double* sb = tmp + N
    cdef double ic, g, ew, eb
    memset(E, 0, 2 * N * sizeof(double))
    for i in range(M):
        o = i * N
        for j in range(N):
            k = o + j
            ic = fabs(n.gc[k] * (w[k] - b[k]))
            sw[j] = fabs(f[k]) + n.dw[k] * fabs(w[k]) + n.gc[k] * fabs(b[k]) + ic
            sb[j] = fabs(f[MN + k]) + n.db[k] * fabs(b[k]) + n.gc[k] * fabs(w[k]) + ic
            E[N + j] += ic
        for j in range(1, N):
            g = n.gw[i * (N - 1) + j - 1]
            sw[j] += g * fabs(w[o + j - 1])
            sw[j - 1] += g * fabs(w[o + j])
        if i > 0:
            for j in range(N):
                sb[j] += n.gb[o - N + j] * fabs(b[o - N + j])
        if i < M - 1:
            for j in range(N):
                sb[j] += n.gb[o + j] * fabs(b[o + N + j])
        if n.wi[_wb(i, 0, N)] == 0.0:
            sw[0] = 0.0                      # fixed word node (its r is 0 already)
        if i == M - 1:
            for j in range(N):
                if n.bi[o + j] == 0.0:
                    sb[j] = 0.0              # fixed bit node
        for j in range(N):
            k = o + j
            ew = fabs(r[k]) + FLOOR * sw[j]
            eb = fabs(r[MN + k]) + FLOOR * sb[j]
            # dw = 0 only where gc = 0 (an isolated fixed node): the share is then 0
            E[j] += eb + ew * (n.gc[k] / (n.dw[k] + (n.dw[k] == 0.0)))


cdef int _solve_one(const Net* n, const double* f, double* x, double* buf, double rtol,
                    double atol, int maxiter, int nt, int* it_out, double* res_out,
                    double* scale_out, double* E) noexcept nogil:
    """Solve one right-hand side in place with ``nt`` threads; returns a status code.

    Outer loop: r = f − A x; correct x by the exact reduced solve of A δ = r (word lines
    eliminated), stopping the inner CG when its residual — which equals the full residual, the
    word-line rows being solved exactly — is below tolerance; confirm on the true residual.
    ``buf`` holds NBUF·M·N doubles followed by nt·R·N for the word-line blocks; ``E`` (NULL or
    2N doubles) receives the error estimates of ``_col_errors`` at the returned x.
    """
    cdef Py_ssize_t MN = n.M * n.N, L = 2 * MN, k
    cdef double* r = buf              # 2MN: full residual; r[MN:] accumulates δ_b during CG
    cdef double* s = buf + 2 * MN     # MN: reduced residual (s and z adjoin: 2MN scratch)
    cdef double* z = buf + 3 * MN
    cdef double* p = buf + 4 * MN
    cdef double* q = buf + 5 * MN
    cdef double* wb = buf + NBUF * MN
    cdef double scale, tol, rz, rz_new, pq, alpha, beta, rn, floor, rn_prev, rn_round = 1e300
    cdef int it = 0, status = 1, rounds = 0, stagnated = 0
    # Scale of the problem: the residual with every free node at 0 V (without fixed nodes, that
    # is the injection f itself).
    if n.nfw + n.nfb == 0:
        scale = _norm(f, L, nt)
    else:
        memset(s, 0, L * sizeof(double))
        for k in range(n.nfw):
            s[n.fixed_w[k]] = x[n.fixed_w[k]]
        for k in range(n.nfb):
            s[MN + n.fixed_b[k]] = x[MN + n.fixed_b[k]]
        _residual(n, f, s, r, &scale, nt)
    floor = _residual(n, f, x, r, &rn, nt)
    scale_out[0] = scale
    tol = rtol * scale
    if atol > tol:
        tol = atol

    while rn > tol and rn > floor and it < maxiter and rounds < 50:
        rounds += 1
        # Reduced right-hand side: s = r_b + D Tw⁻¹ r_w (z as scratch).
        _word_solve(n, r, z, wb, nt)
        for k in prange(MN, num_threads=nt, schedule="static"):
            s[k] = r[MN + k] + n.gc[k] * z[k]
        for k in range(n.nfb):
            s[n.fixed_b[k]] = 0.0
        # CG on S δ_b = s; δ_b accumulates in r[MN:] (r_b is no longer needed).
        memset(r + MN, 0, MN * sizeof(double))
        # z = Tb⁻¹ s: a CG step of length 0 does the forward half (and returns ||s||²).
        rn = sqrt(_step_forward(n, 0.0, s, s, r + MN, s, z, nt))
        rz = _bit_backward(n, s, z, nt)
        memcpy(p, z, MN * sizeof(double))
        while rn > tol and rn > floor and it < maxiter:
            pq = _schur_matvec(n, p, q, wb, nt)
            if pq <= 0.0 or rz <= 0.0:
                status = -1
                break
            alpha = rz / pq
            rn = sqrt(_step_forward(n, alpha, p, q, r + MN, s, z, nt))
            it += 1
            if rn <= tol or rn <= floor:
                break
            rz_new = _bit_backward(n, s, z, nt)
            beta = rz_new / rz
            rz = rz_new
            for k in prange(MN, num_threads=nt, schedule="static"):
                p[k] = z[k] + beta * p[k]
        if status == -1:
            break
        # δ_w = Tw⁻¹ (r_w + D δ_b); x += δ.
        for k in prange(MN, num_threads=nt, schedule="static"):
            r[k] = r[k] + n.gc[k] * r[MN + k]
        _word_solve(n, r, r, wb, nt)
        for k in prange(L, num_threads=nt, schedule="static"):
            x[k] += r[k]
        # Confirm on the recomputed true residual of the full system.
        floor = _residual(n, f, x, r, &rn, nt)
        rn_prev = rn_round
        rn_round = rn
        # Refinement rounds that no longer halve the residual have reached the attainable
        # accuracy: accept it when within 10x of the target (rounding in the update and the
        # residual itself), otherwise stop and report.
        if rounds >= 2 and rn > 0.5 * rn_prev:
            if rn <= 10.0 * (tol if tol > floor else floor):
                stagnated = 1
            break
    if status != -1:
        status = 0 if (rn <= tol or rn <= floor or stagnated) else 1
    if E != NULL:
        _col_errors(n, f, x, r, s, E)    # r: the residual at x; s: free scratch by now
    it_out[0] = it
    res_out[0] = rn
    return status


cdef void _net_init(Net* n, Py_ssize_t M, Py_ssize_t N, const double* gc, const double* gw,
                    const double* gb, double* state, Py_ssize_t* fw, Py_ssize_t nfw,
                    Py_ssize_t* fb, Py_ssize_t nfb) noexcept nogil:
    """Point ``n`` at the network; ``state`` (``_state_size``) receives the factors (``_factor``)."""
    cdef Py_ssize_t MN = M * N, PN = _padded(M) * N
    n.M = M
    n.N = N
    n.gc = <double*> gc
    n.gw = <double*> gw
    n.gb = <double*> gb
    n.dw = state
    n.db = state + MN
    n.bi = state + 2 * MN
    n.ab = state + 3 * MN
    n.eb = state + 4 * MN
    n.wi = state + 5 * MN
    n.cw = state + 5 * MN + PN
    n.aw = state + 5 * MN + 2 * PN
    n.ew = state + 5 * MN + 3 * PN
    n.fixed_w = fw
    n.nfw = nfw
    n.fixed_b = fb
    n.nfb = nfb


cdef void _factor(Net* n, const double* dw_extra, const double* db_extra,
                  const unsigned char* fixed_w, const unsigned char* fixed_b) noexcept nogil:
    """Diagonals and Thomas factors of the line blocks for the present cell conductances.

    A fixed node gets zero factors, which cuts it from its neighbours.  The word lines are
    factored R at a time and the bit lines row by row, so that the divisions pipeline.
    """
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, q, blk, ii, ni, nblk = (M + R - 1) // R
    cdef double inv, gl, gr
    for i in range(M):
        for j in range(N):
            k = i * N + j
            n.dw[k] = n.gc[k] + dw_extra[k]
            n.db[k] = n.gc[k] + db_extra[k]
        for j in range(1, N):
            n.dw[i * N + j] += n.gw[i * (N - 1) + j - 1]
            n.dw[i * N + j - 1] += n.gw[i * (N - 1) + j - 1]
        if i > 0:
            for j in range(N):
                n.db[i * N + j] += n.gb[(i - 1) * N + j]
        if i < M - 1:
            for j in range(N):
                n.db[i * N + j] += n.gb[i * N + j]
    # Pivots are computed for fixed nodes too and masked (a fixed node adds 1 S to its divisor,
    # which keeps it finite when nothing but open cells meets the node): no branch in the
    # loops, which lets the divisions vectorise.
    for blk in range(nblk):
        for ii in range(R):                  # padded rows of the last block: zero factors
            if blk * R + ii >= M:
                for j in range(N):
                    q = blk * R * N + j * R + ii
                    n.wi[q] = 0.0
                    n.cw[q] = 0.0
                    n.aw[q] = 0.0
                    n.ew[q] = 0.0
        ni = M - blk * R
        if ni > R:
            ni = R
        for ii in range(ni):
            k = (blk * R + ii) * N
            q = blk * R * N + ii
            inv = (1.0 - fixed_w[k]) / (n.dw[k] + fixed_w[k])   # fixed: 0 even if dw = 0
            n.wi[q] = inv
            n.cw[q] = n.gc[k] * inv
            n.aw[q] = 0.0
            n.ew[q] = (n.gw[(blk * R + ii) * (N - 1)] if N > 1 else 0.0) * inv
        for j in range(1, N):
            for ii in range(ni):
                i = blk * R + ii
                k = i * N + j
                q = blk * R * N + j * R + ii
                gl = n.gw[i * (N - 1) + j - 1]
                gr = n.gw[i * (N - 1) + j] if j < N - 1 else 0.0
                inv = (1.0 - fixed_w[k]) / (n.dw[k] - gl * n.ew[q - R] + fixed_w[k])
                n.wi[q] = inv
                n.cw[q] = n.gc[k] * inv
                n.aw[q] = gl * inv
                n.ew[q] = gr * inv
    for j in range(N):
        n.bi[j] = (1.0 - fixed_b[j]) / (n.db[j] + fixed_b[j])
        n.ab[j] = 0.0
        n.eb[j] = (n.gb[j] if M > 1 else 0.0) * n.bi[j]
    for i in range(1, M):
        for j in range(N):
            k = i * N + j
            inv = (1.0 - fixed_b[k]) / (n.db[k] - n.gb[k - N] * n.eb[k - N] + fixed_b[k])
            n.bi[k] = inv
            n.ab[k] = n.gb[k - N] * inv
            n.eb[k] = (n.gb[k] if i < M - 1 else 0.0) * inv


# ---------------------------------------------------------------------------- nonlinear cells
cdef struct IV:
    int kind            # 0 linear, 1 sinh, 2 asymmetric sinh, 3 table (see xbar.iv)
    double v0p
    double v0n
    const double* tv    # table knots (V), values f = I/G (V), Hermite slopes
    const double* tf
    const double* tm
    Py_ssize_t nt


cdef inline void _iv_eval(const IV* iv, double V, double G, double* I, double* g) noexcept nogil:
    """Cell current I (A) and dI/dV (S) at voltage V for small-signal conductance G."""
    cdef double v0, t, t2, t3, h, f, df
    cdef Py_ssize_t lo, hi, mid
    if iv.kind == 0:
        I[0] = G * V
        g[0] = G
    elif iv.kind == 1 or iv.kind == 2:
        v0 = iv.v0p if (iv.kind == 1 or V >= 0.0) else iv.v0n
        I[0] = G * v0 * sinh(V / v0)
        g[0] = G * cosh(V / v0)
    else:
        if V < iv.tv[0]:
            I[0] = G * (iv.tf[0] + iv.tm[0] * (V - iv.tv[0]))
            g[0] = G * iv.tm[0]
            return
        if V > iv.tv[iv.nt - 1]:
            I[0] = G * (iv.tf[iv.nt - 1] + iv.tm[iv.nt - 1] * (V - iv.tv[iv.nt - 1]))
            g[0] = G * iv.tm[iv.nt - 1]
            return
        lo = 0
        hi = iv.nt - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if iv.tv[mid] <= V:
                lo = mid
            else:
                hi = mid
        h = iv.tv[lo + 1] - iv.tv[lo]
        t = (V - iv.tv[lo]) / h
        t2 = t * t
        t3 = t2 * t
        f = ((2 * t3 - 3 * t2 + 1) * iv.tf[lo] + (t3 - 2 * t2 + t) * h * iv.tm[lo]
             + (-2 * t3 + 3 * t2) * iv.tf[lo + 1] + (t3 - t2) * h * iv.tm[lo + 1])
        df = ((6 * t2 - 6 * t) * iv.tf[lo] / h + (3 * t2 - 4 * t + 1) * iv.tm[lo]
              + (-6 * t2 + 6 * t) * iv.tf[lo + 1] / h + (3 * t2 - 2 * t) * iv.tm[lo + 1])
        I[0] = G * f
        g[0] = G * df


cdef double _nl_residual(const Net* n, const IV* iv, const double* G, const double* dw_extra,
                         const double* db_extra, const double* f, const double* x, double* r,
                         double* gJ, int nt) noexcept nogil:
    """r = f − F(x) for nonlinear cells (0 on fixed nodes); gJ = dI/dV per cell; returns ||r||."""
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k
    cdef const double* w = x
    cdef const double* b = x + MN
    cdef double acc, Ic, gc, s = 0.0
    for i in prange(M, num_threads=nt, schedule="static"):
        for j in range(N):
            k = i * N + j
            _iv_eval(iv, w[k] - b[k], G[k], &Ic, &gc)
            gJ[k] = gc
            acc = dw_extra[k] * w[k] + Ic
            if j > 0:
                acc = acc + n.gw[i * (N - 1) + j - 1] * (w[k] - w[k - 1])
            if j < N - 1:
                acc = acc + n.gw[i * (N - 1) + j] * (w[k] - w[k + 1])
            r[k] = f[k] - acc
            acc = db_extra[k] * b[k] - Ic
            if i > 0:
                acc = acc + n.gb[k - N] * (b[k] - b[k - N])
            if i < M - 1:
                acc = acc + n.gb[k] * (b[k] - b[k + N])
            r[MN + k] = f[MN + k] - acc
    for k in range(n.nfw):
        r[n.fixed_w[k]] = 0.0
    for k in range(n.nfb):
        r[MN + n.fixed_b[k]] = 0.0
    for k in range(2 * MN):
        s += r[k] * r[k]
    return sqrt(s)


cdef int _newton_one(Net* n, const IV* iv, const double* G, const double* dw_extra,
                     const double* db_extra, const unsigned char* fixed_w,
                     const unsigned char* fixed_b, const double* f, double* x, double* buf,
                     double tol, int maxiter, int max_newton, int nt, int* it_out,
                     int* newton_out, double* res_out) noexcept nogil:
    """Damped Newton from x (the linear solution) for one right-hand side; returns a status.

    ``n.gc`` and the factor arrays are overwritten with the Jacobian's.  Status 0 converged,
    1 Newton limit, -1 inner breakdown, 2 line search stalled.
    """
    cdef Py_ssize_t MN = n.M * n.N, L = 2 * MN, k
    cdef double* F = buf                 # 2MN residual (f − F(x))
    cdef double* d = buf + 2 * MN        # 2MN Newton step
    cdef double* xt = buf + 4 * MN       # 2MN trial point
    cdef double* Ft = buf + 6 * MN       # 2MN trial residual
    cdef double* gt = buf + 8 * MN       # MN trial Jacobian conductances
    cdef double* inner = buf + 9 * MN    # NBUF*MN + R*N for the linear solver
    cdef double fn, fn0, ft, t, eta, dummy_res, dummy_scale
    cdef int it = 0, newton = 0, status = 1, st, inner_it
    fn = _nl_residual(n, iv, G, dw_extra, db_extra, f, x, F, n.gc, nt)
    fn0 = fn
    while fn > tol:
        if newton >= max_newton:
            status = 1
            break
        _factor(n, dw_extra, db_extra, fixed_w, fixed_b)
        eta = fn / fn0 if fn0 > 0.0 else 1.0
        if eta > 0.1:
            eta = 0.1
        if eta < 1e-14:
            eta = 1e-14
        memset(d, 0, L * sizeof(double))
        inner_it = 0
        st = _solve_one(n, F, d, inner, eta, 0.0, maxiter, nt, &inner_it, &dummy_res,
                        &dummy_scale, NULL)
        it += inner_it
        if st == -1:
            status = -1
            break
        t = 1.0
        while True:
            for k in range(L):
                xt[k] = x[k] + t * d[k]
            ft = _nl_residual(n, iv, G, dw_extra, db_extra, f, xt, Ft, gt, nt)
            if ft <= (1.0 - 1e-4 * t) * fn:
                break
            t = 0.5 * t
            if t < 1e-8:
                break
        if t < 1e-8:
            status = 2
            break
        memcpy(x, xt, L * sizeof(double))
        memcpy(F, Ft, L * sizeof(double))
        memcpy(n.gc, gt, MN * sizeof(double))
        fn = ft
        newton += 1
    if fn <= tol:
        status = 0
    it_out[0] = it
    newton_out[0] = newton
    res_out[0] = fn
    return status


# Scratch and factor memory is reused between calls.  On this project's VMs the first touch of a
# fresh page costs ~2.7 µs per 4 KiB (1,637 faults added 4.5 ms to a 9 ms 256 x 256 solve,
# measured), and glibc hands big freed blocks back to the system, so every call paid it again.
# Arrays are taken under the GIL (list operations are atomic), so concurrent calls never share one.
_POOL = []
_POOL_KEEP = 4                     # arrays kept
_POOL_MAX_BYTES = 64 * 2 ** 20     # larger ones are freed (their solve dwarfs the page faults)


def _take(Py_ssize_t n):
    """A float64 array of at least ``n`` elements (contents undefined), from the pool if possible."""
    best = -1
    for i, a in enumerate(_POOL):
        if a.size >= n and (best < 0 or a.size < _POOL[best].size):
            best = i
    if best >= 0:
        return _POOL.pop(best)
    return np.empty(max(n, 1))


def _give(a):
    """Return an array from :func:`_take` to the pool."""
    if a.nbytes <= _POOL_MAX_BYTES:
        _POOL.append(a)
        if len(_POOL) > _POOL_KEEP:
            del _POOL[min(range(len(_POOL)), key=lambda i: _POOL[i].size)]


def _fixed_indices(fixed_w, fixed_b):
    """Index arrays (padded to length >= 1) and counts of the fixed word and bit nodes."""
    fw_idx = np.flatnonzero(np.asarray(fixed_w).ravel()).astype(np.intp)
    fb_idx = np.flatnonzero(np.asarray(fixed_b).ravel()).astype(np.intp)
    return (np.concatenate([fw_idx, [0]]).astype(np.intp), fw_idx.size,
            np.concatenate([fb_idx, [0]]).astype(np.intp), fb_idx.size)


cdef int _newton_item(Py_ssize_t M, Py_ssize_t N, const double* gw, const double* gb,
                      Py_ssize_t* fw, Py_ssize_t nfw, Py_ssize_t* fb, Py_ssize_t nfb,
                      const IV* iv, const double* G, const double* dw_extra,
                      const double* db_extra, const unsigned char* fixed_w,
                      const unsigned char* fixed_b, const double* f, double* x, double* buf,
                      double tol, int maxiter, int max_newton, int* it_out, int* newton_out,
                      double* res_out) noexcept nogil:
    """One right-hand side: its own Net (Jacobian and factors live in ``buf``)."""
    cdef Py_ssize_t MN = M * N
    cdef Net net
    _net_init(&net, M, N, buf, gw, gb, buf + MN, fw, nfw, fb, nfb)
    return _newton_one(&net, iv, G, dw_extra, db_extra, fixed_w, fixed_b, f, x,
                       buf + MN + _state_size(M, N),
                       tol, maxiter, max_newton, 1, it_out, newton_out, res_out)


def newton(const double[:, ::1] G not None,
           const double[:, ::1] gw not None,
           const double[:, ::1] gb not None,
           const double[:, ::1] dw_extra not None,
           const double[:, ::1] db_extra not None,
           const unsigned char[:, ::1] fixed_w not None,
           const unsigned char[:, ::1] fixed_b not None,
           const double[:, ::1] f not None,
           double[:, ::1] x not None,
           int kind, double v0p, double v0n,
           const double[::1] tv not None, const double[::1] tf not None,
           const double[::1] tm not None,
           const double[::1] tol not None, int maxiter, int max_newton, int num_threads=1):
    """Damped Newton for nonlinear cells, each step solved by the reduced CG above.

    ``G`` (M, N): small-signal cell conductances, S (0 isolates a cell); ``kind``, ``v0p``,
    ``v0n``, ``tv``/``tf``/``tm`` describe the I-V (``xbar.iv``: 0 linear, 1 sinh, 2 asymmetric
    sinh, 3 table).  ``x`` (B, 2MN) holds the start (e.g. the linear solution) and receives the
    solution.  ``tol`` (B,): stop when ||f − F(x)||₂ <= tol, A.

    Returns status, CG iterations, Newton steps, residual (arrays of length B).
    """
    cdef Py_ssize_t M = G.shape[0], N = G.shape[1], MN = M * N, B = f.shape[0], bi
    fw_buf, nfw_, fb_buf, nfb_ = _fixed_indices(fixed_w, fixed_b)
    cdef Py_ssize_t[::1] fwv = fw_buf, fbv = fb_buf
    cdef IV iv
    iv.kind = kind
    iv.v0p = v0p
    iv.v0n = v0n
    iv.tv = &tv[0]
    iv.tf = &tf[0]
    iv.tm = &tm[0]
    iv.nt = tv.shape[0]
    status = np.zeros(B, dtype=np.intc)
    iters = np.zeros(B, dtype=np.intc)
    steps = np.zeros(B, dtype=np.intc)
    resid = np.zeros(B)
    cdef int[::1] st = status, itv = iters, stv = steps
    cdef double[::1] rv = resid
    cdef double* buf
    cdef Py_ssize_t nfw = nfw_, nfb = nfb_
    cdef int nt = num_threads if num_threads > 0 else 1
    if nt > B:
        nt = <int> B
    # Per right-hand side: the Jacobian (gc), diagonals, pivots and the Newton/CG scratch.
    cdef Py_ssize_t per = MN + _state_size(M, N) + (9 + NBUF) * MN + R * N
    work = _take(nt * per)
    cdef double[::1] wv = work
    try:
        with nogil, parallel(num_threads=nt):
            buf = &wv[0] + threadid() * per
            for bi in prange(B, schedule="dynamic"):
                st[bi] = _newton_item(M, N, &gw[0, 0], &gb[0, 0], &fwv[0], nfw, &fbv[0], nfb,
                                      &iv, &G[0, 0], &dw_extra[0, 0], &db_extra[0, 0],
                                      &fixed_w[0, 0], &fixed_b[0, 0], &f[bi, 0], &x[bi, 0], buf,
                                      tol[bi], maxiter, max_newton, &itv[bi], &stv[bi], &rv[bi])
    finally:
        _give(work)
    return status, iters, steps, resid


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
    errors : (B, 2, N) array
        Per bit line, the error estimate of its terminal current and its gross cell current
        Σ|gc·(w − b)|, A, at the returned x (see ``_col_errors``).
    """
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], MN = M * N, B = f.shape[0], bi
    state = _take(_state_size(M, N))         # diagonals and line factors
    cdef double[::1] stv = state
    fw_buf, nfw, fb_buf, nfb = _fixed_indices(fixed_w, fixed_b)
    cdef Py_ssize_t[::1] fwv = fw_buf, fbv = fb_buf
    cdef Net net
    status = np.zeros(B, dtype=np.intc)
    iters = np.zeros(B, dtype=np.intc)
    resid = np.zeros(B)
    scale = np.zeros(B)
    errors = np.zeros((B, 2, N))
    cdef int[::1] st = status, itv = iters
    cdef double[::1] rv = resid, sv = scale
    cdef double[:, :, ::1] ev = errors
    cdef double* buf
    cdef int nt = num_threads if num_threads > 0 else 1
    cdef int inner = nt                # one right-hand side: the threads share each iteration
    if B > 1:
        inner = 1                      # several: one per thread at a time
        if nt > B:
            nt = <int> B
    cdef Py_ssize_t per = NBUF * MN + inner * R * N
    work = _take(per if B == 1 else nt * per)
    cdef double[::1] wv = work
    try:
        _net_init(&net, M, N, &gc[0, 0], &gw[0, 0], &gb[0, 0], &stv[0], &fwv[0], nfw, &fbv[0],
                  nfb)
        with nogil:
            _factor(&net, &dw_extra[0, 0], &db_extra[0, 0], &fixed_w[0, 0], &fixed_b[0, 0])
            if B == 1:
                st[0] = _solve_one(&net, &f[0, 0], &x[0, 0], &wv[0], rtol, atol, maxiter, nt,
                                   &itv[0], &rv[0], &sv[0], &ev[0, 0, 0])
            else:
                with parallel(num_threads=nt):
                    buf = &wv[0] + threadid() * per
                    for bi in prange(B, schedule="dynamic"):
                        st[bi] = _solve_one(&net, &f[bi, 0], &x[bi, 0], buf, rtol, atol,
                                            maxiter, 1, &itv[bi], &rv[bi], &sv[bi],
                                            &ev[bi, 0, 0])
    finally:
        _give(state)
        _give(work)
    return status, iters, resid, scale, errors
