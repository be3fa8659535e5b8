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
    xb = xbar.Crossbar(G, r_wordline=rng.uniform(1, 5, (M, N - 1)), r_bitline=3.0, r_driver=0.0,
                       r_sense=0.0, cell="1T1R", r_access=rng.uniform(1e3, 5e3, (M, N)),
                       select=sel)
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
    out = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    report = (tmp_path / "report.md").read_text()
    assert report.count("| 16x16 |") == 8
