"""Properties of the solved network that must hold for any array (hypothesis)."""

import numpy as np
from hypothesis import given, settings, strategies as st

import xbar

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def arrays(draw, min_size=1, max_size=7):
    M = draw(st.integers(min_size, max_size))
    N = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    G = 10 ** rng.uniform(-6, -3, (M, N))
    kw = dict(
        r_wordline=rng.uniform(0.1, 100, (M, max(N - 1, 0))),
        r_bitline=rng.uniform(0.1, 100, (max(M - 1, 0), N)),
        r_driver=draw(st.sampled_from([0.0, 10.0, 1e3])),
        r_sense=draw(st.sampled_from([0.0, 5.0, 500.0])),
    )
    if draw(st.booleans()):
        kw.update(cell="1T1R", r_access=rng.uniform(100, 1e4, (M, N)))
    return G, kw, rng


def kcl_imbalance(xb, sol):
    """Current leaving every free node (A), computed here from the node voltages."""
    G, (M, N) = xb.G, xb.shape
    w, b = sol.v_wordline, sol.v_bitline
    i_cell = sol.cell_currents
    assert np.allclose(i_cell, (w - b) / (1 / G + xb.r_access), rtol=1e-12, atol=0)
    out_w = i_cell.copy()
    out_b = -i_cell.copy()
    if N > 1:
        iw = (w[:, :-1] - w[:, 1:]) / xb.r_wordline
        out_w[:, :-1] += iw
        out_w[:, 1:] -= iw
    if M > 1:
        ib = (b[:-1] - b[1:]) / xb.r_bitline
        out_b[:-1] += ib
        out_b[1:] -= ib
    out_w[:, 0] -= sol.row_currents  # the driver supplies the first node
    out_b[-1] += sol.col_currents  # the terminal takes from the last node
    return np.concatenate([out_w.ravel(), out_b.ravel()])


@SETTINGS
@given(arrays(), st.sampled_from(["mvm", "half", "third", "floating"]))
def test_kcl_and_power_balance(case, kind):
    G, kw, rng = case
    M, N = G.shape
    xb = xbar.Crossbar(G, **kw)
    if kind == "mvm":
        rv, cv = rng.uniform(-1, 1, M), np.zeros(N)
    else:
        rv, cv = xbar.bias.scheme(kind, M, N, rng.integers(M), rng.integers(N), 1.0)
        if kind == "floating" and M * N == 1:
            return
    sol = xb.solve(rv, cv)
    scale = np.abs(sol.cell_currents).max() + np.abs(sol.row_currents).max() + 1e-30
    assert np.abs(kcl_imbalance(xb, sol)).max() <= 1e-9 * scale
    terminal = np.nansum(rv * sol.row_currents) - np.nansum(cv * sol.col_currents)
    assert abs(sol.power.total - terminal) <= 1e-9 * max(abs(terminal), 1e-30)


@SETTINGS
@given(arrays(min_size=2))
def test_reciprocity(case):
    G, kw, _ = case
    M, N = G.shape
    xb = xbar.Crossbar(G, **kw)
    by_rows = xb.solve(np.eye(M), np.zeros((M, N))).col_currents.T  # T (N, M)
    by_cols = -xb.solve(np.zeros((N, M)), np.eye(N)).row_currents  # (N, M)
    assert np.abs(by_rows - by_cols).max() <= 1e-9 * np.abs(by_rows).max()
    assert np.abs(xb.transfer_matrix() - by_rows).max() <= 1e-9 * np.abs(by_rows).max()


@SETTINGS
@given(arrays(), st.floats(1.01, 10.0))
def test_currents_monotone_in_conductance(case, factor):
    """Rayleigh monotonicity: raising any G never lowers the effective conductance seen by the
    sources, so the read power v·Y·v and, with one row driven and every other line at 0 V, that
    driver's current cannot decrease.  (A single column's current is *not* monotone in general:
    hypothesis found arrays where loading of other word lines lowers it slightly.)"""
    G, kw, rng = case
    M, N = G.shape
    v = rng.uniform(0.05, 1.0, M)
    i, j = rng.integers(M), rng.integers(N)
    base = xbar.Crossbar(G, **kw)
    G2 = G.copy()
    G2[i, j] *= factor
    more = xbar.Crossbar(G2, **kw)
    a, b = base.solve(v, np.zeros(N)), more.solve(v, np.zeros(N))
    assert b.power.supplied > a.power.supplied
    one = np.zeros(M)
    one[rng.integers(M)] = 1.0
    assert more.solve(one, np.zeros(N)).row_currents @ one >= base.solve(
        one, np.zeros(N)
    ).row_currents @ one * (1 - 1e-12)
