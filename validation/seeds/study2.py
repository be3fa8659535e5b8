"""Study 2: SGD and learning from mistakes on stochastic binary devices (MNIST softmax regression).

After Nikiruy, Wenger, Ziegler, "Toward reliable gradient-based training on stochastic memristive
devices" (docs/references.rst, ref-nikiruy2025): softmax regression 784 -> 10 with each weight on a
differential pair of stochastic binary RRAM devices (``xbar.devices.StochasticBinaryReRAM``:
log-normal switching times, so a pulse switches a device with a probability set by its amplitude
and width; conductance redrawn from the state's log-normal distribution at each switch; d2d spread
of the state medians and switching times), forward passes through ``xbar.periphery.AnalogLinear``
(circuit solve with wire resistance, DAC, TIA, ADC).

Compared, each against a control with the same update budget (SGD applied twice per step):
floating-point SGD (ceiling) and its ternarised solution (the ceiling of a binary pair), device
SGD, learning from mistakes as published (``SoftmaxSGD(variant="published")``: blooming = every
G+ fabricated in the LRS, pruning = depress the active synapses of the wrong winner only, selective
punishment of synapses that once led to success) alone and with SGD, and xbar's earlier
reinforcing variant. Rates are chosen on a validation split held out of the training digits,
epochs on the same split; the test split is read only for the reported numbers. A regime search
(ideal reads, subset) looks for the controller/device settings where SGD alone trains poorly and
SGD + LFM converges.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from common import (
    Checkpoint,
    Progress,
    fmt_energy,
    plt,
    pm,
    ranging_reader,
    save_figure,
    search_grid,
    table,
)

# regime -> overrides of the configuration (the controller/device settings the issue lists)
REGIMES = {
    "calibrated controller": {},
    "one pulse per request": {"mapping": "threshold"},
    "per-sample updates": {"batch_size": 1, "regime_n_train": 800},
    "low switching probability": {"set_amplitude": 0.795, "reset_amplitude": 0.895},
}
FEW_LEVEL = {
    f"few-level pairs, {L} levels, <= {n} pulse{'s' if n > 1 else ''}": {
        "device": "levels",
        "levels": L,
        "mapping": "proportional",
        "max_pulses": n,
        "retune": True,
    }
    for L in (3, 5, 9)
    for n in (1, 3)
}
FEW_LEVEL.update(
    {
        f"few-level pairs, {L} levels, <= 1 pulse, SGD lr 0.25": {
            "device": "levels",
            "levels": L,
            "mapping": "proportional",
            "max_pulses": 1,
            "lr": 0.25,
            "retune": "lfm",
        }
        for L in (3, 5)
    }
)
"""The few-level analog-pair regime: each device has ``levels`` equally spaced conductances
between the HRS and LRS medians, one pulse moves it one level (SET up, RESET down; a pair moves
its weight by resetting the higher side first, then setting the other), and the controller
rounds each request to whole pulses capped at ``max_pulses`` per cell per update (it ignores
the request's remainder: no stochastic rounding).  ``retune``: the rates are re-chosen on the
validation split for the regime (SGD's lr first, then the LFM rate with it), so that neither
rule is judged at the other regime's rates; ``retune="lfm"`` keeps the SGD lr of the entry
(0.25: most requests round to no pulse, so SGD alone trains poorly, measured 10-54 % on
validation at lr 0.1-0.25) and re-chooses only the LFM rates: can LFM rescue that SGD?"""
REGIMES.update(FEW_LEVEL)
"""``regime_n_train`` in an entry overrides the subset size (per-sample updates cost ~6 ms each).
``low switching probability``: 0.205 V below the 50 % amplitudes, i.e. 2.05 e-folds of the
switching time at v0 = 0.1 V: P_sw = Φ(−2.05) ≈ 0.02 for the median device (sigma_t = 1)."""

CONVERGED_POINTS = 3.0
"""SGD + LFM "converges to high accuracy": within this many points of the binary-pair ceiling."""
POOR_POINTS = 10.0
"""SGD alone "trains poorly": more than this many points below the binary-pair ceiling."""


@dataclass
class Study2Config:
    """Configuration of study 2 (every field is reported)."""

    seeds: tuple = (0, 1, 2, 3, 4)
    """Seeds of the circuit-read main runs (5)."""
    epochs: int = 3
    """Epochs trained; the reported epoch of each run is the one with the best validation
    accuracy."""
    batch_size: int = 500
    """Samples per update (each one rebuilds the circuit maps)."""
    n_train: int | None = 12000
    """Training subset before the validation hold-out (None: all 60,000; 12,000 keeps the 21
    circuit-read runs within ~12 min on the shared machine: a 17k-digit run took 54 s for SGD,
    126 s for SGD x2)."""
    n_val: int = 3000
    """Validation digits held out of the training split (rates and epochs are chosen on them)."""
    n_test: int | None = 5000
    """Test subset (None: all 10,000)."""
    lr: float | None = None
    """SGD learning rate (per sample; the batch mean is applied). None: chosen on validation."""
    lr_grid: tuple = (0.2, 0.5, 1.0)
    lfm_rate: float | None = None
    """Rate of the reinforcing LFM term with SGD. None: chosen on validation."""
    lfm_published_rate: float | None = None
    """Rate of the published LFM term with SGD. None: chosen on validation."""
    lfm_alone_rate: float | None = None
    """Rate of published LFM alone. None: chosen on validation."""
    lfm_grid: tuple = (0.05, 0.2, 0.5)
    selective_factor: float = 0.1
    """Published LFM: punishment factor of synapses that once led to a correct answer."""
    active_threshold: float = 0.5
    """An input pixel is active above this value (pixels scaled to [0, 1])."""
    w_max: float = 0.05
    """Weight of a pair with G+ at the LRS median and G- at the HRS median."""
    g_hrs: float = 2e-6
    """HRS median conductance, S (the model default 10 µS scaled by 1/5 with the LRS)."""
    g_lrs: float = 40e-6
    """LRS median conductance, S (model default 200 µS / 5: with 200 µS the IR drop of 128-row
    tiles at 1 ohm made the read-out 30 % wrong, 55 % at 256 rows; measured in development)."""
    set_amplitude: float = 1.0
    """SET pulse amplitude, V (50 % switching at 100 ns for the default device)."""
    reset_amplitude: float = 1.1
    """RESET pulse amplitude, V (50 % switching at 100 ns)."""
    width: float = 100e-9
    """Pulse width, s."""
    mapping: str = "stochastic"
    device: str = "binary"
    """``"binary"``: ``StochasticBinaryReRAM`` pairs; ``"levels"``: few-level analog pairs
    (``FewLevelDevice``, the regime search only)."""
    levels: int = 5
    """Conductance levels per device of ``device="levels"``."""
    max_pulses: int = 1
    """Pulses per cell per update of ``mapping="proportional"``."""
    r_wire: float = 1.0
    """Wire resistance per cell pitch, ohm."""
    tile: int = 128
    """Largest array (rows); the 785 x 20 pair layer is split into 7 row tiles."""
    adc_bits: int = 8
    dac_bits: int = 8
    """DAC resolution (pulse-width coded inputs; the cost of booking the read energy grows with
    the levels, ~16 ms per tile read at 4 bits: 0 = ideal DAC in --quick)."""
    tune_n_train: int = 10000
    """Training digits of the rate search (ideal reads, seed 0)."""
    tune_epochs: int = 2
    regime_seeds: tuple = (0, 1, 2, 3, 4)
    regime_n_train: int = 8000
    """Training digits of each regime-search run (ideal reads; validation and test as above)."""
    regime_epochs: int = 2
    regimes: tuple = tuple(REGIMES)
    main_runs: bool = True
    """False: only the tuning and the regime search (``run.py --study 2 --regimes-only``)."""
    regime_lr_grid: tuple = (0.1, 0.25, 0.5, 1.0)
    """SGD lr grid of the regimes that re-tune (few-level pairs: a pulse is a whole level, so
    small requests round to nothing unless the rate is larger)."""
    regime_lfm_grid: tuple = (0.1, 0.5, 2.0)
    """LFM-published rate grid of the regimes that re-tune."""
    tune_extend: int = 3
    """Points a rate grid may be extended by beyond its edge while the best validation accuracy
    sits there (``common.search_grid``); a choice still at the edge is flagged in the report."""
    quick: bool = False


def default_config() -> Study2Config:
    return Study2Config()


def quick_config() -> Study2Config:
    return Study2Config(
        seeds=(0, 1),
        epochs=2,
        n_train=1000,
        n_val=300,
        n_test=300,
        batch_size=350,
        lr=0.5,
        lfm_rate=0.05,
        lfm_published_rate=None,
        lfm_grid=(0.05, 0.5),
        lfm_alone_rate=0.2,
        tune_n_train=700,
        tune_epochs=1,
        regime_seeds=(0, 1),
        regime_n_train=700,
        regime_epochs=1,
        regimes=("calibrated controller", "few-level pairs, 3 levels, <= 1 pulse"),
        regime_lr_grid=(2.0,),
        regime_lfm_grid=(2.0,),
        dac_bits=0,
        tune_extend=1,
        quick=True,
    )


class BinaryPairView:
    """What ``xbar.train.pulsed`` needs of a device, for ``StochasticBinaryReRAM`` pairs.

    ``g_min``/``g_max`` are the model's HRS/LRS medians (S), so ``w = w_max`` for (LRS, HRS);
    ``current`` is the cell I-V (pulse energies).
    """

    def __init__(self, model):
        self.model = model
        self.g_min = float(model.g_hrs)
        self.g_max = float(model.g_lrs)

    def current(self, V, G):
        return self.model.iv.current(V, G)


class FewLevelDevice:
    """A device with ``levels`` equally spaced conductances in ``[g_min, g_max]`` (S): each
    pulse moves it one level, SET up and RESET down, clipped at the ends (no noise).

    Parameters
    ----------
    levels : int
        Conductance levels (>= 2).
    g_min, g_max : float
        Lowest and highest level, S.
    """

    def __init__(self, levels: int, g_min: float, g_max: float):
        if int(levels) < 2 or not 0 < g_min < g_max:
            raise ValueError(
                f"need levels >= 2 and 0 < g_min < g_max, got {levels}, {g_min}, {g_max}"
            )
        self.levels = int(levels)
        self.g_min, self.g_max = float(g_min), float(g_max)
        self.step = (self.g_max - self.g_min) / (self.levels - 1)

    def level(self, G) -> np.ndarray:
        """Level index of conductances ``G`` (0 = g_min)."""
        return np.rint((np.asarray(G) - self.g_min) / self.step).astype(np.int64)

    def apply_pulse(self, G, polarity, amplitude, width, random_state=None):
        sign = 1.0 if polarity == "set" else -1.0
        return np.clip(self.g_min + (self.level(G) + sign) * self.step, self.g_min, self.g_max)

    def current(self, V, G):
        return np.asarray(G) * V


@dataclass
class StochasticPairWriter:
    """One stochastic switching pulse per requested change on a differential binary pair.

    Raise w: RESET G- if it is in the LRS, else SET G+; lower w: RESET G+ if it is in the LRS,
    else SET G-. Each pulse switches its device with the probability its amplitude and width give
    (``StochasticBinaryReRAM``); a pair at the end of its range stays there.

    Parameters
    ----------
    set_amplitude, reset_amplitude : float
        V.  width : float, s.  cell : "1T1R" (unselected rows' transistors off).
        bias_scheme : "half" (bit lines of the selected row).
    """

    set_amplitude: float = 1.0
    reset_amplitude: float = 1.1
    width: float = 100e-9
    cell: str = "1T1R"
    bias_scheme: str = "half"
    mode: str = "row-parallel"

    name = "stochastic-binary"

    def nominal_dG(self, device, rng) -> float:
        """Mean |ΔG| of one pulse on a device that can switch (SET from HRS, RESET from LRS), S."""
        arr = device.model.sample(512, random_state=rng)
        g0 = arr.G.copy()
        arr.apply_pulses(device.model.set_polarity * self.set_amplitude, self.width)
        up = np.mean(np.abs(arr.G - g0))
        arr = device.model.sample(512, random_state=rng, state="lrs")
        g0 = arr.G.copy()
        arr.apply_pulses(-device.model.set_polarity * self.reset_amplitude, self.width)
        return float(0.5 * (up + np.mean(np.abs(arr.G - g0))))

    def apply(self, pairs, counts, k, rng):
        up, down = counts > 0, counts < 0
        lrs_p, lrs_m = pairs.arrays["+"].is_lrs, pairs.arrays["-"].is_lrs
        plan = (
            ("-", up & lrs_m, "reset"),
            ("+", up & ~lrs_m, "set"),
            ("+", down & lrs_p, "reset"),
            ("-", down & ~lrs_p, "set"),
        )
        return _apply_plan(pairs, plan, self, rng)


def _apply_plan(pairs, plan, w, rng) -> list:
    """Pulse ``counts`` (or a boolean mask: one pulse) per cell for each ``(side, counts,
    polarity)`` of ``plan``, at the writer ``w``'s amplitudes, width, cell, bias and mode."""
    scheds = []
    for which, c, pol in plan:
        if c.any():
            scheds.append(
                pairs.pulse_cells(
                    which,
                    c.astype(np.int64),
                    polarity=pol,
                    amplitude=w.set_amplitude if pol == "set" else w.reset_amplitude,
                    width=w.width,
                    cell=w.cell,
                    bias_scheme=w.bias_scheme,
                    kind="update",
                    mode=w.mode,
                    random_state=rng,
                )
            )
    return [s for s in scheds if s.n_pulses]


@dataclass
class LevelPairWriter(StochasticPairWriter):
    """Whole-level pulses on a differential pair of ``FewLevelDevice`` s: ``c > 0`` pulses raise
    w by ``c`` levels, first by RESETs of G- (while it is above g_min), then by SETs of G+ (and
    mirrored for ``c < 0``); a side at its end stays there.  Amplitudes and width are the study's
    (energies from the linear cell I-V, not used by any verdict)."""

    name = "few-level-pair"

    def nominal_dG(self, device, rng) -> float:
        return float(device.step)

    def apply(self, pairs, counts, k, rng):
        dev = pairs.device
        up, down = np.maximum(counts, 0), np.maximum(-counts, 0)
        n_m, n_p = dev.level(pairs.g_minus), dev.level(pairs.g_plus)
        rm = np.minimum(up, n_m)  # RESETs of G- to raise w
        rp = np.minimum(down, n_p)  # RESETs of G+ to lower w
        plan = (
            ("-", rm, "reset"),
            ("+", up - rm, "set"),
            ("+", rp, "reset"),
            ("-", down - rp, "set"),
        )
        return _apply_plan(pairs, plan, self, rng)


# method -> (rule, initial state, updates per step); "bloom": every G+ fabricated in the LRS
METHODS = {
    "device SGD": ("sgd", "hrs", 1),
    "device SGD x2 (budget control)": ("sgd", "hrs", 2),
    "device SGD, bloomed init": ("sgd", "bloom", 1),
    "device SGD x2, bloomed init (budget control)": ("sgd", "bloom", 2),
    "device SGD + LFM published": ("sgd+lfm-published", "bloom", 1),
    "device SGD + LFM reinforcing (xbar's earlier rule)": ("sgd+lfm-reinforcing", "hrs", 1),
    "device LFM published alone": ("lfm-published", "bloom", 1),
}
MAIN = (
    "device SGD",
    "device SGD x2 (budget control)",
    "device SGD, bloomed init",
    "device SGD x2, bloomed init (budget control)",
    "device SGD + LFM published",
    "device SGD + LFM reinforcing (xbar's earlier rule)",
    "device LFM published alone",
)
"""Methods of the main (circuit-read) runs; the regime search runs all of ``METHODS``."""
CONTROL = {
    "device SGD + LFM published": "device SGD x2, bloomed init (budget control)",
    "device SGD + LFM reinforcing (xbar's earlier rule)": "device SGD x2 (budget control)",
    "device LFM published alone": "device SGD, bloomed init",
}
"""Each LFM method's control with the same update budget (same initial state, two pulse updates
per step for the SGD + LFM combinations, one for LFM alone)."""
RATE_OF = {
    "sgd": "lr",
    "sgd+lfm-published": "lfm_published_rate",
    "sgd+lfm-reinforcing": "lfm_rate",
    "lfm-published": "lfm_alone_rate",
}


class Repeat:
    """A rule whose every step hands its updates to the layers ``n`` times (independent pulse
    draws): the same number of pulse updates per step as SGD + a second (LFM) update."""

    def __init__(self, rule, n: int):
        self.rule = rule
        self.n = int(n)

    def step(self, net, x, y, rng):
        res = self.rule.step(net, x, y, rng)
        res.updates = list(res.updates) * self.n
        return res

    def __getattr__(self, name):
        return getattr(self.rule, name)


def _rule(kind: str, rates: dict, cfg: Study2Config):
    from xbar.train.softmax import SoftmaxSGD

    kw = dict(active_threshold=cfg.active_threshold)
    if kind == "sgd":
        return SoftmaxSGD(lr=rates["lr"])
    if kind == "sgd+lfm-published":
        return SoftmaxSGD(
            lr=rates["lr"],
            lfm_rate=rates["lfm_published_rate"],
            variant="published",
            selective_factor=cfg.selective_factor,
            **kw,
        )
    if kind == "sgd+lfm-reinforcing":
        return SoftmaxSGD(lr=rates["lr"], lfm_rate=rates["lfm_rate"], variant="reinforcing", **kw)
    if kind == "lfm-published":
        return SoftmaxSGD(
            lr=0.0,
            lfm_rate=rates["lfm_alone_rate"],
            variant="published",
            selective_factor=cfg.selective_factor,
            **kw,
        )
    raise ValueError(kind)


def _data(cfg):
    """Training / validation / test digits (pixels in [0, 1]); the validation digits are held out
    of the training split, the test split is only read for the reported numbers."""
    from xbar.data import load_mnist

    Xtr, ytr = load_mnist("train")
    Xte, yte = load_mnist("test")
    ntr = cfg.n_train or len(ytr)
    nte = cfg.n_test or len(yte)
    # first n of a fixed permutation, so subsets keep the class balance
    ptr = np.random.default_rng(12345).permutation(len(ytr))[:ntr]
    pte = np.random.default_rng(54321).permutation(len(yte))[:nte]
    f = lambda X, p: X[p].reshape(len(p), -1) / 255.0  # noqa: E731
    pv, pt = ptr[: cfg.n_val], ptr[cfg.n_val :]
    return dict(
        Xtr=f(Xtr, pt),
        ytr=ytr[pt].astype(np.int64),
        Xval=f(Xtr, pv),
        yval=ytr[pv].astype(np.int64),
        Xte=f(Xte, pte),
        yte=yte[pte].astype(np.int64),
    )


def _device_net(cfg, rule, seed, ledger, init: str = "hrs", circuit: bool = True):
    import xbar.train as T
    from xbar._random import spawn
    from xbar.devices import StochasticBinaryReRAM
    from xbar.periphery import ADC, DAC, TIA, ArrayConfig
    from xbar.train.pulsed import PairArray, PulsedLayer

    fab_p, fab_m, op = spawn(seed, 3)
    shape = (785, 10)  # 784 pixels + bias row, 10 classes
    # "hrs": every device in the HRS (w = 0); "bloom": every G+ in the LRS (w = +w_max)
    if cfg.device == "levels":
        dev = FewLevelDevice(cfg.levels, cfg.g_hrs, cfg.g_lrs)
        gp = np.full(shape, dev.g_max if init == "bloom" else dev.g_min)
        pairs = PairArray(gp, np.full(shape, dev.g_min), dev, name="softmax")
    else:
        model = StochasticBinaryReRAM(g_hrs=cfg.g_hrs, g_lrs=cfg.g_lrs)
        plus = model.sample(shape, random_state=fab_p, state="lrs" if init == "bloom" else "hrs")
        minus = model.sample(shape, random_state=fab_m)
        pairs = PairArray(
            plus.G, minus.G, BinaryPairView(model), name="softmax", arrays={"+": plus, "-": minus}
        )
    reader = None
    if circuit:
        reader = ranging_reader(
            array=ArrayConfig(
                max_rows=cfg.tile, max_cols=cfg.tile, r_wordline=cfg.r_wire, r_bitline=cfg.r_wire
            ),
            adc=ADC(bits=cfg.adc_bits),
            dac=DAC(bits=cfg.dac_bits or None, x_max=1.0),
            tia=TIA(auto_gain="weights"),
            read_method="transfer",
            random_state=seed + 1000,
        )
    if cfg.device == "levels":
        writer = LevelPairWriter(cfg.set_amplitude, cfg.reset_amplitude, cfg.width)
    else:
        writer = StochasticPairWriter(cfg.set_amplitude, cfg.reset_amplitude, cfg.width)
    layer = PulsedLayer(
        pairs,
        writer,
        T.PulseMapping(cfg.mapping, max_pulses=cfg.max_pulses),
        w_max=cfg.w_max,
        ledger=ledger,
        reader=reader,
        random_state=op,
    )
    return T.Network([layer], 10), reader


READ_CATS = ("read", "dac", "tia", "adc")
"""Ledger categories of the forward reads (circuit array energy, DAC, TIA, ADC): booked for the
training reads as for the evaluation reads, none estimated."""


def _float_run(cfg, rates, seed, data):
    """Float SGD (the ceiling) and its ternarised solution on a binary pair (threshold chosen on
    validation)."""
    import xbar.train as T
    from xbar.train.layers import augment

    rule = T.SoftmaxSGD(lr=rates["lr"])
    net = T.build_network(rule, 784, 10, [], random_state=seed)
    val, test = [], []
    for e in range(cfg.epochs):
        T.fit(
            net,
            (data["Xtr"], data["ytr"]),
            rule=rule,
            epochs=1,
            random_state=seed * 1000 + e,
            batch_size=cfg.batch_size,
            progress=False,
            train_eval_samples=0,
        )
        val.append(T.evaluate(net, rule, data["Xval"], data["yval"]))
        test.append(T.evaluate(net, rule, data["Xte"], data["yte"]))
    best = int(np.argmax(val))
    W = T.stacked_weights(net.layers[0])
    acc = lambda X, y, Wt: float(np.mean(np.argmax(augment(X, True) @ Wt, 1) == y))  # noqa: E731
    tern = {}
    for q in (0.5, 0.6, 0.7, 0.8, 0.9):
        th = np.quantile(np.abs(W), q)
        Wt = np.sign(W) * (np.abs(W) > th)
        tern[q] = (acc(data["Xval"], data["yval"], Wt), acc(data["Xte"], data["yte"], Wt))
    qbest = max(tern, key=lambda q: tern[q][0])
    return {
        "seed": seed,
        "val_history": val,
        "test_history": test,
        "best_epoch": best + 1,
        "test_accuracy": test[best],
        "ternary_quantile": qbest,
        "ternary_val": tern[qbest][0],
        "ternary_test": tern[qbest][1],
    }


def _device_run(cfg, method, rates, seed, data, circuit, progress):
    """One device run of ``method``; validation and test accuracy after every epoch (the
    reported epoch is the best on validation), pulses and booked energies per epoch."""
    import xbar.train as T
    from xbar.pulses import EnergyLedger

    kind, init, repeat = METHODS[method]
    rule = _rule(kind, rates, cfg)
    ledger = EnergyLedger()
    net, reader = _device_net(cfg, rule, seed, ledger, init=init, circuit=circuit)
    lay = net.layers[0]
    w0 = T.stacked_weights(lay).copy()
    step_rule = Repeat(rule, repeat) if repeat > 1 else rule
    entry = {
        "seed": seed,
        "devices": int(2 * lay.pairs.g_plus.size),
        "val_history": [],
        "test_history": [],
        "pulses_per_epoch": [],
        "update_energy_per_epoch": [],
        "train_read_energy_per_epoch": [],
        "train_conversions_per_epoch": [],
        "eval_energy_per_read": [],
        "potentiated_cells": 0,
    }
    seeds_ep = np.random.SeedSequence(seed).spawn(cfg.epochs)
    t0 = time.monotonic()
    for e in range(cfg.epochs):
        n0, e0 = ledger.count("write", phase="train"), ledger.total(phase="train")
        r0 = sum(ledger.total(c, phase="train") for c in READ_CATS)
        c0 = ledger.count("adc", phase="train")
        T.fit(
            net,
            (data["Xtr"], data["ytr"]),
            rule=step_rule,
            epochs=1,
            random_state=seeds_ep[e],
            batch_size=cfg.batch_size,
            ledger=ledger,
            train_eval_samples=0,
            progress=progress.enabled and not cfg.quick and circuit,
        )
        entry["pulses_per_epoch"].append(ledger.count("write", phase="train") - n0)
        e_read = sum(ledger.total(c, phase="train") for c in READ_CATS) - r0
        entry["train_read_energy_per_epoch"].append(e_read)
        entry["train_conversions_per_epoch"].append(ledger.count("adc", phase="train") - c0)
        entry["update_energy_per_epoch"].append(ledger.total(phase="train") - e0 - e_read)
        v0 = ledger.total(phase="eval")
        entry["val_history"].append(
            T.evaluate(net, rule, data["Xval"], data["yval"], ledger=ledger)
        )
        entry["test_history"].append(T.evaluate(net, rule, data["Xte"], data["yte"], ledger=ledger))
        n_read = len(data["yval"]) + len(data["yte"])
        entry["eval_energy_per_read"].append((ledger.total(phase="eval") - v0) / n_read)
    best = int(np.argmax(entry["val_history"]))
    entry["best_epoch"] = best + 1
    entry["test_accuracy"] = entry["test_history"][best]
    entry["potentiated_cells"] = int(np.sum(T.stacked_weights(lay) > w0 + 1e-12))
    if lay.pairs.arrays:
        entry["lrs_fraction"] = float(
            np.mean(np.concatenate([lay.pairs.arrays[s].is_lrs.ravel() for s in "+-"]))
        )
    entry["dw_per_pulse"] = float(lay.dw_per_pulse)
    entry["wall_s"] = time.monotonic() - t0
    return entry


def _tune(cfg, data, progress) -> dict:
    """Rates chosen on validation (ideal reads, seed 0, ``tune_n_train`` digits): the lr of
    device SGD first, then each LFM rate with that lr."""
    sub = dict(data, Xtr=data["Xtr"][: cfg.tune_n_train], ytr=data["ytr"][: cfg.tune_n_train])
    tcfg = replace(cfg, epochs=cfg.tune_epochs)
    rates = {
        "lr": cfg.lr,
        "lfm_rate": cfg.lfm_rate,
        "lfm_published_rate": cfg.lfm_published_rate,
        "lfm_alone_rate": cfg.lfm_alone_rate,
    }
    grid_log = []
    order = (
        ("lr", "device SGD", cfg.lr_grid),
        ("lfm_published_rate", "device SGD + LFM published", cfg.lfm_grid),
        ("lfm_rate", "device SGD + LFM reinforcing (xbar's earlier rule)", cfg.lfm_grid),
        ("lfm_alone_rate", "device LFM published alone", cfg.lfm_grid),
    )
    for key, method, grid in order:
        if rates[key] is not None:
            grid_log.append(
                {
                    "rate": key,
                    "method": method,
                    "chosen": rates[key],
                    "grid": {},
                    "source": "fixed in the configuration",
                }
            )
            continue

        def score(v, key=key, method=method):
            r = dict(rates, **{key: v})
            r = {k: (x if x is not None else 0.5) for k, x in r.items()}
            ent = _device_run(tcfg, method, r, 0, sub, circuit=False, progress=progress)
            return max(ent["val_history"]), None

        found = search_grid(grid, score, max_extend=cfg.tune_extend)
        scores = {k: v[0] for k, v in sorted(found["scores"].items())}
        rates[key] = found["best"]
        grid_log.append(
            {
                "rate": key,
                "method": method,
                "chosen": rates[key],
                "grid": {str(k): v for k, v in scores.items()},
                "given": found["given"],
                "extended": found["extended"],
                "at_grid_edge": found["at_edge"],
                "source": "best validation accuracy",
            }
        )
        progress(
            f"tuning {key}: "
            + ", ".join(f"{k} -> {100 * s:.1f} %" for k, s in scores.items())
            + f" (validation); chosen {rates[key]}"
            + (f"; grid extended by {found['extended']}" if found["extended"] else "")
            + (" (still at the grid's edge)" if found["at_edge"] else "")
        )
    return {"rates": rates, "grid": grid_log}


def _grid_note(g: dict) -> str:
    """How a rate's grid was searched: as given, extended beyond an edge, still at an edge."""
    if not g.get("given"):
        return "-"
    note = "extended by " + ", ".join(map(str, g["extended"])) if g.get("extended") else "as given"
    return note + ("; chosen at the grid's edge" if g.get("at_grid_edge") else "; interior")


def _paired(a, b) -> dict:
    """Paired t-test of a − b over seeds (two-sided)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    d = a - b
    if len(d) < 2 or np.all(d == d[0]):
        return {"diff": float(d.mean()), "t": float("nan"), "p": float("nan"), "n": len(d)}
    t, p = stats.ttest_rel(a, b)
    return {"diff": float(d.mean()), "t": float(t), "p": float(p), "n": len(d)}


def run(cfg: Study2Config, out, progress: Progress) -> dict:
    """Run study 2; returns every number of the report (plots written into ``out``)."""
    t0 = time.monotonic()
    data = _data(cfg)
    progress(
        f"MNIST: {len(data['ytr'])} training / {len(data['yval'])} validation / "
        f"{len(data['yte'])} test digits ({time.monotonic() - t0:.1f} s)"
    )
    res = {
        "config": asdict(cfg),
        "data": {
            "n_train": len(data["ytr"]),
            "n_val": len(data["yval"]),
            "n_test": len(data["yte"]),
        },
        "runs": {},
        "regimes": {},
    }
    ckpt = Checkpoint(None if out is None else out / "partial.json", asdict(cfg))
    tuned = ckpt.get("tune", lambda: _tune(cfg, data, progress))
    rates = tuned["rates"]
    res["tuning"] = tuned
    for seed in cfg.seeds if cfg.main_runs else ():
        res["runs"].setdefault("float SGD", []).append(
            ckpt.get(f"main/{seed}/float SGD", lambda: _float_run(cfg, rates, seed, data))
        )
        for method in MAIN:
            ent = ckpt.get(
                f"main/{seed}/{method}",
                lambda: _device_run(
                    cfg, method, rates, seed, data, circuit=True, progress=progress
                ),
            )
            res["runs"].setdefault(method, []).append(ent)
            progress(
                f"study 2 seed {seed} {method}: test {ent['test_accuracy']:.3f} at epoch "
                f"{ent['best_epoch']} (validation {max(ent['val_history']):.3f}) "
                f"[{ent['wall_s']:.0f} s]"
            )
    # regime search: ideal reads, a subset, every method
    for name in cfg.regimes:
        over = dict(REGIMES[name])
        n = min(over.pop("regime_n_train", cfg.regime_n_train), cfg.regime_n_train)
        retune = over.pop("retune", False)
        sub = dict(data, Xtr=data["Xtr"][:n], ytr=data["ytr"][:n])
        rcfg = replace(cfg, epochs=cfg.regime_epochs, **over)
        reg = {"overrides": REGIMES[name], "n_train": n, "runs": {}}
        r_rates = rates
        if retune:
            tcfg = replace(
                rcfg,
                lr=None if retune is True else rcfg.lr,
                lr_grid=cfg.regime_lr_grid,
                lfm_published_rate=None,
                lfm_rate=None,
                lfm_alone_rate=None,
                lfm_grid=cfg.regime_lfm_grid,
                tune_n_train=n,
                tune_epochs=cfg.regime_epochs,
            )
            reg["tuning"] = ckpt.get(f"regime/{name}/tune", lambda: _tune(tcfg, sub, progress))
            r_rates = reg["tuning"]["rates"]
        for seed in cfg.regime_seeds:
            reg["runs"].setdefault("float SGD", []).append(
                ckpt.get(
                    f"regime/{name}/{seed}/float SGD", lambda: _float_run(rcfg, rates, seed, sub)
                )
            )
            for method in METHODS:
                ent = ckpt.get(
                    f"regime/{name}/{seed}/{method}",
                    lambda: _device_run(
                        rcfg, method, r_rates, seed, sub, circuit=False, progress=progress
                    ),
                )
                reg["runs"].setdefault(method, []).append(ent)
        res["regimes"][name] = reg
        progress(
            f"regime {name!r}: "
            + ", ".join(
                f"{m} {100 * np.mean([r['test_accuracy'] for r in rs]):.1f} %"
                for m, rs in reg["runs"].items()
            )
        )
    res["resumed_pieces"] = ckpt.resumed  # their compute time is not in this run's wall time
    if ckpt.resumed:
        progress(f"resumed {ckpt.resumed} completed pieces from {ckpt.path}")
    res["verdicts"] = verdicts(res)
    _plots(res, out)
    return res


def _acc(runs, method):
    return [r["test_accuracy"] for r in runs[method]]


def verdicts(res) -> dict:
    """The published claim and the LFM-vs-control comparisons, decided by paired t-tests over
    seeds (numbers from ``res`` only)."""
    out = {"controls": {}, "regimes": {}}
    for method, ctrl in CONTROL.items():
        if method in res["runs"] and ctrl in res["runs"]:
            out["controls"][method] = dict(
                _paired(_acc(res["runs"], method), _acc(res["runs"], ctrl)), control=ctrl
            )
    found = []
    for name, reg in res["regimes"].items():
        runs = reg["runs"]
        ceiling = float(np.mean([r["ternary_test"] for r in runs["float SGD"]]))
        sgd = float(np.mean(_acc(runs, "device SGD")))
        comb = float(np.mean(_acc(runs, "device SGD + LFM published")))
        test = _paired(
            _acc(runs, "device SGD + LFM published"),
            _acc(runs, "device SGD x2, bloomed init (budget control)"),
        )
        poor = 100 * (ceiling - sgd) > POOR_POINTS
        conv = 100 * (ceiling - comb) <= CONVERGED_POINTS
        better = test["diff"] > 0 and test["p"] == test["p"] and test["p"] < 0.05
        out["regimes"][name] = {
            "ceiling": ceiling,
            "sgd": sgd,
            "sgd_lfm_published": comb,
            "sgd_poor": poor,
            "lfm_converges": conv,
            "beats_budget_control": better,
            "vs_control": test,
        }
        if poor and conv and better:
            found.append(name)
    out["claim_regimes"] = found
    out["claim"] = "reproduced" if found else "not reproduced"
    return out


def _plots(res, out):
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.0, 4.0))
    for name, runs in res["runs"].items():
        H = np.array([r["val_history"] for r in runs])
        ep = np.arange(1, H.shape[1] + 1)
        ax.errorbar(ep, H.mean(0), yerr=H.std(0), marker="o", capsize=3, label=name)
    ax.axhline(0.1, color="grey", ls=":", label="chance")
    ax.set_ylim(0, 1)
    save_figure(fig, ax, out / "study2_accuracy.png", "epoch", "validation accuracy")

    fig, ax = pyplot.subplots(figsize=(7.0, 4.0))
    regs = list(res["regimes"])
    methods = [
        "device SGD",
        "device SGD x2, bloomed init (budget control)",
        "device SGD + LFM published",
        "device SGD + LFM reinforcing (xbar's earlier rule)",
        "device LFM published alone",
    ]
    w = 0.8 / len(methods)
    for k, m in enumerate(methods):
        vals = [np.mean(_acc(res["regimes"][r]["runs"], m)) for r in regs]
        errs = [np.std(_acc(res["regimes"][r]["runs"], m)) for r in regs]
        ax.bar(
            np.arange(len(regs)) + (k - len(methods) / 2 + 0.5) * w,
            vals,
            w,
            yerr=errs,
            capsize=2,
            label=m,
        )
    for i, r in enumerate(regs):
        c = np.mean([x["ternary_test"] for x in res["regimes"][r]["runs"]["float SGD"]])
        ax.hlines(
            c,
            i - 0.4,
            i + 0.4,
            colors="k",
            linestyles="--",
            label="binary-pair ceiling" if i == 0 else None,
        )
    ax.set_xticks(range(len(regs)), regs, rotation=15, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    save_figure(fig, ax, out / "study2_regimes.png", "regime (ideal reads)", "test accuracy")


def _rates_text(reg) -> str:
    """The rates a regime ran at: re-tuned on validation, or the main runs'."""
    tu = reg.get("tuning")
    if not tu:
        return "main runs' rates"
    r = tu["rates"]
    return (
        f"re-tuned on validation: lr {r['lr']}, LFM published {r['lfm_published_rate']}, "
        f"reinforcing {r['lfm_rate']}, alone {r['lfm_alone_rate']}"
    )


def _fmt_p(t: dict) -> str:
    if t["p"] != t["p"]:
        return f"Δ = {100 * t['diff']:+.1f} points (n = {t['n']}: no t-test)"
    return f"Δ = {100 * t['diff']:+.1f} points, paired t = {t['t']:.2f}, p = {t['p']:.3g} (n = {t['n']})"


def report(res) -> str:
    """Markdown section of study 2 (numbers from ``res`` only)."""
    cfg, runs = res["config"], res["runs"]
    ver = res["verdicts"]
    rates = res["tuning"]["rates"]
    L = ["## Study 2: SGD and learning from mistakes on stochastic binary devices (MNIST)", ""]
    if runs:
        _report_intro(res, L)
    L.append("### Published claim")
    L.append("")
    found = ver["claim_regimes"]
    L.append(
        f'- "SGD alone does not train sufficiently; SGD + LFM converges to high accuracy": '
        f"**{ver['claim']}**"
        + (f" in regime(s) {', '.join(found)}" if found else " in any regime searched")
        + f" (criteria: device SGD more than {POOR_POINTS:g} points below the binary-pair "
        f"ceiling, SGD + LFM published within {CONVERGED_POINTS:g} points of it, and better "
        "than its same-budget control by a paired t-test over seeds, p < 0.05; table below)."
    )
    for method, t in ver["controls"].items():
        sig = t["p"] == t["p"] and t["p"] < 0.05
        verdict = (
            "gain reproduced"
            if sig and t["diff"] > 0
            else "worse than control"
            if sig
            else "no significant difference"
        )
        L.append(
            f"- {method} vs {t['control']} (circuit reads, same update budget): "
            f"{_fmt_p(t)}: **{verdict}**."
        )
    L.append("")
    if runs:
        _report_main(res, L)
    L.append("### Regime search (ideal reads, subset: where does SGD alone train poorly?)")
    L.append("")
    rows = []
    for name, reg in res["regimes"].items():
        v = ver["regimes"][name]
        rr = reg["runs"]
        rows.append(
            [
                name,
                ", ".join(f"{k}={x}" for k, x in reg["overrides"].items()) or "-",
                f"{100 * v['ceiling']:.1f}",
            ]
            + [pm(_acc(rr, m)) for m in METHODS]
            + [
                _fmt_p(v["vs_control"]),
                "yes"
                if (v["sgd_poor"] and v["lfm_converges"] and v["beats_budget_control"])
                else "no",
                _rates_text(reg),
            ]
        )
    L.append(
        table(
            ["regime", "overrides", "binary-pair ceiling (%)"]
            + list(METHODS)
            + ["SGD + LFM published − its control", "claim holds", "rates"],
            rows,
        )
    )
    L.append("")
    n_reg = len(next(iter(res["regimes"].values()))["runs"]["device SGD"]) if res["regimes"] else 0
    L.append(
        f"Each regime: the first {cfg['regime_n_train']} training digits (fewer where the "
        "overrides say `regime_n_train`; validation and test splits as above), "
        f"{cfg['regime_epochs']} epochs, {n_reg} seeds, "
        "ideal reads of the device conductances (the circuit reads of the main runs are "
        "affordable only at batch updates). Few-level pairs (`FewLevelDevice`, "
        "`LevelPairWriter`): each device has the stated number of equally spaced levels "
        "between the HRS and LRS medians, one pulse moves one level, and the controller rounds "
        "each request to whole pulses capped per cell and update (`PulseMapping('proportional', "
        "max_pulses=...)`); their rates are re-chosen on the validation split per regime "
        f"(SGD lr from {list(cfg['regime_lr_grid'])}, LFM rates from "
        f"{list(cfg['regime_lfm_grid'])})."
    )
    L.append("")
    L.append("![regimes](study2_regimes.png)")
    L.append("")
    if runs:
        _report_energy(res, L)
    L.append("### Choices")
    L.append("")
    rows = [
        [
            g["rate"],
            g["method"],
            g["chosen"],
            g["source"],
            ", ".join(f"{k}: {100 * v:.1f} %" for k, v in g["grid"].items()) or "-",
            _grid_note(g),
        ]
        for g in res["tuning"]["grid"]
    ]
    L.append(
        table(["rate", "tuned on", "chosen", "how", "validation accuracy per value", "grid"], rows)
    )
    L.append("")
    L.append(
        f"- Rates (tuning runs: ideal reads, seed 0, {cfg['tune_n_train']} training digits, "
        f"{cfg['tune_epochs']} epochs): SGD lr {rates['lr']}, LFM published "
        f"{rates['lfm_published_rate']}, LFM reinforcing {rates['lfm_rate']}, LFM alone "
        f"{rates['lfm_alone_rate']}; selective punishment factor {cfg['selective_factor']} "
        f"(not tuned); active inputs above {cfg['active_threshold']}."
    )
    L.append(
        "- LFM published: blooming = every G+ fabricated in the LRS (w = +w_max on every "
        "synapse); pruning = on each misclassified sample, the active inputs' synapses to "
        "the wrong winner are depressed (RESET of G+, or SET of G- once G+ is in the HRS); "
        "synapses that were active in a correct answer of that class are depressed with "
        f"{cfg['selective_factor']} x the probability (selective punishment). Nothing is "
        "ever potentiated by this term."
    )
    L.append(
        "- Budget control: the same SGD request handed to the pulse controller twice per "
        "step (independent draws): as many pulse updates per step as SGD + LFM. Their "
        "switching-pulse counts are in the table."
    )
    L.append(
        f"- Updates every {cfg['batch_size']} samples (batch-mean request), {cfg['epochs']} "
        "epochs; pulse mapping "
        f"`{cfg['mapping']}` (cell (i, j) receives one pulse with probability "
        "|Δw_ij| / Δw_pulse, Δw_pulse = w_max × mean |ΔG| of one pulse / window: stochastic "
        "rounding calibrated to the switching statistics); "
        f"SET {cfg['set_amplitude']} V, RESET {cfg['reset_amplitude']} V, "
        f"{cfg['width'] * 1e9:.0f} ns (50 % switching for the median device)."
    )
    L.append(
        f"- Arrays at most {cfg['tile']} rows, {cfg['r_wire']} ohm per wire segment, "
        f"{cfg['dac_bits']}-bit DAC, {cfg['adc_bits']}-bit ADC; `StochasticBinaryReRAM` "
        f"with HRS {cfg['g_hrs'] * 1e6:g} µS / LRS {cfg['g_lrs'] * 1e6:g} µS medians (the "
        "model's illustrative 10 / 200 µS scaled by 1/5: at 200 µS the IR drop of 128-row "
        "tiles at 1 ohm made the read-out ~30 % wrong); the stochastic-binary model has no "
        "fitted measured preset in `xbar.devices.presets` (its parameters are illustrative "
        "HfO2 values)."
    )
    return "\n".join(L)


def _report_intro(res, L) -> None:
    runs = res["runs"]
    d = res["data"]
    dev = runs["device SGD"][0]["devices"]
    L.append(
        f"Data: MNIST, {d['n_train']} training / {d['n_val']} validation (held out of the "
        f"training digits) / {d['n_test']} test digits, pixels scaled to [0, 1], chance 10 %. "
        f"Model: softmax regression 784 -> 10 (+ bias row) on {dev} stochastic binary devices "
        "(differential pairs), forward passes through the circuit. Rates and epochs are chosen "
        "on the validation split; test accuracy is reported at each run's best validation "
        "epoch."
    )
    L.append("")


def _report_main(res, L) -> None:
    runs = res["runs"]
    L.append("### Ceilings and test accuracy (circuit reads; mean ± std over seeds)")
    L.append("")
    fl = runs["float SGD"]
    rows = [
        [
            "float SGD (ceiling of the network)",
            "float",
            len(fl),
            pm([r["test_accuracy"] for r in fl]),
            "-",
            "-",
        ],
        [
            "float SGD ternarised to {-w, 0, +w} (ceiling of a binary pair)",
            "float",
            len(fl),
            pm([r["ternary_test"] for r in fl]),
            "-",
            "-",
        ],
    ]
    for name in MAIN:
        rs = runs[name]
        rows.append(
            [
                name,
                "bloomed" if METHODS[name][1] == "bloom" else "all HRS",
                len(rs),
                pm([r["test_accuracy"] for r in rs]),
                " / ".join(str(r["best_epoch"]) for r in rs),
                f"{np.mean([np.mean(r['pulses_per_epoch']) for r in rs]):.3g}",
            ]
        )
    L.append(
        table(
            [
                "method",
                "initial state",
                "seeds",
                "test accuracy (%)",
                "epoch chosen on validation (per seed)",
                "switching pulses per epoch",
            ],
            rows,
        )
    )
    L.append("")
    pot = {m: sum(r["potentiated_cells"] for r in runs[m]) for m in MAIN}
    reinf = pot["device SGD + LFM reinforcing (xbar's earlier rule)"]
    L.append(
        f"No positive reinforcement: cells whose weight ended above its initial value after "
        f"LFM published alone: {pot['device LFM published alone']} (all seeds); after SGD + "
        f"LFM reinforcing: {reinf}."
    )
    L.append("")
    L.append("![validation accuracy vs epoch](study2_accuracy.png)")
    L.append("")


def _report_energy(res, L) -> None:
    runs = res["runs"]
    L.append("### Energy (booked; mean over seeds and epochs)")
    L.append("")
    rows = []
    for name in MAIN:
        rs = runs[name]
        rows.append(
            [
                name,
                fmt_energy(np.mean([np.mean(r["update_energy_per_epoch"]) for r in rs])),
                fmt_energy(
                    np.mean([np.mean(r.get("train_read_energy_per_epoch", [np.nan])) for r in rs])
                ),
                f"{np.mean([np.mean(r.get('train_conversions_per_epoch', [0])) for r in rs]):.3g}",
                fmt_energy(np.mean([np.mean(r["eval_energy_per_read"]) for r in rs])),
            ]
        )
    L.append(
        table(
            [
                "method",
                "update pulses per epoch (booked, device I-V)",
                "training reads per epoch (booked: array, DAC, TIA, ADC)",
                "ADC conversions of the training reads per epoch",
                "one inference read (booked: array, DAC, TIA, ADC)",
            ],
            rows,
        )
    )
    L.append("")
    L.append(
        "Every energy shown is booked, none estimated: the training forward passes book their "
        "circuit array energy, DAC, TIA and ADC as the evaluation reads do (categories "
        f"{', '.join(READ_CATS)}); the update column is everything else booked in training "
        "(the switching pulses' cells and, where there are any, half-selected cells)."
    )
    L.append("")
