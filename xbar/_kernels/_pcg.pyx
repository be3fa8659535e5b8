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
``S = Tb − D Tw⁻¹ D`` on the bit-line layer, solved by preconditioned CG.  Each iteration costs
two sweeps of line solves, O(M N).  The word-line voltages follow from one more sweep.

Preconditioner.  One level: exact bit-line solves ``Tb⁻¹``.  They resolve everything except
voltage patterns that are smooth along *both* lines over more than ``ℓ ≈ sqrt(g_wire/g_cell)``
nodes (there ``S`` is small, only wire and terminal conductance, while ``Tb`` holds the cells), so
the condition number grows like ``(N/ℓ)²`` and the iteration count like ``N`` on large arrays.
Two levels (``coarse`` > 0): deflation by a coarse space (A-DEF2 of Tang et al. 2009, J. Sci.
Comput. 39:340; ``_precondition``), ``M⁻¹ s = z0 + P Ac⁻¹ Pᵀ (s − S z0)`` with ``z0 = Tb⁻¹ s``
and the exact Galerkin matrix ``Ac = Pᵀ S P``; CG starts from the coarse solution, which makes
``Pᵀ s = 0``.  The coarse functions are a x a blocks: constant across the block's bit lines and,
along them, linear between the block centres (``_hat``).  Linear along the bit lines is what
matters: a function constant on blocks jumps across the stiff bit-line segments at every block
boundary, so its energy in S is ~a times that of the smooth patterns it has to represent
(4096², 2.5 ohm wires, cells U[1e-6, 1e-4] S: 53 iterations with constant blocks, 8 with
linear ones; 2048²: 36 vs 8).  ``Ac`` is an SPD band matrix (blocks ordered block row by block
row, half bandwidth 2·Nc), assembled exactly from the line factors (``_coarse_assemble``) and
factored once per conductance state; restriction and prolongation ride in the bit-line sweeps
and the update of p.  The iteration count stays bounded as N grows
(``tests/test_solver_coarse.py``).

The stopping test is on the true residual of the full system, recomputed at the end; the
preconditioner changes only the speed, never the accepted accuracy.
Python validates; nothing here re-checks its input.

Speed is set by memory traffic (at 256² every vector is 512 KiB, the size of L2; at 4096² 134
MB, so every pass goes to DRAM): word lines are swept R at a time from a transposed copy (a
row-major sweep at stride N thrashes the L1 sets) with two factor arrays (pivots and segment
conductances; the multipliers are their products), the bit lines are swept row by row over
whole rows (split between the threads), the CG update of x
and s shares a pass with the forward bit-line sweep, which also yields s·M⁻¹s, and (one level)
the update of p shares one with the backward sweep.  Scratch comes from the pool of
``_scratch`` (fresh pages fault).

Status codes: 0 converged, 1 iteration limit reached, -1 breakdown (operator not positive
definite, e.g. a floating sub-network).
"""
from cython.parallel cimport prange, parallel, threadid
from libc.string cimport memcpy, memset
from libc.math cimport sqrt, fabs
from libc.float cimport DBL_EPSILON

import numpy as np

from ._scratch import give, take

# Rounding of one nodal KCL sum, in units of |A||x| + |f| (xbar.circuit.network.FLOOR_EPS).
cdef double FLOOR = DBL_EPSILON


cdef inline Py_ssize_t _min(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef inline Py_ssize_t _chunk(Py_ssize_t N, int nt) noexcept nogil:
    """Width of the column chunks of the bit-line sweeps: one per thread, a multiple of COLCHUNK.

    Each sweep runs down the rows of a chunk, so a chunk as wide as the row keeps every stream
    sequential in memory; narrow chunks jump by a row (N doubles) every few cache lines, which
    defeats the hardware prefetch on large arrays (4096²: ~2x slower per iteration).
    """
    cdef Py_ssize_t w = (N + nt - 1) // nt
    return (w + COLCHUNK - 1) // COLCHUNK * COLCHUNK


cdef inline double _sum(const double* a, Py_ssize_t L) noexcept nogil:
    """Σ a[0:L] in index order (partial sums combined the same way for any thread count)."""
    cdef double s = 0.0
    cdef Py_ssize_t k
    for k in range(L):
        s += a[k]
    return s


cdef inline Py_ssize_t _wb(Py_ssize_t i, Py_ssize_t j, Py_ssize_t N) noexcept nogil:
    """Index of word node (i, j) in the row-block layout: blocks of R rows, column-major inside."""
    return (i // R) * R * N + j * R + i % R


cdef void _word_block(const Net* n, Py_ssize_t blk, const double* src, int cells,
                      double* zb) noexcept nogil:
    """zb = Tw⁻¹ src (``cells``: Tw⁻¹ (gc∘src)) on the R word lines of block ``blk``, transposed
    (j·R + ii).

    ``src`` is row-major (M, N).  The rows are first copied into a small transposed buffer so
    that the recurrences along the lines run over R independent lines at unit stride (strided
    row-major sweeps thrash the L1 sets).  Forward z_j = (rhs_j + gl_j·z_{j-1})·wi_j, backward
    z_j += wi_j·gl_{j+1}·z_{j+1}: the block's wi and gl are read twice, the second time from L2.
    """
    cdef Py_ssize_t M = n.M, N = n.N, i0 = blk * R, r = M - blk * R, ii, j, base = blk * R * N
    cdef const double* w = n.wi + base
    cdef const double* g = n.gl + base
    if r > R:
        r = R
    if cells:
        for ii in range(r):
            for j in range(N):
                zb[j * R + ii] = src[(i0 + ii) * N + j] * n.gc[(i0 + ii) * N + j]
    else:
        for ii in range(r):
            for j in range(N):
                zb[j * R + ii] = src[(i0 + ii) * N + j]
    for ii in range(r, R):
        for j in range(N):
            zb[j * R + ii] = 0.0
    for ii in range(R):
        zb[ii] = zb[ii] * w[ii]
    for j in range(1, N):
        for ii in range(R):
            zb[j * R + ii] = (zb[j * R + ii] + g[j * R + ii] * zb[(j - 1) * R + ii]) * w[j * R + ii]
    for j in range(N - 2, -1, -1):
        for ii in range(R):
            zb[j * R + ii] = zb[j * R + ii] + w[j * R + ii] * g[(j + 1) * R + ii] * zb[(j + 1) * R + ii]


cdef void _word_solve(const Net* n, const double* rhs, double* z, double* wb,
                      int nt) noexcept nogil:
    """z = Tw⁻¹ rhs on every word line (row-major; ``z`` may alias ``rhs``); 0 on fixed nodes.

    ``wb``: nt·R·N scratch (a transposed block of word lines per thread).
    """
    cdef Py_ssize_t M = n.M, N = n.N, blk, nblk = (M + R - 1) // R, ii, j, r
    cdef double* zb
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        zb = wb + threadid() * R * N
        _word_block(n, blk, rhs, 0, zb)
        r = _min(M - blk * R, R)
        for ii in range(r):
            for j in range(N):
                z[(blk * R + ii) * N + j] = zb[j * R + ii]


cdef void _bit_backward(const Net* n, double* z, int nt) noexcept nogil:
    """Backward half of z = Tb⁻¹ s in place (z holds the forward half, ``_step_forward``)."""
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, j0, j1, cb, ncb
    cdef Py_ssize_t width = _chunk(N, nt)
    ncb = (N + width - 1) // width
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * width
        j1 = _min(j0 + width, N)
        for i in range(M - 2, -1, -1):
            for j in range(j0, j1):
                k = i * N + j
                z[k] = z[k] + n.eb[k] * z[k + N]


cdef void _backward_p(const Net* n, const double* z, double beta, int first, double* p,
                      double* zn, int nt) noexcept nogil:
    """p = Tb⁻¹ s + β·p (``first``: p = Tb⁻¹ s) from the forward half in ``z``, which is left
    as it is: the backward half of the bit-line solves fused with the CG update of p.

    ``zn``: N scratch (the row below, finished).
    """
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, j0, j1, cb, ncb
    cdef Py_ssize_t width = _chunk(N, nt)
    cdef double zk
    ncb = (N + width - 1) // width
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * width
        j1 = _min(j0 + width, N)
        for j in range(j0, j1):
            k = (M - 1) * N + j
            zk = z[k]
            zn[j] = zk
            p[k] = zk if first else zk + beta * p[k]
        for i in range(M - 2, -1, -1):
            if first:
                for j in range(j0, j1):
                    k = i * N + j
                    zk = z[k] + n.eb[k] * zn[j]
                    zn[j] = zk
                    p[k] = zk
            else:
                for j in range(j0, j1):
                    k = i * N + j
                    zk = z[k] + n.eb[k] * zn[j]
                    zn[j] = zk
                    p[k] = zk + beta * p[k]


cdef double _step_forward(const Net* n, double alpha, const double* p, const double* q,
                          double* xb, double* s, double* z, double* rz, double* red,
                          int nt) noexcept nogil:
    """CG step xb += α·p, s −= α·q, fused with the forward half of z = Tb⁻¹ s; returns ||s||².

    ``rz`` receives s · Tb⁻¹ s.  With Tb = L D⁻¹ Lᵀ (L = D − the sub-diagonal of Tb, D the
    pivots), the forward half is y = D⁻¹ u with u = s + gb·y(row above) = L⁻¹-scaled s, and
    s · Tb⁻¹ s = yᵀ D y = Σ y·u: the dot product needs no pass after the backward half.
    Both sums run down each bit line into ``red`` (2N), then across: their order does not
    depend on the thread count.
    """
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, j0, j1, cb, ncb
    cdef double sk, u, y
    cdef double* rn = red
    cdef double* rzs = red + N
    cdef Py_ssize_t width = _chunk(N, nt)
    ncb = (N + width - 1) // width
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * width
        j1 = _min(j0 + width, N)
        for j in range(j0, j1):
            xb[j] += alpha * p[j]
            sk = s[j] - alpha * q[j]
            s[j] = sk
            y = sk * n.bi[j]
            z[j] = y
            rn[j] = sk * sk
            rzs[j] = y * sk
        for i in range(1, M):
            for j in range(j0, j1):
                k = i * N + j
                xb[k] += alpha * p[k]
                sk = s[k] - alpha * q[k]
                s[k] = sk
                u = sk + n.gb[k - N] * z[k - N]
                y = u * n.bi[k]
                z[k] = y
                rn[j] += sk * sk
                rzs[j] += y * u
    rz[0] = _sum(rzs, N)
    return _sum(rn, N)


cdef double _schur_matvec(const Net* n, const double* p, double* q, double* wb, double* red,
                          int nt) noexcept nogil:
    """q = S p = Tb p − D Tw⁻¹ D p on free bit nodes (0 on fixed ones); returns p . q.

    ``wb``: nt·R·N scratch (a transposed block of word lines per thread); ``red``: M scratch
    (p . q by row, summed in row order for any thread count).
    """
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, blk, nblk = (M + R - 1) // R, ii, r
    cdef double acc, pr, pq
    cdef double* zb
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        zb = wb + threadid() * R * N
        _word_block(n, blk, p, 1, zb)
        r = _min(M - blk * R, R)
        for ii in range(r):
            i = blk * R + ii
            pr = 0.0
            for j in range(N):
                k = i * N + j
                acc = n.db[k] * p[k] - n.gc[k] * zb[j * R + ii]
                if i > 0:
                    acc = acc - n.gb[k - N] * p[k - N]
                if i < M - 1:
                    acc = acc - n.gb[k] * p[k + N]
                q[k] = acc
                pr = pr + acc * p[k]
            red[i] = pr
    pq = _sum(red, M)
    for k in range(n.nfb):
        pq -= q[n.fixed_b[k]] * p[n.fixed_b[k]]
        q[n.fixed_b[k]] = 0.0
    return pq


cdef double _norm(const double* a, Py_ssize_t rows, Py_ssize_t N, double* red,
                  int nt) noexcept nogil:
    """||a||₂ of rows·N values, summed by row into ``red`` (rows) and then in row order."""
    cdef double acc
    cdef Py_ssize_t i, j
    for i in prange(rows, num_threads=nt, schedule="static"):
        acc = 0.0
        for j in range(N):
            acc = acc + a[i * N + j] * a[i * N + j]
        red[i] = acc
    return sqrt(_sum(red, rows))


cdef double _residual(const Net* n, const double* f, const double* x, double* r,
                      double* norm, double* red, int nt) noexcept nogil:
    """r = f − A x on the free nodes of the full system, 0 on fixed nodes; ``norm`` = ||r||₂.

    Returns the rounding floor of that residual, 4·eps·||diag(A) ∘ x||₂ over free nodes: no
    residual computed in double precision can be trusted below it (stiff wires make it matter).
    Branch-free row loops (the end nodes of each line are handled by the loop bounds).
    ``red``: 2M scratch (the sums by row, combined in row order for any thread count).
    """
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k, o
    cdef const double* w = x
    cdef const double* b = x + MN
    cdef double dx, rr
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
        dx = 0.0
        rr = 0.0
        for j in range(N):
            k = o + j
            dx = dx + (n.dw[k] * w[k]) * (n.dw[k] * w[k]) + (n.db[k] * b[k]) * (n.db[k] * b[k])
            rr = rr + r[k] * r[k] + r[MN + k] * r[MN + k]
        red[i] = dx
        red[M + i] = rr
    dx = _sum(red, M)
    rr = _sum(red + M, M)
    if n.nfw + n.nfb > 0:
        # Fixed nodes carry their sources' currents: zero them and sum again (subtracting
        # them from rr would cancel catastrophically).
        for k in range(n.nfw):
            r[n.fixed_w[k]] = 0.0
        for k in range(n.nfb):
            r[MN + n.fixed_b[k]] = 0.0
        norm[0] = _norm(r, 2 * M, N, red, nt)
    else:
        norm[0] = sqrt(rr)
    return 4.0 * DBL_EPSILON * sqrt(dx)


cdef void _col_errors(const Net* n, const double* f, const double* x, const double* r,
                      double* E, int nt) noexcept nogil:
    """E[j]: error estimate of bit line j's terminal current, A; E[N + j]: its gross cell
    current Σ|gc·(w − b)|, A (``xbar.circuit.network.current_errors``: Σ over the line's bit
    nodes of |r| + FLOOR·(|A||x| + |f|), plus the share gc/diag of the same at its word nodes).

    A per-line E[j] is an estimate, not a bound: current left unbalanced at a node leaves through
    every terminal in fractions that sum to 1, so part of another line's residual can reach
    terminal j.  The bound (up to FLOOR's coverage of rounding) is the sum over all of an item's
    terminals: Σ_j |error_j| <= Σ_j E[j] + Σ over rows of theirs.

    ``r``: the residual of ``_residual`` at x (0 on fixed nodes).  One pass after the
    iterations, accumulated by bit line (``nt`` threads take whole bit lines, so the sums do not
    depend on their number).
    """
    cdef Py_ssize_t M = n.M, N = n.N, MN = M * N, i, j, k, o, j0, j1, cb, ncb
    cdef Py_ssize_t width = _chunk(N, nt)
    cdef const double* w = x
    cdef const double* b = x + MN
    cdef double ic, ew, eb, sw, sb, fw
    memset(E, 0, 2 * N * sizeof(double))
    ncb = (N + width - 1) // width
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * width
        j1 = _min(j0 + width, N)
        for i in range(M):
            o = i * N
            fw = n.wi[_wb(i, 0, N)]         # 0 on a fixed word node (its r is 0 already)
            for j in range(j0, j1):
                k = o + j
                ic = fabs(n.gc[k] * (w[k] - b[k]))
                sw = fabs(f[k]) + n.dw[k] * fabs(w[k]) + n.gc[k] * fabs(b[k]) + ic
                sb = fabs(f[MN + k]) + n.db[k] * fabs(b[k]) + n.gc[k] * fabs(w[k]) + ic
                E[N + j] += ic
                if j > 0:
                    sw = sw + n.gw[i * (N - 1) + j - 1] * fabs(w[k - 1])
                if j < N - 1:
                    sw = sw + n.gw[i * (N - 1) + j] * fabs(w[k + 1])
                if i > 0:
                    sb = sb + n.gb[k - N] * fabs(b[k - N])
                if i < M - 1:
                    sb = sb + n.gb[k] * fabs(b[k + N])
                elif n.bi[k] == 0.0:
                    sb = 0.0                         # fixed bit node
                if j == 0 and fw == 0.0:
                    sw = 0.0
                ew = fabs(r[k]) + FLOOR * sw
                eb = fabs(r[MN + k]) + FLOOR * sb
                # dw = 0 only where gc = 0 (an isolated fixed node): the share is then 0
                E[j] += eb + ew * (n.gc[k] / (n.dw[k] + (n.dw[k] == 0.0)))


# ---------------------------------------------------------------------------- coarse level
cdef inline double* _band(const Coarse* c, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    """Entry (i, j), i <= j <= i + kd, of the upper band of Ac (row-wise storage)."""
    return c.ab + i * (c.kd + 1) + (j - i)


cdef inline Py_ssize_t _hat(const Coarse* c, Py_ssize_t i) noexcept nogil:
    """Coarse row I0 of node row ``i`` (its weight there is 1 − ``_hat_w``, that of I0 + 1
    ``_hat_w``): the coarse functions are linear along the bit lines between the block centres
    (I + 1/2)·a − 1/2 and constant beyond the first and the last (a partition of unity).
    (Two functions rather than an output pointer: variables whose address is taken inside a
    prange are shared between its threads.)"""
    cdef double t = (i - 0.5 * (c.a - 1)) / c.a
    if t <= 0.0:
        return 0
    return _min(<Py_ssize_t> t, c.Mc - 1)


cdef inline double _hat_w(const Coarse* c, Py_ssize_t i) noexcept nogil:
    """Weight of coarse row ``_hat(c, i)`` + 1 at node row ``i``."""
    cdef double t = (i - 0.5 * (c.a - 1)) / c.a
    if t <= 0.0 or t >= c.Mc - 1:
        return 0.0
    return t - <Py_ssize_t> t


cdef inline Py_ssize_t _half_band(const Coarse* c) noexcept nogil:
    """Half bandwidth of Ac: a coarse function meets those of its own and the next block row
    through the word lines (offsets up to 2·Nc − 1) and, through the bit-line segment between
    the rows either side of a block centre, that of the block row after next in its own block
    column (offset 2·Nc); with one block row, its own block row only (Nc − 1)."""
    return 2 * c.Nc if c.Mc > 1 else c.Nc - 1


cdef inline void _band_add2(Coarse* c, Py_ssize_t x, Py_ssize_t y, double v) noexcept nogil:
    """Add v to entries (x, y) and (y, x) of the symmetric Ac (its upper band)."""
    if x < y:
        _band(c, x, y)[0] += v
    elif y < x:
        _band(c, y, x)[0] += v
    else:
        _band(c, x, x)[0] += 2.0 * v


cdef int _band_cholesky(Coarse* c) noexcept nogil:
    """Ac = Uᵀ U in place (U upper, in the band); returns 0, or 1 + the row of a pivot <= 0."""
    cdef Py_ssize_t n = c.n, kd = c.kd, i, j, l, last
    cdef double d, u
    for i in range(n):
        d = _band(c, i, i)[0]
        if not d > 0.0:
            return <int> (i + 1)
        d = sqrt(d)
        _band(c, i, i)[0] = d
        last = _min(i + kd, n - 1)
        for j in range(i + 1, last + 1):
            _band(c, i, j)[0] /= d
        for j in range(i + 1, last + 1):
            u = _band(c, i, j)[0]
            if u != 0.0:
                for l in range(j, last + 1):
                    _band(c, j, l)[0] -= u * _band(c, i, l)[0]
    return 0


cdef void _coarse_solve(const Coarse* c, double* y) noexcept nogil:
    """y = Ac⁻¹ y in place (Ac factored by ``_band_cholesky``)."""
    cdef Py_ssize_t n = c.n, kd = c.kd, i, j, last
    cdef double acc
    for i in range(n):                        # Uᵀ t = y
        y[i] /= _band(c, i, i)[0]
        last = _min(i + kd, n - 1)
        for j in range(i + 1, last + 1):
            y[j] -= _band(c, i, j)[0] * y[i]
    for i in range(n - 1, -1, -1):            # U y = t
        acc = y[i]
        last = _min(i + kd, n - 1)
        for j in range(i + 1, last + 1):
            acc -= _band(c, i, j)[0] * y[j]
        y[i] = acc / _band(c, i, i)[0]


cdef void _coarse_assemble(const Net* n, Coarse* c, const unsigned char* fixed_b,
                           double* tmp) noexcept nogil:
    """Assemble Ac = Pᵀ S P exactly (upper band of ``c.ab``; factor with ``_band_cholesky``).

    ``P``: per block column J (a bit lines) and block row I the coarse function φ_I(i) χ_J(j),
    χ_J the indicator of the block's bit lines and φ_I linear along them (``_hat``), 0 on fixed
    bit nodes.  ``Pᵀ Tb P`` sums conductances times the weights of their nodes; the word-line
    part ``Pᵀ D Tw⁻¹ D P`` couples every pair of blocks J, J' of the (at most two) block rows a
    word line belongs to.  With the Thomas factors, ``Tw⁻¹[j, j'] = G_j' Π_{m=j}^{j'-1} ew_m``
    (j < j', G the diagonal of Tw⁻¹, from ``G_j = wi_j + ew_j² G_{j+1}``), which factorises
    over blocks: per word line O(N) sums and O(Nc²) products, all of factors in [0, 1] (no
    growth).  ``tmp``: N + 4·Nc doubles.
    """
    cdef Py_ssize_t M = n.M, N = n.N, a = c.a, Nc = c.Nc, i, j, k, J, J2, jb, je, q
    cdef Py_ssize_t I0, I1, K0, K1, x0, x1, y0, y1
    cdef double* G = tmp
    cdef double* Ls = tmp + N
    cdef double* Rs = tmp + N + Nc
    cdef double* T = tmp + N + 2 * Nc
    cdef double* Cd = tmp + N + 3 * Nc
    cdef double acc, pr, u, e, prod, w0, w1, v0, v1, d, g, cc
    memset(c.ab, 0, (c.kd + 1) * c.n * sizeof(double))
    for i in range(M):
        w1 = _hat_w(c, i)
        I0 = _hat(c, i)
        w0 = 1.0 - w1
        I1 = _min(I0 + 1, c.Mc - 1)
        v1 = _hat_w(c, i + 1) if i < M - 1 else 0.0
        K0 = _hat(c, i + 1) if i < M - 1 else 0
        v0 = 1.0 - v1
        K1 = _min(K0 + 1, c.Mc - 1)
        # Bit-line part, Pᵀ Tb P: the node (i, j) and the segment to (i + 1, j).
        for j in range(N):
            k = i * N + j
            if fixed_b[k]:
                continue
            J = j // a
            x0 = I0 * Nc + J
            x1 = I1 * Nc + J
            d = n.db[k]
            _band(c, x0, x0)[0] += d * w0 * w0
            _band(c, x1, x1)[0] += d * w1 * w1
            _band(c, x0, x1)[0] += d * w0 * w1
            if i < M - 1 and not fixed_b[k + N]:
                g = -n.gb[k]
                y0 = K0 * Nc + J
                y1 = K1 * Nc + J
                _band_add2(c, x0, y0, g * w0 * v0)
                _band_add2(c, x0, y1, g * w0 * v1)
                _band_add2(c, x1, y0, g * w1 * v0)
                _band_add2(c, x1, y1, g * w1 * v1)
        # Word-line part: diagonal of Tw⁻¹ on line i, then block sums.
        G[N - 1] = n.wi[_wb(i, N - 1, N)]
        for j in range(N - 2, -1, -1):
            q = _wb(i, j, N)
            e = n.wi[q] * n.gl[q + R]           # ew_j = gl_{j+1}·wi_j
            G[j] = n.wi[q] + e * e * G[j + 1]
        for J in range(Nc):
            jb = J * a
            je = _min(jb + a, N)
            acc = 0.0        # Σ_{j<j'} u_j Π_{m=j}^{j'-1} ew_m, within the block
            pr = 1.0         # Π_{m=jb}^{j'-1} ew_m
            Rs[J] = 0.0
            Cd[J] = 0.0
            for j in range(jb, je):
                k = i * N + j
                u = 0.0 if fixed_b[k] else n.gc[k]
                q = _wb(i, j, N)
                e = n.wi[q] * n.gl[q + R] if j < N - 1 else 0.0
                Rs[J] += u * G[j] * pr
                Cd[J] += u * u * G[j] + 2.0 * u * G[j] * acc
                acc = (acc + u) * e
                pr *= e
            Ls[J] = acc
            T[J] = pr
        # C[J, J'] (Cd on the diagonal, Ls·Π T·Rs off it) enters with −φ_I(i)·φ_I'(i).
        x0 = I0 * Nc
        x1 = I1 * Nc
        for J in range(Nc):
            cc = Cd[J]
            _band(c, x0 + J, x0 + J)[0] -= w0 * w0 * cc
            _band(c, x1 + J, x1 + J)[0] -= w1 * w1 * cc
            _band(c, x0 + J, x1 + J)[0] -= w0 * w1 * cc
            prod = 1.0
            for J2 in range(J + 1, Nc):
                if prod == 0.0:
                    break
                cc = Ls[J] * prod * Rs[J2]
                _band(c, x0 + J, x0 + J2)[0] -= w0 * w0 * cc
                if w1 != 0.0:
                    _band(c, x1 + J, x1 + J2)[0] -= w1 * w1 * cc
                    _band(c, x0 + J, x1 + J2)[0] -= w0 * w1 * cc
                    _band(c, x0 + J2, x1 + J)[0] -= w0 * w1 * cc
                prod *= T[J2]
    for k in range(c.n):                  # coarse functions without a free bit node
        if _band(c, k, k)[0] == 0.0:
            _band(c, k, k)[0] = 1.0


cdef double _step_forward_c(const Net* n, double alpha, const double* p, const double* q,
                            double* xb, double* s, double* z, double* yc, double* rz,
                            double* red, int nt) noexcept nogil:
    """``_step_forward`` that also restricts s to the coarse unknowns: yc += Pᵀ s.

    ``yc`` must be zero on entry.  A block lies inside one column chunk (a divides COLCHUNK), so
    each chunk, hence each thread, writes its own blocks.
    """
    cdef const Coarse* c = n.coarse
    cdef Py_ssize_t M = n.M, N = n.N, a = c.a, i, j, k, j0, j1, jb, je, cb, ncb, I, I1, J
    cdef double sk, acc, u, y, w1
    cdef double* rn = red
    cdef double* rzs = red + N
    cdef Py_ssize_t width = _chunk(N, nt)
    ncb = (N + width - 1) // width
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * width
        j1 = _min(j0 + width, N)
        for J in range(j0 // a, (j1 + a - 1) // a):
            jb = J * a
            je = _min(jb + a, j1)
            acc = 0.0
            for j in range(jb, je):
                xb[j] += alpha * p[j]
                sk = s[j] - alpha * q[j]
                s[j] = sk
                acc = acc + sk
                y = sk * n.bi[j]
                z[j] = y
                rn[j] = sk * sk
                rzs[j] = y * sk
            yc[J] += acc                 # row 0: weight 1 on coarse row 0
        for i in range(1, M):
            w1 = _hat_w(c, i)
            I = _hat(c, i)
            I1 = _min(I + 1, c.Mc - 1)
            for J in range(j0 // a, (j1 + a - 1) // a):
                jb = J * a
                je = _min(jb + a, j1)
                acc = 0.0
                for j in range(jb, je):
                    k = i * N + j
                    xb[k] += alpha * p[k]
                    sk = s[k] - alpha * q[k]
                    s[k] = sk
                    acc = acc + sk
                    u = sk + n.gb[k - N] * z[k - N]
                    y = u * n.bi[k]
                    z[k] = y
                    rn[j] += sk * sk
                    rzs[j] += y * u
                yc[I * c.Nc + J] += (1.0 - w1) * acc
                yc[I1 * c.Nc + J] += w1 * acc
    rz[0] = _sum(rzs, N)
    return _sum(rn, N)


cdef void _restricted_word(const Net* n, const double* z, double* yc, double* Tr, double* wb,
                           int nt) noexcept nogil:
    """yc = Pᵀ D Tw⁻¹ D z on the coarse unknowns (free bit nodes only).

    Threads take word-line blocks and store the sums of each line over each block column in
    ``Tr`` (M·Nc scratch), then block columns, which weight them down the bit lines in row order
    (the sums do not depend on the thread count).  ``wb``: nt·R·N scratch.
    """
    cdef const Coarse* c = n.coarse
    cdef Py_ssize_t M = n.M, N = n.N, a = c.a, Nc = c.Nc, I, I1, J, blk, ii, r, i, j, k, jb, je
    cdef Py_ssize_t nblk = (M + R - 1) // R
    cdef double acc, w1
    cdef double* zb
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        zb = wb + threadid() * R * N
        _word_block(n, blk, z, 1, zb)
        r = _min(M - blk * R, R)
        for ii in range(r):
            i = blk * R + ii
            for J in range(Nc):
                jb = J * a
                je = _min(jb + a, N)
                acc = 0.0
                for j in range(jb, je):
                    k = i * N + j
                    acc = acc + (1 - n.fbm[k]) * n.gc[k] * zb[j * R + ii]
                Tr[i * Nc + J] = acc
    for J in prange(Nc, num_threads=nt, schedule="static"):
        for I in range(c.Mc):
            yc[I * Nc + J] = 0.0
        for i in range(M):
            w1 = _hat_w(c, i)
            I = _hat(c, i)
            I1 = _min(I + 1, c.Mc - 1)
            yc[I * Nc + J] += (1.0 - w1) * Tr[i * Nc + J]
            yc[I1 * Nc + J] += w1 * Tr[i * Nc + J]


cdef void _p_update_c(const Net* n, const double* z, const double* yc, double beta, double* p,
                      int nt) noexcept nogil:
    """p = z + P yc + β·p (P yc is 0 on fixed bit nodes); ``z`` NULL stands for 0."""
    cdef const Coarse* c = n.coarse
    cdef Py_ssize_t M = n.M, N = n.N, a = c.a, Nc = c.Nc, i, j, k, J, jb, je, I0, I1
    cdef double y, w1
    for i in prange(M, num_threads=nt, schedule="static"):
        w1 = _hat_w(c, i)
        I0 = _hat(c, i)
        I1 = _min(I0 + 1, c.Mc - 1)
        for J in range(Nc):
            y = (1.0 - w1) * yc[I0 * Nc + J] + w1 * yc[I1 * Nc + J]
            jb = J * a
            je = _min(jb + a, N)
            if z != NULL:
                for j in range(jb, je):
                    k = i * N + j
                    p[k] = z[k] + (1 - n.fbm[k]) * y + beta * p[k]
            else:
                for j in range(jb, je):
                    k = i * N + j
                    p[k] = (1 - n.fbm[k]) * y
    return


cdef double _precondition(const Net* n, double alpha, const double* p, const double* q,
                          double* xb, double* s, double* z, double* yc, double tol, double floor,
                          double* rz, double* wb, double* red, int nt) noexcept nogil:
    """CG step fused with the preconditioner; returns ||s||, sets ``rz`` = s . M⁻¹ s.

    One level: z = the forward half of Tb⁻¹ s (the caller's ``_backward_p`` finishes it into
    the update of p).  Two levels (A-DEF2 of Tang et al. 2009, J. Sci. Comput. 39:340):
    M⁻¹ s = z0 + P Ac⁻¹ Pᵀ (s − S z0), z0 = Tb⁻¹ s, with Pᵀ(s − S z0) = Pᵀ D Tw⁻¹ D z0 as
    Tb z0 = s.  On return ``z`` holds z0 and ``yc`` (2·n: the correction, then Pᵀ s; then M·Nc
    scratch for ``_restricted_word``) the
    coarse part, which the caller's update of p adds (``_p_update_c``).  When ||s|| meets
    ``tol`` or ``floor`` the preconditioner is skipped (``rz`` unset).
    """
    cdef double rn, rz0
    cdef const Coarse* c = n.coarse
    cdef double* yr
    cdef Py_ssize_t k
    if c == NULL:
        return sqrt(_step_forward(n, alpha, p, q, xb, s, z, rz, red, nt))
    yr = yc + c.n
    memset(yr, 0, c.n * sizeof(double))
    rn = sqrt(_step_forward_c(n, alpha, p, q, xb, s, z, yr, &rz0, red, nt))
    if rn > tol and rn > floor:
        _bit_backward(n, z, nt)
        _restricted_word(n, z, yc, yc + 2 * c.n, wb, nt)
        _coarse_solve(c, yc)
        for k in range(c.n):
            rz0 += yc[k] * yr[k]
        rz[0] = rz0
    return rn


cdef int _solve_one(const Net* n, const double* f, double* x, double* buf, double rtol,
                    double atol, int maxiter, int nt, int* it_out, double* res_out,
                    double* scale_out, double* E) noexcept nogil:
    """Solve one right-hand side in place with ``nt`` threads; returns a status code.

    Outer loop: r = f − A x; correct x by the exact reduced solve of A δ = r (word lines
    eliminated), stopping the inner CG when its residual — which equals the full residual, the
    word-line rows being solved exactly — is below tolerance; confirm on the true residual.
    ``buf`` holds ``_work_size(M, N, nt)`` doubles (NBUF·M·N, nt·R·N for the word-line
    blocks, 2(M + N) for partial sums) followed, with a coarse level, by 2·``n.coarse.n``
    (coarse vectors) and M·Nc (line sums of ``_restricted_word``); ``E`` (NULL or 2N doubles)
    receives the error estimates of ``_col_errors`` at the returned x.
    """
    cdef Py_ssize_t MN = n.M * n.N, L = 2 * MN, k
    cdef double* r = buf              # 2MN: full residual; r[MN:] accumulates δ_b during CG
    cdef double* s = buf + 2 * MN     # MN: reduced residual (s and z adjoin: 2MN scratch)
    cdef double* z = buf + 3 * MN
    cdef double* p = buf + 4 * MN
    cdef double* q = buf + 5 * MN
    cdef double* wb = buf + NBUF * MN
    cdef double* red = wb + nt * R * n.N   # 2(M + N): partial sums (thread-count independent)
    cdef double* yc = red + 2 * (n.M + n.N)   # 2 x coarse unknowns (two-level only)
    cdef double scale, tol, rz = 0.0, rz_new = 0.0, pq, alpha, beta, rn, floor, rn_prev, rn_round = 1e300
    cdef int it = 0, status = 1, rounds = 0, stagnated = 0
    # Scale of the problem: the residual with every free node at 0 V (without fixed nodes, that
    # is the injection f itself).
    if n.nfw + n.nfb == 0:
        scale = _norm(f, 2 * n.M, n.N, red, nt)
    else:
        memset(s, 0, L * sizeof(double))
        for k in range(n.nfw):
            s[n.fixed_w[k]] = x[n.fixed_w[k]]
        for k in range(n.nfb):
            s[MN + n.fixed_b[k]] = x[MN + n.fixed_b[k]]
        _residual(n, f, s, r, &scale, red, nt)
    floor = _residual(n, f, x, r, &rn, red, nt)
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
        if n.coarse == NULL:
            # z = M⁻¹ s: a CG step of length 0 does the forward half (and returns ||s||).
            rn = _precondition(n, 0.0, s, s, r + MN, s, z, yc, tol, floor, &rz, wb, red, nt)
            if rn > tol and rn > floor:
                _backward_p(n, z, 0.0, 1, p, wb, nt)       # p = z = Tb⁻¹ s
        else:
            # Coarse start δ_b = P Ac⁻¹ Pᵀ s (then Pᵀ s = 0: A-DEF2 acts as deflation), taken
            # as a CG step of length 1 along p = P Ac⁻¹ Pᵀ s; it costs one operator product.
            memset(yc, 0, n.coarse.n * sizeof(double))
            _step_forward_c(n, 0.0, s, s, r + MN, s, z, yc, &rz, red, nt)
            _coarse_solve(n.coarse, yc)
            _p_update_c(n, NULL, yc, 0.0, p, nt)
            _schur_matvec(n, p, q, wb, red, nt)
            it += 1
            rn = _precondition(n, 1.0, p, q, r + MN, s, z, yc, tol, floor, &rz, wb, red, nt)
            if rn > tol and rn > floor:
                _p_update_c(n, z, yc, 0.0, p, nt)
        while rn > tol and rn > floor and it < maxiter:
            pq = _schur_matvec(n, p, q, wb, red, nt)
            if pq <= 0.0 or rz <= 0.0:
                status = -1
                break
            alpha = rz / pq
            rn = _precondition(n, alpha, p, q, r + MN, s, z, yc, tol, floor, &rz_new, wb, red, nt)
            it += 1
            if rn <= tol or rn <= floor:
                break
            beta = rz_new / rz
            rz = rz_new
            if n.coarse == NULL:
                _backward_p(n, z, beta, 0, p, wb, nt)     # p = Tb⁻¹ s + β·p
            else:
                _p_update_c(n, z, yc, beta, p, nt)
        if status == -1:
            break
        # δ_w = Tw⁻¹ (r_w + D δ_b); x += δ.
        for k in prange(MN, num_threads=nt, schedule="static"):
            r[k] = r[k] + n.gc[k] * r[MN + k]
        _word_solve(n, r, r, wb, nt)
        for k in prange(L, num_threads=nt, schedule="static"):
            x[k] += r[k]
        # Confirm on the recomputed true residual of the full system.
        floor = _residual(n, f, x, r, &rn, red, nt)
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
        _col_errors(n, f, x, r, E, nt)    # r: the residual at x
    it_out[0] = it
    res_out[0] = rn
    return status


cdef int _solve_guarded(const Net* n, const double* f, double* x, double* buf, double rtol,
                        double atol, int maxiter, int nt, int* it_out, double* res_out,
                        double* scale_out, double* E) noexcept nogil:
    """``_solve_one``; a breakdown with the coarse level is retried with one level.

    The two-level preconditioner is SPD in exact arithmetic; should rounding in ``Ac`` make it
    lose definiteness, the item is solved again (from its last finite iterate, the
    iterations of both attempts counted) exactly as without the coarse level.
    """
    cdef int status, it2 = 0
    cdef Net one
    cdef Py_ssize_t k, L = 2 * n.M * n.N
    status = _solve_one(n, f, x, buf, rtol, atol, maxiter, nt, it_out, res_out, scale_out, E)
    if status != -1 or n.coarse == NULL:
        return status
    one = n[0]
    one.coarse = NULL
    for k in range(L):
        if not (fabs(x[k]) <= 1e300):       # NaN or inf: restart that node from 0 V
            x[k] = 0.0
    status = _solve_one(&one, f, x, buf, rtol, atol, maxiter, nt, &it2, res_out, scale_out, E)
    it_out[0] += it2
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
    n.eb = state + 3 * MN
    n.wi = state + 4 * MN
    n.gl = state + 4 * MN + PN
    n.fixed_w = fw
    n.nfw = nfw
    n.fixed_b = fb
    n.nfb = nfb
    n.coarse = NULL


cdef void _factor(Net* n, const double* dw_extra, const double* db_extra,
                  const unsigned char* fixed_w, const unsigned char* fixed_b,
                  int nt) noexcept nogil:
    """Diagonals and Thomas factors of the line blocks for the present cell conductances.

    A fixed node gets zero factors, which cuts it from its neighbours.  The word lines are
    factored R at a time and the bit lines row by row, so that the divisions pipeline; ``nt``
    threads share the rows, the word-line blocks and the bit-line columns (the factors do not
    depend on their number).
    """
    cdef Py_ssize_t M = n.M, N = n.N, i, j, k, q, blk, ii, ni, nblk = (M + R - 1) // R
    cdef Py_ssize_t j0, j1, cb, ncb, width = _chunk(N, nt)
    cdef double inv, gl
    n.fbm = fixed_b
    for i in prange(M, num_threads=nt, schedule="static"):
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
    for blk in prange(nblk, num_threads=nt, schedule="static"):
        for ii in range(R):                  # padded rows of the last block: zero factors
            if blk * R + ii >= M:
                for j in range(N):
                    q = blk * R * N + j * R + ii
                    n.wi[q] = 0.0
                    n.gl[q] = 0.0
        ni = _min(M - blk * R, R)
        for ii in range(ni):
            k = (blk * R + ii) * N
            q = blk * R * N + ii
            inv = (1.0 - fixed_w[k]) / (n.dw[k] + fixed_w[k])   # fixed: 0 even if dw = 0
            n.wi[q] = inv
            n.gl[q] = 0.0
        for j in range(1, N):
            for ii in range(ni):
                i = blk * R + ii
                k = i * N + j
                q = blk * R * N + j * R + ii
                gl = n.gw[i * (N - 1) + j - 1]
                inv = (1.0 - fixed_w[k]) / (n.dw[k] - gl * (gl * n.wi[q - R]) + fixed_w[k])
                n.wi[q] = inv
                n.gl[q] = gl
    ncb = (N + width - 1) // width
    for cb in prange(ncb, num_threads=nt, schedule="static"):
        j0 = cb * width
        j1 = _min(j0 + width, N)
        for j in range(j0, j1):
            n.bi[j] = (1.0 - fixed_b[j]) / (n.db[j] + fixed_b[j])
            n.eb[j] = (n.gb[j] if M > 1 else 0.0) * n.bi[j]
        for i in range(1, M):
            for j in range(j0, j1):
                k = i * N + j
                inv = (1.0 - fixed_b[k]) / (n.db[k] - n.gb[k - N] * n.eb[k - N] + fixed_b[k])
                n.bi[k] = inv
                n.eb[k] = (n.gb[k] if i < M - 1 else 0.0) * inv


#: The coarse level is added by default (``coarse=-1``) when an array spans at least this many
#: decay lengths ``ℓ = sqrt(g_wire/g_cell)`` (means over the array).  One-level iterations grow
#: ~2 per ℓ spanned, two-level ones stay at 6-10, and a two-level iteration costs ~1.5 one-level
#: ones plus the coarse set-up.  Measured (kernel CPU time, 1 thread, 2.5 ohm wires, cells
#: U[1e-6, 1e-4] S, ℓ ≈ 90): 512² (span 5.7) 14 vs 6 iterations, 0.05 vs 0.04 s; 1024² (11.4)
#: 26 vs 7, 0.44 vs 0.22 s; 2048² 46 vs 8; 4096² 82 vs 8.
COARSE_MIN_SPAN = 8.0
_BLOCKS = (8, 16, 32, 64)     # block edges: multiples of R that divide COLCHUNK


def coarse_block(Py_ssize_t M, Py_ssize_t N, int coarse=-1, double span=0.0):
    """Block edge of the coarse level ``solve`` uses for an M x N array (0: one level).

    Parameters
    ----------
    M, N : int
        Word lines and bit lines (nodes per bit line and per word line).
    coarse : int
        -1 chooses; 0 turns the coarse level off; otherwise the block edge in nodes, one of
        8, 16, 32, 64.
    span : float
        min(M, N) in units of the decay length ``sqrt(g_wire/g_cell)`` (dimensionless); the
        automatic choice adds the coarse level from ``COARSE_MIN_SPAN`` on.

    Returns
    -------
    int
        The block edge in nodes, or 0.  The automatic choice is the smallest block whose band
        factorisation (n·kd² = 4·Mc·Nc³ flops) costs at most ~200 flops per node and whose
        solve (4·n·kd) ~8 per node and iteration (the rest of an iteration costs ~100; measured at
        2048²: a = 16, 32, 64 take 7, 8, 10 iterations and 1.0-1.3, 0.87-0.90, 1.0-1.4 s).
    """
    cdef Py_ssize_t a, Mc, Nc
    if coarse < 0:
        if span < COARSE_MIN_SPAN or min(M, N) < 2 * _BLOCKS[0]:
            return 0
        for a in _BLOCKS:
            Mc = (M + a - 1) // a
            Nc = (N + a - 1) // a
            if Mc * Nc * Nc * Nc <= 50 * M * N and 4 * Mc * Nc * Nc <= 4 * M * N:
                return a
        return 64
    if coarse and coarse not in _BLOCKS:
        raise ValueError(f"coarse must be -1, 0 or one of {_BLOCKS} (nodes), got {coarse}")
    return coarse


def _span(gc, gw, gb):
    """min(M, N)·sqrt(mean cell / mean wire conductance) (see :func:`coarse_block`)."""
    g_cell = float(np.mean(gc))
    g_wire = 0.5 * (float(np.mean(gw)) + float(np.mean(gb)))
    if not g_cell > 0.0 or not g_wire > 0.0:
        return 0.0
    return min(gc.shape[0], gc.shape[1]) * (g_cell / g_wire) ** 0.5


def fixed_indices(fixed_w, fixed_b):
    """Index arrays (padded to length >= 1) and counts of the fixed word and bit nodes.

    Parameters
    ----------
    fixed_w, fixed_b : (M, N) array_like of bool
        Where word (bit) node voltages are imposed.

    Returns
    -------
    tuple
        Word-node indices, their count, bit-node indices, their count (indices into M·N).
    """
    fw_idx = np.flatnonzero(np.asarray(fixed_w).ravel()).astype(np.intp)
    fb_idx = np.flatnonzero(np.asarray(fixed_b).ravel()).astype(np.intp)
    return (np.concatenate([fw_idx, [0]]).astype(np.intp), fw_idx.size,
            np.concatenate([fb_idx, [0]]).astype(np.intp), fb_idx.size)


def solve(const double[:, ::1] gc not None,
          const double[:, ::1] gw not None,
          const double[:, ::1] gb not None,
          const double[:, ::1] dw_extra not None,
          const double[:, ::1] db_extra not None,
          const unsigned char[:, ::1] fixed_w not None,
          const unsigned char[:, ::1] fixed_b not None,
          const double[:, ::1] f not None,
          double[:, ::1] x not None,
          double rtol, double atol, int maxiter, int num_threads=1, int coarse=-1):
    """Solve ``A x = f`` for a batch of right-hand sides.

    Parameters
    ----------
    gc : (M, N) array
        Cell conductances, S (0 for an isolated cell).
    gw, gb : (M, max(N-1, 1)) and (max(M-1, 1), N) arrays
        Segment conductances, S (> 0).
    dw_extra, db_extra : (M, N) arrays
        Conductances from word/bit nodes to a source, S (terminals).
    fixed_w, fixed_b : (M, N) uint8 arrays
        1 where the node voltage is imposed (its value is taken from ``x``).
    f : (B, 2*M*N) array
        Injected currents, A, on free nodes.
    x : (B, 2*M*N) array
        Initial guess with the imposed values; overwritten with the solution, V.
    rtol, atol : float
        Stop when ||f − A x||₂ <= max(rtol·||f − A x_fixed||₂, atol, 4·eps·||diag(A)∘x||₂)
        (true residual, A; the last term is the rounding floor of the residual itself).
    maxiter : int
        Limit on CG iterations per right-hand side.
    num_threads : int
        Threads (one right-hand side per thread, or all on one right-hand side).
    coarse : int
        Coarse level of the preconditioner (:func:`coarse_block`): -1 automatic, 0 off, else
        the block edge in nodes.  It changes the iteration count, not the stopping test.

    Returns
    -------
    status, iterations, residual, scale : arrays of length B
        Status code, CG iterations, final true residual (A) and residual scale (A) per item.
    errors : (B, 2, N) array
        Per bit line, the error estimate of its terminal current and its gross cell current
        Σ|gc·(w − b)|, A, at the returned x (see ``_col_errors``: per line an estimate; only the
        sum over all of an item's terminals bounds the sum of their errors).

    Notes
    -----
    An item's arithmetic does not depend on the thread count: items of a batch run on one
    thread each and a single item (B = 1) on ``num_threads``, the threads splitting every row
    of the bit-line sweeps and the word-line blocks, and every dot product is summed along the
    lines into partial sums that are combined in line order.  A batched and a single solve of
    an item are therefore bitwise identical for any thread counts, status and estimates
    included (``tests/test_kernel_edges.py``, ``tests/test_solver_coarse.py``).
    """
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], MN = M * N, B = f.shape[0], bi
    cdef Py_ssize_t a = coarse_block(M, N, coarse, _span(gc, gw, gb) if coarse < 0 else 0.0)
    state = take(_state_size(M, N))          # diagonals and line factors
    cdef double[::1] stv = state
    fw_buf, nfw, fb_buf, nfb = fixed_indices(fixed_w, fixed_b)
    cdef Py_ssize_t[::1] fwv = fw_buf, fbv = fb_buf
    cdef Net net
    cdef Coarse cl
    cdef double[::1] cv
    cdef int info = 0
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
    band = None
    if a:
        cl.a = a
        cl.Mc = (M + a - 1) // a
        cl.Nc = (N + a - 1) // a
        cl.n = cl.Mc * cl.Nc
        cl.kd = _half_band(&cl)
        band = take((cl.kd + 1) * cl.n + N + 4 * cl.Nc)
        cv = band
        cl.ab = &cv[0]
    cdef Py_ssize_t per = _work_size(M, N, inner) + (2 * cl.n + M * cl.Nc if a else 0)
    work = take(per if B == 1 else nt * per)
    cdef double[::1] wv = work
    try:
        _net_init(&net, M, N, &gc[0, 0], &gw[0, 0], &gb[0, 0], &stv[0], &fwv[0], nfw, &fbv[0],
                  nfb)
        with nogil:
            _factor(&net, &dw_extra[0, 0], &db_extra[0, 0], &fixed_w[0, 0], &fixed_b[0, 0], nt)
            if a:
                # A failed factorisation (a floating sub-network; rounding at extreme
                # conductance ratios) leaves the one-level preconditioner.
                _coarse_assemble(&net, &cl, &fixed_b[0, 0], cl.ab + (cl.kd + 1) * cl.n)
                info = _band_cholesky(&cl)
                if info == 0:
                    net.coarse = &cl
            if B == 1:
                st[0] = _solve_guarded(&net, &f[0, 0], &x[0, 0], &wv[0], rtol, atol, maxiter,
                                       nt, &itv[0], &rv[0], &sv[0], &ev[0, 0, 0])
            else:
                with parallel(num_threads=nt):
                    buf = &wv[0] + threadid() * per
                    for bi in prange(B, schedule="dynamic"):
                        st[bi] = _solve_guarded(&net, &f[bi, 0], &x[bi, 0], buf, rtol, atol,
                                                maxiter, 1, &itv[bi], &rv[bi], &sv[bi],
                                                &ev[bi, 0, 0])
    finally:
        give(state)
        give(work)
        if band is not None:
            give(band)
    return status, iters, resid, scale, errors


def _coarse_matrix(const double[:, ::1] gc not None, const double[:, ::1] gw not None,
                   const double[:, ::1] gb not None, const double[:, ::1] dw_extra not None,
                   const double[:, ::1] db_extra not None,
                   const unsigned char[:, ::1] fixed_w not None,
                   const unsigned char[:, ::1] fixed_b not None, int a):
    """The assembled coarse matrix Ac (dense, for tests): arguments as :func:`solve`."""
    cdef Py_ssize_t M = gc.shape[0], N = gc.shape[1], i, j
    state = np.empty(_state_size(M, N))
    cdef double[::1] stv = state
    fw_buf, nfw, fb_buf, nfb = fixed_indices(fixed_w, fixed_b)
    cdef Py_ssize_t[::1] fwv = fw_buf, fbv = fb_buf
    cdef Net net
    cdef Coarse cl
    cl.a = coarse_block(M, N, a)
    if cl.a == 0:
        raise ValueError("a must be a block edge")
    cl.Mc = (M + a - 1) // a
    cl.Nc = (N + a - 1) // a
    cl.n = cl.Mc * cl.Nc
    cl.kd = _half_band(&cl)
    band = np.zeros((cl.kd + 1) * cl.n + N + 4 * cl.Nc)
    cdef double[::1] cv = band
    cl.ab = &cv[0]
    _net_init(&net, M, N, &gc[0, 0], &gw[0, 0], &gb[0, 0], &stv[0], &fwv[0], nfw, &fbv[0], nfb)
    _factor(&net, &dw_extra[0, 0], &db_extra[0, 0], &fixed_w[0, 0], &fixed_b[0, 0], 1)
    _coarse_assemble(&net, &cl, &fixed_b[0, 0], cl.ab + (cl.kd + 1) * cl.n)
    E = np.zeros((cl.n, cl.n))
    for i in range(cl.n):
        for j in range(i, min(i + cl.kd + 1, cl.n)):
            E[i, j] = E[j, i] = _band(&cl, i, j)[0]
    return E
