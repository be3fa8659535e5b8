"""The coarse level of the PCG preconditioner (``xbar._kernels._pcg``, issue 14's 4096² read).

One level (exact bit-line solves) needs a number of iterations that grows with the array's span
in decay lengths ``sqrt(g_wire/g_cell)``; the two-level preconditioner (deflation by the exact
Galerkin projection onto blocks of bit nodes) keeps it bounded.  Accuracy is the same either way:
the stopping test is on the true residual.
"""

import numpy as np
import pytest

import xbar
from dense_reference import dense_solve
from xbar._kernels import _pcg
from xbar.circuit.nodal import build_problem

# Strong coupling: cells U[1e-4, 1e-2] S, 20 ohm segments (decay length ~3 nodes).
STRONG = dict(r_wordline=20.0, r_bitline=20.0, r_driver=100.0, r_sense=100.0)


def _kernel(xb, v, coarse, c=None, threads=1):
    """``_pcg.solve`` on ``xb``'s network: status and iterations per item, the solution and the
    kernel's whole output (status, iterations, residual, scale, error estimates)."""
    net = xb.network()
    M, N = xb.shape
    rv = np.atleast_2d(v)
    cv = np.zeros((rv.shape[0], N)) if c is None else np.atleast_2d(c)
    prob = build_problem(net, rv, cv)
    X = prob.x.copy()
    gw = np.ascontiguousarray(net.gw if N > 1 else np.ones((M, 1)))
    gb = np.ascontiguousarray(net.gb if M > 1 else np.ones((1, N)))
    out = _pcg.solve(
        net.gc,
        gw,
        gb,
        prob.dw_extra,
        prob.db_extra,
        prob.fixed_w,
        prob.fixed_b,
        prob.f,
        X,
        1e-15,
        0.0,
        20000,
        threads,
        coarse,
    )
    return np.asarray(out[0]), np.asarray(out[1]), X, out


def _strong(n, rng):
    return xbar.Crossbar(rng.uniform(1e-4, 1e-2, (n, n)), **STRONG), rng.uniform(0, 0.3, n)


def test_iterations_stay_bounded_as_the_array_grows(rng):
    """4x the span: the default (two-level) count grows < 1.6x, the one-level count > 2.5x."""
    its, one = [], []
    for n in (96, 384):
        xb, v = _strong(n, rng)
        its.append(int(xb.solve(v, np.zeros(n), method="pcg").iterations))
        st, it, *_ = _kernel(xb, v, 0)
        assert st[0] == 0
        one.append(int(it[0]))
    assert its[1] <= 1.6 * its[0], its
    # Without the coarse level the same test fails (this is what the preconditioner fixes).
    assert one[1] > 2.5 * one[0], one
    assert its[1] < one[1] / 3


def test_linear_coarse_functions_keep_the_count_flat(rng):
    """Coarse functions linear along the bit lines: the two-level count does not grow from 96² to
    384² (17-18 here; constant blocks, whose energy in S is dominated by their jumps across the
    stiff bit-line segments, took 31 at 64² and 40 at 256²)."""
    its = []
    for n in (96, 384):
        xb, v = _strong(n, rng)
        st, it, *_ = _kernel(xb, v, 8)
        assert st[0] == 0
        its.append(int(it[0]))
    assert max(its) <= 20 and abs(its[1] - its[0]) <= 2, its


@pytest.mark.parametrize("a", [8, 16])
@pytest.mark.parametrize("terminals", [(100.0, 100.0), (0.0, 50.0), (30.0, 0.0)])
def test_two_level_solution_matches_the_dense_reference(a, terminals, rng):
    """Partial blocks (25 x 19), fixed nodes (0 ohm terminals), floating lines; forced coarse."""
    M, N = 25, 19
    G = rng.uniform(1e-4, 1e-2, (M, N))
    rd, rs = terminals
    xb = xbar.Crossbar(G, r_wordline=20.0, r_bitline=15.0, r_driver=rd, r_sense=rs)
    V = rng.uniform(-0.3, 0.3, (2, M))
    C = rng.uniform(-0.1, 0.1, (2, N))
    V[1, 3:9] = np.nan  # floating word lines
    C[1, ::3] = np.nan  # floating bit lines
    for k in range(2):
        st, it, X, _ = _kernel(xb, V[k], a, C[k])
        assert st[0] == 0
        ref_w, ref_b = dense_solve(G, 20.0, 15.0, rd, rs, V[k], C[k])[:2]
        X = X.reshape(2, M, N)
        scale = np.abs(ref_w).max()
        np.testing.assert_allclose(X[0], ref_w, atol=1e-10 * scale, rtol=0)
        np.testing.assert_allclose(X[1], ref_b, atol=1e-10 * scale, rtol=0)


def test_batched_two_level_solves_agree_with_single_ones(rng):
    xb, _ = _strong(96, rng)
    V = rng.uniform(0, 0.3, (3, 96))
    st, it, X, _ = _kernel(xb, V, 8)
    assert (st == 0).all()
    for k in range(3):
        st1, it1, X1, _ = _kernel(xb, V[k], 8)
        assert it1[0] == it[k]
        np.testing.assert_allclose(X[k], X1[0], rtol=0, atol=1e-13)


def _coarse_basis(M, N, a):
    """P (M·N x Mc·Nc): per a x a block, constant across its a bit lines and, along them, the
    piecewise-linear interpolant between the block centres (I + 1/2)·a − 1/2 (constant beyond
    the first and the last)."""
    Mc, Nc = -(-M // a), -(-N // a)
    centres = np.arange(Mc) * a + 0.5 * (a - 1)
    phi = np.empty((M, Mc))
    for I in range(Mc):
        unit = np.zeros(Mc)
        unit[I] = 1.0
        phi[:, I] = np.interp(np.arange(M), centres, unit)
    chi = np.zeros((N, Nc))
    chi[np.arange(N), np.arange(N) // a] = 1.0
    return np.kron(phi, chi)


def test_coarse_basis_is_a_partition_of_unity():
    P = _coarse_basis(20, 27, 8)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P >= 0).all() and (P.sum(axis=0) > 0).all()


@pytest.mark.parametrize("M", [20, 6])  # 6: one block row (half bandwidth Nc - 1)
def test_coarse_matrix_is_the_galerkin_projection_of_the_schur_complement(M, rng):
    """Ac = Pᵀ S P with S the bit-layer Schur complement of the dense nodal matrix."""
    N, a = 27, 8
    G = rng.uniform(1e-6, 1e-4, (M, N))
    G[3, 4] = 0.0  # an open cell
    xb = xbar.Crossbar(G, r_wordline=2.5, r_bitline=3.5, r_driver=100.0, r_sense=0.0)
    net = xb.network()
    prob = build_problem(net, rng.uniform(0, 0.3, (1, M)), np.zeros((1, N)))
    E = _pcg._coarse_matrix(
        net.gc,
        np.ascontiguousarray(net.gw),
        np.ascontiguousarray(net.gb),
        prob.dw_extra,
        prob.db_extra,
        prob.fixed_w,
        prob.fixed_b,
        a,
    )
    MN = M * N
    A = np.zeros((2 * MN, 2 * MN))
    for i in range(M):
        for j in range(N):
            w, b = i * N + j, MN + i * N + j
            links = [(w, b, G[i, j])]
            if j < N - 1:
                links.append((w, w + 1, 1 / 2.5))
            if i < M - 1:
                links.append((b, b + N, 1 / 3.5))
            for p, q, g in links:
                A[p, p] += g
                A[q, q] += g
                A[p, q] -= g
                A[q, p] -= g
            A[w, w] += prob.dw_extra[i, j]
            A[b, b] += prob.db_extra[i, j]
    fw = prob.fixed_w.ravel().astype(bool)
    fb = prob.fixed_b.ravel().astype(bool)
    assert fb.sum() == N  # r_sense = 0: the last bit nodes are sources
    Tw = A[:MN, :MN][np.ix_(~fw, ~fw)]
    Tb = A[MN:, MN:][np.ix_(~fb, ~fb)]
    D = A[:MN, MN:][np.ix_(~fw, ~fb)]
    S = Tb - D.T @ np.linalg.solve(Tw, D)
    np.testing.assert_allclose(E, E.T, rtol=0, atol=0)
    P = _coarse_basis(M, N, a)[~fb]
    np.testing.assert_allclose(E, P.T @ S @ P, rtol=0, atol=1e-13 * np.abs(E).max())


def test_automatic_choice_and_validation():
    assert _pcg.coarse_block(256, 256, -1, span=6.0) == 0  # short span: one level
    assert _pcg.coarse_block(1024, 1024, -1, span=11.4) == 16
    assert _pcg.coarse_block(4096, 4096, -1, span=45.0) == 32
    assert _pcg.coarse_block(256, 256, -1, span=80.0) == 8
    assert _pcg.coarse_block(8, 4096, -1, span=80.0) == 0  # too narrow for blocks
    assert _pcg.coarse_block(100, 100, 0) == 0
    with pytest.raises(ValueError, match="coarse must be"):
        _pcg.coarse_block(100, 100, 12)


@pytest.mark.parametrize("threads", [None, "2"])
def test_batched_and_single_solves_agree_at_the_conditioning_limit(threads, rng, monkeypatch):
    """Issue 14: a batched and a single solve of an item are bitwise identical, info included,
    also where float64 runs out (info 0 vs 3): with the default threads (one per item) and with
    ``XBAR_NUM_THREADS=2``, where the single item shares its iterations between two threads and
    the batch runs one item per thread (the kernel's sums are taken in a thread-count
    independent order)."""
    import warnings

    if threads is None:
        monkeypatch.delenv("XBAR_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("XBAR_NUM_THREADS", threads)
    KW = dict(r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0)
    infos = set()
    for scale in (1e5, 1e7, 1e8, 1e9):
        G = rng.uniform(0.5, 1.0, (20, 70)) * scale
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unit warning of huge G
            xb = xbar.Crossbar(G, **KW)
        V = rng.uniform(0.05, 0.3, (3, 20))
        batch = xb.solve(V, np.zeros((3, 70)), method="pcg", on_failure="ignore")
        for k in range(3):
            one = xb.solve(V[k], np.zeros(70), method="pcg", on_failure="ignore")
            assert int(one.info) == int(batch.info[k])
            np.testing.assert_array_equal(one.col_currents, batch.col_currents[k])
            np.testing.assert_array_equal(one.col_current_errors, batch.col_current_errors[k])
            infos.add(int(one.info))
    assert {0, 3} <= infos  # both sides of the limit were met
