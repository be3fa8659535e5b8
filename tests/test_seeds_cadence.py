"""validation/seeds/cadence.py: the cost of study 1's per-sample update cadence through the
circuit (issue 17), timed on study 1's quick network; mechanics only (no timing assertions)."""

import json
import sys
from pathlib import Path

import pytest
from test_seeds_quick import _need  # skips without the data sets

SEEDS = Path(__file__).resolve().parents[1] / "validation" / "seeds"
if str(SEEDS) not in sys.path:
    sys.path.insert(0, str(SEEDS))


@pytest.mark.data
def test_cadence_times_every_rule_and_batch_and_reports_the_ratio(tmp_path):
    _need("imagenette4")
    import cadence

    argv = ["--quick", "--samples", "24", "--batches", "1,8", "--repeats", "1", "--out", tmp_path]
    assert cadence.main([str(a) for a in argv]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert set(res["per_sample_s"]) == {"ff", "competitive", "backprop"}
    for by_batch in res["per_sample_s"].values():
        assert set(by_batch) == {"1", "8"}
        assert all(len(ts) == 1 and ts[0] > 0 for ts in by_batch.values())
    assert res["n_samples"] == 24 and res["n_train"] > res["n_samples"]
    text = (tmp_path / "report.md").read_text()
    assert "| batch 1 / batch 8 |" in text and text.count("\n| ") >= 4


def test_cadence_refuses_a_batch_larger_than_the_samples():
    import cadence
    import study1
    from xbar.exceptions import ConfigError

    with pytest.raises(ConfigError, match="samples"):
        cadence.run(study1.quick_config(), ("ff",), (1, 50), 20, 1, print)
    with pytest.raises(ConfigError, match="rules"):
        cadence.main(["--rules", "sgd"])
