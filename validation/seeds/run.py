"""Reproduce the two studies that motivate xbar, end to end, and write a report.

    XBAR_DATA_DIR=/path/to/data PYTHONPATH=. python validation/seeds/run.py --study 1 [--quick] [--out DIR]
    XBAR_DATA_DIR=/path/to/data PYTHONPATH=. python validation/seeds/run.py --study 2 [--quick] [--out DIR]

Study 1: forward-only learning (two-pass Forward-Forward, single-pass competitive) with reset-only
updates on crossbars of <= 8,064 devices, imagenette4 (Renaudineau et al., arXiv:2601.09903).
Study 2: softmax regression on full MNIST with stochastic binary devices, SGD vs SGD + learning
from mistakes (Nikiruy, Wenger, Ziegler). Each writes ``report.md`` (tables, configuration,
seeds, versions, wall time), ``results.json`` (every number of the report) and PNG plots into
``--out`` (default ``validation/seeds/results/study<N>[-quick]``). ``--quick`` reduces data,
epochs, seeds and sizes to finish in well under a minute (used by ``tests/test_seeds_quick.py``).
Two more scripts belong to the studies: ``drift.py`` (the drift law validated on the longest
measured relaxation, and how far "1 month" extrapolates) and ``sensitivity.py`` (study 1 against
one device, circuit or controller parameter at a time, as one sweep on ``xbar.sweep``).
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

from common import Progress, table, versions, write_json  # noqa: E402

# wall time of a full run, as measured on the shared 2-core machine (README, Results)
EXPECTED_FULL = {
    1: "about 30-40 minutes (5 seeds trained to convergence and the rate tuning through the "
    "circuit with its grid extensions: 37.2 min measured with two other studies beside it)",
    2: "about 20-30 minutes (5 seeds, 9k digits, training reads booked, 12 regimes, rate grids "
    "extended past edge choices: 27.4 min measured with two other studies beside it)",
}


def set_fields(cfg, assignments):
    """``cfg`` with ``FIELD=VALUE`` assignments applied (VALUE a Python literal, else a string;
    lists become tuples); an unknown field is refused, naming the fields there are."""
    import ast
    from dataclasses import fields

    from xbar.exceptions import ConfigError

    names = {f.name for f in fields(cfg)}
    changes = {}
    for a in assignments or ():
        key, sep, raw = a.partition("=")
        key = key.strip()
        if not sep or key not in names:
            raise ConfigError(
                f"--set needs FIELD=VALUE with FIELD one of {sorted(names)}, got {a!r}"
            )
        try:
            value = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            value = raw.strip()
        changes[key] = tuple(value) if isinstance(value, list) else value
    return replace(cfg, **changes)


def _study(n: int):
    if n == 1:
        import study1 as mod
    else:
        import study2 as mod
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", type=int, choices=(1, 2), required=True)
    ap.add_argument("--quick", action="store_true", help="reduced run (a few minutes)")
    ap.add_argument("--out", type=Path, default=None, help="results folder")
    ap.add_argument(
        "--seeds",
        type=str,
        default=None,
        help="comma-separated seeds (default: 0..4, quick: fewer)",
    )
    ap.add_argument(
        "--regime-seeds",
        type=str,
        default=None,
        help="study 2: comma-separated seeds of the regime search",
    )
    ap.add_argument(
        "--regimes",
        type=str,
        default=None,
        help="study 2: only the regimes whose names start with one of these (separated by ';')",
    )
    ap.add_argument(
        "--full-data",
        action="store_true",
        help="study 2: all 57,000 training (after the validation hold-out) and 10,000 test digits",
    )
    ap.add_argument(
        "--regimes-only",
        action="store_true",
        help="study 2: only the rate tuning and the regime search (no circuit-read main runs)",
    )
    ap.add_argument(
        "--tune-level",
        choices=("ideal reads", "arrays"),
        default=None,
        help="study 1: network the learning rates are chosen on (validation split)",
    )
    ap.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="change one configuration field (repeatable), e.g. --set batch_size=5; the "
        "report's configuration table shows every value used",
    )
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    ap.add_argument(
        "--print-report",
        action="store_true",
        help="print the report's tables and verdict lines (README-ready markdown) on stdout",
    )
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite report.md and the plots from results.json in --out (no run)",
    )
    args = ap.parse_args(argv)

    mod = _study(args.study)
    cfg = mod.quick_config() if args.quick else mod.default_config()
    if args.seeds:
        cfg = replace(cfg, seeds=tuple(int(s) for s in args.seeds.split(",")))
    if args.study == 1 and args.tune_level:
        cfg = replace(cfg, tune_level=args.tune_level)
    if args.study == 2 and args.regime_seeds:
        cfg = replace(cfg, regime_seeds=tuple(int(s) for s in args.regime_seeds.split(",")))
    if args.study == 2 and args.regimes:
        pre = tuple(x.strip() for x in args.regimes.split(";"))
        cfg = replace(cfg, regimes=tuple(r for r in mod.REGIMES if r.startswith(pre)))
    if args.study == 2 and args.full_data:
        cfg = replace(cfg, n_train=None, n_test=None)
    if args.study == 2 and args.regimes_only:
        cfg = replace(cfg, main_runs=False)
    cfg = set_fields(cfg, args.set)
    out = args.out or HERE / "results" / f"study{args.study}{'-quick' if args.quick else ''}"
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(not args.quiet)
    if args.render_only:
        res = json.loads((out / "results.json").read_text())
        mod._plots(res, out)
    else:
        if not args.quick:
            progress(
                f"study {args.study}, full run: expected wall time "
                f"{EXPECTED_FULL[args.study]} on 2 cores (progress below)"
            )
        t0 = time.monotonic()
        started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        from contextlib import nullcontext

        from threadpoolctl import threadpool_limits

        # --quick: matrices of at most 128 x 128, where threaded BLAS only costs (measured on a
        # loaded 2-core machine: one 700 x 128 Gram matrix 71 ms on 2 threads, 1.7 ms on 1)
        with threadpool_limits(1, user_api="blas") if args.quick else nullcontext():
            res = mod.run(cfg, out, progress)
        res["wall_s"] = time.monotonic() - t0
        res["started"] = started
        res["versions"] = versions()
        res["command"] = "python validation/seeds/run.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        write_json(out / "results.json", res)  # atomic: a killed run leaves the old file
        res = json.loads((out / "results.json").read_text())  # the report reads what is saved
    wall = res["wall_s"]
    quick = " (quick)" if res["config"].get("quick") else ""
    text = [
        f"# xbar seed study {args.study}{quick}",
        "",
        f"Command: `{res['command']}`  ",
        f"Started {res.get('started', '(not recorded)')}; wall time **{wall / 60:.1f} min**"
        f" ({wall:.0f} s)"
        + (
            f", {res['resumed_pieces']} completed pieces resumed from `partial.json` (their "
            "compute time not included)"
            if res.get("resumed_pieces")
            else ""
        )
        + ". Every number below was produced by this run (`results.json`).",
        "",
        mod.report(res),
        "",
        "## Configuration",
        "",
        table(["parameter", "value"], [[k, f"`{v}`"] for k, v in res["config"].items()]),
        "",
        f"Seeds: {', '.join(str(s) for s in res['config']['seeds'])}.",
        "",
        "## Versions",
        "",
        table(["component", "version"], [[k, v] for k, v in res["versions"].items()]),
        "",
    ]
    from xbar._io import write_atomic

    write_atomic(out / "report.md", "\n".join(text))
    progress(f"report written to {out / 'report.md'} ({wall:.0f} s)")
    if args.print_report:
        print(mod.report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
