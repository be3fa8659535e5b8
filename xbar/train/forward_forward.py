"""Forward-Forward, two-pass supervised (Hinton 2022, arXiv:2212.13345).

Per layer ℓ with input h (B, n_in) and pre-activation ``a = h·W``::

    y = ReLU(a),   G = mean_j y_j²  (or sum_j)           goodness
    L = softplus(θ − G⁺) + softplus(G⁻ − θ)               local logistic loss around θ
    ∂L/∂a_j = −σ(θ − G⁺)·(2/N)·y_j⁺   (positive pass)    N = n_out for mean goodness, 1 for sum
    ∂L/∂a_j = +σ(G⁻ − θ)·(2/N)·y_j⁻   (negative pass)
    ΔW = −η · hᵀ · ∂L/∂a / B                              rank-1 per sample: x ⊗ δ

The label is embedded in the first K inputs (a one-hot of height ``label_scale``); the positive
pass carries the true label, the negative pass a wrong one. Between layers only the direction of
the activity passes on (length normalisation). Inference tries each label and picks the one with
the largest summed goodness. REFERENCES.md §2.1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_scalar
from ._common import length_normalize, one_hot, sigmoid, softplus
from .network import relu
from .rules import Rule, StepResult


def goodness(y: np.ndarray, kind: str = "mean") -> np.ndarray:
    """Goodness of activities ``y`` (B, N): ``mean_j y_j²`` or ``sum_j y_j²`` -> (B,)."""
    return np.mean(y * y, axis=1) if kind == "mean" else np.sum(y * y, axis=1)


def ff_layer_loss(a: np.ndarray, positive: bool, threshold: float, kind: str = "mean"):
    """Loss and its gradient with respect to the pre-activations of one layer.

    Parameters
    ----------
    a : array (B, N)
        Pre-activations.
    positive : bool
        True for the positive (true-label) pass.
    threshold : float
        θ of the logistic loss.
    kind : {"mean", "sum"}
        Goodness definition.

    Returns
    -------
    loss : array (B,)
        ``softplus(θ − G)`` (positive) or ``softplus(G − θ)`` (negative).
    dloss_da : array (B, N)
        ∂loss/∂a per sample.
    g : array (B,)
        Goodness.
    """
    y = relu(a)
    g = goodness(y, kind)
    n = a.shape[1] if kind == "mean" else 1
    if positive:
        loss = softplus(threshold - g)
        dl_dg = -sigmoid(threshold - g)
    else:
        loss = softplus(g - threshold)
        dl_dg = sigmoid(g - threshold)
    return loss, dl_dg[:, None] * (2.0 / n) * y, g


def embed_labels(x: np.ndarray, labels, n_classes: int, scale: float = 1.0) -> np.ndarray:
    """Prepend the label code to each row: first ``n_classes`` inputs = ``scale``·one-hot(label).

    ``labels`` may be an int array (B,) or ``None`` for the neutral code (``scale / n_classes``
    on every label input).
    """
    if labels is None:
        code = np.full((x.shape[0], n_classes), scale / n_classes)
    else:
        code = scale * one_hot(np.asarray(labels), n_classes)
    return np.concatenate([code, x], axis=1)


@dataclass
class ForwardForward(Rule):
    """Two-pass supervised Forward-Forward.

    Parameters
    ----------
    lr : float, default 2.0
        Learning rate η (dimensionless, per sample; the batch mean is applied). Plain SGD: with
        mean goodness the gradient carries a factor 2/N, hence the large value (tuned on digits).
    threshold : float, default 1.0
        θ, in units of the goodness (mean squared activity; tuned on sklearn digits, 100 units).
    goodness : {"mean", "sum"}, default "mean"
    label_scale : float, default 1.0
        Height of the embedded one-hot label (same units as the inputs).
    negatives : {"random", "hard"}, default "random"
        Wrong label for the negative pass: uniform over wrong labels, or the wrong label the
        network currently rates highest (costs K extra passes per sample).
    normalize_input : bool, default False
        Also length-normalise the first layer's input (layers ≥ 2 always get normalised inputs).
    score_layers : {"all", "skip_first"}, default "all"
        Layers whose goodness is summed at inference (loeweX skips the first of several).
    """

    lr: float = 2.0
    threshold: float = 1.0
    goodness: str = "mean"
    label_scale: float = 1.0
    negatives: str = "random"
    normalize_input: bool = False
    score_layers: str = "all"

    name = "ff"

    def __post_init__(self):
        check_scalar(self.lr, "lr", low=0.0, low_open=True)
        check_scalar(self.threshold, "threshold")
        check_choice(self.goodness, "goodness", {"mean", "sum"})
        check_scalar(self.label_scale, "label_scale", low=0.0, low_open=True)
        check_choice(self.negatives, "negatives", {"random", "hard"})
        check_choice(self.score_layers, "score_layers", {"all", "skip_first"})

    def layer_sizes(self, n_features, n_classes, hidden):
        if not hidden:
            from ..exceptions import ConfigError
            raise ConfigError("hidden must list at least one layer width for ForwardForward, got []")
        return [n_features + n_classes, *hidden]

    def n_inputs(self, n_features, n_classes):
        return n_features + n_classes

    def _layer_input(self, k: int, h: np.ndarray) -> np.ndarray:
        return length_normalize(h) if (k > 0 or self.normalize_input) else h

    def _passes(self, net, x0: np.ndarray):
        """Forward through all layers; yields (layer input, pre-activation) per layer."""
        h = x0
        out = []
        for k, layer in enumerate(net.layers):
            xin = self._layer_input(k, h)
            a = layer.forward(xin)
            out.append((xin, a))
            h = relu(a)
        return out

    def scores(self, net, x):
        K = net.n_classes
        s = np.zeros((x.shape[0], K))
        first = 1 if (self.score_layers == "skip_first" and len(net.layers) > 1) else 0
        for c in range(K):
            xe = embed_labels(x, np.full(x.shape[0], c), K, self.label_scale)
            for k, (_, a) in enumerate(self._passes(net, xe)):
                if k >= first:
                    s[:, c] += goodness(relu(a), self.goodness)
        return s

    def passes_per_prediction(self, net):
        return net.n_classes

    def _wrong_labels(self, net, x, y, rng):
        K = net.n_classes
        if self.negatives == "hard":
            s = self.scores(net, x)
            s[np.arange(len(y)), y] = -np.inf
            return np.argmax(s, axis=1)
        return (y + rng.integers(1, K, size=len(y))) % K

    def step(self, net, x, y, rng):
        K, B = net.n_classes, x.shape[0]
        y_neg = self._wrong_labels(net, x, y, rng)
        # positive and negative passes go through the arrays as one batch of 2B inputs
        both = self._passes(net, np.concatenate([embed_labels(x, y, K, self.label_scale),
                                                 embed_labels(x, y_neg, K, self.label_scale)]))
        updates, loss = [], 0.0
        for k, (xin, a) in enumerate(both):
            lp, dp, _ = ff_layer_loss(a[:B], True, self.threshold, self.goodness)
            ln, dn, _ = ff_layer_loss(a[B:], False, self.threshold, self.goodness)
            loss += float(np.mean(lp + ln))
            delta = -(self.lr / B) * np.concatenate([dp, dn], axis=0)
            updates.append((k, xin, delta))
        return StepResult(loss=loss, n_correct=None, updates=updates,
                          n_passes=2 + (K if self.negatives == "hard" else 0))

    def prepare_input(self, x, net):
        return embed_labels(x, None, net.n_classes, self.label_scale)
