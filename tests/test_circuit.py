"""Circuit solver: against an independent dense nodal solve, closed forms and conservation laws."""

import numpy as np
import pytest

import xbar
from xbar import ConfigError, ConvergenceError
from dense_reference import dense_solve

RTOL = 1e-9


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def terminals(kind, M, N, rng):
    if kind == "mvm":
        return rng.uniform(-0.5, 1.0, M), np.zeros(N)
    if kind == "half":
        return xbar.bias.half(M, N, 1, 2, 1.0)
    if kind == "third":
        return xbar.bias.third(M, N, 1, 2, 1.0)
    if kind == "floating":
        return xbar.bias.floating(M, N, 1, 2, 1.0)
    if kind == "rowset":
        return xbar.bias.half(M, N, [0, 2], [1, 3], 0.8)
    raise ValueError(kind)


WIRES = {
    "scalar": lambda M, N, rng: (2.5, 4.0),
    "segments": lambda M, N, rng: (
        rng.uniform(0.5, 20, (M, N - 1)),
        rng.uniform(0.5, 20, (M - 1, N)),
    ),
    "strong": lambda M, N, rng: (300.0, 500.0),
}
TERMS = {"zero": (0.0, 0.0), "resistive": (100.0, 250.0), "mixed": (0.0, 50.0)}


@pytest.mark.parametrize("method", ["pcg", "direct"])
@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
@pytest.mark.parametrize("terms", sorted(TERMS))
@pytest.mark.parametrize("wires", sorted(WIRES))
@pytest.mark.parametrize("kind", ["mvm", "half", "third", "floating", "rowset"])
def test_matches_dense_reference(kind, wires, terms, cell, method, rng):
    M, N = 5, 7
    G = rng.uniform(1e-6, 1e-3, (M, N))
    r_wl, r_bl = WIRES[wires](M, N, rng)
    r_d, r_s = TERMS[terms]
    extra = {}
    if cell == "1T1R":
        extra = dict(r_access=rng.uniform(500, 5e3, (M, N)))
    xb = xbar.Crossbar(
        G, r_wordline=r_wl, r_bitline=r_bl, r_driver=r_d, r_sense=r_s, cell=cell, **extra
    )
    rv, cv = terminals(kind, M, N, rng)
    sol = xb.solve(rv, cv, method=method)
    w, b, i_row, i_col = dense_solve(
        G, r_wl, r_bl, r_d, r_s, rv, cv, r_access=extra.get("r_access")
    )
    assert rel(sol.v_wordline, w) < RTOL
    assert rel(sol.v_bitline, b) < RTOL
    assert rel(sol.col_currents, i_col) < RTOL
    assert rel(sol.row_currents, i_row) < RTOL
    assert sol.method == method
    # energy conservation: dissipated == delivered by the sources
    assert abs(sol.power.total - sol.power.supplied) <= 1e-9 * abs(sol.power.supplied)


def test_1t1r_select_mask_isolates_rows(rng):
    M, N = 6, 4
    G = rng.uniform(1e-5, 1e-4, (M, N))
    sel = np.array([True, False, True, False, False, True])
    xb = xbar.Crossbar(
        G,
        r_wordline=3.0,
        r_bitline=3.0,
        r_driver=10.0,
        r_sense=10.0,
        cell="1T1R",
        r_access=2e3,
        select=sel,
    )
    v = rng.uniform(0.1, 0.5, M)
    sol = xb.solve(v, np.zeros(N))
    w, b, i_row, i_col = dense_solve(
        G, 3.0, 3.0, 10.0, 10.0, v, np.zeros(N), r_access=2e3, select=np.repeat(sel[:, None], N, 1)
    )
    assert rel(sol.col_currents, i_col) < RTOL
    assert np.all(sol.cell_currents[~sel] == 0)
    assert np.abs(sol.row_currents[~sel]).max() < 1e-10 * np.abs(sol.row_currents).max()


def test_1t1r_single_cell_is_a_series_path():
    M, N, i, j = 8, 5, 2, 3
    G = np.full((M, N), 5e-5)
    sel = np.zeros((M, N), bool)
    sel[i, j] = True
    r = dict(r_wordline=1.5, r_bitline=2.0, r_driver=100.0, r_sense=40.0)
    xb = xbar.Crossbar(G, cell="1T1R", r_access=3e3, select=sel, **r)
    v = np.zeros(M)
    v[i] = 0.7
    sol = xb.solve(v, np.zeros(N))
    r_path = 100.0 + j * 1.5 + 3e3 + 1 / 5e-5 + (M - 1 - i) * 2.0 + 40.0
    assert rel(sol.col_currents[j], 0.7 / r_path) < 1e-12
    assert rel(sol.cell_voltages[i, j], 0.7 / r_path / 5e-5) < 1e-12
    assert np.allclose(np.delete(sol.col_currents, j), 0.0, atol=1e-20)


@pytest.mark.parametrize("r_driver", [0.0, 25.0])
def test_word_line_profile_matches_discrete_cosh(r_driver):
    """One word line over ideal grounded bit lines: w_j = C·cosh(θ(j − N + 1/2)), cosh θ = 1 + rG/2."""
    N, r, g, V = 200, 2.0, 4e-3, 0.9
    xb = xbar.Crossbar(
        np.full((1, N), g), r_wordline=r, r_bitline=0.0, r_driver=r_driver, r_sense=0.0
    )
    sol = xb.solve([V], np.zeros(N))
    theta = np.arccosh(1 + r * g / 2)
    j = np.arange(N)
    shape = np.cosh(theta * (j - N + 0.5))
    # driver: (V − w0)/r_d = current into the line = Σ g w_j
    c = V / (shape[0] + r_driver * g * shape.sum())
    assert rel(sol.v_wordline[0], c * shape) < 1e-12
    assert rel(sol.col_currents, g * c * shape) < 1e-12


def test_ideal_wires_and_terminals_give_G_transpose_v(rng):
    G = rng.uniform(1e-6, 1e-4, (9, 11))
    xb = xbar.Crossbar(G)
    v = rng.uniform(-1, 1, (4, 9))
    assert rel(xb.read(v), v @ G) < 1e-13
    assert rel(xb.ideal_read(v), v @ G) == 0


def test_zero_wire_limit_is_continuous(rng):
    """A tiny wire resistance (PCG) approaches the zero-resistance solve (direct, merged nodes)."""
    G = rng.uniform(1e-6, 1e-4, (12, 10))
    v = rng.uniform(0, 1, 12)
    ideal = xbar.Crossbar(G, r_driver=50.0, r_sense=50.0).read(v)
    tiny = xbar.Crossbar(G, r_wordline=1e-6, r_bitline=1e-6, r_driver=50.0, r_sense=50.0)
    # 1e6 S segments carrying ~1 A-scale rounding: the error estimate is a few 1e-7.
    assert rel(tiny.read(v, method="pcg", rtol=1e-5), ideal) < 1e-7


def test_batched_solve_equals_one_by_one(rng):
    M, N = 16, 12
    G = rng.uniform(1e-6, 1e-4, (M, N))
    xb = xbar.Crossbar(G, r_wordline=5.0, r_bitline=5.0, r_driver=100.0, r_sense=100.0)
    V = rng.uniform(0, 1, (5, M))
    C = np.zeros((5, N))
    C[3] = np.nan  # a different floating pattern inside the batch
    C[3, 0] = 0.0
    batch = xb.solve(V, C)
    for k in range(5):
        one = xb.solve(V[k], C[k])
        assert rel(batch.col_currents[k], one.col_currents) < 1e-10
        assert rel(batch.v_bitline[k], one.v_bitline) < 1e-10


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (3, 3)])
def test_degenerate_shapes(shape, rng):
    G = rng.uniform(1e-5, 1e-4, shape)
    M, N = shape
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=2.0, r_driver=30.0, r_sense=30.0)
    v = rng.uniform(0, 1, M)
    for method in ("pcg", "direct"):
        sol = xb.solve(v, np.zeros(N), method=method)
        _, _, _, i_col = dense_solve(G, 2.0, 2.0, 30.0, 30.0, v, np.zeros(N))
        assert rel(sol.col_currents, i_col) < RTOL


@pytest.mark.parametrize("method", ["auto", "pcg"])
@pytest.mark.parametrize("shape", [(8, 20), (20, 8), (12, 12), (10, 16)])
def test_transfer_matrix_is_exact_and_reciprocal(shape, method, rng):
    """``auto`` takes the block-Cholesky sweep at these sizes, ``pcg`` unit-excitation solves."""
    G = rng.uniform(1e-6, 1e-4, shape)
    M, N = shape
    xb = xbar.Crossbar(G, r_wordline=4.0, r_bitline=6.0, r_driver=80.0, r_sense=60.0)
    T = xb.transfer_matrix(method=method)
    V = rng.uniform(0, 1, (3, M))
    assert rel(V @ T.T, xb.read(V, method="pcg")) < 1e-10
    # reciprocity: T from row excitations equals −(row currents) under column excitations
    by_cols = -xb.solve(np.zeros((N, M)), np.eye(N)).row_currents  # (N, M)
    by_rows = xb.solve(np.eye(M), np.zeros((M, N))).col_currents.T  # (N, M)
    assert rel(by_cols, by_rows) < 1e-10
    assert rel(T, by_rows) < 1e-10


@pytest.mark.parametrize("method", ["auto", "pcg"])
@pytest.mark.parametrize("shape", [(9, 9), (6, 10), (20, 7)])
def test_port_admittance_gives_row_currents_and_read_power(shape, method, rng):
    M, N = shape
    G = rng.uniform(1e-6, 1e-4, shape)
    xb = xbar.Crossbar(
        G,
        r_wordline=rng.uniform(1, 9, (M, N - 1)),
        r_bitline=3.0,
        r_driver=rng.uniform(20, 200, M),
        r_sense=70.0,
    )
    Y = xb.port_admittance(method=method)
    V = rng.uniform(-1, 1, (4, M))
    sol = xb.solve(V, np.zeros((4, N)))
    assert rel(V @ Y.T, sol.row_currents) < 1e-10
    assert rel(np.einsum("bi,ij,bj->b", V, Y, V), sol.power.total) < 1e-10
    assert np.abs(Y - Y.T).max() <= 1e-12 * np.abs(Y).max()
    assert rel(V @ xb.transfer_matrix().T, sol.col_currents) < 1e-10


def test_transfer_cache_invalidated_by_conductance_write(rng):
    G = rng.uniform(1e-6, 1e-4, (10, 10))
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=2.0, r_driver=50.0, r_sense=50.0)
    v = rng.uniform(0, 1, (20, 10))
    before = xb.read(v)  # batch >= min(M, N): uses and caches T
    G2 = G.copy()
    G2[3, 4] *= 3
    xb.set_conductances(G2)
    after = xb.read(v)
    ref = xbar.Crossbar(G2, r_wordline=2.0, r_bitline=2.0, r_driver=50.0, r_sense=50.0)
    assert rel(after, ref.read(v, method="pcg")) < 1e-10
    assert rel(after, before) > 1e-4


@pytest.mark.parametrize("shape", [(19, 11), (8, 1), (1, 9), (17, 16), (9, 3)])
@pytest.mark.parametrize("terms", sorted(TERMS))
def test_pcg_shapes_across_word_line_blocks(shape, terms, rng):
    """The kernel sweeps word lines 8 at a time: full, partial and single blocks, 1-wide arrays."""
    M, N = shape
    G = rng.uniform(1e-6, 1e-3, (M, N))
    r_wl = rng.uniform(0.5, 20, (M, N - 1))
    r_bl = rng.uniform(0.5, 20, (M - 1, N))
    r_d, r_s = TERMS[terms]
    xb = xbar.Crossbar(G, r_wordline=r_wl, r_bitline=r_bl, r_driver=r_d, r_sense=r_s)
    for kind in ("mvm", "floating") if min(M, N) > 2 else ("mvm",):
        rv, cv = terminals(kind, M, N, rng)
        sol = xb.solve(rv, cv, method="pcg")
        w, b, i_row, i_col = dense_solve(G, r_wl, r_bl, r_d, r_s, rv, cv)
        assert rel(sol.v_wordline, w) < RTOL and rel(sol.v_bitline, b) < RTOL
        assert rel(sol.col_currents, i_col) < RTOL and rel(sol.row_currents, i_row) < RTOL


def test_conductance_updates_reuse_wires_and_terminal_patterns(rng):
    """set_conductances keeps the G-independent caches; every read still matches a dense solve."""
    M, N = 9, 6
    xb = xbar.Crossbar(
        rng.uniform(1e-6, 1e-4, (M, N)), r_wordline=3.0, r_bitline=2.0, r_driver=0.0, r_sense=40.0
    )
    wires = None
    for step in range(4):
        G = rng.uniform(1e-6, 1e-4, (M, N))
        xb.set_conductances(G)
        for kind in ("mvm", "half", "floating"):  # three NaN patterns, cached side by side
            rv, cv = terminals(kind, M, N, rng)
            sol = xb.solve(rv, cv, method="pcg")
            w, b, i_row, i_col = dense_solve(G, 3.0, 2.0, 0.0, 40.0, rv, cv)
            assert rel(sol.col_currents, i_col) < RTOL and rel(sol.row_currents, i_row) < RTOL
        assert wires is None or xb.network().gw is wires  # built once
        wires = xb.network().gw


def test_power_breakdown_parts(rng):
    M, N = 6, 5
    G = rng.uniform(1e-5, 1e-4, (M, N))
    xb = xbar.Crossbar(
        G, r_wordline=20.0, r_bitline=30.0, r_driver=100.0, r_sense=200.0, cell="1T1R", r_access=1e3
    )
    v = rng.uniform(0, 1, M)
    sol = xb.solve(v, np.zeros(N))
    w, b, i_row, i_col = dense_solve(G, 20.0, 30.0, 100.0, 200.0, v, np.zeros(N), r_access=1e3)
    assert rel(sol.power.drivers, np.sum((v - w[:, 0]) ** 2 / 100.0)) < RTOL
    assert rel(sol.power.sense, np.sum(b[-1] ** 2 / 200.0)) < RTOL
    wires = np.sum(np.diff(w, axis=1) ** 2 / 20.0) + np.sum(np.diff(b, axis=0) ** 2 / 30.0)
    assert rel(sol.power.wires, wires) < RTOL
    assert rel(sol.power.supplied, v @ i_row) < RTOL
    rp = xb.read_power(v)
    assert rel(rp.total, sol.power.total) < 1e-12


def test_read_power_is_batched(rng):
    xb = xbar.Crossbar(rng.uniform(1e-5, 1e-4, (5, 5)), r_wordline=5.0, r_bitline=5.0)
    p = xb.read_power(rng.uniform(0, 1, (3, 5)))
    assert np.shape(p.total) == (3,)


# ---------------------------------------------------------------------------- bad input
def test_bad_conductances():
    with pytest.raises(ConfigError, match="G must be >= 0"):
        xbar.Crossbar(np.array([[1e-5, -1e-6]]))
    with pytest.raises(ConfigError, match="NaN or inf"):
        xbar.Crossbar(np.array([[1e-5, np.nan]]))
    with pytest.raises(ConfigError, match="NaN or inf"):
        xbar.Crossbar(np.array([[1e-5, np.inf]]))
    with pytest.raises(ConfigError, match="2-D"):
        xbar.Crossbar(np.ones(4) * 1e-5)


def test_bad_resistances():
    G = np.full((3, 4), 1e-5)
    with pytest.raises(ConfigError, match="r_wordline must be >= 0"):
        xbar.Crossbar(G, r_wordline=-1.0)
    with pytest.raises(ConfigError, match="r_bitline must be a scalar or have shape"):
        xbar.Crossbar(G, r_bitline=np.ones((3, 4)))
    with pytest.raises(ConfigError, match="r_sense"):
        xbar.Crossbar(G, r_sense=np.inf)
    with pytest.raises(ConfigError, match="r_access"):
        xbar.Crossbar(G, cell="1T1R")
    with pytest.raises(ConfigError, match="cell must be one of"):
        xbar.Crossbar(G, cell="2T2R")
    with pytest.raises(ConfigError, match="select must have shape"):
        xbar.Crossbar(G, cell="1T1R", r_access=1e3, select=np.ones(5, bool))


def test_bad_voltages():
    xb = xbar.Crossbar(np.full((3, 4), 1e-5), r_wordline=1.0, r_bitline=1.0)
    with pytest.raises(ConfigError, match=r"row_voltages must have shape \(3,\)"):
        xb.solve(np.zeros(4), np.zeros(4))
    with pytest.raises(ConfigError, match="col_voltages contains inf"):
        xb.solve(np.zeros(3), np.array([0, 0, np.inf, 0]))
    with pytest.raises(ConfigError, match="every line is floating"):
        xb.solve(np.full(3, np.nan), np.full(4, np.nan))
    with pytest.raises(ConfigError, match="v contains NaN"):
        xb.read(np.array([0.1, np.nan, 0.2]))
    with pytest.raises(ConfigError, match="method must be one of"):
        xb.solve(np.zeros(3), np.zeros(4), method="magic")


def test_floating_subnetwork_is_reported():
    G = np.full((3, 4), 1e-5)
    xb = xbar.Crossbar(
        G, r_wordline=1.0, r_bitline=1.0, cell="1T1R", r_access=1e3, select=[True, False, True]
    )
    with pytest.raises(ConfigError, match=r"floating sub-network: word lines \[1\]"):
        xb.solve([0.5, np.nan, 0.2], np.zeros(4))
    # the same row driven is fine
    xb.solve([0.5, 0.3, 0.2], np.zeros(4))


def test_non_convergence_raises_with_iterations_and_residual(rng):
    G = rng.uniform(1e-6, 1e-4, (32, 32))
    xb = xbar.Crossbar(G, r_wordline=10.0, r_bitline=10.0, r_driver=100.0, r_sense=100.0)
    with pytest.raises(ConvergenceError, match="iteration limit") as info:
        xb.solve(rng.uniform(0, 1, 32), np.zeros(32), method="pcg", maxiter=1)
    assert info.value.iterations == 1
    assert info.value.residual > 0


def test_pcg_rejects_zero_wires():
    xb = xbar.Crossbar(np.full((3, 3), 1e-5), r_wordline=0.0, r_bitline=1.0)
    with pytest.raises(ConfigError, match="method='pcg' needs every wire segment"):
        xb.solve(np.ones(3), np.zeros(3), method="pcg")


def test_conductance_write_validates_shape():
    xb = xbar.Crossbar(np.full((3, 3), 1e-5))
    with pytest.raises(ConfigError, match="keep shape"):
        xb.set_conductances(np.full((3, 4), 1e-5))
    with pytest.raises(ValueError):
        xb.G[0, 0] = 1.0  # read-only view


def test_bias_schemes_levels():
    rv, cv = xbar.bias.third(4, 5, 2, [0, 4], 0.9)
    assert np.allclose(rv, [0.3, 0.3, 0.9, 0.3])
    assert np.allclose(cv, [0, 0.6, 0.6, 0.6, 0])
    rv, cv = xbar.bias.floating(4, 5, 1, 1, 1.0)
    assert np.isnan(rv[[0, 2, 3]]).all() and rv[1] == 1.0
    with pytest.raises(ConfigError, match=r"rows must lie in \[0, 3\]"):
        xbar.bias.half(4, 5, 4, 0, 1.0)


def test_half_selected_cells_see_half_voltage_with_ideal_wires():
    G = np.full((6, 6), 2e-5)
    xb = xbar.Crossbar(G)
    sol = xb.solve(*xbar.bias.half(6, 6, 2, 3, 1.0))
    cv = sol.cell_voltages
    assert cv[2, 3] == pytest.approx(1.0)
    assert np.allclose(np.delete(cv[2], 3), 0.5) and np.allclose(np.delete(cv[:, 3], 2), 0.5)
    others = np.delete(np.delete(cv, 2, 0), 3, 1)
    assert np.allclose(others, 0.0)


def test_crossbar_does_not_freeze_or_alias_the_callers_array():
    G = np.full((3, 3), 1e-5)
    xb = xbar.Crossbar(G)
    assert G.flags.writeable
    G[0, 0] = 2e-5
    assert xb.G[0, 0] == 1e-5
