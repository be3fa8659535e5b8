"""Update rules in floating point: gradients against finite differences, and training on digits."""

import numpy as np
import pytest

import xbar.train as T
from _digits import COMPETITIVE_DIGITS, FF_DIGITS, digits_split
from xbar.exceptions import ConfigError
from xbar.train._common import length_normalize, log_softmax, one_hot, softplus


# ---------------------------------------------------------------- finite-difference helpers
def fd_grad(f, W, eps=1e-6):
    """Central finite differences of scalar f() w.r.t. every entry of W (modified in place)."""
    g = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        old = W[idx]
        W[idx] = old + eps
        fp = f()
        W[idx] = old - eps
        fm = f()
        W[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


@pytest.mark.parametrize("kind", ["mean", "sum"])
@pytest.mark.parametrize("positive", [True, False])
def test_ff_layer_gradient_matches_finite_differences(kind, positive):
    rng = np.random.default_rng(3)
    layer = T.FloatLayer.init(7, 5, random_state=rng, scale=3.0)
    x = rng.normal(size=(4, 7))

    def loss():
        return np.sum(T.ff_layer_loss(layer.forward(x), positive, 0.7, kind)[0])

    _, dl_da, _ = T.ff_layer_loss(layer.forward(x), positive, 0.7, kind)
    analytic = T.augment(x, True).T @ dl_da  # ΔW = x ⊗ δ form
    np.testing.assert_allclose(
        analytic, fd_grad(loss, T.stacked_weights(layer)), rtol=1e-6, atol=1e-8
    )


def test_ff_step_is_minus_lr_times_local_gradient():
    """The step's (x, δ) pairs give ΔW = −η ∂L/∂W of each layer's local loss, inputs held fixed."""
    rng = np.random.default_rng(0)
    rule = T.ForwardForward(lr=0.3, **{**FF_DIGITS, "threshold": 0.5})
    net = T.build_network(rule, 6, 3, [5, 4], random_state=1)
    for layer in net.layers:
        T.stacked_weights(layer)[...] *= 3
    x = rng.uniform(size=(5, 6))
    y = rng.integers(0, 3, size=5)
    res = rule.step(net, x, y, np.random.default_rng(7))
    assert res.n_passes == 2
    y_neg = rule._wrong_labels(net, x, y, np.random.default_rng(7))
    assert np.all(y_neg != y)
    B = len(y)
    for k, xin, delta in res.updates:
        xp, xn = xin[:B], xin[B:]
        layer = net.layers[k]

        def loss():
            lp = T.ff_layer_loss(layer.forward(xp), True, 0.5)[0]
            ln = T.ff_layer_loss(layer.forward(xn), False, 0.5)[0]
            return np.mean(lp + ln)

        dW = T.augment(xin, True).T @ delta
        np.testing.assert_allclose(
            dW, -0.3 * fd_grad(loss, T.stacked_weights(layer)), rtol=1e-5, atol=1e-9
        )
    # layer 1's inputs are the length-normalised ReLU outputs of layer 0
    _, x1, _ = res.updates[1]
    np.testing.assert_allclose(np.mean(x1**2, axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "opts",
    [
        dict(),  # loeweX conventions + peer norm
        dict(average="passes", norm="l2", label_mode="overwrite", threshold=3.0, peer_norm=0.5),
        dict(goodness="mean", threshold=0.4, peer_norm=0.0),
    ],
    ids=["defaults", "passes-l2-overwrite", "mean"],
)
def test_ff_step_of_last_layer_is_minus_lr_times_gradient_of_reported_loss(opts):
    """The last layer's (x, δ) give −η ∂L/∂W of the loss the step reports (including the peer
    term with its running mean), for every averaging / normalisation / label convention."""
    rng = np.random.default_rng(1)
    rule = T.ForwardForward(lr=0.2, **opts)
    net = T.build_network(rule, 12, 3, [6, 5], random_state=2)
    for layer in net.layers:
        T.stacked_weights(layer)[...] *= 4
    x, y = rng.uniform(size=(4, 12)), rng.integers(0, 3, size=4)
    rule.step(net, x, y, np.random.default_rng(0))  # one step to fill running means
    prev = {k: v.copy() for k, v in rule._running.items()}

    def loss():
        rule._running = {k: v.copy() for k, v in prev.items()}
        return rule.step(net, x, y, np.random.default_rng(7)).loss

    rule._running = {k: v.copy() for k, v in prev.items()}
    res = rule.step(net, x, y, np.random.default_rng(7))
    k, xin, delta = res.updates[-1]
    dW = T.augment(xin, True).T @ delta
    np.testing.assert_allclose(
        dW, -0.2 * fd_grad(loss, T.stacked_weights(net.layers[k])), rtol=1e-5, atol=1e-9
    )
    if opts.get("label_mode") == "overwrite":
        assert net.sizes[0] == 12
    if opts.get("average") == "passes":  # the reported loss is the mean over 2B passes
        rule._running = {}
        r2 = T.ForwardForward(lr=0.2, **{**opts, "average": "samples", "peer_norm": 0.0})
        r1 = T.ForwardForward(lr=0.2, **{**opts, "peer_norm": 0.0})
        l1 = r1.step(net, x, y, np.random.default_rng(7)).loss
        l2 = r2.step(net, x, y, np.random.default_rng(7)).loss
        assert l2 == pytest.approx(2 * l1)


def test_length_normalisations_differ_by_sqrt_n():
    x = np.random.default_rng(0).uniform(size=(3, 16))
    np.testing.assert_allclose(
        length_normalize(x, kind="rms"), 4.0 * length_normalize(x, kind="l2"), rtol=1e-7
    )


def test_competitive_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    layer = T.FloatLayer.init(6, 9, random_state=rng, scale=3.0)
    x = rng.normal(size=(4, 6))
    y = np.array([0, 2, 1, 2])

    def loss():
        return np.sum(T.competitive_layer_loss(layer.forward(x), y, 3, 0.7)[0])

    _, dl_da, g = T.competitive_layer_loss(layer.forward(x), y, 3, 0.7)
    a = np.maximum(layer.forward(x), 0)
    np.testing.assert_allclose(g[:, 1], np.mean(a[:, 3:6] ** 2, axis=1))  # contiguous groups
    np.testing.assert_allclose(
        T.augment(x, True).T @ dl_da, fd_grad(loss, T.stacked_weights(layer)), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("readout", ["linear", "group_goodness"])
def test_backprop_gradient_matches_finite_differences(readout):
    rng = np.random.default_rng(2)
    rule = T.Backprop(lr=1.0, readout=readout)
    net = T.build_network(rule, 5, 3, [6, 6], random_state=4)
    for layer in net.layers:
        T.stacked_weights(layer)[...] *= 2
    x = rng.normal(size=(4, 5))
    y = np.array([0, 1, 2, 1])
    loss, _, xs, dAs = rule.loss_and_grads(net, x, y)
    for k, layer in enumerate(net.layers):
        analytic = T.augment(xs[k], True).T @ dAs[k] / len(y)
        num = fd_grad(lambda: rule.loss_and_grads(net, x, y)[0], T.stacked_weights(layer))
        np.testing.assert_allclose(analytic, num, rtol=1e-5, atol=1e-8)


def test_softmax_sgd_step_is_cross_entropy_gradient():
    rng = np.random.default_rng(0)
    rule = T.SoftmaxSGD(lr=0.5)
    net = T.build_network(rule, 4, 3, [], random_state=0)
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)

    def loss():
        return np.mean(-log_softmax(net.layers[0].forward(x))[np.arange(6), y])

    res = rule.step(net, x, y, rng)
    ((k, xin, delta),) = res.updates
    np.testing.assert_allclose(
        T.augment(xin, True).T @ delta,
        -0.5 * fd_grad(loss, T.stacked_weights(net.layers[0])),
        rtol=1e-6,
        atol=1e-9,
    )
    assert res.loss == pytest.approx(loss())


def test_lfm_acts_only_on_mistakes_and_weakens_the_wrong_winner():
    x = np.array([[1.0, 0.0, 0.9], [0.2, 1.0, 0.0]])
    logits = np.array([[0.0, 3.0, 1.0], [5.0, 1.0, 0.0]])
    y = np.array([1, 2])  # sample 0 right, sample 1 wrong (pred 0)
    s, delta = T.lfm_update(x, y, logits, 0.1, 0.5, strengthen=True)
    np.testing.assert_array_equal(s, [[0.0, 1.0, 0.0]])  # only input 1 of sample 1 is active
    np.testing.assert_allclose(delta, [[-0.1, 0.0, 0.1]])
    _, delta = T.lfm_update(x, y, logits, 0.1, 0.5, strengthen=False)
    np.testing.assert_allclose(delta, [[-0.1, 0.0, 0.0]])
    s, _ = T.lfm_update(x, np.array([1, 0]), logits, 0.1, 0.5, True)  # no mistakes
    assert s.shape[0] == 0


def test_helpers():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(length_normalize(x)[0], [3 / np.sqrt(12.5), 4 / np.sqrt(12.5)])
    assert np.all(np.isfinite(length_normalize(x)))
    e = T.embed_labels(np.ones((2, 3)), np.array([1, 0]), 2, scale=2.0)
    np.testing.assert_array_equal(e, [[0, 2, 1, 1, 1], [2, 0, 1, 1, 1]])
    np.testing.assert_allclose(T.embed_labels(np.ones((1, 1)), None, 4)[0, :4], 0.25)
    np.testing.assert_allclose(softplus(np.array([-800.0, 0.0, 800.0])), [0, np.log(2), 800])
    np.testing.assert_array_equal(one_hot(np.array([2]), 3), [[0, 0, 1]])


def test_bad_configuration_is_rejected():
    with pytest.raises(ConfigError, match="lr"):
        T.ForwardForward(lr=-1)
    with pytest.raises(ConfigError, match="negatives"):
        T.ForwardForward(negatives="bogus")
    with pytest.raises(ConfigError, match="multiples of n_classes"):
        T.build_network(T.Competitive(), 8, 3, [10])
    with pytest.raises(ConfigError, match="hidden must be empty"):
        T.build_network(T.SoftmaxSGD(), 8, 3, [10])
    with pytest.raises(ConfigError, match="both be 0"):
        T.SoftmaxSGD(lr=0.0, lfm_rate=0.0)
    with pytest.raises(ConfigError, match="n_out"):
        T.Network([T.FloatLayer.init(3, 4), T.FloatLayer.init(5, 2)], 2)


# ---------------------------------------------------------------- training on sklearn digits
@pytest.fixture(scope="module")
def digits():
    return digits_split()


def _train(rule, hidden, data, epochs, batch=16, seed=0):
    Xtr, ytr, Xte, yte = data
    net = T.build_network(rule, Xtr.shape[1], 10, hidden, random_state=seed)
    rng = np.random.default_rng(seed + 1)
    for _ in range(epochs):
        order = rng.permutation(len(ytr))
        for s in range(0, len(order), batch):
            b = order[s : s + batch]
            for k, xin, delta in rule.step(net, Xtr[b], ytr[b], rng).updates:
                net.layers[k].update(xin, delta)
    return float(np.mean(rule.predict(net, Xte) == yte))


# Thresholds: measured accuracies (seed 0, 397 held-out digits) minus a margin of a few points.
@pytest.mark.parametrize(
    "rule, hidden, epochs, min_acc",
    [
        (T.ForwardForward(lr=2.0, **FF_DIGITS), [100, 100], 20, 0.88),  # measured 0.947
        (T.Competitive(**COMPETITIVE_DIGITS), [100, 100], 10, 0.93),  # measured 0.97
        (T.SoftmaxSGD(lr=0.5), [], 10, 0.94),  # measured 0.97
        (T.SoftmaxSGD(lr=0.5, lfm_rate=0.05), [], 10, 0.94),
        (T.LearningFromMistakes(lfm_rate=0.05), [], 10, 0.88),  # measured 0.93
        (T.Backprop(lr=0.2), [100], 10, 0.95),  # measured 0.98
        (T.Backprop(lr=0.05, readout="group_goodness"), [100, 100], 10, 0.95),
    ],
    ids=["ff", "competitive", "sgd", "sgd+lfm", "lfm", "backprop", "backprop-groups"],
)
def test_rule_trains_on_digits(digits, rule, hidden, epochs, min_acc):
    assert _train(rule, hidden, digits, epochs) >= min_acc
