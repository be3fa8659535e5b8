"""Damped Newton for nonlinear cells on the crossbar nodal system.

Each Newton step solves the Jacobian system with the linear PCG kernel of ``_pcg`` (the Jacobian
has the linear network's structure, every cell conductance replaced by its differential
conductance dI/dV), refactoring the line blocks per step; the step is damped by backtracking on
||F||₂ (Armijo).  The inner solves use the one-level preconditioner (the coarse level would need
refactoring every step).  Python (``xbar.circuit.newton``) validates; nothing here re-checks.
"""
from cython.parallel cimport prange, parallel, threadid
from libc.string cimport memcpy, memset
from libc.math cimport sqrt, sinh, cosh

import numpy as np

from ._pcg cimport (Net, _factor, _net_init, _solve_one, _state_size, _work_size)
from ._pcg import fixed_indices
from ._scratch import give, take


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
    cdef double* inner = buf + 9 * MN    # _work_size(M, N, 1) for the linear solver
    cdef double fn, fn0, ft, t, eta, dummy_res, dummy_scale
    cdef int it = 0, newton = 0, status = 1, st, inner_it
    fn = _nl_residual(n, iv, G, dw_extra, db_extra, f, x, F, n.gc, nt)
    fn0 = fn
    while fn > tol:
        if newton >= max_newton:
            status = 1
            break
        _factor(n, dw_extra, db_extra, fixed_w, fixed_b, nt)
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
    fw_buf, nfw_, fb_buf, nfb_ = fixed_indices(fixed_w, fixed_b)
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
    cdef Py_ssize_t per = MN + _state_size(M, N) + 9 * MN + _work_size(M, N, 1)
    work = take(nt * per)
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
        give(work)
    return status, iters, steps, resid

