"""The benchmark scripts stay runnable (smoke runs of their --quick modes; no timing asserts)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", ["bench_solver.py", "bench_nonlinear.py"])
def test_quick_benchmark_runs(script):
    out = subprocess.run(
        [sys.executable, "-W", "ignore", str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "ratio" in out.stdout


def test_quick_runs_do_not_judge_small_sizes_against_full_size_targets():
    """Quick runs printed full-size targets next to small-size ratios with no mark (issue 13)."""
    sys.path.insert(0, str(BENCH))
    try:
        from _targets import target
    finally:
        sys.path.remove(str(BENCH))
    assert target(120, ">=", 100, "x", full_size="256x256") == "target >= 100x at 256x256: met"
    assert target(0.5, "<", 0.4, " s", full_size="1024x1024").endswith("MISSED")
    assert "not assessed" in target(34, ">=", 30, "x", full_size="256x256", quick=True)
    out = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            str(BENCH / "bench_analog_layer.py"),
            "--quick",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "is for 784 -> 256, batch 10,000: not assessed in a quick run" in out.stdout
