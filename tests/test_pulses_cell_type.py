"""Cell type and bias scheme are two fields (issue 15): ``cell`` ("0T1R" | "1T1R", Crossbar's) beside
``bias_scheme`` ("half", "third", ...; xbar.circuit.bias), recorded per pulse, with the former
``bias_scheme="1T1R"`` a deprecated spelling of ``cell="1T1R"`` and old schedule files still read."""

import csv
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from xbar.circuit.bias import SCHEMES
from xbar.circuit.crossbar import CELLS
from xbar.exceptions import ConfigError
from xbar.pulses import BIAS_SCHEMES, PulseSchedule, cell_and_scheme
from xbar.pulses.energy import half_selected_energy
from xbar.train.pulse_mapping import PulseMapping
from xbar.train.pulsed import PairArray, PulsedLayer, ResetOnlyWriter, WriteCircuit, program_verify
from xbar.pulses.verify import Ramp

sys.path.insert(0, str(Path(__file__).parent))
from _fake_device import FakeDevice  # noqa: E402

COUNTS = np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]])


def _sched(**kw):
    return PulseSchedule.from_counts(COUNTS, amplitude=1.0, width=1e-7, polarity="reset", **kw)


def test_the_two_vocabularies_are_the_circuit_names():
    assert BIAS_SCHEMES == SCHEMES and "1T1R" not in BIAS_SCHEMES
    assert CELLS == ("0T1R", "1T1R")
    assert cell_and_scheme(None, None) == ("0T1R", "half")
    assert cell_and_scheme(None, None, default_cell="1T1R") == ("1T1R", "half")
    assert cell_and_scheme("1T1R", "third") == ("1T1R", "third")
    with pytest.raises(ConfigError, match="cell"):
        cell_and_scheme("2T2R", "half")
    with pytest.raises(ConfigError, match="a cell type: pass cell='1T1R'"):
        from xbar.pulses import canonical_bias_scheme

        canonical_bias_scheme("1T1R")


def test_schedule_records_the_cell_beside_the_bias_scheme(tmp_path):
    s = PulseSchedule.concat([_sched(cell="1T1R"), _sched(bias_scheme="third")])
    assert [(p.cell, p.bias_scheme) for p in s] == [("1T1R", "half")] * 2 + [("0T1R", "third")] * 2
    rows = s.to_table()
    assert [(r["cell"], r["bias_scheme"]) for r in rows] == [(p.cell, p.bias_scheme) for p in s]
    assert "1T1R" in str(s) and "third" in str(s)
    back = PulseSchedule.from_json(s.to_json(tmp_path / "s.json"))
    assert back.to_table() == rows
    assert json.loads((tmp_path / "s.json").read_text())["version"] == 3
    s.to_csv(tmp_path / "s.csv")
    with open(tmp_path / "s.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [(r["cell"], r["bias_scheme"]) for r in table] == [("1T1R", "half")] * 3 + [
        ("0T1R", "third")
    ] * 3


def test_deprecated_bias_scheme_1t1r_is_cell_1t1r():
    with pytest.warns(DeprecationWarning, match="bias_scheme='1T1R'.*cell='1T1R'"):
        old = _sched(bias_scheme="1T1R")
    assert old.to_table() == _sched(cell="1T1R", bias_scheme="half").to_table()
    with pytest.raises(ConfigError, match="contradicts cell='0T1R'"):
        _sched(cell="0T1R", bias_scheme="1T1R")


def test_passive_half_selected_energy_by_hand():
    G = np.arange(1, 13, dtype=float).reshape(3, 4) * 1e-6
    passive = half_selected_energy(_sched(), FakeDevice(), G)
    half = (G[0].sum() - G[0, 1] - G[0, 3]) + (G[:, [1, 3]].sum() - G[0, 1] - G[0, 3])
    np.testing.assert_allclose(passive[0], 0.25 * half * 1e-7, rtol=1e-12)  # 0.5 V · 0.5 V·G
    third = half_selected_energy(_sched(bias_scheme="third"), FakeDevice(), G)
    np.testing.assert_allclose(third[1], 1e-7 / 9 * (G.sum() - G[1, 0]), rtol=1e-12)  # (V/3)²·G


@pytest.mark.parametrize("scheme", ["half", "third"])
def test_1t1r_half_selected_energy_is_the_selected_rows_unselected_cells(scheme):
    """Regression (issue 12): on 1T1R arrays the device-level estimate booked no half-selected
    energy, although the selected word line opens its whole row's gates.  By hand and against
    a solved pulse of the same array (ideal wires, a 1 mΩ access transistor); a pulsed layer's
    ``pulse_cells`` books the same."""
    import xbar
    from xbar.circuit.write import apply_pulse

    rng = np.random.default_rng(0)
    gp = rng.uniform(20e-6, 90e-6, size=(5, 6))
    counts = np.zeros((5, 6), dtype=np.int64)
    counts[1, [0, 4]] = 1
    counts[3, 2] = 1
    sched = PulseSchedule.from_counts(
        counts, amplitude=0.8, width=1e-7, polarity="reset", cell="1T1R", bias_scheme=scheme
    )
    e = half_selected_energy(sched, FakeDevice(noise=0.0), gp)
    frac = 0.5 if scheme == "half" else 1.0 / 3.0
    by_hand = [
        (frac * 0.8) ** 2 * 1e-7 * (gp[1].sum() - gp[1, [0, 4]].sum()),
        (frac * 0.8) ** 2 * 1e-7 * (gp[3].sum() - gp[3, 2]),
    ]
    np.testing.assert_allclose(e, by_hand, rtol=1e-12)
    for p, (row, cols) in enumerate(((1, [0, 4]), (3, [2]))):
        xb = xbar.Crossbar(gp, cell="1T1R", r_access=1e-3)
        solved = apply_pulse(xb, rows=[row], cols=cols, amplitude=0.8, width=1e-7, scheme=scheme)
        np.testing.assert_allclose(e[p], solved.energy.half_selected, rtol=1e-6)
    pairs = PairArray(gp, gp.copy(), FakeDevice(noise=0.0))
    s = pairs.pulse_cells(
        "+",
        counts,
        polarity="reset",
        amplitude=0.8,
        width=1e-7,
        cell="1T1R",
        bias_scheme=scheme,
        kind="update",
        mode="row-parallel",
        random_state=0,
    )
    np.testing.assert_array_equal(s.e_half_selected, e)


def test_schedule_files_of_versions_1_and_2_load_without_a_warning():
    s = PulseSchedule.concat([_sched(cell="1T1R"), _sched(bias_scheme="third")])
    doc = json.loads(s.to_json())
    for version, old in ((2, "1T1R"), (1, "1T1R")):
        doc["version"] = version
        for row in doc["pulses"]:
            row.pop("cell", None)
            if row["bias_scheme"] == "half":
                row["bias_scheme"] = old
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            back = PulseSchedule.from_json(json.dumps(doc))
        assert [(p.cell, p.bias_scheme) for p in back] == [(p.cell, p.bias_scheme) for p in s]
    doc["pulses"][-1]["bias_scheme"] = "V/3"  # version 1 spelling, passive
    assert PulseSchedule.from_json(json.dumps(doc))[-1].cell == "0T1R"


def test_writer_cell_and_scheme_fields():
    w = ResetOnlyWriter()
    assert (w.cell, w.bias_scheme) == ("1T1R", "half")  # today's behaviour
    w3 = ResetOnlyWriter(cell="0T1R", bias_scheme="third")
    assert (w3.cell, w3.bias_scheme) == ("0T1R", "third")
    with pytest.warns(DeprecationWarning, match="bias_scheme='1T1R'"):
        old = ResetOnlyWriter(bias_scheme="1T1R")
    assert old == w
    # a bias scheme alone meant a passive array: kept for one release, with a warning
    with pytest.warns(DeprecationWarning, match="without cell"):
        legacy = ResetOnlyWriter(bias_scheme="half")
    assert (legacy.cell, legacy.bias_scheme) == ("0T1R", "half")
    with pytest.raises(ConfigError, match="bias_scheme"):
        ResetOnlyWriter(cell="1T1R", bias_scheme="grounded")
    with pytest.raises(ConfigError, match="cell"):
        ResetOnlyWriter(cell="1t1r")


def test_writer_cell_must_match_its_circuit():
    from xbar.periphery import ArrayConfig

    a1 = ArrayConfig(max_rows=4, max_cols=4, cell="1T1R", r_access=1e3)
    with pytest.raises(ConfigError, match="cell '1T1R' needs a circuit array of 1T1R"):
        ResetOnlyWriter(circuit=WriteCircuit(ArrayConfig(max_rows=4, max_cols=4)))
    with pytest.raises(ConfigError, match="cell '0T1R' needs a circuit array of 0T1R"):
        ResetOnlyWriter(cell="0T1R", circuit=WriteCircuit(a1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = ResetOnlyWriter(bias_scheme="third", circuit=WriteCircuit(a1))  # the circuit's cell
    assert (w.cell, w.bias_scheme) == ("1T1R", "third")
    pairs = PairArray(np.full((2, 2), 5e-5), np.full((2, 2), 5e-5), FakeDevice())
    with pytest.raises(ConfigError, match="does not match the write circuit"):
        pairs.pulse_cells(
            "+",
            np.ones((2, 2), np.int64),
            polarity="reset",
            amplitude=0.8,
            width=1e-7,
            cell="0T1R",
            bias_scheme="half",
            kind="update",
            mode="row-parallel",
            random_state=0,
            circuit=WriteCircuit(a1),
        )


def _layer(writer, device):
    W = np.random.default_rng(0).uniform(-0.4, 0.4, size=(4, 3))
    return PulsedLayer.from_weights(
        W,
        device,
        writer,
        PulseMapping("threshold", 0.0),
        bias=False,
        keep_schedules=1000,
        random_state=1,
    )


def _run(layer):
    rng = np.random.default_rng(2)
    for _ in range(12):
        layer.update(rng.uniform(0, 1, size=(1, 4)), rng.normal(size=(1, 3)))
    return (
        np.stack([layer.pairs.g_plus, layer.pairs.g_minus]),
        [
            np.concatenate([s.energy, s.e_half_selected, s.e_wires, s.e_access])
            for s in layer.schedules
        ],
    )


@pytest.mark.parametrize(
    "old, new",
    [
        ({"bias_scheme": "1T1R"}, {}),
        ({"bias_scheme": "half"}, {"cell": "0T1R"}),
        ({"bias_scheme": "third"}, {"cell": "0T1R", "bias_scheme": "third"}),
    ],
    ids=["1T1R", "half", "third"],
)
def test_old_and_new_spellings_give_bit_identical_updates(old, new):
    with pytest.warns(DeprecationWarning):
        w_old = ResetOnlyWriter(refresh_margin=0.3, **old)
    w_new = ResetOnlyWriter(refresh_margin=0.3, **new)
    lay_new = _layer(w_new, FakeDevice())
    (g0, e0), (g1, e1) = _run(_layer(w_old, FakeDevice())), _run(lay_new)
    np.testing.assert_array_equal(g0, g1)
    assert len(e0) == len(e1) > 0
    for a, b in zip(e0, e1):
        np.testing.assert_array_equal(a, b)
    # both book half-selected cells (device-level estimate): a passive array the selected rows'
    # and columns', a 1T1R array those of the selected rows only (the other gates are off)
    assert any(s.e_half_selected.any() for s in lay_new.schedules)


def test_old_spelling_through_the_circuit_and_program_verify():
    devices = pytest.importorskip("xbar.devices")
    from xbar.periphery import ArrayConfig

    a1 = ArrayConfig(
        max_rows=3, max_cols=4, r_wordline=20.0, r_bitline=20.0, cell="1T1R", r_access=2e3
    )
    hf = devices.HfOxReRAM(g_min=1e-6, g_max=100e-6)
    with pytest.warns(DeprecationWarning, match="bias_scheme='1T1R'"):
        w_old = ResetOnlyWriter(bias_scheme="1T1R", circuit=WriteCircuit(a1))
    (g0, e0), (g1, e1) = (
        _run(_layer(w_old, hf)),
        _run(_layer(ResetOnlyWriter(circuit=WriteCircuit(a1)), hf)),
    )
    np.testing.assert_array_equal(g0, g1)
    assert any(e[-1] > 0 for e in e1)  # access energy from the solves
    for a, b in zip(e0, e1):
        np.testing.assert_array_equal(a, b)
    # the circuit's own keyword, and program_verify's
    pairs = PairArray.from_device_arrays(
        hf.sample((3, 2), random_state=0), hf.sample((3, 2), random_state=1)
    )
    row = dict(row=1, cols=np.array([0, 1]), amplitude=0.8, width=1e-7, sign=-1)
    circ = WriteCircuit(a1)
    with pytest.warns(DeprecationWarning, match="bias_scheme='1T1R'"):
        v_old, e_old = circ.solve_row(pairs, "+", bias_scheme="1T1R", **row)
    v_new, e_new = circ.solve_row(pairs, "+", bias_scheme="half", **row)
    np.testing.assert_array_equal(v_old, v_new)
    np.testing.assert_array_equal(e_old, e_new)
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigError, match="cell '1T1R'"):
        WriteCircuit(ArrayConfig()).solve_row(pairs, "+", bias_scheme="1T1R", **row)
    runs = []
    for kw in ({}, {"bias_scheme": "1T1R"}, {"cell": "1T1R", "bias_scheme": "half"}):
        pairs = PairArray(np.full((2, 3), 5e-5), np.full((2, 3), 5e-5), FakeDevice(noise=0.0))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s, _ = program_verify(
                pairs,
                "+",
                np.full((2, 3), 2e-5),
                np.ones((2, 3), bool),
                atol=1e-6,
                max_pulses=20,
                set_ramp=Ramp(0.8),
                reset_ramp=Ramp(0.6, 0.1, 1.0),
                width=1e-7,
                v_read=0.2,
                t_read=1e-7,
                kind="program",
                random_state=0,
                **kw,
            )
        assert len(caught) == (kw.get("bias_scheme") == "1T1R")
        assert {p.cell for x in s for p in x} == {"1T1R"}
        runs.append((pairs.g_plus.copy(), [x.energy for x in s]))
    for g, e in runs[1:]:
        np.testing.assert_array_equal(g, runs[0][0])
        for a, b in zip(e, runs[0][1]):
            np.testing.assert_array_equal(a, b)
    with pytest.warns(DeprecationWarning, match="without cell"):
        program_verify(
            PairArray(np.full((1, 1), 5e-5), np.full((1, 1), 5e-5), FakeDevice()),
            "+",
            np.full((1, 1), 2e-5),
            np.ones((1, 1), bool),
            atol=1e-6,
            max_pulses=2,
            set_ramp=Ramp(0.8),
            reset_ramp=Ramp(0.6),
            width=1e-7,
            v_read=0.2,
            t_read=1e-7,
            kind="program",
            random_state=0,
            bias_scheme="half",
        )


def test_toml_writer_options_take_the_cell():
    from xbar.cli.train import _make_writer

    w = _make_writer({"writer_options": {"cell": "0T1R", "bias_scheme": "third"}})
    assert (w.cell, w.bias_scheme) == ("0T1R", "third")
    hw = {
        "writer_options": {"cell": "1T1R", "circuit": True},
        "array": {"max_rows": 8, "max_cols": 8, "cell": "1T1R", "r_access": 15e3},
    }
    w = _make_writer(hw)
    assert w.cell == w.circuit.array.cell == "1T1R"
