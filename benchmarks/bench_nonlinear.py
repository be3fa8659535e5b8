"""Nonlinear (sinh) cells: xbar's Newton against baselines measured in the same run.

    python benchmarks/bench_nonlinear.py            # 256x256 and 64x64 (ngspice ~10-30 s)
    python benchmarks/bench_nonlinear.py --quick    # 64x64 and 24x24

Case (issue 3): I = G·v0·sinh(V/v0), v0 = 0.25 V, G ~ U[1e-6, 1e-4] S, inputs U[0, 1] V,
2.5 ohm wire segments, 100 ohm driver and sense.
  1. Newton with scipy ``splu`` refactorised at every step (same start, same tolerance).
  2. ngspice (behavioural current sources with the same I-V), operating point.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy.sparse.linalg import splu

import xbar
from xbar import spice
from xbar.circuit import direct, newton
from xbar.circuit.nodal import NodalNetwork as Network, build_problem

from _targets import target  # benchmarks/_targets.py (the script's directory is on sys.path)


def case(n, rng):
    G = rng.uniform(1e-6, 1e-4, (n, n))
    v = rng.uniform(0.0, 1.0, n)
    xb = xbar.Crossbar(
        G, r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0, iv=xbar.iv.Sinh(0.25)
    )
    return xb, v


def newton_splu(xb, v, rtol=1e-12):
    """Plain damped Newton, Jacobian assembled and factorised by SuperLU at every step."""
    n = xb.shape[1]
    net = xb.network()
    prob = build_problem(net, v[None], np.zeros((1, n)))
    X = direct.solve(net, prob)  # linear start, as xbar does
    cells = newton.CellModel(xb.iv, xb.G, xb.r_access, xb.select)
    F, g = newton.residual(net, prob, cells, X)
    X0 = np.where(np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0, X, 0.0)
    tol = rtol * np.linalg.norm(newton.residual(net, prob, cells, X0)[0])
    fn = np.linalg.norm(F)
    steps = 0
    while fn > tol and steps < 50:
        jac = Network(g[0], net.gw, net.gb, net.g_driver, net.g_sense)
        A, labels, fixed = direct.assemble(jac, prob)
        lu = splu(
            A.tocsc(),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
        rhs = np.zeros(A.shape[0])
        np.add.at(rhs, labels, -F[0])
        d = lu.solve(rhs)[labels]
        t = 1.0
        while True:
            Xt = X + t * d
            Ft, gt = newton.residual(net, prob, cells, Xt)
            ft = np.linalg.norm(Ft)
            if ft <= (1 - 1e-4 * t) * fn or t < 1e-6:
                break
            t /= 2
        X, F, g, fn = Xt, Ft, gt, ft
        steps += 1
    M, N = xb.shape
    b_last = X[0].reshape(2, M, N)[1, -1]
    return b_last / 100.0, steps


def timeit(fn, repeat):
    ts, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    big, small = (64, 24) if args.quick else (256, 64)

    xb, v = case(big, rng)
    t_x, I_x = timeit(lambda: xb.read(v), 5)
    sol = xb.solve(v, np.zeros(big))
    t_s, (I_s, steps) = timeit(lambda: newton_splu(xb, v), 1 if not args.quick else 2)
    err = np.abs(I_x - I_s).max() / np.abs(I_s).max()
    print(
        f"[1] {big}x{big} sinh: xbar {t_x * 1e3:.1f} ms ({sol.newton_iterations} Newton steps, "
        f"{sol.iterations} CG iterations) | Newton + splu refactorised ({steps} steps) "
        f"{t_s:.2f} s | ratio {t_s / t_x:.0f}x "
        f"({target(t_s / t_x, '>=', 30, 'x', full_size='256x256', quick=args.quick)}) "
        f"| max rel diff {err:.1e}"
    )

    xb, v = case(small, rng)
    t_x, I_x = timeit(lambda: xb.read(v), 5)
    if spice.ngspice_available():
        t_n, ref = timeit(lambda: spice.run(xb, v, np.zeros(small)), 1)
        err = np.abs(I_x - ref.col_currents).max() / np.abs(ref.col_currents).max()
        print(
            f"[2] {small}x{small} sinh: xbar {t_x * 1e3:.1f} ms | ngspice {t_n:.1f} s | ratio "
            f"{t_n / t_x:.0f}x ({target(t_n / t_x, '>=', 1000, 'x', full_size='64x64', quick=args.quick)})"
            f" | max rel diff {err:.1e}"
        )
    else:
        print("[2] ngspice not installed: skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
