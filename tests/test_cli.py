"""The ``xbar`` command line, run in-process and as the installed console script."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xbar
from xbar.cli import main


def test_demo_prints_ideal_vs_circuit(capsys):
    assert main(["demo", "--size", "32"]) == 0
    out = capsys.readouterr().out
    assert "IR-drop error" in out and "ideal (uA)" in out and "circuit (uA)" in out


def test_read_npy_and_csv_match_library(tmp_path, rng):
    G = rng.uniform(1e-6, 1e-4, (6, 5))
    np.save(tmp_path / "g.npy", G)
    np.savetxt(tmp_path / "g.csv", G, delimiter=",")
    v = rng.uniform(0, 1, 6)
    np.save(tmp_path / "v.npy", v)
    args = ["--r-wordline", "2.5", "--r-bitline", "2.5", "--r-driver", "100", "--r-sense", "100"]
    assert main(["read", str(tmp_path / "g.npy"), "--v-file", str(tmp_path / "v.npy"),
                 "--out", str(tmp_path / "i.npy"), *args]) == 0
    assert main(["read", str(tmp_path / "g.csv"), "--v-file", str(tmp_path / "v.npy"),
                 "--out", str(tmp_path / "i.csv"), *args]) == 0
    ref = xbar.Crossbar(G, r_wordline=2.5, r_bitline=2.5, r_driver=100, r_sense=100).read(v)
    assert np.allclose(np.load(tmp_path / "i.npy"), ref, rtol=1e-12, atol=0)
    assert np.allclose(np.loadtxt(tmp_path / "i.csv", delimiter=","), ref, rtol=1e-12, atol=0)


def test_read_bias_scheme(tmp_path, capsys):
    np.save(tmp_path / "g.npy", np.full((4, 4), 1e-5))
    assert main(["read", str(tmp_path / "g.npy"), "--bias", "half", "--cell-index", "1", "2",
                 "--v-select", "1.0", "--r-wordline", "1"]) == 0
    cur = np.loadtxt(capsys.readouterr().out.splitlines(), delimiter=",")
    assert cur[2] > 0 and cur.shape == (4,)


def test_read_errors_are_clear(tmp_path, capsys):
    assert main(["read", str(tmp_path / "missing.npy"), "--v", "0.1"]) == 2
    assert "no such file" in capsys.readouterr().err
    np.save(tmp_path / "g.npy", np.array([[1e-5, -1e-5]]))
    assert main(["read", str(tmp_path / "g.npy"), "--v", "0.1"]) == 2
    assert "G must be >= 0" in capsys.readouterr().err


def _console_script():
    """The ``xbar`` script of the running environment (beside its python; PATH may not have it)."""
    beside = Path(sys.executable).with_name("xbar")
    return str(beside) if beside.exists() else shutil.which("xbar")


@pytest.mark.skipif(_console_script() is None, reason="console script not installed")
def test_console_script_runs():
    out = subprocess.run([_console_script(), "demo", "--size", "16"], capture_output=True,
                         text=True, check=True).stdout
    assert "IR-drop error" in out


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "xbar", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("xbar ")
