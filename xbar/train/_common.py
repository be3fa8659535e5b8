"""Small numerical helpers shared by the update rules (dimensionless, float64)."""

from __future__ import annotations

import numpy as np


def softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow.

    Parameters
    ----------
    z : numpy.ndarray
        Any shape, dimensionless.

    Returns
    -------
    numpy.ndarray
        Same shape, float64, > 0.
    """
    return np.logaddexp(0.0, z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large ``|z|``.

    Parameters
    ----------
    z : numpy.ndarray
        Any shape, dimensionless.

    Returns
    -------
    numpy.ndarray
        ``1 / (1 + exp(-z))``, same shape, float64, in [0, 1].
    """
    out = np.empty_like(np.asarray(z, dtype=np.float64))
    z = np.asarray(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a (B, K) array.

    Parameters
    ----------
    z : numpy.ndarray
        Logits, shape (B, K), dimensionless.

    Returns
    -------
    numpy.ndarray
        Probabilities, shape (B, K); each row sums to 1.
    """
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a (B, K) array.

    Parameters
    ----------
    z : numpy.ndarray
        Logits, shape (B, K), dimensionless.

    Returns
    -------
    numpy.ndarray
        Log-probabilities, shape (B, K) (<= 0).
    """
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """(B,) integer labels -> (B, n_classes) float one-hot rows.

    Parameters
    ----------
    y : numpy.ndarray
        Integer class labels in ``[0, n_classes)``, shape (B,).
    n_classes : int
        Number of classes (columns of the result).

    Returns
    -------
    numpy.ndarray
        Shape (B, n_classes), float64: 1.0 at each row's label, 0.0 elsewhere.
    """
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def length_normalize(x: np.ndarray, eps: float = 1e-8, kind: str = "rms") -> np.ndarray:
    """Divide each row by its length: ``x / (sqrt(mean(x**2)) + eps)`` (``kind="rms"``) or
    ``x / (sqrt(sum(x**2)) + eps)`` (``kind="l2"``).

    The Forward-Forward length normalisation (Hinton 2022): only the direction of a layer's
    activity vector reaches the next layer, so a layer cannot read the previous layer's goodness.
    RMS (loeweX; each row then has ``sum x² = n``) and L2 (mpezeshki; ``sum x² = 1``) differ by
    ``sqrt(n)`` in the row length, hence by ``n`` in the next layer's goodness at equal weights:
    a threshold tuned with one must be scaled by ``n`` (the inputs' width) to be reused with the other.

    Parameters
    ----------
    x : numpy.ndarray
        Activities, shape (B, n), dimensionless.
    eps : float, optional
        Added to the row length before dividing (default 1e-8), so a zero row stays zero.
    kind : str, optional
        ``"rms"`` (default) or ``"l2"``: the row length used (any other value acts as ``"l2"``).

    Returns
    -------
    numpy.ndarray
        The normalised rows, shape (B, n).
    """
    sq = (
        np.mean(x * x, axis=1, keepdims=True)
        if kind == "rms"
        else np.sum(x * x, axis=1, keepdims=True)
    )
    return x / (np.sqrt(sq) + eps)
