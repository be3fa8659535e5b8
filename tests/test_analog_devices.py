"""Device models in the analog layer, the matrix core and the training reader (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

import xbar
import xbar.train as T
from dense_reference import dense_newton
from xbar.circuit import DeviceCrossbar
from xbar.devices import StochasticBinaryReRAM, presets
from xbar.exceptions import ConfigError
from xbar.periphery import ADC, DAC, TIA, AnalogLinear, ArrayConfig, CellReadNoise, MatrixCore
from xbar.train.analog import CircuitReader
from xbar.train.pulsed import DeviceModelView

W = np.random.default_rng(0).normal(size=(5, 9))
X = np.random.default_rng(1).uniform(-1, 1, size=(4, 9))
ARRAY = ArrayConfig(max_rows=6, max_cols=6, r_wordline=2.0, r_bitline=2.0)
IDEAL = dict(dac=DAC(bits=None), adc=ADC(bits=None), tia=TIA(gain=1e3, v_swing=1e3))


def _layer(seed=0, **kw):
    kw.setdefault("array", ARRAY)
    return AnalogLinear(W, device=presets.tud_hfox(), random_state=seed, **IDEAL, **kw)


def test_a_preset_gives_device_tiles_with_its_iv_and_seeded_d2d():
    layer = _layer()
    model = layer.device
    assert len(layer.tiles) == 4
    for tile in layer.tiles:
        assert isinstance(tile.crossbar, DeviceCrossbar)
        assert tile.crossbar.iv == model.iv  # not iv=None
    assert "tud-rram-iv-cycles" in repr(layer) and "Asymmetric" in repr(layer)
    # d2d: each tile's devices are the model sampled from the spawned fabrication streams
    fab = np.random.default_rng(0).spawn(2)[0].spawn(len(layer.tiles))
    for tile, stream in zip(layer.tiles, fab):
        ref = model.sample(tile.G.shape, random_state=stream)
        np.testing.assert_array_equal(tile.crossbar.devices.g_max, ref.g_max)
        assert np.std(np.log(ref.g_max)) > 0.05  # varied, not one window
        # exact programming: the mapped targets, clipped to each device's own window
        target = layer.mapping.map_block(
            W[tile.spec.outputs, tile.spec.rows], layer.window, layer.w_max
        ).G
        np.testing.assert_array_equal(tile.G, np.clip(target, ref.g_min, ref.g_max))
    same, other = _layer(0), _layer(1)
    for a, b, c in zip(layer.tiles, same.tiles, other.tiles):
        np.testing.assert_array_equal(a.G, b.G)
        assert not np.array_equal(a.G, c.G)
    # the converter errors are those of the same layer without devices (streams spawned)
    plain = AnalogLinear(W, array=ARRAY, random_state=0)
    dev = AnalogLinear(W, array=ARRAY, device=presets.tud_hfox(), random_state=0)
    np.testing.assert_array_equal(plain.tiles[2].adc_gain, dev.tiles[2].adc_gain)


def test_the_layer_reads_through_the_device_iv():
    """Reference: the same layer on hand-built Crossbars of the devices' G and the model's iv."""
    model = presets.tud_hfox(iv=xbar.iv.Sinh(0.15))  # strongly nonlinear at 0.2 V
    layer = AnalogLinear(W, device=model, array=ARRAY, random_state=3, **IDEAL)
    hand = AnalogLinear(
        W,
        device=(model.g_min, model.g_max),
        random_state=3,
        **IDEAL,
        array=ArrayConfig(
            max_rows=6, max_cols=6, r_wordline=2.0, r_bitline=2.0, crossbar_options={"iv": model.iv}
        ),
    )
    for i, tile in enumerate(layer.tiles):
        hand.set_conductances(i, np.array(tile.crossbar.devices.G))
        assert type(hand.tiles[i].crossbar) is xbar.Crossbar
    hand.update_gains()
    np.testing.assert_allclose(layer(X), hand(X), rtol=1e-9)
    # one tile against the dense Newton reference with the model's I-V
    tile = layer.tiles[0]
    v = np.full(tile.G.shape[0], 0.2)
    _, b = dense_newton(
        np.array(tile.G),
        2.0,
        2.0,
        10.0,
        10.0,
        v,
        np.zeros(tile.G.shape[1]),
        model.iv.current_and_conductance,
    )
    np.testing.assert_allclose(tile.crossbar.read(v), b[-1] / 10.0, rtol=1e-9)
    linear = AnalogLinear(
        W, device=(model.g_min, model.g_max), array=ARRAY, random_state=3, **IDEAL
    )
    for i, t in enumerate(layer.tiles):
        linear.set_conductances(i, np.array(t.G))
    linear.update_gains()
    assert np.abs(linear(X) - layer(X)).max() > 0.01 * np.abs(layer(X)).max()


def test_set_weights_programs_through_the_devices_and_reads_follow():
    layer = _layer(
        seed=4, programming="verify", program_options=dict(max_pulses=300, on_failure="ignore")
    )
    tol = 0.01 * (layer.device.g_max - layer.device.g_min)  # the model's default band
    W2 = -W
    y_before = layer(X)
    layer.set_weights(W2)
    converged = 0.0
    for tile in layer.tiles:
        devs = tile.crossbar.devices
        np.testing.assert_array_equal(tile.G, devs.G)  # G follows the devices
        target = layer.target_conductances(W2)[layer.tiles.index(tile)]
        inside = (target > devs.g_min + tol) & (target < devs.g_max - tol)
        err = np.abs(np.asarray(tile.G) - target)[inside]
        # the verify read is within tol; the true G may differ from it by the read noise
        noise = (devs.read_noise_rel() * np.asarray(devs.G))[inside]
        converged += np.mean(err <= tol + 4 * noise)
        # a read after the write equals a fresh read of the devices' state
        v = np.full(tile.G.shape[0], 0.1)
        fresh = xbar.Crossbar(
            np.array(devs.G),
            r_wordline=2.0,
            r_bitline=2.0,
            r_driver=10.0,
            r_sense=10.0,
            iv=devs.model.iv,
        ).read(v)
        np.testing.assert_allclose(tile.crossbar.read(v), fresh, rtol=1e-9)
    assert converged / len(layer.tiles) > 0.9
    assert np.abs(layer(X) - y_before).max() > 0.1


def test_read_noise_and_ageing_act_on_the_tiles():
    dev = presets.stanford_tech_b()
    kw = dict(array=ArrayConfig(max_rows=9, max_cols=10, r_wordline=1.0, r_bitline=1.0), **IDEAL)
    quiet = AnalogLinear(W, device=dev, random_state=5, **kw)
    noisy = AnalogLinear(W, device=dev, random_state=5, read_noise=True, **kw)
    assert isinstance(noisy.channel_noise, CellReadNoise) and "read_noise=True" in repr(noisy)
    tile = noisy.tiles[0]
    np.testing.assert_array_equal(
        noisy.channel_noise.sigma(tile), tile.crossbar.devices.read_noise_rel(tile.G)
    )
    a, b = noisy(X), noisy(X)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(
        a, AnalogLinear(W, device=dev, random_state=5, read_noise=True, **kw)(X)
    )  # reproducible by seed
    y0 = quiet(X)
    assert np.abs(a - y0).max() < 0.3 * np.abs(y0).max()
    # ageing: the devices drift, the tiles follow; the same as ageing the devices directly
    ref = AnalogLinear(W, device=dev, random_state=5, **kw)
    quiet.age(1e4, random_state=6)
    for tq, tr, r in zip(quiet.tiles, ref.tiles, np.random.default_rng(6).spawn(len(quiet.tiles))):
        tr.crossbar.devices.age(1e4, random_state=r)
        np.testing.assert_array_equal(tq.G, tr.crossbar.devices.G)
    assert not np.allclose(quiet(X), y0)
    np.testing.assert_array_equal(quiet.devices[0].t_since_programming, 1e4)


def test_matrix_core_reads_a_device_backed_crossbar_as_it_is():
    devs = presets.tud_hfox().sample((9, 4), random_state=0)
    xb = xbar.Crossbar(devs, r_wordline=1.0, r_bitline=1.0, r_driver=10.0, r_sense=10.0)
    core = MatrixCore(xb, dac=DAC(bits=None), adc=ADC(bits=None), tia=TIA(gain=1e3, v_swing=1e3))
    assert core.tiles[0].crossbar is xb and "HfOxReRAM" in repr(core)
    x = np.abs(X)
    np.testing.assert_allclose(core.read_currents(x), xb.read(x * 0.2), rtol=1e-9)
    xb.reset_cells(0.9, 1e-6)  # a write: the core follows
    core.update_gains()
    np.testing.assert_allclose(core.read_currents(x), xb.read(x * 0.2), rtol=1e-9)
    core.age(100.0)
    fresh = xbar.Crossbar(
        np.array(devs.G),
        r_wordline=1.0,
        r_bitline=1.0,
        r_driver=10.0,
        r_sense=10.0,
        iv=devs.model.iv,
    )
    np.testing.assert_allclose(core.read_currents(x), fresh.read(x * 0.2), rtol=1e-9)
    with pytest.raises(ConfigError, match="array"):
        MatrixCore(xb, array=ArrayConfig())
    with pytest.raises(ConfigError, match="r_driver"):
        MatrixCore(xb, dac=DAC(r_driver=1.0))
    with pytest.raises(ConfigError, match="read_noise"):
        MatrixCore(np.array(devs.G), read_noise=True)
    noisy = MatrixCore(
        xb, read_noise=True, adc=ADC(bits=None), dac=DAC(bits=None, r_driver=10.0), random_state=0
    )
    assert not np.array_equal(noisy(x), noisy(x))


def _pulsed(reader, device, seed=0):
    f = T.pulsed_layer_factory(
        device, T.ResetOnlyWriter(), T.PulseMapping("threshold", 0.0), w_max=1.0, reader=reader
    )
    return T.build_network(T.SoftmaxSGD(), 5, 3, [], layer_factory=f, random_state=seed).layers[0]


def test_circuit_reader_solves_the_device_iv_and_adds_their_read_noise():
    model = presets.tud_hfox(iv=xbar.iv.Sinh(0.15))
    kw = dict(
        array=ArrayConfig(max_rows=6, max_cols=6, r_wordline=1.0, r_bitline=1.0),
        dac=DAC(bits=None, r_driver=5.0),
        adc=ADC(bits=None),
        tia=TIA(r_in=5.0),
    )
    layer = _pulsed(CircuitReader(device_iv=True, **kw), model)
    x = np.random.default_rng(2).uniform(0, 1, size=(2, 5))
    out = layer.forward(x)
    G = np.empty((6, 6))
    G[:, 0::2], G[:, 1::2] = layer.pairs.g_plus, layer.pairs.g_minus
    for b in range(2):
        xa = T.augment(x[b : b + 1], True)[0]
        s = np.abs(xa).max()
        _, bl = dense_newton(
            G, 1.0, 1.0, 5.0, 5.0, xa / s * 0.2, np.zeros(6), model.iv.current_and_conductance
        )
        i_col = bl[-1] / 5.0
        np.testing.assert_allclose(
            out[b], layer.k * (i_col[0::2] - i_col[1::2]) * s / 0.2, rtol=1e-8
        )
    # after a write the tiles follow the pair devices
    layer.update(x[:1], np.array([[0.5, -0.5, 0.2]]))
    tile = CircuitReader.analog(layer.reader, layer).tiles[0]
    np.testing.assert_array_equal(tile.G[:, 0::2], layer.pairs.arrays["+"].G)
    noisy = _pulsed(CircuitReader(read_noise=True, random_state=0, **kw), model)
    assert not np.array_equal(noisy.forward(x), noisy.forward(x))
    with pytest.raises(ConfigError, match="device arrays"):
        _pulsed(CircuitReader(device_iv=True, **kw), DeviceModelView(model)).forward(x)


def test_bad_device_input_names_the_argument():
    model = presets.tud_hfox()
    with pytest.raises(ConfigError, match="device must be a device model"):
        AnalogLinear(W, device=model.sample((9, 10), random_state=0))
    with pytest.raises(ConfigError, match="programming"):
        AnalogLinear(W, device=model, programming="pulse")
    with pytest.raises(ConfigError, match="program_options"):
        AnalogLinear(W, device=model, program_options={"max_pulses": 10})
    with pytest.raises(ConfigError, match="random_state"):
        AnalogLinear(W, device=model, programming="verify", program_options={"random_state": 0})
    with pytest.raises(ConfigError, match="device model"):
        AnalogLinear(W, device=(1e-6, 1e-5), programming="verify")
    with pytest.raises(ConfigError, match="read_noise"):
        AnalogLinear(W, device=(1e-6, 1e-5), read_noise=True)
    with pytest.raises(ConfigError, match="either read_noise"):
        AnalogLinear(W, device=model, read_noise=True, channel_noise=CellReadNoise(0.01))
    with pytest.raises(ConfigError, match="crossbar_options"):
        AnalogLinear(W, device=model, array=ArrayConfig(crossbar_options={"iv": xbar.iv.Sinh(0.3)}))
    with pytest.raises(ConfigError, match="program-and-verify"):
        AnalogLinear(W, device=StochasticBinaryReRAM(), programming="verify")
    with pytest.raises(ConfigError, match="age needs a device model"):
        AnalogLinear(W).age(1.0)
    with pytest.raises(ConfigError, match="t must"):
        AnalogLinear(W, device=model).age(-1.0)
    binary = AnalogLinear(W, device=StochasticBinaryReRAM(), random_state=0)
    assert binary.window.g_min == StochasticBinaryReRAM().g_hrs
