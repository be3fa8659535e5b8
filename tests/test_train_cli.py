"""``xbar train CONFIG.toml``."""

import numpy as np
import pytest

from xbar.cli import main
from xbar.exceptions import ConfigError
from xbar.cli.train import run_config


@pytest.fixture
def digits_npz(tmp_path):
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    path = tmp_path / "digits.npz"
    np.savez(path, X_train=X[:1000] / 16, y_train=y[:1000], X_test=X[1000:] / 16, y_test=y[1000:])
    return path


def test_cli_trains_float_and_writes_results(digits_npz, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"""
[data]
name = "npz"
root = "{digits_npz}"
[model]
rule = "sgd"
[rule]
lr = 0.5
[train]
epochs = 2
batch_size = 10
results_dir = "{tmp_path / "out"}"
checkpoint = "{tmp_path / "ck.npz"}"
""")
    assert main(["train", str(cfg)]) == 0
    out = capsys.readouterr()
    assert "test accuracy" in out.out and "samples/s" in out.err
    acc = float(out.out.split("test accuracy ")[1].split(",")[0])
    assert acc > 0.9
    assert (tmp_path / "out" / "metrics.csv").exists() and (tmp_path / "ck.npz").exists()


def test_cli_pulsed_run(digits_npz):
    pytest.importorskip("xbar.devices")
    doc = {
        "data": {"name": "npz", "root": str(digits_npz), "n_train": 300, "n_test": 100},
        "model": {"rule": "sgd+lfm"},
        "hardware": {"w_max": 2.0, "device": {"g_min": 1e-6}, "mapping": {"method": "stochastic"}},
        "train": {"batch_size": 10, "progress": False},
    }
    res = run_config(doc)
    assert res.ledger.total("write") > 0 and res.test_accuracy > 0.2


def test_cli_rejects_typos(digits_npz, tmp_path, capsys):
    with pytest.raises(ConfigError, match="unknown keys"):
        run_config({"data": {"name": "npz", "root": str(digits_npz)}, "train": {"epoch": 3}})
    with pytest.raises(ConfigError, match="rule must be one of"):
        run_config({"data": {"name": "npz", "root": str(digits_npz)}, "model": {"rule": "x"}})
    with pytest.raises(ConfigError, match=r"\[rule\]"):
        run_config({"data": {"name": "npz", "root": str(digits_npz)}, "rule": {"lrr": 1}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    assert main(["train", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_cli_circuit_run_with_reader_options(digits_npz):
    pytest.importorskip("xbar.devices")
    from xbar.devices.presets import ILLUSTRATIVE  # the device the 0.3 threshold was set with

    hw = {
        "device": {**ILLUSTRATIVE, "g_min": 0.1e-6, "g_max": 10e-6},
        "mapping": {"method": "stochastic"},
        "circuit": True,
        "array": {"max_rows": 33, "max_cols": 64},
        "reader": {"output_range": 16.0},
        "g_high": 9e-6,
    }
    doc = {
        "data": {"name": "npz", "root": str(digits_npz), "n_train": 200, "n_test": 100},
        "model": {"rule": "sgd"},
        "rule": {"lr": 0.5},
        "hardware": hw,
        "train": {"batch_size": 20, "progress": False},
    }
    res = run_config(doc)
    assert res.ledger.total("read") > 0 and res.ledger.total("adc") > 0
    assert res.test_accuracy > 0.3
    hw["reader"] = {"output_rnage": 16.0}
    with pytest.raises(ConfigError, match=r"hardware\.reader"):
        run_config(doc)
