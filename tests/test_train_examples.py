"""The shipped sklearn-digits configs of examples/train/ still learn (so they cannot silently rot).

Bounds: the accuracy measured with each config as shipped (seed 0, 397 held-out digits; see the
README's training section) minus a margin of ~5 points for numerical drift across platforms.
"""

import tomllib
from pathlib import Path

import pytest

from xbar.cli.train import run_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "train"

# config: (minimum test accuracy, measured)
FLOAT = {
    "ff_digits.toml": (0.87, 0.917),
    "competitive_digits.toml": (0.93, 0.980),
    "sgd_lfm_digits.toml": (0.92, 0.970),
    "backprop_digits.toml": (0.91, 0.960),
}
CIRCUIT = {
    "ff_digits_circuit.toml": (0.70, 0.753),
    "competitive_digits_circuit.toml": (0.73, 0.783),
    "sgd_lfm_digits_circuit.toml": (0.84, 0.894),
}


def _run(name, tmp_path):
    pytest.importorskip("sklearn.datasets")
    doc = tomllib.loads((EXAMPLES / name).read_text())
    doc["train"].pop("results_dir", None)  # no results folder, no plots: fast, repo kept clean
    return run_config(doc, progress=False, base_dir=EXAMPLES)


@pytest.mark.parametrize("name", sorted(FLOAT))
def test_float_digits_example_learns(name, tmp_path):
    res = _run(name, tmp_path)
    assert res.test_accuracy >= FLOAT[name][0], [r["test_accuracy"] for r in res.history]
    assert res.history[-1]["train_accuracy"] > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CIRCUIT))
def test_circuit_digits_example_learns(name, tmp_path):
    pytest.importorskip("xbar.devices")
    res = _run(name, tmp_path)
    assert res.test_accuracy >= CIRCUIT[name][0], [r["test_accuracy"] for r in res.history]
    last = res.history[-1]
    assert last["train_energy_J"] > 0 and last["eval_energy_J"] > 0


def test_every_shipped_config_is_valid():
    """Each config (MNIST ones too) parses and names only known keys: checked without training."""
    from xbar.cli.train import _KEYS, _TABLES, _check_keys, make_optimizer, make_rule

    names = sorted(p.name for p in EXAMPLES.glob("*.toml"))
    assert {
        "ff_mnist.toml",
        "competitive_mnist.toml",
        "sgd_lfm_mnist.toml",
        "backprop_mnist.toml",
    } <= set(names)
    assert set(FLOAT) | set(CIRCUIT) <= set(names)
    for name in names:
        doc = tomllib.loads((EXAMPLES / name).read_text())
        _check_keys(doc, "top level", _TABLES)
        for table, keys in _KEYS.items():
            _check_keys(doc.get(table, {}), table, keys)
        make_rule(doc["model"]["rule"], doc.get("rule", {}))
        make_optimizer(doc.get("optimizer", {}))


def _compare_pulsed():
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare_pulsed", EXAMPLES / "compare_pulsed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_compare_pulsed_circuit_options_and_swapped_reads():
    """``compare_pulsed.py`` passes its wire and converter options to the circuit variants' reads
    (0 bits: an ideal converter), and ``--swap-reads`` tests a trained network through the other
    reads: with ideal reads swapped in it scores what the same weights score as float layers,
    and the network's own readers are restored."""
    import numpy as np

    import xbar.train as T
    from xbar.cli.train import make_rule
    from xbar.pulses import EnergyLedger

    cp = _compare_pulsed()
    reader = cp.circuit_reader(0, r_wire=0.5, adc_bits=0, dac_bits=6, output_range=2.0)
    assert reader.options["adc"].bits is None and reader.options["dac"].bits == 6
    assert reader.output_range == 2.0
    assert reader.options["array"].r_wordline == reader.options["array"].r_bitline == 0.5
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 20)), rng.integers(0, 10, 60)
    rule = make_rule("sgd", {"lr": 0.1})
    net = cp.build("circuit-measured", rule, 20, [], 0, EnergyLedger(), 10e-6, max_pulses=4)
    T.fit(net, (X, y), rule=rule, epochs=1, batch_size=20, random_state=0, progress=False)
    own = [lay.reader for lay in net.layers]
    assert all(r is not None for r in own)
    swapped = cp.swapped_reads_accuracy(net, rule, X, y, None)
    assert [lay.reader for lay in net.layers] == own
    # one read-out gain per layer: each layer its own reader
    ff = make_rule("ff", {"lr": 0.003})
    two = cp.build("circuit", ff, 20, [8, 8], 0, EnergyLedger(), 10e-6, output_range=(2.5, 1.0))
    assert [lay.reader.output_range for lay in two.layers] == [2.5, 1.0]
    one = cp.build("circuit", ff, 20, [8, 8], 0, EnergyLedger(), 10e-6, output_range=(4.0,))
    assert one.layers[0].reader is one.layers[1].reader and one.layers[0].reader.output_range == 4
    floats = T.Network([T.FloatLayer(T.stacked_weights(lay).copy()) for lay in net.layers], 10)
    assert swapped == T.evaluate(floats, rule, X, y)
