"""DAC, ADC (Cython quantizer), TIA, weight mapping and tiling, against independent references."""

from __future__ import annotations

import numpy as np
import pytest

from xbar.exceptions import ConfigError
from xbar.periphery import (
    ADC,
    DAC,
    TIA,
    ArrayConfig,
    ConductanceRange,
    WeightMapping,
    effective_weights,
    murmann_energy,
    plan_tiles,
    quantize,
)
from xbar.periphery.mapping import conductance_range


# ---------------------------------------------------------------- quantizer / ADC
def _ref_quantize(x, lo, hi, bits):
    """Independent reference: nearest of the 2**bits equally spaced levels from lo to hi."""
    levels = lo[None, :, None] + (hi - lo)[None, :, None] * np.linspace(0, 1, 2**bits)
    xc = np.clip(x, lo, hi)[..., None]
    return np.take_along_axis(
        levels.repeat(x.shape[0], 0), np.abs(levels - xc).argmin(axis=-1)[..., None], -1
    )[..., 0]


@pytest.mark.parametrize("bits", [1, 3, 6])
def test_quantizer_half_lsb_inside_range_and_clips_outside(bits):
    rng = np.random.default_rng(bits)
    lo, hi = np.array([-1.0, 0.0, -0.2]), np.array([1.0, 0.5, 3.0])
    x = rng.uniform(lo - 0.5, hi + 0.5, size=(2000, 3))
    out, n_low, n_high = quantize(x, lo, hi, bits, zero_code=False)
    lsb = (hi - lo) / (2**bits - 1)
    inside = (x >= lo) & (x <= hi)
    assert np.all(np.abs(out - x)[inside] <= (lsb / 2 * (1 + 1e-12) + 1e-15)[np.nonzero(inside)[1]])
    assert np.array_equal(out[x < lo], np.broadcast_to(lo, x.shape)[x < lo])
    assert np.array_equal(out[x > hi], np.broadcast_to(hi, x.shape)[x > hi])
    assert n_low == np.count_nonzero(x < lo) and n_high == np.count_nonzero(x > hi)
    np.testing.assert_allclose(out, _ref_quantize(x, lo, hi, bits), rtol=0, atol=1e-12)
    # range ends are exact codes
    ends, _, _ = quantize(np.stack([lo, hi]), lo, hi, bits, zero_code=False)
    np.testing.assert_array_equal(ends, np.stack([lo, hi]))


@pytest.mark.parametrize("bits", [1, 3, 6, 8])
def test_mid_tread_quantizer_has_an_exact_zero_code(bits):
    """Default grid: 0 V is a code, 2**bits codes one LSB apart, error <= lsb/2 inside the range
    (also at the clipped ends), outputs are the nearest code (brute-force reference)."""
    rng = np.random.default_rng(bits)
    lo, hi = np.array([-1.0, 0.0, -0.2, 0.3]), np.array([1.0, 0.5, 3.0, 0.9])
    x = rng.uniform(lo - 0.5, hi + 0.5, size=(2000, 4))
    x[:5] = 0.0
    out, n_low, n_high = quantize(x, lo, hi, bits)
    lsb = (hi - lo) / (2**bits - 1)
    xc = np.clip(x, lo, hi)
    assert np.all(np.abs(out - xc) <= lsb / 2 * (1 + 1e-9))
    assert n_low == np.count_nonzero(x < lo) and n_high == np.count_nonzero(x > hi)
    codes = out / lsb
    np.testing.assert_allclose(codes, np.round(codes), atol=1e-6)  # on the k * lsb grid
    for k in range(4):
        used = np.unique(np.round(codes[:, k]))
        assert used.max() - used.min() <= 2**bits - 1  # at most 2**bits codes
        # brute force: nearest multiple of lsb among the 2**bits codes the grid holds
        # (a tie -- x half-way between two codes, e.g. a clipped end -- may go either way)
        grid = lsb[k] * (np.floor(lo[k] / lsb[k] + 0.5) + np.arange(-1, 2**bits + 1))
        d = np.abs(grid[None, :] - xc[:, k, None])
        ref = grid[d.argmin(axis=1)]
        d.sort(axis=1)
        clear = d[:, 1] - d[:, 0] > 1e-9 * lsb[k]
        np.testing.assert_allclose(out[clear, k], ref[clear], rtol=0, atol=1e-12 * lsb[k])
    zero_inside = (lo <= 0) & (hi >= 0)
    assert np.all(out[:5, zero_inside] == 0.0)  # exactly zero
    # the ends-exact grid does not hold 0 for an even number of codes on a symmetric range
    mid_rise, _, _ = quantize(np.zeros((1, 1)), -1.0, 1.0, bits, zero_code=False)
    assert abs(mid_rise[0, 0]) == pytest.approx(1.0 / (2**bits - 1))


def test_quantizer_gain_offset_and_bad_input():
    x = np.array([[0.1, 0.2]])
    out, _, _ = quantize(x, -1.0, 1.0, 12, gain=[2.0, 1.0], offset=[0.0, 0.3])
    np.testing.assert_allclose(out, [[0.2, 0.5]], atol=1 / 4095)
    with pytest.raises(ConfigError, match="lo < hi"):
        quantize(x, 1.0, 0.0, 4)
    with pytest.raises(ConfigError, match="bits must be >= 1"):
        quantize(x, -1.0, 1.0, 0)
    with pytest.raises(ConfigError, match="NaN"):
        quantize([[np.nan]], -1.0, 1.0, 4)
    with pytest.raises(ConfigError, match="2-D"):
        quantize([0.1], -1.0, 1.0, 4)


def test_adc_energy_defaults_follow_the_documented_murmann_law():
    assert murmann_energy(5) == pytest.approx(2.1e-12)
    assert murmann_energy(8) == pytest.approx(9.1e-12)
    # geometric interpolation: equal ratio per bit
    r = [murmann_energy(b + 1) / murmann_energy(b) for b in range(3, 12)]
    assert np.allclose(r, (9.1 / 2.1) ** (1 / 3))
    assert ADC(bits=8).conversion_energy() == pytest.approx(9.1e-12)
    assert ADC(bits=None).conversion_energy() == 0.0
    assert ADC(bits=4, energy_per_conversion=1e-13).conversion_energy() == 1e-13
    assert ADC(columns_per_adc=8, t_conversion=2e-9).readout_time() == pytest.approx(16e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bits=0), "bits must be >= 1"),
        (dict(bits=2.5), "bits must be an integer"),
        (dict(range=(1.0, 0.0)), "lo < hi"),
        (dict(range=(0.5, 0.5)), "lo < hi"),
        (dict(range="auto"), "range must be one of"),
        (dict(range=(0, np.nan)), "finite lo < hi"),
        (dict(percentile=40.0), "percentile must be >"),
        (dict(noise_std=-1.0), "noise_std"),
        (dict(columns_per_adc=0), "columns_per_adc"),
        (dict(energy_per_conversion=-1.0), "energy"),
    ],
)
def test_adc_rejects_bad_configuration(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ADC(**kwargs)


def test_adc_converter_errors_shared_by_multiplexed_channels():
    adc = ADC(gain_std=0.01, offset_std=0.5, columns_per_adc=4)
    g, o = adc.converter_errors(10, random_state=3)
    assert g.shape == o.shape == (10,)
    for s in (0, 4, 8):
        assert np.all(g[s : s + 4] == g[s]) and np.all(o[s : s + 4] == o[s])
    assert len(np.unique(g)) == 3
    g2, _ = adc.converter_errors(10, random_state=3)
    np.testing.assert_array_equal(g, g2)
    assert np.all(ADC().converter_errors(5, 0)[0] == 1.0)


def test_adc_noise_statistics_and_seeding():
    adc = ADC(bits=16, noise_std=2.0)
    v = np.zeros((20000, 2))
    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    lsb = 2.0 / (2**16 - 1)
    out, _ = adc.convert(v, lo, hi, random_state=5)
    # Gaussian noise of 2 LSB plus uniform quantization (1/12 LSB^2); zero sits mid-code here
    assert np.std(out) / lsb == pytest.approx(np.sqrt(4 + 1 / 12), rel=0.03)
    out2, _ = adc.convert(v, lo, hi, random_state=5)
    np.testing.assert_array_equal(out, out2)
    assert not np.array_equal(out, adc.convert(v, lo, hi, random_state=6)[0])


def test_adc_ranges_from_calibration_samples():
    rng = np.random.default_rng(0)
    s = rng.normal(0, [0.1, 0.3], size=(5000, 2))
    lo, hi = ADC(range="calibrate").ranges_from(s, 10.0)
    np.testing.assert_allclose(lo, s.min(0))
    np.testing.assert_allclose(hi, s.max(0))
    lo, hi = ADC(range="percentile", percentile=99.0).ranges_from(s, 10.0)
    np.testing.assert_allclose(lo, np.percentile(s, 1.0, axis=0))
    np.testing.assert_allclose(hi, np.percentile(s, 99.0, axis=0))
    lo, hi = ADC(range="full").ranges_from(s, 0.7)
    assert np.all(lo == -0.7) and np.all(hi == 0.7)
    lo, hi = ADC(range=(-0.2, 0.4)).ranges_from(s, 1.0)
    assert np.all(lo == -0.2) and np.all(hi == 0.4)
    # a dead channel still gets lo < hi; calibrated ranges never exceed the swing
    lo, hi = ADC(range="calibrate").ranges_from(np.array([[0.0, -5.0], [0.0, 5.0]]), 1.0)
    assert lo[0] < hi[0] and lo[1] == -1.0 and hi[1] == 1.0


def test_ideal_adc_only_clips():
    out, n = ADC(bits=None).convert(
        np.array([[0.123456789, 2.0]]), np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    )
    assert out[0, 0] == 0.123456789 and out[0, 1] == 1.0 and n == 1


# ---------------------------------------------------------------- DAC
def test_dac_amplitude_quantization_and_scale():
    dac = DAC(bits=3, v_read=0.2, x_max=2.0)
    x = np.array([[-3.0, -1.0, 0.0, 0.3, 2.0]])
    (ph,) = dac.encode(x)
    L = 7
    expected = np.sign(x) * np.round(np.clip(np.abs(x) / 2.0, 0, 1) * L) / L * 0.2
    np.testing.assert_allclose(ph.volts, expected)
    assert ph.weight == 1.0 and dac.scale == pytest.approx(10.0)
    np.testing.assert_allclose(dac.quantize(x), expected * dac.scale)
    (ideal,) = DAC(bits=None, v_read=0.5).encode(np.array([[0.3, -0.7]]))
    np.testing.assert_allclose(ideal.volts, [[0.15, -0.35]])


@pytest.mark.parametrize("signed", ["bipolar", "two_phase"])
def test_dac_bit_serial_and_two_phase_reassemble_the_amplitude(signed):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1.2, 1.2, size=(50, 9))
    amp = DAC(bits=5).encode(x)[0].volts
    for enc in ("bit_serial", "amplitude", "pulse_width"):
        dac = DAC(bits=5, encoding=enc, signed=signed)
        phases = dac.encode(x)
        assert len(phases) == dac.reads_per_input()
        total = sum(p.weight * p.volts for p in phases)
        np.testing.assert_allclose(total, amp, atol=1e-15)
        if enc == "bit_serial":
            for p in phases:  # every bit plane drives 0 or the full read voltage
                assert set(np.unique(np.abs(p.volts))) <= {0.0, dac.v_read}
        if enc == "pulse_width":
            for p in phases:
                np.testing.assert_allclose(p.codes * dac.v_read / dac.levels, p.volts)
        if signed == "two_phase":
            assert all(np.all(p.volts >= 0) for p in phases)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bits=0), "bits must be >= 1"),
        (dict(v_read=0.0), "v_read"),
        (dict(x_max=-1.0), "x_max"),
        (dict(encoding="pwm"), "encoding must be one of"),
        (dict(signed="offset"), "signed must be one of"),
        (dict(t_read=0.0), "t_read"),
        (dict(bits=None, encoding="bit_serial"), "bits must be an integer >= 1 for encoding"),
        (dict(bits=None, encoding="pulse_width"), "pulse-width"),
    ],
)
def test_dac_rejects_bad_configuration(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DAC(**kwargs)


# ---------------------------------------------------------------- TIA
def test_tia_gain_and_saturation():
    tia = TIA(v_swing=0.5)
    g = tia.channel_gains(np.array([1e-4, 2e-5, 0.0]))
    np.testing.assert_allclose(g[:2], [5e3, 2.5e4])
    assert np.isfinite(g[2])
    out, n = tia.amplify(np.array([[5e-5, -3e-5, 0.0]]), g)
    np.testing.assert_allclose(out[0, :2], [0.25, -0.5])
    assert n == 1
    assert np.all(TIA(gain=1e3).channel_gains(np.ones(3)) == 1e3)
    with pytest.raises(ConfigError, match="v_swing"):
        TIA(v_swing=0)
    with pytest.raises(ConfigError, match="gain"):
        TIA(gain=-1.0)


# ---------------------------------------------------------------- mapping
@pytest.mark.parametrize(
    "mapping",
    [WeightMapping(), WeightMapping(subtract="digital"), WeightMapping(scheme="reference")],
)
def test_unsliced_mappings_are_exact_and_inside_the_window(mapping):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((6, 9))
    win = ConductanceRange(2e-6, 50e-6)
    blk = mapping.map_block(W, win, np.abs(W).max())
    assert blk.G.shape[0] == 9
    assert blk.G.shape[1] == 6 * mapping.columns_per_output + mapping.reference_columns
    assert blk.G.min() >= win.g_min * (1 - 1e-12) and blk.G.max() <= win.g_max * (1 + 1e-12)
    np.testing.assert_allclose(effective_weights(blk.G, blk.A, blk.D), W, atol=1e-12)
    if mapping.scheme == "differential":
        gp, gm = blk.G[:, 0::2], blk.G[:, 1::2]
        # one side of every pair stays at g_min; (G+ - G-) is proportional to w
        assert np.all(np.minimum(gp, gm) == win.g_min)
        np.testing.assert_allclose(
            (gp - gm) / (win.g_max - win.g_min) * np.abs(W).max(), W.T, atol=1e-12
        )


@pytest.mark.parametrize("slices, bits", [(1, 3), (2, 2), (3, 4)])
def test_bit_slicing_stores_the_quantized_weight(slices, bits):
    rng = np.random.default_rng(slices)
    W = rng.uniform(-2, 2, size=(5, 7))
    w_max = 2.0
    m = WeightMapping(slices=slices, bits_per_slice=bits)
    win = ConductanceRange()
    blk = m.map_block(W, win, w_max)
    total = 2 ** (slices * bits) - 1
    Wq = np.sign(W) * np.round(np.abs(W) / w_max * total) * w_max / total
    np.testing.assert_allclose(effective_weights(blk.G, blk.A, blk.D), Wq, atol=1e-12)
    # every cell sits on one of the 2**bits levels of the window
    lv = (blk.G - win.g_min) / ((win.g_max - win.g_min) / (2**bits - 1))
    np.testing.assert_allclose(lv, np.round(lv), atol=1e-9)
    assert blk.A.shape[1] == slices * 5


def test_mapping_clips_and_validates():
    blk = WeightMapping(w_max=1.0).map_block(np.array([[3.0, -0.5]]), ConductanceRange(), 1.0)
    np.testing.assert_allclose(effective_weights(blk.G, blk.A, blk.D), [[1.0, -0.5]])
    assert WeightMapping().full_scale(np.zeros((2, 2))) == 1.0
    with pytest.raises(ConfigError, match="bits_per_slice must be an integer >= 1 when slices"):
        WeightMapping(slices=2)
    with pytest.raises(ConfigError, match="scheme must be one of"):
        WeightMapping(scheme="single")
    with pytest.raises(ConfigError, match="reference"):
        WeightMapping(scheme="reference", slices=2, bits_per_slice=2)
    with pytest.raises(ConfigError, match="g_min must be < g_max"):
        ConductanceRange(1e-4, 1e-5)
    with pytest.raises(ConfigError, match="g_min must be >"):
        ConductanceRange(0.0, 1e-5)


def test_conductance_range_from_device_like_objects():
    class Dev:
        g_min, g_max = 3e-6, 40e-6

    assert conductance_range(Dev()) == ConductanceRange(3e-6, 40e-6)
    assert conductance_range((1e-6, 2e-6)) == ConductanceRange(1e-6, 2e-6)
    assert conductance_range(None) == ConductanceRange()
    with pytest.raises(ConfigError, match="g_min and g_max"):
        conductance_range(object())


# ---------------------------------------------------------------- tiling
@pytest.mark.parametrize(
    "n_in, n_out, rows, cols, cpo, ref",
    [(784, 256, 256, 256, 2, 0), (10, 7, 3, 5, 2, 0), (9, 9, 4, 4, 1, 1), (5, 3, 8, 64, 4, 0)],
)
def test_tiles_cover_every_weight_once_within_limits(n_in, n_out, rows, cols, cpo, ref):
    tiles = plan_tiles(n_in, n_out, rows, cols, cpo, ref)
    cover = np.zeros((n_in, n_out), dtype=int)
    for t in tiles:
        cover[t.rows, t.outputs] += 1
        assert t.rows.stop - t.rows.start <= rows
        assert (t.outputs.stop - t.outputs.start) * cpo + ref <= cols
    assert np.all(cover == 1)
    if (n_in, n_out) == (784, 256):
        assert len(tiles) == 4 * 2


def test_tiling_and_array_config_errors():
    with pytest.raises(ConfigError, match="max_cols must be >= 3"):
        plan_tiles(4, 4, 4, 2, 2, 1)
    with pytest.raises(ConfigError, match="r_access"):
        ArrayConfig(cell="1T1R")
    with pytest.raises(ConfigError, match="max_rows"):
        ArrayConfig(max_rows=0)
    with pytest.raises(ConfigError, match="r_wordline"):
        ArrayConfig(r_wordline=-1.0)
    kw = ArrayConfig(cell="1T1R", r_access=1e3).crossbar_kwargs(10.0, 20.0)
    assert kw["r_access"] == 1e3 and kw["r_driver"] == 10.0 and kw["r_sense"] == 20.0
