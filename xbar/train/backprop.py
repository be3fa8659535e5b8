"""Backpropagation of the same layered network, in floating point: the software reference.

Hidden layers ``y = ReLU(a)``; layers ≥ 2 receive length-normalised inputs
``h = y / (r + ε)``, ``r = sqrt(mean y²)``, exactly as the forward-only rules do, and the gradient
goes through that normalisation::

    ∂h_k/∂y_j = δ_kj/(r + ε) − y_k y_j / (N r (r + ε)²)

Read-out: ``"linear"`` (last layer = logits, softmax cross-entropy; the network D→H→…→K) or
``"group_goodness"`` (the competitive rule's class-group goodness of the last layer, softmax CE;
the very network :class:`~xbar.train.Competitive` trains). Every layer receives ``ΔW = −η·hᵀ·∂L/∂a / B``.
Backprop reads the layers' effective weights to send the error backwards, which an array cannot do
without extra transposed reads; it is the software reference, not a hardware rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError
from ._common import length_normalize, log_softmax, one_hot, softmax
from .competitive import group_goodness
from .network import relu
from .layers import stacked_weights
from .rules import Rule, StepResult

_EPS = 1e-8


def _normalize_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Gradient w.r.t. ``y`` of ``h = length_normalize(y)`` given ``g = ∂L/∂h``."""
    N = y.shape[1]
    r = np.sqrt(np.mean(y * y, axis=1, keepdims=True))
    gy = np.sum(g * y, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(r > 0, y * gy / (N * r * (r + _EPS) ** 2), 0.0)
    return g / (r + _EPS) - corr


@dataclass
class Backprop(Rule):
    """Plain SGD backpropagation.

    Parameters
    ----------
    lr : float, default 0.05
        Learning rate η (dimensionless; −η/B times the summed gradient) for plain steps; with
        ``SGD(momentum=0.9)`` about 0.01 (``examples/train/backprop_mnist.toml``).
    readout : {"linear", "group_goodness"}, default "linear"
    normalize : bool, default True
        Length-normalise the inputs of layers ≥ 2 (as the forward-only rules do).
    temperature : float, default 1.0
        Softmax temperature for the ``"group_goodness"`` read-out.
    """

    lr: float = 0.05
    readout: str = "linear"
    normalize: bool = True
    temperature: float = 1.0

    name = "backprop"

    def __post_init__(self):
        check_scalar(self.lr, "lr", low=0.0, low_open=True)
        check_choice(self.readout, "readout", {"linear", "group_goodness"})
        check_scalar(self.temperature, "temperature", low=0.0, low_open=True)

    def layer_sizes(self, n_features, n_classes, hidden):
        if self.readout == "linear":
            return [n_features, *hidden, n_classes]
        if not hidden or any(h % n_classes for h in hidden):
            raise ConfigError(
                f"hidden widths must be non-empty multiples of n_classes={n_classes} "
                f"for readout='group_goodness', got {hidden}"
            )
        return [n_features, *hidden]

    def _forward(self, net, x):
        h, xs, As = x, [], []
        for k, layer in enumerate(net.layers):
            xin = length_normalize(h, _EPS) if (k > 0 and self.normalize) else h
            a = layer.forward(xin)
            xs.append(xin)
            As.append(a)
            h = relu(a)
        return xs, As

    def _logits(self, a, K):
        if self.readout == "linear":
            return a
        return group_goodness(relu(a), K) / self.temperature

    def scores(self, net, x):
        _, As = self._forward(net, x)
        return self._logits(As[-1], net.n_classes)

    def loss_and_grads(self, net, x, y):
        """Mean loss and ``∂L/∂a`` (B, n_out) per layer, with the layer inputs used.

        Returns ``(loss, z, xs, dAs)``: z the logits.

        Parameters
        ----------
        net : Network
            The network the rule trains.
        x : ndarray, shape (B, n_features)
            A batch of features (dimensionless).
        y : ndarray of int, shape (B,)
            Labels.
        """
        K, B = net.n_classes, x.shape[0]
        xs, As = self._forward(net, x)
        z = self._logits(As[-1], K)
        loss = float(np.mean(-log_softmax(z)[np.arange(B), y]))
        dz = softmax(z) - one_hot(y, K)
        if self.readout == "linear":
            da = dz
        else:
            size = As[-1].shape[1] // K
            da = np.repeat(dz / self.temperature, size, axis=1) * (2.0 / size) * relu(As[-1])
        dAs = [None] * len(As)
        dAs[-1] = da
        for k in range(len(As) - 1, 0, -1):
            layer = net.layers[k]
            g_in = dAs[k] @ stacked_weights(layer)[: layer.n_in].T  # ∂L/∂(input of layer k)
            y_prev = relu(As[k - 1])
            g_y = _normalize_backward(y_prev, g_in) if self.normalize else g_in
            dAs[k - 1] = g_y * (As[k - 1] > 0)
        return loss, z, xs, dAs

    def step(self, net, x, y, random_state):
        B = x.shape[0]
        loss, z, xs, dAs = self.loss_and_grads(net, x, y)
        updates = [(k, xs[k], -(self.lr / B) * dAs[k]) for k in range(len(xs))]
        return StepResult(
            loss=loss, n_correct=int(np.sum(np.argmax(z, axis=1) == y)), updates=updates
        )
