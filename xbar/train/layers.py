"""Layers the training rules act on, and the protocol any layer (float or analog) must follow.

A layer maps inputs ``x`` (B, n_in) to pre-activations ``a = x @ weight.T + bias_vector``.  The
public accessors use the PyTorch and periphery orientation: ``weight`` (out, in) and a separate
``bias_vector`` (out,) (or None without a bias).  Internally weights are stored as the crossbar
stores conductances, stacked: shape (rows = inputs + bias row, cols = outputs), so ``W[i, j]`` is
the cell (pair) at word line ``i``, bit line ``j`` and the bias row is one extra word line driven at
input 1 (:func:`stacked_weights`); the requested changes of the rules have that stacked shape.

Rules never touch weights directly: they hand each layer its input ``x`` and a local error signal
``delta`` (B, n_out) and ask for ``ΔW = augment(x)ᵀ · delta`` (a sum of rank-1 outer products, the
row-signal × column-signal coincidence a crossbar can apply with pulses). A float layer adds it; a
pulsed layer (``xbar.train.pulsed``) turns it into programming pulses on devices.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .._deprecate import warn_renamed
from .._random import check_random_state
from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError


def augment(x: np.ndarray, bias: bool) -> np.ndarray:
    """Append the constant bias input (1.0) to every row of ``x`` when ``bias``.

    Parameters
    ----------
    x : ndarray, shape (B, n)
        Inputs (dimensionless).
    bias : bool
        Whether to append the constant input.
    """
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
        """Pre-activations (B, n_out) for inputs (B, n_in).

        Parameters
        ----------
        x : ndarray, shape (B, n_in)
            Inputs of a batch (dimensionless).
        """

    def update(self, x: np.ndarray, delta: np.ndarray) -> None:
        """Apply the requested change ``ΔW = augment(x)ᵀ · delta``.

        Parameters
        ----------
        x : ndarray, shape (B, n_in)
            Inputs of a batch (dimensionless).
        delta : ndarray, shape (B, n_out)
            Local error signal (dimensionless).
        """

    def apply_change(self, dW: np.ndarray) -> None:
        """Apply a dense requested change ``dW`` (n_in + bias, n_out).

        Parameters
        ----------
        dW : ndarray, shape (n_in + bias, n_out)
            Requested weight change, stacked (dimensionless).
        """

    def state_dict(self) -> dict:
        """Arrays and settings needed to restore the layer (for checkpoints)."""

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` saved.

        Parameters
        ----------
        state : dict
            What ``state_dict`` returned.
        """

    @property
    def weight(self) -> np.ndarray:
        """Effective weights (n_out, n_in), without the bias."""

    @property
    def bias_vector(self) -> np.ndarray | None:
        """Effective bias (n_out,), or None when ``bias`` is False."""


class WeightAccessors:
    """The public weight accessors of a layer, from its stacked (n_in + bias, n_out) weights.

    A layer class provides ``n_in``, ``bias`` and ``_stacked_weights()`` (its effective weights
    in the crossbar's stacked layout); this mixin gives it ``weight`` (out, in), ``bias_vector``
    (out,) and the deprecated ``weights`` (the stacked array).
    """

    n_in: int
    n_out: int
    bias: bool

    def _stacked_weights(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def weight(self) -> np.ndarray:
        """Effective weights (n_out, n_in), dimensionless, read-only (see ``set_weights``)."""
        w = self._stacked_weights()[: self.n_in].T
        w.flags.writeable = False
        return w

    @property
    def bias_vector(self) -> np.ndarray | None:
        """Effective bias (n_out,), dimensionless, read-only; None when ``bias`` is False."""
        if not self.bias:
            return None
        b = self._stacked_weights()[self.n_in]
        b.flags.writeable = False
        return b

    @property
    def weights(self) -> np.ndarray:
        """Deprecated: the stacked (n_in + bias, n_out) weights; use ``weight`` (out, in) and
        ``bias_vector`` (out,), or :func:`stacked_weights` for the stacked layout."""
        warn_renamed("weights", "weight (out, in) and bias_vector (out,)")
        return self._stacked_weights()


def stacked_weights(layer) -> np.ndarray:
    """A layer's effective weights in the stacked layout (n_in + bias, n_out), bias row last.

    The layout of the rules' requested changes (``apply_change``).  For a :class:`FloatLayer`
    this is the layer's storage itself (writes change the layer).

    Parameters
    ----------
    layer : Layer
        Any training layer.

    Returns
    -------
    ndarray, shape (n_in + bias, n_out)
        Dimensionless weights.
    """
    if isinstance(layer, WeightAccessors):
        return layer._stacked_weights()
    w = np.asarray(layer.weight).T
    return np.vstack([w, np.asarray(layer.bias_vector)[None, :]]) if layer.bias else w.copy()


def init_weights(
    n_in: int, n_out: int, *, bias: bool = True, scale: float = 1.0, random_state=None
) -> np.ndarray:
    """Uniform ``±scale/sqrt(n_in)`` initial weights with a zero bias row, shape (n_in + bias, n_out).

    Parameters
    ----------
    n_in : int
        Inputs (without the bias row).
    n_out : int
        Outputs.
    bias : bool, default True
        Whether to add the (zero) bias row.
    scale : float, default 1.0
        Half-width of the uniform draw times ``sqrt(n_in)`` (dimensionless).
    random_state : None, int or numpy.random.Generator
        Seed or generator of the draw.
    """
    rng = check_random_state(random_state)
    lim = scale / np.sqrt(n_in)
    W = rng.uniform(-lim, lim, size=(n_in + int(bias), n_out))
    if bias:
        W[-1] = 0.0
    return W


class FloatLayer(WeightAccessors):
    """A floating-point layer: the software reference for every rule.

    Parameters
    ----------
    W : array (n_in + bias, n_out)
        Initial weights in the stacked layout, bias row last (dimensionless);
        :meth:`from_weights` takes ``weight`` (out, in) and ``bias_vector`` (out,) instead.
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
    def init(
        cls,
        n_in: int,
        n_out: int,
        *,
        bias: bool = True,
        scale: float = 1.0,
        w_max: float | None = None,
        random_state=None,
    ) -> "FloatLayer":
        """A layer with :func:`init_weights` weights."""
        check_scalar(n_in, "n_in", low=1, integer=True)
        check_scalar(n_out, "n_out", low=1, integer=True)
        return cls(
            init_weights(n_in, n_out, bias=bias, scale=scale, random_state=random_state),
            bias=bias,
            w_max=w_max,
        )

    @classmethod
    def from_weights(cls, weight, bias_vector=None, *, w_max: float | None = None) -> "FloatLayer":
        """A layer with the given weights, in the public orientation.

        Parameters
        ----------
        weight : array_like, shape (n_out, n_in)
            Weights (dimensionless).
        bias_vector : array_like, shape (n_out,), optional
            Bias (dimensionless); None for a layer without a bias.
        w_max : float or None, default None
            Clip bound of the weights after each update (as in the constructor).

        Returns
        -------
        FloatLayer
        """
        weight = as_float_array(weight, "weight", shape=(None, None))
        if bias_vector is None:
            return cls(weight.T, bias=False, w_max=w_max)
        b = as_float_array(bias_vector, "bias_vector", shape=(weight.shape[0],))
        return cls(np.vstack([weight.T, b[None, :]]), bias=True, w_max=w_max)

    def _stacked_weights(self) -> np.ndarray:
        return self._W

    def set_weights(self, weight, bias_vector=None) -> None:
        """Replace the weights (and the bias), in the public orientation.

        Parameters
        ----------
        weight : array_like, shape (n_out, n_in)
            New weights (dimensionless).
        bias_vector : array_like, shape (n_out,), optional
            New bias (dimensionless); None keeps the current bias.  Only for a layer with a bias.
        """
        weight = as_float_array(weight, "weight", shape=(self.n_out, self.n_in))
        if bias_vector is not None:
            if not self.bias:
                raise ConfigError(
                    "bias_vector must be None for a layer without a bias "
                    f"(bias=False), got an array of shape {np.shape(bias_vector)}"
                )
            self._W[self.n_in] = as_float_array(bias_vector, "bias_vector", shape=(self.n_out,))
        self._W[: self.n_in] = weight.T

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Pre-activations (B, n_out) for inputs ``x`` (B, n_in), dimensionless.

        Parameters
        ----------
        x : ndarray, shape (B, n_in)
            Inputs of a batch (dimensionless).
        """
        a = x @ self._W[: self.n_in]
        if self.bias:
            a = a + self._W[self.n_in]
        return a

    def update(self, x: np.ndarray, delta: np.ndarray) -> None:
        """Apply ``ΔW = augment(x)ᵀ · delta`` for inputs ``x`` (B, n_in), errors ``delta`` (B, n_out).

        Parameters
        ----------
        x : ndarray, shape (B, n_in)
            Inputs of a batch (dimensionless).
        delta : ndarray, shape (B, n_out)
            Local error signal (dimensionless).
        """
        self.apply_change(augment(x, self.bias).T @ delta)

    def apply_change(self, dW: np.ndarray) -> None:
        """Add a dense change ``dW`` (n_in + bias, n_out), stacked (the optimiser's path).

        Parameters
        ----------
        dW : ndarray, shape (n_in + bias, n_out)
            Requested weight change, stacked (dimensionless).
        """
        self._W += dW
        if self.w_max is not None:
            np.clip(self._W, -self.w_max, self.w_max, out=self._W)

    def state_dict(self) -> dict:
        """Arrays and settings needed to restore the layer (for checkpoints)."""
        return {"W": self._W.copy()}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` saved (``{"W": stacked weights}``).

        Parameters
        ----------
        state : dict
            What :meth:`state_dict` returned.
        """
        self._W[...] = state["W"]

    def __repr__(self) -> str:
        return f"FloatLayer(n_in={self.n_in}, n_out={self.n_out}, bias={self.bias})"
