"""The sweep tasks take the point's seed as ``random_state``; ``seed=`` is a deprecated alias."""

from __future__ import annotations

import pytest

from xbar.sweep import get_task
from xbar.sweep.runner import execute_point


def _params(name: str, **kw) -> dict:
    t = get_task(name)
    p = {k: v for k, v in t.defaults().items() if k != "seed"}
    p.update(kw)
    t.check(dict(p, seed=0))
    return p


def _same_metrics(a: dict, b: dict, timing=()) -> None:
    assert set(a) == set(b)
    for k in a:
        if k not in timing:
            assert a[k] == b[k], k


def test_mvm_task_seed_keyword_warns_and_behaves_identically():
    from xbar.sweep.mvm import mvm

    p = _params("mvm", rows=6, cols=5, batch=3, r_wire=2.0)
    new = mvm(p, random_state=4)
    with pytest.warns(DeprecationWarning, match="random_state"):
        old = mvm(p, seed=4)
    _same_metrics(new, old, timing=("solve_time_s",))
    assert new["rel_rms_error"] != mvm(p, random_state=5)["rel_rms_error"]  # the seed matters


def test_layer_task_seed_keyword_warns_and_behaves_identically():
    from xbar.sweep.layer import layer

    p = _params("layer", n_out=4, n_in=6, batch=3)
    new = layer(p, random_state=2)
    with pytest.warns(DeprecationWarning, match="random_state"):
        old = layer(p, seed=2)
    _same_metrics(new, old)
    assert new["rel_rms_error"] != layer(p, random_state=3)["rel_rms_error"]


def test_train_task_seed_keyword_warns_and_behaves_identically():
    pytest.importorskip("sklearn")
    from xbar.sweep.train_tasks import train

    p = _params("train", n_train=40, batch=20, circuit=False)
    new = train(p, random_state=1)
    with pytest.warns(DeprecationWarning, match="random_state"):
        old = train(p, seed=1)
    _same_metrics(new, old, timing=("train_time_s",))


def test_execute_point_seed_keyword_warns_and_behaves_identically():
    def fn(params, random_state):
        return {"x": float(params["a"] * 10 + random_state)}

    new = execute_point(fn, {"a": 2}, random_state=3, metric_names=("x",))
    with pytest.warns(DeprecationWarning, match="random_state"):
        old = execute_point(fn, {"a": 2}, seed=3, metric_names=("x",))
    assert new["status"] == old["status"] == "ok"
    assert new["metrics"] == old["metrics"] == {"x": 23.0}
    with pytest.raises(TypeError, match="both"):
        execute_point(fn, {"a": 2}, seed=3, random_state=3, metric_names=("x",))
