"""Against ngspice, a real SPICE engine, on netlists written from the same Crossbar."""

import numpy as np
import pytest

import xbar
from xbar import spice

pytestmark = pytest.mark.spice


def rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def bias(kind, M, N, rng):
    if kind == "mvm":
        return rng.uniform(0, 1, M), np.zeros(N)
    return xbar.bias.scheme(kind, M, N, M // 3, N // 2, 1.0)


@pytest.mark.parametrize("n", [16, 64])
@pytest.mark.parametrize("kind", ["mvm", "half", "third", "floating"])
def test_matches_ngspice(n, kind, rng):
    G = rng.uniform(1e-6, 1e-4, (n, n))
    xb = xbar.Crossbar(G, r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0)
    rv, cv = bias(kind, n, n, rng)
    ref = spice.run(xb, rv, cv)
    sol = xb.solve(rv, cv)
    driven = ~np.isnan(cv)
    assert rel(sol.col_currents[driven], ref.col_currents[driven]) < 1e-9
    assert rel(sol.row_currents[~np.isnan(rv)], ref.row_currents[~np.isnan(rv)]) < 1e-9
    assert rel(sol.v_wordline, ref.v_wordline) < 1e-9
    assert rel(sol.v_bitline, ref.v_bitline) < 1e-9


def test_1t1r_and_ideal_terminals_match_ngspice(rng):
    M, N = 12, 9
    G = rng.uniform(1e-6, 1e-4, (M, N))
    sel = rng.random(M) > 0.3
    sel[0] = True
    xb = xbar.Crossbar(
        G,
        r_wordline=rng.uniform(1, 5, (M, N - 1)),
        r_bitline=3.0,
        r_driver=0.0,
        r_sense=0.0,
        cell="1T1R",
        r_access=rng.uniform(1e3, 5e3, (M, N)),
        select=sel,
    )
    v = rng.uniform(0, 1, M)
    ref = spice.run(xb, v, np.zeros(N))
    assert rel(xb.read(v, method="pcg"), ref.col_currents) < 1e-9
    assert rel(xb.solve(v, np.zeros(N)).row_currents, ref.row_currents) < 1e-9


def test_netlist_rejects_ideal_wires():
    xb = xbar.Crossbar(np.full((2, 2), 1e-5))
    with pytest.raises(xbar.ConfigError, match="wire segment > 0"):
        spice.netlist(xb, [1, 1], [0, 0])


def test_validation_script_quick(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "validation" / "spice" / "compare.py"
    out = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    report = (tmp_path / "report.md").read_text()
    assert report.count("| 16x16 |") == 8


def _batch_op(text):
    """Node voltages and source branch currents that ``ngspice -b`` prints for an ``.op``."""
    import re

    values = {}
    for line in text.splitlines():
        m = re.match(r"^\t(\S+)\s+([-+]?[0-9.]+e[-+][0-9]+)$", line)
        if m:
            values[m.group(1).lower()] = float(m.group(2))
    return values


@pytest.mark.parametrize("case", ["linear", "sinh", "1t1r-sinh", "floating"])
def test_exported_netlist_runs_in_ngspice_batch_mode(case, rng, tmp_path):
    """Issue 13: the netlist had no analysis card, so ``ngspice -b`` ran nothing.  Now the
    file alone gives the operating point, matching xbar to 1e-9."""
    import subprocess

    M, N = 7, 6
    G = rng.uniform(1e-6, 1e-4, (M, N))
    kw = dict(r_wordline=2.5, r_bitline=3.0, r_driver=50.0, r_sense=20.0)
    if case in ("sinh", "1t1r-sinh"):
        kw["iv"] = xbar.iv.Sinh(0.25)
    if case == "1t1r-sinh":
        kw.update(cell="1T1R", r_access=rng.uniform(1e3, 3e3, (M, N)), select=np.arange(M) != 2)
    xb = xbar.Crossbar(G, **kw)
    if case == "floating":
        rv, cv = xbar.bias.floating(M, N, 3, [1, 4], 1.0)
    else:
        rv, cv = rng.uniform(0, 0.8, M), np.zeros(N)
    path = tmp_path / "x.cir"
    path.write_text(spice.netlist(xb, rv, cv))
    proc = subprocess.run(["ngspice", "-b", str(path)], capture_output=True, text=True, timeout=600)
    got = _batch_op(proc.stdout)
    sol = xb.solve(rv, cv)
    w = np.array([[got[f"w{i}_{j}"] for j in range(N)] for i in range(M)])
    b = np.array([[got[f"b{i}_{j}"] for j in range(N)] for i in range(M)])
    rows = ~np.isnan(rv)
    cols = ~np.isnan(cv)
    i_row = np.array([-got[f"vr{i}#branch"] for i in np.flatnonzero(rows)])
    i_col = np.array([got[f"vc{j}#branch"] for j in np.flatnonzero(cols)])
    live = rows if case != "1t1r-sinh" else np.arange(M) != 2  # gate-off row: any potential
    assert rel(sol.v_wordline[live], w[live]) < 1e-9
    assert rel(sol.v_bitline, b) < 1e-9
    assert rel(sol.row_currents[rows], i_row) < 1e-9
    assert rel(sol.col_currents[cols], i_col) < 1e-9


def test_netlist_cards_and_docstring():
    xb = xbar.Crossbar(np.full((2, 3), 1e-5), r_wordline=1.0, r_bitline=1.0, iv=xbar.iv.Sinh(0.25))
    text = spice.netlist(xb, [1.0, 0.5], [0.0, 0.0, 0.0])
    assert "\n.op\n" in text and "set numdgt=15" in text and text.rstrip().endswith(".end")
    assert "BC0_0 w0_0 b0_0 I={" in text
    bare = spice.netlist(xb, [1.0, 0.5], [0.0, 0.0, 0.0], analysis=False)
    assert ".op" not in bare and ".control" not in bare
    assert "linear cells)" not in spice.netlist.__doc__ and "BC{i}_{j}" in spice.netlist.__doc__
