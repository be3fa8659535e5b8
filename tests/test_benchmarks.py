"""The benchmark scripts stay runnable (smoke runs of their --quick modes; no timing asserts)."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", ["bench_solver.py", "bench_nonlinear.py"])
def test_quick_benchmark_runs(script):
    out = subprocess.run([sys.executable, "-W", "ignore", str(BENCH / script), "--quick"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "ratio" in out.stdout
