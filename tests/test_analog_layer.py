"""AnalogLinear: ideal limit, circuit accuracy against an independent nodal solve, ADC effects,
encodings, energy booking and conductance access."""

from __future__ import annotations

import numpy as np
import pytest

import xbar
from xbar.exceptions import ConfigError
from xbar.periphery import ADC, DAC, TIA, AnalogLinear, ArrayConfig, ConductanceRange, WeightMapping
from xbar.pulses import EnergyLedger

IDEAL_ARRAY = dict(r_wordline=0.0, r_bitline=0.0)


def _ideal_layer(W, **kw):
    kw.setdefault("array", ArrayConfig(max_rows=5, max_cols=6, **IDEAL_ARRAY))
    kw.setdefault("dac", DAC(bits=None, r_driver=0.0))
    kw.setdefault("adc", ADC(bits=None))
    kw.setdefault("tia", TIA(r_in=0.0))
    return AnalogLinear(W, **kw)


def _data(seed=0, n_out=7, n_in=11, batch=40):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_out, n_in)), rng.uniform(-1, 1, size=(batch, n_in))


def _nodal_read(G, v, r_w, r_b, r_d, r_s):
    """Independent dense nodal analysis of a crossbar read (the circuit conventions of the README), A."""
    M, N = G.shape
    n = 2 * M * N
    A = np.zeros((n, n))
    rhs = np.zeros((n, v.shape[0]))
    wi = lambda i, j: i * N + j  # noqa: E731
    bi = lambda i, j: M * N + i * N + j  # noqa: E731

    def stamp(p, q, g):
        A[p, p] += g
        A[q, q] += g
        A[p, q] -= g
        A[q, p] -= g

    for i in range(M):
        for j in range(N):
            stamp(wi(i, j), bi(i, j), G[i, j])
            if j < N - 1:
                stamp(wi(i, j), wi(i, j + 1), 1 / r_w)
            if i < M - 1:
                stamp(bi(i, j), bi(i + 1, j), 1 / r_b)
        A[wi(i, 0), wi(i, 0)] += 1 / r_d
        rhs[wi(i, 0)] = v[:, i] / r_d
    for j in range(N):
        A[bi(M - 1, j), bi(M - 1, j)] += 1 / r_s
    x = np.linalg.solve(A, rhs)
    return np.stack([x[bi(M - 1, j)] / r_s for j in range(N)], axis=1)


# ---------------------------------------------------------------- ideal limit
@pytest.mark.parametrize("read_method", ["transfer", "solve"])
@pytest.mark.parametrize(
    "mapping",
    [WeightMapping(), WeightMapping(scheme="reference"), WeightMapping(subtract="digital")],
)
def test_ideal_periphery_equals_matmul(read_method, mapping):
    W, x = _data()
    layer = _ideal_layer(W, mapping=mapping, read_method=read_method)
    assert len(layer.tiles) > 2  # the partial sums of several tiles are added
    y = layer(x)
    ref = x @ W.T
    assert np.max(np.abs(y - ref)) <= 1e-12 * np.max(np.abs(ref))
    np.testing.assert_allclose(layer.ideal(x), ref)
    np.testing.assert_allclose(layer(x[0]), ref[0], rtol=0, atol=1e-12 * np.abs(ref).max())


def test_ideal_periphery_with_bit_slices_equals_the_stored_weights():
    W, x = _data(1)
    layer = _ideal_layer(
        W,
        mapping=WeightMapping(slices=2, bits_per_slice=3),
        array=ArrayConfig(max_rows=4, max_cols=8, **IDEAL_ARRAY),
    )
    We = layer.effective_weights()
    assert np.max(np.abs(We - W)) <= np.abs(W).max() / 63 / 2 + 1e-12
    ref = x @ We.T
    assert np.max(np.abs(layer(x) - ref)) <= 1e-12 * np.abs(ref).max()


# ---------------------------------------------------------------- circuit accuracy
@pytest.mark.parametrize("read_method", ["transfer", "solve"])
def test_layer_with_wires_matches_an_independent_nodal_solve(read_method):
    W, x = _data(2, n_out=3, n_in=5, batch=6)
    r_w, r_d, r_s = 50.0, 200.0, 300.0  # strong IR drop so that the check can fail
    layer = AnalogLinear(
        W,
        array=ArrayConfig(max_rows=3, max_cols=4, r_wordline=r_w, r_bitline=r_w),
        dac=DAC(bits=None, r_driver=r_d),
        adc=ADC(bits=None),
        tia=TIA(r_in=r_s, v_swing=1e3),
        read_method=read_method,
    )
    y = layer(x)
    ref = np.zeros_like(y)
    V = x * layer.dac.v_read
    for t in layer.tiles:
        I = _nodal_read(np.asarray(t.G), V[:, t.spec.rows], r_w, r_w, r_d, r_s)
        ref[:, t.spec.outputs] += (I @ t.A) @ t.D
    ref *= layer.dac.scale
    np.testing.assert_allclose(y, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    err = np.abs(y - x @ W.T).max() / np.abs(x @ W.T).max()
    assert err > 1e-3  # the wires do change the result


def test_transfer_and_solve_paths_agree_in_outputs_and_read_energy():
    W, x = _data(3, n_out=4, n_in=9, batch=12)
    kw = dict(
        array=ArrayConfig(max_rows=5, max_cols=6, r_wordline=5.0, r_bitline=5.0),
        dac=DAC(bits=6),
        adc=ADC(bits=None),
        random_state=0,
    )
    a = AnalogLinear(W, read_method="transfer", **kw)
    b = AnalogLinear(W, read_method="solve", **kw)
    # per-read PCG solves stop at ||f - A x|| <= 1e-12 ||f||; on these small arrays with strong
    # driver terms that leaves ~1e-8 relative error in the column currents
    ya = a(x)
    np.testing.assert_allclose(ya, b(x), rtol=1e-7, atol=1e-7 * np.abs(ya).max())
    for cat in ("read", "dac", "tia", "adc"):
        assert a.ledger.total(cat) == pytest.approx(b.ledger.total(cat), rel=1e-7)
    for comp in ("drivers", "sense"):
        assert a.ledger.total("read", component=comp) == pytest.approx(
            b.ledger.total("read", component=comp), rel=1e-7
        )
    cells_wires = sum(b.ledger.total("read", component=c) for c in ("cells", "access", "wires"))
    assert a.ledger.total("read", component="array") == pytest.approx(cells_wires, rel=1e-7)
    assert b.ledger.total("read", component="wires") > 0


# ---------------------------------------------------------------- energy
def test_read_energy_of_an_ideal_array_is_sum_of_v2_g_t():
    W, x = _data(4)
    layer = _ideal_layer(W, dac=DAC(bits=None, r_driver=0.0, t_read=50e-9))
    layer(x)
    V = x * layer.dac.v_read
    want = sum(((V[:, t.spec.rows] ** 2) @ np.asarray(t.G)).sum() for t in layer.tiles) * 50e-9
    assert layer.ledger.total("read") == pytest.approx(want, rel=1e-12)


def test_peripheral_energy_counts_and_defaults():
    W, x = _data(5, n_out=6, n_in=10, batch=8)
    ledger = EnergyLedger()
    dac = DAC(bits=4, encoding="bit_serial", t_read=20e-9)
    adc = ADC(bits=5)
    layer = AnalogLinear(
        W, array=ArrayConfig(max_rows=4, max_cols=8), dac=dac, adc=adc, ledger=ledger, name="fc1"
    )
    with ledger.tags(step=3):
        layer(x)
    reads = 4  # one per input bit
    # every word line of every tile (each array has its own drivers): 10 inputs x 2 column blocks
    lines = reads * x.shape[0] * sum(t.spec.rows.stop - t.spec.rows.start for t in layer.tiles)
    assert lines == reads * 8 * 10 * 2
    n_ch = sum(t.n_channels for t in layer.tiles)
    conv = reads * x.shape[0] * n_ch
    assert ledger.count("dac") == lines
    assert ledger.total("dac") == pytest.approx(lines * 3.89e-6 * 20e-9)
    assert ledger.count("adc") == conv
    assert ledger.total("adc") == pytest.approx(conv * 2.1e-12)
    assert ledger.total("tia") == pytest.approx(conv * 9.7e-9 * 20e-9)
    assert ledger.samples == 8
    assert set(ledger.totals("layer")) == {"fc1"}
    assert ledger.total(step=3) == pytest.approx(ledger.total())
    assert layer.read_time() == pytest.approx(4 * (20e-9 + 1e-9))
    quiet = AnalogLinear(W, energy=False)
    quiet(x)
    assert quiet.ledger.total() == 0.0 and quiet.ledger.samples == 0


def test_pulse_width_energy_on_an_ideal_array():
    W, x = _data(6, batch=10)
    dac = DAC(bits=3, encoding="pulse_width", r_driver=0.0)
    for method in ("transfer", "solve"):
        layer = _ideal_layer(W, dac=dac, read_method=method)
        y = layer(x)
        # each cell sees v_read for |code| / L of the window
        codes = np.round(np.abs(x) * 7)
        want = (
            sum(((codes[:, t.spec.rows] / 7 * 0.2**2) @ np.asarray(t.G)).sum() for t in layer.tiles)
            * dac.t_read
        )
        assert layer.ledger.total("read") == pytest.approx(want, rel=1e-12)
        xq = dac.quantize(x)
        np.testing.assert_allclose(y, xq @ W.T, rtol=0, atol=1e-12 * np.abs(xq @ W.T).max())


# ---------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    "encoding, signed",
    [
        ("bit_serial", "bipolar"),
        ("bit_serial", "two_phase"),
        ("pulse_width", "bipolar"),
        ("amplitude", "two_phase"),
    ],
)
def test_encodings_equal_amplitude_for_linear_arrays(encoding, signed):
    W, x = _data(7, n_out=4, n_in=8, batch=9)
    kw = dict(
        array=ArrayConfig(max_rows=5, max_cols=6, r_wordline=3.0, r_bitline=3.0),
        adc=ADC(bits=None),
        tia=TIA(v_swing=1e3),
    )
    ref = AnalogLinear(W, dac=DAC(bits=5), **kw)(x)
    for method in ("transfer", "solve"):
        got = AnalogLinear(
            W, dac=DAC(bits=5, encoding=encoding, signed=signed), read_method=method, **kw
        )(x)
        # 1e-7: PCG tolerance of the per-read solves (see the test above)
        np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-12 * np.abs(ref).max())


# ---------------------------------------------------------------- ADC in the layer
def test_adc_error_bounded_by_half_lsb_per_channel():
    W, x = _data(8, batch=200)
    kw = dict(array=ArrayConfig(max_rows=6, max_cols=6), dac=DAC(bits=None))
    exact = AnalogLinear(W, adc=ADC(bits=None), **kw)(x)
    layer = AnalogLinear(W, adc=ADC(bits=6), **kw)
    y = layer(x)
    bound = np.zeros(W.shape[0])
    for t in layer.tiles:
        lsb = (t.hi - t.lo) / 63
        bound[t.spec.outputs] += (lsb / 2 / t.gains) @ np.abs(t.D)
    bound *= layer.dac.scale
    err = np.abs(y - exact)
    assert np.all(err <= bound * (1 + 1e-9))
    assert err.max() > 0.2 * bound.max()  # the quantization is really there
    assert layer.stats["adc_clipped"] == 0


def test_calibrated_ranges_reduce_error_on_a_held_out_batch():
    rng = np.random.default_rng(9)
    W = rng.standard_normal((8, 30))
    x_cal, x_test = rng.uniform(-1, 1, (300, 30)), rng.uniform(-1, 1, (200, 30))
    kw = dict(array=ArrayConfig(max_rows=32, max_cols=8), dac=DAC(bits=None))
    ref = AnalogLinear(W, adc=ADC(bits=None), **kw)(x_test)
    errs = {}
    for mode in ("full", "calibrate", "percentile"):
        layer = AnalogLinear(W, adc=ADC(bits=5, range=mode, percentile=99.5), **kw)
        if mode != "full":
            with pytest.raises(ConfigError, match="calibrate"):
                layer(x_test)
            layer.calibrate(x_cal)
            assert layer.ledger.count("adc", operation="calibrate") == 0
            assert layer.ledger.total("read", operation="calibrate") > 0
        errs[mode] = np.sqrt(np.mean((layer(x_test) - ref) ** 2))
    assert errs["calibrate"] < 0.5 * errs["full"]
    assert errs["percentile"] < 0.5 * errs["full"]
    # set_adc swaps the converter in place; calibrated modes ask for calibration again
    layer.set_adc(ADC(bits=None))
    np.testing.assert_allclose(layer(x_test), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    layer.set_adc(ADC(bits=5, range="calibrate"))
    with pytest.raises(ConfigError, match="calibrate"):
        layer(x_test)


def test_adc_noise_and_converter_errors_are_seeded():
    W, x = _data(10)
    adc = ADC(bits=8, noise_std=1.0, gain_std=0.02, offset_std=1.0, columns_per_adc=2)
    a = AnalogLinear(W, adc=adc, random_state=1)(x)
    b = AnalogLinear(W, adc=adc, random_state=1)(x)
    c = AnalogLinear(W, adc=adc, random_state=2)(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------- conductances
def test_conductance_pairs_round_trip_and_invalidate_caches():
    W, x = _data(11, n_out=5, n_in=9, batch=30)
    # a fixed TIA gain: the automatic one would saturate at the initial weights' largest current
    layer = _ideal_layer(
        W,
        array=ArrayConfig(max_rows=4, max_cols=4, **IDEAL_ARRAY),
        device=ConductanceRange(2e-6, 40e-6),
        tia=TIA(r_in=0.0, gain=1e3),
    )
    gp, gm = layer.conductance_pairs()
    assert gp.shape == gm.shape == (9, 5)
    np.testing.assert_allclose((gp - gm).T / layer.siemens_per_weight, W, atol=1e-12)
    y0 = layer(x)  # builds the transfer caches
    np.testing.assert_allclose(y0, x @ W.T, atol=1e-12 * np.abs(y0).max())
    # lower some weights by raising G- (as a training update would)
    gm2 = gm.copy()
    gm2[::2] += 5e-6
    layer.set_conductance_pairs(gp, gm2)
    W2 = W - (gm2 - gm).T / layer.siemens_per_weight
    np.testing.assert_allclose(layer.effective_weights(), W2, atol=1e-12)
    y1 = layer(x)
    np.testing.assert_allclose(y1, x @ W2.T, atol=1e-12 * np.abs(y1).max())
    # a write straight into one tile's crossbar is seen too
    G = layer.conductances()[0]
    G[0, 0] += 1e-6
    layer.set_conductances(0, G)
    assert not np.allclose(layer(x), y1)
    with pytest.raises(ConfigError, match="index must be"):
        layer.set_conductances(99, G)
    with pytest.raises(ConfigError, match="G_plus must have shape"):
        layer.set_conductance_pairs(gp[:2], gm)
    with pytest.raises(ConfigError, match="differential"):
        _ideal_layer(W, mapping=WeightMapping(scheme="reference")).conductance_pairs()


# ---------------------------------------------------------------- bad input
def test_bad_input_gets_clear_errors():
    W, x = _data(12)
    Wn = W.copy()
    Wn[1, 2] = np.nan
    with pytest.raises(ConfigError, match="W contains NaN"):
        AnalogLinear(Wn)
    with pytest.raises(ConfigError, match="W must be a non-empty 2-D"):
        AnalogLinear(W[0])
    layer = AnalogLinear(W, array=ArrayConfig(max_rows=6, max_cols=6))
    with pytest.raises(ConfigError, match=r"x must have shape \(11,\) or \(B, 11\)"):
        layer(x[:, :5])
    xn = x.copy()
    xn[0, 0] = np.inf
    with pytest.raises(ConfigError, match="x contains"):
        layer(xn)
    with pytest.raises(ConfigError, match="bits must be >= 1"):
        AnalogLinear(W, adc=ADC(bits=0))
    with pytest.raises(ConfigError, match="lo < hi"):
        AnalogLinear(W, adc=ADC(range=(0.5, -0.5)))
    with pytest.raises(ConfigError, match="dac must be a DAC"):
        AnalogLinear(W, dac=ADC())
    with pytest.raises(ConfigError, match="read_method must be one of"):
        AnalogLinear(W, read_method="fast")
    with pytest.raises(ConfigError, match="ledger must be an EnergyLedger"):
        AnalogLinear(W, ledger={})
    with pytest.raises(ConfigError, match="adc must be an ADC"):
        layer.set_adc(DAC())


def test_top_level_exports():
    assert xbar.AnalogLinear is AnalogLinear
    assert xbar.EnergyLedger is EnergyLedger


def test_tia_auto_gain_from_weights_or_window():
    W, x = _data(13, n_out=4, n_in=6, batch=50)
    kw = dict(
        array=ArrayConfig(max_rows=6, max_cols=8, **IDEAL_ARRAY),
        dac=DAC(bits=None, r_driver=0.0),
        adc=ADC(bits=None),
        device=ConductanceRange(1e-6, 11e-6),
    )
    by_w = AnalogLinear(W, tia=TIA(r_in=0.0), **kw)
    by_win = AnalogLinear(W, tia=TIA(r_in=0.0, auto_gain="window"), **kw)
    (t,) = by_w.tiles
    # weights: the largest |I+ - I-| at |v| = v_read; window: all rows at the full window
    np.testing.assert_allclose(
        1.0 / by_w.tiles[0].gains, 0.2 * np.abs(np.asarray(t.G) @ t.A).sum(0) / 1.0
    )
    np.testing.assert_allclose(1.0 / by_win.tiles[0].gains, np.full(4, 0.2 * 6 * 10e-6))
    # raising every weight to the maximum saturates the weight-based gain, not the window one
    gp, gm = by_w.conductance_pairs()
    for layer in (by_w, by_win):
        layer.set_conductance_pairs(np.full_like(gp, 11e-6), np.full_like(gm, 1e-6))
    xp = np.abs(x)
    ref = xp @ np.full(W.shape, by_w.w_max).T
    np.testing.assert_allclose(by_win(xp), ref, rtol=1e-12)
    assert by_w(xp).max() < 0.9 * ref.max() and by_w.stats["tia_saturated"] > 0
    by_w.update_gains()
    np.testing.assert_allclose(by_w(xp), ref, rtol=1e-12)
    with pytest.raises(ConfigError, match="auto_gain must be one of"):
        TIA(auto_gain="max")


def test_1t1r_cells_add_the_access_resistance_in_series():
    W, x = _data(14, n_out=3, n_in=5, batch=7)
    r_acc = 20e3
    layer = _ideal_layer(
        W,
        array=ArrayConfig(max_rows=8, max_cols=8, cell="1T1R", r_access=r_acc, **IDEAL_ARRAY),
        tia=TIA(r_in=0.0, gain=1e3),
    )
    (t,) = layer.tiles
    G = np.asarray(t.G)
    g_eff = G / (1 + G * r_acc)  # series access transistor
    want = ((x * layer.dac.v_read) @ g_eff @ t.A @ t.D) * layer.dac.scale
    np.testing.assert_allclose(layer(x), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    solved = _ideal_layer(W, array=layer.array, tia=TIA(r_in=0.0, gain=1e3), read_method="solve")
    np.testing.assert_allclose(solved(x), want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
    assert solved.ledger.total("read", component="access") > 0


# ---------------------------------------------------------------- nonlinear cells
def _sinh_layers(v_read, iv):
    W, x = _data(5, n_out=4, n_in=6, batch=8)
    arr = dict(max_rows=6, max_cols=8, r_wordline=1.0, r_bitline=1.0)
    common = dict(
        dac=DAC(bits=None, r_driver=5.0, v_read=v_read), adc=ADC(bits=None), tia=TIA(r_in=5.0)
    )
    lin = AnalogLinear(W, array=ArrayConfig(**arr), **common)
    nl = AnalogLinear(W, array=ArrayConfig(**arr, crossbar_options={"iv": iv}), **common)
    return lin(x), nl(x), nl


def test_nonlinear_cells_small_signal_limit_and_direction():
    """Sinh cells: equal to linear cells at tiny read voltages, stronger currents at large ones."""
    lin, nl, layer = _sinh_layers(1e-4, xbar.iv.Sinh(0.25))
    assert not layer._linear
    assert np.abs(nl - lin).max() <= 1e-6 * np.abs(lin).max()
    lin, nl, _ = _sinh_layers(0.5, xbar.iv.Sinh(0.25))
    assert np.abs(nl - lin).max() > 1e-2 * np.abs(lin).max()


def test_linear_model_object_keeps_the_fast_path():
    _, _, layer = _sinh_layers(0.2, xbar.iv.Linear())
    assert layer._linear


def test_analog_layer_parallel_maps_equal_serial(rng):
    """Several tiles: outputs and booked read energy identical with 1 and 2 map workers."""
    W = rng.uniform(-1, 1, (30, 70))
    x = rng.uniform(0, 1, (40, 70))
    kw = dict(
        array=ArrayConfig(max_rows=32, max_cols=24, r_wordline=1.0, r_bitline=1.0),
        read_method="transfer",
        random_state=3,
    )
    serial = AnalogLinear(W, n_threads=1, **kw)
    threaded = AnalogLinear(W, n_threads=2, **kw)
    assert len(serial.tiles) >= 6
    assert np.array_equal(serial(x), threaded(x))
    assert serial.ledger.total() == threaded.ledger.total()
    for a, b in zip(serial.tiles, threaded.tiles):
        assert np.array_equal(a.linear_maps(True)["Q_total"], b.linear_maps(True)["Q_total"])
    with pytest.raises(ConfigError, match="n_threads"):
        AnalogLinear(W, n_threads=0)


def test_map_workers_is_a_deprecated_name_of_n_threads():
    W = np.random.default_rng(0).uniform(-1, 1, (4, 6))
    with pytest.warns(DeprecationWarning, match="n_threads"):
        layer = AnalogLinear(W, map_workers=1)
    assert layer.n_threads == 1
    with pytest.warns(DeprecationWarning, match="n_threads"):
        assert layer.map_workers == 1


def test_1t1r_layer_maps_weights_onto_what_the_cells_conduct():
    """Before: the mapping targeted the memristor window and ignored the access transistor, so a
    1T1R layer with a 15 kOhm transistor beside 9-580 uS memristors read 88 % off x @ W.T."""
    from xbar.circuit.crossbar import memristor_for_series, series_conductance

    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, (8, 20))
    x = rng.uniform(0, 1, (50, 20))
    arr = ArrayConfig(cell="1T1R", r_access=15e3, r_wordline=0.0, r_bitline=0.0)
    layer = AnalogLinear(W, device=(9.1e-6, 580e-6), array=arr, random_state=0)
    ref = x @ W.T
    err = np.sqrt(np.mean((layer(x) - ref) ** 2) / np.mean(ref**2))
    assert err < 0.03  # 8-bit converters; was 0.88
    np.testing.assert_allclose(layer.effective_weights(), W, atol=1e-12)
    # the written memristors conduct, with their transistors, exactly the mapped cell values
    g_cell = series_conductance(layer.tiles[0].G, 15e3)
    assert g_cell.max() <= layer.read_window.g_max * (1 + 1e-12)
    np.testing.assert_allclose(memristor_for_series(g_cell, 15e3), layer.tiles[0].G, rtol=1e-12)
    with pytest.raises(ConfigError, match="1/r_access"):
        memristor_for_series(np.array([1 / 15e3]), 15e3)
