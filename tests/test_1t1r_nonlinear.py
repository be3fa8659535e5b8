"""1T1R arrays with nonlinear cells: batched solves against single ones and a dense Newton
reference with the access transistor's internal node; the ideal read of a 1T1R cell."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import xbar
import xbar.iv as iv

from dense_reference import stamp


def dense_newton_1t1r(
    G, r_wl, r_bl, r_drv, r_sns, r_acc, select, v_row, v_col, model, tol=1e-13, maxit=40
):
    """Dense Newton on every word, bit and internal (transistor-memristor) node.

    Returns the column currents (A).  Terminals: a resistor to the source, or (r = 0) a fixed
    node whose terminal current is found by KCL.  Independent of xbar's solvers.
    """
    M, N = G.shape
    n = 3 * M * N
    W = lambda i, j: i * N + j  # noqa: E731
    B = lambda i, j: M * N + i * N + j  # noqa: E731
    X = lambda i, j: 2 * M * N + i * N + j  # noqa: E731
    A = np.zeros((n, n))  # linear part without terminal resistors
    T = np.zeros((n, n))  # terminal resistors
    f = np.zeros(n)
    fixed = np.zeros(n, bool)
    x = np.zeros(n)
    cells = []
    for i in range(M):
        for j in range(N):
            if select[i, j]:
                stamp(A, W(i, j), X(i, j), 1.0 / r_acc)
                cells.append((X(i, j), B(i, j), G[i, j]))
            else:
                fixed[X(i, j)] = True  # unused node
        for j in range(N - 1):
            stamp(A, W(i, j), W(i, j + 1), 1.0 / r_wl)
    for i in range(M - 1):
        for j in range(N):
            stamp(A, B(i, j), B(i + 1, j), 1.0 / r_bl)
    for i in range(M):
        if r_drv == 0:
            fixed[W(i, 0)], x[W(i, 0)] = True, v_row[i]
        else:
            T[W(i, 0), W(i, 0)] += 1 / r_drv
            f[W(i, 0)] += v_row[i] / r_drv
    for j in range(N):
        if r_sns == 0:
            fixed[B(M - 1, j)], x[B(M - 1, j)] = True, v_col[j]
        else:
            T[B(M - 1, j), B(M - 1, j)] += 1 / r_sns
            f[B(M - 1, j)] += v_col[j] / r_sns
    top = np.array([c[0] for c in cells])
    bot = np.array([c[1] for c in cells])
    gc = np.array([c[2] for c in cells])
    C = np.zeros((len(cells), n))
    C[np.arange(len(cells)), top] = 1.0
    C[np.arange(len(cells)), bot] = -1.0
    free = ~fixed

    def out(x):  # current leaving each node into the network
        I, g = model.current_and_conductance(C @ x, gc)
        return A @ x + C.T @ I, g

    for _ in range(maxit):
        o, g = out(x)
        F = o + T @ x - f
        J = A + T + C.T @ (g[:, None] * C)
        with threadpool_limits(1):  # small dense solves: BLAS threads only contend
            dx = np.linalg.solve(J[np.ix_(free, free)], F[free])
        x[free] -= dx
        if np.abs(dx).max() <= tol * np.abs(x).max():
            break
    else:
        raise RuntimeError("dense reference Newton did not converge")
    o, _ = out(x)
    i_col = np.empty(N)
    for j in range(N):
        k = B(M - 1, j)
        i_col[j] = -o[k] if r_sns == 0 else (x[k] - v_col[j]) / r_sns
    return i_col


MODELS = [
    iv.Sinh(0.25),
    iv.Asymmetric(0.2, 0.35),
    iv.Table(np.linspace(-1, 1, 41), 0.3 * np.sinh(np.linspace(-1, 1, 41) / 0.3)),
]


@pytest.mark.parametrize("method", ["pcg", "direct", "auto"])
@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_batched_1t1r_nonlinear_read_equals_single_and_dense(method, model, rng):
    """Issue 13: the batched read crashed (reshape of the whole batch's f into one item)."""
    M, N = 8, 8
    G = rng.uniform(1e-5, 1e-4, (M, N))
    xb = xbar.Crossbar(G, r_wordline=1, r_bitline=1, cell="1T1R", r_access=1e3, iv=model)
    V = np.vstack([np.full(M, 0.1), rng.uniform(0, 0.6, M), -rng.uniform(0, 0.6, M)])
    batch = xb.read(V, method=method)
    single = np.array([xb.read(v, method=method) for v in V])
    np.testing.assert_allclose(batch, single, rtol=1e-12, atol=1e-20)
    sel = np.ones((M, N), bool)
    for v, got in zip(V, batch):
        ref = dense_newton_1t1r(G, 1.0, 1.0, 0.0, 0.0, 1e3, sel, v, np.zeros(N), model)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


def test_issue_example_16x16(rng):
    G = rng.uniform(1e-5, 1e-4, (16, 16))
    xb = xbar.Crossbar(G, r_wordline=1, r_bitline=1, cell="1T1R", r_access=1e3, iv=iv.Sinh(0.25))
    out = xb.read(np.full((2, 16), 0.1))
    ref = dense_newton_1t1r(
        G,
        1.0,
        1.0,
        0.0,
        0.0,
        1e3,
        np.ones((16, 16), bool),
        np.full(16, 0.1),
        np.zeros(16),
        iv.Sinh(0.25),
    )
    np.testing.assert_allclose(out, [ref, ref], rtol=1e-9)


def test_batched_1t1r_solve_with_terminals_and_gates(rng):
    M, N = 7, 6
    G = rng.uniform(1e-5, 1e-4, (M, N))
    sel = np.ones((M, N), bool)
    sel[2] = False
    model = iv.Sinh(0.25)
    xb = xbar.Crossbar(
        G,
        r_wordline=2,
        r_bitline=3,
        r_driver=10,
        r_sense=20,
        cell="1T1R",
        r_access=2e3,
        select=sel[:, 0],
        iv=model,
    )
    V = rng.uniform(0, 0.8, (3, M))
    for method in ("pcg", "direct"):
        sol = xb.solve(V, np.zeros((3, N)), method=method)
        for k in range(3):
            one = xb.solve(V[k], np.zeros(N), method=method)
            np.testing.assert_allclose(sol.col_currents[k], one.col_currents, rtol=1e-12)
            np.testing.assert_allclose(sol.v_wordline[k], one.v_wordline, rtol=1e-12)
            ref = dense_newton_1t1r(G, 2.0, 3.0, 10.0, 20.0, 2e3, sel, V[k], np.zeros(N), model)
            np.testing.assert_allclose(sol.col_currents[k], ref, rtol=1e-9)


def test_analog_linear_on_nonlinear_1t1r_tiles_runs_batches(rng):
    from xbar.periphery import AnalogLinear, ArrayConfig

    W = rng.normal(size=(6, 10))
    layer = AnalogLinear(
        W,
        array=ArrayConfig(
            max_rows=16,
            max_cols=16,
            r_wordline=1.0,
            r_bitline=1.0,
            cell="1T1R",
            r_access=1e3,
            crossbar_options={"iv": iv.Sinh(0.25)},
        ),
    )
    x = rng.uniform(-1, 1, (3, 10))
    batch = layer(x)
    single = np.array([layer(xi) for xi in x])
    np.testing.assert_allclose(batch, single, rtol=1e-9, atol=1e-12)


def test_ideal_read_of_1t1r_is_the_series_path(rng):
    """Issue 13: ideal_read ignored the access transistor.  Reference: G in series with r_access,
    I = V / (1/G + r_access) per cell, 0 through gates that are off."""
    M, N = 5, 4
    G = rng.uniform(1e-5, 1e-3, (M, N))
    ra = rng.uniform(1e2, 5e3, (M, N))
    sel = rng.random((M, N)) > 0.3
    v = rng.uniform(-1, 1, M)
    xb = xbar.Crossbar(G, cell="1T1R", r_access=ra, select=sel)
    expect = np.array(
        [sum(v[i] / (1 / G[i, j] + ra[i, j]) for i in range(M) if sel[i, j]) for j in range(N)]
    )
    np.testing.assert_allclose(xb.ideal_read(v), expect, rtol=1e-13)
    # With ideal wires and terminals the circuit read is the ideal read.
    np.testing.assert_allclose(xb.read(v, method="direct"), expect, rtol=1e-12)
    np.testing.assert_allclose(xbar.Crossbar(G).ideal_read(v), v @ G, rtol=1e-14)
