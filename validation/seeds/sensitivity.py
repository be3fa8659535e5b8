"""Sensitivity of study 1 (beyond the paper): accuracy of FF, competitive and backprop on the
arrays against one device, circuit or controller parameter at a time, as one sweep on the
project's sweep engine (``xbar.sweep``).

    XBAR_DATA_DIR=/path/to/data PYTHONPATH=. python validation/seeds/sensitivity.py [--quick] [--full]
        [--seeds 0,1,2] [--out DIR]

The task ``seeds-sensitivity`` (registered here with ``xbar.sweep.task``) trains the study-1
network (``study1._hardware_net``: the fitted preset ``HfOxReRAM()``, 1T1R arrays, reset-only
pulses, circuit reads) with one parameter changed and reports the test accuracy at the best
validation epoch. The sweep is one spec: ``rule`` x ``seed`` x a ``[[zip]]`` group whose rows
change one parameter from the baseline (first row) at a time, so every row is a one-at-a-time
sensitivity point. Parameters: ``v_th_dtod`` (V, d2d spread of the reset threshold),
``c2c_scale`` (factor on the preset's cycle-to-cycle pulse noise), ``window_scale`` (factor on
g_max − g_min, g_min kept), ``r_wire`` (ohm per segment), ``adc_bits`` (0 = ideal), ``mapping``
(stochastic / threshold at half a pulse step / sign = one pulse wherever Δw != 0) and ``batch``
(samples per update: the update cadence).  ``--full`` trains study 1's own network and data
(64 inputs, 36 units, every image) instead of the reduced one (32 inputs, 20 units, 400 training
images per class); the sweep engine resumes a killed sweep from its records in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))

from common import Progress, plt, save_figure  # noqa: E402

from xbar.sweep import Param, task  # noqa: E402

RULES = ("ff", "competitive", "backprop")
BASELINE = {
    "v_th_dtod": 0.067,
    "c2c_scale": 1.0,
    "window_scale": 1.0,
    "r_wire": 1.0,
    "adc_bits": 8,
    "mapping": "stochastic",
    "batch": 20,
}
"""The study-1 setting (v_th_dtod: the preset's fitted 0.067 V)."""
VARIED = {
    "v_th_dtod": (0.0, 0.02, 0.15),
    "c2c_scale": (0.0, 3.0),
    "window_scale": (0.1, 0.03),
    "r_wire": (0.0, 5.0),
    "adc_bits": (0, 4, 6),
    "mapping": ("threshold", "sign"),
    "batch": (5, 80),
}
"""Values tried for each parameter (the others at BASELINE)."""

PARAMS = {
    "rule": Param(str, "ff", choices=RULES, doc="learning rule on the arrays"),
    "v_th_dtod": Param(
        float,
        0.067,
        low=0.0,
        high=1.0,
        unit="V",
        doc="device-to-device spread of the reset threshold",
    ),
    "c2c_scale": Param(
        float,
        1.0,
        low=0.0,
        high=100.0,
        doc="factor on the preset's cycle-to-cycle pulse noise (set/reset sigma_win)",
    ),
    "window_scale": Param(
        float,
        1.0,
        low=1e-3,
        high=1.0,
        doc="factor on the preset's window g_max - g_min (g_min kept)",
    ),
    "r_wire": Param(float, 1.0, low=0.0, high=1e3, unit="ohm", doc="wire resistance per segment"),
    "adc_bits": Param(int, 8, low=0, high=16, doc="ADC resolution (0 = ideal)"),
    "mapping": Param(
        str,
        "stochastic",
        choices=("stochastic", "threshold", "sign"),
        doc="pulse mapping: stochastic rounding, threshold at half a pulse step, "
        "one sign pulse wherever the request is non-zero",
    ),
    "batch": Param(int, 20, low=1, high=1000, doc="samples per update (update cadence)"),
    "quick": Param(bool, False, doc="tiny network and data (tests)"),
    "full": Param(bool, False, doc="study 1's full network and data (else a reduced one)"),
}
METRICS = {
    "test_accuracy": "test accuracy at the best validation epoch (fraction)",
    "val_accuracy": "best validation accuracy (fraction)",
    "update_pulses": "reset pulses of the training run",
    "wall_s": "wall time of the point, s",
}


def _config(params: dict, seed: int):
    import study1
    from xbar.devices import HfOxReRAM

    base = (
        study1.quick_config()
        if params["quick"]
        else replace(study1.default_config(), epochs=3)
        if params.get("full")
        else replace(
            study1.default_config(),
            epochs=3,
            n_components=32,
            hidden=20,
            max_per_class_train=400,
            max_per_class_test=150,
        )
    )
    dev = HfOxReRAM()
    over = {
        "v_th_dtod": params["v_th_dtod"],
        "set_sigma_win": dev.set_sigma_win * params["c2c_scale"],
        "reset_sigma_win": dev.reset_sigma_win * params["c2c_scale"],
        "g_max": dev.g_min + params["window_scale"] * (dev.g_max - dev.g_min),
    }
    mapping = "threshold" if params["mapping"] in ("threshold", "sign") else params["mapping"]
    return replace(
        base,
        seeds=(seed,),
        device_overrides=tuple(over.items()),
        r_wire=params["r_wire"],
        adc_bits=params["adc_bits"],
        mapping=mapping,
        batch_size=params["batch"],
        program_verify_shadow=False,
        variant_seeds=(),
    )


@task("seeds-sensitivity", params=PARAMS, metrics=METRICS, timing=("wall_s",), version="1")
def sensitivity_point(params: dict, seed: int) -> dict:
    """One rule trained on the arrays with one changed parameter (units: V, ohm, S)."""
    import study1

    from xbar.pulses import EnergyLedger

    t0 = time.monotonic()
    cfg = _config(params, seed)
    data = _features_cached(cfg)
    rule = study1._rules(cfg, study1.fixed_rates(cfg))[params["rule"]]
    ledger = EnergyLedger()
    n_in = data["Xtr"].shape[1]
    if params["mapping"] == "threshold":
        # half the nominal weight step of one pulse (the layers' own dw_per_pulse)
        probe = study1._hardware_net(
            cfg, rule, n_in, seed, EnergyLedger(), EnergyLedger(), EnergyLedger(), circuit=False
        )
        cfg = replace(cfg, mapping_threshold=0.5 * probe.layers[0].dw_per_pulse)
    net = study1._hardware_net(cfg, rule, n_in, seed, ledger, EnergyLedger(), EnergyLedger())
    r = study1._train(net, rule, data, cfg, seed, ledger)
    return {
        "test_accuracy": float(r["test_accuracy"]),
        "val_accuracy": float(max(r["val_history"])),
        "update_pulses": float(ledger.count("write", phase="train")),
        "wall_s": time.monotonic() - t0,
    }


_CACHE: dict = {}


def _features_cached(cfg):
    import study1

    key = (cfg.n_components, cfg.max_per_class_train, cfg.max_per_class_test, cfg.val_fraction)
    if key not in _CACHE:
        _CACHE[key] = study1._features(cfg, Progress(False))
    return _CACHE[key]


def spec(quick: bool, seeds=(0,), full: bool = False) -> dict:
    """The sweep: rule x seed x one-at-a-time rows (a [[zip]] group; row 0 = baseline)."""
    rows = [dict(BASELINE)]
    for name, values in VARIED.items():
        if quick and name not in ("v_th_dtod", "mapping"):
            continue
        for v in values[:1] if quick else values:
            rows.append(dict(BASELINE, **{name: v}))
    zipped = {k: [r[k] for r in rows] for k in BASELINE}
    return {
        "sweep": {
            "name": "seeds-sensitivity" + ("-quick" if quick else "-full" if full else ""),
            "description": "study 1 on the arrays, one parameter at a time",
            "task": "seeds-sensitivity",
            "metrics": ["test_accuracy", "val_accuracy", "update_pulses"],
        },
        "base": {"quick": quick, "full": full},
        "axes": {"rule": list(RULES), "seed": list(seeds)},
        "zip": [zipped],
    }


def summarise(records: list, reduce=np.mean) -> dict:
    """Mean (or ``reduce``) test accuracy over seeds per (parameter, value, rule); the baseline
    row under every parameter."""
    out: dict = {}
    for name in VARIED:
        out[name] = {}
        for rule in RULES:
            pts = {}
            for rec in records:
                p = rec["params"]
                if p["rule"] != rule:
                    continue
                others = all(p[k] == BASELINE[k] for k in BASELINE if k != name)
                if others:
                    pts.setdefault(str(p[name]), []).append(rec["metrics"]["test_accuracy"])
            out[name][rule] = {v: float(reduce(a)) for v, a in pts.items()}
    return out


def seed_std(values) -> float:
    """Sample standard deviation over seeds (ddof=1; 0 for a single seed)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _panel(ax, per_rule: dict) -> None:
    """Test accuracy of each rule against one parameter's values (one axis)."""
    for rule, pts in per_rule.items():
        keys = list(pts)
        try:
            order = sorted(keys, key=float)
        except ValueError:
            order = keys
        ax.plot(range(len(order)), [pts[k] for k in order], "o-", label=rule)
        ax.set_xticks(range(len(order)), order)
    ax.axhline(0.25, color="grey", ls=":", label="chance")
    ax.set_ylim(0, 1)


def _plot(summary: dict, out: Path) -> list:
    """One figure per parameter, and ``sensitivity.png`` with every parameter as a panel (listed
    first)."""
    pyplot = plt()
    varied = {n: r for n, r in summary.items() if any(len(v) > 1 for v in r.values())}
    files = []
    if varied:
        cols = min(4, len(varied))
        rows = -(-len(varied) // cols)
        fig, axes = pyplot.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
        for ax, (name, per_rule) in zip(axes.flat, varied.items()):
            _panel(ax, per_rule)
            ax.set_title(name + (" (0 = ideal)" if name == "adc_bits" else ""), fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[len(varied) :]:
            ax.axis("off")
        axes.flat[0].set_ylabel("test accuracy")
        axes.flat[0].legend(fontsize=7)
        fig.suptitle(
            "one parameter changed at a time, the others at the study-1 baseline", fontsize=9
        )
        fig.tight_layout()
        fig.savefig(out / "sensitivity.png", dpi=110)
        pyplot.close(fig)
        files.append("sensitivity.png")
    for name, per_rule in varied.items():
        fig, ax = pyplot.subplots(figsize=(4.5, 3.2))
        _panel(ax, per_rule)
        f = out / f"sensitivity_{name}.png"
        save_figure(fig, ax, f, f"{name} (others at the study-1 baseline)", "test accuracy")
        files.append(f.name)
    return files


def report(
    summary: dict,
    files: list,
    wall: float,
    n_points: int,
    quick: bool,
    seeds=(0,),
    full=False,
    spread: dict | None = None,
    compute_s: float | None = None,
) -> str:
    L = ["## Sensitivity (beyond the paper): one parameter at a time, on the arrays", ""]
    net = "quick" if quick else "study 1's full network and data" if full else "reduced network"
    L.append(
        f"{n_points} points of the sweep `seeds-sensitivity` (xbar.sweep, serial) in "
        f"{wall / 60:.1f} min"
        + (
            ""
            if compute_s is None
            else f" (this invocation; the points' own wall times sum to {compute_s / 60:.1f} min, "
            "points already recorded in --out are reused)"
        )
        + f" ({net}; mean over {len(seeds)} seed(s): "
        f"{', '.join(str(x) for x in seeds)}); baseline: "
        + ", ".join(f"{k} = {v}" for k, v in BASELINE.items())
        + (" (± the standard deviation over seeds)." if spread and len(seeds) > 1 else ".")
    )
    L.append("")
    L.append("| parameter | value | " + " | ".join(RULES) + " | FF − backprop (points) |")
    L.append("|---|---|" + "---|" * len(RULES) + "---|")
    for name, per_rule in summary.items():
        if not any(len(v) > 1 for v in per_rule.values()):
            continue
        vals = sorted(
            {v for pts in per_rule.values() for v in pts},
            key=lambda s: (not s.replace(".", "", 1).replace("-", "", 1).isdigit(), s),
        )
        for v in vals:
            accs = [per_rule[r].get(v) for r in RULES]
            d = "-" if accs[0] is None or accs[2] is None else f"{100 * (accs[0] - accs[2]):+.1f}"
            # one seed has no spread to show (its "standard deviation" would print as ± 0.0)
            sds = [
                (spread or {}).get(name, {}).get(r, {}).get(v) if len(seeds) > 1 else None
                for r in RULES
            ]
            L.append(
                f"| {name} | {v} | "
                + " | ".join(
                    "-"
                    if a is None
                    else f"{100 * a:.1f}" + ("" if sd is None else f" ± {100 * sd:.1f}") + " %"
                    for a, sd in zip(accs, sds)
                )
                + f" | {d} |"
            )
    L.append("")
    for f in files:
        L.append(f"![{f}]({f})")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seeds", type=str, default="0")
    ap.add_argument("--full", action="store_true", help="study 1's full network and data")
    args = ap.parse_args(argv)
    import xbar.sweep

    tag = "-quick" if args.quick else "-full" if args.full else ""
    out = args.out or HERE / "results" / f"sensitivity{tag}"
    out.mkdir(parents=True, exist_ok=True)
    seeds = tuple(int(s) for s in args.seeds.split(","))
    t0 = time.monotonic()
    result = xbar.sweep.run(
        spec(args.quick, seeds, args.full), out=out / "sweep", workers=0, progress=False
    )
    wall = time.monotonic() - t0
    records = [r for r in result.records if r and r["status"] == "ok"]
    failed = [r for r in result.records if r and r["status"] != "ok"]
    for r in failed:
        print(f"failed point {r['params']}: {r.get('error')}", file=sys.stderr)
    summary = summarise(records)
    spread = summarise(records, reduce=seed_std)
    files = _plot(summary, out)
    from xbar._io import write_atomic

    doc = {
        "summary": summary,
        "seed_std": spread,
        "wall_s": wall,
        "points_wall_s": float(sum(r["metrics"].get("wall_s", 0.0) for r in records)),
        "n_points": len(records),
        "seeds": list(seeds),
    }
    write_atomic(out / "results.json", json.dumps(doc, indent=1))
    compute = float(sum(r["metrics"].get("wall_s", 0.0) for r in records))
    text = report(summary, files, wall, len(records), args.quick, seeds, args.full, spread, compute)
    write_atomic(out / "report.md", text + "\n")
    print(text)
    print(f"report written to {out / 'report.md'} ({wall:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
