"""Learning from mistakes as published (pruning only, selective punishment) vs xbar's earlier
reinforcing variant: the published rule never potentiates a synapse, in the rule's requests and
on stochastic binary device pairs."""

import sys
from pathlib import Path

import numpy as np
import pytest

import xbar.train as T
from xbar.exceptions import ConfigError
from xbar.train.layers import augment
from xbar.train.softmax import SoftmaxSGD, lfm_published_update

SEEDS_DIR = Path(__file__).resolve().parents[1] / "validation" / "seeds"


def _batch(rng, B=64, n_in=30, K=5):
    x = (rng.random((B, n_in)) > 0.5).astype(float)
    y = rng.integers(0, K, B)
    return x, y


def _requested_change(rule, net, x, y, rng):
    """The dense ΔW that the rule's LFM updates of one step request (bias row included)."""
    res = rule.step(net, x, y, rng)
    layer = net.layers[0]
    return [augment(xi, layer.bias).T @ d for _, xi, d in res.updates]


@pytest.mark.parametrize("variant, positive", [("published", False), ("reinforcing", True)])
def test_lfm_requests_no_potentiation_only_when_published(variant, positive):
    rng = np.random.default_rng(0)
    rule = SoftmaxSGD(lr=0.0, lfm_rate=0.1, variant=variant)
    net = T.build_network(rule, 30, 5, [], random_state=0)
    any_pos = False
    for _ in range(20):
        x, y = _batch(rng)
        for dW in _requested_change(rule, net, x, y, rng):
            any_pos |= bool(np.any(dW > 0))
            if not positive:
                assert np.all(dW <= 0)
                # only wrong winners' columns change
                pred = np.argmax(net.layers[0].forward(x), 1)
                changed = np.flatnonzero(np.any(dW != 0, axis=0))
                assert set(changed) <= set(pred[pred != y])
    assert any_pos == positive  # the reinforcing variant does potentiate (the test can fail)


def test_selective_punishment_scales_tagged_synapses():
    x = np.array([[1.0, 1.0, 0.0]])
    y = np.array([0])
    logits = np.array([[0.0, 1.0]])  # wrong winner: class 1
    tags = np.zeros((3, 2), dtype=bool)
    tags[0, 1] = True  # input 0 once led to a correct class-1 answer
    s, d = lfm_published_update(x, y, logits, 0.2, 0.5, tags, selective_factor=0.25)
    np.testing.assert_allclose(s, [[0.25, 1.0, 0.0]])
    np.testing.assert_allclose(d, [[0.0, -0.2]])
    # the rule tags the active inputs of correct answers
    rule = SoftmaxSGD(lr=0.0, lfm_rate=0.2, variant="published", selective_factor=0.25)
    rule.lfm_signals(np.array([[1.0, 0.0, 1.0]]), np.array([1]), np.array([[0.0, 1.0]]))
    np.testing.assert_array_equal(rule.tags, [[False, True], [False, False], [False, True]])


def test_published_rejects_positive_reinforcement():
    with pytest.raises(ConfigError, match="strengthen"):
        SoftmaxSGD(lfm_rate=0.1, variant="published", strengthen=True)
    with pytest.raises(ConfigError, match="variant"):
        SoftmaxSGD(lfm_rate=0.1, variant="bloom")
    assert SoftmaxSGD(lfm_rate=0.1).strengthen is True  # today's variant unchanged


@pytest.mark.parametrize("variant", ["published", "reinforcing"])
def test_true_class_synapse_never_potentiated_on_binary_pairs(variant):
    """On stochastic binary pairs (bloomed: every G+ in the LRS, plus half the G- so that the
    reinforcing rule has room to potentiate), the published rule never raises a weight; the
    reinforcing rule does."""
    if str(SEEDS_DIR) not in sys.path:
        sys.path.insert(0, str(SEEDS_DIR))
    from study2 import BinaryPairView, StochasticPairWriter

    from xbar.devices import StochasticBinaryReRAM
    from xbar.train.pulsed import PairArray, PulsedLayer

    model = StochasticBinaryReRAM(g_hrs=2e-6, g_lrs=40e-6)
    n_in, K = 20, 4
    plus = model.sample((n_in + 1, K), random_state=1, state="lrs")
    minus = model.sample((n_in + 1, K), random_state=2)
    minus.set_state(np.where(np.random.default_rng(3).random((n_in + 1, K)) < 0.5, 40e-6, 2e-6))
    pairs = PairArray(plus.G, minus.G, BinaryPairView(model), arrays={"+": plus, "-": minus})
    layer = PulsedLayer(
        pairs, StochasticPairWriter(), T.PulseMapping("stochastic"), w_max=0.05, random_state=4
    )
    net = T.Network([layer], K)
    rule = SoftmaxSGD(lr=0.0, lfm_rate=1.0, variant=variant)
    rng = np.random.default_rng(5)
    rises, falls = 0, 0
    for _ in range(30):
        x, y = _batch(rng, B=1, n_in=n_in, K=K)
        w0 = T.stacked_weights(layer).copy()
        res = rule.step(net, x, y, rng)
        for _, xi, d in res.updates:
            layer.update(xi, d)
        dw = T.stacked_weights(layer) - w0
        rises += int(np.sum(dw[:, y[0]] > 1e-12))
        falls += int(np.sum(dw < -1e-12))
    assert falls > 0  # the rule did act on the devices
    if variant == "published":
        assert rises == 0
    else:
        assert rises > 0
