"""Edge shapes and NaN patterns through every compiled kernel, against the dense reference.

Run normally and by ``.ci/asan`` (kernels built with AddressSanitizer and bounds checking), where
an out-of-bounds access in the raw-pointer loops aborts the run.  Shapes straddle the 8-row
word-line blocks of ``_pcg`` and the 64-column chunks of its bit-line sweeps.
"""

import numpy as np
import pytest

import xbar
from dense_reference import dense_solve
from test_solver_coarse import _kernel  # the bare kernel call on a Crossbar's network

SHAPES = [(1, 1), (1, 7), (7, 1), (8, 3), (9, 2), (16, 5), (17, 4), (2, 66), (2, 129)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("terminals", [(0.0, 0.0), (10.0, 0.0), (0.0, 50.0), (10.0, 50.0)])
def test_linear_kernel_edge_shapes(shape, terminals, rng):
    M, N = shape
    G = rng.uniform(1e-6, 1e-4, (M, N))
    rd, rs = terminals
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=3.0, r_driver=rd, r_sense=rs)
    V = rng.uniform(-0.3, 0.3, (3, M))
    C = rng.uniform(-0.1, 0.1, (3, N))
    sol = xb.solve(V, C, method="pcg")
    for k in range(3):
        ref = dense_solve(G, 2.0, 3.0, rd, rs, V[k], C[k])
        np.testing.assert_allclose(sol.col_currents[k], ref[3], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(sol.row_currents[k], ref[2], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(
        xb.read(V[0], method="pcg"),
        dense_solve(G, 2.0, 3.0, rd, rs, V[0], np.zeros(N))[3],
        rtol=1e-9,
        atol=1e-15,
    )


@pytest.mark.parametrize("shape", [(1, 7), (7, 1), (9, 2), (17, 130), (24, 70)])
@pytest.mark.parametrize("coarse", [0, 8])
def test_one_item_on_two_threads_is_bitwise_the_one_thread_solve(shape, coarse, rng):
    """The bit-line sweeps split the row between the threads and every dot product is summed
    by line and then in line order, so the thread count changes nothing, not even rounding
    (issue 14: batched and single solves used to differ in ``info`` with XBAR_NUM_THREADS > 1).
    Shapes straddle the column chunks (multiples of 64) and the 8-row word-line blocks."""
    M, N = shape
    if coarse and min(M, N) < 2 * coarse:
        pytest.skip("too small for blocks of this edge")
    G = rng.uniform(1e-4, 1e-2, (M, N))  # strong coupling: many iterations
    xb = xbar.Crossbar(G, r_wordline=20.0, r_bitline=20.0, r_driver=100.0, r_sense=50.0)
    V = rng.uniform(-0.3, 0.3, (1, M))
    C = rng.uniform(-0.1, 0.1, (1, N))
    st, it, X1, out1 = _kernel(xb, V, coarse, C, threads=1)
    *_, X2, out2 = _kernel(xb, V, coarse, C, threads=2)
    assert int(st[0]) == 0 and int(it[0]) > 3
    np.testing.assert_array_equal(X1, X2)
    for a, b in zip(out1, out2):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    if M * N <= 600:  # the larger shapes' accuracy: test_linear_kernel_edge_shapes, coarse tests
        ref = dense_solve(G, 20.0, 20.0, 100.0, 50.0, V[0], C[0])
        np.testing.assert_allclose(X1[0, M * N :].reshape(M, N), ref[1], rtol=1e-9)


@pytest.mark.parametrize("shape", [(1, 5), (5, 1), (9, 4), (17, 9)])
def test_nan_patterns_and_open_cells(shape, rng):
    M, N = shape
    G = rng.uniform(1e-6, 1e-4, (M, N))
    G[rng.random((M, N)) < 0.2] = 0.0
    G[0, :] = np.maximum(G[0, :], 1e-6)  # row 0 reaches every column
    G[:, 0] = np.maximum(G[:, 0], 1e-6)  # column 0 reaches every row
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=3.0, r_driver=10.0, r_sense=20.0)
    V = rng.uniform(0, 0.3, (4, M))
    C = np.zeros((4, N))
    V[1, 1:] = np.nan if M > 1 else V[1, 1:]
    C[2, 1:] = np.nan
    V[3, ::2] = np.nan
    V[3, 0] = 0.2
    sol = xb.solve(V, C, method="pcg")
    for k in range(4):
        ref = dense_solve(G, 2.0, 3.0, 10.0, 20.0, V[k], C[k])
        np.testing.assert_allclose(sol.col_currents[k], ref[3], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (9, 10)])
def test_newton_kernel_edge_shapes(shape, rng):
    M, N = shape
    G = rng.uniform(1e-6, 1e-4, (M, N))
    xb = xbar.Crossbar(
        G, r_wordline=2.0, r_bitline=3.0, r_driver=10.0, r_sense=20.0, iv=xbar.iv.Sinh(0.2)
    )
    V = rng.uniform(0, 0.5, (2, M))
    sol = xb.solve(V, np.zeros((2, N)), method="pcg")
    assert sol.converged.all() and sol.method == "newton-pcg"
    lin = xbar.Crossbar(G, r_wordline=2.0, r_bitline=3.0, r_driver=10.0, r_sense=20.0)
    assert np.all(
        np.abs(sol.col_currents)
        >= np.abs(lin.solve(V, np.zeros((2, N))).col_currents) * (1 - 1e-12)
    )


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (8, 8), (17, 9), (9, 17)])
def test_map_kernel_edge_shapes(shape, rng):
    M, N = shape
    G = rng.uniform(1e-6, 1e-4, (M, N))
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=3.0, r_driver=10.0, r_sense=20.0)
    from xbar.circuit import transfer

    if not transfer.supported(xb.network()):
        pytest.skip("sweep not supported for this network")
    T = transfer.transfer_rows(xb.network())
    # Unit-row solves by the sparse direct solver (independent of both kernels).
    ref = xb.solve(np.eye(M), np.zeros((M, N)), method="direct").col_currents.T
    np.testing.assert_allclose(T, ref, rtol=1e-9, atol=1e-18)


def test_large_scratch_arrays_are_writable_float64_maps():
    """Scratch of 64 MiB and more comes from a fresh anonymous map (4 KiB pages), zero-filled."""
    from xbar._kernels import _scratch

    n = 9 * 2**20  # 72 MiB
    a = _scratch.take(n)
    assert a.dtype == np.float64 and a.size >= n and a.flags.writeable
    assert not a[:: 2**16].any()
    a[-1] = 1.0
    _scratch.give(a)
