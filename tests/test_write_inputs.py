"""Write pulses: inputs that used to flip meaning (polarity=True), schemes that failed on 1T1R
arrays (floating), unit slips, and the energy split matching PowerBreakdown."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import xbar
from xbar.circuit.write import PulseEnergy, PulseResult
from xbar.exceptions import UnitWarning

from dense_reference import dense_solve

WIRES = dict(r_wordline=2.0, r_bitline=3.0, r_driver=10.0, r_sense=5.0)


def array(cell, rng, M=5, N=4):
    G = rng.uniform(1e-5, 1e-4, (M, N))
    extra = dict(cell="1T1R", r_access=1e3) if cell == "1T1R" else {}
    return G, xbar.Crossbar(G, **WIRES, **extra)


@pytest.mark.parametrize(
    "polarity", [True, False, np.True_, 1.0, -1.0, 0, 2, "1", "+1", None, np.array([1])]
)
def test_polarity_must_be_the_integer_plus_or_minus_one(polarity, rng):
    """Issue 14: polarity=True was taken as +1."""
    _, xb = array("0T1R", rng)
    with pytest.raises(xbar.ConfigError, match="polarity must be the integer"):
        xb.apply_pulse(0, 0, amplitude=1.0, width=1e-7, polarity=polarity)


def test_integer_polarities_of_any_integer_type(rng):
    _, xb = array("0T1R", rng)
    ref = xb.apply_pulse(1, 2, amplitude=1.0, width=1e-7, polarity=-1).cell_voltages
    for p in (np.int64(-1), np.int8(-1)):
        np.testing.assert_array_equal(
            xb.apply_pulse(1, 2, amplitude=1.0, width=1e-7, polarity=p).cell_voltages, ref
        )
    assert ref[1, 2] < 0


@pytest.mark.parametrize("rows,cols", [(1, 2), ([0, 3], [1]), (4, [0, 1, 3])])
def test_floating_scheme_on_1t1r(rows, cols, rng):
    """Issue 14: scheme='floating' always failed on 1T1R arrays (isolated floating rows)."""
    M, N = 5, 4
    G = rng.uniform(1e-5, 1e-4, (M, N))
    xb = xbar.Crossbar(G, **WIRES, cell="1T1R", r_access=1e3)
    res = xb.apply_pulse(rows, cols, amplitude=1.2, width=1e-7, scheme="floating")
    rsel = np.isin(np.arange(M), rows)
    csel = np.isin(np.arange(N), cols)
    # Reference: the dense solve with the unselected rows' gates off; their lines then touch
    # only their (grounded, any value would do) drivers and carry nothing.
    cv = np.where(csel, 0.0, np.nan)
    w, b, i_row, i_col = dense_solve(
        G,
        2.0,
        3.0,
        10.0,
        5.0,
        np.where(rsel, 1.2, 0.0),
        cv,
        r_access=1e3,
        select=np.repeat(rsel[:, None], N, axis=1),
    )
    np.testing.assert_allclose(res.solution.col_currents[csel], i_col[csel], rtol=1e-9)
    np.testing.assert_allclose(res.solution.v_bitline, b, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(res.solution.v_wordline[rsel], w[rsel], rtol=1e-9)
    assert np.isnan(res.solution.v_wordline[~rsel]).all()
    assert np.isnan(res.solution.row_voltages[~rsel]).all()
    assert (res.solution.row_currents[~rsel] == 0).all()
    assert (res.cell_energy[~rsel] == 0).all()
    assert np.isfinite(res.cell_voltages).all()
    assert res.energy.total == pytest.approx(res.energy.supplied, rel=1e-9)


SCHEMES = ("half", "third", "floating", "grounded")


@pytest.mark.parametrize(
    "cell,scheme,polarity", list(itertools.product(("0T1R", "1T1R"), SCHEMES, (1, -1)))
)
def test_every_scheme_polarity_and_cell(cell, scheme, polarity, rng):
    """Every documented combination runs, the selected cell sees the polarity's sign, and the
    energy parts add up to what the sources delivered."""
    _, xb = array(cell, rng)
    res = xb.apply_pulse(2, 1, amplitude=1.0, width=1e-7, polarity=polarity, scheme=scheme)
    assert np.sign(res.cell_voltages[2, 1]) == polarity
    assert 0.5 < abs(res.cell_voltages[2, 1]) <= 1.0
    assert res.energy.total == pytest.approx(res.energy.supplied, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    cell=st.sampled_from(["0T1R", "1T1R"]),
    scheme=st.sampled_from(SCHEMES),
    polarity=st.sampled_from([1, -1]),
    rows=st.sets(st.integers(0, 3), min_size=1),
    cols=st.sets(st.integers(0, 2), min_size=1),
    amp=st.floats(0.1, 3.0),
    seed=st.integers(0, 2**16),
)
def test_property_pulses_match_the_dense_solve(cell, scheme, polarity, rows, cols, amp, seed):
    """Any selection, scheme, polarity and cell: the pulse's operating point is the dense nodal
    solve of the same bias (for 1T1R: gates open on the selected rows; isolated floating rows
    are NaN and carry nothing)."""
    rng = np.random.default_rng(seed)
    M, N = 4, 3
    G = rng.uniform(1e-5, 1e-4, (M, N))
    extra = dict(cell="1T1R", r_access=1e3) if cell == "1T1R" else {}
    xb = xbar.Crossbar(G, **WIRES, **extra)
    rows, cols = sorted(rows), sorted(cols)
    res = xb.apply_pulse(rows, cols, amplitude=amp, width=1e-8, polarity=polarity, scheme=scheme)
    rv, cv = xbar.bias.scheme(scheme, M, N, rows, cols, polarity * amp)
    rsel = np.isin(np.arange(M), rows)
    select = None
    if cell == "1T1R":
        select = np.repeat(rsel[:, None], N, axis=1)
        rv = np.where(np.isnan(rv) & ~rsel, 0.0, rv)  # isolated: any value, no current
    w, b, i_row, i_col = dense_solve(
        G, 2.0, 3.0, 10.0, 5.0, rv, cv, r_access=extra.get("r_access"), select=select
    )
    driven = ~np.isnan(cv)
    np.testing.assert_allclose(
        res.solution.col_currents[driven], i_col[driven], rtol=1e-8, atol=1e-14
    )
    np.testing.assert_allclose(res.solution.v_bitline, b, rtol=1e-8, atol=1e-12)
    live = ~np.isnan(res.solution.v_wordline[:, 0])
    np.testing.assert_allclose(res.solution.v_wordline[live], w[live], rtol=1e-8, atol=1e-12)
    assert res.energy.total == pytest.approx(res.energy.supplied, rel=1e-8, abs=1e-25)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(width=100.0), r"width = 100.0 s.*ns or µs"),
        (dict(width=2e-3), r"width"),
        (dict(amplitude=500.0), r"amplitude = 500.0 V.*mV"),
    ],
)
def test_implausible_pulses_warn_naming_the_unit(kw, match, rng):
    """Issue 13: a 100 s write pulse was accepted without a word."""
    _, xb = array("0T1R", rng)
    args = dict(amplitude=1.0, width=1e-7)
    args.update(kw)
    with pytest.warns(UnitWarning, match=match):
        xb.apply_pulse(0, 0, **args)


def test_plausible_pulses_are_quiet(rng):
    _, xb = array("1T1R", rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xb.apply_pulse(0, 0, amplitude=3.0, width=1e-6)
        xb.apply_pulse(0, 0, amplitude=10.0, width=1e-3)
        xb.disturb_margins(2.0)


def test_energy_split_matches_power_breakdown(rng):
    """Issue 13: PulseEnergy lumped driver and sense terminals; now split as PowerBreakdown."""
    G, xb = array("1T1R", rng)
    width = 2e-7
    res = xb.apply_pulse([0, 2], [1, 3], amplitude=1.5, width=width, scheme="third")
    p = res.solution.power
    assert res.energy.word_drivers == pytest.approx(p.drivers * width, rel=1e-14)
    assert res.energy.sense == pytest.approx(p.sense * width, rel=1e-14)
    assert res.energy.word_drivers > 0 and res.energy.sense > 0
    # Independent: the driver energy from the dense solve's row currents and r_driver.
    rv, cv = xbar.bias.scheme("third", 5, 4, [0, 2], [1, 3], 1.5)
    sel = np.repeat(np.isin(np.arange(5), [0, 2])[:, None], 4, axis=1)
    _, _, i_row, i_col = dense_solve(G, 2.0, 3.0, 10.0, 5.0, rv, cv, r_access=1e3, select=sel)
    assert res.energy.word_drivers == pytest.approx((i_row**2 * 10.0).sum() * width, rel=1e-9)
    assert res.energy.sense == pytest.approx((i_col**2 * 5.0).sum() * width, rel=1e-9)
    with pytest.warns(DeprecationWarning, match="word_drivers and sense"):
        lumped = res.energy.drivers
    assert lumped == res.energy.word_drivers + res.energy.sense
    d = res.energy.as_dict()
    assert set(d) == {
        "selected",
        "half_selected",
        "unselected",
        "access",
        "wires",
        "word_drivers",
        "sense",
        "total",
        "supplied",
    }
    assert d["total"] == pytest.approx(d["supplied"], rel=1e-9)


@pytest.mark.parametrize("cls", [PulseResult, PulseEnergy])
def test_fields_are_documented_where_help_shows_them(cls):
    """Issue 13: the fields of PulseResult were not in its help()."""
    import dataclasses
    import pydoc

    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    for f in dataclasses.fields(cls):
        assert f"{f.name} :" in cls.__doc__, f.name
    assert "Parameters" in text and ", J" in text  # the numpydoc section of the fields
    if cls is PulseResult:
        for unit in ("s", "V", "C", "J"):
            assert f", {unit}" in cls.__doc__


@pytest.mark.parametrize(
    "cells",
    [[(1.7, 2)], [(True, 2)], [(0,)], [(1, 2, 3)], [("1", 2)], [(5, 0)], [(0, 4)], [(-1, 0)], []],
)
def test_disturb_margins_refuses_cells_it_would_truncate(cells, rng):
    _, xb = array("0T1R", rng)
    with pytest.raises(xbar.ConfigError, match="cells must"):
        xb.disturb_margins(1.0, cells=cells)


def test_disturb_margins_of_named_cells(rng):
    _, xb = array("0T1R", rng)
    m = xb.disturb_margins(1.0, cells=[(1, 2), np.array([3, 0])])
    assert m.worst_selected_cell in {(1, 2), (3, 0)}
