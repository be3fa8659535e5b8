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
    assert (
        main(
            [
                "read",
                str(tmp_path / "g.npy"),
                "--v-file",
                str(tmp_path / "v.npy"),
                "--out",
                str(tmp_path / "i.npy"),
                *args,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "read",
                str(tmp_path / "g.csv"),
                "--v-file",
                str(tmp_path / "v.npy"),
                "--out",
                str(tmp_path / "i.csv"),
                *args,
            ]
        )
        == 0
    )
    ref = xbar.Crossbar(G, r_wordline=2.5, r_bitline=2.5, r_driver=100, r_sense=100).read(v)
    assert np.allclose(np.load(tmp_path / "i.npy"), ref, rtol=1e-12, atol=0)
    assert np.allclose(np.loadtxt(tmp_path / "i.csv", delimiter=","), ref, rtol=1e-12, atol=0)


def test_read_bias_scheme(tmp_path, capsys):
    np.save(tmp_path / "g.npy", np.full((4, 4), 1e-5))
    assert (
        main(
            [
                "read",
                str(tmp_path / "g.npy"),
                "--bias",
                "half",
                "--cell-index",
                "1",
                "2",
                "--v-select",
                "1.0",
                "--r-wordline",
                "1",
            ]
        )
        == 0
    )
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
    out = subprocess.run(
        [_console_script(), "demo", "--size", "16"], capture_output=True, text=True, check=True
    ).stdout
    assert "IR-drop error" in out


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "xbar", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("xbar ")


# ------------------------------------------------------------------ hardware configurations
HW_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hardware" / "rram_1t1r.toml"


def test_hardware_show_and_dump_round_trip(tmp_path, capsys):
    from xbar.config import HardwareConfig, load_hardware

    assert main(["hardware", "show", str(HW_EXAMPLE)]) == 0
    shown = capsys.readouterr().out
    assert "cell 1T1R" in shown and "[ohm]" in shown and 'preset = "tud_hfox"' in shown
    assert HardwareConfig.from_toml(shown) == load_hardware(HW_EXAMPLE)
    assert main(["hardware", "dump", str(HW_EXAMPLE), "--out", str(tmp_path / "d.toml")]) == 0
    assert load_hardware(tmp_path / "d.toml") == load_hardware(HW_EXAMPLE)
    assert capsys.readouterr().out == f"wrote {tmp_path / 'd.toml'}\n"
    assert main(["hardware", "dump"]) == 0
    assert HardwareConfig.from_toml(capsys.readouterr().out) == HardwareConfig()
    (tmp_path / "bad.toml").write_text("[tia]\nv_swing = -1.0\n")
    assert main(["hardware", "show", str(tmp_path / "bad.toml")]) == 2
    assert "[tia] v_swing must be > 0 V, got -1.0" in capsys.readouterr().err


def test_read_with_a_hardware_file_matches_the_library(tmp_path, rng, capsys):
    from xbar.config import load_hardware

    G = rng.uniform(1e-5, 5e-5, (6, 5))
    np.save(tmp_path / "g.npy", G)
    hw = load_hardware(HW_EXAMPLE)
    assert (
        main(
            [
                "read",
                str(tmp_path / "g.npy"),
                "--v",
                "0.2",
                "--hardware",
                str(HW_EXAMPLE),
                "--out",
                str(tmp_path / "i.npy"),
            ]
        )
        == 0
    )
    xb = xbar.Crossbar(G, **hw.crossbar_kwargs())
    assert xb.cell == "1T1R" and float(xb.r_access[0, 0]) == 15e3
    ref = xb.read(np.full(6, 0.2))
    assert np.allclose(np.load(tmp_path / "i.npy"), ref, rtol=1e-12, atol=0)
    notes = capsys.readouterr().out
    assert f"over {hw.dac.t_read:g} s" in notes  # the file's read duration
    # a flag overrides the file: passive cells, its access resistance dropped
    assert (
        main(
            [
                "read",
                str(tmp_path / "g.npy"),
                "--v",
                "0.2",
                "--hardware",
                str(HW_EXAMPLE),
                "--cell",
                "0T1R",
                "--r-wordline",
                "0",
                "--out",
                str(tmp_path / "j.npy"),
            ]
        )
        == 0
    )
    kw = {**hw.crossbar_kwargs(), "cell": "0T1R", "r_wordline": 0.0}
    kw.pop("r_access")
    assert np.allclose(
        np.load(tmp_path / "j.npy"),
        xbar.Crossbar(G, **kw).read(np.full(6, 0.2)),
        rtol=1e-12,
        atol=0,
    )
