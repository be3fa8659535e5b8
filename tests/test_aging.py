"""program_relax_infer: program -> relax -> infer on an analog layer (sklearn digits)."""

from __future__ import annotations

import numpy as np
import pytest

from xbar.devices import presets
from xbar.exceptions import ConfigError
from xbar.periphery import AnalogLinear, program_relax_infer

MONTH = 2.6e6


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = datasets.load_digits(return_X_y=True)
    X = np.hstack([X / 16.0, np.ones((len(X), 1))])  # bias as a constant input
    clf = linear_model.LogisticRegression(max_iter=2000, fit_intercept=False).fit(
        X[:1200], y[:1200]
    )
    return clf.coef_, X[1200:], y[1200:]


def _accuracy(layer, X, y):
    return float(np.mean(np.argmax(layer(X), axis=1) == y))


def test_without_drift_accuracy_is_time_independent_and_that_of_the_programmed_layer(digits):
    W, X, y = digits
    n = len(presets.stanford_tech_b().drift_x)
    dev = presets.stanford_tech_b(
        drift_rate=(0.0,) * n, drift_sigma=(0.0,) * n, drift_L=(), drift_mean=(), drift_std=()
    )
    times = [0.0, 1.0, 1e3, MONTH]
    ref = AnalogLinear(W, device=dev, random_state=4)
    layer = AnalogLinear(W, device=dev, random_state=4)
    res = program_relax_infer(
        layer, X, y, times, device=dev, programming="exact", read_noise=False, random_state=0
    )
    np.testing.assert_array_equal(res.accuracy, _accuracy(ref, X, y))  # exact targets
    np.testing.assert_array_equal(res.spread, 0.0)
    # program-and-verify: the programming error stays, constant in time
    layer = AnalogLinear(W, device=dev, random_state=4)
    res = program_relax_infer(
        layer, X, y, times, device=dev, programming="verify", read_noise=False, random_state=1
    )
    assert res.converged > 0.99
    ref = AnalogLinear(W, device=dev, random_state=4)
    for i, G in enumerate(res.programmed):
        ref.set_conductances(i, G)
        assert not np.array_equal(G, layer.target_conductances(W)[i])  # verify is not exact
    ref.update_gains()  # the controller's gain rule, as after set_weights
    np.testing.assert_array_equal(res.accuracy, _accuracy(ref, X, y))


def test_reset_only_programming_applies_only_reset_pulses_and_errs_low(digits, monkeypatch):
    """programming='reset-only' (issue 13): from the formed state, RESET pulses with verify reads;
    accuracy vs time is reported like the other modes and its error is one-sided (below target)."""
    from xbar.devices.hfox import DeviceArray

    W, X, y = digits
    n = len(presets.stanford_tech_b().drift_x)
    dev = presets.stanford_tech_b(
        drift_rate=(0.0,) * n, drift_sigma=(0.0,) * n, drift_L=(), drift_mean=(), drift_std=()
    )
    polarities = {"verify": set(), "reset-only": set()}
    original = DeviceArray.apply_pulses
    errors = {}
    for programming, seen in polarities.items():

        def spy(self, amplitude, width, *args, _seen=seen, **kw):
            v = np.asarray(amplitude) * self.model.set_polarity
            _seen.update(np.unique(np.sign(v[v != 0])).tolist())
            return original(self, amplitude, width, *args, **kw)

        monkeypatch.setattr(DeviceArray, "apply_pulses", spy)
        layer = AnalogLinear(W, device=dev, random_state=4)
        targets = layer.target_conductances(W)
        res = program_relax_infer(
            layer,
            X,
            y,
            [0.0, 1e3, MONTH],
            device=dev,
            programming=programming,
            read_noise=False,
            random_state=1,
        )
        monkeypatch.setattr(DeviceArray, "apply_pulses", original)
        assert res.programming == programming and res.converged > 0.99
        np.testing.assert_array_equal(res.accuracy, res.accuracy[0])  # no drift
        exact = program_relax_infer(
            AnalogLinear(W, device=dev, random_state=4),
            X,
            y,
            [0.0],
            device=dev,
            programming="exact",
            read_noise=False,
            random_state=1,
        ).accuracy[0]
        assert abs(res.accuracy[0] - exact) < 0.03
        errors[programming] = np.concatenate(
            [(g - t).ravel() for g, t in zip(res.programmed, targets)]
        ) / (dev.g_max - dev.g_min)
        assert "programming: " + programming in str(res)
    assert polarities == {"verify": {-1.0, 1.0}, "reset-only": {-1.0}}  # SET = +1
    # conductances only fall: reset-only overshoots below the target, verify corrects both ways
    assert errors["reset-only"].mean() < 0
    assert np.mean(errors["reset-only"] < -0.02) > 2 * np.mean(errors["verify"] < -0.02)
    with pytest.raises(ConfigError, match="SET"):
        program_relax_infer(
            AnalogLinear(W, device=dev),
            X,
            y,
            [0.0],
            device=dev,
            programming="reset-only",
            program_options={"allow_set": True},
        )


def test_relaxation_follows_the_presets_tables(digits):
    W, X, y = digits
    dev = presets.stanford_tech_b()
    layer = AnalogLinear(W, device=dev, random_state=0)
    t1, t2 = 100.0, 1e4
    res = program_relax_infer(
        layer, X, y, [t1], device=dev, programming="exact", read_noise=False, random_state=2
    )
    G0 = np.concatenate([g.ravel() for g in res.programmed])
    G1 = np.concatenate([g.ravel() for g in layer.conductances()])
    # independent reference: the tables of the preset (mean and std of the shift relative to
    # the window at the clock knot of t1 = 100 s, a measured time) at each cell's programmed
    # state, linear between the level knots
    w = dev.g_max - dev.g_min
    xp = (G0 - dev.g_min) / w
    j = int(np.argmin(np.abs(np.asarray(dev.drift_L) - np.log10(1 + t1 / dev.drift_t0))))
    assert dev.drift_L[j] == pytest.approx(np.log10(1 + t1 / dev.drift_t0), rel=1e-4)
    mean = w * np.interp(xp, dev.drift_x, [row[j] for row in dev.drift_mean])
    std = w * np.interp(xp, dev.drift_x, [row[j] for row in dev.drift_std])
    inner = (xp > 0.15) & (xp < 0.85)  # far from the window's clipping edges
    assert inner.sum() > 200
    z = (G1 - G0 - mean)[inner] / std[inner]
    n = inner.sum()
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1) < 4 * np.sqrt(2 / n)
    # the spread over the cells grows with time: a trajectory 0 -> t1 -> t2
    layer = AnalogLinear(W, device=dev, random_state=0)
    res = program_relax_infer(
        layer,
        X,
        y,
        [0.0, t1, t2, MONTH],
        device=dev,
        programming="exact",
        read_noise=False,
        random_state=2,
    )
    assert res.spread[0] == 0 and np.all(np.diff(res.spread) > 0)
    np.testing.assert_allclose(res.spread[1], np.std(G1 - G0), rtol=1e-12)  # same stream


def test_accuracy_falls_with_time_in_expectation(digits):
    W, X, y = digits
    dev = presets.stanford_tech_b()
    times = [0.0, 100.0, MONTH]
    acc = []
    for seed in range(8):
        layer = AnalogLinear(W, device=dev, random_state=seed)
        acc.append(
            program_relax_infer(
                layer, X, y, times, device=dev, programming="verify", random_state=seed
            ).accuracy
        )
    mean = np.mean(acc, axis=0)
    sem = np.std(acc, axis=0, ddof=1) / np.sqrt(len(acc))
    assert mean[0] > mean[1] > mean[2]
    assert mean[0] - mean[2] > 3 * np.hypot(sem[0], sem[2])


def test_program_relax_infer_validates_its_inputs(digits):
    W, X, y = digits
    dev = presets.stanford_tech_b()
    layer = AnalogLinear(W, device=dev)
    with pytest.raises(ConfigError, match="times"):
        program_relax_infer(layer, X, y, [10.0, 1.0], device=dev)
    with pytest.raises(ConfigError, match="y must"):
        program_relax_infer(layer, X, y + 10, [1.0], device=dev)
    with pytest.raises(ConfigError, match="X must"):
        program_relax_infer(layer, X[:, :-1], y, [1.0], device=dev)
    with pytest.raises(ConfigError, match="window"):
        program_relax_infer(AnalogLinear(W, device=(1e-6, 2e-4)), X, y, [1.0], device=dev)
    with pytest.raises(ConfigError, match="programming"):
        program_relax_infer(layer, X, y, [1.0], device=dev, programming="reset")
    with pytest.raises(ConfigError, match="device"):
        program_relax_infer(layer, X, y, [1.0], device=(1e-6, 1e-5))


def test_age_layer_writes_the_aged_devices_and_checks_its_inputs(digits):
    from xbar.periphery.aging import age_layer, sample_devices

    W, _, _ = digits
    dev = presets.stanford_tech_b()
    layer = AnalogLinear(W, device=dev)
    devs = sample_devices(layer, dev, random_state=0)
    for d, tile in zip(devs, layer.tiles):
        d.set_state(np.asarray(tile.G))
    before = layer.conductances()
    age_layer(layer, devs, 60.0)
    for d, g0, g1 in zip(devs, before, layer.conductances()):
        np.testing.assert_array_equal(g1, d.G)
        assert not np.array_equal(g0, g1)
        np.testing.assert_array_equal(d.t_since_programming, 60.0)
    with pytest.raises(ConfigError, match="one array per tile"):
        age_layer(layer, devs + devs, 1.0)
    with pytest.raises(ConfigError, match="t_seconds"):
        age_layer(layer, devs, -1.0)
    with pytest.raises(ConfigError, match="relaxation"):
        sample_devices(layer, (1e-6, 1e-5))


@pytest.mark.parametrize("g0", [0.8e-6, 20e-6])  # C level 0 (clipped at g_min) and mid-window
def test_ageing_in_one_call_or_several_gives_one_distribution(g0):
    """The relaxation shift is a walk with independent increments and G = clip(G_prog + shift):
    ageing to 1e5 s in one call or in five gives the same distribution, also at a level the
    window clips (clipping each call's result, as before, raised the mean there)."""
    from scipy import stats

    dev = presets.stanford_tech_c()
    n = 40000
    one = dev.sample(n, random_state=0)
    one.set_state(g0)
    one.age(1e5)
    several = dev.sample(n, random_state=1)
    several.set_state(g0)
    for t in (0.01, 0.99, 3.0, 996.0, 1e5 - 1000.0):
        several.age(t)
    assert several.t_since_programming.flat[0] == pytest.approx(1e5)
    a, b = one.G.ravel(), several.G.ravel()
    sem = np.hypot(a.std(), b.std()) / np.sqrt(n)
    assert abs(a.mean() - b.mean()) < 4 * sem
    assert stats.ks_2samp(a, b).pvalue > 1e-3


def test_ageing_follows_the_tables_at_their_knots():
    """At a measured time (a knot of drift_L) the unclipped mean and std of the shift are the
    table values of the level (PCHIP passes through its knots)."""
    dev = presets.stanford_tech_b()
    n, k, j = 40000, 16, 3  # a mid-window level, t = 100 s
    w = dev.g_max - dev.g_min
    g0 = dev.g_min + dev.drift_x[k] * w
    arr = dev.sample(n, random_state=2)
    arr.set_state(g0)
    t = dev.drift_t0 * (10 ** dev.drift_L[j] - 1)
    arr.age(t)
    shift = arr.G.ravel() - g0
    sd = dev.drift_std[k][j] * w
    assert abs(shift.mean() - dev.drift_mean[k][j] * w) < 4 * sd / np.sqrt(n)
    assert shift.std() == pytest.approx(sd, rel=0.03)
