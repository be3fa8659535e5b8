"""Layers the training rules act on, and the protocol any layer (float or analog) must follow.

A layer maps inputs ``x`` (B, n_in) to pre-activations ``a = x @ W[:n_in] + W[n_in]`` (the last row
is the bias, driven by a constant input of 1 when ``bias=True``). Weights are stored as the crossbar
stores conductances: shape (rows = inputs, cols = outputs), so a weight ``W[i, j]`` is the cell
(pair) at word line ``i``, bit line ``j``.

Rules never touch weights directly: they hand each layer its input ``x`` and a local error signal
``delta`` (B, n_out) and ask for ``ΔW = augment(x)ᵀ · delta`` (a sum of rank-1 outer products, the
row-signal × column-signal coincidence a crossbar can apply with pulses). A float layer adds it; a
pulsed layer (``xbar.train.pulsed``) turns it into programming pulses on devices.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .._random import check_random_state
from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError


def augment(x: np.ndarray, bias: bool) -> np.ndarray:
    """Append the constant bias input (1.0) to every row of ``x`` when ``bias``."""
    if not bias:
        return x
    return np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)


@runtime_checkable
class Layer(Protocol):
    """What a training rule needs from a layer.

    Attributes
    ----------
    n_in, n_out : int
        Inputs (word lines, without the bias row) and outputs (bit lines).
    bias : bool
        Whether the weight matrix carries a bias row (one extra word line at input 1).
    """

    n_in: int
    n_out: int
    bias: bool

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Pre-activations (B, n_out) for inputs (B, n_in)."""

    def update(self, x: np.ndarray, delta: np.ndarray) -> None:
        """Apply the requested change ``ΔW = augment(x)ᵀ · delta``."""

    def apply_change(self, dW: np.ndarray) -> None:
        """Apply a dense requested change ``dW`` (n_in + bias, n_out)."""

    @property
    def weights(self) -> np.ndarray:
        """Effective weights (n_in + bias, n_out)."""


def init_weights(n_in: int, n_out: int, *, bias: bool = True, scale: float = 1.0,
                 random_state=None) -> np.ndarray:
    """Uniform ``±scale/sqrt(n_in)`` initial weights with a zero bias row, shape (n_in + bias, n_out)."""
    rng = check_random_state(random_state)
    lim = scale / np.sqrt(n_in)
    W = rng.uniform(-lim, lim, size=(n_in + int(bias), n_out))
    if bias:
        W[-1] = 0.0
    return W


class FloatLayer:
    """A floating-point layer: the software reference for every rule.

    Parameters
    ----------
    W : array (n_in + bias, n_out)
        Initial weights (dimensionless).
    bias : bool, default True
        Whether the last row of ``W`` is the bias.
    w_max : float or None, default None
        If given, weights are clipped to ``[-w_max, w_max]`` after each update (the range a
        differential conductance pair can hold), so a float run can mimic the hardware bound.
    """

    def __init__(self, W, *, bias: bool = True, w_max: float | None = None):
        W = as_float_array(W, "W", shape=(None, None)).copy()
        if bias and W.shape[0] < 2:
            raise ConfigError(f"W must have at least 2 rows when bias=True, got shape {W.shape}")
        if w_max is not None:
            check_scalar(w_max, "w_max", low=0.0, low_open=True)
        self._W = W
        self.bias = bool(bias)
        self.w_max = w_max
        self.n_in = W.shape[0] - int(self.bias)
        self.n_out = W.shape[1]

    @classmethod
    def init(cls, n_in: int, n_out: int, *, bias: bool = True, scale: float = 1.0,
             w_max: float | None = None, random_state=None) -> "FloatLayer":
        """A layer with :func:`init_weights` weights."""
        check_scalar(n_in, "n_in", low=1, integer=True)
        check_scalar(n_out, "n_out", low=1, integer=True)
        return cls(init_weights(n_in, n_out, bias=bias, scale=scale, random_state=random_state),
                   bias=bias, w_max=w_max)

    @property
    def weights(self) -> np.ndarray:
        return self._W

    def forward(self, x: np.ndarray) -> np.ndarray:
        a = x @ self._W[: self.n_in]
        if self.bias:
            a = a + self._W[self.n_in]
        return a

    def update(self, x: np.ndarray, delta: np.ndarray) -> None:
        self.apply_change(augment(x, self.bias).T @ delta)

    def apply_change(self, dW: np.ndarray) -> None:
        """Add a dense change ``dW`` (n_in + bias, n_out) (the optimiser's path)."""
        self._W += dW
        if self.w_max is not None:
            np.clip(self._W, -self.w_max, self.w_max, out=self._W)

    def state_dict(self) -> dict:
        """Arrays and settings needed to restore the layer (for checkpoints)."""
        return {"W": self._W.copy()}

    def load_state_dict(self, state: dict) -> None:
        self._W[...] = state["W"]

    def __repr__(self) -> str:
        return f"FloatLayer(n_in={self.n_in}, n_out={self.n_out}, bias={self.bias})"
