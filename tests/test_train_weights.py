"""Train layers' public weights are (out, in) with a separate (out,) bias (issue 15, VOCAB), the
same numbers as the stacked (in + bias, out) storage; the old accessor and module paths warn."""

from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np
import pytest

import xbar.train as T
from xbar.exceptions import ConfigError


def _layer(bias=True):
    return T.FloatLayer.init(5, 3, bias=bias, random_state=4)


def test_weight_and_bias_are_the_stacked_storage_transposed():
    lay = _layer()
    W = T.stacked_weights(lay)
    assert lay.weight.shape == (3, 5) and lay.bias_vector.shape == (3,)
    np.testing.assert_array_equal(lay.weight, W[:5].T)
    np.testing.assert_array_equal(lay.bias_vector, W[5])
    x = np.random.default_rng(0).normal(size=(7, 5))
    lay.set_weights(lay.weight, np.arange(3.0))
    # forward is the (out, in) product plus the bias, as in PyTorch / AnalogLinear
    np.testing.assert_allclose(
        lay.forward(x), x @ lay.weight.T + np.arange(3.0), rtol=0, atol=1e-15
    )
    with pytest.raises(ValueError):
        lay.weight[0, 0] = 1.0  # read-only: set_weights writes
    assert _layer(bias=False).bias_vector is None


def test_set_weights_and_from_weights_round_trip():
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    lay = T.FloatLayer.from_weights(w, b)
    np.testing.assert_array_equal(lay.weight, w)
    np.testing.assert_array_equal(lay.bias_vector, b)
    lay2 = _layer()
    lay2.set_weights(w, b)
    np.testing.assert_array_equal(T.stacked_weights(lay2), T.stacked_weights(lay))
    lay2.set_weights(2 * w)  # bias kept
    np.testing.assert_array_equal(lay2.bias_vector, b)
    nob = T.FloatLayer.from_weights(w)
    assert not nob.bias and nob.n_in == 5
    with pytest.raises(ConfigError, match="weight"):
        lay2.set_weights(w.T)  # (in, out) is refused by shape
    with pytest.raises(ConfigError, match="bias_vector"):
        nob.set_weights(w, b)


def test_weights_is_a_deprecated_alias_of_the_stacked_array():
    lay = _layer()
    with pytest.warns(DeprecationWarning, match="weight"):
        W = lay.weights
    assert W is T.stacked_weights(lay)


@pytest.mark.parametrize(
    "old, new, name",
    [
        ("xbar.train.fit", "xbar.train.loop", "FitResult"),
        ("xbar.train.mapping", "xbar.train.pulse_mapping", "PulseMapping"),
        ("xbar.devices._measured", "xbar.reports.measured", "BOUNDS"),
    ],
)
def test_moved_modules_warn_and_re_export(old, new, name):
    saved = sys.modules.pop(old, None)
    try:
        with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
            mod = importlib.import_module(old)
        assert getattr(mod, name) is getattr(importlib.import_module(new), name)
    finally:
        sys.modules.pop(old, None)
        if saved is not None:
            sys.modules[old] = saved


def test_train_fit_stays_the_function_after_the_module_shim_is_imported():
    rule = T.SoftmaxSGD(lr=0.1)
    net = T.build_network(rule, 4, 2, random_state=0)
    X = np.random.default_rng(2).normal(size=(20, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    ref = T.loop.fit(net, (X, y), rule=rule, random_state=3, progress=False).history[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        importlib.import_module("xbar.train.fit")
    import xbar.train

    net = T.build_network(rule, 4, 2, random_state=0)
    got = xbar.train.fit(net, (X, y), rule=rule, random_state=3, progress=False).history[0]
    assert got["train_loss"] == ref["train_loss"]
