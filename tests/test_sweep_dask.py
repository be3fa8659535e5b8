"""Sweeps on Dask: a LocalCluster of 2 worker processes, an existing scheduler, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from xbar.cli import main as cli_main
from xbar.sweep import Param, run, task

distributed = pytest.importorskip("dask.distributed")

HERE = Path(__file__).resolve().parent


@task(
    "test-dask-draw",
    params={
        "x": Param(int, 0, low=0, high=1000),
        "delay": Param(float, 0.0, low=0, high=5, unit="s"),
        "log": Param(
            str, "", doc="file to which every execution appends 'x seed pid XBAR_NUM_THREADS'"
        ),
    },
    metrics={"value": "sum of 50 seeded normal draws"},
)
def draw(params: dict, seed: int) -> dict:
    """A seeded random metric; fails at x = 3, seed = 1."""
    if params["log"]:
        with open(params["log"], "a") as fh:
            fh.write(
                f"{params['x']} {seed} {os.getpid()} {os.environ.get('XBAR_NUM_THREADS', 0)}\n"
            )
    time.sleep(params["delay"])
    if params["x"] == 3 and seed == 1:
        raise ValueError("deliberate failure at x=3, seed=1")
    return {"value": float(np.random.default_rng([seed, params["x"]]).standard_normal(50).sum())}


def expected(x: int, seed: int) -> float:
    return float(np.random.default_rng([seed, x]).standard_normal(50).sum())


def spec_text(
    log: Path, n: int = 8, delay: float = 0.0, seeds=(0, 1), task_name="test-dask-draw"
) -> str:
    return textwrap.dedent(f"""
        [sweep]
        task = "{task_name}"
        [base]
        delay = {delay}
        log = "{log}"
        [axes]
        x = {{start = 0, stop = {n - 1}, step = 1}}
        seed = {list(seeds)}
        """)


def log_lines(log: Path) -> list[tuple[int, int, int]]:
    """(x, seed, pid) of every execution logged."""
    if not log.exists():
        return []
    return [tuple(int(t) for t in line.split()[:3]) for line in log.read_text().splitlines()]


def records(out: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in (out / "records").glob("*.json")}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_local_cluster_equals_serial_every_point_once(client, tmp_path):
    log = tmp_path / "calls.log"
    spec = spec_text(log)
    res = run(spec, client, out=tmp_path / "dask", progress=None)
    calls = log_lines(log)
    assert len(calls) == 16 and len({(x, s) for x, s, _ in calls}) == 16  # each point ran once
    assert len({pid for *_, pid in calls}) == 2 and os.getpid() not in {pid for *_, pid in calls}
    run(spec, out=tmp_path / "serial", workers=0, progress=None)
    d, s = records(tmp_path / "dask"), records(tmp_path / "serial")
    assert set(d) == set(s) == {p.hash for p in res.spec.points()}
    for h in d:
        assert d[h]["status"] == s[h]["status"] and d[h]["metrics"] == s[h]["metrics"]
        x, seed = d[h]["params"]["x"], d[h]["seed"]
        if (x, seed) == (3, 1):
            assert d[h]["status"] == "failed" and d[h]["error"]["type"] == "ValueError"
        else:
            assert d[h]["metrics"]["value"] == expected(x, seed)
    assert (res.n_ok, res.n_failed) == (15, 1)
    pq = pytest.importorskip("pyarrow.parquet")
    rows = pq.read_table(res.table).to_pylist()
    assert len(rows) == 16 and len({r["hash"] for r in rows}) == 16
    assert client.status == "running"  # a user's client is left open


def test_cli_with_existing_scheduler(client, tmp_path, capsys):
    log = tmp_path / "calls.log"
    spec = tmp_path / "s.toml"
    spec.write_text(spec_text(log, n=3, seeds=(0,)))
    out = tmp_path / "out"
    assert (
        cli_main(["sweep", str(spec), "--out", str(out), "--scheduler", client.scheduler.address])
        == 0
    )
    assert "3 points: 3 ok, 0 failed" in capsys.readouterr().out
    assert {(x, s) for x, s, _ in log_lines(log)} == {(0, 0), (1, 0), (2, 0)}
    assert os.getpid() not in {pid for *_, pid in log_lines(log)}


def test_resume_after_killing_the_run(client, tmp_path, capsys):
    """SIGKILL the whole `xbar sweep --workers 2` process group after 4 records, then resume.

    The resumed run is the same command pointed at the already running test cluster
    (``--scheduler``), which saves starting a second cluster.
    """
    log = tmp_path / "calls.log"
    spec = tmp_path / "s.toml"
    spec.write_text(spec_text(log, n=12, delay=0.25, seeds=(0,), task_name="test_sweep_dask:draw"))
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-c",
        "import sys; from xbar.cli import main; sys.exit(main())",
        "sweep",
        str(spec),
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 40
        while len(list((out / "records").glob("*.json"))) < 4:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep did not produce 4 records in 40 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the client, its LocalCluster nannies and workers
        proc.communicate()
    first = records(out)
    assert 4 <= len(first) < 12, "killed too late to test resuming"
    # the sweep's own LocalCluster keeps the OpenMP kernels single-threaded in its workers
    assert {line.split()[3] for line in log.read_text().splitlines()} == {"1"}
    mtimes = {h: (out / "records" / f"{h}.json").stat().st_mtime_ns for h in first}
    n_before = len(log_lines(log))

    rerun = cmd[3:-2] + ["--scheduler", client.scheduler.address]
    assert cli_main(rerun) == 0
    assert (
        f"12 points: 12 ok, 0 failed, {len(first)} reused, {12 - len(first)} run"
        in capsys.readouterr().out
    )
    final = records(out)
    assert len(final) == 12 and not list((out / "records").glob(".*"))  # no temp files left
    for h, rec in first.items():  # nothing finished was recomputed or rewritten
        assert final[h] == rec and (out / "records" / f"{h}.json").stat().st_mtime_ns == mtimes[h]
    second = {(x, s) for x, s, _ in log_lines(log)[n_before:]}
    done_first = {(r["params"]["x"], r["seed"]) for r in first.values()}
    assert not second & done_first
    assert second | done_first == {(x, 0) for x in range(12)}  # nothing lost
    for rec in final.values():
        assert rec["metrics"]["value"] == expected(rec["params"]["x"], 0)
