"""One program-and-verify engine, one pulse-energy home, one vocabulary (issue 15), and the
deprecated spellings each rename keeps for one release."""

import json

import numpy as np
import pytest

from _fake_device import FakeDevice
from xbar.train import stacked_weights
from xbar.exceptions import ConfigError
from xbar.pulses import EnergyLedger, PulseSchedule, Ramp, canonical_bias_scheme, format_energy
from xbar.pulses.energy import half_selected_energy, pulse_energy
from xbar.pulses.verify import run_program_verify
from xbar.train.pulse_mapping import PulseMapping
from xbar.train.pulsed import PairArray, ProgramVerifyWriter, PulsedLayer, ResetOnlyWriter, Writer


# ------------------------------------------------------------------------------------ engine
def test_engine_ramps_restart_on_a_change_of_direction_and_count_reads_and_pulses():
    """A toy cell moved by exactly the amplitude (in units of S): the engine's decisions by hand."""
    G = np.array([0.0, 10.0])
    calls = []

    def read(sel):
        return G.copy()

    def pulse(sel, direction, amplitude, level):
        calls.append(
            (sel.copy(), direction[sel].tolist(), amplitude[sel].tolist(), level[sel].tolist())
        )
        G[sel] += direction[sel] * amplitude[sel]

    out = run_program_verify(
        read,
        pulse,
        np.array([3.5, 10.0]),
        np.array([True, True]),
        rtol=0.0,
        atol=0.25,
        max_pulses=10,
        set_ramp=Ramp(1.0, 1.0, 2.0),
        reset_ramp=Ramp(0.5),
    )
    # cell 0: SET 1, SET 2 (ramp), SET 2 (capped at v_stop) -> 5; RESET 0.5 (restart) x3 -> 3.5
    assert [c[2] for c in calls] == [[1.0], [2.0], [2.0], [0.5], [0.5], [0.5]]
    assert [c[3] for c in calls] == [[0], [1], [2], [0], [1], [2]]
    assert out.converged.all() and G[0] == 3.5 and G[1] == 10.0
    np.testing.assert_array_equal(out.n_pulses, [6, 0])
    np.testing.assert_array_equal(out.n_reads, [7, 1])
    # the budget: max_pulses pulses, then one last read decides
    G[:] = 0.0
    out = run_program_verify(
        read,
        pulse,
        np.array([100.0, 0.0]),
        np.array([True, False]),
        rtol=0.0,
        atol=0.25,
        max_pulses=3,
        set_ramp=Ramp(1.0),
        reset_ramp=Ramp(1.0),
    )
    np.testing.assert_array_equal(out.converged, [False, True])
    np.testing.assert_array_equal(out.n_pulses, [3, 0])
    np.testing.assert_array_equal(out.n_reads, [4, 0])
    # the relative band: |err| <= atol + rtol * |target|
    G[:] = 9.0
    out = run_program_verify(
        read,
        pulse,
        np.array([10.0, 10.0]),
        np.array([True, True]),
        rtol=0.1,
        atol=0.0,
        max_pulses=1,
        set_ramp=Ramp(1.0),
        reset_ramp=Ramp(1.0),
    )
    assert out.converged.all() and out.n_pulses.sum() == 0
    with pytest.raises(ConfigError, match="both be 0"):
        run_program_verify(
            read,
            pulse,
            G,
            np.ones(2, bool),
            rtol=0.0,
            atol=0.0,
            max_pulses=1,
            set_ramp=Ramp(1.0),
            reset_ramp=Ramp(1.0),
        )


def test_engine_reset_only_stops_below_target():
    G = np.array([10.0])
    out = run_program_verify(
        lambda s: G.copy(),
        lambda s, d, a, lv: G.__iadd__(d * a * 3.0),
        np.array([5.0]),
        np.array([True]),
        rtol=0.0,
        atol=0.1,
        max_pulses=20,
        set_ramp=Ramp(1.0),
        reset_ramp=Ramp(1.0),
        allow_set=False,
    )
    assert G[0] == 4.0 and out.converged.all() and out.n_pulses[0] == 2


def test_ramp_validates_and_reads_the_former_tuple_order():
    assert Ramp(0.6, 0.1, 1.5) == Ramp.from_start_stop_step((0.6, 1.5, 0.1), "set_ramp")
    np.testing.assert_allclose(
        Ramp(0.6, 0.1, 1.5).level(np.arange(12))[[0, 3, 9, 11]], [0.6, 0.9, 1.5, 1.5]
    )
    assert Ramp(0.7).v_stop == 0.7
    with pytest.raises(ConfigError, match="v_stop"):
        Ramp(1.0, 0.1, 0.5)
    with pytest.raises(ConfigError, match="v_start"):
        Ramp(-1.0)
    with pytest.raises(ConfigError, match="set_ramp"):
        Ramp.coerce((1.0, 2.0), "set_ramp")


def test_device_array_program_verify_keeps_its_former_keywords():
    from xbar.devices import HfOxReRAM

    m = HfOxReRAM()
    new = m.sample((4, 4), random_state=0).program_verify(
        50e-6, atol=2e-6, set_ramp=Ramp(0.9, 0.05, 1.4), random_state=1
    )
    with pytest.warns(DeprecationWarning, match="'tol' is deprecated"):
        with pytest.warns(DeprecationWarning, match="v_set_max"):
            old = m.sample((4, 4), random_state=0).program_verify(
                50e-6, tol=2e-6, v_set_max=1.4, random_state=1
            )
    for a, b in zip(vars(new).values(), vars(old).values()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="unexpected"):
        m.sample((2, 2), random_state=0).program_verify(50e-6, v_sett_max=1.0)


# ------------------------------------------------------------------------------------ writers
def _layer(writer, seed=0, **kw):
    W = np.random.default_rng(seed).uniform(-0.5, 0.5, size=(6, 4))
    return PulsedLayer.from_weights(
        W,
        FakeDevice(),
        writer,
        PulseMapping("threshold", 0.01),
        bias=False,
        random_state=seed,
        **kw,
    )


def test_writers_follow_one_protocol_and_a_plain_writer_works():
    assert isinstance(ResetOnlyWriter(), Writer) and isinstance(ProgramVerifyWriter(), Writer)

    class Doubler:
        """A writer outside the library: two reset-only updates per count."""

        name = "doubler"

        def __init__(self):
            self.inner = ResetOnlyWriter(refresh_margin=0.0)

        def nominal_dG(self, device, rng):
            return 2 * self.inner.nominal_dG(device, rng)

        def apply(self, pairs, counts, k, rng):
            return self.inner.apply(pairs, 2 * counts, k, rng)

    lay = _layer(Doubler())
    w0 = stacked_weights(lay).copy()
    lay.update(np.ones((1, 6)), np.ones((1, 4)))
    assert np.all(stacked_weights(lay) >= w0) and lay.n_updates == 1 and lay.version == 1


def test_program_verify_writer_without_dG_per_count_uses_the_layers_step():
    a, b = _layer(ProgramVerifyWriter()), _layer(ProgramVerifyWriter())
    counts = np.array([[1, -2, 0, 3]] * 6)
    sa = a.writer.apply(a.pairs, counts, a.k, np.random.default_rng(1))
    sb = b.writer.apply(b.pairs, counts, b.k, np.random.default_rng(1), dG_per_count=b.dG_nominal)
    np.testing.assert_array_equal(a.pairs.g_plus, b.pairs.g_plus)
    assert sum(s.total_energy for s in sa) == sum(s.total_energy for s in sb) > 0


def test_writer_fields_keep_their_former_names():
    with pytest.warns(DeprecationWarning) as caught:
        w = ResetOnlyWriter(tolerance=0.07, max_iterations=5, read_voltage=0.1, read_width=1e-7)
    assert sorted(str(c.message).split("'")[1] for c in caught) == [
        "max_iterations",
        "read_voltage",
        "read_width",
        "tolerance",
    ]
    assert (w.window_rtol, w.max_pulses, w.v_read, w.t_read) == (0.07, 5, 0.1, 1e-7)
    with pytest.warns(DeprecationWarning, match="max_iterations"):
        assert w.max_iterations == 5
    with pytest.warns(DeprecationWarning, match="set_ramp"):
        pv = ProgramVerifyWriter(set_ramp=(0.6, 1.2, 0.2))
    assert pv.set_ramp == Ramp(0.6, 0.2, 1.2)
    assert ProgramVerifyWriter(reset_ramp={"v_start": 0.5, "v_stop": 1.0}).reset_ramp == Ramp(
        0.5, 0.0, 1.0
    )  # a TOML table, no warning
    with pytest.raises(ConfigError, match="v_start"):
        ProgramVerifyWriter(set_ramp={"start": 0.5})
    with pytest.warns(DeprecationWarning, match="'tolerance'"):
        assert ProgramVerifyWriter(tolerance=1e-6).atol == 1e-6
    with pytest.warns(DeprecationWarning, match="'V/2' is deprecated"):
        assert ResetOnlyWriter(cell="1T1R", bias_scheme="V/2").bias_scheme == "half"
    with pytest.raises(ConfigError, match="bias_scheme"):
        ResetOnlyWriter(cell="1T1R", bias_scheme="floating")


def test_pairs_program_verify_keeps_its_former_keywords():
    from xbar.train.pulsed import program_verify

    runs = []
    for old in (False, True):
        pairs = PairArray(np.full((2, 3), 50e-6), np.full((2, 3), 50e-6), FakeDevice(noise=0.0))
        target = np.array([[20e-6, 80e-6, 50e-6], [30e-6, 60e-6, 90e-6]])
        kw = dict(width=1e-7, kind="program")
        if old:
            with pytest.warns(DeprecationWarning) as caught:
                s, left = program_verify(
                    pairs,
                    "+",
                    target,
                    np.ones((2, 3), bool),
                    tolerance=1e-6,
                    max_iterations=30,
                    set_ramp=(0.8, 1.2, 0.1),
                    reset_ramp=(0.6, 1.0, 0.1),
                    read_voltage=0.2,
                    read_width=1e-7,
                    rng=np.random.default_rng(0),
                    **kw,
                )
            assert len(caught) == 7
        else:
            s, left = program_verify(
                pairs,
                "+",
                target,
                np.ones((2, 3), bool),
                atol=1e-6,
                max_pulses=30,
                set_ramp=Ramp(0.8, 0.1, 1.2),
                reset_ramp=Ramp(0.6, 0.1, 1.0),
                v_read=0.2,
                t_read=1e-7,
                random_state=np.random.default_rng(0),
                **kw,
            )
        runs.append((pairs.g_plus.copy(), sum(x.total_energy for x in s), left))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1] > 0 and not runs[0][2].any()
    np.testing.assert_allclose(
        runs[0][0], [[20e-6, 80e-6, 50e-6], [30e-6, 60e-6, 90e-6]], atol=1e-6
    )


# ------------------------------------------------------------------------------ bias schemes
def test_bias_scheme_spellings():
    assert canonical_bias_scheme("third") == "third"
    with pytest.warns(DeprecationWarning, match="'V/3' is deprecated"):
        s = PulseSchedule.from_counts(
            np.ones((2, 2), np.int64),
            amplitude=1.0,
            width=1e-7,
            polarity="reset",
            bias_scheme="V/3",
        )
    assert {p.bias_scheme for p in s} == {"third"}
    with pytest.raises(ConfigError, match="bias_scheme"):
        canonical_bias_scheme("V/4")


# -------------------------------------------------------------------------------- pulse energy
def test_one_pulse_energy_home_serves_devices_and_pairs():
    from xbar.devices import HfOxReRAM

    arr = HfOxReRAM().sample((3, 3), random_state=0)
    v = np.linspace(-1.0, 1.0, 9).reshape(3, 3)
    I = np.abs(arr.model.iv.current(v, arr.G))
    np.testing.assert_array_equal(arr.pulse_energy(v, 1e-7), np.abs(v) * I * 1e-7)
    np.testing.assert_array_equal(
        pulse_energy(arr.model.iv, v, 1e-7, arr.G, compliance=1e-5),
        np.abs(v) * np.minimum(I, 1e-5) * 1e-7,
    )
    dev = FakeDevice()
    np.testing.assert_allclose(
        pulse_energy(dev, 0.8, 1e-7, np.array([50e-6]), np.array([40e-6])),
        0.8 * 1e-7 * (0.8 * 50e-6 + 0.8 * 40e-6) / 2,
    )
    from xbar.train import pulsed

    s = PulseSchedule.from_counts(
        np.eye(3, dtype=np.int64), amplitude=1.0, width=1e-7, polarity="reset", bias_scheme="half"
    )
    with pytest.warns(DeprecationWarning, match="half_select_energy"):
        old = pulsed.half_select_energy(s, dev, np.full((3, 3), 1e-6))
    np.testing.assert_array_equal(old, half_selected_energy(s, dev, np.full((3, 3), 1e-6)))


# ------------------------------------------------------------------ schedule columns and ledger
def _solved_schedule():
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
    return s


def test_schedule_columns_use_the_pulse_energy_words_and_read_old_files():
    s = _solved_schedule()
    with pytest.warns(DeprecationWarning, match="e_half"):
        np.testing.assert_array_equal(s.e_half, s.e_half_selected)
    with pytest.warns(DeprecationWarning, match="e_drivers"):
        np.testing.assert_allclose(s.e_drivers, [3.1e-14, 4.2e-14])
    with pytest.warns(DeprecationWarning, match="energy_half_select"):
        s.set_results([1e-12, 2e-12, 3e-12], energy_half_select=[4e-13, 5e-13])
    p = s[0]
    assert p.energy_half_selected == 4e-13 and p.energy_sense == 1e-15
    with pytest.warns(DeprecationWarning, match="energy_drivers"):
        assert p.energy_drivers == pytest.approx(3.1e-14)
    np.testing.assert_array_equal(np.diff(s.pulse_bounds()), s.cells_per_pulse())
    np.testing.assert_array_equal(s._bounds(), s.pulse_bounds())
    # a version-1 file (before the rename): V/2, energy_half_select_J, lumped energy_drivers_J
    doc = json.loads(s.to_json())
    doc["version"] = 1
    for row in doc["pulses"]:
        row["bias_scheme"] = "V/2"
        row["energy_half_select_J"] = row.pop("energy_half_selected_J")
        row["energy_drivers_J"] = row.pop("energy_word_drivers_J") + row.pop("energy_sense_J")
    back = PulseSchedule.from_json(json.dumps(doc))  # no warning: it is a file
    assert {q.bias_scheme for q in back} == {"half"}
    np.testing.assert_array_equal(back.e_half_selected, s.e_half_selected)
    np.testing.assert_allclose(back.e_word_drivers, [3.1e-14, 4.2e-14])
    assert back.total_energy == pytest.approx(s.total_energy, rel=1e-15)


def test_ledger_categories_use_the_pulse_energy_words_and_old_names_still_work(tmp_path):
    ledger = EnergyLedger()
    _solved_schedule().book(ledger)
    assert ledger.total("half_selected") == pytest.approx(9e-13)
    assert ledger.total("word_drivers") == pytest.approx(7e-14)
    assert ledger.total("sense") == pytest.approx(3e-15)
    with pytest.warns(DeprecationWarning, match="'drivers' is deprecated"):
        assert ledger.total("drivers") == pytest.approx(7.3e-14)
    with pytest.warns(DeprecationWarning, match="'half_select' is deprecated"):
        assert ledger.total(["write", "half_select"]) == pytest.approx(
            ledger.total(["write", "half_selected"])
        )
    with pytest.warns(DeprecationWarning, match="'half_select' is deprecated"):
        ledger.book("half_select", 1e-13)
    assert ledger.total("half_selected") == pytest.approx(10e-13)
    # a ledger file written before the rename loads without a warning
    old = {
        "format": "xbar-energy-ledger",
        "version": 1,
        "unit": "J",
        "detail": False,
        "categories": [
            "write",
            "half_select",
            "wires",
            "drivers",
            "read",
            "adc",
            "dac",
            "tia",
            "refresh",
            "verify",
        ],
        "samples": 2,
        "entries": [
            {"category": "half_select", "energy": 1e-12, "count": 3, "layer": "a"},
            {"category": "drivers", "energy": 2e-12, "count": 1, "layer": "a"},
            {"category": "write", "energy": 5e-12, "count": 4, "layer": "a"},
        ],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    back = EnergyLedger.from_json(path)
    assert back.total("half_selected") == 1e-12 and back.total("word_drivers") == 2e-12
    assert back.total("word_drivers", component="drivers+sense") == 2e-12
    assert back.total() == pytest.approx(8e-12) and back.samples == 2
    assert format_energy(3.2e-12) == "3.2 pJ"
    from xbar.pulses.ledger import _format_energy

    assert _format_energy(3.2e-12) == "3.2 pJ"


# ---------------------------------------------------------------------------- public verbs
def test_pair_and_layer_verbs_replace_the_private_reaches():
    from xbar.devices import HfOxReRAM
    from xbar.train.pulsed import _pulse_cells

    W = np.random.default_rng(0).uniform(-0.3, 0.3, size=(4, 3))
    lay = PulsedLayer.from_weights(W, HfOxReRAM(), ResetOnlyWriter(), bias=False, random_state=0)
    pairs = lay.pairs
    counts = np.zeros((4, 3), np.int64)
    counts[1, 2] = 2
    common = dict(
        polarity="reset",
        amplitude=0.8,
        width=1e-7,
        cell="1T1R",
        bias_scheme="half",
        kind="update",
        mode="row-parallel",
    )
    twin = PulsedLayer.from_weights(
        W, HfOxReRAM(), ResetOnlyWriter(), bias=False, random_state=0
    ).pairs
    s_new = pairs.pulse_cells("+", counts, random_state=np.random.default_rng(3), **common)
    s_old = _pulse_cells(twin, "+", counts, rng=np.random.default_rng(3), **common)
    np.testing.assert_array_equal(s_new.energy, s_old.energy)
    np.testing.assert_array_equal(pairs.g_plus, twin.g_plus)
    # a frozen noisy read for one evaluation, then the devices' own state again
    before, v0 = stacked_weights(lay).copy(), lay.version
    noisy = (pairs.arrays["+"].read(1), pairs.arrays["-"].read(2))
    with lay.conductances_replaced(*noisy):
        np.testing.assert_array_equal(pairs.g_plus, noisy[0])
        assert lay.version == v0 + 1
    np.testing.assert_array_equal(stacked_weights(lay), before)
    assert lay.version == v0 + 2
    pairs.arrays["+"].age(1e4, random_state=0)
    lay.sync_from_devices()
    np.testing.assert_array_equal(pairs.g_plus, pairs.arrays["+"].G)
    assert lay.version == v0 + 3
    with pytest.raises(ConfigError, match="device arrays"):
        PairArray(np.ones((1, 1)) * 1e-5, np.ones((1, 1)) * 1e-5, FakeDevice()).sync_from_devices()


def test_interleave_has_one_home_used_by_the_read_and_write_paths():
    from xbar.periphery import AnalogLinear
    from xbar.periphery.tiling import interleave_pairs, pair_column, split_pairs

    gp, gm = np.arange(6.0).reshape(2, 3), -np.arange(6.0).reshape(2, 3)
    G = interleave_pairs(gp, gm)
    np.testing.assert_array_equal(G[:, pair_column(np.arange(3), 0)], gp)
    np.testing.assert_array_equal(G[:, pair_column(np.arange(3), 1)], gm)
    np.testing.assert_array_equal(split_pairs(G)[1], gm)
    with pytest.raises(ConfigError, match="even"):
        split_pairs(np.ones((2, 3)))
    layer = AnalogLinear(np.random.default_rng(0).uniform(-1, 1, (5, 7)), random_state=0)
    P, Mn = layer.conductance_pairs()
    for t in layer.tiles:
        np.testing.assert_array_equal(
            t.G, interleave_pairs(P[t.spec.rows, t.spec.outputs], Mn[t.spec.rows, t.spec.outputs])
        )
        assert t._scatter is t.output_scatter


# ------------------------------------------------------------- verify reads' periphery energy
def test_verify_reads_book_the_read_periphery_per_read():
    """Every verify read of a program-and-verify update books one word-line DAC drive and one TIA
    channel for its read time and one ADC conversion (issue 17): the totals are the read count
    (the ledger's verify count) times the per-read terms computed by hand, and the cell
    categories are unchanged by the periphery."""
    from xbar.periphery import ADC, DAC, TIA
    from xbar.pulses.energy import ReadPeriphery

    dac, tia, adc = DAC(), TIA(), ADC(bits=8)
    rp = ReadPeriphery.from_components(dac, tia, adc)
    assert (rp.dac_power, rp.tia_power, rp.adc_energy) == (
        dac.power_per_line,
        tia.power,
        adc.conversion_energy(),
    )
    t_read = 50e-9
    plain, periph = (
        _layer(ProgramVerifyWriter(t_read=t_read)),
        _layer(ProgramVerifyWriter(t_read=t_read, read_periphery=rp)),
    )
    counts = np.array([[1, -2, 0, 3]] * 6)
    la, lb = EnergyLedger(), EnergyLedger()
    sa = plain.writer.apply(plain.pairs, counts, plain.k, np.random.default_rng(1))
    sb = periph.writer.apply(periph.pairs, counts, periph.k, np.random.default_rng(1))
    assert plain.writer.book(sa, la, layer="x") == {"reads": 0, "dac": 0.0, "tia": 0.0, "adc": 0.0}
    booked = periph.writer.book(sb, lb, layer="x")
    n_reads = lb.count("verify")
    assert n_reads == la.count("verify") > 0 and booked["reads"] == n_reads
    # by hand: per read P_dac·t + P_tia·t + E_adc
    assert lb.total("dac") == pytest.approx(n_reads * dac.power_per_line * t_read, rel=1e-12)
    assert lb.total("tia") == pytest.approx(n_reads * tia.power * t_read, rel=1e-12)
    assert lb.total("adc") == pytest.approx(n_reads * adc.conversion_energy(), rel=1e-12)
    assert lb.count("adc") == n_reads
    for cat in ("write", "verify"):
        assert lb.total(cat) == pytest.approx(la.total(cat), rel=1e-12)
    assert la.total("adc") == la.total("dac") == 0.0
    # an 8-bit verify read costs ~9.5 pJ of periphery, ~10^3 x its cell current at 0.2 V
    per_read = sum(rp.energies(1, 100e-9).values())
    assert 9e-12 < per_read < 10e-12


def test_read_periphery_validates_its_arguments():
    from xbar.pulses.energy import ReadPeriphery

    with pytest.raises(ConfigError, match="adc_energy"):
        ReadPeriphery(adc_energy=9.1)  # J, not pJ: a unit slip
    with pytest.raises(ConfigError, match="dac_power"):
        ReadPeriphery(dac_power=-1.0)
    with pytest.raises(ConfigError, match="read_periphery"):
        ProgramVerifyWriter(read_periphery={"adc_energy": 1e-12})


def test_a_layer_with_a_program_verify_writer_books_its_verify_reads_periphery():
    """Regression (issue 12): ``ProgramVerifyWriter(read_periphery=...)`` as a layer's writer
    booked no verify-read periphery (the layer booked each schedule itself).  The layer's ledger
    now holds it, equal to the writer's own accounting of the same schedules."""
    from xbar.periphery import ADC, DAC, TIA
    from xbar.pulses.energy import ReadPeriphery

    rp = ReadPeriphery.from_components(DAC(), TIA(), ADC(bits=8))
    ledger = EnergyLedger()
    layer = _layer(ProgramVerifyWriter(read_periphery=rp), ledger=ledger, keep_schedules=5)
    twin = _layer(ProgramVerifyWriter(read_periphery=rp))
    dW = np.random.default_rng(3).uniform(-0.05, 0.05, size=(6, 4))
    layer.apply_change(dW)
    own = EnergyLedger()
    counts = twin.mapping.counts(dW, twin.dw_per_pulse, twin._rng)
    booked = twin.writer.book(twin.writer.apply(twin.pairs, counts, twin.k, twin._rng), own)
    assert booked["reads"] == ledger.count("verify") > 0
    for cat in ("dac", "tia", "adc"):
        assert ledger.total(cat) == own.total(cat) == booked[cat] > 0
        assert ledger.count(cat) == booked["reads"]
    assert ledger.total() == pytest.approx(own.total(), rel=1e-15)
    assert {r["layer"] for r in ledger.records()} == {layer.pairs.name}
    np.testing.assert_array_equal(layer.pairs.g_plus, twin.pairs.g_plus)
