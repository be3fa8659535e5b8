"""Sweeps never store a silently wrong result (issue 14 item 7, issue 13): NaN metrics fail the point,
points that cannot fit in memory are refused up front, every file is written atomically with the
permissions of the umask."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from xbar._io import open_atomic, write_atomic
from xbar.cli import main as cli_main
from xbar.exceptions import ConfigError
from xbar.sweep import Param, report, run, task
from xbar.sweep.mvm import mvm, mvm_memory


@task(
    "test-nan",
    params={"k": Param(int, 0, low=0, high=10)},
    metrics={"y": "k or NaN at k = 1", "z": "always 2"},
)
def nan_task(params: dict, seed: int) -> dict:
    k = params["k"]
    return {"y": float("nan") if k == 1 else (float("inf") if k == 2 else float(k)), "z": 2.0}


@task(
    "test-big",
    params={"n": Param(int, 1, low=1, high=10**9)},
    metrics={"y": "n"},
    memory=lambda p: 8.0 * p["n"],
)
def big_task(params: dict, seed: int) -> dict:
    return {"y": float(params["n"])}


def test_nan_metric_fails_the_point_and_keeps_the_finite_metrics(tmp_path):
    res = run(
        {"sweep": {"task": "test-nan"}, "axes": {"k": [0, 1, 2]}},
        out=tmp_path,
        workers=0,
        progress=None,
    )
    ok, nan, inf = res.records
    assert ok["status"] == "ok" and ok["metrics"] == {"y": 0.0, "z": 2.0}
    for rec in (nan, inf):
        assert rec["status"] == "failed"
        assert rec["error"]["type"] == "NonFiniteMetric" and "y=" in rec["error"]["message"]
        assert rec["metrics"] == {"y": None, "z": 2.0}
    assert "nan" in nan["error"]["message"] and "inf" in inf["error"]["message"]
    assert res.n_failed == 2
    md = report(tmp_path).read_text()
    assert "NonFiniteMetric" in md


def test_point_that_cannot_fit_in_memory_is_refused_before_running(tmp_path):
    spec = {
        "sweep": {"task": "mvm"},
        "axes": {"rows": [8, 4096]},
        "base": {"cols": 4096, "batch": 1_000_000},
    }
    with pytest.raises(ConfigError, match=r"2 of 2 points.*rows=4096.*needs an estimated 3\.76 PB"):
        run(spec, out=tmp_path, workers=0, progress=None)
    assert not (tmp_path / "records").exists()  # nothing ran, nothing written
    # the estimate matches the order of magnitude (>= 16 bytes per cell and input)
    assert mvm_memory({"rows": 4096, "cols": 4096, "batch": 10**6}) >= 16 * 4096**2 * 1e6
    # an explicit limit applies to any task with an estimate
    with pytest.raises(ConfigError, match="limit of 80 B"):
        run(
            {"sweep": {"task": "test-big"}, "axes": {"n": [1, 100]}},
            workers=0,
            progress=None,
            max_memory=80,
        )
    res = run(
        {"sweep": {"task": "test-big"}, "axes": {"n": [1, 10]}},
        workers=0,
        progress=None,
        max_memory=80,
    )
    assert res.n_ok == 2
    with pytest.raises(ConfigError, match="max_memory"):
        run({"sweep": {"task": "test-big"}}, workers=0, progress=None, max_memory=-1)


def test_mvm_memory_estimate_bounds_the_measured_peak():
    """tracemalloc peak of a real point lies below the estimate (and within a factor of 2)."""
    import tracemalloc
    from xbar.sweep.mvm import MVM_PARAMS

    p = {k: v.default for k, v in MVM_PARAMS.items()}
    p.update(rows=48, cols=40, batch=12)
    tracemalloc.start()
    try:
        mvm(p, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.4 * mvm_memory(p) <= peak <= mvm_memory(p)


def test_cli_check_prints_the_memory_estimate_and_refuses(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\ntask = "mvm"\n[base]\nrows = 64\ncols = 64\nbatch = 4\n')
    assert cli_main(["sweep", str(spec), "--check"]) == 0
    assert "largest estimated memory of one point: 4.49 MB" in capsys.readouterr().out
    assert cli_main(["sweep", str(spec), "--check", "--max-memory", "1e-3"]) == 2
    assert "needs an estimated 4.49 MB" in capsys.readouterr().err


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_every_sweep_file_follows_the_umask(tmp_path, umask022):
    """Records, sweep.json, the table and the report were 0600 (mkstemp) or not atomic."""
    res = run(
        {"sweep": {"task": "test-nan"}, "axes": {"k": [0, 3]}},
        out=tmp_path,
        workers=0,
        progress=None,
    )
    md = report(tmp_path)
    files = [
        *(tmp_path / "records").glob("*.json"),
        tmp_path / "sweep.json",
        res.table,
        md,
        *md.parent.glob("*.png"),
    ]
    assert len(files) >= 6
    for f in files:
        assert _mode(f) == 0o644, f
    assert not list(tmp_path.rglob("*.tmp"))


def test_open_atomic_keeps_the_old_file_on_error_and_follows_the_umask(tmp_path, umask022):
    path = tmp_path / "a.txt"
    write_atomic(path, "old")
    with pytest.raises(RuntimeError):
        with open_atomic(path) as fh:
            fh.write("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o644
    os.umask(0o077)
    write_atomic(tmp_path / "b.txt", "x")
    assert _mode(tmp_path / "b.txt") == 0o600
    with pytest.raises(ConfigError, match="mode"):
        with open_atomic(path, "a"):
            pass


def test_ledger_and_schedule_csv_are_atomic(tmp_path, umask022, monkeypatch):
    from xbar.pulses.ledger import EnergyLedger

    led = EnergyLedger()
    led.book("read", 1e-12, count=1, layer="a")
    path = led.to_csv(tmp_path / "ledger.csv")
    assert _mode(path) == 0o644 and "read" in path.read_text()
    old = path.read_text()
    import csv

    monkeypatch.setattr(csv, "writer", lambda fh: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        led.to_csv(path)
    assert path.read_text() == old and len(os.listdir(tmp_path)) == 1
    json.loads(led.to_json(tmp_path / "l.json"))
    assert _mode(tmp_path / "l.json") == 0o644
    assert np.isclose(EnergyLedger.from_json(tmp_path / "l.json").total(), 1e-12)
