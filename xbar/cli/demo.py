"""``xbar demo``: solve a 128x128 array with wire resistance; ideal vs circuit column currents."""
from __future__ import annotations

import time

import numpy as np


def register(sub) -> None:
    p = sub.add_parser("demo", help="solve a crossbar with wire resistance and show the IR-drop error",
                       description=__doc__)
    p.add_argument("--size", type=int, default=128, help="array is SIZE x SIZE (default 128)")
    p.add_argument("--r-wire", type=float, default=2.5, help="ohm per wire segment (default 2.5)")
    p.add_argument("--r-terminal", type=float, default=100.0,
                   help="driver and sense resistance, ohm (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    import xbar
    rng = np.random.default_rng(args.seed)
    n = args.size
    G = rng.uniform(1e-6, 1e-4, (n, n))
    v = rng.uniform(0.0, 0.3, n)
    xb = xbar.Crossbar(G, r_wordline=args.r_wire, r_bitline=args.r_wire,
                       r_driver=args.r_terminal, r_sense=args.r_terminal)
    t0 = time.perf_counter()
    sol = xb.solve(v, np.zeros(n))
    dt = time.perf_counter() - t0
    ideal = xb.ideal_read(v)
    circ = sol.col_currents
    err = (circ - ideal) / ideal
    print(f"{xb!r}")
    print(f"inputs U[0, 0.3] V, G ~ U[1e-6, 1e-4] S, seed {args.seed}")
    print(f"solved {2 * n * n} nodes in {dt * 1e3:.1f} ms ({sol.method}, {sol.iterations} "
          f"iterations, KCL residual {sol.residual:.2e} A)")
    print(f"{'column':>6} {'ideal (uA)':>12} {'circuit (uA)':>13} {'IR-drop error':>14}")
    for j in sorted(set(np.linspace(0, n - 1, 8).astype(int))):
        print(f"{j:>6} {ideal[j] * 1e6:>12.4f} {circ[j] * 1e6:>13.4f} {err[j] * 100:>13.3f}%")
    rms = np.sqrt(np.mean((circ - ideal) ** 2)) / np.sqrt(np.mean(ideal ** 2))
    print(f"IR-drop error over all {n} columns: mean {err.mean() * 100:.3f}%, worst "
          f"{err.min() * 100:.3f}%, relative RMS {rms * 100:.3f}%")
    p = sol.power
    print(f"read power {p.total * 1e3:.4f} mW: cells {p.cells / p.total:.1%}, wires "
          f"{p.wires / p.total:.1%}, drivers {p.drivers / p.total:.1%}, sense {p.sense / p.total:.1%}")
    return 0
