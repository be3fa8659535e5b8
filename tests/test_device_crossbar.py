"""Device models as the cells of a crossbar (issue 13, "One hardware model"): xbar.DeviceCrossbar."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import xbar
from dense_reference import dense_newton
from xbar.circuit import DeviceCrossbar
from xbar.devices import StochasticBinaryReRAM, presets
from xbar.exceptions import ConfigError


def _devices(shape=(6, 5), seed=0, **kw):
    return presets.tud_hfox(**kw).sample(shape, random_state=seed)


def test_crossbar_of_devices_takes_their_iv_and_conductances():
    devs = _devices()
    xb = xbar.Crossbar(devs, r_wordline=2.0, r_bitline=3.0)
    assert isinstance(xb, DeviceCrossbar) and isinstance(xb, xbar.Crossbar)
    assert xb.iv == devs.model.iv and not xb.linear  # the model's I-V, not iv=None
    np.testing.assert_array_equal(xb.G, devs.G)
    assert "HfOxReRAM" in repr(xb) and "tud-rram-iv-cycles" in repr(xb)
    assert isinstance(DeviceCrossbar(devs), DeviceCrossbar)


def test_the_device_iv_drives_the_solve_against_a_dense_newton_reference():
    # Sinh(0.3 V) cells at up to 0.6 V: sinh(2)/2 = 1.8x the ohmic current, far from linear
    devs = presets.tud_hfox(iv=xbar.iv.Sinh(0.3)).sample((4, 5), random_state=3)
    xb = xbar.Crossbar(devs, r_wordline=5.0, r_bitline=4.0, r_driver=10.0, r_sense=20.0)
    v = np.array([0.6, -0.3, 0.45, 0.2])
    w, b = dense_newton(
        np.array(devs.G),
        5.0,
        4.0,
        10.0,
        20.0,
        v,
        np.zeros(5),
        devs.model.iv.current_and_conductance,
    )
    ref = b[-1] / 20.0
    np.testing.assert_allclose(xb.read(v), ref, rtol=1e-9)
    # and a linear read of the same G is visibly different (the I-V matters)
    lin = xbar.Crossbar(
        np.array(devs.G), r_wordline=5.0, r_bitline=4.0, r_driver=10.0, r_sense=20.0
    ).read(v)
    assert np.max(np.abs(lin / ref - 1)) > 0.05


def test_d2d_variation_is_sampled_and_reproducible_by_seed():
    a = xbar.Crossbar(_devices(seed=1))
    b = xbar.Crossbar(_devices(seed=1))
    c = xbar.Crossbar(_devices(seed=2))
    np.testing.assert_array_equal(a.G, b.G)
    assert not np.array_equal(a.G, c.G)
    # the formed state is each device's own g_max: log-normal spread with the model's sigma
    big = _devices((64, 64), seed=0)
    sd = np.std(np.log(np.asarray(xbar.Crossbar(big).G)))
    assert abs(sd - big.model.g_max_dtod) < 0.2 * big.model.g_max_dtod


def test_a_pulse_through_the_crossbar_equals_the_model_applied_directly():
    M, N = 6, 5
    xb = xbar.Crossbar(_devices((M, N), seed=4, g_max_dtod=0.0))  # ideal wires: exact voltages
    g0 = np.array(xb.G)
    xb.pulse_cells(0.8, 1e-6, random_state=0)  # away from g_max so that SETs can move
    ref = _devices((M, N), seed=4, g_max_dtod=0.0)
    ref.apply_pulses(0.8, 1e-6, random_state=0)
    np.testing.assert_array_equal(xb.G, ref.G)
    assert not np.array_equal(xb.G, g0)
    # a SET pulse on row 2 x column 3 under V/2 (tud sets at negative voltage)
    g1 = np.array(xb.G)
    res = xb.apply_pulse(2, 3, amplitude=1.2, width=1e-6, polarity=-1, random_state=7)
    volts = np.zeros((M, N))
    volts[2, :] = volts[:, 3] = -0.6
    volts[2, 3] = -1.2
    np.testing.assert_allclose(res.cell_voltages, volts, atol=1e-12)
    ref.apply_pulses(volts, 1e-6, random_state=np.random.default_rng(7))
    np.testing.assert_allclose(xb.G, ref.G, rtol=1e-12)
    assert xb.G[2, 3] > g1[2, 3]  # the selected cell SET


def test_reads_after_writes_equal_fresh_reads():
    xb = xbar.Crossbar(
        _devices((8, 8), seed=5, iv=xbar.iv.Linear()), r_wordline=1.0, r_bitline=1.0, r_sense=10.0
    )
    assert xb.linear
    v = np.linspace(0.05, 0.2, 8)
    xb.transfer_matrix()  # cached maps of the formed state
    before = xb.read(np.tile(v, (8, 1)), method="transfer")

    def fresh():
        return xbar.Crossbar(
            np.array(xb.devices.G), r_wordline=1.0, r_bitline=1.0, r_sense=10.0
        ).read(v, method="pcg")

    xb.reset_cells(0.8, 1e-6, mask=np.eye(8, dtype=bool))
    np.testing.assert_allclose(xb.read(v, method="transfer"), fresh(), rtol=1e-9)
    assert not np.allclose(xb.read(v), before[0], rtol=1e-6)
    xb.apply_pulse(1, 2, amplitude=1.0, width=1e-6, polarity=-1)
    np.testing.assert_allclose(xb.read(v, method="transfer"), fresh(), rtol=1e-9)
    xb.age(1e3)
    np.testing.assert_allclose(xb.read(v, method="transfer"), fresh(), rtol=1e-9)
    # an operation on the devices themselves is picked up too
    xb.devices.apply_pulses(-1.0, 1e-6)
    np.testing.assert_allclose(xb.read(v, method="transfer"), fresh(), rtol=1e-9)
    np.testing.assert_array_equal(xb.G, xb.devices.G)


def test_exact_writes_and_program_verify_go_through_the_devices():
    devs = _devices((5, 5), seed=6)
    xb = xbar.Crossbar(devs)
    target = np.full((5, 5), 2e-4)
    xb.set_conductances(target)
    np.testing.assert_array_equal(xb.G, np.clip(target, devs.g_min, devs.g_max))
    np.testing.assert_array_equal(devs.t_since_programming, 0.0)
    # the model's default acceptance band: 1 % of the nominal window
    tol = 0.01 * (devs.model.g_max - devs.model.g_min)
    res = xb.program_verify(
        np.full((5, 5), 1e-4), max_pulses=200, on_failure="ignore", random_state=0
    )
    np.testing.assert_array_equal(xb.G, res.G)
    ok = res.converged
    assert ok.mean() > 0.5
    np.testing.assert_array_less(np.abs(res.G_read[ok] - 1e-4), tol + 1e-18)


def test_drift_and_read_noise_act_on_the_array_state():
    dev = presets.stanford_tech_b()
    devs = dev.sample((16, 16), random_state=0)
    xb = xbar.Crossbar(devs, r_wordline=1.0, r_bitline=1.0, r_sense=1.0)
    xb.set_conductances(np.full((16, 16), 0.4 * dev.g_max))
    ref = dev.sample((16, 16), random_state=0)
    ref.set_state(np.full((16, 16), 0.4 * dev.g_max))
    xb.age(100.0, random_state=3)
    ref.age(100.0, random_state=3)
    np.testing.assert_array_equal(xb.G, ref.G)
    v = np.full(16, 0.1)
    quiet = xb.read(v)
    noisy = xb.read(np.tile(v, (200, 1)), noise=True, random_state=1)
    # reference: the column current's relative spread from independent cell reads,
    # sqrt(sum_i (sigma_i G_i)^2) / sum_i G_i, with sigma from the model's table
    sig = devs.read_noise_rel() * np.asarray(devs.G)
    expect = np.sqrt((sig**2).sum(axis=0)) / np.asarray(devs.G).sum(axis=0)
    got = noisy.std(axis=0) / quiet
    np.testing.assert_allclose(got, expect, rtol=0.25)
    np.testing.assert_allclose(
        noisy.mean(axis=0), quiet, atol=4 * expect.max() * quiet.max() / np.sqrt(200)
    )
    again = xb.read(np.tile(v, (3, 1)), noise=True, random_state=1)
    np.testing.assert_array_equal(again, noisy[:3])


def test_1t1r_pulse_leaves_gated_off_rows_alone_and_binary_devices_work():
    devs = _devices((4, 4), seed=7)
    xb = xbar.Crossbar(devs, r_wordline=1.0, r_bitline=1.0, cell="1T1R", r_access=1e3)
    g0 = np.array(xb.G)
    xb.reset_cells(0.9, 1e-6)  # move off g_max first
    g1 = np.array(xb.G)
    assert np.all(g1 <= g0)
    xb.apply_pulse(1, None, amplitude=1.3, width=1e-6, polarity=-1, scheme="half")
    changed = np.abs(np.asarray(xb.G) - g1) > 0
    assert changed[1].any() and not changed[[0, 2, 3]].any()
    b = StochasticBinaryReRAM().sample((3, 3), random_state=0)
    bx = xbar.Crossbar(b)
    bx.apply_pulse(amplitude=1.5, width=1e-6, scheme="half")
    np.testing.assert_array_equal(bx.G, b.G)
    with pytest.raises(ConfigError, match="program_verify"):
        bx.program_verify(1e-4)


def test_pickled_device_crossbar_keeps_its_devices():
    xb = xbar.Crossbar(_devices(seed=8), r_wordline=1.0, r_bitline=1.0)
    xb2 = pickle.loads(pickle.dumps(xb))
    assert isinstance(xb2, DeviceCrossbar)
    xb.age(10.0, random_state=0)
    xb2.age(10.0, random_state=0)
    np.testing.assert_array_equal(xb.G, xb2.G)


def test_bad_device_input_names_the_argument():
    model = presets.tud_hfox()
    with pytest.raises(ConfigError, match="device model"):
        xbar.Crossbar(model)
    with pytest.raises(ConfigError, match="DeviceCrossbar needs fabricated devices"):
        DeviceCrossbar(np.full((3, 3), 1e-4))
    with pytest.raises(ConfigError, match="2-D"):
        xbar.Crossbar(model.sample(5, random_state=0))
    with pytest.raises(ConfigError, match="iv="):
        xbar.Crossbar(model.sample((3, 3), random_state=0), iv=xbar.iv.Sinh(0.2))
    xb = xbar.Crossbar(model.sample((3, 3), random_state=0))
    with pytest.raises(ConfigError, match="on_substep"):
        xb.apply_pulse(amplitude=1.0, width=1e-6, on_substep=lambda s, dt: None)
    with pytest.raises(ConfigError, match="G must keep shape"):
        xb.set_conductances(np.ones((2, 2)) * 1e-4)
    with pytest.raises(ConfigError, match="amplitude"):
        xb.reset_cells(-0.8)
    with pytest.raises(ConfigError, match="random_state"):
        xb.read(np.ones(3) * 0.1, random_state=0)
