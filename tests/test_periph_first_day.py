"""Issue 13's first-day defects in the periphery, the read CLI and the sweep registry."""

from __future__ import annotations

import dataclasses
import importlib
import pydoc
import re
from pathlib import Path

import numpy as np
import pytest

import xbar
from xbar import periphery as P
from xbar._fielddoc import field_docs
from xbar.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "cls",
    [
        P.ADC,
        P.DAC,
        P.TIA,
        P.Phase,
        P.ConductanceRange,
        P.MappedBlock,
        P.WeightMapping,
        P.ArrayConfig,
    ],
)
def test_every_periphery_field_is_documented_where_help_shows_it(cls):
    docs = field_docs(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    assert set(docs) == set(fields), f"undocumented fields of {cls.__name__}"
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    text = re.sub(r"\s+", " ", re.sub(r"\n \|", "\n", text))  # drop pydoc's margin
    for name in fields:
        first = re.sub(r"\s+", " ", docs[name]).split(". ")[0][:60]
        assert re.search(rf"\b{name} : ", text), name
        assert first in text, (name, first)


def test_physical_fields_name_their_unit():
    units = {"V", "ohm", "S", "W", "J", "s", "LSB", "%"}
    for cls in (P.ADC, P.DAC, P.TIA, P.ConductanceRange, P.ArrayConfig):
        for name, doc in field_docs(cls).items():
            if name in (
                "bits",
                "range",
                "encoding",
                "signed",
                "auto_gain",
                "cell",
                "max_rows",
                "max_cols",
                "crossbar_options",
                "columns_per_adc",
                "zero_code",
                "x_max",
                "gain_std",
            ):
                continue
            words = set(re.findall(r"[A-Za-z%]+", doc))
            assert words & units, f"{cls.__name__}.{name} names no unit: {doc!r}"


# ---------------------------------------------------------------- xbar read
@pytest.fixture
def g_file(tmp_path):
    path = tmp_path / "g.npy"
    np.save(path, np.full((4, 4), 1e-5))
    return path


def test_read_bias_needs_v_select(g_file, capsys):
    """``--bias half`` without ``--v-select`` silently used 1 V."""
    assert main(["read", str(g_file), "--bias", "half", "--cell-index", "1", "2"]) == 2
    assert "--v-select" in capsys.readouterr().err


def test_read_bias_prints_cell_voltages_and_energy_split(g_file, capsys):
    assert (
        main(
            [
                "read",
                str(g_file),
                "--bias",
                "half",
                "--cell-index",
                "1",
                "2",
                "--v-select",
                "0.8",
                "--duration",
                "1e-6",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    cur = np.loadtxt(out.splitlines(), delimiter=",")  # comments are skipped
    xb = xbar.Crossbar(np.full((4, 4), 1e-5))
    rv, cv = xbar.bias.scheme("half", 4, 4, 1, 2, 0.8)
    sol = xb.solve(rv, cv)
    np.testing.assert_allclose(cur, sol.col_currents, rtol=1e-9)
    # ideal wires: the selected cell sees 0.8 V, half-selected ones 0.4 V, the others 0 V
    assert "# selected cell (1, 2): 0.8 V" in out
    assert "half-selected (row 1 or column 2): 6 cells, |V| min 0.4 V, mean 0.4 V, max 0.4 V" in out
    assert "# unselected: 9 cells, |V| min 0 V, mean 0 V, max 0 V" in out
    e_sel = 0.8**2 * 1e-5 * 1e-6
    e_half = 6 * 0.4**2 * 1e-5 * 1e-6
    assert f"selected {e_sel:.4g}, half-selected {e_half:.4g}, unselected 0" in out
    assert f"total {e_sel + e_half:.4g}" in out.splitlines()[-1]


def test_read_prints_power_split_and_writes_atomically(g_file, tmp_path, capsys):
    assert (
        main(
            [
                "read",
                str(g_file),
                "--v",
                "0.1",
                "--r-driver",
                "10",
                "--out",
                str(tmp_path / "i.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    sol = xbar.Crossbar(np.full((4, 4), 1e-5), r_driver=10.0).solve(np.full(4, 0.1), np.zeros(4))
    assert f"drivers {sol.power.drivers:.4g}" in out and f"total {sol.power.total:.4g}" in out
    np.testing.assert_allclose(
        np.loadtxt(tmp_path / "i.csv", delimiter=","), sol.col_currents, rtol=1e-12
    )
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: d / "missing.npz", "no such file"),
        (
            lambda d: (np.savez(d / "two.npz", a=np.ones(2), b=np.ones(2)), d / "two.npz")[1],
            r"holds arrays \['a', 'b'\]; name one",
        ),
        (
            lambda d: (np.savez(d / "two.npz", a=np.ones(2)), str(d / "two.npz") + ":zz")[1],
            "has no array 'zz'",
        ),
        (lambda d: ((d / "bad.npy").write_text("garbage"), d / "bad.npy")[1], "not a readable"),
        (lambda d: ((d / "bad.npz").write_text("garbage"), d / "bad.npz")[1], "not a readable"),
        (lambda d: (np.save(d / "s.npy", np.array(["a"])), d / "s.npy")[1], "real numbers"),
        (lambda d: d, "is not a file"),
    ],
)
def test_read_bad_files_give_clear_errors_not_tracebacks(tmp_path, capsys, make, match):
    path = make(tmp_path)
    assert main(["read", str(path), "--v", "0.1"]) == 2
    assert re.search(match, capsys.readouterr().err)


def test_read_npz_with_one_array_or_a_key(tmp_path, capsys):
    np.savez(tmp_path / "g.npz", G=np.full((2, 3), 1e-5), other=np.ones(1))
    assert main(["read", f"{tmp_path / 'g.npz'}:G", "--v", "0.2"]) == 0
    cur = np.loadtxt(capsys.readouterr().out.splitlines(), delimiter=",")
    np.testing.assert_allclose(cur, np.full(3, 2 * 0.2 * 1e-5))


# ---------------------------------------------------------------- stale references
def test_examples_named_in_sweep_help_and_docstrings_exist():
    sub = build_parser()._subparsers._group_actions[0].choices["sweep"]
    text = sub.format_help() + (xbar.sweep.__doc__ or "")
    named = set(re.findall(r"examples/sweeps/[\w.-]+\.toml", text))
    assert named, "the help names an example spec"
    for rel in named:
        assert (ROOT / rel).is_file(), rel


def test_every_registry_module_exists():
    from xbar.sweep.tasks import TASK_MODULES

    for mod in TASK_MODULES:
        importlib.import_module(mod)  # raised ModuleNotFoundError for xbar.train.sweep_tasks
    assert "mvm" in xbar.sweep.registered_tasks()


# ---------------------------------------------------------------- built-in training sweep task
def test_train_task_runs_a_tiny_grid_and_circuit_reads_cost_energy(tmp_path):
    pytest.importorskip("sklearn")
    from xbar.sweep import load_spec, run

    res = run(
        {
            "sweep": {"task": "train"},
            "base": {"n_train": 400, "batch": 20, "max_rows": 33},
            "axes": {"circuit": [False, True], "adc_bits": [4, 8]},
        },
        out=tmp_path,
        workers=0,
        progress=None,
    )
    assert res.n_ok == 4, [r["error"] for r in res.records if r["status"] != "ok"]
    m = {(r["params"]["circuit"], r["params"]["adc_bits"]): r["metrics"] for r in res.records}
    for (circuit, bits), met in m.items():
        assert 0.0 <= met["test_accuracy"] <= 1.0
        assert met["write_energy_j"] > 0
        assert met["energy_j"] >= met["write_energy_j"] + met["read_energy_j"] - 1e-30
        assert met["energy_per_sample_j"] == pytest.approx(met["energy_j"] / 400)
        assert (met["read_energy_j"] > 0) == circuit  # ideal reads book nothing
    # 400 digits and one epoch of softmax SGD on the fitted HfOx preset learn far above chance
    # (0.1): measured 0.448 (ideal reads) and 0.436 (circuit, 8-bit ADC)
    assert m[(False, 4)]["test_accuracy"] > 0.3 and m[(True, 8)]["test_accuracy"] > 0.3
    # an 8-bit ADC costs more per conversion than a 4-bit one (Murmann law)
    assert m[(True, 8)]["energy_j"] > m[(True, 4)]["energy_j"]
    spec = load_spec(ROOT / "examples/sweeps/train_adc_wire.toml")
    assert spec.task.name == "train" and spec.n_points == 24
    with pytest.raises(xbar.exceptions.ConfigError, match="hidden >= 1"):
        run({"sweep": {"task": "train"}, "base": {"rule": "ff"}}, workers=0, progress=None)
