"""The program-and-verify engine on the selected cells only (issue 12): the same reads, pulses,
draws and energies as the full-array loop it replaced, at the cost of the cells programmed."""

import tracemalloc

import numpy as np
import pytest

from _fake_device import FakeDevice
from xbar.devices import HfOxReRAM
from xbar.exceptions import ConfigError
from xbar.pulses import EnergyLedger, PulseSchedule
from xbar.pulses.energy import device_current, half_selected_energy, pulse_energy
from xbar.pulses.schedule import BIAS_SCHEMES, CELLS
from xbar.pulses.verify import Ramp, run_program_verify
from xbar.train.pulsed import PairArray, ResetOnlyWriter, program_verify

CELL_SCHEMES = [("1T1R", "half"), ("1T1R", "third"), ("0T1R", "half"), ("0T1R", "third")]


# ---------------------------------------------------------------- the full-array reference
def _half_selected_full(sched, device, G):
    """Half-selected energy per pulse from the power of every cell of the array (J)."""
    out = np.zeros(sched.n_pulses)
    b = sched.pulse_bounds()
    for p in range(sched.n_pulses):
        scheme = BIAS_SCHEMES[sched.bias[p]]
        if scheme not in ("half", "third"):
            continue
        V = sched.amplitude[p] * (0.5 if scheme == "half" else 1.0 / 3.0)
        P = V * np.abs(device_current(device, V, G))
        rows, cols = sched.row[b[p] : b[p + 1]], sched.col[b[p] : b[p + 1]]
        sel = P[rows, cols].sum()
        if CELLS[sched.cell[p]] == "1T1R":  # the selected row's gates are open
            e = P[np.unique(rows)].sum() - sel
        elif scheme == "half":
            e = P[np.unique(rows)].sum() + P[:, np.unique(cols)].sum() - 2 * sel
        else:
            e = P.sum() - sel
        out[p] = e * sched.width[p]
    return out


def _reference_program_verify(
    pairs, which, target, mask, *, width, v_read, t_read, kind, rng, cell, bias_scheme, **band
):
    """The former engine: every round reads and pulses through full-array masks and counts."""
    G = pairs.side(which)
    label = pairs.label(which)
    scheds = []

    def read(sel):
        s = PulseSchedule.from_counts(
            sel.astype(np.int64),
            amplitude=v_read,
            width=t_read,
            polarity="read",
            array=label,
            cell=cell,
            bias_scheme="half",
            kind="refresh" if kind == "refresh" else "verify",
            mode="cell-by-cell",
        )
        g = G[s.row, s.col]
        s.set_results(v_read * t_read * np.abs(device_current(pairs.device, v_read, g)), g, g)
        scheds.append(s)
        return G

    def pulse(active, direction, amplitude, level):
        for polarity, sign in (("set", 1), ("reset", -1)):
            sel = active & (direction == sign)
            for r in np.unique(level[sel]):
                cells = sel & (level == r)
                amp = float(amplitude[cells][0])
                s = PulseSchedule.from_counts(
                    cells.astype(np.int64),
                    amplitude=amp,
                    width=width,
                    polarity=polarity,
                    array=label,
                    bias_scheme=bias_scheme,
                    kind=kind,
                    mode="cell-by-cell",
                    cell=cell,
                )
                e_half = half_selected_energy(s, pairs.device, G)  # tested below
                before = G[cells]
                if pairs.arrays:
                    arr = pairs.arrays[which]
                    v = arr.model.set_polarity * sign * amp
                    arr.apply_pulses(v, width, mask=cells, random_state=rng)
                    G[...] = arr.G
                else:
                    G[cells] = pairs.device.apply_pulse(before, polarity, amp, width, rng)
                after = G[cells]
                s.set_results(
                    pulse_energy(pairs.device, amp, width, before, after),
                    before,
                    after,
                    energy_half_selected=e_half,
                )
                scheds.append(s)

    out = run_program_verify(read, pulse, target, mask, **band)
    return scheds, ~out.converged


def _pairs(stateful, seed=3, shape=(9, 7)):
    rng = np.random.default_rng(seed)
    if stateful:
        model = HfOxReRAM(g_min=1e-7, g_max=1e-5)
        arrays = [model.sample(shape, random_state=seed + k) for k in range(2)]
        for a in arrays:
            a.set_state(rng.uniform(1e-7, 1e-5, shape))
        return PairArray.from_device_arrays(*arrays, name="L")
    return PairArray(
        rng.uniform(2e-6, 90e-6, shape), rng.uniform(2e-6, 90e-6, shape), FakeDevice(), name="F"
    )


def _assert_same_schedules(a, b):
    """The same pulses, cells and energies (bit for bit) in the same order; the ledger books
    the same counts and, summed in another order, the same energies to rounding."""
    s, t = PulseSchedule.concat(a), PulseSchedule.concat(b)
    assert s.n_pulses == t.n_pulses > 0
    assert s.to_table() == t.to_table()
    for f in (*PulseSchedule._PULSE, *PulseSchedule._CELL):
        if f != "array":
            np.testing.assert_array_equal(getattr(s, f), getattr(t, f), err_msg=f)
    la, lb = _ledger(a), _ledger(b)
    assert la.totals() == pytest.approx(lb.totals(), rel=1e-13, abs=0.0)
    assert la.totals(by="category") == pytest.approx(lb.totals(by="category"), rel=1e-13)
    for cat in la.totals():
        assert la.count(cat) == lb.count(cat)


def _ledger(scheds):
    led = EnergyLedger()
    for s in scheds:
        s.book(led, layer="L")
    return led


@pytest.mark.parametrize("stateful", [True, False], ids=["device-arrays", "stateless"])
@pytest.mark.parametrize("cell,scheme", CELL_SCHEMES)
@pytest.mark.parametrize("allow_set", [True, False])
def test_program_verify_on_the_selected_cells_equals_the_full_array_loop(
    stateful, cell, scheme, allow_set
):
    new, ref = _pairs(stateful), _pairs(stateful)
    g0, g1 = float(np.min(new.g_min)), float(np.max(new.g_max))
    rng = np.random.default_rng(5)
    target = rng.uniform(g0 + 0.1 * (g1 - g0), g1 - 0.1 * (g1 - g0), new.shape)
    mask = rng.random(new.shape) < 0.3
    kw = dict(
        width=100e-9,
        v_read=0.2,
        t_read=100e-9,
        kind="refresh" if allow_set else "program",
        cell=cell,
        bias_scheme=scheme,
    )
    band = dict(
        atol=0.02 * (g1 - g0),
        rtol=0.0,
        max_pulses=25,
        set_ramp=Ramp(1.2, 0.05, 1.6),
        reset_ramp=Ramp(0.8, 0.05, 1.2),
        allow_set=allow_set,
    )
    for which in "+-":
        s_new, unc_new = program_verify(
            new, which, target, mask, random_state=np.random.default_rng(7), **kw, **band
        )
        s_ref, unc_ref = _reference_program_verify(
            ref, which, target, mask, rng=np.random.default_rng(7), **kw, **band
        )
        assert len(s_new) == 1 and len(s_ref) > 4  # rounds of reads and pulses in one schedule
        _assert_same_schedules(s_new, s_ref)
        np.testing.assert_array_equal(unc_new, unc_ref)
    # bit-identical states, on the pairs and in the devices
    np.testing.assert_array_equal(new.g_plus, ref.g_plus)
    np.testing.assert_array_equal(new.g_minus, ref.g_minus)
    if stateful:
        np.testing.assert_array_equal(new.arrays["+"].G, ref.arrays["+"].G)


def test_program_verify_allocates_nothing_of_the_layers_size():
    """The cost is the selected cells': programming 3 cells of a 1000 x 1000 side allocates no
    array of the layer's size (the full-array loop allocated several 8 MB masks and counts)."""
    shape = (1000, 1000)
    pairs = PairArray(np.full(shape, 50e-6), np.full(shape, 50e-6), FakeDevice(noise=0.0))
    target = np.full(shape, 20e-6)
    mask = np.zeros(shape, dtype=bool)
    mask[[3, 500, 999], [7, 2, 999]] = True
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        scheds, unc = program_verify(
            pairs,
            "+",
            target,
            mask,
            atol=1e-6,
            max_pulses=30,
            set_ramp=Ramp(1.0),
            reset_ramp=Ramp(0.8),
            width=100e-9,
            v_read=0.2,
            t_read=100e-9,
            kind="program",
            random_state=0,
            cell="1T1R",
            bias_scheme="half",
        )
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert not unc.any() and scheds[0].n_pulses > 10
    np.testing.assert_allclose(pairs.g_plus[mask], 20e-6, atol=1e-6)
    # the (M, N) bool result (1 MB) and per-row powers of three rows; no 8 MB float array
    assert peak < 2_000_000, peak


def test_refresh_on_the_selected_cells_books_what_the_reference_books():
    """A reset-only writer's refresh (SET-verify both sides, RESET-verify the lower one)."""
    results = []
    for engine in ("new", "reference"):
        pairs = _pairs(True, seed=11, shape=(12, 10))
        pairs.set_state(np.full(pairs.shape, 1.2e-7), np.full(pairs.shape, 1.1e-7))
        w = ResetOnlyWriter(refresh_margin=0.3)
        if engine == "reference":
            import xbar.train.pulsed.writers as writers

            def pv(pairs, which, target, mask, *, random_state, **kw):
                return _reference_program_verify(
                    pairs, which, target, mask, rng=random_state, rtol=0.0, **kw
                )

            orig, writers.program_verify = writers.program_verify, pv
            try:
                s = w.refresh(pairs, np.random.default_rng(0))
            finally:
                writers.program_verify = orig
        else:
            s = w.refresh(pairs, np.random.default_rng(0))
        results.append((s, pairs.g_plus.copy(), pairs.g_minus.copy()))
    (s_new, gp, gm), (s_ref, rp, rm) = results
    # one schedule per program-and-verify: SET both sides, RESET the lower one of each pair
    assert len(s_new) == 4 and len(s_ref) > 12
    _assert_same_schedules(s_new, s_ref)
    np.testing.assert_array_equal(gp, rp)
    np.testing.assert_array_equal(gm, rm)


# ---------------------------------------------------------------- the pieces
def test_index_pulses_equal_masked_pulses_and_ignore_the_other_devices():
    """``apply_pulses_at`` is ``apply_pulses`` with a mask; a device's pulse does not depend on
    which other devices are pulsed (counter-based noise), so the subset equals the full pulse."""
    model = HfOxReRAM()
    shape = (12, 9)
    rng = np.random.default_rng(0)
    mask = rng.random(shape) < 0.3
    amp = np.where(rng.random(shape) < 0.5, 1.2, -0.9)
    idx = np.flatnonzero(mask)
    a, b, c = (model.sample(shape, random_state=1) for _ in range(3))
    for step in range(3):  # polarity reversals and ramps on repeated pulses
        d_mask = a.apply_pulses(amp, 1e-7, mask=mask, random_state=step)
        d_idx = b.apply_pulses_at(idx, amp.reshape(-1)[idx], 1e-7, random_state=step)
        d_all = c.apply_pulses(amp, 1e-7, random_state=step)
        np.testing.assert_array_equal(d_mask.reshape(-1)[idx], d_idx)
        np.testing.assert_array_equal(d_mask[~mask], 0.0)
        np.testing.assert_array_equal(d_all[mask], d_mask[mask])
        assert np.count_nonzero(d_idx) > idx.size // 2  # most devices moved
    np.testing.assert_array_equal(a.G, b.G)
    cc = np.full(idx.size, 30e-6)
    np.testing.assert_array_equal(
        a.apply_pulses(1.4, 1e-7, mask=mask, compliance=30e-6, random_state=9).reshape(-1)[idx],
        b.apply_pulses_at(idx, 1.4, 1e-7, compliance=cc, random_state=9),
    )
    for bad, match in (
        ([1, 1], "repeat"),
        ([0, shape[0] * shape[1]], r"index must be in \[0, 108\)"),
        ([0.0, 1.0], "integer"),
    ):
        with pytest.raises(ConfigError, match=match):
            b.apply_pulses_at(np.array(bad), 1.0, 1e-7)
    with pytest.raises(ConfigError, match="amplitude"):
        b.apply_pulses_at(idx, np.ones(idx.size + 1), 1e-7)


@pytest.mark.parametrize("mode", ["row-parallel", "cell-by-cell"])
def test_schedule_from_cells_equals_from_counts(mode):
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 4, (7, 6)) * (rng.random((7, 6)) < 0.5)
    rows, cols = np.nonzero(counts >= 0)
    perm = rng.permutation(rows.size)  # any order of the cells; zeros are skipped
    kw = dict(
        amplitude=0.8,
        width=1e-7,
        polarity="reset",
        array="a",
        kind="update",
        mode=mode,
        cell="1T1R",
        bias_scheme="third",
    )
    a = PulseSchedule.from_counts(counts, **kw)
    b = PulseSchedule.from_cells(rows[perm], cols[perm], counts[rows, cols][perm], **kw)
    assert a.to_table() == b.to_table()
    for f in ("slot", "row", "col", "rep", "amplitude", "cell", "bias"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    one = PulseSchedule.from_cells([2, 0], [1, 3], **kw)
    assert (
        one.to_table()
        == PulseSchedule.from_counts(
            np.isin(np.arange(42).reshape(7, 6), [3, 13]).astype(int), **kw
        ).to_table()
    )
    with pytest.raises(ConfigError, match=r"distinct, got \(1, 2\) twice"):
        PulseSchedule.from_cells([1, 1], [2, 2], **kw)
    with pytest.raises(ConfigError, match="cols must be a 1-D integer array"):
        PulseSchedule.from_cells([1, 2], [2], **kw)
    with pytest.raises(ConfigError, match="counts must be >= 0"):
        PulseSchedule.from_cells([1, 2], [2, 2], [1, -1], **kw)
    assert PulseSchedule.from_cells([], [], **kw).n_pulses == 0


@pytest.mark.parametrize("cell,scheme", CELL_SCHEMES)
@pytest.mark.parametrize("mode", ["row-parallel", "cell-by-cell"])
def test_multi_pulse_updates_equal_one_masked_pulse_per_repetition(cell, scheme, mode):
    """``pulse_cells`` of counts up to 3: repetition r pulses every cell with more than r pulses
    at once, the draws of one masked pulse of the devices per repetition."""
    new, ref = _pairs(True, seed=21), _pairs(True, seed=21)
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 4, new.shape) * (rng.random(new.shape) < 0.5)
    s = new.pulse_cells(
        "+",
        counts,
        polarity="reset",
        amplitude=0.8,
        width=1e-7,
        cell=cell,
        bias_scheme=scheme,
        kind="update",
        mode=mode,
        random_state=4,
    )
    G0 = ref.g_plus.copy()
    stream = np.random.default_rng(4)
    arr = ref.arrays["+"]
    gb, ga = np.full(s.n_cell_pulses, np.nan), np.full(s.n_cell_pulses, np.nan)
    for r in range(counts.max()):
        m = counts > r
        before = arr.G[m]
        arr.apply_pulses(-arr.model.set_polarity * 0.8, 1e-7, mask=m, random_state=stream)
        at = np.flatnonzero(s.rep == r)
        pos = np.searchsorted(np.flatnonzero(m), s.row[at] * m.shape[1] + s.col[at])
        gb[at], ga[at] = before[pos], arr.G[m][pos]
    np.testing.assert_array_equal(new.g_plus, arr.G)
    np.testing.assert_array_equal(s.g_before, gb)
    np.testing.assert_array_equal(s.g_after, ga)
    np.testing.assert_array_equal(s.energy, pulse_energy(new.device, 0.8, 1e-7, gb, ga))
    full = _half_selected_full(s, new.device, G0)
    assert np.all(full > 0)
    if cell == "0T1R":  # the rows and columns of the pulses, summed as over the whole array
        np.testing.assert_array_equal(s.e_half_selected, full)
    else:
        np.testing.assert_allclose(s.e_half_selected, full, rtol=1e-13)
