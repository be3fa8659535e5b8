"""``xbar train CONFIG.toml``: train a network on arrays (or in float) from a TOML file.

Shipped configs that learn: ``examples/train/*.toml`` (MNIST and sklearn-digits, every rule).
Example (every table but ``[data]`` optional; unknown keys are rejected)::

    [data]
    name = "mnist"            # "mnist" | "digits" (sklearn) | "image_folder" | "npz"
                              #   (npz keys X_train, y_train, X_test, y_test)
    root = "/path"            # optional; default under XBAR_DATA_DIR
    n_train = 10000           # optional subsets (the first samples)
    n_test = 2000
    validation = 10000        # optional: evaluate on the LAST 10000 training samples instead of
                              #   the test set (train on the rest): for tuning
    size = 16                 # image_folder: resize to size x size, features = pixels / 255

    [model]
    rule = "ff"               # ff | competitive | sgd | sgd+lfm | lfm | backprop
    hidden = [100, 100]

    [rule]                    # fields of the rule class, e.g. lr, threshold, lfm_rate
    lr = 0.001

    [optimizer]               # xbar.train.SGD: momentum, weight_decay, nesterov, and the schedule
    momentum = 0.9            #   (xbar.train.LRSchedule): schedule = "constant" | "linear" |
    weight_decay = 0.0        #   "cosine" | "step", decay_start, final, step_epochs, gamma,
    schedule = "linear"       #   warmup_epochs

    [hardware]                # absent: floating point
    config = "hw.toml"        # optional: a hardware file (xbar.config.HardwareConfig: its array,
                              #   device, dac, tia, adc tables; tables below override it per key)
    writer = "reset-only"     # | "program-verify"
    w_max = 1.0
    g_high = 100e-6           # optional: S of the larger device of each pair (default G_max)
    circuit = true            # reads through xbar.periphery.AnalogLinear
    [hardware.device]         # xbar.devices.HfOxReRAM fields (S, V, s), or a measured preset:
    g_min = 1e-6              #   preset = "tud_hfox" | "crosssim_ramps" | "stanford_tech_b" | ...
                              #   (xbar.devices.presets; other keys then override its fields)
    [hardware.writer_options] # ResetOnlyWriter / ProgramVerifyWriter fields (cell = "1T1R" |
                              #   "0T1R", bias_scheme = "half" | "third"); circuit = true (or a
                              #   table of WriteCircuit fields) solves every write pulse through
                              #   its tile ([hardware.array], the same cell): half-selected, wire,
                              #   driver energy
    [hardware.mapping]        # PulseMapping fields
    method = "threshold"
    [hardware.array]          # xbar.periphery.ArrayConfig fields
    [hardware.adc]            # xbar.periphery.ADC fields
    [hardware.dac]            # xbar.periphery.DAC fields
    [hardware.tia]            # xbar.periphery.TIA fields
    [hardware.reader]         # xbar.train.analog.CircuitReader options: output_range,
                              # input_scaling, read_method, transfer_batch

    [train]
    epochs = 1
    batch_size = 1
    seed = 0
    results_dir = "results/run1"          # default checkpoint: results_dir/checkpoint.npz
    checkpoint = "results/run1/checkpoint.npz"
    train_eval_samples = 10000            # training samples evaluated after each epoch (0: none)

The tables array, device, dac, tia and adc are those of a hardware file (``xbar hardware dump``
writes one with every key; "none" stands for None); [hardware.mapping] here is the pulsed
layers' PulseMapping.  Every key of [data], [train], [optimizer] and the hardware tables is
checked against the declaration of its dataclass field (type, range, unit).
Relative paths (data root, results_dir, checkpoint, hardware config) are resolved against the
config file's folder.
Every value is checked before the first sample is trained. Ctrl-C stops after the current step,
writes the checkpoint and exits with status 130; running the same command again resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import numbers
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.declare import constraints, declared, param
from ..exceptions import ConfigError

_TABLES = {"data", "model", "rule", "optimizer", "hardware", "train"}
_DATA_NAMES = ("mnist", "digits", "image_folder", "npz")


@declared
@dataclass
class DataTable:
    """The ``[data]`` table of ``xbar train``."""

    name: str = param("mnist", choices=_DATA_NAMES)
    """Data set: ``"mnist"``, ``"digits"`` (sklearn), ``"image_folder"`` or ``"npz"``."""
    root: str | None = param(None, kind=str, optional=True)
    """Folder (or ``.npz`` file) of the data; default under ``XBAR_DATA_DIR``."""
    n_train: int | None = param(None, kind=int, low=1, optional=True)
    """Training samples used (the first ones); default all."""
    n_test: int | None = param(None, kind=int, low=1, optional=True)
    """Test samples used (the first ones); default all."""
    validation: int | None = param(None, kind=int, low=1, optional=True)
    """Evaluate on the last ``validation`` training samples instead of the test set."""
    size: int | None = param(None, kind=int, low=1, optional=True)
    """``image_folder``: resize images to ``size`` x ``size`` pixels."""
    max_per_class: int | None = param(None, kind=int, low=1, optional=True)
    """``image_folder``: at most this many images per class."""


@declared
@dataclass
class TrainTable:
    """The ``[train]`` table of ``xbar train``."""

    epochs: int = param(1, low=1)
    """Passes over the training set."""
    batch_size: int = param(1, low=1)
    """Samples per update."""
    seed: int = param(0, low=0)
    """Seed (the ``random_state``, an int) of the network initialisation, the fabrication and the
    sample order; the key keeps the conventional name ``seed``."""
    results_dir: str | None = param(None, kind=str, optional=True)
    """Folder of the results (history, checkpoint)."""
    checkpoint: str | None = param(None, kind=str, optional=True)
    """Checkpoint file; default ``results_dir/checkpoint.npz``."""
    checkpoint_every: int = param(1000, low=1)
    """Steps between checkpoints."""
    progress: bool = param(True)
    """Show a progress bar."""
    train_eval_samples: int = param(10000, low=0)
    """Training samples evaluated after each epoch (0: none)."""


#: Keys of [hardware] that configure the pulsed training itself (not the hardware file's tables).
_TRAINING_HW_KEYS = (
    "config",
    "writer",
    "w_max",
    "circuit",
    "writer_options",
    "mapping",
    "reader",
    "g_high",
)
#: Hardware-file tables a training config may hold (its [mapping] is PulseMapping instead).
_HW_TABLES = ("array", "device", "dac", "tia", "adc")


def table_keys() -> dict[str, set]:
    """The allowed keys of every table, derived from the dataclasses that consume them."""
    from ..config.hardware import SECTIONS
    from ..train.optim import SGD, LRSchedule

    assert set(_HW_TABLES) <= set(SECTIONS) | {"device"}
    sched = {f.name for f in dataclasses.fields(LRSchedule)} - {"kind"}
    return {
        "data": {f.name for f in dataclasses.fields(DataTable)},
        "model": {"rule", "hidden"},
        "optimizer": ({f.name for f in dataclasses.fields(SGD)} | sched),
        "hardware": set(_TRAINING_HW_KEYS) | set(_HW_TABLES),
        "train": {f.name for f in dataclasses.fields(TrainTable)},
    }


class _Keys(Mapping):
    """``table_keys()``, computed on first use (the CLI starts without importing xbar.train)."""

    _cache: dict | None = None

    def _keys(self) -> dict:
        if _Keys._cache is None:
            _Keys._cache = table_keys()
        return _Keys._cache

    def __getitem__(self, key: str) -> set:
        return self._keys()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


_KEYS: Mapping[str, set] = _Keys()


def _table_values(cls, cfg: dict, table: str) -> dict:
    """Every declared field of ``cls`` from ``cfg`` (defaults filled), checked, errors naming
    ``[table] key``."""
    return {
        k: c.check(cfg.get(k, c.default), f"[{table}] {k}") for k, c in constraints(cls).items()
    }


def _check_keys(doc: dict, table: str, allowed: set) -> None:
    if not isinstance(doc, dict):
        raise ConfigError(f"[{table}] must be a table, got {type(doc).__name__} {doc!r}")
    unknown = set(doc) - allowed
    if unknown:
        raise ConfigError(
            f"[{table}] has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}"
        )


def _path(v: str | None, base: Path | None) -> Path | None:
    """A path of the config, relative ones against ``base``."""
    if v is None:
        return None
    p = Path(v).expanduser()
    return p if (p.is_absolute() or base is None) else base / p


def _labels(y, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ConfigError(f"{where} must be a 1-D array of class labels, got shape {y.shape}")
    if y.dtype.kind in "iu":
        out = y.astype(np.int64)
    elif y.dtype.kind == "f" or y.dtype.kind == "b":
        yf = y.astype(np.float64)
        if not np.all(np.isfinite(yf)) or np.any(yf != np.round(yf)):
            bad = yf[~(np.isfinite(yf) & (yf == np.round(yf)))][:3]
            raise ConfigError(
                f"{where} must hold integer class labels, got non-integer values "
                f"such as {bad.tolist()}"
            )
        out = yf.astype(np.int64)
    else:
        raise ConfigError(f"{where} must hold integer class labels, got dtype {y.dtype}")
    if len(out) and out.min() < 0:
        raise ConfigError(f"{where} must be >= 0, got {out.min()}")
    return out


def _features(X, n: int, where: str) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "iuf" or X.ndim < 2:
        raise ConfigError(
            f"{where} must be a numeric array of shape (n, features...), got {X.dtype} {X.shape}"
        )
    X = X.reshape(len(X), -1).astype(np.float64)
    if len(X) != n:
        raise ConfigError(f"{where} has {len(X)} rows but its labels have {n}")
    if not np.all(np.isfinite(X)):
        raise ConfigError(f"{where} holds NaN or inf")
    return X


def _subset(table_key: str, X, y, n):
    if n is not None and n > len(y):
        raise ConfigError(f"[data] {table_key} = {n} but the data set has only {len(y)} samples")
    return X[:n], y[:n]


def load_data(cfg: dict, base: Path | None = None):
    """((X_train, y_train), (X_test, y_test)) as float features and int labels, validated.

    Parameters
    ----------
    cfg : dict
        The ``[data]`` table (the fields of ``DataTable``: ``name``, ``root``, ``n_train``,
        ``n_test``, ``validation``, ``size``, ``per_class``).
    base : pathlib.Path or None, optional
        Folder against which a relative ``root`` is resolved; None (default) = the working
        directory.

    Returns
    -------
    tuple
        ``((X_train, y_train), (X_test, y_test))``: float feature arrays of shape
        (n_samples, n_features) (dimensionless; pixel data scaled to [0, 1]) and int label
        arrays of shape (n_samples,).

    Raises
    ------
    ConfigError
        If the table names an unknown data set, a missing folder, or data that are not
        finite features with at least two classes.
    """
    name = cfg.get("name")
    if name not in _DATA_NAMES:
        raise ConfigError(f"[data] name must be one of {list(_DATA_NAMES)}, got {name!r}")
    vals = _table_values(DataTable, cfg, "data")
    n_tr, n_te, n_val = vals["n_train"], vals["n_test"], vals["validation"]
    root = _path(vals["root"], base)
    if root is not None and not root.exists():
        raise ConfigError(f"[data] root {str(root)!r} does not exist")
    if name == "mnist":
        from ..data import load_mnist

        (Xtr, ytr), (Xte, yte) = (load_mnist(s, root) for s in ("train", "test"))
        Xtr, Xte = Xtr.reshape(len(Xtr), -1) / 255.0, Xte.reshape(len(Xte), -1) / 255.0
    elif name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ConfigError(
                "[data] name='digits' needs scikit-learn (pip install scikit-learn)"
            ) from None
        X, y = load_digits(return_X_y=True)
        idx = np.random.default_rng(0).permutation(len(y))  # fixed shuffle, 1400 / 397 split
        X, y = X[idx] / 16.0, y[idx]
        Xtr, ytr, Xte, yte = X[:1400], y[:1400], X[1400:], y[1400:]
    elif name == "image_folder":
        from ..data import load_image_folder

        kw = dict(root=root, size=vals["size"], max_per_class=vals["max_per_class"])
        (Xtr, ytr, _), (Xte, yte, _) = (load_image_folder(split=s, **kw) for s in ("train", "test"))
        Xtr, Xte = Xtr.reshape(len(Xtr), -1) / 255.0, Xte.reshape(len(Xte), -1) / 255.0
    else:
        if root is None:
            raise ConfigError("[data] name='npz' needs root = path of the .npz file")
        try:
            z = np.load(root, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"[data] root {str(root)!r} cannot be read as .npz: {exc}") from None
        with z:
            missing = [k for k in ("X_train", "y_train", "X_test", "y_test") if k not in z.files]
            if missing:
                raise ConfigError(
                    f"[data] npz file {str(root)!r} lacks the keys {missing} "
                    f"(has {sorted(z.files)})"
                )
            Xtr, ytr, Xte, yte = (z[k] for k in ("X_train", "y_train", "X_test", "y_test"))
    ytr = _labels(ytr, f"[data] {name} y_train")
    yte = _labels(yte, f"[data] {name} y_test")
    Xtr = _features(Xtr, len(ytr), f"[data] {name} X_train")
    Xte = _features(Xte, len(yte), f"[data] {name} X_test")
    if Xtr.shape[1] != Xte.shape[1]:
        raise ConfigError(f"[data] X_train has {Xtr.shape[1]} features, X_test {Xte.shape[1]}")
    if n_val is not None:
        if n_val >= len(ytr):
            raise ConfigError(
                f"[data] validation = {n_val} must be smaller than the training "
                f"set ({len(ytr)} samples)"
            )
        Xte, yte = Xtr[-n_val:], ytr[-n_val:]
        Xtr, ytr = Xtr[:-n_val], ytr[:-n_val]
    Xtr, ytr = _subset("n_train", Xtr, ytr, n_tr)
    Xte, yte = _subset("n_test", Xte, yte, n_te)
    if len(np.unique(ytr)) < 2:
        raise ConfigError(f"[data] the training labels hold fewer than 2 classes: {np.unique(ytr)}")
    return (Xtr, ytr), (Xte, yte)


def make_rule(name: str, params: dict):
    """A rule from its name and parameters.

    Parameters
    ----------
    name : str
        The ``[model] rule``: ``"ff"``, ``"competitive"``, ``"sgd"``, ``"sgd+lfm"``, ``"lfm"``
        or ``"backprop"``.
    params : dict
        The ``[rule]`` table: keyword arguments of the rule's class (``"sgd+lfm"`` defaults
        ``lfm_rate`` to 0.05).

    Returns
    -------
    object
        The learning rule (e.g. :class:`xbar.train.ForwardForward`).

    Raises
    ------
    ConfigError
        If the name is unknown or a parameter is not accepted.
    """
    from .. import train as T

    classes = {
        "ff": T.ForwardForward,
        "competitive": T.Competitive,
        "sgd": T.SoftmaxSGD,
        "sgd+lfm": T.SoftmaxSGD,
        "lfm": T.LearningFromMistakes,
        "backprop": T.Backprop,
    }
    if name not in classes:
        raise ConfigError(f"[model] rule must be one of {sorted(classes)}, got {name!r}")
    params = dict(params)
    if name == "sgd+lfm":
        params.setdefault("lfm_rate", 0.05)
    try:
        return classes[name](**params)
    except TypeError as exc:
        raise ConfigError(f"[rule] {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"[rule] {exc}") from None


def _build(cls, params, table):
    if not isinstance(params, dict):
        raise ConfigError(f"[{table}] must be a table, got {params!r}")
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"[{table}] {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"[{table}] {exc}") from None


def make_optimizer(cfg: dict):
    """:class:`xbar.train.SGD` from the ``[optimizer]`` table.

    Parameters
    ----------
    cfg : dict
        The ``[optimizer]`` table: keyword arguments of :class:`xbar.train.SGD`, plus
        ``schedule`` (the :class:`xbar.train.optim.LRSchedule` kind, default ``"constant"``)
        and that schedule's ``decay_start``, ``final``, ``step_epochs``, ``gamma`` and
        ``warmup_epochs``.

    Returns
    -------
    xbar.train.SGD
        The optimizer.

    Raises
    ------
    ConfigError
        If a key is not accepted or a value is out of range.
    """
    from ..train.optim import SGD, LRSchedule

    cfg = dict(cfg)
    sched = {
        k: cfg.pop(k)
        for k in ("decay_start", "final", "step_epochs", "gamma", "warmup_epochs")
        if k in cfg
    }
    kind = cfg.pop("schedule", "constant")
    schedule = _build(LRSchedule, {"kind": kind, **sched}, "optimizer")
    return _build(SGD, {**cfg, "schedule": schedule}, "optimizer")


def hardware_config(hw: dict, base: Path | None = None):
    """The :class:`xbar.config.HardwareConfig` of a ``[hardware]`` table, and the tables given.

    ``config`` names a hardware file; the tables array, device, dac, tia and adc of ``hw``
    override its keys (a ``preset`` or ``model`` in ``[hardware.device]`` replaces the file's
    device).  Returns ``(config, given)``, ``given`` the set of tables set by the file or ``hw``
    (the others keep the training's own defaults, e.g. the reader's window-gain TIA).

    Parameters
    ----------
    hw : dict
        The ``[hardware]`` table of the training config.
    base : pathlib.Path or None, optional
        Folder against which a relative ``config`` path is resolved; None (default) = the
        working directory.

    Returns
    -------
    tuple of (xbar.config.HardwareConfig, set of str)
        The configuration (SI units throughout) and the names of the tables given.

    Raises
    ------
    ConfigError
        If the file cannot be read, is not valid TOML, sets a non-default ``[mapping]``, or a
        table is malformed.
    """
    import tomllib

    from ..config.hardware import HardwareConfig
    from ..periphery import WeightMapping

    data: dict = {}
    if "config" in hw:
        v = hw["config"]
        if not isinstance(v, str):
            raise ConfigError(f"[hardware] config must be a string (a TOML file), got {v!r}")
        path = _path(v, base)
        assert path is not None  # v is a string
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"[hardware] config {str(path)!r} cannot be read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"[hardware] config {str(path)!r} is not valid TOML: {exc}") from None
        if set(data) == {"hardware"} and isinstance(data["hardware"], dict):
            data = data["hardware"]
        mapping = HardwareConfig.from_dict(data, f"{path}: ").mapping
        if mapping != WeightMapping():
            raise ConfigError(
                f"[hardware] config {str(path)!r}: its [mapping] ({mapping}) does not "
                "apply to the pulsed layers of xbar train, which are analog "
                "differential pairs (the default WeightMapping); map weights to "
                "pulses with [hardware.mapping] (PulseMapping fields)"
            )
        data.pop("mapping", None)
    for t in _HW_TABLES:
        if t not in hw:
            continue
        if not isinstance(hw[t], dict):
            raise ConfigError(f"[hardware.{t}] must be a table, got {hw[t]!r}")
        if t == "device" and ({"preset", "model"} & set(hw[t])):
            data["device"] = dict(hw[t])
        else:
            data[t] = {**data.get(t, {}), **hw[t]}
    return HardwareConfig.from_dict(data, "hardware."), set(data)


def _device(spec):
    """The pulsed layers' device model of a DeviceConfig (default ``HfOxReRAM()``)."""
    from ..devices import HfOxReRAM
    from ..periphery import ConductanceRange

    if spec.layer_options():
        raise ConfigError(
            f"[hardware.device] {sorted(spec.layer_options())} configure the "
            "analog layer (AnalogLinear); xbar train's pulsed layers program by "
            "pulses: set read noise and the device I-V in [hardware.reader] "
            "(read_noise, device_iv)"
        )
    model = spec.build()
    if model is None:
        return HfOxReRAM()
    if isinstance(model, ConductanceRange):
        raise ConfigError(
            "[hardware.device] model = 'window' has no pulse response: pulsed "
            "training needs a device model (HfOxReRAM, a preset, ...)"
        )
    return model


def make_device(cfg: dict):
    """The device model of ``[hardware.device]``: HfOxReRAM fields, or ``preset`` + overrides.

    Parameters
    ----------
    cfg : dict
        The ``[hardware.device]`` table (the fields of :class:`xbar.config.hardware.DeviceConfig`).

    Returns
    -------
    object
        The device model of the pulsed layers (``HfOxReRAM()`` when the table sets none).

    Raises
    ------
    ConfigError
        If the table configures the analog layer only, or names a model without a pulse
        response (``model = "window"``).
    """
    from ..config.hardware import DeviceConfig

    return _device(DeviceConfig.from_dict(cfg, "hardware.device"))


def _make_writer(hw: dict, base: Path | None = None):
    from .. import train as T

    wname = hw.get("writer", "reset-only")
    wcls = {"reset-only": T.ResetOnlyWriter, "program-verify": T.ProgramVerifyWriter}.get(wname)
    if wcls is None:
        raise ConfigError(
            f"[hardware] writer must be 'reset-only' or 'program-verify', got {wname!r}"
        )
    opts = dict(hw.get("writer_options", {}))
    circ = opts.pop("circuit", None)
    if circ is not None and circ is not False:
        if wcls is not T.ResetOnlyWriter:
            raise ConfigError(
                "[hardware.writer_options] circuit works with writer = 'reset-only' "
                f"only, got writer = {wname!r}"
            )
        if circ is not True and not isinstance(circ, dict):
            raise ConfigError(
                f"[hardware.writer_options] circuit must be true, false or a table "
                f"of WriteCircuit fields (r_driver, r_sense, device_iv), got {circ!r}"
            )
        array = hardware_config(hw, base)[0].array
        opts["circuit"] = _build(
            T.WriteCircuit,
            {**(circ if isinstance(circ, dict) else {}), "array": array},
            "hardware.writer_options.circuit",
        )
    return _build(wcls, opts, "hardware.writer_options")


def _check_train(tcfg: dict, base: Path | None) -> dict:
    out = _table_values(TrainTable, tcfg, "train")
    out["results_dir"] = _path(out["results_dir"], base)
    ck = _path(out["checkpoint"], base)
    if ck is None and out["results_dir"] is not None:
        ck = out["results_dir"] / "checkpoint.npz"
    out["checkpoint"] = ck
    return out


def _hidden(model_cfg: dict) -> list:
    hidden = model_cfg.get("hidden", [])
    if not isinstance(hidden, list) or any(
        isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in hidden
    ):
        raise ConfigError(f"[model] hidden must be a list of integers >= 1, got {hidden!r}")
    return [int(h) for h in hidden]


def run_config(doc: dict, *, progress=True, base_dir=None):
    """Train from a parsed config document; returns the FitResult.

    Parameters
    ----------
    doc : dict
        The parsed TOML document (tables ``data``, ``model``, ``rule``, ``optimizer``,
        ``train`` and optionally ``hardware``); ``[train] seed`` is the random_state of the
        initialisation, the fabrication and the sample order.
    progress : bool or file, optional
        Passed to :func:`xbar.train.fit` as its ``progress`` when ``[train] progress`` is true
        (default True: a progress line on stderr; a stream writes it there); ignored otherwise.
    base_dir : str or pathlib.Path or None, optional
        Folder against which relative paths are resolved (the config file's folder for
        ``xbar train``); None (default) = the working directory.

    Returns
    -------
    xbar.train.FitResult
        The training result (per-epoch history, energy ledger in J, results folder).

    Raises
    ------
    ConfigError
        If a table or key is unknown or a value is invalid.
    """
    from .. import train as T
    from ..pulses import EnergyLedger

    base = None if base_dir is None else Path(base_dir)
    _check_keys(doc, "top level", _TABLES)
    for table, keys in _KEYS.items():
        _check_keys(doc.get(table, {}), table, keys)
    if "data" not in doc:
        raise ConfigError("the config needs a [data] table")
    model_cfg = doc.get("model", {})
    rule = make_rule(model_cfg.get("rule", "ff"), doc.get("rule", {}))
    hidden = _hidden(model_cfg)
    optimizer = make_optimizer(doc.get("optimizer", {}))
    tcfg = _check_train(doc.get("train", {}), base)
    hw = doc.get("hardware")
    if hw is not None and not isinstance(hw, dict):
        raise ConfigError(f"[hardware] must be a table, got {hw!r}")
    train, test = load_data(doc["data"], base)
    random_state = tcfg["seed"]  # the [train] key `seed` is the random_state
    n_classes = int(max(train[1].max(), test[1].max())) + 1
    ledger = EnergyLedger()
    factory = None
    if hw is not None:
        hwcfg, given = hardware_config(hw, base)
        device = _device(hwcfg.device)
        writer = _make_writer(hw, base)
        mapping = _build(T.PulseMapping, hw.get("mapping", {}), "hardware.mapping")
        reader = None
        if hw.get("circuit", False):
            from ..train.analog import CircuitReader

            periphery = dict(
                array=hwcfg.array,
                adc=hwcfg.adc,
                dac=hwcfg.dac,
                tia=hwcfg.tia if "tia" in given else None,
                random_state=random_state,
            )
            reader = _build(CircuitReader, {**hw.get("reader", {}), **periphery}, "hardware.reader")
        w_max = hw.get("w_max", 1.0)
        if isinstance(w_max, bool) or not isinstance(w_max, numbers.Real) or not float(w_max) > 0:
            raise ConfigError(f"[hardware] w_max must be a number > 0, got {w_max!r}")
        factory = T.pulsed_layer_factory(
            device,
            writer,
            mapping,
            w_max=float(w_max),
            ledger=ledger,
            reader=reader,
            g_high=hw.get("g_high"),
        )
    net = T.build_network(
        rule, train[0].shape[1], n_classes, hidden, layer_factory=factory, random_state=random_state
    )
    return T.fit(
        net,
        train,
        rule=rule,
        epochs=tcfg["epochs"],
        random_state=random_state,
        batch_size=tcfg["batch_size"],
        test=test,
        ledger=ledger,
        checkpoint=tcfg["checkpoint"],
        checkpoint_every=tcfg["checkpoint_every"],
        results_dir=tcfg["results_dir"],
        optimizer=optimizer,
        train_eval_samples=tcfg["train_eval_samples"],
        progress=progress if tcfg["progress"] else False,
    )


def _main(args) -> int:
    import tomllib

    path = Path(args.config)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    try:
        res = run_config(doc, base_dir=path.resolve().parent)
    except KeyboardInterrupt as exc:
        print(
            f"{exc or 'training interrupted'}: re-run the same command to resume", file=sys.stderr
        )
        return 130
    last = res.history[-1] if res.history else {}
    if res.resumed_from:
        r = res.resumed_from
        print(
            f"resumed from {r['checkpoint']} at epoch {r['epoch']}, step {r['step']} "
            f"({r['samples_done']} samples of that epoch done)"
        )
    print(
        f"test accuracy {last.get('test_accuracy')}, train accuracy "
        f"{last.get('train_accuracy')}, energy {last.get('energy_J')} J (training "
        f"{sum(r.get('train_energy_J') or 0 for r in res.history)} J, evaluation "
        f"{sum(r.get('eval_energy_J') or 0 for r in res.history)} J)"
        + (f", results in {res.results_dir}" if res.results_dir else "")
    )
    return 0


def register(subparsers) -> None:
    """Add the ``train`` sub-command to the ``xbar`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``xbar`` parser (from ``ArgumentParser.add_subparsers``); the new
        sub-parser sets ``func`` to the function run with the parsed arguments.
    """
    p = subparsers.add_parser(
        "train",
        help="train a network on simulated arrays from a TOML config",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="TOML configuration file")
    p.set_defaults(func=_main)
