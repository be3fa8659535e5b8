"""``xbar validate measured [--quick] --out DIR``: device models vs the measured data sets."""

from __future__ import annotations


def _measured(args) -> int:
    from ..reports.measured import run, summarize

    return summarize(run(args.out, quick=args.quick, random_state=args.seed))


def register(subparsers) -> None:
    """Add the ``validate`` sub-command to the ``xbar`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``xbar`` parser (from ``ArgumentParser.add_subparsers``); the new
        sub-parser sets ``func`` to the function run with the parsed arguments.
    """
    p = subparsers.add_parser("validate", help="validate models against reference data")
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    m = sub.add_parser("measured", help="device models vs measured data (report + plots)")
    m.add_argument("--quick", action="store_true", help="reduced run (< 2 min)")
    m.add_argument("--out", required=True, help="report folder (markdown + PNG)")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=_measured)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
