"""Sweep engine without Dask: spec validation, serial runs, records, resume, report, CLI."""

from __future__ import annotations

import io
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _invalid import invalid_values

from xbar.cli import main as cli_main
from xbar.exceptions import ConfigError
from xbar.sweep import Param, get_task, load_spec, parse_spec, report, run, task
from xbar.sweep.layer import LAYER_PARAMS
from xbar.sweep.mvm import MVM_PARAMS
from xbar.sweep.progress import Progress
from xbar.sweep.records import RecordStore, write_json_atomic

CALLS: list[tuple] = []

POWER_PARAMS = {
    "a": Param(float, 1.0, low=-10, high=10, unit="V", doc="base"),
    "n": Param(int, 2, low=0, high=8, doc="exponent"),
    "mode": Param(str, "plain", choices=("plain", "noisy"), doc="add seeded noise"),
    "flag": Param(bool, False, doc="unused switch"),
}


@task("test-power", params=POWER_PARAMS, metrics={"y": "a**n (V^n)", "noise": "seeded N(0,1) draw"})
def power_task(params: dict, seed: int) -> dict:
    """y = a**n; raises for the point a = 2, n = 3 (a deliberately failing point)."""
    CALLS.append((params["a"], params["n"], seed))
    if params["a"] == 2.0 and params["n"] == 3:
        raise RuntimeError("deliberate failure at a=2, n=3")
    noise = float(np.random.default_rng(seed).normal()) if params["mode"] == "noisy" else 0.0
    return {"y": params["a"] ** params["n"], "noise": noise}


@task("test-interrupt", params={"k": Param(int, 0, low=0, high=100)}, metrics={"k2": "k squared"})
def interrupt_task(params: dict, seed: int) -> dict:
    """Behaves like Ctrl-C at k = 2."""
    if params["k"] == 2:
        raise KeyboardInterrupt
    return {"k2": params["k"] ** 2}


@task("test-badmetrics", params={}, metrics={"y": "declared metric"})
def bad_metrics_task(params: dict, seed: int) -> dict:
    return {"z": 1.0}


SPEC = """
[sweep]
task = "test-power"
name = "power"
[base]
mode = "noisy"
[axes]
a = [1.0, 2.0, 3.0]
n = {start = 1, stop = 3, step = 1}
"""


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


# --------------------------------------------------------------------------------------- params
@pytest.mark.parametrize(
    "schema", [POWER_PARAMS, MVM_PARAMS, LAYER_PARAMS], ids=["test-power", "mvm", "layer"]
)
def test_schema_rejects_generated_invalid_values(schema):
    for name, p in schema.items():
        assert p.check(p.default, name) == p.default
        for bad in invalid_values(p):
            with pytest.raises(ConfigError, match=name):
                p.check(bad, name)


def test_param_accepts_int_for_float_and_bounds_inclusive():
    p = Param(float, 1.0, low=0, high=2)
    assert p.check(2, "x") == 2.0 and isinstance(p.check(2, "x"), float)
    assert p.check(0, "x") == 0.0
    with pytest.raises(ConfigError, match=r"x must be >= 0 and <= 2, got 2.5"):
        p.check(2.5, "x")


# ----------------------------------------------------------------------------------------- spec
def test_spec_expands_cartesian_product_in_order():
    spec = load_spec(SPEC)
    assert spec.n_points == 9
    pts = spec.points()
    assert [(p.params["a"], p.params["n"]) for p in pts] == [
        (a, n) for a in (1.0, 2.0, 3.0) for n in (1, 2, 3)
    ]
    assert all(
        p.params["mode"] == "noisy" and p.params["flag"] is False and p.seed == 0 for p in pts
    )
    assert len({p.hash for p in pts}) == 9
    assert [p.hash for p in load_spec(SPEC).points()] == [p.hash for p in pts]  # stable


def test_zip_groups_and_ranges():
    spec = load_spec(
        textwrap.dedent("""
        [sweep]
        task = "test-power"
        [axes]
        seed = [0, 1]
        [[zip]]
        a = {start = 0.1, stop = 10.0, num = 3, scale = "log"}
        n = [0, 4, 8]
        """)
    )
    assert spec.n_points == 6
    assert spec.axes[1].names == ("a", "n")
    assert spec.axes[1].values == ((0.1, 0), (1.0, 4), (10.0, 8))
    lin = parse_spec(
        {"sweep": {"task": "test-power"}, "axes": {"a": {"start": 0, "stop": 1, "num": 5}}}
    )
    assert [v[0] for v in lin.axes[0].values] == [0.0, 0.25, 0.5, 0.75, 1.0]
    step = parse_spec(
        {"sweep": {"task": "test-power"}, "axes": {"a": {"start": 0.1, "stop": 0.3, "step": 0.1}}}
    )
    assert [v[0] for v in step.axes[0].values] == [0.1, 0.2, 0.3]


def test_hash_depends_on_every_parameter_seed_and_task_version():
    base = parse_spec({"sweep": {"task": "test-power"}}).points()[0]
    for change in ({"a": 1.5}, {"n": 3}, {"mode": "noisy"}, {"flag": True}, {"seed": 1}):
        other = parse_spec({"sweep": {"task": "test-power"}, "base": change}).points()[0]
        assert other.hash != base.hash, change
    same = parse_spec({"sweep": {"task": "test-power"}, "base": {"a": 1}}).points()[
        0
    ]  # int 1 == 1.0
    assert same.hash == base.hash


BAD_SPECS = [
    ({"sweep": {"task": "test-power"}, "axes": {"b": [1.0]}}, r"unknown parameter 'b' in \[axes\]"),
    ({"sweep": {"task": "test-power"}, "base": {"mdoe": "plain"}}, r"'mdoe'.*did you mean 'mode'"),
    ({"sweep": {"task": "test-power"}, "axes": {"a": []}}, r"\[axes\] a is an empty axis"),
    (
        {"sweep": {"task": "test-power"}, "axes": {"n": [1, 2.5]}},
        r"\[axes\] n\[1\] must be an integer",
    ),
    (
        {"sweep": {"task": "test-power"}, "axes": {"a": ["x"]}},
        r"\[axes\] a\[0\] must be a real number",
    ),
    (
        {"sweep": {"task": "test-power"}, "base": {"a": 11.0}},
        r"\[base\] a must be >= -10 and <= 10 V, got 11.0",
    ),
    (
        {"sweep": {"task": "test-power"}, "axes": {"mode": ["plain", "loud"]}},
        r"mode\[1\] must be one of",
    ),
    ({"sweep": {"task": "test-power"}, "axes": {"a": 1.0}}, r"must be a list of values or a range"),
    ({"sweep": {"task": "test-power"}, "axes": {"a": [1.0, 1.0]}}, r"axis a repeats a value"),
    (
        {"sweep": {"task": "test-power"}, "base": {"a": 1.0}, "axes": {"a": [2.0]}},
        r"set both in \[base\]",
    ),
    ({"sweep": {"task": "test-power"}, "zip": [{"a": [1.0, 2.0], "n": [1]}]}, r"equal lengths"),
    ({"sweep": {"task": "test-power"}, "zip": [{}]}, r"\[\[zip\]\] group 1 must be a non-empty"),
    (
        {"sweep": {"task": "test-power"}, "axes": {"a": {"start": 0, "stop": 1, "num": 0}}},
        r"num must be",
    ),
    (
        {"sweep": {"task": "test-power"}, "axes": {"a": {"start": 0, "stop": 1}}},
        r"exactly one of num or step",
    ),
    (
        {"sweep": {"task": "test-power"}, "axes": {"a": {"start": 0, "stop": 1, "step": -1}}},
        r"step must be",
    ),
    (
        {
            "sweep": {"task": "test-power"},
            "axes": {"a": {"start": -1, "stop": 1, "num": 3, "scale": "log"}},
        },
        r"log' needs start and stop > 0",
    ),
    (
        {"sweep": {"task": "test-power"}, "axes": {"n": {"start": 0, "stop": 1, "num": 3}}},
        r"non-integer",
    ),
    (
        {"sweep": {"task": "test-power"}, "axes": {"a": {"start": 0, "stop": 1, "nun": 3}}},
        r"unknown range key",
    ),
    ({"sweep": {"task": "test-power"}, "grid": {}}, r"unknown section 'grid'"),
    (
        {"sweep": {"task": "test-power", "metric": ["y"]}},
        r"unknown key 'metric' in \[sweep\].*'metrics'",
    ),
    ({"sweep": {"task": "test-power", "metrics": ["w"]}}, r"unknown metric 'w'"),
    ({"sweep": {"task": "test-pwr"}}, r"unknown task 'test-pwr'.*did you mean 'test-power'"),
    ({"sweep": {"name": "x"}}, r"\[sweep\] task is required"),
    ({"base": {"a": 1.0}}, r"needs a \[sweep\] section"),
    (
        {"sweep": {"task": "mvm"}, "axes": {"g_min": [1e-6, 1e-3]}},
        r"rejects the point \{'g_min': 0.001\}.*g_min must be < g_max",
    ),
    ({"sweep": {"task": "no.such.module:fn"}}, r"cannot import module 'no.such.module'"),
    ({"sweep": {"task": "json:dumps"}}, r"not a function registered"),
]


@pytest.mark.parametrize("data,match", BAD_SPECS, ids=[m for _, m in BAD_SPECS])
def test_bad_specs_are_rejected_before_anything_runs(tmp_path, data, match):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=match):
        run(data, out=out, workers=0, progress=None)
    assert not out.exists() and CALLS == []


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_spec("[sweep\ntask = 1\n")
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")


# ------------------------------------------------------------------------------- task registry
def test_task_registration_rules():
    assert get_task("test-power").fn is power_task and power_task.sweep_task.name == "test-power"
    assert get_task(f"{__name__}:power_task") is power_task.sweep_task
    with pytest.raises(ConfigError, match="already registered"):
        task("test-power", params={}, metrics={"y": ""})(bad_metrics_task)
    with pytest.raises(ConfigError, match="'seed' is reserved"):
        task("t2", params={"seed": Param(int, 0)}, metrics={"y": ""})
    with pytest.raises(ConfigError, match="both as parameter and metric"):
        task("t3", params={"y": Param(float, 0.0)}, metrics={"y": ""})
    with pytest.raises(ConfigError, match="default of a"):
        task("t4", params={"a": Param(float, -1.0, low=0)}, metrics={"y": ""})


# ------------------------------------------------------------------------------- serial engine
def _records(out: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in (out / "records").glob("*.json")}


def test_serial_run_records_table_and_failure(tmp_path):
    out = tmp_path / "out"
    res = run(SPEC, out=out, workers=0, progress=None)
    assert (res.n_ok, res.n_failed, res.n_run, res.n_skipped) == (8, 1, 9, 0)
    recs = _records(out)
    assert len(recs) == 9 and set(recs) == {p.hash for p in res.spec.points()}
    rng0 = float(np.random.default_rng(0).normal())
    for rec in recs.values():
        assert set(rec) >= {
            "hash",
            "params",
            "metrics",
            "wall_time_s",
            "xbar_version",
            "seed",
            "status",
        }
        a, n = rec["params"]["a"], rec["params"]["n"]
        if (a, n) == (2.0, 3):
            assert rec["status"] == "failed" and rec["metrics"] == {}
            assert (
                rec["error"]["type"] == "RuntimeError" and "deliberate" in rec["error"]["message"]
            )
            assert "power_task" in rec["error"]["traceback"]
        else:
            assert rec["status"] == "ok" and rec["error"] is None
            assert rec["metrics"] == {"y": a**n, "noise": rng0}
        assert rec["wall_time_s"] >= 0 and rec["seed"] == 0
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(res.table).to_pylist()
    assert [(r["a"], r["n"]) for r in table] == [
        (p.params["a"], p.params["n"]) for p in res.spec.points()
    ]
    fail = [r for r in table if r["status"] == "failed"]
    assert len(fail) == 1 and np.isnan(fail[0]["y"]) and fail[0]["error"].startswith("RuntimeError")


def test_results_as_pandas(tmp_path):
    pytest.importorskip("pandas")
    from xbar.sweep import load_table

    res = run(SPEC, out=tmp_path, workers=0, progress=None)
    df = load_table(tmp_path)
    assert df.shape[0] == 9 and res.to_pandas()["y"].equals(df["y"])
    assert list(df.loc[df.status == "ok", "y"]) == [
        a**n for a in (1.0, 2.0, 3.0) for n in (1, 2, 3) if (a, n) != (2.0, 3)
    ]


def test_resume_skips_finished_points_and_retries_failed(tmp_path):
    out = tmp_path / "out"
    run(SPEC, out=out, workers=0, progress=None)
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    CALLS.clear()
    res = run(SPEC, out=out, workers=0, progress=None, retry_failed=False)
    assert CALLS == [] and res.n_skipped == 9 and res.n_run == 0
    res = run(SPEC, out=out, workers=0, progress=None)  # retries only the failed point
    assert CALLS == [(2.0, 3, 0)] and res.n_run == 1 and res.n_failed == 1
    lost = res.spec.points()[0]
    (out / "records" / f"{lost.hash}.json").unlink()
    CALLS.clear()
    res = run(SPEC, out=out, workers=0, progress=None, retry_failed=False)
    assert CALLS == [(1.0, 1, 0)] and res.n_ok == 8
    now = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    changed = {k for k in now if now[k] != mtimes.get(k)}
    assert changed == {
        f"{lost.hash}.json",
        f"{res.spec.points()[5].hash}.json",
    }  # re-made + retried


def test_extended_spec_reuses_overlapping_points(tmp_path):
    out = tmp_path / "out"
    run(SPEC, out=out, workers=0, progress=None)
    CALLS.clear()
    res = run(
        SPEC.replace("[1.0, 2.0, 3.0]", "[1.0, 2.0, 3.0, 4.0]"),
        out=out,
        workers=0,
        progress=None,
        retry_failed=False,
    )
    assert sorted(CALLS) == [(4.0, 1, 0), (4.0, 2, 0), (4.0, 3, 0)] and res.n_skipped == 9


def test_ctrl_c_keeps_finished_points_and_the_table(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\ntask = "test-interrupt"\n[axes]\nk = [0, 1, 2, 3]\n')
    out = tmp_path / "out"
    assert cli_main(["sweep", str(spec), "--out", str(out), "--workers", "0"]) == 130
    assert "re-run the same command to resume" in capsys.readouterr().err
    assert sorted(r["metrics"]["k2"] for r in _records(out).values()) == [0, 1]
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(out / "results.parquet").column("k2").to_pylist() == [0.0, 1.0]


def test_task_returning_wrong_metrics_fails_the_point():
    res = run({"sweep": {"task": "test-badmetrics"}}, workers=0, progress=None)
    assert res.n_failed == 1 and res.records[0]["error"]["type"] == "KeyError"


def test_atomic_write_leaves_no_partial_record(tmp_path, monkeypatch):
    store = RecordStore(tmp_path)
    (store.dir / ".stale.json.abc.tmp").write_text("{")  # as left by a killed writer
    store = RecordStore(tmp_path)
    assert list(store.dir.iterdir()) == []

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", explode)
    with pytest.raises(KeyboardInterrupt):
        store.write({"hash": "abc", "status": "ok"})
    assert list(store.dir.iterdir()) == []
    monkeypatch.undo()
    write_json_atomic(store.path("abc"), {"hash": "abc", "status": "ok"})
    assert store.load() == {"abc": {"hash": "abc", "status": "ok"}}


def test_csv_fallback_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    res = run(SPEC, out=tmp_path, workers=0, progress=None)
    assert res.table.name == "results.csv"
    import csv

    with open(res.table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9 and float(rows[1]["y"]) == 1.0**2


# ------------------------------------------------------------------------------------ progress
def test_progress_counts_failures_and_eta(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("xbar.sweep.progress.time.monotonic", lambda: now[0])
    buf = io.StringIO()
    bar = Progress(10, skipped=2, stream=buf, interval=0.0)  # draws at t=0
    assert "2/10 points (2 resumed), 0 failed, elapsed 00:00, ETA --:--" in buf.getvalue()
    now[0] = 10.0
    bar.update(ok=True)  # 1 point in 10 s, 7 left -> ETA 70 s
    assert (
        "3/10 points (2 resumed), 0 failed, elapsed 00:10, ETA 01:10"
        in buf.getvalue().splitlines()[-1]
    )
    now[0] = 20.0
    bar.update(ok=False)  # 2 points in 20 s, 6 left -> ETA 60 s
    assert (
        "4/10 points (2 resumed), 1 failed, elapsed 00:20, ETA 01:00"
        in buf.getvalue().splitlines()[-1]
    )


# -------------------------------------------------------------------------------------- report
def test_report_tables_match_an_independent_computation(tmp_path):
    out = tmp_path / "out"
    spec = SPEC.replace("[axes]", "[axes]\nseed = [0, 1]")
    run(spec, out=out, workers=0, progress=None)
    md = report(out).read_text()
    for m in ("y", "noise"):
        assert (out / "report" / f"{m}.png").stat().st_size > 10_000
        assert f"![{m}]({m}.png)" in md
    assert "18 — 16 ok, 2 failed, 0 not run yet" in md
    # mean of y over n (and seed) for a = 3: (3 + 9 + 27) / 3; for a = 2 the failed n = 3 is left out
    assert f"| 3 | {np.mean([3, 9, 27]):.4g} |" in md and f"| 2 | {np.mean([2, 4]):.4g} |" in md
    assert "| y | 1 | " in md and "| seed=0 |" not in md
    assert md.count("deliberate failure at a=2, n=3") == 2
    assert "seed=0, a=2, n=3" in md and "seed=1, a=2, n=3" in md


# ----------------------------------------------------------------------------------------- cli
def test_cli_run_check_report_and_errors(tmp_path, capsys):
    spec = tmp_path / "power.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    assert cli_main(["sweep", str(spec), "--check"]) == 0
    assert "9 points over 2 axes (3 x 3)" in capsys.readouterr().out and not out.exists()
    assert (
        cli_main(["sweep", str(spec), "--out", str(out), "--workers", "0"]) == 1
    )  # one point failed
    cap = capsys.readouterr()
    assert "9 points: 8 ok, 1 failed" in cap.out and "9/9 points, 1 failed" in cap.err
    assert cli_main(["sweep", "report", str(out)]) == 0
    assert (out / "report" / "REPORT.md").is_file()
    spec.write_text(SPEC.replace("a = [", "b = ["))
    assert cli_main(["sweep", str(spec), "--out", str(out), "--workers", "0"]) == 2
    assert "unknown parameter 'b'" in capsys.readouterr().err
    assert cli_main(["sweep", "report", str(tmp_path)]) == 2
    assert "not a sweep output directory" in capsys.readouterr().err
    spec.write_text(SPEC)
    assert cli_main(["sweep", str(spec)]) == 2
    assert "--out DIR is required" in capsys.readouterr().err


def test_run_without_output_directory_keeps_results_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run(SPEC, workers=0, progress=None)
    assert res.out is None and res.table is None and list(tmp_path.iterdir()) == []
    assert [r["metrics"].get("y") for r in res.records][:3] == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------- hardware fields as parameters
HW_SPEC = """
[sweep]
task = "layer"
metrics = ["rel_rms_error", "energy_per_sample_j"]
[base]
n_in = 40
batch = 8
hardware.array.max_rows = 32      # a TOML dotted key: the parameter hardware.array.max_rows
[axes]
hardware.adc.bits = [3, 8]
"""


def test_sweep_over_a_hardware_field_runs(tmp_path):
    spec = load_spec(HW_SPEC)
    assert spec.axis_names == ["hardware.adc.bits"]
    assert [p.params["hardware.array.max_rows"] for p in spec.points()] == [32, 32]
    res = run(spec, out=tmp_path / "out", workers=0, progress=False)
    recs = sorted(res.records, key=lambda r: r["params"]["hardware.adc.bits"])
    assert [r["status"] for r in recs] == ["ok", "ok"]
    coarse, fine = (r["metrics"] for r in recs)
    assert fine["rel_rms_error"] < 0.5 * coarse["rel_rms_error"]  # 8-bit ADC beats 3-bit
    assert fine["tiles"] == 2.0 and fine["energy_per_sample_j"] > 0


@pytest.mark.parametrize(
    "text, match",
    [
        ("[axes]\nhardware.adc.bits = [0, 4]", r"\[axes\] hardware.adc.bits\[0\] must be >= 1"),
        ("[axes]\nhardware.adc.bitz = [4]", r"unknown parameter 'hardware.adc.bitz'.*did you mean"),
        ('[base]\nhardware.array.cell = "1T1R"', r"rejects the point.*needs r_access"),
    ],
)
def test_bad_hardware_parameters_are_refused_before_running(text, match):
    with pytest.raises(ConfigError, match=match):
        load_spec('[sweep]\ntask = "layer"\n' + text)


def test_shipped_layer_hardware_spec_is_valid():
    spec = load_spec(
        Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "layer_hardware.toml"
    )
    assert spec.n_points == 12
    assert spec.axis_names == ["hardware.array.r_wordline", "hardware.adc.bits", "seed"]
    assert {p.params["hardware.array.max_rows"] for p in spec.points()} == {32}
