"""sklearn digits for the training tests: features in [0, 1], a fixed shuffle, 1400 / 397 split."""

import numpy as np
import pytest


def digits_split():
    """(X_train, y_train, X_test, y_test); skips the test when scikit-learn is missing."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X = X / 16.0
    idx = np.random.default_rng(0).permutation(len(y))
    X, y = X[idx], y[idx]
    return X[:1400], y[:1400], X[1400:], y[1400:]


# The digits settings of the rules (the defaults are MNIST's): mean goodness, threshold 1, no peer
# normalisation, raw first-layer input, plain SGD with the step sizes below.
FF_DIGITS = dict(goodness="mean", threshold=1.0, normalize_input=False, peer_norm=0.0)
COMPETITIVE_DIGITS = dict(lr=0.5, normalize_input=False)
