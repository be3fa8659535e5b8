"""MatrixCore: DAC -> exact circuit read -> TIA -> ADC on a user's own G (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

import xbar
from xbar.exceptions import ConfigError
from xbar.periphery import ADC, DAC, TIA, ArrayConfig, MatrixCore, quantize

IDEAL_WIRES = ArrayConfig(r_wordline=0.0, r_bitline=0.0)


@pytest.fixture
def G():
    return np.random.default_rng(3).uniform(1e-6, 1e-4, size=(12, 7))


def _ideal_core(G, **kw):
    return MatrixCore(
        G, dac=DAC(bits=None, r_driver=0.0), adc=ADC(bits=None), tia=TIA(r_in=0.0), **kw
    )


def test_ideal_periphery_and_wires_give_exactly_g_transpose_v(G):
    x = np.random.default_rng(0).uniform(-1, 1, size=(5, 12))
    core = _ideal_core(G, array=IDEAL_WIRES)
    np.testing.assert_allclose(core(x), x @ G, rtol=1e-12, atol=0)
    v = x / core.dac.x_max * core.dac.v_read
    np.testing.assert_allclose(core.read_currents(x), (G.T @ v.T).T, rtol=1e-12, atol=0)
    np.testing.assert_allclose(core.ideal(x), x @ G, rtol=1e-14)
    assert core.shape == (12, 7) and core(x[0]).shape == (7,)


def test_tiled_core_with_ideal_periphery_equals_the_untiled_read(G):
    x = np.random.default_rng(1).uniform(0, 1, size=(4, 12))
    tiled = _ideal_core(G, array=ArrayConfig(max_rows=5, max_cols=3, r_wordline=0.0, r_bitline=0.0))
    assert len(tiled.tiles) == 3 * 3
    np.testing.assert_allclose(tiled(x), x @ G, rtol=1e-12)


@pytest.mark.parametrize("bits, cell", [(4, "0T1R"), (8, "0T1R"), (8, "1T1R")])
def test_converters_and_wires_match_crossbar_read_then_the_quantizer(G, bits, cell):
    """Independent reconstruction: DAC-quantized voltages -> Crossbar.read (with the DAC's driver
    and the TIA's input resistance) -> TIA gain v_swing / (v_read * sum G) -> ADC grid."""
    rng = np.random.default_rng(bits)
    x = rng.uniform(-1, 1, size=(6, 12))
    acc = {"r_access": 5e3} if cell == "1T1R" else {}
    arr = ArrayConfig(r_wordline=2.0, r_bitline=3.0, cell=cell, **acc)
    dac, adc, tia = DAC(bits=6, r_driver=20.0), ADC(bits=bits), TIA(r_in=15.0, v_swing=0.8)
    core = MatrixCore(G, array=arr, dac=dac, adc=adc, tia=tia)
    y = core.read_currents(x)
    v = dac.quantize(x) / dac.x_max * dac.v_read
    xb = xbar.Crossbar(
        G, r_wordline=2.0, r_bitline=3.0, r_driver=20.0, r_sense=15.0, cell=cell, **acc
    )
    I = xb.read(v)
    gain = 0.8 / (dac.v_read * G.sum(axis=0))
    ref, _, _ = quantize(np.clip(I * gain, -0.8, 0.8), -0.8, 0.8, bits)
    lsb = 1.6 / (2**bits - 1)
    np.testing.assert_allclose(y, ref / gain, rtol=0, atol=1e-9 * lsb / gain.min())
    # and within half an LSB of the analog read
    assert np.all(np.abs(y - I) <= lsb / 2 / gain * (1 + 1e-9))


def test_read_energy_is_booked_and_equals_the_solved_power(G):
    x = np.random.default_rng(2).uniform(0, 1, size=(3, 12))
    for method in ("transfer", "solve"):
        core = MatrixCore(G, array=ArrayConfig(r_wordline=1.0, r_bitline=1.0), read_method=method)
        core(x)
        v = core.dac.quantize(x) / core.dac.x_max * core.dac.v_read
        xb = xbar.Crossbar(
            G, r_wordline=1.0, r_bitline=1.0, r_driver=core.dac.r_driver, r_sense=core.tia.r_in
        )
        e_ref = float(np.sum(xb.read_power(v).total)) * core.dac.t_read
        assert core.ledger.total("read") == pytest.approx(e_ref, rel=1e-9)
        assert core.ledger.count("adc") == 3 * 7
        assert core.ledger.total("adc") == pytest.approx(3 * 7 * core.adc.conversion_energy())
        assert core.ledger.total("dac") == pytest.approx(
            3 * 12 * core.dac.power_per_line * core.dac.t_read
        )


def test_open_bit_line_reads_zero_and_set_matrix_follows(G):
    G0 = G.copy()
    G0[:, 2] = 1e-12  # (nearly) open cells: tiny bound, finite gain
    core = MatrixCore(G0)
    x = np.ones(12)
    y = core.read_currents(x)
    assert abs(y[2]) <= 1e-12 * 12 * 0.2 * 2
    core.set_matrix(G)
    np.testing.assert_allclose(core.matrix(), G)
    np.testing.assert_allclose(core.read_currents(x), 0.2 * G.sum(0), rtol=0.02)
    np.testing.assert_allclose(core.ideal(x), G.sum(0))
    with pytest.raises(ConfigError, match="no conductance pairs"):
        core.conductance_pairs()
    with pytest.raises(ConfigError, match="2-D"):
        MatrixCore(np.ones(3))
    with pytest.raises(ConfigError, match="shape"):
        core.set_matrix(np.ones((2, 2)))
    assert "MatrixCore(12 x 7" in repr(core)
