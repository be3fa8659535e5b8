"""Study 1: forward-only learning with reset-only updates on a four-class 224 x 224 image task.

After Renaudineau et al., arXiv:2601.09903 (docs/references.rst, ref-renaudineau2026): two-layer classifiers on
at most 8,064 devices, trained by two-pass supervised Forward-Forward and by a single-pass
competitive rule with sub-1 V reset-only single pulses, against backpropagation of the same
network in floating point; energy of reset-only updates vs program-and-verify for the same
training run, training vs inference-only energy, and accuracy after the arrays relax for 1 hour
to 1 month.

Pipeline: imagenette4 JPEGs -> fixed descriptor (``xbar.data.features``, 349-d) -> PCA whitening
fitted on the training split (unsupervised) -> D inputs -> two layers on differential HfOx pairs
(``xbar.devices.HfOxReRAM``: d2d window and step spread, c2c noise, relaxation and read noise),
forward passes through ``xbar.periphery.AnalogLinear`` (circuit solve with wire resistance,
DAC, TIA, ADC), updates by ``xbar.train.ResetOnlyWriter``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from dataclasses import replace as _replace

import numpy as np

from common import (
    Checkpoint,
    Progress,
    TeeWriter,
    device_count,
    evaluate_with_read_noise,
    fmt_energy,
    mean_std,
    plt,
    pm,
    ranging_reader,
    read_error,
    save_figure,
    search_grid,
    sync_from_devices,
    table,
)

DEVICE_BUDGET = 8064
PUBLISHED = {
    "ff": "89.5",
    "competitive": "89.6",
    "backprop": "90.0",
}  # docs/references.rst, ref-renaudineau2026 [A]
AGES = (("1 hour", 3600.0), ("1 day", 86400.0), ("1 week", 604800.0), ("1 month", 2592000.0))


@dataclass
class Study1Config:
    """Configuration of study 1 (every field is reported)."""

    seeds: tuple = (0, 1, 2, 3, 4)
    """Seeds (5, as the paper's 5 runs); each seeds weights, fabrication (d2d), cycle noise, data
    order and negatives."""
    n_components: int = 64
    """Front-end output dimension D (PCA of the 349-d descriptor, whitened)."""
    hidden: int = 36
    """Units per layer (both layers; a multiple of 4 for the competitive class groups)."""
    epochs: int = 10
    """Most epochs trained; a run stops earlier once its validation accuracy has not improved for
    ``patience`` epochs, and reports the test accuracy of its best validation epoch (with 3
    epochs FF's validation accuracy on the arrays was still rising at the last one in every
    seed: 32 -> 40 -> 49 %, seed 0)."""
    patience: int | None = 2
    """Epochs without a better validation accuracy after which a run stops (None: train all
    ``epochs``).  The analyses after training (read error, stability) use the network as it is
    when the run stops, at most ``patience`` epochs past its best one."""
    val_fraction: float = 0.15
    """Fraction of each class's training images held out for validation (epochs chosen on it)."""
    batch_size: int = 20
    """Samples per update: one pulse update per 20 samples (the circuit maps are rebuilt after
    every update, the cost that sets the run time)."""
    max_per_class_train: int | None = None
    max_per_class_test: int | None = None
    ff_lr: float | None = None
    """FF learning rate; None: chosen on the validation split from ``ff_lr_grid``."""
    ff_threshold: float = 1.0
    competitive_lr: float | None = None
    """Competitive learning rate; None: chosen on the validation split."""
    backprop_lr: float | None = None
    """Backprop learning rate; None: chosen on the validation split."""
    ff_lr_grid: tuple = (0.1, 0.3, 1.0)
    competitive_lr_grid: tuple = (0.025, 0.1, 0.4)
    backprop_lr_grid: tuple = (0.01, 0.03, 0.1)
    """Grids searched on the validation split: x3-x4 steps down from the earlier study's 1.0 / 0.4
    / 0.1 (chosen on the test split), which a first search on (0.3, 1, 3) / (0.1, 0.4, 1.6) /
    (0.03, 0.1) found too high for the pulsed network (validation: FF 69.1 / 60.5 / 52.8 %,
    competitive 74.1 / 70.3 / 64.0 %, backprop 76.6 / 72.2 %); a choice at a grid edge is
    flagged in the report, and the tuner extends a grid beyond an edge choice (``tune_extend``):
    tuned through the circuit (``tune_level="arrays"``) every rule's best rate was the upper edge
    of these grids (validation: FF 50.2 % at 1.0, competitive 69.4 % at 0.4, backprop 74.1 % at
    0.1)."""
    tune_split: str = "validation"
    """Split the rates and epochs are chosen on (the test split chooses nothing)."""
    tune_level: str = "ideal reads"
    """Network the rates are tuned on: ``"ideal reads"``, the pulsed network with ideal reads of
    the same pulses, or ``"arrays"``, the same network read through the circuit (the level the
    published claims are about); seed ``tune_seed``, one rate per rule for every level."""
    tune_extend: int = 3
    """Grid points that may be added per rule beyond the grid given: while the best rate is the
    grid's smallest or largest, the next rate one grid step beyond that edge is tuned too
    (``common.search_grid``); the points added are reported, and a choice still at the edge
    after them is flagged."""
    tune_seed: int = 100
    """Seed of the tuning runs (not one of the reported seeds)."""
    tune_epochs: int = 4
    """Most epochs of each tuning run (stopped early as the reported runs, ``patience``); the best
    validation epoch over them is recorded."""
    w_max: float = 1.0
    """Weight of a pair at full window (dimensionless)."""
    device_overrides: tuple = ()
    """``(field, value)`` pairs changed from the fitted preset ``HfOxReRAM()`` (empty: every
    device parameter from ``xbar.devices.presets``; sources in ``presets.PROVENANCE``)."""
    mapping: str = "stochastic"
    """Pulse per cell with probability |Δw|/Δw_pulse (at most one pulse per cell per update)."""
    mapping_threshold: float = 0.0
    """τ of ``mapping="threshold"`` (weight units; 0 = one sign pulse wherever Δw != 0)."""
    reset_amplitude: float = 0.8
    """Reset pulse amplitude, V (sub-1 V; the fitted preset's reset reference amplitude)."""
    reset_width: float = 100e-9
    """Reset pulse width, s (the preset's reference width)."""
    r_wire: float = 1.0
    """Word- and bit-line resistance per cell pitch, ohm (ArrayConfig default)."""
    cell: str = "1T1R"
    """Cell of the arrays (the paper's HfOx/Ti arrays are transistor-selected); ``variant_cell``
    is run on ``variant_seeds`` as the passive variant."""
    r_access: float = 200.0
    """Access-transistor on-resistance of 1T1R cells, ohm: **assumed** (see ``SOURCES``)."""
    variant_cell: str = "0T1R"
    variant_seeds: tuple = (0,)
    tile: int = 64
    """Largest array (rows and columns): with the fitted window (up to 0.58 mS) and 1 ohm
    wires, 128-row tiles read 80 % wrong at initialisation, 64-row tiles 76 % (1T1R, 200 ohm;
    0T1R 73 %), 50 random inputs, the competitive net of the full run."""
    adc_bits: int = 8
    dac_bits: int = 8
    dac_x_max: float = 4.0
    """DAC full scale in input units (whitened features and length-normalised activities)."""
    program_verify_shadow: bool = True
    shadow_every: int = 20
    """Program-and-verify shadow of every 20th update (its simulation costs ~50x a reset update)."""
    pv_set_ramp: tuple = (0.6, 0.1, 1.5)
    """Program-and-verify SET ramp (v_start, v_step, v_stop), V (``SOURCES``)."""
    pv_reset_ramp: tuple = (0.5, 0.1, 1.5)
    """Program-and-verify RESET ramp, V."""
    pv_width: float = 100e-9
    """Program-and-verify pulse width, s."""
    pv_max_pulses: int = 20
    """Program-and-verify pulses per cell and update."""
    pv_atol: float | None = None
    """Verify band, S; None: half the reset-only step (the smallest request resolvable)."""
    drift_preset: str = "stanford_tech_c"
    """Preset (``xbar.devices.presets.<name>()``) whose relaxation law (``drift_t0``,
    ``drift_x``, ``drift_rate``, ``drift_sigma``: relative to the window) ages the devices: tech C
    is the longest measured relaxation (reads to 1e5 s). "" keeps the fitted HfOx preset's own
    (tech B, t <= 100 s)."""
    quick: bool = False


SOURCES = {
    "r_access": (
        "assumed",
        "no source in docs/references.rst bears on the on-resistance of a transistor sized for "
        "these devices; NeuroSim's default 15 kohm (ref-read-write-energy [C]) is 9x the fitted "
        "LRS (1.72 kohm) and leaves the transistor setting the current (measured read-out error "
        "99.6 %, 16-input quick net); 200 ohm is ~0.1 of the LRS; a literature search for the "
        "on-resistance or gate voltage of access transistors in 1T1R HfOx arrays found none "
        "stated for arrays of this device",
    ),
    "pv_set_ramp": (
        "assumed (range cited)",
        "incremental-step SET inside the 1-2 V SET range of 1T1R HfOx pulses "
        "(ref-read-write-energy [U/H]), started below it; the step-pulse-with-verify scheme "
        "itself as in Perez et al.'s 4-kbit 1T1R HfO2 arrays (ref-learning-from-mistakes, "
        "related IHP work [A]; the multi-level step-pulse-with-verify algorithm on those arrays: "
        "Perez et al., Optimization of multi-level operation in RRAM arrays for in-memory "
        "computing, Electronics 10(9):1084, 2021, doi:10.3390/electronics10091084); MemTorch's "
        "write-verify uses +-1 V [C]; no published start, step or ceiling of a 1T1R HfOx ramp was "
        "reachable in this study's literature search, so the values stay assumed",
    ),
    "pv_reset_ramp": (
        "assumed",
        "starts at the HfOx preset's reset threshold 0.5 V (presets.PROVENANCE reset_v_th, "
        "itself assumed), same step and ceiling as the SET ramp",
    ),
    "pv_width": (
        "assumed (range cited)",
        "100 ns: within the 10 ns-1 us of 1T1R HfOx pulses [U/H]; NeuroSim writes for 80 ns [C] "
        "(ref-read-write-energy); the reset-only pulse's width, so both sides compare equal widths",
    ),
    "pv_max_pulses": (
        "assumed (range cited)",
        "within the 5-50 program-and-verify rounds of ref-read-write-energy [H]; the rounds a "
        "verify scheme needs depend on its parameters (Puglisi, Wenger, Pavan, A novel "
        "program-verify algorithm for multi-bit operation in HfO2 RRAM, IEEE Electron Device "
        "Lett., 2015, doi:10.1109/LED.2015.2464256; RADAR: a fast and energy-efficient "
        "programming technique for multiple bits-per-cell RRAM arrays, IEEE Trans. Electron "
        "Devices, 2021, doi:10.1109/TED.2021.3097975), no count for this device was found",
    ),
    "pv_atol": (
        "assumed",
        "half the reset-only step: the smallest request the mapping makes stays resolvable",
    ),
    "verify read": (
        "the read path's",
        "v_read and t_read of the study's DAC (0.2 V below NeuroSim's 0.5 V [H]; 100 ns, "
        "ref-dac-driver-energy [C]); every verify read through the read periphery",
    ),
    "verify-read periphery": (
        "cited",
        "DAC/driver 3.89 uW per word line and TIA 9.7 nW per channel for t_read (PUMA/ISAAC "
        "constants, ref-dac-driver-energy [C]); ADC the Murmann-survey median for its bits "
        "(8 bit: 9.1 pJ, ref-adc-energy [C])",
    ),
}
"""Status and source of every program-and-verify and access-transistor choice (printed in the
report; "assumed" where no source bears on the value)."""


def quick_config() -> Study1Config:
    return Study1Config(
        seeds=(0, 1),
        epochs=2,
        batch_size=20,
        max_per_class_train=60,
        max_per_class_test=25,
        n_components=16,
        hidden=8,
        shadow_every=20,
        variant_seeds=(0,),
        ff_lr_grid=(1.0, 3.0),
        competitive_lr_grid=(0.4,),
        backprop_lr_grid=(0.1,),
        tune_epochs=2,
        tune_extend=1,
        quick=True,
    )


def _features(cfg: Study1Config, progress):
    """Front-end features: training / validation (held out per class) / test, PCA fitted on the
    training part only."""
    from xbar.data.features import PCAProjection, feature_dimension, image_folder_features

    t0 = time.monotonic()
    Ftr, ytr, classes = image_folder_features(split="train", max_per_class=cfg.max_per_class_train)
    Fte, yte, _ = image_folder_features(split="test", max_per_class=cfg.max_per_class_test)
    rng = np.random.default_rng(777)
    val = np.zeros(len(ytr), dtype=bool)
    for c in np.unique(ytr):
        idx = np.flatnonzero(ytr == c)
        val[rng.choice(idx, int(round(cfg.val_fraction * len(idx))), replace=False)] = True
    Fv, yv, Ftr, ytr = Ftr[val], ytr[val], Ftr[~val], ytr[~val]
    pca = PCAProjection(cfg.n_components).fit(Ftr)
    progress(
        f"features: {Ftr.shape[0]} train / {Fv.shape[0]} validation / {Fte.shape[0]} test "
        f"images, {feature_dimension()}-d descriptor -> {cfg.n_components} PCA inputs "
        f"({time.monotonic() - t0:.1f} s)"
    )
    return dict(
        Xtr=pca.transform(Ftr),
        ytr=ytr,
        Xval=pca.transform(Fv),
        yval=yv,
        Xte=pca.transform(Fte),
        yte=yte,
        classes=classes,
        d_raw=Ftr.shape[1],
        pca_var=float(np.sum(pca.explained_variance_ratio_)),
    )


RULES = ("ff", "competitive", "backprop")
EARLIER_LRS = {"ff": 1.0, "competitive": 0.4, "backprop": 0.1}
"""The earlier study's rates (chosen then on the test split): the centres of this study's grids,
and the rates of runs that do not tune (``sensitivity.py``)."""


def fixed_rates(cfg) -> dict:
    """Rates of a run without tuning: the configured ones, else ``EARLIER_LRS``."""
    return {n: getattr(cfg, f"{n}_lr") or EARLIER_LRS[n] for n in RULES}


def _rule(cfg, name: str, lr: float):
    """One rule at learning rate ``lr``, with the conventions of this study (the rules'
    defaults are MNIST's)."""
    return _rules(cfg, {name: lr})[name]


def _rules(cfg, lrs: dict):
    import xbar.train as T

    out = {}
    if "ff" in lrs:
        out["ff"] = T.ForwardForward(
            lr=lrs["ff"],
            threshold=cfg.ff_threshold,
            goodness="mean",
            normalize_input=False,
            peer_norm=0.0,
        )
    if "competitive" in lrs:
        out["competitive"] = T.Competitive(lr=lrs["competitive"], normalize_input=False)
    if "backprop" in lrs:
        out["backprop"] = T.Backprop(lr=lrs["backprop"], readout="group_goodness")
    return out


def _tune(cfg, data, n_in, ckpt, progress) -> dict:
    """Learning rate per rule chosen on the validation split: each grid value trains the pulsed
    network with ideal reads or through the circuit (``tune_level``; seed ``tune_seed``,
    ``tune_epochs`` epochs); the value with the best validation accuracy (at its best epoch) is
    chosen.  The test split is not read."""
    from xbar.exceptions import ConfigError
    from xbar.pulses import EnergyLedger

    if cfg.tune_level not in ("ideal reads", "arrays"):
        raise ConfigError(f"tune_level must be 'ideal reads' or 'arrays', got {cfg.tune_level!r}")

    rates, grid_log = {}, []
    tcfg = _replace(cfg, epochs=cfg.tune_epochs)
    for name in RULES:
        fixed = getattr(cfg, f"{name}_lr")
        if fixed is not None:
            rates[name] = fixed
            grid_log.append({"rule": name, "chosen": fixed, "grid": {}, "source": "configuration"})
            continue

        def score(lr, name=name):
            def compute():
                rule = _rule(cfg, name, lr)
                net = _hardware_net(
                    tcfg,
                    rule,
                    n_in,
                    cfg.tune_seed,
                    EnergyLedger(),
                    EnergyLedger(),
                    EnergyLedger(),
                    circuit=cfg.tune_level == "arrays",
                )
                return _train(net, rule, data, tcfg, cfg.tune_seed, with_test=False)

            r = ckpt.get(f"tune/{name}/{lr!r}", compute)
            return max(r["val_history"]), r["best_epoch"]

        found = search_grid(getattr(cfg, f"{name}_lr_grid"), score, max_extend=cfg.tune_extend)
        scores, best = found["scores"], found["best"]
        rates[name] = best
        grid_log.append(
            {
                "rule": name,
                "chosen": best,
                "grid": {repr(k): v[0] for k, v in sorted(scores.items())},
                "best_epoch": {repr(k): v[1] for k, v in sorted(scores.items())},
                "given": found["given"],
                "extended": found["extended"],
                "at_grid_edge": found["at_edge"],
                "source": f"best {cfg.tune_split} accuracy ({cfg.tune_level}, seed "
                f"{cfg.tune_seed}, {cfg.tune_epochs} epochs)",
            }
        )
        progress(
            f"tuning {name}: "
            + ", ".join(
                f"lr {k} -> {100 * v[0]:.1f} % (epoch {v[1]})" for k, v in sorted(scores.items())
            )
            + f" ({cfg.tune_split}); chosen {best}"
            + (f"; grid extended by {found['extended']}" if found["extended"] else "")
            + (" (still at the grid's edge)" if found["at_edge"] else "")
        )
    return {"rates": rates, "grid": grid_log, "split": cfg.tune_split, "level": cfg.tune_level}


DRIFT_FIELDS = ("drift_t0", "drift_x", "drift_rate", "drift_sigma")


def drift_preset(cfg):
    """The preset named by ``cfg.drift_preset`` (None for "")."""
    from xbar.devices import presets

    if not cfg.drift_preset:
        return None
    return getattr(presets, cfg.drift_preset)()


def device_model(cfg):
    """The fitted measured preset ``HfOxReRAM()`` with the relaxation law of
    ``cfg.drift_preset`` (fields ``DRIFT_FIELDS``, relative to the window) and
    ``cfg.device_overrides`` applied."""
    from xbar.devices import HfOxReRAM

    kw = {}
    src = drift_preset(cfg)
    if src is not None:
        kw = {k: getattr(src, k) for k in DRIFT_FIELDS}
    kw.update(dict(cfg.device_overrides))
    return HfOxReRAM(**kw)


def _hardware_net(
    cfg, rule, n_in, seed, ledger, shadow_ledger, sampled_ledger, *, cell=None, circuit: bool = True
):
    import xbar.train as T
    from xbar.periphery import ADC, DAC, TIA, ArrayConfig

    cell = cfg.cell if cell is None else cell
    reader = None
    adc = ADC(bits=cfg.adc_bits or None)
    dac = DAC(bits=cfg.dac_bits or None, x_max=cfg.dac_x_max)
    tia = TIA(auto_gain="weights")
    if circuit:
        reader = ranging_reader(
            array=ArrayConfig(
                max_rows=cfg.tile,
                max_cols=cfg.tile,
                r_wordline=cfg.r_wire,
                r_bitline=cfg.r_wire,
                cell=cell,
                r_access=cfg.r_access if cell == "1T1R" else None,
            ),
            adc=adc,
            dac=dac,
            tia=tia,
            read_method="transfer",
            random_state=seed + 1000,
        )
    # unselected cells: transistors off in 1T1R arrays, V/2 on the passive variant (booked)
    reset = T.ResetOnlyWriter(
        amplitude=cfg.reset_amplitude, width=cfg.reset_width, cell=cell, bias_scheme="half"
    )
    writer = TeeWriter(
        reset,
        pv_writer(cfg, dac, tia, adc),
        shadow_ledger,
        sampled_ledger,
        every=cfg.shadow_every,
        random_state=seed + 2000,
    )
    writer.enabled = cfg.program_verify_shadow and circuit and cell == cfg.cell
    mapping = T.PulseMapping(cfg.mapping, threshold=cfg.mapping_threshold)
    factory = T.pulsed_layer_factory(
        device_model(cfg), writer, mapping, w_max=cfg.w_max, ledger=ledger, reader=reader
    )
    net = T.build_network(
        rule, n_in, 4, [cfg.hidden, cfg.hidden], layer_factory=factory, random_state=seed
    )
    for layer in net.layers:
        writer.attach(layer)
    return net


def pv_writer(cfg, dac, tia, adc):
    """The program-and-verify writer of the shadow: ramps, width, budget and band from ``cfg``;
    verify reads at the read path's voltage and time, through its DAC, TIA and ADC."""
    import xbar.train as T
    from xbar.pulses import Ramp
    from xbar.pulses.energy import ReadPeriphery

    return T.ProgramVerifyWriter(
        set_ramp=Ramp(*cfg.pv_set_ramp),
        reset_ramp=Ramp(*cfg.pv_reset_ramp),
        width=cfg.pv_width,
        max_pulses=cfg.pv_max_pulses,
        atol=cfg.pv_atol,
        v_read=dac.v_read,
        t_read=dac.t_read,
        read_periphery=ReadPeriphery.from_components(dac, tia, adc),
    )


_UPDATE_CATS = ("write", "half_selected", "refresh", "verify", "wires", "word_drivers", "sense")
_UPDATE_ARRAY_CATS = ("write", "half_selected", "refresh")
_READ_CATS = ("read", "dac", "tia", "adc")
_READ_ARRAY_CATS = ("read",)

RATIO_DEFINITIONS = {
    "pv_over_reset_array": (
        "P&V / reset-only, array only",
        "device energy of the program-and-verify pulses and verify-read "
        "currents / device energy of the reset pulses, for identical update "
        "requests (the sampled updates); reading: the paper's 460x compares "
        "the cells' programming energy",
    ),
    "pv_over_reset_full": (
        "P&V / reset-only, with verify reads through the read periphery",
        "as above, plus the read periphery of every verify read, booked: its "
        "word line's DAC/driver and its bit line's TIA for the read time and "
        "one conversion of the read path's ADC; reading: 460x as the cost of "
        "conventional programming including its verify reads",
    ),
    "updates_over_inference_array": (
        "updates / inference, array only",
        "cell energy of the update pulses (write, half-selected, "
        "refresh) per training sample / array read energy of one "
        "test classification (FF: one pass per label); reading: "
        "+46 % as update cost per sample against inference",
    ),
    "updates_over_inference_full": (
        "updates / inference, full system",
        "all booked update energy (cells, half-selected cells, "
        "refresh, verify, wires, drivers) per training sample / all "
        "booked read energy (array, DAC, TIA, ADC) of one test "
        "classification",
    ),
    "updates_over_train_reads_array": (
        "learning over inference-only operation, array only",
        "cell energy of the updates / array energy of the "
        "training forward passes (FF: 2 per sample): what "
        "learning adds to running the same passes without "
        "updates; reading: +46 % over inference-only operation",
    ),
    "updates_over_train_reads_full": (
        "learning over inference-only operation, full system",
        "all booked update energy / all booked read energy of the training forward passes",
    ),
}
CHANCE_MARGIN = 0.10
"""The relative claim is testable only when both accuracies exceed chance (25 %) by this."""
PRIMARY_46 = "updates_over_train_reads_full"
"""The definition the +46 % verdict uses (fixed before the run; every other one is printed)."""


def _energy_summary(ledger, shadow, sampled, n_train_samples, n_eval_samples):
    tc = ledger.totals("category", phase="train")
    ec = ledger.totals("category", phase="eval")
    s = lambda d, cats: sum(d.get(c, 0.0) for c in cats)  # noqa: E731
    up_full, up_arr = s(tc, _UPDATE_CATS), s(tc, _UPDATE_ARRAY_CATS)
    rd_full, rd_arr = s(tc, _READ_CATS), s(tc, _READ_ARRAY_CATS)
    inf_full = s(ec, _READ_CATS) / n_eval_samples
    inf_arr = s(ec, _READ_ARRAY_CATS) / n_eval_samples
    e_pv, e_sampled = shadow.total(), sampled.total()
    e_pv_array = e_pv - sum(shadow.total(c) for c in ("dac", "tia", "adc"))  # verify periphery
    nan = float("nan")
    ratios = {
        "pv_over_reset_array": e_pv_array / e_sampled if e_sampled > 0 else nan,
        "pv_over_reset_full": e_pv / e_sampled if e_sampled > 0 else nan,
        "updates_over_inference_array": (up_arr / n_train_samples) / inf_arr if inf_arr else nan,
        "updates_over_inference_full": (up_full / n_train_samples) / inf_full if inf_full else nan,
        "updates_over_train_reads_array": up_arr / rd_arr if rd_arr else nan,
        "updates_over_train_reads_full": up_full / rd_full if rd_full else nan,
    }
    return {
        "by_category_train_J": tc,
        "by_category_eval_J": ec,
        "shadow_by_category_J": shadow.totals("category"),
        "update_J": up_full,
        "update_array_J": up_arr,
        "train_read_J": rd_full,
        "train_read_array_J": rd_arr,
        "pv_sampled_J": e_pv,
        "reset_sampled_J": e_sampled,
        "inference_per_sample_J": inf_full,
        "inference_array_per_sample_J": inf_arr,
        "update_per_sample_J": up_full / n_train_samples,
        "ratios": ratios,
        "update_pulses": ledger.count("write", phase="train"),
        "pv_pulses": shadow.count("write"),
        "pv_verify_reads": shadow.count("verify"),
        "pv_verify_periphery_J": {c: shadow.total(c) for c in ("dac", "tia", "adc")},
        "reset_pulses_sampled": sampled.count("write"),
    }


def _train(net, rule, data, cfg, seed, ledger=None, show=False, with_test: bool = True) -> dict:
    """Up to ``cfg.epochs`` epochs, stopped after ``cfg.patience`` epochs without a better
    validation accuracy; validation and test accuracy after each; the reported test accuracy is
    that of the best validation epoch (the test split chooses nothing; ``with_test=False``: not
    read at all, for tuning)."""
    import xbar.train as T

    val, test = [], []
    seeds_ep = np.random.SeedSequence(seed).spawn(cfg.epochs)
    for e in range(cfg.epochs):
        if cfg.patience is not None and val and e - 1 - int(np.argmax(val)) >= cfg.patience:
            break
        T.fit(
            net,
            (data["Xtr"], data["ytr"]),
            rule=rule,
            epochs=1,
            random_state=seeds_ep[e],
            batch_size=cfg.batch_size,
            ledger=ledger,
            train_eval_samples=0,
            progress=show,
        )
        val.append(T.evaluate(net, rule, data["Xval"], data["yval"], ledger=ledger))
        if with_test:
            test.append(T.evaluate(net, rule, data["Xte"], data["yte"], ledger=ledger))
    best = int(np.argmax(val))
    out = {"val_history": val, "best_epoch": best + 1}
    if with_test:
        out.update(test_history=test, test_accuracy=test[best])
    return out


def _front_end_ceiling(data, grid=(0.01, 0.1, 1.0, 10.0), max_extend: int = 3) -> dict:
    """Best float classifier of the front end: multinomial logistic regression on the study's D
    inputs, L2 strength chosen on validation (the grid extended beyond an edge choice,
    ``common.search_grid``)."""
    from sklearn.linear_model import LogisticRegression

    def score(C):
        m = LogisticRegression(C=C, max_iter=2000).fit(data["Xtr"], data["ytr"])
        return m.score(data["Xval"], data["yval"]), m.score(data["Xte"], data["yte"])

    found = search_grid(grid, score, max_extend=max_extend)
    scores, C = found["scores"], found["best"]
    return {
        "C": C,
        "val": scores[C][0],
        "test_accuracy": scores[C][1],
        "grid": {str(c): v[0] for c, v in sorted(scores.items())},
        "extended": found["extended"],
        "at_grid_edge": found["at_edge"],
    }


def _stability(net, rule, data, seed) -> dict:
    rng = np.random.default_rng(seed + 3000)
    stab = {"0 s": evaluate_with_read_noise(net, rule, data["Xte"], data["yte"], rng)}
    t_prev = 0.0
    for label, t in AGES:
        for layer in net.layers:
            for arr in layer.pairs.arrays.values():
                arr.age(t - t_prev, random_state=rng)
            sync_from_devices(layer)
        t_prev = t
        stab[label] = evaluate_with_read_noise(net, rule, data["Xte"], data["yte"], rng)
    return stab


def run(cfg: Study1Config, out, progress: Progress) -> dict:
    """Run study 1; returns every number of the report (and writes the plots into ``out``)."""

    data = _features(cfg, progress)
    n_in = data["Xtr"].shape[1]
    ckpt = Checkpoint(None if out is None else out / "partial.json", asdict(cfg))
    tuned = _tune(cfg, data, n_in, ckpt, progress)
    rules = _rules(cfg, tuned["rates"])
    res = {
        "config": asdict(cfg),
        "data": {
            "n_train": len(data["ytr"]),
            "n_val": len(data["yval"]),
            "n_test": len(data["yte"]),
            "classes": data["classes"],
            "d_raw": data["d_raw"],
            "pca_variance": data["pca_var"],
        },
        "device": {
            k: v for k, v in asdict(device_model(cfg)).items() if isinstance(v, (int, float, str))
        },
        "front_end": _front_end_ceiling(data, (0.1, 1.0) if cfg.quick else (0.01, 0.1, 1.0, 10.0)),
        "tuning": tuned,
        "drift_source": getattr(drift_preset(cfg), "source", "HfOxReRAM() preset (tech B)"),
        "runs": {},
    }
    progress(f"front-end ceiling (logistic regression): {res['front_end']['test_accuracy']:.3f}")
    for seed in cfg.seeds:
        for name in RULES:
            rule = rules[name]
            entry = ckpt.get(
                f"run/{seed}/{name}",
                lambda: _seed_run(cfg, rule, name, data, n_in, seed, progress),
            )
            res["runs"].setdefault(name, []).append(entry)
            progress(
                f"study 1 seed {seed} {name}: arrays {entry['test_accuracy']:.3f}, ideal reads "
                f"{entry['ideal_reads']['test_accuracy']:.3f}, float "
                f"{entry['float']['test_accuracy']:.3f} [{entry['wall_s']:.0f} s]"
            )
    res["resumed_pieces"] = ckpt.resumed  # their compute time is not in this run's wall time
    if ckpt.resumed:
        progress(f"resumed {ckpt.resumed} completed pieces from {ckpt.path}")
    res["verdicts"] = verdicts(res)
    _plots(res, out)
    return res


def _seed_run(cfg, rule, name, data, n_in, seed, progress) -> dict:
    """One seed of one rule: float, ideal reads, the arrays (energy, stability), the variant."""
    import xbar.train as T
    from xbar.pulses import EnergyLedger

    t0 = time.monotonic()
    entry = {"seed": seed}
    fnet = T.build_network(rule, n_in, 4, [cfg.hidden, cfg.hidden], random_state=seed)
    entry["float"] = _train(fnet, rule, data, cfg, seed)
    # the same pulses with ideal reads of the conductances (no circuit, no converters)
    inet = _hardware_net(
        cfg, rule, n_in, seed, EnergyLedger(), EnergyLedger(), EnergyLedger(), circuit=False
    )
    entry["ideal_reads"] = _train(inet, rule, data, cfg, seed)
    ledger, shadow, sampled = EnergyLedger(), EnergyLedger(), EnergyLedger()
    net = _hardware_net(cfg, rule, n_in, seed, ledger, shadow, sampled)
    entry["devices"] = device_count(net)
    entry.update(
        _train(net, rule, data, cfg, seed, ledger, show=progress.enabled and not cfg.quick)
    )
    trained = len(entry["val_history"])  # epochs run on the arrays (early stopping)
    entry["epochs_trained"] = trained
    entry["energy"] = _energy_summary(
        ledger,
        shadow,
        sampled,
        trained * len(data["ytr"]),
        trained * (len(data["yval"]) + len(data["yte"])),
    )
    entry["passes_per_prediction"] = rule.passes_per_prediction(net)
    entry["read_error"] = read_error(net, rule, data["Xte"][:500])
    entry["refreshes"] = ledger.count("refresh", phase="train")
    if name != "backprop":
        entry["stability"] = _stability(net, rule, data, seed)
    if seed in cfg.variant_seeds:
        vnet = _hardware_net(
            cfg,
            rule,
            n_in,
            seed,
            EnergyLedger(),
            EnergyLedger(),
            EnergyLedger(),
            cell=cfg.variant_cell,
        )
        entry["variant"] = _train(vnet, rule, data, cfg, seed)
    entry["wall_s"] = time.monotonic() - t0
    return entry


def _paired(a, b) -> dict:
    """Paired t-test of a − b over seeds, with the 95 % confidence interval of the mean
    difference."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    d = a - b
    n = len(d)
    if n < 2 or np.allclose(d, d[0]):
        return {
            "diff": float(d.mean()),
            "t": float("nan"),
            "p": float("nan"),
            "n": n,
            "ci95": [float(d.mean())] * 2,
        }
    t, p = stats.ttest_rel(a, b)
    h = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
    return {
        "diff": float(d.mean()),
        "t": float(t),
        "p": float(p),
        "n": n,
        "ci95": [float(d.mean() - h), float(d.mean() + h)],
    }


def _accs(res, name, level=None):
    rs = res["runs"][name]
    return [r["test_accuracy"] if level is None else r[level]["test_accuracy"] for r in rs]


def verdicts(res) -> list:
    """One entry per published claim: the claim, "reproduced" / "not reproduced", and the
    statistic that decides it (numbers from ``res`` only)."""
    out = []
    for name in ("ff", "competitive"):
        for ref, level in (("backprop in float", "float"), ("backprop on the arrays", None)):
            a, b = _accs(res, name), _accs(res, "backprop", level)
            t = _paired(a, b)
            testable = min(np.mean(a), np.mean(b)) > 0.25 + CHANCE_MARGIN
            ok = testable and t["p"] == t["p"] and t["p"] >= 0.05
            out.append(
                {
                    "claim": f"{name} on the arrays ≈ {ref} within statistical uncertainty "
                    "(published 89.5/89.6 vs 90.0 %, 5 runs)",
                    "verdict": "reproduced" if ok else "not reproduced",
                    "statistic": f"paired t-test over {t['n']} seeds: Δ = {100 * t['diff']:+.1f} "
                    f"points, 95 % CI [{100 * t['ci95'][0]:+.1f}, "
                    f"{100 * t['ci95'][1]:+.1f}], t = {t['t']:.2f}, p = {t['p']:.3g} "
                    "(reproduced iff p >= 0.05 and both above chance + "
                    f"{100 * CHANCE_MARGIN:.0f} points)"
                    + ("" if testable else "; untestable: at chance level"),
                }
            )
    fe = res["front_end"]["test_accuracy"]
    for name, pub in PUBLISHED.items():
        acc = np.array(_accs(res, name))
        m, s = acc.mean(), acc.std(ddof=1) if len(acc) > 1 else 0.0
        ok = abs(100 * m - float(pub)) <= 2 * 100 * s + 1.0
        out.append(
            {
                "claim": f"{name} test accuracy {pub} %",
                "verdict": "reproduced" if ok else "not reproduced",
                "statistic": f"{100 * m:.1f} ± {100 * s:.1f} % (reproduced iff within 2 std + "
                f"1 point); the front end caps a float classifier at "
                f"{100 * fe:.1f} %: the paper's absolute numbers need its "
                "(unpublished) front end",
            }
        )
    pv = [
        r["energy"]["ratios"]["pv_over_reset_array"]
        for n in ("ff", "competitive")
        for r in res["runs"][n]
    ]
    pv_m = float(np.nanmean(pv))
    pv_f = float(
        np.nanmean(
            [
                r["energy"]["ratios"]["pv_over_reset_full"]
                for n in ("ff", "competitive")
                for r in res["runs"][n]
            ]
        )
    )
    out.append(
        {
            "claim": "reset-only updates use 460x less energy than program-and-verify",
            "verdict": "reproduced" if 230 <= pv_m <= 920 else "not reproduced",
            "statistic": f"P&V / reset-only {pv_m:.0f}x on the array-only basis, "
            f"{pv_f:.0f}x with the verify reads through the read periphery (reproduced "
            "iff the array-only ratio is within a factor 2 of 460)",
        }
    )
    r46 = [r["energy"]["ratios"][PRIMARY_46] for n in ("ff", "competitive") for r in res["runs"][n]]
    r46_m = float(np.nanmean(r46))
    out.append(
        {
            "claim": "learning costs +46 % over inference-only operation",
            "verdict": "reproduced" if 0.23 <= r46_m <= 0.92 else "not reproduced",
            "statistic": f"{100 * r46_m:.1f} % ({RATIO_DEFINITIONS[PRIMARY_46][0]}; reproduced "
            "iff within a factor 2 of 46 %; every definition in the energy table)",
        }
    )
    drops = []
    for name in ("ff", "competitive"):
        t = _paired(
            [r["stability"]["1 month"] for r in res["runs"][name]],
            [r["stability"]["0 s"] for r in res["runs"][name]],
        )
        drops.append((name, t))
    ok = all(t["diff"] >= -0.01 and not (t["p"] < 0.05) for _, t in drops)
    out.append(
        {
            "claim": "accuracy retained for at least 1 month",
            "verdict": "reproduced" if ok else "not reproduced",
            "statistic": "; ".join(
                f"{n}: 1 month − 0 s = {100 * t['diff']:+.1f} points, p = {t['p']:.3g}"
                for n, t in drops
            )
            + " (reproduced iff the mean change is >= -1 point and no drop is significant; "
            f"relaxation law: {res.get('drift_source', 'the HfOx preset (tech B, <= 100 s)')})",
        }
    )
    return out


LEVELS = (
    ("float", "same network in float"),
    ("ideal_reads", "same pulses, ideal reads"),
    (None, "on the arrays"),
    ("variant", "on the arrays, passive variant"),
)
NAMES = {
    "ff": "two-pass Forward-Forward",
    "competitive": "single-pass competitive",
    "backprop": "backpropagation",
}


def _level_accs(runs, level):
    if level is None:
        return [r["test_accuracy"] for r in runs]
    return [r[level]["test_accuracy"] for r in runs if level in r]


def _plots(res, out):
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.5, 3.8))
    w = 0.2
    for k, (level, label) in enumerate(LEVELS):
        # mean ± sample std over seeds, as the tables (no bar for a single seed)
        stats = [mean_std(_level_accs(res["runs"][n], level)) for n in NAMES]
        errs = [
            s if len(_level_accs(res["runs"][n], level)) > 1 else 0.0
            for n, (_, s) in zip(NAMES, stats)
        ]
        ax.bar(
            np.arange(3) + (k - 1.5) * w,
            [m for m, _ in stats],
            w,
            yerr=errs,
            capsize=3,
            label=label,
        )
    ax.axhline(
        res["front_end"]["test_accuracy"],
        color="k",
        ls="--",
        label="front end's best float classifier",
    )
    ax.axhline(0.25, color="grey", ls=":", label="chance")
    ax.set_xticks(range(3), [NAMES[n] for n in NAMES], fontsize=8)
    ax.set_ylim(0, 1.3)  # room for the legend above the bars
    ax.set_yticks(np.linspace(0, 1, 6))
    save_figure(
        fig,
        ax,
        out / "study1_accuracy.png",
        "rule",
        "test accuracy (best validation epoch)",
        legend={"loc": "upper center", "ncol": 2, "fontsize": 7},
    )

    fig, ax = pyplot.subplots(figsize=(5.5, 3.8))
    labels = ["0 s"] + [a for a, _ in AGES]
    for name in ("ff", "competitive"):
        S = np.array([[r["stability"][k] for k in labels] for r in res["runs"][name]])
        ax.errorbar(
            range(len(labels)), S.mean(0), yerr=S.std(0), marker="o", capsize=3, label=NAMES[name]
        )
    ax.set_xticks(range(len(labels)), labels)
    save_figure(fig, ax, out / "study1_stability.png", "time after training", "test accuracy")

    fig, ax = pyplot.subplots(figsize=(6.5, 3.8))
    cats = sorted(
        {
            c
            for name in NAMES
            for r in res["runs"][name]
            for c, v in r["energy"]["by_category_train_J"].items()
            if v > 0
        }
    )
    for k, name in enumerate(NAMES):
        vals = [
            np.mean([r["energy"]["by_category_train_J"].get(c, 0.0) for r in res["runs"][name]])
            for c in cats
        ]
        ax.bar(np.arange(len(cats)) + (k - 1) * 0.27, vals, 0.27, label=NAMES[name])
    ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right")
    ax.set_yscale("log")
    save_figure(
        fig,
        ax,
        out / "study1_energy.png",
        "ledger category",
        "training energy (J, mean over seeds)",
    )


def report(res) -> str:
    """Markdown section of study 1 (numbers from ``res`` only)."""
    cfg, runs, d = res["config"], res["runs"], res["data"]
    L = ["## Study 1: forward-only learning with reset-only updates (imagenette4)", ""]
    L.append(
        f"Data: imagenette4, {d['n_train']} training / {d['n_val']} validation (held out of "
        f"the training images, {100 * cfg['val_fraction']:.0f} % per class) / {d['n_test']} "
        f"test images of {len(d['classes'])} classes ({', '.join(d['classes'])}), chance "
        f"25 %. Front end: fixed {d['d_raw']}-d descriptor (`xbar.data.features`), PCA "
        f"whitening fitted on the training part to **D = {cfg['n_components']}** inputs "
        f"({100 * d['pca_variance']:.1f} % of the standardised variance). The paper's front "
        "end is unpublished: its absolute accuracies need it; what this study can test is "
        "the relative claim (forward-only ≈ backprop on the same front end)."
    )
    L.append("")
    dev = {n: runs[n][0]["devices"] for n in NAMES}
    L.append(
        f"Network: two layers of {cfg['hidden']} units on differential HfOx pairs: FF "
        f"{dev['ff']} devices, competitive and backprop {dev['competitive']} devices "
        f"(budget {DEVICE_BUDGET}). Arrays {cfg['cell']} (r_access {cfg['r_access']:g} ohm, "
        "assumed: see the table of choices), "
        f"passive ({cfg['variant_cell']}) as a variant on seeds "
        f"{', '.join(str(s) for s in cfg['variant_seeds'])}. Backprop on the arrays: forward "
        "passes through the same circuit reads, gradients from the stored conductances "
        "(hardware in the loop), the same reset-only pulses."
    )
    L.append("")
    L.append("### Published claims")
    L.append("")
    res["verdicts"] = verdicts(res)  # decided from the stored numbers (also on --render-only)
    L.append(
        table(
            ["claim", "verdict", "deciding statistic"],
            [[v["claim"], f"**{v['verdict']}**", v["statistic"]] for v in res["verdicts"]],
        )
    )
    L.append("")
    L.append("### Ceilings (test accuracy at the best validation epoch; mean ± std over seeds)")
    L.append("")
    fe = res["front_end"]
    L.append(
        f"Front end's best float classifier (logistic regression on the same "
        f"{cfg['n_components']} inputs, C = {fe['C']} chosen on validation"
        + (f", grid extended by {fe['extended']}" if fe.get("extended") else "")
        + (" (at the grid's edge)" if fe.get("at_grid_edge") else "")
        + f"): **{100 * fe['test_accuracy']:.1f} %**."
    )
    L.append("")
    rows = []
    for name in NAMES:
        rs = runs[name]
        row = [NAMES[name]]
        for level, _ in LEVELS:
            a = _level_accs(rs, level)
            row.append(pm(a) if a else "-")
        row += [
            " / ".join(
                f"{r['best_epoch']} of {len(r['val_history'])}"
                if len(r["val_history"]) != r["best_epoch"]
                else str(r["best_epoch"])
                for r in rs
            ),
            PUBLISHED[name],
        ]
        rows.append(row)
    L.append(
        table(
            ["rule"]
            + [lab + " (%)" for _, lab in LEVELS]
            + ["epoch chosen of epochs trained (arrays, per seed)", "published (%)"],
            rows,
        )
    )
    L.append("")
    for name in NAMES:
        errs = np.array([r["read_error"] for r in runs[name]])
        L.append(
            f"- {name}: relative error of the circuit read-out against the ideal product of "
            "the same conductances (500 test inputs, after training): "
            + ", ".join(f"layer {k + 1} {pm(errs[:, k], 100, 1)} %" for k in range(errs.shape[1]))
            + "."
        )
    L.append("")
    L.append("![accuracy ceilings](study1_accuracy.png)")
    L.append("")
    L.append("### Energy (booked in the training runs on the arrays; mean ± std over seeds)")
    L.append("")
    rows = []
    for key, (label, definition) in RATIO_DEFINITIONS.items():
        row = [label]
        for name in NAMES:
            v = [r["energy"]["ratios"][key] for r in runs[name]]
            row.append(pm(v, 1.0, 1) + "x" if key.startswith("pv") else pm(v, 100, 1) + " %")
        row.append(definition)
        rows.append(row)
    L.append(
        table(
            ["ratio"] + [NAMES[n] for n in NAMES] + ["definition (and which reading of the paper)"],
            rows,
        )
    )
    L.append("")
    rows = []
    for name in NAMES:
        E = [r["energy"] for r in runs[name]]
        f = lambda k: np.mean([e[k] for e in E])  # noqa: E731
        rows.append(
            [
                NAMES[name],
                f"{f('update_pulses'):.3g}",
                fmt_energy(f("update_J")),
                fmt_energy(f("update_array_J")),
                fmt_energy(f("train_read_J")),
                fmt_energy(f("inference_per_sample_J")),
                fmt_energy(f("inference_array_per_sample_J")),
                f"{f('reset_pulses_sampled'):.3g} -> {f('pv_pulses'):.3g} + "
                f"{f('pv_verify_reads'):.3g} verify reads",
            ]
        )
    L.append(
        table(
            [
                "rule",
                "reset pulses",
                "updates, full",
                "updates, array only",
                "training reads, full",
                "inference / classification, full",
                "inference / classification, array only",
                "shadowed updates: reset pulses -> P&V pulses",
            ],
            rows,
        )
    )
    L.append("")
    L.append(
        f"Program-and-verify: every {cfg['shadow_every']}th update of the run is also applied, "
        "with the same requests, to a copy of the fabricated pairs by "
        "`xbar.train.ProgramVerifyWriter`: incremental-step SET/RESET ramps "
        f"{_ramp(cfg['pv_set_ramp'])} / {_ramp(cfg['pv_reset_ramp'])}, "
        f"{cfg['pv_width'] * 1e9:.0f} ns pulses, a verify read before every pulse, band "
        + ("half a reset step" if cfg["pv_atol"] is None else f"{cfg['pv_atol']:g} S")
        + f", at most {cfg['pv_max_pulses']} pulses per cell. Every verify read is booked as "
        "its cell current and its read periphery (word-line DAC and bit-line TIA for the read "
        "time, one ADC conversion; `ReadPeriphery` in `xbar.pulses.energy`): per shadowed run "
        + ", ".join(
            f"{c.upper()} {fmt_energy(np.mean([r['energy']['pv_verify_periphery_J'][c] for n in NAMES for r in runs[n]]))}"  # noqa: E501
            for c in ("dac", "tia", "adc")
        )
        + " (mean)."
    )
    L.append("")
    L.append(
        table(
            ["choice", "value", "status", "source"],
            [[k, _choice_value(cfg, k), st, src] for k, (st, src) in SOURCES.items()],
        )
    )
    L.append("")
    L.append("![energy by category](study1_energy.png)")
    L.append("")
    L.append(
        "### Stability (test accuracy after the arrays relax, final-epoch state; one noisy "
        "read of every device per evaluation)"
    )
    L.append("")
    labels = ["0 s"] + [a for a, _ in AGES]
    rows = [
        [NAMES[n]] + [pm([r["stability"][k] for r in runs[n]]) for k in labels]
        for n in ("ff", "competitive")
    ]
    L.append(table(["rule"] + labels, rows))
    L.append("")
    L.append(
        f"Relaxation law: {res.get('drift_source', 'the HfOx preset (tech B, t <= 100 s)')} "
        f"(`{cfg.get('drift_preset') or 'HfOxReRAM()'}`; drift and broadening relative to the "
        "window, applied to the study's devices); one month is log10(2.59e6 s / t_max) decades "
        "beyond the preset's fitted range t_max (see `drift.py`); read noise tech A."
    )
    L.append("")
    L.append("![stability](study1_stability.png)")
    L.append("")
    L.append("### Choices")
    L.append("")
    L.append(
        f"- Updates every {cfg['batch_size']} samples (mini-batch mean of the rule's request), "
        f"at most {cfg['epochs']} epochs, "
        + (
            f"stopped after {cfg['patience']} epochs without a better validation accuracy, "
            if cfg.get("patience") is not None
            else ""
        )
        + "the test accuracy taken at the best validation epoch."
    )
    L.append(
        f"- Pulse mapping `{cfg['mapping']}`: at most one {cfg['reset_amplitude']} V, "
        f"{cfg['reset_width'] * 1e9:.0f} ns reset pulse per device per update, on G- to raise "
        "a weight and on G+ to lower it; pairs whose two devices near G_min are refreshed "
        "(booked as `refresh`). 1T1R: unselected cells unbiased; passive variant: V/2 "
        "(half-selected cells booked)."
    )
    L.append(
        f"- Arrays at most {cfg['tile']} x {cfg['tile']}, {cfg['r_wire']} ohm per wire "
        f"segment (ArrayConfig default [H]), {cfg['dac_bits']}-bit DAC (full scale "
        f"{cfg['dac_x_max']}), {cfg['adc_bits']}-bit ADC; reads through each tile's exact "
        "transfer matrix; TIA gains re-ranged from the stored conductances after every write."
    )
    dv = res["device"]
    over = dict(cfg["device_overrides"]) if cfg["device_overrides"] else {}
    L.append(
        f"- Device: the fitted preset `HfOxReRAM()` ({dv.get('source', '')}): window "
        f"{dv['g_min'] * 1e6:.3g}-{dv['g_max'] * 1e6:.4g} µS, v_th_dtod {dv['v_th_dtod']} V, "
        f"alpha_dtod {dv['alpha_dtod']}; overrides: {over or 'none'}; relaxation law "
        f"({', '.join(DRIFT_FIELDS)}) from `{cfg.get('drift_preset') or 'HfOxReRAM()'}`. "
        "Sources per parameter: "
        "`xbar.devices.presets.PROVENANCE`."
    )
    tu = res["tuning"]
    L.append(
        f"- Learning rates chosen on the **{tu['split']}** split ({tu['level']}, seed "
        f"{cfg['tune_seed']}, {cfg['tune_epochs']} epochs per grid point; FF θ = "
        f"{cfg['ff_threshold']}): "
        + "; ".join(
            f"{g['rule']} {g['chosen']}"
            + (" (at the grid's edge)" if g.get("at_grid_edge") else "")
            + (f" (grid {g['given']} extended by {g['extended']})" if g.get("extended") else "")
            + " ("
            + (
                ", ".join(
                    f"{k}: {100 * v:.1f} % at epoch {g['best_epoch'][k]}"
                    for k, v in g["grid"].items()
                )
                or g["source"]
            )
            + ")"
            for g in tu["grid"]
        )
        + "; one rate per rule for every level (float, ideal reads, arrays, variant)."
    )
    return "\n".join(L)


def _ramp(r) -> str:
    return f"{r[0]:g}-{r[2]:g} V in {r[1]:g} V steps"


def _choice_value(cfg, key) -> str:
    if key == "r_access":
        return f"{cfg['r_access']:g} ohm"
    if key in ("pv_set_ramp", "pv_reset_ramp"):
        return _ramp(cfg[key])
    if key == "pv_width":
        return f"{cfg[key] * 1e9:g} ns"
    if key == "pv_atol":
        return "half a reset step" if cfg[key] is None else f"{cfg[key]:g} S"
    if key == "verify read":
        return "0.2 V, 100 ns"
    if key == "verify-read periphery":
        return f"DAC + TIA + {cfg['adc_bits']}-bit ADC"
    return str(cfg[key])


def default_config() -> Study1Config:
    return Study1Config()
