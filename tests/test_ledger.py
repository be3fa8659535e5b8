"""EnergyLedger: bookings, aggregation, group-bys, exports, against a naive re-implementation."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import numpy as np
import pytest

from xbar.exceptions import ConfigError
from xbar.pulses import EnergyLedger
from xbar.pulses.ledger import LedgerSummary


def _random_bookings(seed: int, n: int = 400):
    """Random (category, energies, tags) bookings and a naive list of per-operation rows."""
    rng = np.random.default_rng(seed)
    cats = list(EnergyLedger.CATEGORIES)
    bookings, naive = [], []
    for _ in range(n):
        cat = cats[rng.integers(len(cats))]
        tags = {"epoch": int(rng.integers(3)), "step": int(rng.integers(5))}
        if rng.random() < 0.5:
            tags["layer"] = ["fc1", "fc2"][rng.integers(2)]
        if rng.random() < 0.5:
            e = float(rng.exponential(1e-12))
            bookings.append((cat, e, tags))
            naive.append((cat, e, 1, tags))
        else:
            e = rng.exponential(1e-12, size=int(rng.integers(1, 6)))
            bookings.append((cat, e, tags))
            naive.extend((cat, float(x), 1, tags) for x in e)
    return bookings, naive


def _naive_group(naive, keys):
    out = defaultdict(float)
    for cat, e, _, tags in naive:
        d = dict(tags, category=cat)
        out[tuple(d.get(k) for k in keys)] += e
    return out


@pytest.mark.parametrize("detail", [False, True])
def test_totals_and_groups_match_naive_sums(detail):
    bookings, naive = _random_bookings(1)
    ledger = EnergyLedger(detail=detail)
    for cat, e, tags in bookings:
        ledger.book(cat, e, **tags)
    assert ledger.total() == pytest.approx(sum(r[1] for r in naive), rel=1e-12)
    assert ledger.count() == len(naive)
    for keys in [("category",), ("epoch",), ("category", "layer"), ("epoch", "step")]:
        got = ledger.summary(by=keys).as_dict()
        want = _naive_group(naive, keys)
        got = {k if isinstance(k, tuple) else (k,): v for k, v in got.items()}
        assert set(got) == set(want)
        for k in want:
            assert got[k] == pytest.approx(want[k], rel=1e-12)
    # filtered totals
    want = sum(e for c, e, _, t in naive if c == "write" and t["epoch"] == 1)
    assert ledger.total("write", epoch=1) == pytest.approx(want, rel=1e-12)
    assert ledger.total("write", epoch=99) == 0.0
    want_c = sum(1 for c, _, _, t in naive if c in ("adc", "dac") and t.get("layer") == "fc2")
    assert ledger.count(["adc", "dac"], layer="fc2") == want_c


def test_aggregate_mode_keeps_one_row_per_group_and_detail_one_per_pulse():
    agg, det = EnergyLedger(), EnergyLedger(detail=True)
    e = np.full(200_000, 2.5e-12)
    for ledger in (agg, det):
        for step in range(3):
            ledger.book("write", e, step=step, layer="fc1")
            ledger.book("half_selected", 1e-15, count=40, step=step, layer="fc1")
    assert len(agg) == 6
    assert len(det) == 3 * (200_000 + 1)
    assert agg.total("write") == pytest.approx(det.total("write"), rel=1e-12)
    assert agg.count("write") == det.count("write") == 600_000
    assert agg.count("half_selected") == 120
    assert agg.totals("step", category="write") == pytest.approx(
        {s: 200_000 * 2.5e-12 for s in range(3)}, rel=1e-12
    )


def test_tag_context_nests_and_explicit_tags_win():
    ledger = EnergyLedger()
    with ledger.tags(epoch=2):
        with ledger.tags(step=7, layer="a"):
            ledger.book("read", 1.0, layer="b")
        ledger.book("adc", 2.0)
    ledger.book("dac", 4.0)
    recs = {r["category"]: r for r in ledger.records()}
    assert recs["read"]["epoch"] == 2 and recs["read"]["step"] == 7 and recs["read"]["layer"] == "b"
    assert recs["adc"]["epoch"] == 2 and "step" not in recs["adc"]
    assert "epoch" not in recs["dac"]
    assert ledger.totals("epoch") == {2: 3.0, None: 4.0}


def test_summary_table_shares_and_per_sample():
    ledger = EnergyLedger()
    ledger.book("adc", 3e-12, count=3)
    ledger.book("read", 1e-12)
    with pytest.raises(ConfigError, match="n_samples"):
        ledger.per_sample()
    ledger.add_samples(4)
    s = ledger.summary()
    assert isinstance(s, LedgerSummary)
    assert [r["category"] for r in s.rows] == ["adc", "read"]
    assert s.rows[0]["share"] == pytest.approx(0.75)
    assert s.rows[0]["per_sample"] == pytest.approx(0.75e-12)
    assert s.total == pytest.approx(4e-12)
    text = str(s)
    assert "adc" in text and "read" in text and "4 pJ" in text and "(4 samples)" in text
    ps = ledger.per_sample()
    assert ps["adc"] == pytest.approx(0.75e-12) and ps["total"] == pytest.approx(1e-12)
    assert ledger.per_sample(n_samples=2)["total"] == pytest.approx(2e-12)
    df = s.to_pandas()
    assert list(df["category"]) == ["adc", "read"]
    assert df["energy"].sum() == pytest.approx(4e-12)


def test_merge_adds_rows_and_samples():
    a, b = EnergyLedger(), EnergyLedger(detail=True)
    a.book("write", 1.0, step=0)
    a.add_samples(2)
    b.book("write", [2.0, 3.0], step=0)
    b.book("refresh", 5.0, step=1)
    b.add_samples(3)
    a.merge(b)
    assert a.total() == 11.0 and a.samples == 5
    assert a.totals("step") == {0: 6.0, 1: 5.0}
    assert a.count("write") == 3
    assert len(a) == 2  # aggregated into a's groups
    c = EnergyLedger(extra_categories=["laser"])
    c.book("laser", 1.0)
    with pytest.raises(ConfigError, match="unknown here"):
        a.merge(c)
    with pytest.raises(ConfigError, match="EnergyLedger"):
        a.merge({"write": 1.0})


def test_csv_and_json_round_trip(tmp_path):
    bookings, naive = _random_bookings(7, n=60)
    ledger = EnergyLedger(detail=True)
    for cat, e, tags in bookings:
        ledger.book(cat, e, **tags)
    ledger.add_samples(9)
    p = ledger.to_csv(tmp_path / "ledger.csv")
    with p.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(naive)
    assert sum(float(r["energy_J"]) for r in rows) == pytest.approx(ledger.total(), rel=1e-15)
    assert {"category", "energy_J", "count", "epoch", "step", "layer"} <= set(rows[0])
    text = ledger.to_json(tmp_path / "ledger.json")
    assert json.loads(text)["unit"] == "J"
    back = EnergyLedger.from_json(tmp_path / "ledger.json")
    assert back.records() == ledger.records()
    assert back.samples == 9 and back.detail
    assert EnergyLedger.from_json(text).total() == ledger.total()
    with pytest.raises(ConfigError, match="not an xbar energy ledger"):
        EnergyLedger.from_json('{"a": 1}')


def test_bad_bookings_raise():
    ledger = EnergyLedger()
    with pytest.raises(ConfigError, match="category must be one of"):
        ledger.book("wirte", 1.0)
    with pytest.raises(ConfigError, match="energy must be finite and >= 0"):
        ledger.book("write", -1.0)
    with pytest.raises(ConfigError, match="energy must be finite"):
        ledger.book("write", [1.0, np.nan])
    with pytest.raises(ConfigError, match="count must be an integer"):
        ledger.book("write", 1.0, count=-2)
    with pytest.raises(ConfigError, match="reserved"):
        with ledger.tags(count=3):
            pass
    with pytest.raises(ConfigError, match="must be a scalar"):
        ledger.book("write", 1.0, cells=[1, 2])
    with pytest.raises(ConfigError, match="count must equal"):
        EnergyLedger(detail=True).book("write", [1.0, 2.0], count=5)
    with pytest.raises(ConfigError, match="n must be an integer"):
        ledger.add_samples(-1)
    with pytest.raises(ConfigError, match="by must name"):
        ledger.summary(by=())
    assert len(ledger) == 0 and ledger.total() == 0.0
    assert ledger.summary().rows == []


def test_clear_and_extra_categories():
    ledger = EnergyLedger(extra_categories=["laser"])
    ledger.book("laser", 2.0, operation="x")
    ledger.add_samples(1)
    assert ledger.total("laser") == 2.0
    ledger.clear()
    assert len(ledger) == 0 and ledger.samples == 0 and "laser" in ledger.categories
    with pytest.raises(ConfigError, match="extra_categories"):
        EnergyLedger(extra_categories=[""])
