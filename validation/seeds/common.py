"""Shared pieces of the seed studies: progress lines, statistics, markdown tables, run metadata,
and the writer that tees every update of a training run into a program-and-verify shadow."""

from __future__ import annotations

import copy
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


class Progress:
    """Timestamped progress lines on stderr (``[  12.3 s] text``)."""

    def __init__(self, enabled: bool = True):
        self.t0 = time.monotonic()
        self.enabled = enabled

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def __call__(self, text: str) -> None:
        if self.enabled:
            print(f"[{self.elapsed():7.1f} s] {text}", file=sys.stderr, flush=True)


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def pm(values, scale: float = 100.0, digits: int = 1) -> str:
    """``mean ± std`` of ``values`` × ``scale`` (percent by default); one value alone, without a
    spread (a single seed's spread is unmeasured, not 0)."""
    m, s = mean_std(values)
    if np.asarray(values).size < 2:
        return f"{m * scale:.{digits}f}"
    return f"{m * scale:.{digits}f} ± {s * scale:.{digits}f}"


def fmt_energy(j: float) -> str:
    """An energy in J with an SI prefix (the ledger's own formatting)."""
    from xbar.pulses import format_energy

    return format_energy(j)


def table(header: list, rows: list) -> str:
    """A markdown table."""
    out = [
        "| " + " | ".join(str(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def versions() -> dict:
    """Versions of Python, the libraries and the xbar checkout (git commit, dirty flag)."""
    import matplotlib
    import scipy

    import xbar

    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        "xbar": getattr(xbar, "__version__", "?"),
        "xbar git commit": commit or "unknown",
        "platform": platform.platform(),
        "cpus": str(__import__("os").cpu_count()),
    }


def plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as pyplot

    return pyplot


def save_figure(fig, ax, path, xlabel: str, ylabel: str, legend: dict | None = None) -> None:
    """Label the axes, add the legend (``legend``: further ``ax.legend`` keywords), save ``path``
    as PNG (120 dpi) and close the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(**{"fontsize": 8, **(legend or {})})
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt().close(fig)


class TeeWriter:
    """Reset-only updates on the trained pairs, and the same requests by program-and-verify on a
    shadow copy of the pairs: the conventional-programming energy of the *same* training run.

    ``PulsedLayer`` hands the writer the signed pulse counts of every update; the reset-only
    writer applies them to the real pairs (its schedules are booked by the layer, so the trained
    network is exactly the reset-only run). On every ``every``-th update of each layer a
    ``ProgramVerifyWriter`` also moves a deep copy of the same fabricated pairs to the targets
    the same counts ask for (``counts × dG_nominal``), booking its pulses and verify reads in
    ``shadow_ledger``, and the reset-only schedules of those same updates are booked again in
    ``sampled_ledger``: ``shadow_ledger.total() / sampled_ledger.total()`` is the P&V / reset-only
    energy ratio of identical requests.

    The program-and-verify writer books its schedules itself (``ProgramVerifyWriter.book``): with
    its ``read_periphery`` set, every verify read of the shadow also books the read path's DAC,
    TIA and ADC energy (categories ``dac``, ``tia``, ``adc``).

    Parameters
    ----------
    reset_writer : xbar.train.ResetOnlyWriter
    pv_writer : xbar.train.ProgramVerifyWriter
    shadow_ledger, sampled_ledger : xbar.pulses.EnergyLedger
    every : int, default 1
        Shadow every ``every``-th update (program-and-verify is ~50x slower to simulate).
    random_state : None | int | Generator
        Cycle noise of the shadow's pulses and reads.
    """

    name = "reset-only (+ program-verify shadow)"

    def __init__(
        self,
        reset_writer,
        pv_writer,
        shadow_ledger,
        sampled_ledger,
        every: int = 1,
        random_state=None,
    ):
        self.reset = reset_writer
        self.pv = pv_writer
        self.shadow_ledger = shadow_ledger
        self.sampled_ledger = sampled_ledger
        self.every = int(every)
        self.rng = np.random.default_rng(random_state)
        self.shadows: dict = {}
        self.dG: dict = {}
        self.calls: dict = {}
        self.enabled = True

    def nominal_dG(self, device, rng) -> float:
        return self.reset.nominal_dG(device, rng)

    def attach(self, layer) -> None:
        """Give ``layer``'s pairs a shadow (a copy of the pairs as fabricated and initialised)."""
        self.shadows[layer.pairs.name] = copy.deepcopy(layer.pairs)
        self.dG[layer.pairs.name] = layer.dG_nominal
        self.calls[layer.pairs.name] = 0

    def apply(self, pairs, counts, k, rng):
        scheds = self.reset.apply(pairs, counts, k, rng)
        name = pairs.name
        shadow = self.shadows.get(name)
        if self.enabled and shadow is not None:
            if self.calls[name] % self.every == 0:
                for s in scheds:
                    s.book(self.sampled_ledger, layer=name)
                if np.any(counts):
                    pv = self.pv.apply(shadow, counts, k, self.rng, dG_per_count=self.dG[name])
                    self.pv.book(pv, self.shadow_ledger, layer=name)
            self.calls[name] += 1
        return scheds


def device_count(net) -> int:
    """Devices of a pulsed network: two per weight (differential pairs), bias rows included."""
    return int(sum(2 * layer.pairs.g_plus.size for layer in net.layers))


def sync_from_devices(layer) -> None:
    """Copy the device arrays' conductances into the layer's pairs (after ageing)."""
    layer.sync_from_devices()


def evaluate_with_read_noise(net, rule, X, y, rng, *, batch_size: int = 1000) -> float:
    """Test accuracy with one noisy read of every device frozen for the evaluation pass.

    Each device's conductance is replaced by ``array.read(rng)`` (the device model's
    state-dependent relative read noise) for the pass and restored afterwards.
    """
    from contextlib import ExitStack

    from xbar.train import evaluate

    with ExitStack() as stack:
        for layer in net.layers:
            p = layer.pairs
            stack.enter_context(
                layer.conductances_replaced(p.arrays["+"].read(rng), p.arrays["-"].read(rng))
            )
        return evaluate(net, rule, X, y, batch_size=batch_size)


def ranging_reader(**kw):
    """A ``CircuitReader`` whose programmable-gain TIAs are re-ranged after every write.

    ``TIA(auto_gain="weights")`` sets each channel's gain so that the largest current the stored
    conductances can give at full-scale input reaches the output swing; the reader re-applies it
    (``AnalogLinear.update_gains``) whenever the pulses changed the conductances, as a controller
    that knows what it wrote would. ``auto_gain="window"`` (any storable weight) never saturates but
    leaves the signals of a differential layer a few LSBs of an 8-bit ADC (measured: 65 % relative
    error of the first layer's outputs vs 4 % with re-ranging, ideal wires).
    """
    from xbar.train.analog import CircuitReader

    return CircuitReader(rerange=True, **kw)


def read_error(net, rule, X) -> list:
    """Relative error ``|y_circuit − y_ideal| / |y_ideal|`` of every layer's outputs (pre-activations)
    on inputs ``X``, each layer fed the ideal output of the previous one as the rule does."""
    from xbar.train._common import length_normalize

    h = rule.prepare_input(X, net)
    errs = []
    for k, layer in enumerate(net.layers):
        xin = length_normalize(h) if k > 0 else h
        circuit = layer.forward(xin)
        reader, layer.reader = layer.reader, None
        try:
            ideal = layer.forward(xin)
        finally:
            layer.reader = reader
        errs.append(float(np.linalg.norm(circuit - ideal) / np.linalg.norm(ideal)))
        h = np.maximum(ideal, 0.0)
    return errs


def to_json(obj) -> str:
    """JSON text of a results document (numpy scalars and arrays as numbers and lists)."""
    import json

    def default(o):
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return str(o)

    return json.dumps(obj, indent=1, default=default)


def write_json(path, obj) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (a crash leaves the old file or the new one)."""
    from xbar._io import write_atomic

    write_atomic(path, to_json(obj))


class Checkpoint:
    """Completed pieces of a study run, kept in ``<out>/partial.json`` so that a killed run resumes.

    Each piece (one seed and rule, one tuning point, one regime run) is stored under a key as soon
    as it is done, with the whole file rewritten atomically.  A checkpoint written under another
    configuration is ignored (and replaced): only pieces of the same configuration are reused.

    Parameters
    ----------
    path : pathlib.Path or None
        The file; None keeps nothing (no resume).
    config : dict
        The run's configuration (JSON-able); it must equal the stored one for a resume.
    """

    def __init__(self, path, config: dict):
        import json

        self.path = path
        self.config = json.loads(to_json(config))
        self.pieces: dict = {}
        self.resumed = 0
        if path is not None and Path(path).exists():
            try:
                doc = json.loads(Path(path).read_text())
            except (OSError, ValueError):
                doc = {}
            if doc.get("config") == self.config:
                self.pieces = doc.get("pieces", {})

    def get(self, key: str, compute):
        """The stored piece ``key``, or ``compute()`` stored under it (a JSON round trip, so a
        fresh piece and a resumed one are the same numbers)."""
        import json

        if key in self.pieces:
            self.resumed += 1
            return self.pieces[key]
        value = json.loads(to_json(compute()))
        self.pieces[key] = value
        if self.path is not None:
            write_json(self.path, {"config": self.config, "pieces": self.pieces})
        return value


def search_grid(grid, score, *, max_extend: int = 0) -> dict:
    """Best point of a 1-d grid, the grid extended outward while the best point is at its edge.

    Each grid point is scored once.  While the best point is the grid's smallest or largest (and
    extensions are left), one more point is scored one step beyond that edge, the step being the
    ratio of the two outermost points on that side (a geometric grid stays geometric), rounded to
    3 significant figures.  The search stops when the best point is interior, after
    ``max_extend`` added points, or for a grid of fewer than two points (no step to extend by).

    Parameters
    ----------
    grid : sequence of float
        The points given (positive, e.g. learning rates; dimensionless).
    score : callable
        ``score(point) -> (value, extra)``: the value maximised (ties: the first point scored
        wins) and anything recorded beside it (e.g. the best epoch).
    max_extend : int
        Points that may be added beyond the given grid (0: the grid as given).

    Returns
    -------
    dict
        ``best`` (the chosen point), ``scores`` (point -> (value, extra), in the order scored),
        ``given`` (the grid given, sorted), ``extended`` (the points added, in order) and
        ``at_edge`` (True when the best point is still the smallest or largest scored).
    """
    from xbar.exceptions import ConfigError

    pts = sorted(float(p) for p in grid)
    if not pts or any(not np.isfinite(p) or p <= 0 for p in pts):
        raise ConfigError(f"grid must hold positive finite points, got {list(grid)!r}")
    if int(max_extend) < 0:
        raise ConfigError(f"max_extend must be >= 0, got {max_extend!r}")
    scores = {p: score(p) for p in pts}
    extended: list = []

    def best_point():
        return max(scores, key=lambda v: scores[v][0])

    while True:
        s = sorted(scores)
        best = best_point()
        edge = len(s) > 1 and best in (s[0], s[-1])
        if not edge or len(extended) >= int(max_extend):
            break
        new = s[-1] ** 2 / s[-2] if best == s[-1] else s[0] ** 2 / s[1]
        new = float(f"{new:.3g}")
        if new in scores:  # rounding collapsed the step: nothing new to score
            break
        extended.append(new)
        scores[new] = score(new)
    return {"best": best, "scores": scores, "given": pts, "extended": extended, "at_edge": edge}
