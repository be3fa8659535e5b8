"""Study 2: SGD with learning from mistakes on stochastic binary devices (MNIST softmax regression).

After Nikiruy, Wenger, Ziegler, "Toward reliable gradient-based training on stochastic memristive
devices" (docs/references.rst, ref-nikiruy2025): softmax regression 784 -> 10 with each weight on a
differential pair of stochastic binary RRAM devices (``xbar.devices.StochasticBinaryReRAM``:
log-normal switching times, so a pulse switches a device with a probability set by its amplitude
and width; conductance redrawn from the state's log-normal distribution at each switch; d2d spread
of the state medians and switching times), forward passes through ``xbar.periphery.AnalogLinear``
(circuit solve with wire resistance, DAC, TIA, ADC). Compared: floating-point SGD, SGD alone on
the devices, SGD + learning from mistakes (``xbar.train.SoftmaxSGD(lfm_rate=...)``).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from common import (Progress, fmt_energy, mean_std, plt, pm, ranging_reader, save_figure,
                    table)


@dataclass
class Study2Config:
    """Configuration of study 2 (every field is reported)."""

    seeds: tuple = (0, 1, 2, 3, 4)
    epochs: int = 5
    batch_size: int = 500
    """Samples per update: 120 pulse updates per epoch (each one rebuilds the circuit maps)."""
    n_train: int | None = None
    """Training subset (None: all 60,000)."""
    n_test: int | None = None
    """Test subset (None: all 10,000)."""
    lr: float = 0.5
    """SGD learning rate (per sample; the batch mean is applied)."""
    lfm_rate: float = 0.05
    """Learning-from-mistakes rate η_LFM (chosen from 0.05, 0.15, 0.5 on a 20k/3k subset, 3 epochs,
    seed 0, ideal reads: 84.5, 84.0, 64.8 %; SGD alone at lr 0.5: 83.7 %)."""
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
    r_wire: float = 1.0
    """Wire resistance per cell pitch, ohm."""
    tile: int = 128
    """Largest array (rows); the 785 x 20 pair layer is split into 7 row tiles."""
    adc_bits: int = 8
    dac_bits: int = 8
    quick: bool = False


def default_config() -> Study2Config:
    return Study2Config()


def quick_config() -> Study2Config:
    return Study2Config(seeds=(0, 1), epochs=2, n_train=6000, n_test=2000, batch_size=200,
                        quick=True)


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
        from xbar.train.pulsed import _pulse_cells
        up, down = counts > 0, counts < 0
        lrs_p, lrs_m = pairs.arrays["+"].is_lrs, pairs.arrays["-"].is_lrs
        common = dict(width=self.width, cell=self.cell, bias_scheme=self.bias_scheme, kind="update",
                      mode=self.mode, rng=rng)
        plan = (("-", up & lrs_m, "reset"), ("+", up & ~lrs_m, "set"),
                ("+", down & lrs_p, "reset"), ("-", down & ~lrs_p, "set"))
        scheds = []
        for which, sel, pol in plan:
            if sel.any():
                amp = self.set_amplitude if pol == "set" else self.reset_amplitude
                scheds.append(_pulse_cells(pairs, which, sel.astype(np.int64), polarity=pol,
                                           amplitude=amp, **common))
        return [s for s in scheds if s.n_pulses]


def _data(cfg):
    from xbar.data import load_mnist
    Xtr, ytr = load_mnist("train")
    Xte, yte = load_mnist("test")
    ntr = cfg.n_train or len(ytr)
    nte = cfg.n_test or len(yte)
    # first n of a fixed permutation, so subsets keep the class balance
    ptr = np.random.default_rng(12345).permutation(len(ytr))[:ntr]
    pte = np.random.default_rng(54321).permutation(len(yte))[:nte]
    f = lambda X, p: X[p].reshape(len(p), -1) / 255.0   # noqa: E731
    return f(Xtr, ptr), ytr[ptr].astype(np.int64), f(Xte, pte), yte[pte].astype(np.int64)


def _device_net(cfg, rule, seed, ledger):
    import xbar.train as T
    from xbar._random import spawn
    from xbar.devices import StochasticBinaryReRAM
    from xbar.periphery import ADC, DAC, TIA, ArrayConfig
    from xbar.train.pulsed import PairArray, PulsedLayer

    model = StochasticBinaryReRAM(g_hrs=cfg.g_hrs, g_lrs=cfg.g_lrs)
    fab_p, fab_m, op = spawn(seed, 3)
    shape = (785, 10)                       # 784 pixels + bias row, 10 classes
    plus = model.sample(shape, random_state=fab_p)      # all devices in the HRS: w = 0
    minus = model.sample(shape, random_state=fab_m)
    pairs = PairArray(plus.G, minus.G, BinaryPairView(model), name="softmax",
                      arrays={"+": plus, "-": minus})
    reader = ranging_reader(array=ArrayConfig(max_rows=cfg.tile, max_cols=cfg.tile,
                                             r_wordline=cfg.r_wire, r_bitline=cfg.r_wire),
                           adc=ADC(bits=cfg.adc_bits), dac=DAC(bits=cfg.dac_bits, x_max=1.0),
                           tia=TIA(auto_gain="weights"), read_method="transfer",
                           random_state=seed + 1000)
    reader = EvalEnergyReader(reader)
    writer = StochasticPairWriter(cfg.set_amplitude, cfg.reset_amplitude, cfg.width)
    layer = PulsedLayer(pairs, writer, T.PulseMapping(cfg.mapping), w_max=cfg.w_max,
                        ledger=ledger, reader=reader, random_state=op)
    return T.Network([layer], 10), reader


class EvalEnergyReader:
    """A ``CircuitReader`` whose reads book energy only while ``energy`` is True.

    The energy quadratic forms of a 256 x 20 tile need its full driver admittance (M x M), ~10x
    the cost of the transfer matrix alone, and the training reads rebuild them after every
    update; so training reads run without booking (``TrainingReads``) and the read-path energy
    of training is estimated from the test pass at the end of the epoch (see ``run``).
    """

    def __init__(self, inner):
        self.inner = inner
        self.energy = True

    def __call__(self, x_aug, layer):
        analog = self.inner.analog(layer)
        analog.energy = self.energy
        return analog.forward(x_aug)


class TrainingReads:
    """Wrap a rule so that its training steps read through ``reader`` without energy booking."""

    def __init__(self, rule, reader):
        self.rule = rule
        self.reader = reader

    def step(self, net, x, y, rng):
        self.reader.energy = False
        try:
            return self.rule.step(net, x, y, rng)
        finally:
            self.reader.energy = True

    def __getattr__(self, name):
        return getattr(self.rule, name)


def run(cfg: Study2Config, out, progress: Progress) -> dict:
    """Run study 2; returns every number of the report (plots written into ``out``)."""
    import xbar.train as T
    from xbar.pulses import EnergyLedger

    t0 = time.monotonic()
    Xtr, ytr, Xte, yte = _data(cfg)
    progress(f"MNIST: {len(ytr)} training / {len(yte)} test digits ({time.monotonic() - t0:.1f} s)")
    res = {"config": asdict(cfg), "data": {"n_train": len(ytr), "n_test": len(yte)}, "runs": {}}
    methods = {"float SGD": dict(lr=cfg.lr), "device SGD": dict(lr=cfg.lr),
               "device SGD + LFM": dict(lr=cfg.lr, lfm_rate=cfg.lfm_rate,
                                        active_threshold=cfg.active_threshold)}
    for seed in cfg.seeds:
        for name, kw in methods.items():
            t1 = time.monotonic()
            rule = T.SoftmaxSGD(**kw)
            entry = {"seed": seed}
            if name == "float SGD":
                net = T.build_network(rule, 784, 10, [], random_state=seed)
                fit = T.fit(net, (Xtr, ytr), rule=rule, epochs=cfg.epochs, random_state=seed,
                            batch_size=cfg.batch_size, test=(Xte, yte), progress=False,
                            train_eval_samples=0)
            else:
                ledger = EnergyLedger()
                net, reader = _device_net(cfg, rule, seed, ledger)
                entry["devices"] = int(2 * net.layers[0].pairs.g_plus.size)
                wrapped = TrainingReads(rule, reader)
                history, entry["energy_per_epoch"], entry["pulses_per_epoch"] = [], [], []
                seeds_ep = np.random.SeedSequence(seed).spawn(cfg.epochs)
                for e in range(cfg.epochs):
                    before = _snapshot(ledger)
                    fit = T.fit(net, (Xtr, ytr), rule=wrapped, epochs=1, random_state=seeds_ep[e],
                                batch_size=cfg.batch_size, test=(Xte, yte), ledger=ledger,
                                train_eval_samples=0,
                                progress=progress.enabled and not cfg.quick)
                    history += fit.history
                    after = _snapshot(ledger)
                    d = {ph: {c: after[ph].get(c, 0.0) - before[ph].get(c, 0.0)
                              for c in after[ph]} for ph in ("train", "eval")}
                    # training reads: exact read-path energy per test sample of this epoch's
                    # test pass x training samples (same input distribution and conductances)
                    d["train_reads_estimated"] = {c: v * len(ytr) / len(yte)
                                                  for c, v in d["eval"].items()}
                    entry["energy_per_epoch"].append(d)
                    entry["pulses_per_epoch"].append(after["pulses"] - before["pulses"])
                fit.history = history
                lay = net.layers[0]
                entry["lrs_fraction"] = float(np.mean(np.concatenate(
                    [lay.pairs.arrays[s].is_lrs.ravel() for s in "+-"])))
                entry["dw_per_pulse"] = float(lay.dw_per_pulse)
            entry["history"] = [h["test_accuracy"] for h in fit.history]
            entry["train_loss"] = [h["train_loss"] for h in fit.history]
            entry["train_accuracy"] = [h["train_running_accuracy"] for h in fit.history]
            entry["test_accuracy"] = fit.history[-1]["test_accuracy"]
            entry["wall_s"] = time.monotonic() - t1
            res["runs"].setdefault(name, []).append(entry)
            progress(f"study 2 seed {seed} {name}: test accuracy by epoch "
                     f"{', '.join(f'{a:.3f}' for a in entry['history'])} [{entry['wall_s']:.0f} s]")
    _plots(res, out)
    return res


def _snapshot(ledger) -> dict:
    return {"train": ledger.totals("category", phase="train"),
            "eval": ledger.totals("category", phase="eval"),
            "pulses": ledger.count("write", phase="train")}


def _epoch_energy(entry, phase="train"):
    """Energy per epoch (J): "train" = update pulses (booked) + estimated training reads;
    "eval" = the test pass."""
    out = []
    for e in entry["energy_per_epoch"]:
        parts = [e["train"], e["train_reads_estimated"]] if phase == "train" else [e["eval"]]
        out.append(sum(sum(p.values()) for p in parts))
    return np.array(out)


def _plots(res, out):
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(5.5, 3.8))
    for name, runs in res["runs"].items():
        H = np.array([r["history"] for r in runs])
        ep = np.arange(1, H.shape[1] + 1)
        ax.errorbar(ep, H.mean(0), yerr=H.std(0), marker="o", capsize=3, label=name)
    ax.axhline(0.1, color="grey", ls=":", label="chance")
    ax.set_ylim(0, 1)
    save_figure(fig, ax, out / "study2_accuracy.png", "epoch", "test accuracy")

    fig, ax = pyplot.subplots(figsize=(5.5, 3.8))
    names = [n for n in res["runs"] if n != "float SGD"]
    w = 0.38
    for k, name in enumerate(names):
        E = np.array([_epoch_energy(r, "train") for r in res["runs"][name]])
        ep = np.arange(1, E.shape[1] + 1)
        ax.bar(ep + (k - 0.5) * w, E.mean(0), w, yerr=E.std(0), capsize=3, label=name)
    save_figure(fig, ax, out / "study2_energy.png", "epoch", "training energy per epoch (J)")


def report(res) -> str:
    """Markdown section of study 2 (numbers from ``res`` only)."""
    cfg, runs, d = res["config"], res["runs"], res["data"]
    L = ["## Study 2: SGD and learning from mistakes on stochastic binary devices (MNIST)", ""]
    dev = runs["device SGD"][0]["devices"]
    L.append(f"Data: MNIST, {d['n_train']} training / {d['n_test']} test digits, pixels scaled to "
             f"[0, 1], chance 10 %. Model: softmax regression 784 -> 10 (+ bias row) on "
             f"{dev} stochastic binary devices (differential pairs, all starting in the HRS, "
             "w = 0), forward passes through the circuit.")
    L.append("")
    L.append("### Test accuracy (mean ± std over seeds)")
    L.append("")
    n_ep = len(next(iter(runs.values()))[0]["history"])
    header = ["method", "seeds"] + [f"epoch {e + 1} (%)" for e in range(n_ep)]
    rows = []
    for name, rs in runs.items():
        H = np.array([r["history"] for r in rs])
        rows.append([name, len(rs)] + [pm(H[:, e]) for e in range(n_ep)])
    L.append(table(header, rows))
    L.append("")
    m_sgd, s_sgd = mean_std([r["test_accuracy"] for r in runs["device SGD"]])
    m_lfm, s_lfm = mean_std([r["test_accuracy"] for r in runs["device SGD + LFM"]])
    m_f, _ = mean_std([r["test_accuracy"] for r in runs["float SGD"]])
    L.append(f"Final: float SGD {100 * m_f:.1f} %, device SGD {100 * m_sgd:.1f} ± {100 * s_sgd:.1f} %, "
             f"device SGD + LFM {100 * m_lfm:.1f} ± {100 * s_lfm:.1f} % "
             f"(LFM − SGD: {100 * (m_lfm - m_sgd):+.1f} points). Published claim (abstract only): "
             "SGD alone trains poorly on such devices, SGD + LFM converges to high accuracy.")
    L.append("")
    L.append("![accuracy vs epoch](study2_accuracy.png)")
    L.append("")
    L.append("### Energy per epoch (device runs; mean over seeds)")
    L.append("")
    rows = []
    for name in ("device SGD", "device SGD + LFM"):
        rs = runs[name]
        tr = np.array([_epoch_energy(r, "train") for r in rs])
        ev = np.array([_epoch_energy(r, "eval") for r in rs])
        pulses = np.array([r["pulses_per_epoch"] for r in rs])
        parts = []
        for key, mark in (("train", ""), ("train_reads_estimated", "*")):
            cats = sorted({c for r in rs for e in r["energy_per_epoch"] for c, v in e[key].items()
                           if v > 0})
            for c in cats:
                per_epoch = np.mean([np.mean([e[key].get(c, 0.0) for e in r["energy_per_epoch"]])
                                     for r in rs])
                parts.append(f"{c}{mark} {fmt_energy(per_epoch)}")
        split = ", ".join(parts)
        rows.append([name, " / ".join(fmt_energy(v) for v in tr.mean(0)),
                     " / ".join(f"{v:.3g}" for v in pulses.mean(0)),
                     fmt_energy(ev.mean()), split])
    L.append(table(["method", "training energy, epoch 1 / 2 / ...", "switching pulses per epoch",
                    "test pass (10k reads)" if d["n_test"] == 10000 else "test pass",
                    "training energy by category (per epoch)"], rows))
    L.append("")
    L.append("Training energy = every switching pulse (booked per pulse from the device I-V) + the "
             "read path of the training forward passes (*: estimated as the test pass's exact "
             "read, DAC, TIA and ADC energy per sample at the end of that epoch times the training "
             "samples; the training reads themselves are computed through the circuit without "
             "booking, see Choices).")
    L.append("")
    L.append("![energy per epoch](study2_energy.png)")
    L.append("")
    lrs = {n: pm([r["lrs_fraction"] for r in runs[n]], 100, 1) for n in ("device SGD", "device SGD + LFM")}
    L.append(f"Devices in the LRS after training: SGD {lrs['device SGD']} %, SGD + LFM "
             f"{lrs['device SGD + LFM']} %. Nominal weight change of one pulse "
             f"{runs['device SGD'][0]['dw_per_pulse']:.3g} (w_max {cfg['w_max']}).")
    L.append("")
    L.append("### Choices")
    L.append("")
    L.append("- Training reads do not book energy: booking needs each tile's full driver admittance "
             "(rows x rows; measured in development at 0.41 s per rebuild of a 256 x 20 tile "
             "against 0.044 s for its transfer matrix alone), rebuilt after every update; the test "
             "pass after each epoch books everything exactly.")
    L.append(f"- Updates every {cfg['batch_size']} samples (batch-mean request), {cfg['epochs']} "
             "epochs: each update rebuilds the transfer maps of the "
             f"{-(-785 // cfg['tile'])} row tiles, the cost that sets the run time; per-sample "
             "updates of 60,000 digits were out of reach.")
    L.append(f"- Pulse mapping `{cfg['mapping']}`: cell (i, j) receives one pulse with probability "
             "|Δw_ij| / Δw_pulse (Δw_pulse = w_max × mean |ΔG| of one pulse / window), so the "
             "expected change follows the gradient; the device then switches with its own "
             f"probability (SET {cfg['set_amplitude']} V, RESET {cfg['reset_amplitude']} V, "
             f"{cfg['width'] * 1e9:.0f} ns: 50 % for the median device).")
    L.append(f"- SGD rate {cfg['lr']}; LFM rate {cfg['lfm_rate']} on inputs above "
             f"{cfg['active_threshold']} of misclassified samples (depress the wrong winner, "
             "reinforce the true class), applied as a second update in the same step through the "
             "same pulse mapping.")
    L.append(f"- Arrays at most {cfg['tile']} rows, {cfg['r_wire']} ohm per wire segment, "
             f"{cfg['dac_bits']}-bit DAC, {cfg['adc_bits']}-bit ADC; `StochasticBinaryReRAM` "
             f"with HRS {cfg['g_hrs'] * 1e6:g} µS / LRS {cfg['g_lrs'] * 1e6:g} µS medians (the "
             "model's 10 / 200 µS scaled by 1/5: at 200 µS the IR drop of 128-row tiles at 1 ohm "
             "made the read-out ~30 % wrong), otherwise defaults (c2c log-sigma 0.3 / 0.1, d2d "
             "0.1, switching-time d2d 0.5); TIA gains re-ranged from the stored conductances after "
             "every write.")
    return "\n".join(L)
