"""SLOW (~1-3 min): both seed studies (validation/seeds/run.py) end to end in --quick mode.

Checks that each writes its report, plots and results.json, and that the numbers are sane:
accuracies in [0, 1] and above chance, energies positive, program-and-verify costing more than
reset-only updates, and the study-1 networks within the 8,064-device budget. Skipped when the
data sets are missing.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "validation" / "seeds" / "run.py"
if str(RUN.parent) not in sys.path:
    sys.path.insert(0, str(RUN.parent))


def _need(dataset: str) -> None:
    from xbar.data import data_dir
    from xbar.exceptions import ConfigError
    try:
        folder = data_dir() / dataset
    except ConfigError as exc:
        pytest.skip(f"data sets not available: {exc}")
    if not folder.is_dir():
        pytest.skip(f"data set {dataset!r} not found at {folder} (set XBAR_DATA_DIR)")


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _run(study: int, out: Path) -> tuple[dict, str]:
    proc = subprocess.run([sys.executable, str(RUN), "--study", str(study), "--quick", "--quiet",
                           "--out", str(out)], capture_output=True, text=True, env=_env(),
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (out / "report.md").read_text()
    assert "Wall time" in report or "wall time" in report
    assert "## Configuration" in report and "## Versions" in report
    return json.loads((out / "results.json").read_text()), report


@pytest.mark.data
@pytest.mark.slow
def test_study1_quick_report(tmp_path):
    _need("imagenette4")
    res, report = _run(1, tmp_path)
    for png in ("study1_accuracy.png", "study1_energy.png", "study1_stability.png"):
        assert (tmp_path / png).stat().st_size > 5000 and f"]({png})" in report
    runs = res["runs"]
    assert set(runs) == {"ff", "competitive", "backprop"}
    for name, rs in runs.items():
        assert len(rs) == len(res["config"]["seeds"])
        for r in rs:
            assert 0.0 <= r["test_accuracy"] <= 1.0
            assert all(0.0 <= a <= 1.0 for a in r["history"])
    # above chance (25 %) on average for every rule
    for name, rs in runs.items():
        mean = sum(r["test_accuracy"] for r in rs) / len(rs)
        assert mean > 0.3, (name, mean)
    for name in ("ff", "competitive"):
        for r in runs[name]:
            assert r["devices"] <= 8064
            e = r["energy"]
            assert e["update_J"] > 0 and e["inference_per_sample_J"] > 0 and e["pv_J"] > 0
            assert e["pv_over_reset"] > 1.0
            assert e["by_category_train_J"]["write"] > 0 and e["by_category_train_J"]["adc"] > 0
            assert all(0.0 <= a <= 1.0 for a in r["stability"].values())
            assert set(r["stability"]) == {"0 s", "1 hour", "1 day", "1 week", "1 month"}


@pytest.mark.data
def test_study2_quick_mechanics(tmp_path):
    """Study 2 in --quick mode: ceilings, validation split, budget controls, verdict lines, and
    LFM-as-published potentiating nothing; the report re-renders identically from results.json."""
    _need("mnist")
    res, report = _run(2, tmp_path)
    before = report
    (tmp_path / "report.md").unlink()
    subprocess.run([sys.executable, str(RUN), "--study", "2", "--render-only", "--quiet", "--out",
                    str(tmp_path)], check=True, capture_output=True, env=_env())
    assert (tmp_path / "report.md").read_text() == before
    for png in ("study2_accuracy.png", "study2_regimes.png"):
        assert (tmp_path / png).stat().st_size > 5000 and f"]({png})" in report
    runs = res["runs"]
    import study2
    assert set(runs) == {"float SGD", *study2.MAIN}
    # ceilings beside the device results
    assert "ceiling of the network" in report and "ceiling of a binary pair" in report
    # validation split: held out of the training digits, the reported epoch is the best on it
    d = res["data"]
    assert d["n_val"] == res["config"]["n_val"] > 0
    for name in study2.MAIN:
        for r in runs[name]:
            best = int(np.argmax(r["val_history"]))
            assert r["best_epoch"] == best + 1 and r["test_accuracy"] == r["test_history"][best]
            assert r["devices"] == 2 * 785 * 10
            assert all(p > 0 for p in r["pulses_per_epoch"])
    # at least one rate was chosen on validation, and the grid is reported
    assert any(g["source"] == "best validation accuracy" for g in res["tuning"]["grid"])
    # LFM as published potentiates nothing on the devices; the reinforcing variant does
    assert all(r["potentiated_cells"] == 0 for r in runs["device LFM published alone"])
    assert sum(r["potentiated_cells"]
               for r in runs["device SGD + LFM reinforcing (xbar's earlier rule)"]) > 0
    # every LFM method has its same-budget control and a verdict line with its statistic
    v = res["verdicts"]
    assert set(v["controls"]) == set(study2.CONTROL)
    assert v["claim"] in ("reproduced", "not reproduced")
    assert f"**{v['claim']}**" in report
    for method, t in v["controls"].items():
        line = next(ln for ln in report.splitlines() if ln.startswith(f"- {method} vs"))
        assert "paired t" in line or "no t-test" in line
    assert set(v["regimes"]) == set(res["config"]["regimes"])
