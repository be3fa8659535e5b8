"""Cost of study 1's update cadence through the circuit: training time per sample at one update
per sample (the paper's setting) against the study's one update per 20 samples.

    XBAR_DATA_DIR=/path/to/data PYTHONPATH=. python validation/seeds/cadence.py [--quick]
        [--samples 300] [--batches 1,20] [--repeats 2] [--rules ff,competitive,backprop]
        [--out DIR]

Each rule's network is study 1's on the arrays (``study1._hardware_net``: the fitted preset,
1T1R tiles, reset-only pulses, circuit reads re-ranged after every write, the
program-and-verify shadow of every ``shadow_every``-th update) at the study's rate
(``study1.EARLIER_LRS``, the rates the validation split chose through the circuit), trained on
the first ``--samples`` training images of seed 0 at each batch size in turn; the batch sizes
alternate within each repeat, so that a change of machine load hits them alike.  Reported: the
wall time per sample (range over repeats), the epoch time it implies for the study's training
split and the ratio per-sample / study cadence.  Time only (no accuracy: a few hundred samples
do not train).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))

from common import Progress, table, write_json  # noqa: E402


def run(cfg, rules, batches, n_samples: int, repeats: int, progress) -> dict:
    """Wall seconds per sample of each rule and batch size (one list entry per repeat)."""
    import numpy as np

    import study1
    import xbar.train as T
    from xbar.exceptions import ConfigError
    from xbar.pulses import EnergyLedger

    if n_samples < max(batches) or min(batches) < 1 or repeats < 1:
        raise ConfigError(
            f"need samples >= the largest batch >= 1 and repeats >= 1, got samples {n_samples}, "
            f"batches {batches}, repeats {repeats}"
        )
    data = study1._features(cfg, progress)
    X, y = data["Xtr"][:n_samples], data["ytr"][:n_samples]
    n_in = X.shape[1]
    per_sample: dict = {r: {str(b): [] for b in batches} for r in rules}
    for rep in range(repeats):
        for name in rules:
            for b in batches:
                bcfg = replace(cfg, batch_size=b)
                rule = study1._rule(bcfg, name, study1.EARLIER_LRS[name])
                net = study1._hardware_net(
                    bcfg, rule, n_in, 0, EnergyLedger(), EnergyLedger(), EnergyLedger()
                )
                t0 = time.perf_counter()
                T.fit(
                    net,
                    (X, y),
                    rule=rule,
                    epochs=1,
                    random_state=np.random.SeedSequence(0),
                    batch_size=b,
                    train_eval_samples=0,
                    progress=False,
                )
                dt = (time.perf_counter() - t0) / len(y)
                per_sample[name][str(b)].append(dt)
                progress(f"repeat {rep + 1} {name} batch {b}: {1e3 * dt:.1f} ms per sample")
    n_train = len(data["ytr"])
    return {
        "n_samples": int(len(y)),
        "n_train": int(n_train),
        "batches": list(batches),
        "repeats": repeats,
        "per_sample_s": per_sample,
        "shadow_every": cfg.shadow_every,
        "tile": cfg.tile,
    }


def report(res: dict) -> str:
    b0, b1 = min(res["batches"]), max(res["batches"])
    rows = []
    for name, by_b in res["per_sample_s"].items():
        row = [name]
        for b in res["batches"]:
            ts = by_b[str(b)]
            row.append(
                f"{1e3 * min(ts):.1f}–{1e3 * max(ts):.1f} ms ({res['n_train'] * min(ts) / 60:.1f}"
                f"–{res['n_train'] * max(ts) / 60:.1f} min)"
            )
        ratios = [a / c for a, c in zip(by_b[str(b0)], by_b[str(b1)])]
        row.append(f"{min(ratios):.1f}–{max(ratios):.1f}x")
        rows.append(row)
    head = ["rule"] + [f"batch {b}: per sample (epoch)" for b in res["batches"]]
    head.append(f"batch {b0} / batch {b1}")
    return (
        f"Training time through the circuit, {res['n_samples']} samples per run, "
        f"{res['repeats']} alternated repeats (range); epoch = {res['n_train']} training images; "
        f"program-and-verify shadow every {res['shadow_every']} updates as in the study.\n\n"
        + table(head, rows)
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="study 1's quick network and data")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--batches", type=str, default="1,20")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rules", type=str, default="ff,competitive,backprop")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    import study1

    cfg = study1.quick_config() if args.quick else study1.default_config()
    rules = tuple(r.strip() for r in args.rules.split(","))
    unknown = set(rules) - set(study1.RULES)
    if unknown:
        from xbar.exceptions import ConfigError

        raise ConfigError(f"rules must be among {study1.RULES}, got {sorted(unknown)}")
    batches = tuple(int(b) for b in args.batches.split(","))
    out = args.out or HERE / "results" / f"cadence{'-quick' if args.quick else ''}"
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(True)
    t = time.monotonic()
    res = run(cfg, rules, batches, args.samples, args.repeats, progress)
    res["wall_s"] = time.monotonic() - t
    write_json(out / "results.json", res)
    res = json.loads((out / "results.json").read_text())
    text = report(res)
    (out / "report.md").write_text(
        "# xbar seed study 1: update cadence cost\n\nCommand: `python validation/seeds/cadence.py "
        + " ".join(argv if argv is not None else sys.argv[1:])
        + f"`; wall time {res['wall_s']:.0f} s.\n\n"
        + text
        + "\n"
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
