"""Pulse and PulseSchedule: construction, timing, serialisation, booking."""

import json

import numpy as np
import pytest

from xbar.exceptions import ConfigError
from xbar.pulses import EnergyLedger, PulseSchedule


def test_row_parallel_groups_cells_of_a_row_and_counts_repetitions():
    counts = np.array([[2, 0, 1], [0, 1, 0]])
    s = PulseSchedule.from_counts(
        counts, amplitude=0.8, width=1e-7, polarity="reset", array="A", mode="row-parallel"
    )
    # row 0: pulse with cells (0,0),(0,2), then a second pulse with (0,0); row 1: one pulse
    assert s.n_pulses == 3 and s.n_cell_pulses == 4
    cells = [p.cells.tolist() for p in s]
    assert cells == [[[0, 0], [0, 2]], [[0, 0]], [[1, 1]]]
    np.testing.assert_array_equal(s.pulse_counts(counts.shape, array="A"), counts)
    assert s.duration == pytest.approx(3e-7)
    np.testing.assert_allclose(s.t_start, [0, 1e-7, 2e-7])


def test_cell_by_cell_takes_one_pulse_per_cell_pulse():
    counts = np.array([[2, 0, 1], [0, 1, 0]])
    s = PulseSchedule.from_counts(
        counts, amplitude=0.8, width=1e-7, polarity="reset", mode="cell-by-cell", gap=5e-8
    )
    assert s.n_pulses == 4 and all(len(p.cells) == 1 for p in s)
    assert s.duration == pytest.approx(4 * 1.5e-7)
    np.testing.assert_array_equal(s.pulse_counts(counts.shape), counts)


def _filled():
    a = PulseSchedule.from_counts(
        np.array([[1, 1], [0, 2]]),
        amplitude=0.8,
        width=1e-7,
        polarity="reset",
        array="L/G+",
        kind="update",
    )
    a.set_results(np.array([1e-12, 2e-12, 3e-12, 4e-12]), energy_half_selected=[5e-13, 0, 0])
    b = PulseSchedule.from_counts(
        np.array([[1, 0], [0, 0]]),
        amplitude=0.2,
        width=1e-7,
        polarity="read",
        array="L/G-",
        kind="verify",
    )
    b.set_results([7e-15])
    c = PulseSchedule.from_counts(
        np.array([[0, 1], [0, 0]]),
        amplitude=1.5,
        width=1e-7,
        polarity="set",
        array="L/G-",
        kind="refresh",
    )
    c.set_results([9e-12], energy_half_selected=[1e-13])
    return PulseSchedule.concat([a, b, c])


def test_ledger_totals_equal_sum_of_pulse_energies():
    s = _filled()
    ledger = EnergyLedger()
    s.book(ledger, layer="L")
    per_pulse = sum(p.total_energy for p in s)
    assert ledger.total() == pytest.approx(per_pulse, rel=1e-12)
    assert ledger.total("write") == pytest.approx(1e-11)
    assert ledger.total("half_selected") == pytest.approx(5e-13)
    assert ledger.total("verify") == pytest.approx(7e-15)
    assert ledger.total("refresh") == pytest.approx(9.1e-12)
    assert s.energy_by_category() == pytest.approx(ledger.totals())
    assert ledger.count("write") == 4


def test_json_round_trip_and_csv(tmp_path):
    s = _filled()
    back = PulseSchedule.from_json(s.to_json(tmp_path / "s.json"))
    assert back.to_table() == s.to_table()
    np.testing.assert_array_equal(back.rep, s.rep)
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["units"]["energy"] == "J" and len(doc["pulses"]) == s.n_pulses
    rows = tmp_path / "s.csv"
    s.to_csv(rows)
    lines = rows.read_text().splitlines()
    assert len(lines) == 1 + s.n_cell_pulses
    assert lines[0].startswith("pulse,t_start_s,array,row,col")
    assert "PulseSchedule:" in str(s) and "L/G+" in str(s)


def test_plot_builds_a_figure_without_pyplot(tmp_path):
    import sys

    pytest.importorskip("matplotlib")
    import matplotlib
    from matplotlib.figure import Figure
    from xbar.plot import pulse_schedule_plot

    backend = matplotlib.get_backend()
    pyplot = sys.modules.get("matplotlib.pyplot")
    before = set(pyplot.get_fignums()) if pyplot else set()
    s = _filled()
    ax = s.plot(n_cols=2)
    assert isinstance(ax.figure, Figure) and ax.get_xlabel() == "pulse start time (s)"
    assert matplotlib.get_backend() == backend
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert (set(pyplot.get_fignums()) if pyplot else set()) == before
    # one marker per cell pulse at (start time, row·n_cols + col), one collection per polarity
    t = s.t_start[s.slot]
    pts = {c.get_label(): np.asarray(c.get_offsets()) for c in ax.collections}
    for code, name in enumerate(("set", "reset", "read")):
        m = s.polarity[s.slot] == code
        np.testing.assert_array_equal(pts[name], np.c_[t[m], s.row[m] * 2 + s.col[m]])
    ax.figure.savefig(tmp_path / "s.png")
    # on given Axes: drawn there, the same call as the method
    fig = Figure()
    ax2 = fig.subplots()
    assert pulse_schedule_plot(s, ax2) is ax2 and len(ax2.collections) == 3
    assert len(PulseSchedule().plot().collections) == 0  # an empty schedule draws nothing
    with pytest.raises(ConfigError, match="schedule"):
        pulse_schedule_plot([1, 2])
    with pytest.raises(ConfigError, match="n_cols"):
        s.plot(n_cols=0)


def test_bad_input():
    with pytest.raises(ConfigError, match="counts"):
        PulseSchedule.from_counts(np.array([[-1]]), amplitude=1, width=1, polarity="set")
    with pytest.raises(ConfigError, match="polarity"):
        PulseSchedule.from_counts(np.array([[1]]), amplitude=1, width=1, polarity="up")
    with pytest.raises(ConfigError, match="width"):
        PulseSchedule.from_counts(np.array([[1]]), amplitude=1, width=0, polarity="set")
    with pytest.raises(ConfigError, match="mode"):
        PulseSchedule(mode="diagonal")
    with pytest.raises(IndexError):
        _filled()[99]


def test_circuit_energies_round_trip_and_book_as_wires_drivers_access(tmp_path):
    s = PulseSchedule.from_counts(
        np.array([[1, 1], [0, 1]]),
        amplitude=0.8,
        width=1e-7,
        polarity="reset",
        array="L/G+",
        kind="update",
    )
    s.set_results(
        [1e-12, 2e-12, 3e-12],
        energy_half_selected=[4e-13, 5e-13],
        energy_wires=[1e-14, 2e-14],
        energy_word_drivers=[3e-14, 4e-14],
        energy_sense=[1e-15, 2e-15],
        energy_access=[5e-15, 6e-15],
    )
    back = PulseSchedule.from_json(s.to_json())
    np.testing.assert_array_equal(back.e_wires, s.e_wires)
    np.testing.assert_array_equal(back.e_access, s.e_access)
    np.testing.assert_array_equal(back.e_sense, s.e_sense)
    np.testing.assert_array_equal(back.e_word_drivers, s.e_word_drivers)
    ledger = EnergyLedger()
    s.book(ledger)
    assert ledger.total("wires") == pytest.approx(3e-14)
    assert ledger.total("word_drivers") == pytest.approx(7e-14)
    assert ledger.total("sense") == pytest.approx(3e-15)
    assert ledger.total("write") == pytest.approx(6e-12 + 11e-15)
    assert (
        ledger.total()
        == pytest.approx(sum(p.total_energy for p in s))
        == pytest.approx(s.total_energy)
    )
    s.to_csv(tmp_path / "s.csv")
    assert "energy_wires_J" in (tmp_path / "s.csv").read_text().splitlines()[0]
