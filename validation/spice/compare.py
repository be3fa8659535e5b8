"""xbar against ngspice on netlists written from the same crossbars; writes a markdown report.

    python validation/spice/compare.py [--quick] [--out DIR]

Sizes 16x16 and 64x64 (``--quick``: 16x16 only); MVM, V/2, V/3 and floating bias; linear cells and
sinh cells (ngspice behavioural sources).  G ~ U[1e-6, 1e-4] S, 2.5 ohm segments, 100 ohm
terminals.  Exits 1 if any relative error (column currents, row currents, node voltages) exceeds
1e-9.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import xbar
from xbar import spice

BOUND = 1e-9


def rel(a, b, mask=None):
    if mask is not None:
        a, b = a[mask], b[mask]
    return float(np.abs(a - b).max() / np.abs(b).max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="16x16 only")
    ap.add_argument("--out", type=Path, default=Path("results/spice"))
    args = ap.parse_args(argv)
    if not spice.ngspice_available():
        print("ngspice is not installed (apt-get install -y ngspice)", file=sys.stderr)
        return 2
    rng = np.random.default_rng(2026)
    rows = []
    for n in [16] if args.quick else [16, 64]:
        for cells in ("linear", "sinh"):
            G = rng.uniform(1e-6, 1e-4, (n, n))
            iv = xbar.iv.Sinh(0.25) if cells == "sinh" else None
            xb = xbar.Crossbar(
                G, r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0, iv=iv
            )
            for scheme in ("mvm", "half", "third", "floating"):
                if scheme == "mvm":
                    rv, cv = rng.uniform(-1 if iv else 0, 1, n), np.zeros(n)
                else:
                    rv, cv = xbar.bias.scheme(scheme, n, n, n // 3, n // 2, 1.0)
                t0 = time.perf_counter()
                ref = spice.run(xb, rv, cv)
                t_spice = time.perf_counter() - t0
                t0 = time.perf_counter()
                sol = xb.solve(rv, cv)
                t_xbar = time.perf_counter() - t0
                err = max(
                    rel(sol.col_currents, ref.col_currents, ~np.isnan(cv)),
                    rel(sol.row_currents, ref.row_currents, ~np.isnan(rv)),
                    rel(sol.v_wordline, ref.v_wordline),
                    rel(sol.v_bitline, ref.v_bitline),
                )
                rows.append((n, cells, scheme, err, t_spice, t_xbar))
                print(
                    f"{n}x{n} {cells:6s} {scheme:8s} max rel error {err:.1e}  ngspice "
                    f"{t_spice:.2f} s  xbar {t_xbar * 1e3:.1f} ms",
                    flush=True,
                )
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# xbar vs ngspice",
        "",
        f"xbar {xbar.__version__}; bound {BOUND:g}; command: "
        f"`python validation/spice/compare.py{' --quick' if args.quick else ''}`",
        "",
        "| size | cells | bias | max relative error | ngspice (s) | xbar (ms) | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, cells, scheme, err, ts, tx in rows:
        lines.append(
            f"| {n}x{n} | {cells} | {scheme} | {err:.1e} | {ts:.2f} | {tx * 1e3:.1f} | "
            f"{ts / tx:.0f}x |"
        )
    tmp = args.out / "report.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(args.out / "report.md")
    worst = max(r[3] for r in rows)
    print(f"worst relative error {worst:.1e} (bound {BOUND:g}); report: {args.out / 'report.md'}")
    return 0 if worst <= BOUND else 1


if __name__ == "__main__":
    sys.exit(main())
