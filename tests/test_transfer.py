"""Read maps (xbar.circuit.transfer, Cython column sweep): against dense nodal solves written node
by node, unit-excitation solves, the former Python row sweep, and serial vs threaded builds."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import xbar
from xbar import ConfigError
from xbar.circuit import cost, transfer
from xbar.circuit.nodal import NodalNetwork
from dense_reference import dense_solve
from row_sweep_reference import row_sweep


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def dense_maps(G, rw, rb, rd, rs, r_access=None, select=None):
    """T (N, M) and Y (M, M) from M dense solves with one row at 1 V.  Row currents are summed
    over the word line's cells (KCL over the line), which stays exact to rounding when the cells
    are far weaker than the driver, unlike ``g_d·(V − w[i, 0])``."""
    M, N = G.shape
    gc = np.asarray(G, float)
    if r_access is not None:
        gc = gc / (1.0 + gc * r_access)
    if select is not None:
        gc = np.where(np.broadcast_to(select, (M, N)), gc, 0.0)
    T = np.empty((N, M))
    Y = np.empty((M, M))
    for i in range(M):
        v = np.zeros(M)
        v[i] = 1.0
        w, b, _, i_col = dense_solve(
            G, rw, rb, rd, rs, v, np.zeros(N), r_access=r_access, select=select
        )
        T[:, i] = i_col
        Y[:, i] = (gc * (w - b)).sum(axis=1)
    return T, Y


CASES = {
    # shape, G range (S), word/bit segment (ohm, or "seg" for random per-segment), driver, sense
    "square": ((9, 9), (1e-6, 1e-4), 2.5, 100.0, 100.0),
    "wide": ((5, 13), (1e-6, 1e-4), "seg", 50.0, 80.0),
    "tall": ((13, 5), (1e-6, 1e-4), "seg", 80.0, 50.0),
    "one_cell": ((1, 1), (1e-5, 1e-4), 2.0, 30.0, 30.0),
    "one_row": ((1, 7), (1e-5, 1e-4), 2.0, 30.0, 30.0),
    "one_col": ((7, 1), (1e-5, 1e-4), 2.0, 30.0, 30.0),
    # 1 ohm wires against 0.1 µS cells behind 1 kohm terminals: wire/cell ratio 1e7
    "extreme": ((12, 10), (1e-7, 1e-7), 1.0, 1e3, 1e3),
    "strong_drop": ((10, 12), (1e-5, 1e-3), 20.0, 10.0, 10.0),
}


def _case(name, rng):
    (M, N), (lo, hi), wire, rd, rs = CASES[name]
    G = rng.uniform(lo, hi, (M, N))
    if wire == "seg":
        rw, rb = rng.uniform(0.5, 20, (M, N - 1)), rng.uniform(0.5, 20, (M - 1, N))
    else:
        rw = rb = wire
    rd = rng.uniform(0.5, 2.0, M) * rd
    rs = rng.uniform(0.5, 2.0, N) * rs
    return G, dict(r_wordline=rw, r_bitline=rb, r_driver=rd, r_sense=rs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_maps_match_dense_nodal_solves(name, rng):
    G, kw = _case(name, rng)
    T_ref, Y_ref = dense_maps(G, kw["r_wordline"], kw["r_bitline"], kw["r_driver"], kw["r_sense"])
    xb = xbar.Crossbar(G, **kw)
    T, Y = transfer.read_maps(xb.network(), admittance=True)
    assert rel(T, T_ref) < 1e-9
    assert rel(Y, Y_ref) < 1e-9
    assert np.array_equal(Y, Y.T)
    # T alone (transposed network when N < M) is the same map
    assert rel(transfer.read_maps(xb.network(), admittance=False)[0], T_ref) < 1e-9


def test_isolated_cells_1t1r_against_dense(rng):
    """Gates off fold to gc = 0: whole word lines and single cells isolated."""
    M, N = 8, 11
    G = rng.uniform(1e-6, 1e-4, (M, N))
    select = rng.random((M, N)) < 0.6
    select[2] = False  # a word line with no conducting cell
    select[:, 4] = False  # a bit line with none
    kw = dict(r_wordline=3.0, r_bitline=rng.uniform(1, 5, (M - 1, N)), r_driver=40.0, r_sense=60.0)
    xb = xbar.Crossbar(G, cell="1T1R", r_access=2e3, select=select, **kw)
    T, Y = transfer.read_maps(xb.network(), admittance=True)
    T_ref, Y_ref = dense_maps(G, 3.0, kw["r_bitline"], 40.0, 60.0, r_access=2e3, select=select)
    assert rel(T, T_ref) < 1e-9
    assert rel(Y, Y_ref) < 1e-9
    assert np.all(T[4] == 0.0)  # the dead bit line carries nothing
    assert np.all(T[:, 2] == 0.0)
    assert abs(Y[2, 2]) < 1e-12 * np.abs(Y).max() and np.all(np.abs(Y[2, :2]) < 1e-15)


@pytest.mark.parametrize("shape", [(64, 48), (30, 70)])
def test_maps_match_unit_solves_and_row_sweep(shape, rng):
    """Training-like tiles (1 ohm wires, 0.1-10 µS cells, 10 ohm terminals) against PCG unit
    solves (rows at 1 V; row currents as the sum of cell currents) and the former row sweep."""
    M, N = shape
    G = rng.uniform(1e-7, 1e-5, shape)
    xb = xbar.Crossbar(G, r_wordline=1.0, r_bitline=1.0, r_driver=10.0, r_sense=10.0)
    T, Y = transfer.read_maps(xb.network(), admittance=True)
    sol = xb.solve(np.eye(M), np.zeros((M, N)), method="pcg")
    assert rel(T, sol.col_currents.T) < 1e-9
    assert rel(Y, sol.cell_currents.sum(axis=2).T) < 1e-9
    T_rows, Y_rows = row_sweep(xb.network(), admittance=True)
    assert rel(T, T_rows) < 1e-10
    assert rel(Y, Y_rows) < 1e-9


def test_crossbar_uses_the_kernel(rng):
    G = rng.uniform(1e-6, 1e-4, (20, 16))
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=3.0, r_driver=50.0, r_sense=60.0)
    assert cost.sweep_applies(xb.network(), admittance=True) and cost.sweep_applies(xb.network())
    T, Y = transfer.read_maps(xb.network(), admittance=True)
    assert np.array_equal(xb.port_admittance(), Y)
    assert np.array_equal(xb.transfer_matrix(), T)


def test_unsupported_networks_are_refused(rng):
    G = rng.uniform(1e-6, 1e-4, (4, 5))
    ideal = xbar.Crossbar(G, r_wordline=0.0, r_bitline=1.0, r_driver=10.0, r_sense=10.0)
    tied = xbar.Crossbar(G, r_wordline=1.0, r_bitline=1.0, r_driver=0.0, r_sense=10.0)
    for xb in (ideal, tied):
        assert not transfer.supported(xb.network())
        with pytest.raises(ConfigError, match="resistance"):
            transfer.read_maps(xb.network())
    net = xbar.Crossbar(G, r_wordline=1.0, r_bitline=1.0, r_driver=10.0, r_sense=10.0).network()
    bad = NodalNetwork(-net.gc * 1e6, net.gw, net.gb, net.g_driver, net.g_sense)
    with pytest.raises(ConfigError, match="not positive definite"):
        transfer.read_maps(bad)


def _blas_threads():
    return sorted(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


def test_threaded_builds_equal_serial_and_restore_blas_threads(rng):
    nets = [
        xbar.Crossbar(
            rng.uniform(1e-7, 1e-5, shape),
            r_wordline=1.0,
            r_bitline=1.0,
            r_driver=10.0,
            r_sense=10.0,
        ).network()
        for shape in [(40, 40), (40, 23), (17, 40), (40, 40), (5, 9)]
    ]
    before = _blas_threads()
    serial = [transfer.read_maps(n) for n in nets]
    seen = []

    def build(n):
        seen.append(threading.get_ident())
        return transfer.read_maps(n)

    threaded = transfer.in_parallel(build, nets, n_threads=2)
    for (T1, Y1), (T2, Y2) in zip(serial, threaded):
        assert np.array_equal(T1, T2) and np.array_equal(Y1, Y2)
    assert len(set(seen)) >= 1
    assert _blas_threads() == before
