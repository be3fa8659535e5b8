"""Tests of the cell I-V models (xbar.iv) against analytic limits and finite differences."""

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

import xbar.iv as iv
from xbar.exceptions import ConfigError

V = np.linspace(-1.5, 1.5, 301)
G = 1e-4

SELECTORS = [
    iv.Selector("sinh", 1e-6, 0.1),
    iv.Selector("diode", 1e-9, 0.0259),
    iv.Selector("sinh", 1e-3, 0.3),
]
MODELS = [iv.Linear(), iv.Sinh(0.25), iv.Asymmetric(0.2, 0.4)] + [
    iv.Asymmetric(0.2, 0.4, selector=s) for s in SELECTORS
]


def _fd(model, v, g, h=1e-6):
    return (model.current(v + h, g) - model.current(v - h, g)) / (2 * h)


@pytest.mark.parametrize(
    "model",
    MODELS + [iv.Table(np.linspace(-1, 1, 21), 0.25 * np.sinh(np.linspace(-1, 1, 21) / 0.25))],
    ids=repr,
)
def test_derivative_matches_finite_differences(model):
    v = V[
        np.abs(V) > 1e-3
    ]  # central differences straddling a table knot are fine; avoid V=0 kink-free check
    g = np.full_like(v, G)
    dI = model.conductance(v, g)
    fd = _fd(model, v, g)
    np.testing.assert_allclose(dI, fd, rtol=2e-6, atol=1e-6 * np.max(np.abs(dI)))


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_monotone_continuous_zero_at_origin(model):
    vf = np.linspace(-2, 2, 4001)
    I = model.current(vf, G)
    assert np.all(np.diff(I) >= 0)
    assert np.all(np.diff(I[vf >= 0]) > 0)  # reverse diode current saturates at -i0 (flat in float)
    assert model.current(0.0, G) == 0.0
    # continuity across 0: the jump over one tiny step is bounded by the slope there
    d0 = model.conductance(0.0, G)
    assert abs(model.current(1e-9, G) - model.current(-1e-9, G)) <= 2e-9 * d0 * 1.001


def test_sinh_small_v_limit_is_linear_and_odd():
    m = iv.Sinh(0.25)
    v = np.array([1e-6, 1e-4, -3e-5])
    # sinh(x) = x (1 + x^2/6 + ...): relative deviation from G*V is (V/v0)^2/6
    np.testing.assert_allclose(m.current(v, G), G * v, rtol=2e-7)
    np.testing.assert_allclose(
        m.current(v, G) / (G * v) - 1, (v / 0.25) ** 2 / 6, rtol=1e-3, atol=1e-15
    )
    np.testing.assert_allclose(m.current(-V, G), -m.current(V, G), rtol=0, atol=0)
    np.testing.assert_allclose(m.conductance(0.0, G), G)
    assert iv.Linear().is_linear and not m.is_linear


def test_asymmetric_branches_and_c1_at_zero():
    m = iv.Asymmetric(0.2, 0.5)
    assert m.current(0.3, G) == pytest.approx(G * 0.2 * np.sinh(0.3 / 0.2))
    assert m.current(-0.3, G) == pytest.approx(G * 0.5 * np.sinh(-0.3 / 0.5))
    eps = 1e-7
    assert m.conductance(eps, G) == pytest.approx(m.conductance(-eps, G), rel=1e-9)
    # equal shape voltages reduce to Sinh
    np.testing.assert_allclose(iv.Asymmetric(0.3, 0.3).current(V, G), iv.Sinh(0.3).current(V, G))


@pytest.mark.parametrize("sel", SELECTORS, ids=repr)
def test_series_selector_shares_current_and_voltage(sel):
    m = iv.Asymmetric(0.2, 0.4, selector=sel)
    v = np.linspace(-1.5, 1.5, 61)
    I = m.current(v, G)
    # Kirchhoff: the memristor alone at V_R and the selector alone at V - V_R carry the same I.
    bare = iv.Asymmetric(0.2, 0.4)
    v0 = np.where(I >= 0, 0.2, 0.4)
    vr = v0 * np.arcsinh(I / (G * v0))
    np.testing.assert_allclose(bare.current(vr, G), I, rtol=1e-12, atol=1e-25)
    np.testing.assert_allclose(sel.current(v - vr), I, rtol=1e-9, atol=1e-22)
    # the series current is below either element alone at the full voltage
    assert np.all(np.abs(I) <= np.abs(bare.current(v, G)) * (1 + 1e-12))
    assert np.all(np.abs(I) <= np.abs(sel.current(v)) * (1 + 1e-12))


def test_selector_zero_conductance_cells_carry_no_current():
    m = iv.Asymmetric(0.2, 0.4, selector=SELECTORS[0])
    I, dI = m.current_and_conductance(np.array([0.5, -0.5, 0.0]), np.array([0.0, 0.0, G]))
    assert I[0] == 0 and I[1] == 0 and I[2] == 0
    assert dI[2] == pytest.approx(1 / (1 / G + 0.1 / 1e-6))


def test_table_reproduces_sinh_on_knots_and_between():
    v0 = 0.25
    knots = np.linspace(-1.0, 1.0, 41)  # 50 mV spacing
    t = iv.Table(knots, v0 * np.sinh(knots / v0))
    ref = iv.Sinh(v0)
    np.testing.assert_allclose(t.current(knots, G), ref.current(knots, G), rtol=1e-14)
    vf = np.linspace(-1, 1, 2001)
    rel = np.abs(t.current(vf, G) - ref.current(vf, G)) / np.abs(ref.current(vf, G)).max()
    assert rel.max() < 5e-4  # stated accuracy for 50 mV knots on a 0.25 V sinh
    # independent reference: scipy's PCHIP on the same knots
    sp = PchipInterpolator(knots, v0 * np.sinh(knots / v0))
    np.testing.assert_allclose(t.shape(vf)[0], sp(vf), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t.shape(vf)[1], sp(vf, 1), rtol=1e-10, atol=1e-12)


def test_table_extrapolates_linearly_with_end_slope():
    knots = np.array([-1.0, -0.2, 0.0, 0.3, 1.0])
    f = np.array([-2.0, -0.25, 0.0, 0.35, 3.0])
    t = iv.Table(knots, f)
    f_hi, d_hi = t.shape(np.array([1.0, 2.0, 3.0]))
    assert f_hi[1] - f_hi[0] == pytest.approx(t.slopes[-1])
    assert f_hi[2] - f_hi[1] == pytest.approx(t.slopes[-1])
    np.testing.assert_allclose(d_hi, t.slopes[-1])
    f_lo, _ = t.shape(np.array([-3.0, -1.0]))
    assert f_lo[1] - f_lo[0] == pytest.approx(2 * t.slopes[0])
    # monotone even across a non-smooth table
    vf = np.linspace(-3, 3, 3001)
    assert np.all(np.diff(t.shape(vf)[0]) >= 0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda: iv.Sinh(0.0), "v0"),
        (lambda: iv.Sinh(-1.0), "v0"),
        (lambda: iv.Sinh(np.nan), "v0"),
        (lambda: iv.Asymmetric(0.2, 0.0), "v0_neg"),
        (lambda: iv.Asymmetric(np.inf, 0.1), "v0_pos"),
        (lambda: iv.Table([0, 1, 1], [0, 1, 2]), "strictly increasing"),
        (lambda: iv.Table([0, 1, 2], [0, 2, 1]), "non-decreasing"),
        (lambda: iv.Table([0, np.nan, 2], [0, 1, 2]), "NaN"),
        (lambda: iv.Table([0, 1, 2], [0, 1]), "shape"),
        (lambda: iv.Table([0.0], [0.0]), "at least 2"),
        (lambda: iv.Selector("triode"), "kind"),
        (lambda: iv.Selector("sinh", i0=0.0), "i0"),
        (lambda: iv.Asymmetric(0.2, 0.2, selector="diode"), "selector"),
    ],
)
def test_bad_input_raises_config_error(bad, match):
    with pytest.raises(ConfigError, match=match):
        bad()


def test_kernel_description_and_repr():
    assert iv.Linear().kind == iv.KIND_LINEAR and iv.Linear().params == ()
    assert iv.Sinh(0.3).params == (0.3,)
    m = iv.Asymmetric(0.2, 0.4, selector=iv.Selector("diode", 1e-9, 0.026))
    assert m.kind == iv.KIND_ASYMMETRIC and m.params == (0.2, 0.4, 2.0, 1e-9, 0.026)
    assert all(isinstance(p, float) for p in m.params)
    assert "selector=Selector(kind='diode'" in repr(m)
    assert eval(repr(iv.Sinh(0.3)), {"Sinh": iv.Sinh}) == iv.Sinh(0.3)
    t = iv.Table([0, 1], [0, 1])
    assert t.kind == iv.KIND_TABLE and t.slopes.shape == (2,) and "2 knots" in repr(t)
    with pytest.raises(ValueError):
        t.v[0] = 1.0  # knots are read-only


def test_broadcasting():
    m = iv.Sinh(0.25)
    Gm = np.full((3, 4), G)
    assert m.current(np.linspace(0, 1, 4), Gm).shape == (3, 4)
    assert m.conductance(0.5, Gm).shape == (3, 4)
    assert iv.Linear().conductance(np.zeros(4), G).shape == (4,)


# ---------------------------------------------------------------- unit slips and overflow (issue 13)
from xbar.exceptions import UnitWarning  # noqa: E402


def test_sinh_with_implausible_bias_warns_naming_the_units():
    """Issue 13: Sinh(0.01) at 2 V returned ~1e80 A without a word."""
    with pytest.warns(UnitWarning, match=r"\|V\|/v0 = 200.*volts.*mV"):
        I = iv.Sinh(0.01).current(2.0, 1e-4)
    assert np.isclose(I, 1e-4 * 0.01 * np.sinh(200.0), rtol=1e-12)  # the value is still exact


@pytest.mark.parametrize(
    "model", [iv.Sinh(0.001), iv.Asymmetric(0.25, 0.001), iv.Asymmetric(0.001, 0.25)], ids=repr
)
def test_overflow_is_an_error(model):
    with pytest.warns(UnitWarning), pytest.raises(ConfigError, match="overflows float64"):
        model.current_and_conductance(np.array([0.1, 2.0, -2.0]), 1e-4)


@pytest.mark.parametrize(
    "model",
    [iv.Linear(), iv.Sinh(30.0), iv.Asymmetric(30.0, 40.0), iv.Table([-1, 0, 1], [-1, 0, 1])],
    ids=repr,
)
def test_cell_voltage_in_millivolts_warns(model):
    with pytest.warns(UnitWarning, match="mV"):
        model.current(np.array([150.0]), 1e-4)


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_nan_and_inf_arguments_are_refused(model):
    with pytest.raises(ConfigError, match="NaN or inf"):
        model.current(np.array([0.1, np.nan]), 1e-4)
    with pytest.raises(ConfigError, match="NaN or inf"):
        model.conductance(0.1, np.inf)


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_plausible_arguments_are_quiet(model, recwarn):
    model.current_and_conductance(np.linspace(-3, 3, 61), 1e-4)
    assert not [w for w in recwarn if issubclass(w.category, UnitWarning)]


def test_crossbar_solves_are_not_checked_per_iterate(rng):
    """The solvers evaluate the cells unchecked (trial iterates may overshoot): a plausible solve
    raises no UnitWarning."""
    import warnings
    import xbar

    xb = xbar.Crossbar(
        rng.uniform(1e-5, 1e-4, (6, 5)), r_wordline=2.0, r_bitline=2.0, iv=iv.Sinh(0.1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        xb.read(np.full(6, 1.5))


@pytest.mark.parametrize("sel", SELECTORS, ids=repr)
def test_selector_alone_overflow_and_unit_slips(sel):
    np.testing.assert_allclose(
        sel.current(0.05),
        sel.i0 * (np.sinh(0.05 / sel.v0) if sel.kind == "sinh" else np.expm1(0.05 / sel.v0)),
    )
    with pytest.warns(UnitWarning, match="mV"), pytest.raises(ConfigError, match="overflows"):
        sel.current(np.array([0.1, 1000.0]))
    with pytest.raises(ConfigError, match="NaN or inf"):
        sel.current(np.nan)
