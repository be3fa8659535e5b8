"""Nonlinear cell I-V in the circuit solve (Newton), against independent references."""

import numpy as np
import pytest

import xbar
from xbar import ConfigError
from dense_reference import dense_newton
from xbar import spice


def rel(a, b):
    return np.abs(np.asarray(a) - b).max() / np.abs(b).max()


MODELS = {
    "sinh": xbar.iv.Sinh(0.25),
    "asym": xbar.iv.Asymmetric(0.2, 0.35),
    "table": xbar.iv.Table(
        np.linspace(-1.5, 1.5, 31), 0.25 * np.sinh(np.linspace(-1.5, 1.5, 31) / 0.25)
    ),
    "selector": xbar.iv.Asymmetric(0.3, 0.3, selector=xbar.iv.Selector("sinh", 1e-5, 0.15)),
}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("kind", ["mvm", "half", "floating"])
@pytest.mark.parametrize("terms", [(0.0, 0.0), (100.0, 50.0)])
def test_matches_dense_newton(model, kind, terms, rng):
    M, N = 5, 6
    G = rng.uniform(1e-5, 1e-4, (M, N))
    iv = MODELS[model]
    xb = xbar.Crossbar(G, r_wordline=3.0, r_bitline=4.0, r_driver=terms[0], r_sense=terms[1], iv=iv)
    if kind == "mvm":
        rv, cv = rng.uniform(-1, 1, M), np.zeros(N)
    else:
        rv, cv = xbar.bias.scheme(kind, M, N, 1, 2, 1.0)
    sol = xb.solve(rv, cv)
    w, b = dense_newton(G, 3.0, 4.0, terms[0], terms[1], rv, cv, iv.current_and_conductance)
    assert rel(sol.v_wordline, w) < 1e-9
    assert rel(sol.v_bitline, b) < 1e-9
    assert sol.newton_iterations >= 1
    assert abs(sol.power.total - sol.power.supplied) <= 1e-9 * abs(sol.power.supplied)


def test_small_signal_limit_is_the_linear_solve(rng):
    G = rng.uniform(1e-6, 1e-4, (20, 16))
    kw = dict(r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0)
    v = rng.uniform(0, 1e-4, 20)
    lin = xbar.Crossbar(G, **kw).read(v)
    nl = xbar.Crossbar(G, iv=xbar.iv.Sinh(0.25), **kw).read(v)
    # sinh(x)/x − 1 ≈ x²/6 with x ≤ 4e-4
    assert rel(nl, lin) < 1e-7


def test_odd_symmetry_of_sinh_network(rng):
    G = rng.uniform(1e-6, 1e-4, (24, 20))
    xb = xbar.Crossbar(
        G, r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0, iv=xbar.iv.Sinh(0.25)
    )
    rv, cv = xbar.bias.half(24, 20, 3, 7, 0.9)
    a = xb.solve(rv, cv)
    b = xb.solve(-rv, -cv)
    assert rel(b.col_currents, -a.col_currents) < 1e-11
    assert rel(b.cell_currents, -a.cell_currents) < 1e-11


def test_1t1r_nonlinear_series_cell(rng):
    """1T1R with sinh memristor: one selected cell is a series circuit solved by bisection."""
    M, N, i, j = 6, 5, 2, 3
    G = np.full((M, N), 5e-5)
    sel = np.zeros((M, N), bool)
    sel[i, j] = True
    iv = xbar.iv.Sinh(0.2)
    xb = xbar.Crossbar(
        G,
        r_wordline=2.0,
        r_bitline=2.0,
        r_driver=50.0,
        r_sense=30.0,
        cell="1T1R",
        r_access=4e3,
        select=sel,
        iv=iv,
    )
    v = np.zeros(M)
    v[i] = 1.1
    sol = xb.solve(v, np.zeros(N))
    r_series = 50.0 + j * 2.0 + 4e3 + (M - 1 - i) * 2.0 + 30.0
    lo, hi = 0.0, 1.1 / r_series
    for _ in range(200):  # independent: bisection on the series current
        mid = 0.5 * (lo + hi)
        vm = 0.2 * np.arcsinh(mid / (5e-5 * 0.2))
        lo, hi = (mid, hi) if mid * r_series + vm < 1.1 else (lo, mid)
    assert rel(sol.col_currents[j], lo) < 1e-10
    assert rel(sol.cell_voltages[i, j], 0.2 * np.arcsinh(lo / 1e-5)) < 1e-9


def test_ideal_wires_half_select_exact():
    xb = xbar.Crossbar(np.full((7, 5), 3e-5), iv=xbar.iv.Sinh(0.25))
    r = xb.apply_pulse(3, 1, amplitude=1.2, width=1e-7, scheme="half")
    v = r.cell_voltages
    assert v[3, 1] == pytest.approx(1.2, abs=1e-12)
    assert np.allclose(v[r.half_selected], 0.6, atol=1e-12)
    assert np.allclose(v[~r.half_selected & ~r.selected], 0.0, atol=1e-12)


def test_transfer_refused_for_nonlinear(rng):
    xb = xbar.Crossbar(
        rng.uniform(1e-5, 1e-4, (4, 4)), r_wordline=1.0, r_bitline=1.0, iv=xbar.iv.Sinh(0.3)
    )
    with pytest.raises(ConfigError, match="linear cells"):
        xb.read(np.ones(4) * 0.1, method="transfer")
    with pytest.raises(ConfigError, match="linear cells only"):
        xb.transfer_matrix()
    with pytest.raises(ConfigError, match="iv must be an xbar.iv model"):
        xbar.Crossbar(np.ones((2, 2)) * 1e-5, iv="sinh")


def test_newton_failure_reports_residual(rng):
    xb = xbar.Crossbar(
        rng.uniform(1e-5, 1e-4, (8, 8)),
        r_wordline=5.0,
        r_bitline=5.0,
        r_driver=10.0,
        r_sense=10.0,
        iv=xbar.iv.Sinh(0.05),
    )
    with pytest.raises(xbar.ConvergenceError, match="residual") as info:
        xb.solve(np.full(8, 1.0), np.zeros(8), maxiter=1)
    assert info.value.residual > 0


@pytest.mark.spice
@pytest.mark.parametrize("n", [16, 64])
@pytest.mark.parametrize("kind", ["mvm", "half"])
def test_sinh_matches_ngspice(n, kind, rng):
    G = rng.uniform(1e-6, 1e-4, (n, n))
    xb = xbar.Crossbar(
        G, r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0, iv=xbar.iv.Sinh(0.25)
    )
    if kind == "mvm":
        rv, cv = rng.uniform(-1, 1, n), np.zeros(n)
    else:
        rv, cv = xbar.bias.half(n, n, n // 3, n // 2, 1.0)
    ref = spice.run(xb, rv, cv)
    sol = xb.solve(rv, cv)
    assert rel(sol.col_currents, ref.col_currents) < 1e-9
    assert rel(sol.row_currents, ref.row_currents) < 1e-9


@pytest.mark.spice
def test_asymmetric_matches_ngspice(rng):
    G = rng.uniform(1e-6, 1e-4, (12, 12))
    xb = xbar.Crossbar(
        G,
        r_wordline=2.5,
        r_bitline=2.5,
        r_driver=100.0,
        r_sense=100.0,
        iv=xbar.iv.Asymmetric(0.2, 0.35),
    )
    v = rng.uniform(-1, 1, 12)
    assert rel(xb.read(v), spice.run(xb, v, np.zeros(12)).col_currents) < 1e-9
