"""The ``xbar`` command line.

Every module in this package that defines ``register(subparsers)`` adds one sub-command; the
sub-command's parser must set ``func`` (called with the parsed arguments, returns an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


def build_parser() -> argparse.ArgumentParser:
    """The ``xbar`` argument parser, with one sub-command per module of this package.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser; every module defining ``register(subparsers)`` has added its
        sub-command (modules are visited in name order, private ones skipped).
    """
    parser = argparse.ArgumentParser(
        prog="xbar", description="Circuit-accurate memristor crossbar simulation (SI units)."
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"xbar {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``xbar`` command line.

    Parameters
    ----------
    argv : list of str or None, optional
        The arguments after the program name; None (default) reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: the sub-command's (0 on success), 2 without a sub-command (the help is
        printed) or when the sub-command raises an :class:`xbar.exceptions.XbarError` (its
        message is printed to stderr).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from ..exceptions import XbarError

    try:
        return int(args.func(args) or 0)
    except XbarError as exc:
        print(f"xbar {args.command}: error: {exc}", file=sys.stderr)
        return 2
