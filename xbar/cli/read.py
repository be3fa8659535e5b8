"""``xbar read``: solve a crossbar stored as a conductance matrix (.npy or .csv, siemens)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..exceptions import ConfigError


def register(sub) -> None:
    p = sub.add_parser(
        "read", help="column currents of a conductance matrix under a bias",
        description=__doc__ + " Prints or saves the column currents (A), one per bit line.")
    p.add_argument("conductances", type=Path, help="(M, N) conductance matrix, S (.npy or .csv)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--v", type=float, help="the same voltage (V) on every word line")
    src.add_argument("--v-file", type=Path, help="(M,) or (B, M) input voltages, V (.npy or .csv)")
    src.add_argument("--bias", choices=["half", "third", "floating", "grounded"],
                     help="select one cell with a passive-array bias scheme (needs --cell-index, --v-select)")
    p.add_argument("--cell-index", type=int, nargs=2, metavar=("I", "J"),
                   help="selected cell for --bias")
    p.add_argument("--v-select", type=float, default=1.0, help="selected-row voltage for --bias, V")
    p.add_argument("--r-wordline", type=float, default=0.0, help="ohm per word-line segment")
    p.add_argument("--r-bitline", type=float, default=0.0, help="ohm per bit-line segment")
    p.add_argument("--r-driver", type=float, default=0.0, help="driver output resistance, ohm")
    p.add_argument("--r-sense", type=float, default=0.0, help="sense input resistance, ohm")
    p.add_argument("--cell", choices=["0T1R", "1T1R"], default="0T1R")
    p.add_argument("--r-access", type=float, help="1T1R access transistor on-resistance, ohm")
    p.add_argument("--method", choices=["auto", "pcg", "direct", "transfer"], default="auto")
    p.add_argument("--out", type=Path, help="save currents to this .npy or .csv instead of printing")
    p.set_defaults(func=run)


def load_matrix(path: Path) -> np.ndarray:
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    if path.suffix == ".npy":
        return np.load(path)
    if path.suffix in (".csv", ".txt"):
        try:
            return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=1)
        except ValueError as exc:
            raise ConfigError(f"{path}: not a numeric table: {exc}") from None
    raise ConfigError(f"{path}: unsupported format {path.suffix!r} (use .npy or .csv)")


def run(args) -> int:
    import xbar
    G = np.atleast_2d(load_matrix(args.conductances))
    xb = xbar.Crossbar(G, r_wordline=args.r_wordline, r_bitline=args.r_bitline,
                       r_driver=args.r_driver, r_sense=args.r_sense, cell=args.cell,
                       r_access=args.r_access)
    M, N = xb.shape
    if args.bias:
        if args.cell_index is None:
            raise ConfigError("--bias needs --cell-index I J")
        rv, cv = xbar.bias.scheme(args.bias, M, N, args.cell_index[0], args.cell_index[1],
                                  args.v_select)
        method = "auto" if args.method == "transfer" else args.method
        out = xb.solve(rv, cv, method=method).col_currents
    else:
        v = np.full(M, args.v) if args.v is not None else load_matrix(args.v_file)
        out = xb.read(v, method=args.method)
    if args.out is None:
        np.savetxt(sys.stdout, np.atleast_2d(out), fmt="%.10e", delimiter=",")
    elif args.out.suffix == ".npy":
        np.save(args.out, out)
    else:
        np.savetxt(args.out, np.atleast_2d(out), fmt="%.17e", delimiter=",")
    return 0
