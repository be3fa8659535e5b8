"""The study-1 sensitivity sweep (validation/seeds/sensitivity.py) on the project's sweep engine:
one spec whose [[zip]] rows change one parameter at a time, a registered task, and the summary
that reads each parameter's rows against the baseline."""

import sys
from pathlib import Path

import pytest

SEEDS_DIR = Path(__file__).resolve().parents[1] / "validation" / "seeds"
if str(SEEDS_DIR) not in sys.path:
    sys.path.insert(0, str(SEEDS_DIR))


def test_spec_rows_change_one_parameter_at_a_time():
    import sensitivity as S

    import xbar.sweep

    d = S.spec(quick=False, seeds=(0, 1))
    spec = xbar.sweep.parse_spec(d)
    rows = list(zip(*d["zip"][0].values()))
    names = list(d["zip"][0])
    assert dict(zip(names, rows[0])) == S.BASELINE
    assert len(rows) == 1 + sum(len(v) for v in S.VARIED.values())
    for row in rows[1:]:
        changed = [n for n, v in zip(names, row) if v != S.BASELINE[n]]
        assert len(changed) == 1
    assert len(spec.points()) == len(rows) * 3 * 2


def test_summary_groups_by_parameter():
    import sensitivity as S

    recs = []
    for rule in S.RULES:
        recs.append({"params": dict(S.BASELINE, rule=rule), "metrics": {"test_accuracy": 0.5}})
        recs.append(
            {"params": dict(S.BASELINE, rule=rule, r_wire=5.0), "metrics": {"test_accuracy": 0.3}}
        )
    out = S.summarise(recs)
    assert out["r_wire"]["ff"] == {"1.0": 0.5, "5.0": 0.3}
    assert out["adc_bits"]["ff"] == {"8": 0.5}  # the r_wire row is not an adc_bits point


def test_report_gives_the_spread_over_seeds():
    import sensitivity as S

    recs = [
        {"params": dict(S.BASELINE, rule=rule, r_wire=r), "metrics": {"test_accuracy": acc}}
        for rule in S.RULES
        for r in (1.0, 5.0)
        for acc in (0.4, 0.6)
    ]
    mean, sd = S.summarise(recs), S.summarise(recs, reduce=S.seed_std)
    assert mean["r_wire"]["ff"] == {"1.0": 0.5, "5.0": 0.5}
    assert sd["r_wire"]["ff"]["1.0"] == pytest.approx(0.1414, abs=1e-4)
    assert S.seed_std([0.3]) == 0.0
    text = S.report(mean, [], 60.0, 6, False, seeds=(0, 1), spread=sd)
    assert "| r_wire | 1.0 | 50.0 ± 14.1 % |" in text and "standard deviation over seeds" in text
    assert "±" not in S.report(mean, [], 60.0, 6, False, seeds=(0, 1))
    # a single seed's spread is unmeasured, not zero: no "± 0.0" beside its numbers
    one = S.summarise(recs[::2]), S.summarise(recs[::2], reduce=S.seed_std)
    text = S.report(one[0], [], 60.0, 6, False, seeds=(0,), spread=one[1])
    assert "| r_wire | 1.0 | 40.0 % |" in text and "±" not in text


def test_plots_one_panel_figure_and_one_figure_per_parameter(tmp_path):
    """``sensitivity.png`` holds every varied parameter as a panel (the README shows it); each
    parameter also gets its own figure; a parameter with a single value gets neither."""
    import sensitivity as S

    recs = [
        {"params": dict(S.BASELINE, rule=rule, **kw), "metrics": {"test_accuracy": acc}}
        for rule in S.RULES
        for kw, acc in (({}, 0.6), ({"r_wire": 5.0}, 0.4), ({"adc_bits": 4}, 0.3))
    ]
    files = S._plot(S.summarise(recs), tmp_path)
    assert files == ["sensitivity.png", "sensitivity_r_wire.png", "sensitivity_adc_bits.png"]
    for f in files:
        assert (tmp_path / f).stat().st_size > 5000
    assert not (tmp_path / "sensitivity_mapping.png").exists()


@pytest.mark.data
def test_one_point_through_the_sweep_engine(tmp_path):
    from xbar.data import data_dir

    if not (data_dir() / "imagenette4").is_dir():
        pytest.skip("imagenette4 not available")
    import sensitivity as S

    import xbar.sweep

    d = S.spec(quick=True)
    d["axes"] = {"rule": ["competitive"], "seed": [0]}
    d["zip"] = [{k: v[:2] for k, v in d["zip"][0].items()}]  # baseline + v_th_dtod = 0
    res = xbar.sweep.run(d, out=tmp_path, workers=0, progress=False)
    recs = [r for r in res.records if r]
    assert len(recs) == 2 and all(r["status"] == "ok" for r in recs), recs
    for r in recs:
        assert 0.0 <= r["metrics"]["test_accuracy"] <= 1.0 and r["metrics"]["update_pulses"] > 0
    out = S.summarise(recs)
    assert set(out["v_th_dtod"]["competitive"]) == {"0.067", "0.0"}
