"""``xbar train CONFIG.toml``: train a network on arrays (or in float) from a TOML file.

Example (every table but ``[data]`` optional; unknown keys are rejected)::

    [data]
    name = "mnist"            # "mnist" | "image_folder" | "npz" (X_train, y_train, X_test, y_test)
    root = "/path"            # optional; default under XBAR_DATA_DIR
    n_train = 10000           # optional subsets
    n_test = 2000
    size = 16                 # image_folder: resize to size x size, features = pixels / 255

    [model]
    rule = "ff"               # ff | competitive | sgd | sgd+lfm | lfm | backprop
    hidden = [100, 100]

    [rule]                    # fields of the rule class, e.g. lr, threshold, lfm_rate
    lr = 2.0

    [hardware]                # absent: floating point
    writer = "reset-only"     # | "program-verify"
    w_max = 1.0
    g_high = 100e-6           # optional: S of the larger device of each pair (default G_max)
    circuit = true            # reads through xbar.periphery.AnalogLinear
    [hardware.device]         # xbar.devices.HfOxReRAM fields (S, V, s)
    g_min = 1e-6
    [hardware.writer_options] # ResetOnlyWriter / ProgramVerifyWriter fields
    [hardware.mapping]        # PulseMapping fields
    method = "threshold"
    [hardware.array]          # xbar.periphery.ArrayConfig fields
    [hardware.adc]            # xbar.periphery.ADC fields
    [hardware.dac]            # xbar.periphery.DAC fields
    [hardware.reader]         # xbar.train.analog.CircuitReader options: output_range,
                              # input_scaling, read_method, transfer_batch

    [train]
    epochs = 1
    batch_size = 1
    seed = 0
    results_dir = "results/run1"
    checkpoint = "results/run1/checkpoint.npz"
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..exceptions import ConfigError

_TABLES = {"data", "model", "rule", "hardware", "train"}
_KEYS = {
    "data": {"name", "root", "n_train", "n_test", "size", "max_per_class"},
    "model": {"rule", "hidden"},
    "hardware": {"writer", "w_max", "circuit", "device", "writer_options", "mapping", "array",
                 "adc", "dac", "tia", "reader", "g_high"},
    "train": {"epochs", "batch_size", "seed", "results_dir", "checkpoint", "checkpoint_every",
              "progress"},
}


def _check_keys(doc: dict, table: str, allowed: set) -> None:
    unknown = set(doc) - allowed
    if unknown:
        raise ConfigError(f"[{table}] has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def load_data(cfg: dict):
    """((X_train, y_train), (X_test, y_test)) as float features in [0, 1] and int labels."""
    name = cfg.get("name")
    if name == "mnist":
        from ..data import load_mnist
        (Xtr, ytr), (Xte, yte) = (load_mnist(s, cfg.get("root")) for s in ("train", "test"))
        Xtr, Xte = Xtr.reshape(len(Xtr), -1) / 255.0, Xte.reshape(len(Xte), -1) / 255.0
    elif name == "image_folder":
        from ..data import load_image_folder
        kw = dict(root=cfg.get("root"), size=cfg.get("size"), max_per_class=cfg.get("max_per_class"))
        (Xtr, ytr, _), (Xte, yte, _) = (load_image_folder(split=s, **kw) for s in ("train", "test"))
        Xtr, Xte = Xtr.reshape(len(Xtr), -1) / 255.0, Xte.reshape(len(Xte), -1) / 255.0
    elif name == "npz":
        if "root" not in cfg:
            raise ConfigError("[data] name='npz' needs root = path of the .npz file")
        with np.load(cfg["root"]) as z:
            Xtr, ytr, Xte, yte = (z[k] for k in ("X_train", "y_train", "X_test", "y_test"))
    else:
        raise ConfigError(f"[data] name must be 'mnist', 'image_folder' or 'npz', got {name!r}")
    n_tr, n_te = cfg.get("n_train"), cfg.get("n_test")
    return ((Xtr[:n_tr], ytr[:n_tr].astype(np.int64)), (Xte[:n_te], yte[:n_te].astype(np.int64)))


def make_rule(name: str, params: dict):
    """A rule from its name and parameters."""
    from .. import train as T
    classes = {"ff": T.ForwardForward, "competitive": T.Competitive, "sgd": T.SoftmaxSGD,
               "sgd+lfm": T.SoftmaxSGD, "lfm": T.LearningFromMistakes, "backprop": T.Backprop}
    if name not in classes:
        raise ConfigError(f"[model] rule must be one of {sorted(classes)}, got {name!r}")
    params = dict(params)
    if name == "sgd+lfm":
        params.setdefault("lfm_rate", 0.05)
    try:
        return classes[name](**params)
    except TypeError as exc:
        raise ConfigError(f"[rule] {exc}") from None


def _build(cls, params, table):
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"[{table}] {exc}") from None


def run_config(doc: dict, *, progress=True):
    """Train from a parsed config document; returns the FitResult."""
    from .. import train as T
    from ..pulses import EnergyLedger
    _check_keys(doc, "top level", _TABLES)
    for table, keys in _KEYS.items():
        _check_keys(doc.get(table, {}), table, keys)
    if "data" not in doc:
        raise ConfigError("the config needs a [data] table")
    train, test = load_data(doc["data"])
    model_cfg = doc.get("model", {})
    rule = make_rule(model_cfg.get("rule", "ff"), doc.get("rule", {}))
    tcfg = doc.get("train", {})
    seed = tcfg.get("seed", 0)
    n_classes = int(max(train[1].max(), test[1].max())) + 1
    ledger = EnergyLedger()
    hw = doc.get("hardware")
    factory = None
    if hw is not None:
        from ..devices import HfOxReRAM
        device = _build(HfOxReRAM, hw.get("device", {}), "hardware.device")
        wname = hw.get("writer", "reset-only")
        wcls = {"reset-only": T.ResetOnlyWriter, "program-verify": T.ProgramVerifyWriter}.get(wname)
        if wcls is None:
            raise ConfigError(f"[hardware] writer must be 'reset-only' or 'program-verify', "
                              f"got {wname!r}")
        writer = _build(wcls, hw.get("writer_options", {}), "hardware.writer_options")
        mapping = _build(T.PulseMapping, hw.get("mapping", {}), "hardware.mapping")
        reader = None
        if hw.get("circuit", False):
            from .. import periphery as P
            from ..train.analog import CircuitReader
            periphery = dict(
                array=_build(P.ArrayConfig, hw.get("array", {}), "hardware.array"),
                adc=_build(P.ADC, hw.get("adc", {}), "hardware.adc"),
                dac=_build(P.DAC, hw.get("dac", {}), "hardware.dac"),
                tia=_build(P.TIA, hw["tia"], "hardware.tia") if "tia" in hw else None,
                random_state=seed)
            reader = _build(CircuitReader, {**hw.get("reader", {}), **periphery},
                            "hardware.reader")
        factory = T.pulsed_layer_factory(device, writer, mapping, w_max=hw.get("w_max", 1.0),
                                         ledger=ledger, reader=reader, g_high=hw.get("g_high"))
    net = T.build_network(rule, train[0].shape[1], n_classes, model_cfg.get("hidden", []),
                          layer_factory=factory, random_state=seed)
    return T.fit(net, train, rule=rule, epochs=tcfg.get("epochs", 1), seed=seed,
                 batch_size=tcfg.get("batch_size", 1), test=test, ledger=ledger,
                 checkpoint=tcfg.get("checkpoint"), checkpoint_every=tcfg.get("checkpoint_every", 1000),
                 results_dir=tcfg.get("results_dir"),
                 progress=progress if tcfg.get("progress", True) else False)


def _main(args) -> int:
    import tomllib
    path = Path(args.config)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    res = run_config(doc)
    last = res.history[-1] if res.history else {}
    print(f"test accuracy {last.get('test_accuracy')}, energy {last.get('energy_J')} J"
          + (f", results in {res.results_dir}" if res.results_dir else ""))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a network on simulated arrays from a TOML config",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="TOML configuration file")
    p.set_defaults(func=_main)
