# Declarations of the linear PCG kernel (_pcg.pyx) shared with the Newton kernel (_newton.pyx).

cdef enum:
    R = 8            # word lines swept together, from a transposed copy (_word_block)
    COLCHUNK = 64    # bit lines swept together (contiguous, vectorisable)
    NBUF = 6         # scratch vectors of length M*N per right-hand side


cdef struct Coarse:
    # Coarse level of the preconditioner: the Galerkin projection Ac = Pᵀ S P of the bit-line
    # Schur complement onto a×a blocks of bit nodes (constant across a block's bit lines, linear
    # along them between block centres: _pcg._hat), an SPD band matrix (blocks ordered block
    # row by block row, half bandwidth 2·Nc) factored in place as Uᵀ U (_pcg._band_cholesky).
    Py_ssize_t a         # block edge in nodes (divides COLCHUNK)
    Py_ssize_t Mc        # blocks down the bit lines
    Py_ssize_t Nc        # blocks along the word lines
    Py_ssize_t n         # unknowns, Mc·Nc
    Py_ssize_t kd        # half bandwidth, 2·Nc (Nc − 1 with one block row: _pcg._half_band)
    double* ab           # n × (kd + 1): row i holds U[i, i .. i + kd]


cdef struct Net:
    Py_ssize_t M
    Py_ssize_t N
    double* gc     # (M, N) cell conductance between w[i,j] and b[i,j]
    double* gw     # (M, N-1) word-line segment conductances
    double* gb     # (M-1, N) bit-line segment conductances
    double* dw     # (M, N) diagonal of word nodes
    double* db     # (M, N) diagonal of bit nodes
    # Thomas factors of the word lines in the row-block layout of ``_wb`` (rows padded to a
    # multiple of R with zeros): z_j = (rhs_j + gl_j·z_{j-1})·wi_j, then
    # z_j += wi_j·gl_{j+1}·z_{j+1}, with gl_j the segment from node j - 1 (0 at j = 0).  wi is
    # zero on fixed nodes, which cuts them off.
    double* wi
    double* gl
    # Same for the bit lines, row-major: z_i = (r_i + gb_{i-1}·z_{i-1})·bi_i, then
    # z_i += eb_i·z_{i+1}.
    double* bi
    double* eb
    Py_ssize_t* fixed_w   # indices in [0, MN) of fixed word nodes
    Py_ssize_t nfw
    Py_ssize_t* fixed_b   # indices in [0, MN) of fixed bit nodes
    Py_ssize_t nfb
    const unsigned char* fbm   # (M, N) 1 on fixed bit nodes (set by _factor)
    Coarse* coarse        # NULL: one-level preconditioner (exact bit-line solves only)


cdef inline Py_ssize_t _padded(Py_ssize_t M) noexcept nogil:
    return (M + R - 1) // R * R


cdef inline Py_ssize_t _state_size(Py_ssize_t M, Py_ssize_t N) noexcept nogil:
    """Doubles of factor state: dw, db, bi, eb (M·N each), wi, gl (padded rows)."""
    return 4 * M * N + 2 * _padded(M) * N


cdef inline Py_ssize_t _work_size(Py_ssize_t M, Py_ssize_t N, int nt) noexcept nogil:
    """Doubles of scratch ``_solve_one`` needs on ``nt`` threads (without a coarse level)."""
    return NBUF * M * N + nt * R * N + 2 * (M + N)


cdef void _net_init(Net* n, Py_ssize_t M, Py_ssize_t N, const double* gc, const double* gw,
                    const double* gb, double* state, Py_ssize_t* fw, Py_ssize_t nfw,
                    Py_ssize_t* fb, Py_ssize_t nfb) noexcept nogil

cdef void _factor(Net* n, const double* dw_extra, const double* db_extra,
                  const unsigned char* fixed_w, const unsigned char* fixed_b,
                  int nt) noexcept nogil

cdef int _solve_one(const Net* n, const double* f, double* x, double* buf, double rtol,
                    double atol, int maxiter, int nt, int* it_out, double* res_out,
                    double* scale_out, double* E) noexcept nogil
