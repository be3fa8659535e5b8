"""Zero, sparse, pruned, tiny and huge weights through AnalogLinear (issue 14 item 1).

An all-zero weight row used to read +-1500-2064 (TIA gain fallback of 1 ohm, no zero code in the
ADC, de-scaling of the half-LSB offset).  The reference is ``x @ W.T`` with the error budget of the
periphery: half an ADC LSB of the channel's full scale, the DAC's input quantization and the IR drop
of small arrays (well below 1 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import xbar
from xbar.periphery import ADC, DAC, TIA, ArrayConfig, WeightMapping


def test_all_zero_weights_read_zero():
    """The issue's case: ``AnalogLinear(np.zeros((3, 4)))(np.ones(4))`` returned [2063.98]*3."""
    layer = xbar.AnalogLinear(np.zeros((3, 4)))
    assert np.array_equal(layer(np.ones(4)), np.zeros(3))
    assert np.array_equal(layer(np.zeros(4)), np.zeros(3))
    assert np.all(np.isfinite(layer.tiles[0].gains)) and np.all(layer.tiles[0].gains > 0)


def test_zero_row_beside_live_rows_reads_zero_and_others_are_unaffected():
    W = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.5, 0.0]])
    x = np.array([1.0, -0.5, 0.25, 1.0])
    layer = xbar.AnalogLinear(W)
    y = layer(x)
    assert y[1] == 0.0
    np.testing.assert_allclose(y, W @ x, atol=np.abs(W).sum(1).max() * 2 / 255)
    assert np.array_equal(layer(np.zeros(4)), np.zeros(3))  # x = 0 reads exactly 0


def test_zero_row_with_the_ends_exact_grid_is_within_half_an_lsb_of_the_window_scale():
    """``zero_code=False`` keeps 0 half an LSB from a code; the zero row's gain is the window's, so
    the offset is that of the window's full scale, not the 2064 of a 1-ohm gain."""
    layer = xbar.AnalogLinear(np.zeros((3, 4)), adc=ADC(zero_code=False))
    y = layer(np.ones(4))
    # window full scale in output units: rows * x_max * w_max * g_max / (g_max - g_min), 2**8 - 1 codes
    win = layer.window
    full = 4 * 1.0 * layer.w_max * win.g_max / (win.g_max - win.g_min)
    assert np.all(np.abs(y) <= full / 255 * (1 + 1e-9)) and np.all(np.abs(y) > 0)


def test_written_zero_row_is_read_without_saturation():
    """A zero-initialised row takes the window's gain, so a later write reads correctly."""
    layer = xbar.AnalogLinear(np.zeros((2, 3)), mapping=WeightMapping(w_max=1.0))
    gp, gm = layer.conductance_pairs()
    g = layer.siemens_per_weight
    gp[:, 0] += 0.5 * g  # w[0, :] = +0.5
    layer.set_conductance_pairs(gp, gm)
    y = layer(np.ones(3))
    np.testing.assert_allclose(y, [1.5, 0.0], atol=3 * 3 / 255)
    assert layer.stats["tia_saturated"] == 0


def test_tia_zero_bound_gain():
    tia = TIA(v_swing=0.5)
    g = tia.channel_gains(np.array([1e-4, 0.0, 0.0]), np.array([2e-4, 1e-4, 0.0]))
    np.testing.assert_array_equal(g, [5e3, 5e3, 0.0])  # fallback bound; no bound at all: gain 0
    assert np.array_equal(tia.channel_gains(np.zeros(2)), np.zeros(2))


def test_a_channel_of_gain_zero_reads_exactly_zero():
    adc = ADC(bits=8)
    lo, hi = np.full(2, -1.0), np.full(2, 1.0)
    out, n_sat, n_clip = adc.read_out(
        np.array([[1e-3, 1e-3]]), np.array([0.0, 100.0]), 1.0, lo, hi, np.ones(2), np.zeros(2)
    )
    assert out[0, 0] == 0.0 and np.isfinite(out).all()
    assert out[0, 1] == pytest.approx(1e-3, abs=1 / 255 / 100)


# ---------------------------------------------------------------- properties (hypothesis)
def _budget(W: np.ndarray, x_max: float = 1.0) -> np.ndarray:
    """Error bound per output: ADC half LSB + DAC rounding + 1 % IR drop of the row's full scale."""
    return x_max * np.abs(W).sum(axis=1) * (1 / 255 + 1 / 510 + 0.01) + 1e-300


@st.composite
def _weights(draw):
    n_out = draw(st.integers(1, 6))
    n_in = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_out, n_in))
    density = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]))
    W *= rng.random(W.shape) < density  # sparse / pruned weights
    for r in draw(st.lists(st.integers(0, n_out - 1), max_size=n_out)):
        W[r] = 0.0  # zero rows
    for c in draw(st.lists(st.integers(0, n_in - 1), max_size=n_in)):
        W[:, c] = 0.0  # pruned inputs
    W *= 10.0 ** draw(st.integers(-200, 200))  # tiny to huge weights
    x = rng.uniform(-1, 1, size=(3, n_in))
    x[0] = 0.0
    x[1] *= rng.random(n_in) < 0.5
    return W, x


_MAPPINGS = {  # mapping -> (WeightMapping kwargs, weight quantization error per |w_max|)
    "differential": ({}, 0.0),
    "digital-subtract": ({"subtract": "digital"}, 0.0),
    "reference": ({"scheme": "reference"}, 0.0),
    "2x2-bit slices": ({"slices": 2, "bits_per_slice": 2}, 0.5 / 15),
}
_DACS = {
    "amplitude": {},
    "bit-serial": {"encoding": "bit_serial"},
    "pulse-width two-phase": {"encoding": "pulse_width", "signed": "two_phase"},
}


@settings(max_examples=80, deadline=None)
@given(_weights(), st.sampled_from(sorted(_MAPPINGS)), st.sampled_from(sorted(_DACS)))
def test_zero_sparse_and_scaled_weights_read_within_the_periphery_budget(case, mapping, dac):
    W, x = case
    kw, w_quant = _MAPPINGS[mapping]
    layer = xbar.AnalogLinear(
        W,
        mapping=WeightMapping(**kw),
        dac=DAC(**_DACS[dac]),
        array=ArrayConfig(max_rows=4, max_cols=8),
    )
    y = layer(x)
    assert np.all(np.isfinite(y))
    full = layer.w_max * W.shape[1]  # |x| <= 1
    zero_rows = ~W.any(axis=1)
    if mapping == "differential":  # one conversion of the pair difference: the zero code
        assert np.all(y[:, zero_rows] == 0.0)
        assert np.all(y[0] == 0.0)
    else:  # digitally combined channels cancel to rounding
        assert np.all(np.abs(y[:, zero_rows]) <= 1e-12 * full)
        assert np.all(np.abs(y[0]) <= 1e-12 * full)
    ref = x @ W.T
    budget = _budget(W) * (2 if mapping != "differential" else 1) + (w_quant + 1e-12) * full
    if mapping == "digital-subtract":
        # each column is converted on its own: the LSB is that of the column's whole current,
        # g_min included (x_max * w_max * g_min / (g_max - g_min) per input and column)
        win = layer.window
        offset = 2 * W.shape[1] * layer.w_max * win.g_min / (win.g_max - win.g_min)
        budget = budget + 2 * offset * (1 / 255 + 1 / 510 + 0.01)
    assert np.all(np.abs(y - ref) <= budget[None, :] * 1.0001)


@settings(max_examples=30, deadline=None)
@given(_weights(), st.sampled_from([None, 4, 8]), st.sampled_from([None, 6, 8]))
def test_zero_rows_and_zero_inputs_read_zero_for_any_converter_resolution(case, dac_bits, adc_bits):
    W, x = case
    enc = {} if dac_bits is not None else {"encoding": "amplitude"}
    layer = xbar.AnalogLinear(
        W,
        dac=DAC(bits=dac_bits, **enc),
        adc=ADC(bits=adc_bits),
        array=ArrayConfig(r_wordline=0.0, r_bitline=0.0),
    )
    y = layer(x)
    assert np.all(np.isfinite(y))
    zero = np.concatenate([y[:, ~W.any(axis=1)].ravel(), y[0]])
    if adc_bits is not None:
        assert np.all(zero == 0.0)  # the zero code
    else:  # an ideal converter passes the pair currents' rounding-level difference
        assert np.all(np.abs(zero) <= 1e-12 * layer.w_max * W.shape[1])
