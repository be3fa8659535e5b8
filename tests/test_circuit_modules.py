"""The circuit package after its split (issue 15): one thread rule, one transfer break-even rule,
canonical bias-scheme names, the renamed nodal network and per-item batch reports."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import xbar
from xbar import ConfigError, ConvergenceError
from xbar import _threads
from xbar.circuit import bias, cost
from xbar.circuit.nodal import NodalNetwork

from dense_reference import dense_solve

KW = dict(r_wordline=2.0, r_bitline=3.0, r_driver=50.0, r_sense=20.0)


@pytest.fixture
def no_thread_env(monkeypatch):
    monkeypatch.delenv("XBAR_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


# ---------------------------------------------------------------- threads
def test_default_threads_follow_affinity_and_environment(monkeypatch, no_thread_env):
    monkeypatch.setattr(
        _threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5}, raising=False
    )
    monkeypatch.setattr(_threads, "_cpus", None)  # the mask is read once per process
    monkeypatch.setattr(_threads, "_openmp_limit", lambda: None)
    assert _threads.available_cpus() == 6 and _threads.default_threads() == 6
    monkeypatch.setenv("OMP_NUM_THREADS", "3,2")  # no OpenMP runtime: the variable
    assert _threads.default_threads() == 3  # (nested levels: the first counts)
    monkeypatch.setenv("XBAR_NUM_THREADS", "8")  # an explicit request wins
    assert _threads.default_threads() == 8
    assert _threads.batch_threads(1) == 8  # ... and is not capped by the batch
    monkeypatch.delenv("XBAR_NUM_THREADS")
    assert _threads.batch_threads(1) == 1 and _threads.batch_threads(100) == 3
    assert _threads.resolve_threads(5, 1) == 5  # the caller's n_threads as given
    monkeypatch.setattr(_threads, "_cpus", None)  # forget the fake mask


def test_default_threads_honour_threadpoolctl_openmp_limits(no_thread_env):
    """Regression: the old helpers read os.cpu_count() and ignored threadpoolctl's limits."""
    if _threads._openmp_limit() is None:
        pytest.skip("no OpenMP runtime loaded")
    with threadpool_limits(limits=1, user_api="openmp"):
        assert _threads.default_threads() == 1
        assert _threads.batch_threads(64) == 1
    assert _threads.default_threads() == min(_threads.available_cpus(), _threads._openmp_limit())


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_malformed_thread_variables_are_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("XBAR_NUM_THREADS", value)
    with pytest.raises(ConfigError, match="XBAR_NUM_THREADS must be an integer >= 1"):
        _threads.default_threads()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2"])
def test_resolve_threads_refuses_a_bad_n_threads(bad):
    with pytest.raises(ConfigError, match="n_threads must be an integer >= 1"):
        _threads.resolve_threads(bad)


def test_a_runtime_change_of_omp_num_threads_is_not_a_limit(monkeypatch, no_thread_env):
    """OpenMP reads OMP_NUM_THREADS when it loads; Dask's nannies set it to 1 in the parent
    process later (test_sweep_dask), which must not turn xbar's solves single-threaded."""
    if _threads._openmp_limit() is None:
        pytest.skip("no OpenMP runtime loaded")
    before = _threads.default_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _threads.default_threads() == before


def test_solves_under_an_openmp_limit_give_the_same_numbers(rng, no_thread_env):
    xb = xbar.Crossbar(rng.uniform(1e-6, 1e-4, (16, 12)), **KW)
    V = rng.uniform(0, 0.3, (5, 16))
    free = xb.read(V, method="pcg")
    with threadpool_limits(limits=1, user_api="openmp"):
        one = xb.read(V, method="pcg")
    np.testing.assert_array_equal(one, free)


# ---------------------------------------------------------------- break-even
@pytest.mark.parametrize("shape", [(1, 1), (2, 9), (3, 3), (12, 10), (128, 72), (64, 300)])
def test_transfer_break_even_is_a_third_of_the_smaller_side(shape):
    assert cost.transfer_break_even(*shape) == max(1, min(shape) // 3)


@pytest.mark.parametrize("batch", [1, 2, 3, 4])
def test_auto_read_builds_the_map_from_the_break_even_batch(rng, batch):
    G = rng.uniform(1e-6, 1e-4, (12, 10))  # break-even: 3 inputs
    xb = xbar.Crossbar(G, **KW)
    V = rng.uniform(0, 0.3, (batch, 12))
    out = xb.read(V)
    assert xb.has_transfer_matrix() == (batch >= cost.transfer_break_even(12, 10))
    ref = np.array([dense_solve(G, 2.0, 3.0, 50.0, 20.0, v, np.zeros(10))[3] for v in V])
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=0)


def test_layer_rule_is_the_crossbar_rule(rng):
    """The periphery's default read strategy decides as Crossbar.read does."""
    from xbar.periphery import AnalogLinear, ReadStrategy

    layer = AnalogLinear(rng.normal(size=(7, 20)))
    tile = layer.tiles[0]
    need = cost.transfer_break_even(*tile.crossbar.shape)
    assert need > 1 and not tile.maps_ready(layer.energy)
    strategy = ReadStrategy()
    assert not strategy.use_maps(layer, tile, need - 1)
    assert strategy.use_maps(layer, tile, need)


# ---------------------------------------------------------------- bias names
@pytest.mark.parametrize("old, new", [("V/2", "half"), ("V/3", "third")])
def test_deprecated_scheme_spellings_warn_and_mean_the_same(old, new):
    with pytest.warns(DeprecationWarning, match=f"use '{new}'"):
        assert bias.scheme_name(old) == new
    with pytest.warns(DeprecationWarning):
        got = bias.scheme(old, 5, 4, [0, 2], 1, 1.5)
    want = bias.scheme(new, 5, 4, [0, 2], 1, 1.5)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_scheme_names_are_checked():
    for name in bias.SCHEMES:
        assert bias.scheme_name(name) == name
    with pytest.raises(ConfigError, match="scheme"):
        bias.scheme_name("V/4")


def test_select_lines_is_the_public_verb():
    np.testing.assert_array_equal(
        bias.select_lines(5, [1, 3], "rows"), [False, True, False, True, False]
    )
    with pytest.raises(ConfigError, match=r"rows must lie in \[0, 4\]"):
        bias.select_lines(5, 5, "rows")
    with pytest.raises(ConfigError, match="cols must be a non-empty int"):
        bias.select_lines(5, [], "cols")


# ---------------------------------------------------------------- nodal network
def test_old_network_module_is_a_deprecated_shim(rng):
    sys.modules.pop("xbar.circuit.network", None)
    with pytest.warns(DeprecationWarning, match="xbar.circuit.nodal"):
        old = importlib.import_module("xbar.circuit.network")
    assert old.Network is NodalNetwork
    assert old.build_problem is importlib.import_module("xbar.circuit.nodal").build_problem
    xb = xbar.Crossbar(rng.uniform(1e-6, 1e-4, (3, 4)), **KW)
    assert isinstance(xb.network(), old.Network)
    sys.modules.pop("xbar.circuit.network", None)


def test_circuit_and_training_networks_have_different_names():
    from xbar.train import Network

    assert NodalNetwork is not Network and NodalNetwork.__name__ != Network.__name__


# ---------------------------------------------------------------- batch reports
def test_failed_items_of_several_float_patterns_keep_the_rest_of_the_batch(rng):
    """Items in different NaN-pattern groups: the failures are reported per item and the other
    items equal their own single solves."""
    G = rng.uniform(1e-6, 1e-4, (24, 20))
    xb = xbar.Crossbar(G, r_wordline=10.0, r_bitline=10.0, r_driver=100.0, r_sense=100.0)
    R = rng.uniform(0, 1, (5, 24))
    C = np.zeros((5, 20))
    R[1, 3] = np.nan  # a second operator (row 3 floating)
    R[3] = 0.0
    R[3, 3] = np.nan  # same pattern as item 1, nothing driven: 0 V
    sol = xb.solve(R, C, method="pcg", maxiter=2, on_failure="ignore")
    assert sol.converged.shape == (5,) and sol.info.shape == (5,)
    assert sol.converged.tolist() == [False, False, False, True, False]
    with pytest.raises(ConvergenceError, match="4 batch item") as exc:
        xb.solve(R, C, method="pcg", maxiter=2)
    np.testing.assert_array_equal(exc.value.solution.info, sol.info)
    full = xb.solve(R, C, method="pcg")
    assert full.converged.all()
    for k in range(5):
        one = xb.solve(R[k], C[k], method="pcg")
        assert one.converged is True and one.info == 0
        np.testing.assert_allclose(full.col_currents[k], one.col_currents, rtol=1e-12, atol=1e-18)


# ---------------------------------------------------------------- renamed thread keywords
def test_old_thread_keywords_warn_and_behave_identically(rng):
    from xbar.circuit import memory, transfer

    with pytest.warns(DeprecationWarning, match="use 'n_threads'"):
        old = memory.solve_bytes(8, 8, 2, threads=3, full=True, direct=False)
    assert old == memory.solve_bytes(8, 8, 2, n_threads=3, full=True, direct=False)
    with pytest.warns(DeprecationWarning, match="use 'n_threads'"):
        got = transfer.in_parallel(lambda x: x * x, [1, 2, 3], workers=2)
    assert got == transfer.in_parallel(lambda x: x * x, [1, 2, 3], n_threads=2) == [1, 4, 9]
    assert transfer.in_parallel(lambda x: -x, [4, 5]) == [-4, -5]  # default: default_threads()
