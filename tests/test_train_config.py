"""``xbar train`` config validation (issue 14) and the config features of issue 12 section 3."""

import numpy as np
import pytest

import xbar.train as T
from xbar.cli import main
from xbar.cli.train import load_data, run_config
from xbar.exceptions import ConfigError


@pytest.fixture
def npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(
        path,
        X_train=rng.uniform(size=(60, 8)),
        y_train=np.arange(60) % 3,
        X_test=rng.uniform(size=(20, 8)),
        y_test=np.arange(20) % 3,
    )
    return path


def _doc(root, **data):
    return {
        "data": {"name": "npz", "root": str(root), **data},
        "model": {"rule": "sgd"},
        "train": {"progress": False, "batch_size": 10},
    }


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("n_train", -5, r"\[data\] n_train must be >= 1, got -5"),
        ("n_train", 0, r"\[data\] n_train must be >= 1, got 0"),
        ("n_train", "100", r"\[data\] n_train must be an integer or None, got str '100'"),
        ("n_train", 2.5, r"\[data\] n_train must be an integer"),
        ("n_test", True, r"\[data\] n_test must be an integer"),
        ("n_train", 61, r"n_train = 61 but the data set has only 60"),
        ("validation", 60, r"validation = 60 must be smaller"),
    ],
)
def test_bad_subset_sizes_are_refused(npz, key, value, match):
    with pytest.raises(ConfigError, match=match):
        load_data({"name": "npz", "root": str(npz), key: value})


def test_fractional_labels_are_refused_and_integral_floats_accepted(tmp_path):
    X = np.zeros((4, 3))
    bad = tmp_path / "bad.npz"
    np.savez(
        bad,
        X_train=X,
        y_train=np.array([0.0, 1.7, 1.0, 0.0]),
        X_test=X,
        y_test=np.array([0, 1, 1, 0]),
    )
    with pytest.raises(ConfigError, match=r"y_train must hold integer class labels.*1\.7"):
        load_data({"name": "npz", "root": str(bad)})
    ok = tmp_path / "ok.npz"
    np.savez(
        ok,
        X_train=X,
        y_train=np.array([0.0, 1.0, 1.0, 0.0]),
        X_test=X,
        y_test=np.array([0, 1, 1, 0]),
    )
    (_, y), _ = load_data({"name": "npz", "root": str(ok)})
    assert y.dtype == np.int64 and list(y) == [0, 1, 1, 0]


def test_missing_file_key_and_bad_arrays_give_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"\[data\] root .*nope.npz' does not exist"):
        load_data({"name": "npz", "root": str(tmp_path / "nope.npz")})
    p = tmp_path / "k.npz"
    np.savez(p, X_train=np.zeros((4, 3)), y_train=np.zeros(4, int), X_test=np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"lacks the keys \['y_test'\]"):
        load_data({"name": "npz", "root": str(p)})
    np.savez(
        p,
        X_train=np.full((4, 3), np.nan),
        y_train=np.arange(4) % 2,
        X_test=np.zeros((2, 3)),
        y_test=np.zeros(2, int),
    )
    with pytest.raises(ConfigError, match="X_train holds NaN"):
        load_data({"name": "npz", "root": str(p)})
    np.savez(
        p,
        X_train=np.zeros((4, 3)),
        y_train=np.arange(5) % 2,
        X_test=np.zeros((2, 3)),
        y_test=np.zeros(2, int),
    )
    with pytest.raises(ConfigError, match="X_train has 4 rows but its labels have 5"):
        load_data({"name": "npz", "root": str(p)})
    (p.parent / "text.npz").write_text("not a zip")
    with pytest.raises(ConfigError, match="cannot be read as .npz"):
        load_data({"name": "npz", "root": str(p.parent / "text.npz")})
    with pytest.raises(ConfigError, match="name must be one of"):
        load_data({"name": "cifar"})


@pytest.mark.parametrize(
    "table, key, value, match",
    [
        ("train", "epochs", 0, r"\[train\] epochs must be >= 1, got 0"),
        ("train", "batch_size", "10", r"\[train\] batch_size must be an integer"),
        ("train", "seed", -1, r"\[train\] seed must be >= 0, got -1"),
        ("train", "progress", "yes", r"\[train\] progress must be a boolean \(true or false\)"),
        ("train", "results_dir", 3, r"\[train\] results_dir must be a string"),
        ("model", "hidden", [10, 0], r"\[model\] hidden must be a list of integers >= 1"),
        ("rule", "lr", "fast", r"\[rule\]"),
        ("optimizer", "momentum", 1.5, r"\[optimizer\].*momentum"),
        ("optimizer", "schedule", "exp", r"\[optimizer\].*kind"),
    ],
)
def test_bad_values_are_refused_before_training(npz, tmp_path, table, key, value, match):
    doc = _doc(npz)
    doc["train"]["results_dir"] = str(tmp_path / "out")
    doc.setdefault(table, {})[key] = value
    with pytest.raises(ConfigError, match=match):
        run_config(doc)
    assert not (tmp_path / "out" / "checkpoint.npz").exists()


def test_results_dir_that_is_a_file_fails_before_training(npz, tmp_path):
    f = tmp_path / "results"
    f.write_text("")
    doc = _doc(npz)
    doc["train"]["results_dir"] = str(f)
    doc["train"]["checkpoint"] = str(tmp_path / "ck.npz")
    with pytest.raises(ConfigError, match="results_dir .* is not a folder"):
        run_config(doc)
    assert not (tmp_path / "ck.npz").exists()


def test_relative_paths_resolve_against_the_config_folder(npz, tmp_path, monkeypatch, capsys):
    sub = tmp_path / "configs"
    sub.mkdir()
    (sub / "d.npz").write_bytes(npz.read_bytes())
    (sub / "c.toml").write_text(
        '[data]\nname = "npz"\nroot = "d.npz"\n[model]\nrule = "sgd"\n'
        '[train]\nbatch_size = 10\nresults_dir = "out"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", str(sub / "c.toml")]) == 0
    assert (sub / "out" / "metrics.csv").exists() and (sub / "out" / "checkpoint.npz").exists()
    assert not list(elsewhere.iterdir())
    assert "training" in capsys.readouterr().out
    (sub / "c.toml").write_text(
        (sub / "c.toml").read_text().replace("[train]\n", "[train]\nepochs = 2\n")
    )
    assert main(["train", str(sub / "c.toml")]) == 0  # resumes after epoch 1
    out = capsys.readouterr()
    assert "resumed from" in out.out and "at epoch 2, step 0" in out.out
    assert "resuming from checkpoint" in out.err


def test_ctrl_c_exits_130_with_a_message(npz, tmp_path, monkeypatch, capsys):
    import importlib

    fit_module = importlib.import_module("xbar.train.loop")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt("training interrupted; checkpoint x")

    monkeypatch.setattr(fit_module, "fit", interrupted)
    monkeypatch.setattr(T, "fit", interrupted)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\nname = "npz"\nroot = "{npz}"\n[model]\nrule = "sgd"\n')
    assert main(["train", str(cfg)]) == 130
    assert "re-run the same command to resume" in capsys.readouterr().err


def test_circuit_write_pulses_and_device_preset_from_toml(npz):
    pytest.importorskip("xbar.devices")
    from xbar.cli.train import _make_writer, make_device
    from xbar.devices import presets

    assert make_device({"preset": "tud_hfox"}) == presets.tud_hfox()
    with pytest.raises(ConfigError, match="cell '1T1R' needs a circuit array of 1T1R"):
        _make_writer({"writer_options": {"circuit": True}})  # refused before training
    hw = {
        "device": {"preset": "tud_hfox"},
        "writer_options": {"circuit": {"r_driver": 5.0}, "cell": "0T1R"},
        "array": {"max_rows": 16, "max_cols": 16},
        "mapping": {"method": "stochastic"},
        "w_max": 2.0,
    }
    w = _make_writer(hw)
    assert isinstance(w.circuit, T.WriteCircuit) and w.circuit.r_driver == 5.0
    assert w.circuit.array.max_rows == 16
    assert _make_writer({"writer_options": {"circuit": False}}).circuit is None
    doc = _doc(npz, n_train=20, n_test=10)
    doc["hardware"] = hw
    doc["train"]["train_eval_samples"] = 0
    res = run_config(doc)
    cats = res.ledger.totals("category")  # solved write pulses book wires and drivers
    assert cats.get("write", 0) > 0 and cats.get("wires", 0) > 0 and cats.get("word_drivers", 0) > 0
    hw["device"] = {"preset": "nope"}
    with pytest.raises(ConfigError, match=r"\[hardware.device\] preset must be one of"):
        run_config(doc)
    hw["device"] = {}
    hw["writer"] = "program-verify"
    with pytest.raises(ConfigError, match="circuit works with writer = 'reset-only' only"):
        run_config(doc)
    hw["writer_options"] = {"circuit": "yes"}
    hw["writer"] = "reset-only"
    with pytest.raises(ConfigError, match="circuit must be true, false or a table"):
        run_config(doc)


# ------------------------------------------------------------------ [hardware] from a hardware file
EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1] / "examples"


def test_hardware_table_reads_a_hardware_file_and_overrides_keys():
    import tomllib

    from xbar.cli.train import hardware_config
    from xbar.config import load_hardware

    doc = tomllib.loads((EXAMPLES / "train" / "sgd_lfm_digits_hardware.toml").read_text())
    hw, given = hardware_config(doc["hardware"], EXAMPLES / "train")
    ref = load_hardware(EXAMPLES / "hardware" / "rram_1t1r.toml")
    assert hw.array == ref.array and hw.dac == ref.dac and hw.tia == ref.tia
    assert ref.adc.bits == 6 and hw.adc.bits == 8  # a key overridden
    assert hw.adc.range == ref.adc.range  # the others kept
    assert ref.device.preset == "tud_hfox" and hw.device.model == "HfOxReRAM"  # replaced
    assert hw.device.params == {"g_min": 0.1e-6, "g_max": 10e-6}
    assert given == {"array", "device", "dac", "tia", "adc"}
    with pytest.raises(ConfigError, match=r"\[hardware.adc\] bits must be >= 1"):
        hardware_config({**doc["hardware"], "adc": {"bits": 0}}, EXAMPLES / "train")
    with pytest.raises(ConfigError, match=r"\[hardware\] config .* cannot be read"):
        hardware_config({"config": "missing.toml"}, EXAMPLES / "train")


def test_hardware_file_mapping_and_window_device_are_refused_for_pulsed_training(tmp_path, npz):
    (tmp_path / "hw.toml").write_text('[mapping]\nscheme = "reference"\n')
    doc = _doc(npz, n_train=20, n_test=10)
    doc["hardware"] = {"config": str(tmp_path / "hw.toml")}
    with pytest.raises(ConfigError, match=r"\[mapping\].*does not apply to the pulsed layers"):
        run_config(doc)
    doc["hardware"] = {"device": {"model": "window", "g_min": 1e-6, "g_max": 1e-5}}
    with pytest.raises(ConfigError, match="model = 'window' has no pulse response"):
        run_config(doc)


def test_xbar_train_with_a_hardware_file_runs(tmp_path, capsys):
    pytest.importorskip("sklearn.datasets")
    text = (EXAMPLES / "train" / "sgd_lfm_digits_hardware.toml").read_text()
    text = text.replace(
        'config = "../hardware/rram_1t1r.toml"',
        f'config = "{EXAMPLES / "hardware" / "rram_1t1r.toml"}"',
    )
    text = text.replace("n_train = 600", "n_train = 200\nn_test = 100")
    cfg = tmp_path / "run.toml"
    cfg.write_text(text)
    assert main(["train", str(cfg)]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("test accuracy ")[1].split(",")[0])
    assert acc > 0.18 and "energy" in out  # 0.25 measured on 200 samples; chance is 0.10
