"""``xbar hardware show|dump [FILE]``: print or write a hardware configuration (TOML).

``show`` prints the configuration of FILE (or the defaults) with each value's unit and meaning
as comments; ``dump`` writes the complete, normalised TOML (every field, defaults filled in) to
stdout or ``--out``: a starting point for your own file.  Both validate FILE first (errors name
the table, the key, the allowed range and the value).  The file is what ``xbar read
--hardware``, the ``[hardware]`` table of ``xbar train`` and :class:`xbar.config.HardwareConfig`
read; ``examples/hardware/rram_1t1r.toml`` is an example.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``hardware`` sub-command to the ``xbar`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``xbar`` parser (from ``ArgumentParser.add_subparsers``); the new
        sub-parser sets ``func`` to the function run with the parsed arguments.
    """
    p = subparsers.add_parser(
        "hardware",
        help="print or write a hardware configuration (TOML)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "action", choices=["show", "dump"], help="show: commented, with units; dump: complete TOML"
    )
    p.add_argument("file", nargs="?", help="hardware TOML file (default: the defaults)")
    p.add_argument("--out", type=Path, help="dump: write here instead of stdout")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from ..config.hardware import HardwareConfig, load_hardware

    hw = load_hardware(args.file) if args.file else HardwareConfig()
    if args.action == "show":
        print(str(hw), end="")
        return 0
    text = hw.to_toml()
    if args.out is None:
        sys.stdout.write(text)
    else:
        from .._io import open_atomic

        with open_atomic(args.out, "w") as fh:
            fh.write(text)
        print(f"wrote {args.out}")
    return 0
