"""The crossbar's state: caches that follow every conductance write (also under threads), copies
and pickles that share nothing mutable and keep G read-only, gate masks that mean what they say."""

import copy
import pickle
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import xbar
from xbar.circuit import cost, maps, transfer
from xbar.circuit import crossbar as crossbar_mod

from dense_reference import dense_solve

KW = dict(r_wordline=2.0, r_bitline=3.0, r_driver=50.0, r_sense=20.0)


def dense_read(G, v, **kw):
    kw = {**KW, **kw}
    sel = kw.get("select")
    if sel is not None and np.ndim(sel) == 1:
        sel = np.asarray(sel)[:, None]
    return dense_solve(
        G,
        kw["r_wordline"],
        kw["r_bitline"],
        kw["r_driver"],
        kw["r_sense"],
        v,
        np.zeros(G.shape[1]),
        r_access=kw.get("r_access"),
        select=sel,
    )[3]


def rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.fixture
def pair(rng):
    M, N = 12, 10
    return rng.uniform(1e-5, 1e-4, (M, N)), rng.uniform(1e-5, 1e-4, (M, N)), rng.uniform(0, 1, M)


@pytest.mark.parametrize("build", ["sweep", "pcg"])
def test_write_during_threaded_map_build_is_never_cached(build, pair, monkeypatch):
    """A write lands while another thread builds the map (forced by events): the old G's map must
    not be cached, and later reads follow the new G (the dense reference)."""
    G1, G2, v = pair
    xb = xbar.Crossbar(G1, **KW)
    started, written = threading.Event(), threading.Event()
    if build == "sweep":
        real = transfer.transfer_rows

        def hooked(net, **kw):  # the network (old G) is already in hand here
            started.set()
            assert written.wait(10)
            return real(net, **kw)

        monkeypatch.setattr(transfer, "transfer_rows", hooked)
        monkeypatch.setattr(cost, "sweep_applies", lambda net, **kw: True)
        target = xb.transfer_matrix
    else:
        real = maps.unit_solves

        def hooked(bar, *a, **kw):
            out = real(bar, *a, **kw)  # solved with the old G
            started.set()
            assert written.wait(10)
            return out

        monkeypatch.setattr(maps, "unit_solves", hooked)
        target = lambda: xb.transfer_matrix(method="pcg")  # noqa: E731
    t = threading.Thread(target=target)
    t.start()
    assert started.wait(10)
    xb.set_conductances(G2)
    written.set()
    t.join(10)
    assert not t.is_alive()
    ref = dense_read(G2, v)
    assert rel(xb.read(v, method="transfer"), ref) < 1e-9
    assert rel(xb.read(v), ref) < 1e-9
    assert rel(xb.transfer_matrix() @ v, ref) < 1e-9


def test_write_inside_admittance_build_is_never_cached(pair, monkeypatch):
    """The same interleaving, deterministic in one thread, for the port admittance (and the T the
    sweep builds with it)."""
    G1, G2, v = pair
    xb = xbar.Crossbar(G1, **KW)
    real = transfer.transfer_rows

    def hooked(net, **kw):
        out = real(net, **kw)
        xb.set_conductances(G2)
        return out

    monkeypatch.setattr(transfer, "transfer_rows", hooked)
    monkeypatch.setattr(cost, "sweep_applies", lambda net, **kw: True)
    xb.port_admittance()
    monkeypatch.setattr(transfer, "transfer_rows", real)
    fresh = xbar.Crossbar(G2, **KW)
    np.testing.assert_allclose(
        xb.port_admittance(method="pcg"), fresh.port_admittance(method="pcg"), rtol=1e-9, atol=0
    )
    assert rel(xb.read(v, method="transfer"), dense_read(G2, v)) < 1e-9


def test_write_inside_network_build_is_never_cached(pair, monkeypatch):
    """The cached network itself is versioned: a write between reading G and storing the network
    must not leave the old network (every solver uses it)."""
    G1, G2, v = pair
    xb = xbar.Crossbar(G1, **KW)
    real = crossbar_mod.Crossbar._build_network
    calls = []

    def hooked(self):
        net = real(self)
        if not calls:
            calls.append(1)
            self.set_conductances(G2)
        return net

    monkeypatch.setattr(crossbar_mod.Crossbar, "_build_network", hooked)
    xb.network()
    assert rel(xb.read(v, method="pcg"), dense_read(G2, v)) < 1e-9


def test_copy_does_not_share_the_cache(pair):
    G1, G2, v = pair
    xb = xbar.Crossbar(G1, **KW)
    xb.transfer_matrix()
    other = copy.copy(xb)
    other.set_conductances(G2)
    assert rel(other.read(v), dense_read(G2, v)) < 1e-9
    assert rel(xb.read(v), dense_read(G1, v)) < 1e-9
    assert other._cache is not xb._cache and other._lock is not xb._lock


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
def test_round_trips_keep_arrays_read_only(how, cell, pair):
    """After a pickle (Dask) round trip an in-place write must fail, not be ignored by a cached map."""
    G1, G2, v = pair
    extra = dict(cell="1T1R", r_access=1e3, select=np.arange(12) % 3 > 0) if cell == "1T1R" else {}
    xb = xbar.Crossbar(G1, **KW, **extra)
    xb.transfer_matrix()
    out = {
        "pickle": lambda x: pickle.loads(pickle.dumps(x)),
        "deepcopy": copy.deepcopy,
        "copy": copy.copy,
    }[how](xb)
    for name in ("G", "r_wordline", "r_bitline", "r_driver", "r_sense", "r_access", "select"):
        arr = getattr(out, name)
        assert not arr.flags.writeable, name
    with pytest.raises(ValueError, match="read-only"):
        out.G[:] = G2
    ref = dense_read(G1, v, r_access=extra.get("r_access"), select=extra.get("select"))
    assert rel(out.read(v), ref) < 1e-9
    out.set_conductances(G2)
    ref2 = dense_read(G2, v, r_access=extra.get("r_access"), select=extra.get("select"))
    assert rel(out.read(v), ref2) < 1e-9
    assert rel(xb.read(v), ref) < 1e-9


def test_select_mask_is_frozen_and_owned(rng):
    G = rng.uniform(1e-5, 1e-4, (4, 3))
    mask = np.array([True, False, True, True])
    xb = xbar.Crossbar(G, cell="1T1R", r_access=1e3, select=mask)
    mask[:] = True  # the caller's array is not the crossbar's
    assert not xb.select[1].any()
    with pytest.raises(ValueError, match="read-only"):
        xb.select[1] = True


@pytest.mark.parametrize(
    "bad",
    [
        ["False", "True", "True", "True"],
        ["0", "1", "1", "1"],
        [1.0, np.nan, 1.0, 1.0],
        [1.0, 0.5, 1.0, 1.0],
        [2, 1, 1, 1],
        [None, True, True, True],
        [-1, 1, 1, 1],
    ],
)
def test_select_refuses_values_that_would_flip(bad, rng):
    G = rng.uniform(1e-5, 1e-4, (4, 3))
    with pytest.raises(xbar.ConfigError, match="select must be a boolean mask"):
        xbar.Crossbar(G, cell="1T1R", r_access=1e3, select=bad)


def test_select_accepts_booleans_and_zero_one(rng):
    G = rng.uniform(1e-5, 1e-4, (4, 3))
    for mask in (
        [True, False, True, True],
        [1, 0, 1, 1],
        np.array([1.0, 0.0, 1.0, 1.0]),
        np.array([True, False, True, True])[:, None].repeat(3, axis=1),
    ):
        xb = xbar.Crossbar(G, cell="1T1R", r_access=1e3, select=mask)
        np.testing.assert_array_equal(xb.select[:, 0], [True, False, True, True])


masks = st.lists(
    st.sampled_from([True, False, 0, 1, 0.0, 1.0, np.nan, 0.5, "False", "True", "", None, 2, -1]),
    min_size=4,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(mask=masks)
def test_property_gate_masks_are_refused_or_exact(mask):
    """Any mask is refused, or every gate is on exactly where the entry is True / 1."""
    G = np.full((4, 3), 5e-5)
    ok = all(
        m is True
        or m is False
        or (not isinstance(m, str) and m is not None and m == m and m in (0, 1))
        for m in mask
    )
    if not ok:
        with pytest.raises(xbar.ConfigError):
            xbar.Crossbar(G, cell="1T1R", r_access=1e3, select=mask)
        return
    xb = xbar.Crossbar(G, r_wordline=1.0, r_bitline=1.0, cell="1T1R", r_access=1e3, select=mask)
    on = np.array([bool(m) for m in mask])
    np.testing.assert_array_equal(xb.select, np.repeat(on[:, None], 3, axis=1))
    v = np.linspace(0.1, 0.4, 4)
    ref = dense_solve(G, 1.0, 1.0, 0.0, 0.0, v, np.zeros(3), r_access=1e3, select=xb.select)[3]
    np.testing.assert_allclose(xb.read(v, method="direct"), ref, rtol=1e-9, atol=1e-18)


@settings(max_examples=25, deadline=None)
@given(
    seq=st.lists(
        st.sampled_from(["write", "T", "Y", "copy", "pickle", "read"]), min_size=1, max_size=8
    ),
    seed=st.integers(0, 2**16),
)
def test_property_any_sequence_of_writes_copies_and_maps_reads_the_present_G(seq, seed):
    """Whatever the order of writes, map builds, copies and pickles, a read equals the dense
    reference of the G the object holds now."""
    rng = np.random.default_rng(seed)
    M, N = 6, 5
    xb = xbar.Crossbar(rng.uniform(1e-5, 1e-4, (M, N)), **KW)
    for op in seq:
        if op == "write":
            xb.set_conductances(rng.uniform(1e-5, 1e-4, (M, N)))
        elif op == "T":
            xb.transfer_matrix()
        elif op == "Y":
            xb.port_admittance()
        elif op == "copy":
            xb = copy.copy(xb)
        elif op == "pickle":
            xb = pickle.loads(pickle.dumps(xb))
        v = rng.uniform(0, 1, M)
        assert rel(xb.read(v), dense_read(np.array(xb.G), v)) < 1e-9


def test_analog_tile_maps_built_across_a_write_are_marked_stale(rng, monkeypatch):
    """The same race one level up: an AnalogLinear tile caches T^T A; a write while it builds
    must leave the tile's maps stale, not tagged with the new G."""
    from xbar.periphery import AnalogLinear

    layer = AnalogLinear(rng.normal(size=(3, 5)))
    tile = layer.tiles[0]
    xb = tile.crossbar
    G2 = np.array(xb.G) * rng.uniform(0.5, 1.0, xb.shape)
    real = crossbar_mod.Crossbar.transfer_matrix

    def hooked(self, **kw):
        T = real(self, **kw)  # the map of the old G
        self.set_conductances(G2)
        return T

    monkeypatch.setattr(crossbar_mod.Crossbar, "transfer_matrix", hooked)
    tile.linear_maps(False)
    monkeypatch.setattr(crossbar_mod.Crossbar, "transfer_matrix", real)
    assert not tile.maps_ready(False)
    TA = tile.linear_maps(False)["TA"]
    np.testing.assert_allclose(TA, xb.transfer_matrix().T @ tile.A, rtol=1e-12)
