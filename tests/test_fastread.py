"""Exact batched reads without maps (xbar.circuit.fastread) and the reader that chooses them."""

import numpy as np
import pytest

import xbar.train as T
from dense_reference import dense_solve
from xbar import periphery
from xbar.circuit import Crossbar
from xbar.circuit.fastread import maps_pay_off, read_currents
from xbar.exceptions import ConfigError, ConvergenceError
from xbar.pulses import EnergyLedger
from xbar.train.analog import CircuitReader

TOL = 1e-9  # every read within 1e-9 relative (of its largest current) of the reference


def _close(got, ref):
    scale = np.abs(ref).max(axis=-1, keepdims=True)
    assert np.all(np.abs(got - ref) <= TOL * scale), np.max(np.abs(got - ref) / scale)


def _xb(M, N, seed, g=(1e-6, 100e-6), **kw):
    G = np.random.default_rng(seed).uniform(*g, (M, N))
    return Crossbar(
        G, **{"r_wordline": 1.0, "r_bitline": 1.0, "r_driver": 10.0, "r_sense": 10.0, **kw}
    )


@pytest.mark.parametrize("B", [1, 3])
def test_reads_equal_an_independent_dense_nodal_solve(B):
    rng = np.random.default_rng(0)
    M, N = 7, 5
    r_wl = rng.uniform(0.5, 3.0, (M, N - 1))  # per-segment wires and terminals
    r_bl = rng.uniform(0.5, 3.0, (M - 1, N))
    r_d, r_s = rng.uniform(5, 50, M), rng.uniform(5, 50, N)
    G = rng.uniform(1e-5, 1e-3, (M, N))  # strong coupling: IR drop of several %
    xb = Crossbar(G, r_wordline=r_wl, r_bitline=r_bl, r_driver=r_d, r_sense=r_s)
    V = rng.uniform(-0.3, 0.3, (B, M))
    i_col, i_row = read_currents(xb.network(), V)
    for b in range(B):
        _, _, ref_row, ref_col = dense_solve(G, r_wl, r_bl, r_d, r_s, V[b], np.zeros(N))
        _close(i_col[b], ref_col)
        _close(i_row[b], ref_row)
    assert np.abs(i_col - V @ G).max() > 1e-3 * np.abs(V @ G).max()  # the wires matter


def test_1t1r_reads_with_deselected_cells_equal_the_dense_solve():
    rng = np.random.default_rng(1)
    M, N = 6, 4
    G = rng.uniform(1e-5, 1e-4, (M, N))
    r_acc = rng.uniform(1e3, 5e3, (M, N))
    sel = rng.random((M, N)) > 0.3
    sel[0, :] = False  # a whole word line isolated
    xb = Crossbar(
        G,
        r_wordline=2.0,
        r_bitline=2.0,
        r_driver=20.0,
        r_sense=20.0,
        cell="1T1R",
        r_access=r_acc,
        select=sel,
    )
    V = rng.uniform(0, 0.2, (2, M))
    i_col, i_row = read_currents(xb.network(), V)
    for b in range(2):
        _, _, ref_row, ref_col = dense_solve(
            G, 2.0, 2.0, 20.0, 20.0, V[b], np.zeros(N), r_access=r_acc, select=sel
        )
        _close(i_col[b], ref_col)
        _close(i_row[b], ref_row)
    assert np.all(i_row[:, 0] == 0.0) or np.abs(i_row[:, 0]).max() < 1e-15


@pytest.mark.parametrize("shape", [(64, 48), (1, 9), (9, 1), (27, 128)])
def test_reads_equal_the_exact_maps_and_fresh_solves(shape):
    xb = _xb(*shape, seed=2, g=(1e-7, 10e-6))
    rng = np.random.default_rng(3)
    V = rng.uniform(-0.2, 0.2, (4, shape[0]))
    V[1] = 0.0  # an all-zero input reads exactly 0
    i_col, i_row = read_currents(xb.network(), V)
    assert np.all(i_col[1] == 0) and np.all(i_row[1] == 0)
    keep = [0, 2, 3]
    _close(i_col[keep], V[keep] @ xb.transfer_matrix().T)
    _close(i_row[keep], V[keep] @ xb.port_admittance().T)
    sol = xb.solve(V[keep], np.zeros((3, shape[1])), method="pcg")
    _close(i_col[keep], sol.col_currents)
    _close(i_row[keep], sol.row_currents)


def test_reads_stay_exact_after_random_partial_updates():
    """The training situation: a few cells change between reads (fresh maps as reference)."""
    xb = _xb(40, 30, seed=4, g=(8e-6, 10e-6))
    rng = np.random.default_rng(5)
    for _ in range(4):
        G = np.array(xb.G)
        idx = rng.choice(G.size, size=rng.integers(1, 60), replace=False)
        G.flat[idx] *= rng.uniform(0.9, 0.99, idx.size)  # reset pulses lower them
        xb.set_conductances(G)
        V = rng.uniform(0, 0.2, (5, 40))
        i_col, i_row = read_currents(xb.network(), V)
        _close(i_col, V @ xb.transfer_matrix().T)
        _close(i_row, V @ xb.port_admittance().T)


def test_split_over_threads_gives_the_same_bits():
    xb = _xb(32, 24, seed=6)
    V = np.random.default_rng(7).uniform(0, 0.2, (7, 32))
    one = read_currents(xb.network(), V, n_threads=1)
    two = read_currents(xb.network(), V, n_threads=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    # and each row is the single-input read: the batch does not couple right-hand sides
    single = read_currents(xb.network(), V[3:4])
    np.testing.assert_allclose(one[0][3], single[0][0], rtol=1e-12, atol=0)


def test_unsupported_networks_and_inputs_are_rejected():
    V = np.zeros((1, 4))
    with pytest.raises(ConfigError, match="resistance"):
        read_currents(_xb(4, 3, 0, r_wordline=0.0).network(), V)
    with pytest.raises(ConfigError, match="resistance"):
        read_currents(_xb(4, 3, 0, r_sense=0.0).network(), V)
    with pytest.raises(ConfigError, match=r"shape \(B, 4\)"):
        read_currents(_xb(4, 3, 0).network(), np.zeros((1, 5)))
    with pytest.raises(ConfigError, match="finite"):
        read_currents(_xb(4, 3, 0).network(), np.full((1, 4), np.nan))
    with pytest.raises(ConvergenceError, match="did not converge"):
        read_currents(_xb(30, 30, 0).network(), np.ones((1, 30)), rtol=1e-300, maxiter=1)


def test_cost_model_prefers_maps_for_large_batches_only():
    assert not maps_pay_off(128, 128, 20) and maps_pay_off(128, 128, 200)
    assert not maps_pay_off(128, 72, 2) and maps_pay_off(128, 72, 200)
    flips = [
        next(b for b in range(1, 10000) if maps_pay_off(M, N, b))
        for M, N in ((32, 32), (64, 64), (128, 128))
    ]
    assert flips == sorted(flips)


# ----------------------------------------------------------------------------- the reader
def _reader(tile=16, **kw):
    return CircuitReader(
        array=periphery.ArrayConfig(max_rows=tile, max_cols=tile, r_wordline=1.0, r_bitline=1.0),
        adc=periphery.ADC(bits=8),
        dac=periphery.DAC(bits=8),
        output_range=4.0,
        random_state=0,
        **kw,
    )


def _analog_pair(n_in=100, n_out=20, seed=0):
    """The same layer read by the fast reader and by fresh maps ('transfer'), 64² tiles."""
    from xbar.devices import HfOxReRAM

    out = []
    for reader in (_reader(64), _reader(64, read_method="transfer")):
        f = T.pulsed_layer_factory(
            HfOxReRAM(g_min=1e-7, g_max=10e-6),
            T.ResetOnlyWriter(),
            T.PulseMapping("stochastic"),
            w_max=1.0,
            ledger=EnergyLedger(),
            reader=reader,
        )
        out.append(
            T.build_network(
                T.SoftmaxSGD(), n_in, n_out, [], layer_factory=f, random_state=seed
            ).layers[0]
        )
    return out


def test_reader_reads_and_energy_equal_fresh_maps():
    fast, maps = _analog_pair()
    x = np.random.default_rng(8).uniform(0, 1, (3, 100))
    np.testing.assert_allclose(fast.forward(x), maps.forward(x), rtol=0, atol=1e-12)
    af = fast.reader.analog(fast)
    assert not any(t.maps_ready(True) for t in af.tiles)  # three reads: solved, no maps
    assert all(t.maps_ready(True) for t in maps.reader.analog(maps).tiles)
    for comp in ("array", "drivers", "sense"):
        e_f = fast.ledger.total("read", component=comp)
        e_m = maps.ledger.total("read", component=comp)
        assert e_m > 0 and abs(e_f - e_m) <= 1e-9 * e_m, comp
    # a large batch builds the maps (cost model), and reads through them equal the solves
    big = np.random.default_rng(9).uniform(0, 1, (300, 100))
    np.testing.assert_allclose(fast.forward(big), maps.forward(big), rtol=0, atol=1e-12)
    assert all(t.maps_ready(True) for t in af.tiles)


def test_reader_falls_back_when_the_kernel_does_not_apply():
    """Ideal wires: the fast reader takes AnalogLinear's path (direct solves) and agrees."""
    kw = dict(
        array=periphery.ArrayConfig(max_rows=16, max_cols=12, r_wordline=0.0, r_bitline=0.0),
        adc=periphery.ADC(bits=None),
        dac=periphery.DAC(bits=None),
        random_state=0,
    )
    from xbar.devices import HfOxReRAM

    layers = []
    for reader in (CircuitReader(**kw), CircuitReader(fast_reads=False, **kw)):
        f = T.pulsed_layer_factory(HfOxReRAM(g_min=1e-7, g_max=10e-6), reader=reader)
        layers.append(
            T.build_network(T.SoftmaxSGD(), 20, 5, [], layer_factory=f, random_state=1).layers[0]
        )
    x = np.random.default_rng(10).uniform(0, 1, (2, 20))
    np.testing.assert_allclose(layers[0].forward(x), layers[1].forward(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rule", ["ff", "sgd"])
def test_training_with_fast_reads_equals_training_with_fresh_maps(rule, monkeypatch):
    """Same pulses, same conductances, same energy: the fast path changes no result."""
    from xbar.cli.train import make_rule
    from xbar.circuit import fastread
    from xbar.devices import HfOxReRAM

    calls = []
    solve = fastread.read_many
    monkeypatch.setattr(fastread, "read_many", lambda *a, **k: calls.append(1) or solve(*a, **k))
    rng = np.random.default_rng(11)
    X = rng.uniform(0, 1, (24, 30))
    y = rng.integers(0, 4, 24)
    runs = []
    for reader in (_reader(32), _reader(32, read_method="transfer")):
        ledger = EnergyLedger()
        r = make_rule(rule, {})
        f = T.pulsed_layer_factory(
            HfOxReRAM(g_min=1e-7, g_max=10e-6),
            T.ResetOnlyWriter(),
            T.PulseMapping("stochastic"),
            w_max=1.0,
            ledger=ledger,
            reader=reader,
        )
        net = T.build_network(
            r, 30, 4, [14] if rule == "ff" else [], layer_factory=f, random_state=3
        )
        T.fit(
            net,
            (X, y),
            rule=r,
            epochs=1,
            random_state=0,
            batch_size=1,
            ledger=ledger,
            progress=False,
        )
        runs.append((net, ledger))
        if not runs[1:]:
            assert len(calls) >= 24  # the fast run solved its reads (32² tile)
    (net_f, led_f), (net_m, led_m) = runs
    for lf, lm in zip(net_f.layers, net_m.layers):
        np.testing.assert_allclose(lf.pairs.g_plus, lm.pairs.g_plus, rtol=1e-12, atol=0)
        np.testing.assert_allclose(lf.pairs.g_minus, lm.pairs.g_minus, rtol=1e-12, atol=0)
        assert lf.n_updates == lm.n_updates > 0
    assert abs(led_f.total() - led_m.total()) <= 1e-9 * led_m.total()


def test_identical_inputs_are_solved_once(monkeypatch):
    from xbar.circuit import fastread

    sizes = []
    solve = fastread.read_many
    monkeypatch.setattr(
        fastread,
        "read_many",
        lambda nets, Vs, **k: sizes.extend(len(V) for V in Vs) or solve(nets, Vs, **k),
    )
    fast, maps = _analog_pair()
    x = np.random.default_rng(12).uniform(0, 1, (2, 100))
    x = np.concatenate([x, x[::-1], x[:1]])  # a, b, b, a, a
    x[:, 64:] = 0.0  # tile 2 (rows 64-100): bias only
    x[1, :64] = 0.0  # a, 0, b, a, a on tile 1
    out = fast.forward(x)
    assert sizes == [2, 1]  # tile 1: a and b (0 is not solved); tile 2: one input
    np.testing.assert_array_equal(out[0], out[3])
    np.testing.assert_array_equal(out[0], out[4])
    assert np.abs(out[1]).max() > 0
    np.testing.assert_allclose(out, maps.forward(x), rtol=0, atol=1e-12)
    e_f, e_m = fast.ledger.total("read"), maps.ledger.total("read")
    assert abs(e_f - e_m) <= 1e-9 * e_m


# --------------------------------------------------- blocks, several tiles, the cost model
def test_kernel_blocks_of_right_hand_sides_give_the_same_bits():
    from xbar._kernels import _reads

    net = _xb(40, 30, seed=13, g=(1e-6, 100e-6), r_wordline=3.0).network()
    args = [
        np.ascontiguousarray(a, dtype=float)
        for a in (net.gc, net.gw, net.gb, net.g_driver, net.g_sense)
    ]
    V = np.random.default_rng(14).uniform(-0.2, 0.2, (19, 40))
    V[4] = 0.0
    outs = [_reads.read(*args, V, 1e-11, 200, block) for block in (1, 3, 8, 19, 1000)]
    for o in outs[1:]:
        for a, b in zip(outs[0], o):
            np.testing.assert_array_equal(a, b)
    xb = _xb(40, 30, seed=13, g=(1e-6, 100e-6), r_wordline=3.0)
    _close(outs[2][0], V @ xb.transfer_matrix().T)
    _close(outs[2][1], V @ xb.port_admittance().T)
    assert outs[2][2][4] == 0 and outs[2][2].max() > 2


def test_a_block_of_zero_inputs_after_a_solved_block_reads_exactly_zero():
    # the kernel reuses its work vectors from block to block and writes the solution only in
    # the first CG iteration: a block without any non-zero input must not return the
    # previous block's solution
    from xbar._kernels import _reads

    xb = _xb(24, 20, seed=21, g=(1e-6, 100e-6))
    net = xb.network()
    args = [
        np.ascontiguousarray(a, dtype=float)
        for a in (net.gc, net.gw, net.gb, net.g_driver, net.g_sense)
    ]
    V = np.random.default_rng(22).uniform(-0.2, 0.2, (9, 24))
    V[3:6] = 0.0  # the second block of 3, whole
    icol, irow, iters, status = _reads.read(*args, V, 1e-11, 200, 3)
    assert np.all(icol[3:6] == 0.0) and np.all(irow[3:6] == 0.0)
    assert np.all(iters[3:6] == 0) and np.all(status == 0)
    keep = np.r_[0:3, 6:9]
    _close(icol[keep], V[keep] @ xb.transfer_matrix().T)
    _close(irow[keep], V[keep] @ xb.port_admittance().T)
    one = _reads.read(*args, V, 1e-11, 200, 1000)  # one block: the same bits
    for a, b in zip(one, (icol, irow, iters, status)):
        np.testing.assert_array_equal(a, b)


def test_read_many_equals_single_reads_and_fresh_maps():
    from xbar.circuit.fastread import read_many

    rng = np.random.default_rng(15)
    xbs = [_xb(24, 16, 16), _xb(9, 33, 17), _xb(24, 16, 18)]
    Vs = [rng.uniform(0, 0.2, (70, 24)), rng.uniform(0, 0.2, (3, 9)), np.zeros((0, 24))]
    serial = read_many([x.network() for x in xbs], Vs, n_threads=1)
    threaded = read_many([x.network() for x in xbs], Vs, n_threads=2)  # 70 -> 3 jobs
    for xb, V, s, t in zip(xbs, Vs, serial, threaded):
        for a, b in zip(s, t):
            np.testing.assert_array_equal(a, b)
        assert s[0].shape == (len(V), xb.shape[1]) and s[1].shape == (len(V), xb.shape[0])
        if len(V):
            _close(s[0], V @ xb.transfer_matrix().T)
            _close(s[1], V @ xb.port_admittance().T)
            np.testing.assert_array_equal(s[0], read_currents(xb.network(), V)[0])
    with pytest.raises(ConfigError, match="same length"):
        read_many([xbs[0].network()], [])
    with pytest.raises(DeprecationWarning, match="n_threads"):
        read_currents(xbs[0].network(), Vs[0], workers=2)


def test_cost_model_uses_reads_and_iterations():
    from xbar.circuit import transfer
    from xbar.circuit.fastread import read_seconds

    assert read_seconds(128, 128, 20, 4) == pytest.approx(2 * read_seconds(128, 128, 10, 4))
    assert read_seconds(128, 128, 10, 8) > read_seconds(128, 128, 10, 4)
    # measured on this machine (quiet): 0.39 ms per read of a 128² tile at 4 iterations, maps 63 ms
    assert 0.2e-3 < read_seconds(128, 128, 1, 4) < 0.6e-3
    flip = {
        it: next(b for b in range(1, 5000) if maps_pay_off(128, 128, b, it)) for it in (3, 4, 9)
    }
    assert flip[3] > flip[4] > flip[9] and 100 < flip[4] < 200
    b = flip[4]
    assert (
        read_seconds(128, 128, b, 4)
        >= transfer.sweep_seconds(128, 128)
        > read_seconds(128, 128, b - 1, 4)
    )


def _fast_layer(n_in, n_out, tile, seed=0):
    """An AnalogLinear with the FastReads strategy (through CircuitReader), and its reference."""
    from xbar.devices import HfOxReRAM

    out = []
    for reader in (_reader(tile), _reader(tile, read_method="transfer")):
        f = T.pulsed_layer_factory(
            HfOxReRAM(g_min=1e-7, g_max=10e-6),
            T.ResetOnlyWriter(),
            T.PulseMapping("stochastic"),
            w_max=1.0,
            ledger=EnergyLedger(),
            reader=reader,
        )
        layer = T.build_network(
            T.SoftmaxSGD(), n_in, n_out, [], layer_factory=f, random_state=seed
        ).layers[0]
        layer.forward(np.zeros((1, n_in)))  # builds the AnalogLinear
        out.append((layer, reader.analog(layer)))
    return out


def test_cost_model_counts_distinct_inputs_per_tile(monkeypatch):
    """A batch of 200 made of 100 distinct inputs (FF's positive/negative pairs): the 128² tiles
    are solved (100 reads < break-even), a batch of 200 distinct ones builds the maps."""
    (_, fast), _ = _fast_layer(255, 64, 128)  # + bias row: two 128² tiles
    strat = fast.read_strategy
    tiles = fast.tiles
    rng = np.random.default_rng(19)
    assert len(tiles) == 2 and all(t.crossbar.shape == (128, 128) for t in tiles)
    assert fast.in_features == 256  # the reader's bias input
    x = rng.uniform(0, 1, (100, 256))
    pairs = np.concatenate([x, x])
    pairs[100:, 128:] = rng.uniform(0, 1, (100, 128))  # tile 2 sees 200 distinct inputs
    strat.plan(fast, fast.dac.encode(pairs))
    assert [strat._reads(fast, t, 200) for t in tiles] == [100, 200]
    assert not strat.use_maps(fast, tiles[0], 200) and strat.use_maps(fast, tiles[1], 200)
    z = np.zeros((200, 256))
    strat.plan(fast, fast.dac.encode(z))
    assert not any(strat.use_maps(fast, t, 200) for t in tiles)  # nothing to read
    # measured iterations enter: a tile whose reads took many iterations switches earlier
    strat.plan(fast, fast.dac.encode(x[:90]))
    assert not strat.use_maps(fast, tiles[0], 90)
    strat._iterations[id(tiles[0])] = 12.0
    assert strat.use_maps(fast, tiles[0], 90)


def test_all_solved_tiles_of_a_phase_in_one_parallel_call(monkeypatch):
    from xbar.circuit import fastread

    calls = []
    many = fastread.read_many
    monkeypatch.setattr(
        fastread,
        "read_many",
        lambda nets, Vs, **k: calls.append([len(v) for v in Vs]) or many(nets, Vs, **k),
    )
    (layer_f, fast), (layer_m, _) = _fast_layer(70, 30, 32)
    assert len(fast.tiles) == 3 * 2 and calls == [[1, 1]]  # zero input: only the bias rows
    calls.clear()
    x = np.random.default_rng(20).uniform(0, 1, (5, 70))
    out = layer_f.forward(x)
    assert calls == [[5] * 6]
    np.testing.assert_allclose(out, layer_m.forward(x), rtol=0, atol=1e-12)
    # conductances written between the plan and the read: that tile is solved afresh
    strat = fast.read_strategy
    xa = np.random.default_rng(21).uniform(0, 1, (5, fast.in_features))
    phase = fast.dac.encode(xa)[0]
    strat.plan(fast, [phase])
    V0 = phase.volts[:, fast.tiles[0].spec.rows]
    strat.solve(fast, fast.tiles[0], V0, phase)  # solves all six
    G = np.array(fast.tiles[1].G) * 0.97
    fast.set_conductances(1, G)
    V1 = phase.volts[:, fast.tiles[1].spec.rows]
    got, _ = strat.solve(fast, fast.tiles[1], V1, phase)
    xb = fast.tiles[1].crossbar
    ref = (V1 @ xb.transfer_matrix().T) @ fast.tiles[1].A
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    assert len(calls[-1]) == 1  # the stale result was dropped, tile 1 re-solved


@pytest.mark.parametrize(
    "case",
    [
        (128, 128, (9e-6, 10e-6), 1.0),
        (64, 64, (1e-6, 100e-6), 10.0),
        (40, 90, (50e-6, 100e-6), 3.0),
    ],
)
def test_the_training_tolerance_keeps_reads_within_1e_9(case):
    """FastReads solves at rtol=1e-10: still within 1e-9 of the fresh maps, stress cases too."""
    from xbar.train.analog import FastReads

    M, N, g, r = case
    xb = _xb(M, N, seed=22, g=g, r_wordline=r, r_bitline=r)
    V = np.random.default_rng(23).uniform(0, 0.2, (6, M))
    V[:3] *= np.random.default_rng(24).random((3, M)) < 0.2  # sparse, MNIST-like
    i_col, i_row = read_currents(xb.network(), V, rtol=FastReads().rtol)
    _close(i_col, V @ xb.transfer_matrix().T)
    _close(i_row, V @ xb.port_admittance().T)
    with pytest.raises(ConfigError, match="rtol"):
        FastReads(rtol=1e-6)
