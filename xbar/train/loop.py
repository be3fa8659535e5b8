"""The training loop: ``fit(model, data, rule=..., epochs=..., random_state=...)``.

Runs a rule over mini-batches, hands every requested change to the layers (float additions or
pulses), evaluates through the same layers (the circuit, for analog layers), reports progress
(samples/s, loss, accuracy, energy so far) on stderr, writes atomic checkpoints so an interrupted
run resumes where it stopped, and optionally a results folder (metrics CSV/JSON, the ledger, a few
pulse schedules, plots).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._deprecate import renamed_kwarg
from .._io import write_atomic
from .._random import check_random_state
from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError
from .checkpoint import load_checkpoint, save_checkpoint
from .network import Network


@dataclass
class FitResult:
    """Outcome of :func:`fit`.

    Parameters
    ----------
    history : list of dict
        One row per epoch, the columns of :func:`write_metrics` (``METRIC_KEYS``).
    ledger : EnergyLedger or None
        The energy book of the run (J).
    results_dir : Path or None
        The results folder written, if any.
    resumed_from : dict or None
        Where the run resumed (``epoch`` from 1, ``step``, ``samples_done``, ``checkpoint``).
    """

    history: list = field(default_factory=list)
    ledger: Any = None
    results_dir: Path | None = None
    resumed_from: dict | None = None

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
        raise ConfigError(
            f"{name} y must be integer labels of shape ({len(X)},), got {y.dtype} {y.shape}"
        )
    return X, y.astype(np.int64)


def evaluate(
    model: Network,
    rule,
    X,
    y,
    *,
    batch_size: int = 1000,
    ledger=None,
    epoch: int | None = None,
    should_stop=None,
) -> float:
    """Accuracy of ``rule.predict`` on (X, y), in batches; reads tagged ``phase="eval"`` (and
    ``epoch`` when given, so each epoch's evaluation energy can be told apart).

    ``should_stop`` (callable) is asked between batches; when it returns True the evaluation is
    abandoned (``fit`` uses it for Ctrl-C).

    Parameters
    ----------
    model : Network
        The trained network.
    rule : Rule
        Its ``predict`` classifies.
    X : ndarray, shape (n, d)
        Features (dimensionless).
    y : ndarray of int, shape (n,)
        Labels.
    batch_size : int, default 1000
        Samples per read batch.
    ledger : EnergyLedger or None
        Books the reads' energy (J) under the tags.
    epoch : int or None
        Epoch tag of the bookings (from 1).
    should_stop : callable or None
        Asked between batches; True abandons the evaluation.
    """
    correct = 0
    tags = {"phase": "eval"} if epoch is None else {"phase": "eval", "epoch": epoch}
    for s in range(0, len(y), batch_size):
        if should_stop is not None and should_stop():
            raise _Stop
        if ledger is not None:
            with ledger.tags(**tags):
                pred = rule.predict(model, X[s : s + batch_size])
        else:
            pred = rule.predict(model, X[s : s + batch_size])
        correct += int(np.sum(pred == y[s : s + batch_size]))
    return correct / max(len(y), 1)


def _fmt_energy(j: float) -> str:
    for scale, p in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {p}J"
    return f"{j:.3g} J"


class _Progress:
    """The run's progress on ``stream``: one tqdm bar per epoch (steps done/total, samples/s,
    running loss, accuracy and energy so far, redrawn at most every ``interval`` seconds),
    messages (resume, epoch summaries, interrupts) as lines between bars."""

    def __init__(self, stream, interval: float = 0.5):
        self.stream = stream
        self.interval = interval
        self.bar = None
        self._fresh = False

    def __call__(self, text: str, force: bool = False) -> None:
        """A message line (``force`` is kept for the interrupt handler's call)."""
        if self.stream is None:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def start_epoch(self, ep: int, epochs: int, total: int, initial: int) -> None:
        """A new bar for epoch ``ep`` of ``epochs``: ``total`` steps, ``initial`` done already."""
        self.close()
        if self.stream is None:
            return
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=f"epoch {ep}/{epochs}",
            unit="step",
            file=self.stream,
            mininterval=self.interval,
            leave=False,
            dynamic_ncols=True,
        )
        self._fresh = True

    def step(self, postfix: str) -> None:
        """One step done; ``postfix`` is the text after the bar (always drawn after the
        first step of an epoch)."""
        if self.bar is None:
            return
        self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.update(1)
        if self._fresh:
            self.bar.refresh()
            self._fresh = False

    def close(self) -> None:
        """Remove the current bar (its last state stays in a log file)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Interrupt:
    """Defers Ctrl-C (SIGINT) to the end of the current step so the checkpoint is consistent.

    The first Ctrl-C sets ``requested`` (the loop then saves and stops); a second one aborts at once.
    Only installed from the main thread (signal handlers cannot be set elsewhere).
    """

    def __init__(self, show):
        self.requested = False
        self._show = show
        self._old = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)

            def handler(signum, frame):
                if self.requested:
                    raise KeyboardInterrupt
                self.requested = True
                self._show(
                    "interrupt: stopping after this step and writing the checkpoint "
                    "(Ctrl-C again aborts at once)",
                    force=True,
                )

            signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            import signal

            signal.signal(signal.SIGINT, self._old)
        return False


class _Stop(Exception):
    """Raised inside an evaluation when an interrupt was requested."""


def _run_config(model, rule, batch_size, n_train, optimizer) -> dict:
    """What a checkpoint must match to be resumed by this run."""
    return {
        "batch_size": int(batch_size),
        "n_train": int(n_train),
        "sizes": model.sizes,
        "n_classes": model.n_classes,
        "layers": [type(lay).__name__ for lay in model.layers],
        "rule": rule.config(),
        "optimizer": optimizer.config(),
    }


def _check_resume(path, saved: dict | None, now: dict) -> None:
    if saved is None:
        raise ConfigError(
            f"checkpoint {path} records no run configuration (written by an older "
            "xbar); delete it or choose another checkpoint path to start afresh"
        )
    saved = json.loads(json.dumps(saved))
    now = json.loads(json.dumps(now, default=str))
    for key in now:
        if saved.get(key) != now[key]:
            raise ConfigError(
                f"checkpoint {path} was written with {key}={saved.get(key)!r}, this "
                f"run has {key}={now[key]!r}: resume with the same settings, or "
                "delete the checkpoint / choose another path to start afresh"
            )


def _check_out_path(path, name: str, *, folder: bool) -> Path:
    """Refuse before training an output path that cannot be written (a file for a folder etc.)."""
    p = Path(path)
    if folder:
        if p.exists() and not p.is_dir():
            raise ConfigError(f"{name} {str(p)!r} exists and is not a folder")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{name} {str(p)!r} cannot be created: {exc}") from None
    else:
        if p.is_dir():
            raise ConfigError(f"{name} {str(p)!r} is a folder, expected a file path")
        _check_out_path(p.parent, f"the folder of {name}", folder=True)
    return p


@renamed_kwarg(seed="random_state")
def fit(
    model: Network,
    data,
    *,
    rule,
    epochs: int = 1,
    random_state=None,
    batch_size: int = 1,
    test=None,
    ledger=None,
    checkpoint=None,
    checkpoint_every: int = 1000,
    results_dir=None,
    n_schedules: int = 3,
    progress=True,
    eval_batch_size: int = 1000,
    max_steps: int | None = None,
    optimizer=None,
    train_eval_samples: int | None = 10000,
) -> FitResult:
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
        Passes over the training data (epochs are counted from 1 in the metrics and in the
        ledger's ``epoch`` tag alike).
    random_state : None | int | Generator
        Shuffling and the rule's draws (negative labels); layers keep their own streams;
        ``seed`` is its deprecated name.
    batch_size : int, default 1
        Samples per update (1 = on-chip per-sample updates).
    test : (X, y) or None
        Evaluated after every epoch, through the model's layers.
    ledger : EnergyLedger or None
        Energy book; pulsed layers without one are attached to it. Bookings carry ``epoch``
        and ``phase`` ("train" / "eval") tags, evaluations also ``split`` ("train" / "test").
    checkpoint : path or None
        Checkpoint file; if it exists the run resumes from it (after checking it was written by
        a compatible run: batch size, training-set size, network, rule and optimiser). Written
        atomically every ``checkpoint_every`` steps, at the end of every epoch and on Ctrl-C.
    results_dir : path or None
        Folder for metrics.csv/json (rewritten after every epoch), ledger.csv/json,
        schedules/, plots/ (at the end). Checked to be writable before the first step.
    n_schedules : int, default 3
        Pulse schedules of the first updates kept per pulsed layer for the results folder.
    progress : bool or file, default True
        Progress line on stderr (or the given stream); False for none.
    checkpoint_every : int, default 1000
        Steps between checkpoints within an epoch.
    eval_batch_size : int, default 1000
        Samples per read batch of the evaluations.
    max_steps : int or None
        Stop after this many steps in total (for quick runs and tests of resuming).
    optimizer : SGD or None
        Momentum, weight decay and learning-rate schedule (:mod:`xbar.train.optim`); None = plain
        steps, the rule's rank-1 updates unchanged.
    train_eval_samples : int or None, default 10000
        After every epoch the first this many training samples are evaluated like the test set
        (``train_accuracy``; None = all, 0 = none). The running accuracy during the epoch (free for
        single-pass rules, on weights that change) is ``train_running_accuracy``.

    Raises
    ------
    KeyboardInterrupt
        After Ctrl-C: the step in progress is finished, the checkpoint (if any) and the metrics of
        finished epochs are written first.
    """
    from .optim import SGD

    if not isinstance(model, Network):
        raise ConfigError(f"model must be an xbar.train.Network, got {type(model).__name__}")
    check_scalar(epochs, "epochs", low=1, integer=True)
    check_scalar(batch_size, "batch_size", low=1, integer=True)
    check_scalar(checkpoint_every, "checkpoint_every", low=1, integer=True)
    if max_steps is not None:
        check_scalar(max_steps, "max_steps", low=1, integer=True)
    if train_eval_samples is not None:
        check_scalar(train_eval_samples, "train_eval_samples", low=0, integer=True)
    optimizer = SGD() if optimizer is None else optimizer
    if not isinstance(optimizer, SGD):
        raise ConfigError(
            f"optimizer must be an xbar.train.SGD or None, got {type(optimizer).__name__}"
        )
    X, y = _as_xy(data, "data")
    if rule.n_inputs(X.shape[1], model.n_classes) != model.sizes[0]:
        raise ConfigError(
            f"data X has {X.shape[1]} features: rule {rule.name!r} then needs a "
            f"first layer of {rule.n_inputs(X.shape[1], model.n_classes)} inputs, "
            f"the model has {model.sizes[0]}"
        )
    if y.min() < 0 or y.max() >= model.n_classes:
        raise ConfigError(
            f"labels must lie in [0, {model.n_classes - 1}], got [{y.min()}, {y.max()}]"
        )
    test_xy: tuple[np.ndarray, np.ndarray] | None = (
        _as_xy(test, "test") if test is not None else None
    )
    if test_xy is not None and test_xy[0].shape[1] != X.shape[1]:
        raise ConfigError(f"test X has {test_xy[0].shape[1]} features, data X has {X.shape[1]}")
    if results_dir is not None:
        results_dir = _check_out_path(results_dir, "results_dir", folder=True)
    if checkpoint is not None:
        checkpoint = _check_out_path(checkpoint, "checkpoint", folder=False)
    stream = sys.stderr if progress is True else (progress or None)
    show = _Progress(stream)

    for layer in model.layers:
        if hasattr(layer, "ledger") and ledger is not None and layer.ledger is None:
            layer.ledger = ledger
        if hasattr(layer, "keep_schedules"):
            layer.keep_schedules = max(layer.keep_schedules, n_schedules)
    g_initial = _conductances(model)

    shuffle_rng = check_random_state(random_state)
    rule_rng = shuffle_rng.spawn(1)[0]
    n = len(y)
    n_tr_eval = n if train_eval_samples is None else min(int(train_eval_samples), n)
    steps_per_epoch = -(-n // batch_size)
    run_cfg = _run_config(model, rule, batch_size, n, optimizer)
    history: list = []
    start_epoch, start_step = 0, 0
    resumed: dict[str, Any] | None = None
    wall0 = 0.0
    partial = None
    epoch_rng_state = shuffle_rng.bit_generator.state
    rule.load_state_dict({})  # a fresh run starts the rule's state afresh
    if checkpoint is not None and checkpoint.exists():
        st = load_checkpoint(checkpoint)
        _check_resume(checkpoint, json.loads(st["config"]) if "config" in st else None, run_cfg)
        model.load_state_dict(st["model"])
        rule.load_state_dict(st.get("rule_state", {}))
        optimizer.load_state_dict(st.get("optimizer_state", {}))
        start_epoch, start_step = int(st["epoch"]), int(st["step"])
        epoch_rng_state = json.loads(st["epoch_rng_state"])
        rule_rng.bit_generator.state = json.loads(st["rule_rng_state"])
        history = json.loads(st["history"])
        partial = json.loads(st["partial"]) if start_step else None
        wall0 = float(st["wall_s"])
        if ledger is not None and st.get("ledger"):
            from ..pulses import EnergyLedger

            ledger.clear()
            ledger.merge(EnergyLedger.from_json(st["ledger"]))
            ledger.samples = int(st.get("ledger_samples", ledger.samples))
        done = min(start_step * batch_size, n)
        resumed = {
            "epoch": start_epoch + 1,
            "step": start_step,
            "samples_done": done,
            "checkpoint": str(checkpoint),
        }
        show(
            f"resuming from checkpoint {checkpoint}: epoch {start_epoch + 1}/{epochs}, step "
            f"{start_step}/{steps_per_epoch} ({done} of {n} samples of that epoch done, "
            f"{len(history)} epochs finished)",
            force=True,
        )

    acc: dict[str, Any] = {"loss_sum": 0.0, "correct": 0, "seen": 0, "known": True}

    def save(epoch, step, ep_state, wall):
        if checkpoint is None:
            return
        save_checkpoint(
            checkpoint,
            {
                "model": model.state_dict(),
                "epoch": epoch,
                "step": step,
                "epoch_rng_state": json.dumps(ep_state),
                "rule": json.dumps(rule.config()),
                "config": json.dumps(run_cfg, default=str),
                "rule_state": rule.state_dict(),
                "optimizer_state": optimizer.state_dict(),
                "rule_rng_state": json.dumps(rule_rng.bit_generator.state),
                "history": json.dumps(history),
                "wall_s": wall,
                "partial": json.dumps(acc),
                "ledger": ledger.to_json() if ledger is not None else "",
                "ledger_samples": ledger.samples if ledger is not None else 0,
            },
        )

    def eval_on(Xe, ye, split, epoch, stop):
        if ledger is None:
            return evaluate(model, rule, Xe, ye, batch_size=eval_batch_size, should_stop=stop)
        with ledger.tags(split=split):
            return evaluate(
                model,
                rule,
                Xe,
                ye,
                batch_size=eval_batch_size,
                ledger=ledger,
                epoch=epoch,
                should_stop=stop,
            )

    t_start = time.monotonic()
    total_steps = 0
    stopped = interrupted = False
    lr = float(getattr(rule, "lr", 0.0) or getattr(rule, "lfm_rate", 0.0))
    with _Interrupt(show) as intr:

        def stop() -> bool:
            return intr.requested

        for epoch in range(start_epoch, epochs):
            ep = epoch + 1  # 1-based, as in the metrics
            shuffle_rng.bit_generator.state = epoch_rng_state
            order = shuffle_rng.permutation(n)
            next_state = shuffle_rng.bit_generator.state
            acc = (
                dict(partial)
                if (partial and epoch == start_epoch)
                else {"loss_sum": 0.0, "correct": 0, "seen": 0, "known": True}
            )
            t_ep = time.monotonic()
            seen0 = acc["seen"]
            show.start_epoch(ep, epochs, steps_per_epoch, start_step)
            for step in range(start_step, steps_per_epoch):
                b = order[step * batch_size : (step + 1) * batch_size]
                t = epoch + step / steps_per_epoch
                if ledger is not None:
                    with ledger.tags(epoch=ep, phase="train"):
                        res = _train_step(
                            model, rule, X[b], y[b], rule_rng, optimizer, lr, t, epochs
                        )
                    ledger.add_samples(len(b))
                else:
                    res = _train_step(model, rule, X[b], y[b], rule_rng, optimizer, lr, t, epochs)
                acc["loss_sum"] += res.loss * len(b)
                acc["seen"] += len(b)
                if res.n_correct is None:
                    acc["known"] = False
                else:
                    acc["correct"] += res.n_correct
                total_steps += 1
                seen = acc["seen"]
                rate = (seen - seen0) / max(time.monotonic() - t_ep, 1e-9)
                racc = f"{acc['correct'] / seen:.3f}" if acc["known"] else "-"
                energy = (
                    _fmt_energy(ledger.total()) if (ledger is not None and len(ledger)) else "-"
                )
                show.step(
                    f"{rate:,.0f} samples/s loss {acc['loss_sum'] / seen:.4f} acc {racc} "
                    f"energy {energy}"
                )
                if intr.requested:
                    interrupted = True
                    save(epoch, step + 1, epoch_rng_state, wall0 + time.monotonic() - t_start)
                    break
                if (step + 1) % checkpoint_every == 0 and step + 1 < steps_per_epoch:
                    save(epoch, step + 1, epoch_rng_state, wall0 + time.monotonic() - t_start)
                if max_steps is not None and total_steps >= max_steps:
                    stopped = True
                    save(epoch, step + 1, epoch_rng_state, wall0 + time.monotonic() - t_start)
                    break
            if stopped or interrupted:
                break
            start_step = 0
            show.close()
            try:
                train_acc = (
                    eval_on(X[:n_tr_eval], y[:n_tr_eval], "train", ep, stop) if n_tr_eval else None
                )
                test_acc = (
                    eval_on(test_xy[0], test_xy[1], "test", ep, stop)
                    if test_xy is not None
                    else None
                )
            except _Stop:
                interrupted = True
                save(epoch, steps_per_epoch, epoch_rng_state, wall0 + time.monotonic() - t_start)
                break
            seen = acc["seen"]
            row: dict[str, Any] = {
                "epoch": ep,
                "train_loss": acc["loss_sum"] / max(seen, 1),
                "train_accuracy": train_acc,
                "train_running_accuracy": (acc["correct"] / seen)
                if (acc["known"] and seen)
                else None,
                "test_accuracy": test_acc,
                "energy_J": ledger.total() if ledger is not None else None,
                "train_energy_J": ledger.total(phase="train", epoch=ep)
                if ledger is not None
                else None,
                "eval_energy_J": ledger.total(phase="eval", epoch=ep)
                if ledger is not None
                else None,
                "samples": seen,
                "wall_s": wall0 + time.monotonic() - t_start,
            }
            if resumed is not None and epoch == resumed["epoch"] - 1 and resumed["step"]:
                row["resumed_at_step"] = resumed["step"]
            history.append(row)
            show(
                f"epoch {ep}/{epochs} done: loss {row['train_loss']:.4f} train acc "
                f"{'-' if train_acc is None else f'{train_acc:.4f}'} test acc "
                f"{'-' if test_acc is None else f'{test_acc:.4f}'} "
                f"energy {_fmt_energy(row['energy_J']) if (ledger is not None and len(ledger)) else '-'} "
                f"({row['wall_s']:.1f} s)",
                force=True,
            )
            epoch_rng_state = next_state
            save(epoch + 1, 0, epoch_rng_state, row["wall_s"])
            if results_dir is not None:
                write_metrics(results_dir, model, rule, history, resumed, ledger, optimizer)
            if intr.requested:
                interrupted = epoch + 1 < epochs
                break

    show.close()
    result = FitResult(history=history, ledger=ledger, resumed_from=resumed)
    if interrupted:
        where = f"checkpoint {checkpoint}" if checkpoint is not None else "no checkpoint (none set)"
        show(
            f"interrupted: {len(history)} epochs finished"
            + (f", metrics in {results_dir}" if results_dir is not None else "")
            + f"; {where}",
            force=True,
        )
        raise KeyboardInterrupt(f"training interrupted; {where}")
    if results_dir is not None and not stopped:
        result.results_dir = write_results(
            results_dir, model, rule, result, g_initial, optimizer=optimizer
        )
    return result


def _train_step(model, rule, xb, yb, random_state, optimizer, lr, t, total):
    res = rule.step(model, xb, yb, random_state)
    optimizer.apply(model, res.updates, lr, t, total)
    return res


def _conductances(model) -> dict:
    out = {}
    for layer in model.layers:
        pairs = getattr(layer, "pairs", None)
        if pairs is not None:
            out[pairs.name] = np.concatenate([pairs.g_plus.ravel(), pairs.g_minus.ravel()])
    return out


METRIC_KEYS = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "train_running_accuracy",
    "test_accuracy",
    "energy_J",
    "train_energy_J",
    "eval_energy_J",
    "samples",
    "wall_s",
]


def _atomic_write(path: Path, text: str) -> None:
    write_atomic(path, text)  # temporary file, fsync, os.replace; permissions follow the umask


def write_metrics(
    folder, model, rule, history: list, resumed=None, ledger=None, optimizer=None
) -> None:
    """Write metrics.csv and metrics.json of the finished epochs (atomically; after every epoch).

    Columns: epoch (from 1), train_loss (mean of the rule's reported loss over the epoch's
    samples), train_accuracy (after the epoch, on ``train_eval_samples`` training samples),
    train_running_accuracy (during the epoch, single-pass rules), test_accuracy, energy_J (ledger
    total so far), train_energy_J and eval_energy_J (this epoch's ``phase="train"`` and
    ``phase="eval"`` bookings: they sum to the epoch's share of energy_J), samples (trained in the
    epoch, the whole epoch's even when it was resumed), wall_s (cumulative, over resumes).

    Parameters
    ----------
    folder : str or Path
        Results folder (created).
    model : Network
        The trained network (its sizes and layers are recorded).
    rule : Rule
        The rule (its ``config()`` is recorded).
    history : list of dict
        Rows of the finished epochs.
    resumed : dict or None
        Where the run resumed (``FitResult.resumed_from``).
    ledger : EnergyLedger or None
        Adds the energy totals (J) by category and phase.
    optimizer : SGD or None
        Its ``config()`` is recorded.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=METRIC_KEYS + ["resumed_at_step"], extrasaction="ignore")
    w.writeheader()
    for row in history:
        w.writerow(
            {k: ("" if row.get(k) is None else row[k]) for k in METRIC_KEYS + ["resumed_at_step"]}
        )
    _atomic_write(folder / "metrics.csv", buf.getvalue())
    doc = {
        "rule": rule.config(),
        "network": {
            "sizes": model.sizes,
            "n_classes": model.n_classes,
            "layers": [repr(lay) for lay in model.layers],
        },
        "optimizer": optimizer.config() if optimizer is not None else None,
        "history": history,
        "resumed_from": resumed,
    }
    if ledger is not None:
        doc["energy_by_category_J"] = ledger.totals("category")
        doc["energy_by_phase_J"] = ledger.totals("phase")
    _atomic_write(folder / "metrics.json", json.dumps(doc, indent=1, default=str))


def write_results(
    folder, model, rule, result: FitResult, g_initial: dict | None = None, optimizer=None
) -> Path:
    """Write metrics.csv/json, ledger.csv/json, schedules/*.json and plots/*.png into ``folder``.

    Parameters
    ----------
    folder : str or Path
        Results folder (created).
    model : Network
        The trained network.
    rule : Rule
        The rule.
    result : FitResult
        The run's outcome.
    g_initial : dict or None
        Array name -> conductances (S) before training, for the histograms.
    optimizer : SGD or None
        Its ``config()`` is recorded.
    """
    folder = Path(folder)
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    write_metrics(
        folder, model, rule, result.history, result.resumed_from, result.ledger, optimizer
    )
    if result.ledger is not None:
        result.ledger.to_csv(folder / "ledger.csv")
        result.ledger.to_json(folder / "ledger.json")
    scheds = [
        (getattr(lay, "pairs").name, s)
        for lay in model.layers
        for s in getattr(lay, "schedules", [])
    ]
    if scheds:
        (folder / "schedules").mkdir(exist_ok=True)
        for i, (name, s) in enumerate(scheds):
            s.to_json(folder / "schedules" / f"{name}_update{i}.json")
    _plots(folder / "plots", model, result, g_initial or {})
    return folder


def _plots(folder: Path, model, result: FitResult, g_initial: dict) -> None:
    from .. import plot

    if result.history:
        ax = plot.accuracy_plot(result.history)
        ax.figure.savefig(folder / "accuracy.png", dpi=120)
    if result.ledger is not None and result.ledger.total() > 0:
        ax = plot.energy_by_category_plot(result.ledger.totals("category"))
        ax.figure.savefig(folder / "energy_by_category.png", dpi=120)
    g_final = _conductances(model)
    if g_final:
        plot.conductance_histograms(g_final, g_initial).savefig(
            folder / "conductance_histograms.png", dpi=120
        )
