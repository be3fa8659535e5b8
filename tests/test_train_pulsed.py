"""Pulse mapping and pulsed layers: signs, reset-only monotonicity, refresh, energy bookkeeping."""
import numpy as np
import pytest

from _fake_device import FakeDevice
from xbar.exceptions import ConfigError
from xbar.pulses import EnergyLedger, PulseSchedule
from xbar.train.mapping import PulseMapping
from xbar.train.pulsed import (PairArray, ProgramVerifyWriter, PulsedLayer, ResetOnlyWriter,
                               half_select_energy, pulse_energy)


def test_mapping_methods():
    dW = np.array([[0.3, -0.05, 0.0], [-2.0, 0.12, 0.9]])
    np.testing.assert_array_equal(PulseMapping("threshold", threshold=0.1).counts(dW),
                                  [[1, 0, 0], [-1, 1, 1]])
    np.testing.assert_array_equal(
        PulseMapping("proportional", max_pulses=5).counts(dW, dw_per_pulse=0.1),
        [[3, 0, 0], [-5, 1, 5]])
    # stochastic: E[n] = |Δw|/Δw_p (capped at 1), with the sign of Δw
    m = PulseMapping("stochastic", dw_per_pulse=0.5)
    rng = np.random.default_rng(0)
    mean = np.mean([m.counts(dW, random_state=rng) for _ in range(4000)], axis=0)
    np.testing.assert_allclose(mean, np.sign(dW) * np.minimum(np.abs(dW) / 0.5, 1), atol=0.03)
    with pytest.raises(ConfigError, match="dw_per_pulse"):
        PulseMapping("proportional").counts(dW)
    with pytest.raises(ConfigError, match="method"):
        PulseMapping("magic")


def _layer(writer, seed=0, **kw):
    rng = np.random.default_rng(seed)
    W = rng.uniform(-0.5, 0.5, size=(6, 4))
    return PulsedLayer.from_weights(W, FakeDevice(), writer, PulseMapping("threshold", 0.01),
                                    bias=False, random_state=seed, **kw)


@pytest.mark.parametrize("writer", [ResetOnlyWriter(), ProgramVerifyWriter()],
                         ids=["reset-only", "program-verify"])
def test_mapping_moves_weights_in_the_sign_of_the_update(writer):
    layer = _layer(writer)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, delta = rng.normal(size=(1, 6)), rng.normal(size=(1, 4)) * 0.1
        w0 = layer.weights.copy()
        req = x.T @ delta
        layer.update(x, delta)
        moved = np.abs(req) > 0.01
        change = layer.weights - w0
        assert np.all(np.sign(change[moved]) == np.sign(req[moved]))
        np.testing.assert_array_equal(change[~moved], 0.0)


def test_reset_only_never_raises_a_conductance_except_at_refresh():
    ledger = EnergyLedger()
    layer = _layer(ResetOnlyWriter(refresh_margin=0.3), ledger=ledger, keep_schedules=10 ** 6)
    rng = np.random.default_rng(2)
    refreshed_any = False
    for _ in range(120):
        gp, gm = layer.pairs.g_plus.copy(), layer.pairs.g_minus.copy()
        layer.update(rng.normal(size=(1, 6)), rng.normal(size=(1, 4)))
        sched = layer.schedules[-1]
        refreshed = np.zeros(gp.shape, bool)
        is_ref = sched.kind[sched.slot] == 3                                    # "refresh"
        refreshed[sched.row[is_ref], sched.col[is_ref]] = True
        refreshed_any |= refreshed.any()
        for before, after in ((gp, layer.pairs.g_plus), (gm, layer.pairs.g_minus)):
            rose = after > before
            assert not np.any(rose & ~refreshed)
            # update pulses are RESETs only
            upd = sched.kind[sched.slot] == 0
            assert np.all(sched.polarity[sched.slot][upd] == 1)
    assert refreshed_any, "the test should drive some pair into a refresh"
    assert ledger.total("refresh") > 0
    # every refreshed pair ends with at least one device above the refresh floor
    dev = FakeDevice()
    floor = dev.g_min + 0.3 * (dev.g_max - dev.g_min)
    assert np.all((layer.pairs.g_plus >= floor) | (layer.pairs.g_minus >= floor))


def test_refresh_keeps_the_weight():
    dev = FakeDevice(noise=0.0)
    gp = np.array([[5e-6, 3e-6]])
    gm = np.array([[3e-6, 6e-6]])
    pairs = PairArray(gp, gm, dev)
    w = ResetOnlyWriter(refresh_margin=0.1, tolerance=0.05)
    scheds = w.refresh(pairs, np.random.default_rng(0))
    assert scheds and all(k == 3 for s in scheds for k in s.kind)
    np.testing.assert_allclose(pairs.g_plus - pairs.g_minus, gp - gm, atol=0.05 * 99e-6)
    assert np.all(np.maximum(pairs.g_plus, pairs.g_minus) > 0.5 * dev.g_max)


def test_ledger_totals_equal_sum_of_per_pulse_energies():
    for writer in (ResetOnlyWriter(bias_scheme="V/2", refresh_margin=0.3), ProgramVerifyWriter()):
        ledger = EnergyLedger()
        layer = _layer(writer, ledger=ledger, keep_schedules=10 ** 6)
        rng = np.random.default_rng(3)
        for _ in range(40):
            layer.update(rng.normal(size=(1, 6)), rng.normal(size=(1, 4)))
        per_pulse = sum(p.total_energy for s in layer.schedules for p in s)
        assert ledger.total() == pytest.approx(per_pulse, rel=1e-12)
        assert ledger.total() > 0


def test_pulse_energy_and_half_select_by_hand():
    dev = FakeDevice()
    np.testing.assert_allclose(pulse_energy(dev, 0.8, 1e-7, np.array([50e-6]), np.array([40e-6])),
                               0.8 * 1e-7 * (0.8 * 50e-6 + 0.8 * 40e-6) / 2)
    G = np.arange(1, 13, dtype=float).reshape(3, 4) * 1e-6
    s = PulseSchedule.from_counts(np.array([[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]]),
                                  amplitude=1.0, width=1e-7, polarity="reset", bias_scheme="V/2")
    # half-selected: row 1, columns 0 and 2; columns 1 and 3, rows 0 and 2; each sees 0.5 V
    half = G[1, 0] + G[1, 2] + G[0, 1] + G[2, 1] + G[0, 3] + G[2, 3]
    np.testing.assert_allclose(half_select_energy(s, dev, G), [0.25 * half * 1e-7])
    s3 = PulseSchedule.from_counts(np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]),
                                   amplitude=0.9, width=1e-7, polarity="reset", bias_scheme="V/3")
    np.testing.assert_allclose(half_select_energy(s3, dev, G),
                               [0.09 * (G.sum() - G[1, 1]) * 1e-7])


def test_program_verify_costs_more_energy_per_unit_dG_than_reset_only():
    costs = {}
    for writer in (ResetOnlyWriter(refresh_margin=0.0), ProgramVerifyWriter()):
        ledger = EnergyLedger()
        layer = _layer(writer, seed=4, ledger=ledger)
        rng = np.random.default_rng(5)
        moved = 0.0
        for _ in range(30):
            gp, gm = layer.pairs.g_plus.copy(), layer.pairs.g_minus.copy()
            layer.update(rng.normal(size=(1, 6)), rng.normal(size=(1, 4)) * 0.1)
            moved += np.abs(layer.pairs.g_plus - gp).sum() + np.abs(layer.pairs.g_minus - gm).sum()
        costs[writer.name] = ledger.total() / moved           # J per S moved
    assert costs["program-verify"] > 2 * costs["reset-only"]
