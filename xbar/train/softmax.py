"""Softmax regression by SGD, learning from mistakes, and their combination.

Softmax regression (one layer, logits ``z = x·W``)::

    p = softmax(z),   L = −log p_y,   ΔW_SGD = −η · xᵀ (p − onehot(y)) / B

Learning from mistakes (after Bak & Chialvo, Phys. Rev. E 63:031912, 2001, and Nikiruy et al.,
Sci. Rep. 14:7802, 2024; docs/references.rst, ref-learning-from-mistakes), driven only by misclassified samples: with the active
inputs ``A = {i : x_i > active_threshold}`` (binary row signal ``s_i = 1[i∈A]``) and the wrong
winner ``k* = argmax z``::

    ΔW_LFM = η_LFM · sᵀ (strengthen·onehot(y) − onehot(k*)) / B     only on samples with k* ≠ y

It weakens the paths that produced the wrong answer (depression of column k* on active rows, a
reset-only-friendly, sign-certain change) and, if ``strengthen``, reinforces the right ones.
``SoftmaxSGD(lfm_rate=...)`` applies both in the same step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_scalar
from ..exceptions import ConfigError
from ._common import log_softmax, one_hot, softmax
from .rules import Rule, StepResult


def lfm_update(x: np.ndarray, y: np.ndarray, logits: np.ndarray, rate: float,
               active_threshold: float, strengthen: bool):
    """Row signal and column signal of the learning-from-mistakes update.

    Returns ``(s, delta)`` with ``s`` (b, n_in) binary active inputs of the misclassified samples
    and ``delta`` (b, K) their column signals (per-sample, not yet divided by the batch size).
    """
    pred = np.argmax(logits, axis=1)
    wrong = pred != y
    s = (x[wrong] > active_threshold).astype(np.float64)
    K = logits.shape[1]
    delta = rate * (float(strengthen) * one_hot(y[wrong], K) - one_hot(pred[wrong], K))
    return s, delta


def _check_single_layer(net, name):
    if len(net.layers) != 1:
        raise ConfigError(f"{name} trains a single-layer network (softmax regression), "
                          f"got {len(net.layers)} layers")


@dataclass
class SoftmaxSGD(Rule):
    """Stochastic gradient descent on softmax regression, optionally with learning from mistakes.

    Parameters
    ----------
    lr : float, default 0.1
        SGD learning rate η (dimensionless; the step is −η/B times the summed gradient, the
        reported loss the mean cross-entropy). Plain steps, batch 100, MNIST: 90.5 / 91.0 / 91.6 %
        validation accuracy after epochs 1-3 (50k training digits; momentum 0.9 with η = 0.01
        gives the same), 91.8 % test after 5 epochs on 60k (``examples/train/sgd_mnist.toml``).
    lfm_rate : float, default 0.0
        η_LFM of the learning-from-mistakes term (0 = SGD alone). On MNIST (η = 0.1, batch 100,
        3 epochs) 0.05 / 0.01 / 0.002 gave 91.7 / 91.6 / 91.6 % validation accuracy (SGD alone
        91.6 %).
    active_threshold : float, default 0.5
        An input is "active" when above this value (input units; MNIST/digits scaled to [0, 1]).
    strengthen : bool, default True
        The LFM term also reinforces the true class on the active inputs.
    """

    lr: float = 0.1
    lfm_rate: float = 0.0
    active_threshold: float = 0.5
    strengthen: bool = True

    name = "sgd"

    def __post_init__(self):
        check_scalar(self.lr, "lr", low=0.0)
        check_scalar(self.lfm_rate, "lfm_rate", low=0.0)
        check_scalar(self.active_threshold, "active_threshold")
        if self.lr == 0 and self.lfm_rate == 0:
            raise ConfigError("lr and lfm_rate must not both be 0")
        if self.lfm_rate > 0:
            self.name = "sgd+lfm"

    def layer_sizes(self, n_features, n_classes, hidden):
        if hidden:
            raise ConfigError(f"hidden must be empty for softmax regression, got {hidden}")
        return [n_features, n_classes]

    def scores(self, net, x):
        _check_single_layer(net, type(self).__name__)
        return net.layers[0].forward(x)

    def step(self, net, x, y, rng):
        _check_single_layer(net, type(self).__name__)
        B, K = x.shape[0], net.n_classes
        z = net.layers[0].forward(x)
        loss = float(np.mean(-log_softmax(z)[np.arange(B), y]))
        updates = []
        if self.lr > 0:
            updates.append((0, x, -(self.lr / B) * (softmax(z) - one_hot(y, K))))
        if self.lfm_rate > 0:
            s, delta = lfm_update(x, y, z, self.lfm_rate, self.active_threshold, self.strengthen)
            if len(s):
                updates.append((0, s, delta / B))
        n_correct = int(np.sum(np.argmax(z, axis=1) == y))
        return StepResult(loss=loss, n_correct=n_correct, updates=updates)


@dataclass
class LearningFromMistakes(SoftmaxSGD):
    """Learning from mistakes alone (no gradient term): ``SoftmaxSGD(lr=0, lfm_rate=rate)``.

    Parameters
    ----------
    lfm_rate : float, default 0.01
        η_LFM (dimensionless).
    """

    lr: float = 0.0
    lfm_rate: float = 0.01

    name = "lfm"

    def __post_init__(self):
        super().__post_init__()
        self.name = "lfm"
