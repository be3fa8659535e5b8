"""Small numerical helpers shared by the update rules (dimensionless, float64)."""
from __future__ import annotations

import numpy as np


def softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow."""
    return np.logaddexp(0.0, z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large ``|z|``."""
    out = np.empty_like(np.asarray(z, dtype=np.float64))
    z = np.asarray(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a (B, K) array."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a (B, K) array."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """(B,) integer labels -> (B, n_classes) float one-hot rows."""
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def length_normalize(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Divide each row by its root-mean-square, ``x / (sqrt(mean(x**2)) + eps)``.

    The Forward-Forward length normalisation (Hinton 2022; loeweX): only the direction of a layer's
    activity vector reaches the next layer, so a layer cannot read the previous layer's goodness.
    """
    return x / (np.sqrt(np.mean(x * x, axis=1, keepdims=True)) + eps)
