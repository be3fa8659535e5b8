"""Public extension points of AnalogLinear: ``calibrated``, ``set_weights``, ``channel_noise``
(``CellReadNoise``) and ``read_strategy`` (``ReadStrategy``)."""

from __future__ import annotations

import numpy as np
import pytest

from xbar.exceptions import ConfigError
from xbar.periphery import (
    ADC,
    AnalogLinear,
    ArrayConfig,
    CellReadNoise,
    ReadStrategy,
    WeightMapping,
)

ARRAY = ArrayConfig(max_rows=8, max_cols=6, r_wordline=1.0, r_bitline=1.0)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((5, 13)), rng.standard_normal((5, 13)), rng.uniform(-1, 1, (9, 13)))


def test_calibrated_property_follows_calibration():
    W, _, X = _data()
    layer = AnalogLinear(W, array=ARRAY, adc=ADC(range="calibrate"), random_state=0)
    assert not layer.calibrated
    with pytest.raises(ConfigError, match="calibrat"):
        layer(X)
    layer.calibrate(X)
    assert layer.calibrated
    assert AnalogLinear(W, array=ARRAY).calibrated


def test_set_weights_equals_a_layer_built_on_the_new_weights():
    W1, W2, X = _data()
    mapping = WeightMapping(w_max=4.0)
    layer = AnalogLinear(W1, array=ARRAY, mapping=mapping, random_state=3)
    fresh = AnalogLinear(W2, array=ARRAY, mapping=mapping, random_state=3)
    layer(X)  # caches built for W1 must not survive
    layer.set_weights(W2)
    for a, b in zip(layer.conductances(), fresh.conductances()):
        np.testing.assert_array_equal(a, b)
    for ta, tb in zip(layer.tiles, fresh.tiles):
        np.testing.assert_array_equal(ta.gains, tb.gains)  # gain rule re-applied
    np.testing.assert_array_equal(layer(X), fresh(X))
    np.testing.assert_array_equal(layer.W, W2)
    with pytest.raises(ConfigError, match="W"):
        layer.set_weights(W2[:, :-1])


def test_set_weights_write_hook_sees_targets_and_its_result_is_written():
    W1, W2, _ = _data()
    layer = AnalogLinear(W1, array=ARRAY, random_state=0)
    targets = layer.target_conductances(W2)
    seen = []

    def write(i, G):
        seen.append(i)
        np.testing.assert_array_equal(G, targets[i])
        return np.full_like(G, 2e-6)

    layer.set_weights(W2, write=write)
    assert seen == list(range(len(layer.tiles)))
    assert all(np.all(G == 2e-6) for G in layer.conductances())


def test_channel_noise_gets_the_exact_channel_currents_and_replaces_them():
    W, _, X = _data()
    calls = []

    def spy(tile, V, I):
        calls.append((tile, V.copy(), I.copy()))
        return I

    plain = AnalogLinear(W, array=ARRAY, random_state=1, read_method="solve")
    spied = AnalogLinear(W, array=ARRAY, random_state=1, read_method="solve", channel_noise=spy)
    np.testing.assert_array_equal(spied(X), plain(X))
    assert len(calls) == len(spied.tiles)
    for tile, V, I in calls:
        assert V.shape == (len(X), tile.G.shape[0]) and I.shape == (len(X), tile.n_channels)
        ref = tile.crossbar.read(V) @ tile.A  # independent: a plain crossbar read
        np.testing.assert_allclose(I, ref, rtol=1e-9, atol=1e-15)
    zero = AnalogLinear(W, array=ARRAY, random_state=1, channel_noise=lambda t, V, I: 0 * I)
    np.testing.assert_array_equal(zero(X), 0.0)
    with pytest.raises(ConfigError, match="channel_noise"):
        AnalogLinear(W, channel_noise=0.1)


def test_cell_read_noise_has_the_analytic_variance():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 6))
    layer = AnalogLinear(W, array=ArrayConfig(max_rows=8, max_cols=8), random_state=0)
    tile = layer.tiles[0]
    V = np.full((20000, 6), 0.1)
    I = np.zeros((20000, tile.n_channels))
    noisy = CellReadNoise(0.05, random_state=1)(tile, V, I)
    var = (0.1**2) * ((0.05 * np.asarray(tile.G)) ** 2).sum(0) @ (tile.A**2)
    np.testing.assert_allclose(noisy.var(axis=0), var, rtol=0.05)
    assert CellReadNoise(0.0)(tile, V, I) is I
    with pytest.raises(ConfigError, match="sigma"):
        CellReadNoise(-0.1)


def test_read_strategy_decides_and_solves_with_identical_results():
    W, _, X = _data()

    class Count(ReadStrategy):
        def __init__(self, maps):
            self.maps, self.solves = maps, 0

        def use_maps(self, layer, tile, batch):
            return self.maps

        def solve(self, layer, tile, V, phase):
            self.solves += 1
            return super().solve(layer, tile, V, phase)

    solve_only, maps_only = Count(False), Count(True)
    a = AnalogLinear(W, array=ARRAY, random_state=2, read_strategy=solve_only)
    b = AnalogLinear(W, array=ARRAY, random_state=2, read_strategy=maps_only)
    ref = AnalogLinear(W, array=ARRAY, random_state=2, read_method="solve")
    ya, yb, yr = a(X), b(X), ref(X)
    assert solve_only.solves == len(a.tiles) and maps_only.solves == 0
    np.testing.assert_array_equal(ya, yr)
    np.testing.assert_allclose(yb, yr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.ledger.total("read"), b.ledger.total("read"), rtol=1e-9)
    assert a.ledger.total("read") > 0
    with pytest.raises(ConfigError, match="read_strategy"):
        AnalogLinear(W, read_strategy=object())
