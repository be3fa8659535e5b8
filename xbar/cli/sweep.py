"""``xbar sweep``: run a design-space sweep, or draw its report.

xbar sweep SPEC --out DIR [--workers N] [--scheduler tcp://HOST:PORT] [--check]
xbar sweep report DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_EPILOG = """\
examples:
  xbar sweep examples/sweeps/mvm_size_wire_adc.toml --out runs/mvm            # local Dask cluster
  xbar sweep examples/sweeps/mvm_size_wire_adc.toml --out runs/mvm --workers 0  # serial, no Dask
  xbar sweep spec.toml --out runs/x --scheduler tcp://10.0.0.5:8786        # existing cluster
  xbar sweep spec.toml --check                                             # validate, list points
  xbar sweep report runs/mvm                                               # plots + REPORT.md

Re-running the same command skips finished points (resume after a crash or Ctrl-C).
Exit status: 0 all points ok, 1 some points failed, 2 bad spec or arguments, 130 interrupted."""


def register(subparsers) -> None:
    """Add the ``sweep`` sub-command to the ``xbar`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``xbar`` parser (from ``ArgumentParser.add_subparsers``); the new
        sub-parser sets ``func`` to the function run with the parsed arguments.
    """
    p = subparsers.add_parser(
        "sweep",
        help="run a design-space sweep (or 'sweep report DIR')",
        description="Run every point of a sweep spec (TOML) and store one record per point, or "
        "('xbar sweep report DIR') draw the plots and markdown summary of a finished sweep.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SPEC", help="sweep spec (TOML), or the word 'report'")
    p.add_argument(
        "dir", metavar="DIR", nargs="?", help="with 'report': the sweep output directory"
    )
    p.add_argument("--out", metavar="DIR", help="output directory (records, results table)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local Dask worker processes (default: one per CPU); 0 runs serially without Dask",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="connect to a running Dask scheduler, e.g. tcp://HOST:8786",
    )
    p.add_argument(
        "--no-retry-failed",
        dest="retry_failed",
        action="store_false",
        help="keep points recorded as failed instead of re-running them",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="validate the spec and print its points and parameters; run nothing",
    )
    p.add_argument(
        "--max-memory",
        type=float,
        metavar="GB",
        help="memory one point may use, GB (default: this machine's physical memory); "
        "points whose estimate exceeds it are refused before anything runs",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from ..exceptions import ConfigError
    from .. import sweep

    if args.spec == "report" and not Path("report").is_file():
        if args.dir is None:
            raise ConfigError("usage: xbar sweep report DIR (DIR = a sweep output directory)")
        path = sweep.report(args.dir)
        print(f"report written to {path}")
        return 0
    if args.dir is not None:
        raise ConfigError(
            f"unexpected argument {args.dir!r}; the output directory goes after --out"
        )
    spec = sweep.load_spec(args.spec)
    if args.max_memory is not None and not args.max_memory > 0:
        raise ConfigError(f"--max-memory must be > 0 GB, got {args.max_memory}")
    max_memory = None if args.max_memory is None else args.max_memory * 1e9
    if args.check:
        _describe(spec, max_memory)
        return 0
    if args.out is None:
        raise ConfigError("--out DIR is required to run a sweep (records are written there)")
    if args.workers is not None and args.workers < 0:
        raise ConfigError(f"--workers must be >= 0, got {args.workers}")
    try:
        result = sweep.run(
            spec,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            retry_failed=args.retry_failed,
            progress=None if args.quiet else sys.stderr,
            max_memory=max_memory,
        )
    except KeyboardInterrupt:
        print(
            f"interrupted; finished points are saved in {args.out}: re-run the same command to resume",
            file=sys.stderr,
        )
        return 130
    print(result.summary())
    print(f"results: {result.table}")
    return 1 if result.n_failed else 0


def _describe(spec, max_memory: float | None = None) -> None:
    from ..sweep.runner import check_memory, format_bytes

    t = spec.task
    print(
        f"sweep {spec.name!r}: task {t.name!r}, {spec.n_points} points over "
        f"{len(spec.axes)} axes ({' x '.join(str(len(a.values)) for a in spec.axes) or '1'})"
    )
    for a in spec.axes:
        vals = [v if len(v) > 1 else v[0] for v in a.values]
        print(f"  axis {a.label}: {vals}")
    print("parameters (value: type and range):")
    axis_names = set(spec.axis_names)
    for name, p in t.params.items():
        val = "<axis>" if name in axis_names else repr(spec.base[name])
        print(f"  {name} = {val}: {p.describe()}" + (f" — {p.doc}" if p.doc else ""))
    print("metrics: " + ", ".join(spec.metrics))
    peak = check_memory(spec, spec.points(), max_memory)
    if peak is not None:
        print(f"largest estimated memory of one point: {format_bytes(peak)}")
