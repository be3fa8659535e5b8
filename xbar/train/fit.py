"""The training loop: ``fit(model, data, rule=..., epochs=..., seed=...)``.

Runs a rule over mini-batches, hands every requested change to the layers (float additions or
pulses), evaluates through the same layers (the circuit, for analog layers), reports progress
(samples/s, loss, accuracy, energy so far) on stderr, writes atomic checkpoints so an interrupted
run resumes where it stopped, and optionally a results folder (metrics CSV/JSON, the ledger, a few
pulse schedules, plots).
"""
from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._random import check_random_state
from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError
from .checkpoint import load_checkpoint, save_checkpoint
from .network import Network


@dataclass
class FitResult:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    history : list of dict
        One row per epoch: epoch, train_loss, train_accuracy (None when the rule does not get it
        for free), test_accuracy (None without test data), energy_J (ledger total so far),
        train_energy_J, samples, wall_s.
    ledger : EnergyLedger or None
    results_dir : Path or None
    resumed_from : int or None
        Epoch the run resumed at, if it resumed from a checkpoint.
    """

    history: list = field(default_factory=list)
    ledger: object = None
    results_dir: Path | None = None
    resumed_from: int | None = None

    @property
    def test_accuracy(self):
        """Test accuracy of the last epoch (or None)."""
        return self.history[-1]["test_accuracy"] if self.history else None


def _as_xy(data, name):
    if isinstance(data, dict):
        data = (data["X"], data["y"]) if "X" in data else data
    try:
        X, y = data
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a pair (X, y), got {type(data).__name__}") from None
    X = as_float_array(X, f"{name} X", shape=(None, None))
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X) or not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(f"{name} y must be integer labels of shape ({len(X)},), got "
                          f"{y.dtype} {y.shape}")
    return X, y.astype(np.int64)


def evaluate(model: Network, rule, X, y, *, batch_size: int = 1000, ledger=None,
             epoch: int | None = None) -> float:
    """Accuracy of ``rule.predict`` on (X, y), in batches; reads tagged ``phase="eval"`` (and
    ``epoch`` when given, so each epoch's test energy can be told apart)."""
    correct = 0
    tags = {"phase": "eval"} if epoch is None else {"phase": "eval", "epoch": epoch}
    for s in range(0, len(y), batch_size):
        if ledger is not None:
            with ledger.tags(**tags):
                pred = rule.predict(model, X[s:s + batch_size])
        else:
            pred = rule.predict(model, X[s:s + batch_size])
        correct += int(np.sum(pred == y[s:s + batch_size]))
    return correct / max(len(y), 1)


def _fmt_energy(j: float) -> str:
    for scale, p in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {p}J"
    return f"{j:.3g} J"


class _Progress:
    """A one-line progress report on stderr, at most every ``interval`` seconds."""

    def __init__(self, stream, interval: float = 0.5):
        self.stream = stream
        self.interval = interval
        self.last = 0.0

    def __call__(self, text: str, force: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            end = "\n" if force else "\r"
            self.stream.write(text.ljust(100) + end)
            self.stream.flush()


def fit(model: Network, data, *, rule, epochs: int = 1, seed=None, batch_size: int = 1,
        test=None, ledger=None, checkpoint=None, checkpoint_every: int = 1000,
        results_dir=None, n_schedules: int = 3, progress=True, eval_batch_size: int = 1000,
        max_steps: int | None = None) -> FitResult:
    """Train ``model`` with ``rule``.

    Parameters
    ----------
    model : Network
        Float or pulsed layers (``build_network``).
    data : (X, y)
        Training features (n, d) and integer labels (n,).
    rule : Rule
        ForwardForward, Competitive, SoftmaxSGD, LearningFromMistakes or Backprop.
    epochs : int
        Passes over the training data.
    seed : None | int | Generator
        Shuffling and the rule's draws (negative labels); layers keep their own streams.
    batch_size : int, default 1
        Samples per update (1 = on-chip per-sample updates).
    test : (X, y) or None
        Evaluated after every epoch, through the model's layers.
    ledger : EnergyLedger or None
        Energy book; pulsed layers without one are attached to it. Bookings carry ``epoch``
        and ``phase`` ("train" / "eval") tags.
    checkpoint : path or None
        Checkpoint file; if it exists the run resumes from it. Written atomically every
        ``checkpoint_every`` steps and at the end of every epoch.
    results_dir : path or None
        Folder for metrics.csv/json, ledger.csv/json, schedules/, plots/.
    n_schedules : int, default 3
        Pulse schedules of the first updates kept per pulsed layer for the results folder.
    progress : bool or file, default True
        Progress line on stderr (or the given stream); False for none.
    max_steps : int or None
        Stop after this many steps in total (for quick runs and tests of resuming).
    """
    if not isinstance(model, Network):
        raise ConfigError(f"model must be an xbar.train.Network, got {type(model).__name__}")
    check_scalar(epochs, "epochs", low=1, integer=True)
    check_scalar(batch_size, "batch_size", low=1, integer=True)
    check_scalar(checkpoint_every, "checkpoint_every", low=1, integer=True)
    X, y = _as_xy(data, "data")
    if rule.n_inputs(X.shape[1], model.n_classes) != model.sizes[0]:
        raise ConfigError(f"data X has {X.shape[1]} features: rule {rule.name!r} then needs a "
                          f"first layer of {rule.n_inputs(X.shape[1], model.n_classes)} inputs, "
                          f"the model has {model.sizes[0]}")
    if y.min() < 0 or y.max() >= model.n_classes:
        raise ConfigError(f"labels must lie in [0, {model.n_classes - 1}], got "
                          f"[{y.min()}, {y.max()}]")
    test_xy = _as_xy(test, "test") if test is not None else None
    stream = sys.stderr if progress is True else (progress or None)
    show = _Progress(stream)

    for layer in model.layers:
        if hasattr(layer, "ledger") and ledger is not None and layer.ledger is None:
            layer.ledger = ledger
        if hasattr(layer, "keep_schedules"):
            layer.keep_schedules = max(layer.keep_schedules, n_schedules)
    g_initial = _conductances(model)

    shuffle_rng = check_random_state(seed)
    rule_rng = shuffle_rng.spawn(1)[0]
    n = len(y)
    steps_per_epoch = -(-n // batch_size)
    history: list = []
    start_epoch, start_step, resumed = 0, 0, None
    wall0 = 0.0
    epoch_rng_state = shuffle_rng.bit_generator.state
    if checkpoint is not None and Path(checkpoint).exists():
        st = load_checkpoint(checkpoint)
        model.load_state_dict(st["model"])
        start_epoch, start_step = int(st["epoch"]), int(st["step"])
        epoch_rng_state = json.loads(st["epoch_rng_state"])
        rule_rng.bit_generator.state = json.loads(st["rule_rng_state"])
        history = json.loads(st["history"])
        wall0 = float(st["wall_s"])
        if ledger is not None and st.get("ledger"):
            from ..pulses import EnergyLedger
            ledger.clear()
            ledger.merge(EnergyLedger.from_json(st["ledger"]))
        resumed = start_epoch

    def save(epoch, step, ep_state, wall):
        if checkpoint is None:
            return
        save_checkpoint(checkpoint, {
            "model": model.state_dict(), "epoch": epoch, "step": step,
            "epoch_rng_state": json.dumps(ep_state), "rule": json.dumps(rule.config()),
            "rule_rng_state": json.dumps(rule_rng.bit_generator.state),
            "history": json.dumps(history), "wall_s": wall,
            "ledger": ledger.to_json() if ledger is not None else ""})

    t_start = time.monotonic()
    total_steps = 0
    stopped = False
    for epoch in range(start_epoch, epochs):
        shuffle_rng.bit_generator.state = epoch_rng_state
        order = shuffle_rng.permutation(n)
        next_state = shuffle_rng.bit_generator.state
        loss_sum, correct, seen, known = 0.0, 0, 0, True
        e0 = ledger.total() if ledger is not None else 0.0
        t_ep = time.monotonic()
        for step in range(start_step, steps_per_epoch):
            b = order[step * batch_size:(step + 1) * batch_size]
            if ledger is not None:
                with ledger.tags(epoch=epoch, phase="train"):
                    res = _train_step(model, rule, X[b], y[b], rule_rng)
                ledger.add_samples(len(b))
            else:
                res = _train_step(model, rule, X[b], y[b], rule_rng)
            loss_sum += res.loss * len(b)
            seen += len(b)
            if res.n_correct is None:
                known = False
            else:
                correct += res.n_correct
            total_steps += 1
            rate = seen / max(time.monotonic() - t_ep, 1e-9)
            acc = f"{correct / seen:.3f}" if known else "-"
            energy = _fmt_energy(ledger.total()) if ledger is not None else "-"
            show(f"epoch {epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} "
                 f"{rate:,.0f} samples/s loss {loss_sum / seen:.4f} acc {acc} energy {energy}")
            if (step + 1) % checkpoint_every == 0 and step + 1 < steps_per_epoch:
                save(epoch, step + 1, epoch_rng_state, wall0 + time.monotonic() - t_start)
            if max_steps is not None and total_steps >= max_steps:
                stopped = True
                save(epoch, step + 1, epoch_rng_state, wall0 + time.monotonic() - t_start)
                break
        if stopped:
            break
        start_step = 0
        test_acc = (evaluate(model, rule, *test_xy, batch_size=eval_batch_size, ledger=ledger,
                             epoch=epoch)
                    if test_xy is not None else None)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1),
               "train_accuracy": (correct / seen) if (known and seen) else None,
               "test_accuracy": test_acc,
               "energy_J": ledger.total() if ledger is not None else None,
               "train_energy_J": (ledger.total() - e0) if ledger is not None else None,
               "samples": seen, "wall_s": wall0 + time.monotonic() - t_start}
        history.append(row)
        show(f"epoch {epoch + 1}/{epochs} done: loss {row['train_loss']:.4f} "
             f"test acc {'-' if test_acc is None else f'{test_acc:.4f}'} "
             f"energy {_fmt_energy(row['energy_J']) if ledger is not None else '-'} "
             f"({row['wall_s']:.1f} s)", force=True)
        epoch_rng_state = next_state
        save(epoch + 1, 0, epoch_rng_state, row["wall_s"])

    result = FitResult(history=history, ledger=ledger, resumed_from=resumed)
    if results_dir is not None and not stopped:
        result.results_dir = write_results(results_dir, model, rule, result, g_initial)
    return result


def _train_step(model, rule, xb, yb, rng):
    res = rule.step(model, xb, yb, rng)
    for k, xin, delta in res.updates:
        model.layers[k].update(xin, delta)
    return res


def _conductances(model) -> dict:
    out = {}
    for layer in model.layers:
        pairs = getattr(layer, "pairs", None)
        if pairs is not None:
            out[pairs.name] = np.concatenate([pairs.g_plus.ravel(), pairs.g_minus.ravel()])
    return out


def write_results(folder, model, rule, result: FitResult, g_initial: dict | None = None) -> Path:
    """Write metrics.csv/json, ledger.csv/json, schedules/*.json and plots/*.png into ``folder``."""
    folder = Path(folder)
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    hist = result.history
    keys = ["epoch", "train_loss", "train_accuracy", "test_accuracy", "energy_J",
            "train_energy_J", "samples", "wall_s"]
    with (folder / "metrics.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for row in hist:
            w.writerow({k: ("" if row.get(k) is None else row[k]) for k in keys})
    doc = {"rule": rule.config(), "network": {"sizes": model.sizes, "n_classes": model.n_classes,
                                              "layers": [repr(lay) for lay in model.layers]},
           "history": hist, "resumed_from": result.resumed_from}
    if result.ledger is not None:
        doc["energy_by_category_J"] = result.ledger.totals("category")
        doc["energy_by_phase_J"] = result.ledger.totals("phase")
        result.ledger.to_csv(folder / "ledger.csv")
        result.ledger.to_json(folder / "ledger.json")
    (folder / "metrics.json").write_text(json.dumps(doc, indent=1, default=str))
    scheds = [(getattr(lay, "pairs").name, s) for lay in model.layers
              for s in getattr(lay, "schedules", [])]
    if scheds:
        (folder / "schedules").mkdir(exist_ok=True)
        for i, (name, s) in enumerate(scheds):
            s.to_json(folder / "schedules" / f"{name}_update{i}.json")
    _plots(folder / "plots", model, result, g_initial or {})
    return folder


def _plots(folder: Path, model, result: FitResult, g_initial: dict) -> None:
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    hist = result.history
    if hist:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ep = [r["epoch"] for r in hist]
        for key, label in (("train_accuracy", "train (running)"), ("test_accuracy", "test")):
            vals = [r[key] for r in hist]
            if any(v is not None for v in vals):
                ax.plot(ep, [np.nan if v is None else v for v in vals], "o-", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / "accuracy.png", dpi=120)
        plt.close(fig)
    if result.ledger is not None and result.ledger.total() > 0:
        tot = result.ledger.totals("category")
        fig, ax = plt.subplots(figsize=(5, 3.5))
        names = sorted(tot, key=lambda k: -tot[k])
        ax.bar(names, [tot[k] for k in names])
        ax.set_yscale("log")
        ax.set_ylabel("energy (J)")
        ax.set_title("energy by category")
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
        fig.tight_layout()
        fig.savefig(folder / "energy_by_category.png", dpi=120)
        plt.close(fig)
    g_final = _conductances(model)
    if g_final:
        fig, axes = plt.subplots(1, len(g_final), figsize=(4 * len(g_final), 3.2), squeeze=False)
        for ax, (name, g) in zip(axes[0], g_final.items()):
            if name in g_initial:
                ax.hist(g_initial[name] * 1e6, bins=50, alpha=0.6, label="before")
            ax.hist(g * 1e6, bins=50, alpha=0.6, label="after")
            ax.set_xlabel("conductance (µS)")
            ax.set_title(name)
            ax.legend()
        fig.tight_layout()
        fig.savefig(folder / "conductance_histograms.png", dpi=120)
        plt.close(fig)
