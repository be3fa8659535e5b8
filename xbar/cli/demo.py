"""``xbar demo``: solve a 128x128 array with wire resistance; ideal vs circuit column currents."""

from __future__ import annotations

import argparse
import time

import numpy as np

#: A milder array than the default one, suggested by the demo for comparison (about -4 % at 128^2).
MILD_ARRAY = "--g-max 1e-5 --r-wire 0.5 --r-terminal 10"


def _number(kind, low: float, *, strict: bool, unit: str):
    """argparse type: a number of ``kind`` that is > ``low`` (``strict``) or >= ``low``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not np.isfinite(value) or (value <= low if strict else value < low):
            bound = f"> {low:g}" if strict else f">= {low:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}{unit}, got {text}")
        return value

    return parse


def register(sub) -> None:
    """Add the ``demo`` sub-command to the ``xbar`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the ``xbar`` parser (from ``ArgumentParser.add_subparsers``); the new
        sub-parser sets ``func`` to the function run with the parsed arguments.
    """
    p = sub.add_parser(
        "demo",
        help="solve a crossbar with wire resistance and show the IR-drop error",
        description=__doc__,
    )
    p.add_argument(
        "--size",
        type=_number(int, 0, strict=True, unit=""),
        default=128,
        help="array is SIZE x SIZE (default 128)",
    )
    p.add_argument(
        "--r-wire",
        type=_number(float, 0, strict=False, unit=" ohm"),
        default=2.5,
        help="ohm per wire segment (default 2.5)",
    )
    p.add_argument(
        "--r-terminal",
        type=_number(float, 0, strict=False, unit=" ohm"),
        default=100.0,
        help="driver and sense resistance, ohm (default 100)",
    )
    p.add_argument(
        "--g-max",
        type=_number(float, 0, strict=True, unit=" S"),
        default=1e-4,
        help="cells are drawn from U[g_max/100, g_max], S (default 1e-4)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random_state of the conductance and input draws (default 0)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Solve the demo array and print ideal against circuit column currents.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``xbar demo`` arguments: ``size`` (cells per side), ``r_wire`` (ohm per wire
        segment), ``r_terminal`` (driver and sense resistance, ohm), ``g_max`` (S; cells are
        drawn from U[g_max/100, g_max]) and ``seed`` (the random_state of the conductance and
        input draws).

    Returns
    -------
    int
        Exit code 0.
    """
    import xbar
    from .._random import check_random_state

    rng = check_random_state(args.seed)  # --seed is the random_state of the draws
    n = args.size
    G = rng.uniform(args.g_max / 100, args.g_max, (n, n))
    v = rng.uniform(0.0, 0.3, n)
    xb = xbar.Crossbar(
        G,
        r_wordline=args.r_wire,
        r_bitline=args.r_wire,
        r_driver=args.r_terminal,
        r_sense=args.r_terminal,
    )
    t0 = time.perf_counter()
    sol = xb.solve(v, np.zeros(n))
    dt = time.perf_counter() - t0
    ideal = xb.ideal_read(v)
    circ = sol.col_currents
    err = (circ - ideal) / ideal
    print(f"{xb!r}")
    print(f"inputs U[0, 0.3] V, G ~ U[{args.g_max / 100:g}, {args.g_max:g}] S, seed {args.seed}")
    print(
        f"solved {2 * n * n} nodes in {dt * 1e3:.1f} ms ({sol.method}, {sol.iterations} "
        f"iterations, KCL residual {sol.residual:.2e} A)"
    )
    print(f"{'column':>6} {'ideal (uA)':>12} {'circuit (uA)':>13} {'IR-drop error':>14}")
    for j in sorted(set(np.linspace(0, n - 1, 8).astype(int))):
        print(f"{j:>6} {ideal[j] * 1e6:>12.4f} {circ[j] * 1e6:>13.4f} {err[j] * 100:>13.3f}%")
    rms = np.sqrt(np.mean((circ - ideal) ** 2)) / np.sqrt(np.mean(ideal**2))
    print(
        f"IR-drop error over all {n} columns: mean {err.mean() * 100:.3f}%, worst "
        f"{err.min() * 100:.3f}%, relative RMS {rms * 100:.3f}%"
    )
    p = sol.power
    print(
        f"read power {p.total * 1e3:.4f} mW: cells {p.cells / p.total:.1%}, wires "
        f"{p.wires / p.total:.1%}, drivers {p.drivers / p.total:.1%}, sense {p.sense / p.total:.1%}"
    )
    print(explain(G, args.r_wire, args.r_terminal, err.mean()))
    return 0


def explain(G: np.ndarray, r_wire: float, r_terminal: float, mean_error: float) -> str:
    """One line on why the array loses (or keeps) its ideal current.

    The two dimensionless numbers that set the IR drop of an M x N array with mean cell
    conductance Ḡ (S): the wire strength ``r_wire * Ḡ * N**2`` (a line's wire resistance against
    its cells in parallel, both ohm) and the terminal load ``r_terminal * Ḡ * N`` (a driver or
    sense resistance against the same cells). The error is small only when both are << 1.

    Parameters
    ----------
    G : numpy.ndarray
        Conductance matrix of the array, shape (M, N), in S.
    r_wire : float
        Wire resistance per segment, in ohm.
    r_terminal : float
        Driver and sense resistance, in ohm.
    mean_error : float
        Mean relative column-current error of the circuit against the ideal read
        (dimensionless, e.g. -0.04 for -4 %).

    Returns
    -------
    str
        The explanation; above 10 % error it also suggests the milder array ``MILD_ARRAY``.
    """
    m, n = G.shape
    g_mean = float(G.mean())
    wire = r_wire * g_mean * max(m, n) ** 2
    terminal = r_terminal * g_mean * max(m, n)
    cells_ohm = 1.0 / (g_mean * n)
    why = (
        f"Why: a line's {n} cells in parallel are ~{cells_ohm:.3g} ohm, against "
        f"{r_terminal:g} ohm of terminal and {r_wire * (n - 1):.3g} ohm of wire (wire strength "
        f"r*G*N^2 = {wire:.2g}, terminal load R*G*N = {terminal:.2g}; the error is small only "
        f"when both are << 1)"
    )
    if abs(mean_error) > 0.1:
        return (
            f"{why}: losing {abs(mean_error):.0%} of the ideal current is the physics of this "
            f"array, not a bug. For a milder array try: xbar demo {MILD_ARRAY}"
        )
    return why + "."
