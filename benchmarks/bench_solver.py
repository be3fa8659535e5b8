"""Circuit-solver benchmarks: xbar against baselines measured in the same run.

    python benchmarks/bench_solver.py            # full (a few minutes)
    python benchmarks/bench_solver.py --quick    # small sizes, seconds (a smoke run)

Cases (issue 2): G ~ U[1e-6, 1e-4] S, 2.5 ohm wire segments, 100 ohm driver and sense.
  1. 256x256, one read with fresh conductances (replaced on the array before each read, as in
     training; also with a new Crossbar per read) vs scipy ``splu`` factor+solve of the same nodal
     system (symmetric minimum-degree ordering), and vs the ``badcrossbar`` package (its network
     has one wire segment at each terminal, i.e. r_driver = r_sense = r_wire; in the ``bench``
     extra, part of ``.[all]``).
  2. Strong IR drop (cells 10 k–100 kΩ, 10 Ω segments): time relative to the mild case.
  3. 1024x1024, one read: time and peak memory (fresh process).
  4. 256x256, 100,000 batched reads with fixed G vs the ideal ``V @ G`` product.
  5. Iterations and time vs size, wire and terminal resistance.
  6. (opt-in, ``--huge 4096``) one read of a huge array in a fresh process, on one thread (the
     default for one read) and on two (``XBAR_NUM_THREADS=2``): time, peak memory, and the
     up-front memory estimate (target: 4096² under 15 s).
  7. One- vs two-level preconditioner (the kernel's ``coarse`` switch): iterations and time of
     one solve, in the mild case above and with strong coupling (20 ohm, U[1e-4, 1e-2] S).
Times are medians of repeats; ratios compare numbers taken in this run on this machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np
from scipy.sparse.linalg import splu

import xbar
from xbar.circuit import direct
from xbar.circuit.nodal import build_problem

from _targets import target  # benchmarks/_targets.py (the script's directory is on sys.path)


def timeit(fn, repeat=5):
    ts = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def case(n, rng, lo=1e-6, hi=1e-4, r_wire=2.5, r_term=100.0, m=None):
    m = n if m is None else m
    G = rng.uniform(lo, hi, (m, n))
    v = rng.uniform(0.0, 0.3, m)
    return G, v, dict(r_wordline=r_wire, r_bitline=r_wire, r_driver=r_term, r_sense=r_term)


def xbar_read(G, v, kw):
    return xbar.Crossbar(G, **kw).read(v, method="pcg")


def splu_read(G, v, kw):
    """Factor + solve of the same nodal system with scipy SuperLU (assembly excluded)."""
    xb = xbar.Crossbar(G, **kw)
    net = xb.network()
    prob = build_problem(net, v[None], np.zeros((1, G.shape[1])))
    A, labels, fixed = direct.assemble(net, prob)
    F = np.zeros(A.shape[0])
    np.add.at(F, labels, prob.f[0])
    t = time.perf_counter()
    lu = splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    x = lu.solve(F)
    dt = time.perf_counter() - t
    M, N = G.shape
    b_last = x[labels[M * N :].reshape(M, N)[-1]]
    return dt, b_last / kw["r_sense"]


def fresh_reads(G, v, kw):
    """A read after every conductance update of one array (what a training loop does): each call
    replaces G (validated, copied; every G-dependent cache dropped) and reads with PCG."""
    xb = xbar.Crossbar(G, **kw)

    def read():
        xb.set_conductances(G)
        return xb.read(v, method="pcg")

    return read


def bench_fresh_read(n, rng, repeat):
    G, v, kw = case(n, rng)
    t_x, I_x = timeit(fresh_reads(G, v, kw), repeat)
    t_new, _ = timeit(lambda: xbar_read(G, v, kw), repeat)
    t_s, I_s = (
        np.median([splu_read(G, v, kw)[0] for _ in range(max(1, repeat // 2))]),
        splu_read(G, v, kw)[1],
    )
    err = np.abs(I_x - I_s).max() / np.abs(I_s).max()
    print(
        f"[1] {n}x{n} one read, fresh G: xbar {t_x * 1e3:.1f} ms | scipy splu factor+solve "
        f"{t_s * 1e3:.0f} ms | ratio {t_s / t_x:.0f}x "
        f"({target(t_s / t_x, '>=', 100, 'x', full_size='256x256', quick=n != 256)}) "
        f"| max rel diff {err:.1e}"
        f"\n    (a new Crossbar object per read: {t_new * 1e3:.1f} ms, {t_s / t_new:.0f}x)"
    )
    return {
        "n": n,
        "xbar_s": t_x,
        "xbar_new_object_s": t_new,
        "splu_s": float(t_s),
        "ratio_splu": float(t_s / t_x),
        "ratio_splu_new_object": float(t_s / t_new),
        "rel_diff": float(err),
    }


def bench_badcrossbar(n, rng, repeat):
    try:
        import logging

        warnings.simplefilter("ignore")
        import badcrossbar

        logging.getLogger("badcrossbar").setLevel(logging.WARNING)
        logging.disable(logging.INFO)
        badcrossbar.compute  # noqa: B018  (its compute() needs optional deps)
    except (ImportError, AttributeError) as exc:
        print(f"[1b] badcrossbar not available ({exc}); pip install -e '.[bench]'")
        return None
    # badcrossbar puts one wire segment between each source and the array: the same network as
    # xbar with r_driver = r_sense = r_wire (they agree to ~1e-14).
    G, v, kw = case(n, rng, r_term=2.5)
    t_x, I_x = timeit(lambda: xbar_read(G, v, kw), repeat)
    t_b, sol = timeit(
        lambda: badcrossbar.compute(v[:, None], 1.0 / G, r_i_word_line=2.5, r_i_bit_line=2.5),
        max(1, repeat // 2),
    )
    I_b = np.asarray(sol.currents.output).ravel()
    err = np.abs(I_x - I_b).max() / np.abs(I_b).max()
    print(
        f"[1b] {n}x{n} one read, badcrossbar's network: xbar {t_x * 1e3:.1f} ms | badcrossbar "
        f"{t_b * 1e3:.0f} ms | ratio {t_b / t_x:.0f}x "
        f"({target(t_b / t_x, '>=', 10, 'x', full_size='256x256', quick=n != 256)}) "
        f"| max rel diff {err:.1e}"
    )
    return {"n": n, "xbar_s": t_x, "badcrossbar_s": t_b, "ratio": t_b / t_x, "rel_diff": float(err)}


def bench_strong(n, rng, repeat):
    G, v, kw = case(n, rng)
    t_mild, _ = timeit(lambda: xbar_read(G, v, kw), repeat)
    it_mild = xbar.Crossbar(G, **kw).solve(v, np.zeros(n), method="pcg").iterations
    Gs, vs, kws = case(n, rng, lo=1e-5, hi=1e-4, r_wire=10.0)
    t_str, _ = timeit(lambda: xbar_read(Gs, vs, kws), repeat)
    it_str = xbar.Crossbar(Gs, **kws).solve(vs, np.zeros(n), method="pcg").iterations
    print(
        f"[2] {n}x{n} strong IR drop (10k-100k ohm cells, 10 ohm segments): {t_str * 1e3:.1f} ms, "
        f"{it_str} it | mild {t_mild * 1e3:.1f} ms, {it_mild} it | ratio {t_str / t_mild:.2f} "
        f"({target(t_str / t_mild, '<=', 3, '', full_size='256x256', quick=n != 256)})"
    )
    return {
        "n": n,
        "strong_s": t_str,
        "mild_s": t_mild,
        "ratio": t_str / t_mild,
        "it_strong": int(it_str),
        "it_mild": int(it_mild),
    }


_PEAK = r"""
import resource, sys, time, numpy as np, xbar
n = int(sys.argv[1])
rng = np.random.default_rng(0)
G = rng.uniform(1e-6, 1e-4, (n, n)); v = rng.uniform(0, 0.3, n)
kw = dict(r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); I = xbar.Crossbar(G, **kw).read(v, method="pcg"); dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, (peak - base) / 1024.0, peak / 1024.0)
"""


def bench_large(n):
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(n)], capture_output=True, text=True, check=True
    ).stdout.split()
    dt, extra_mb, peak_mb = map(float, out)
    q = n != 1024
    print(
        f"[3] {n}x{n} one read: {dt:.2f} s ({target(dt, '<', 2, ' s', full_size='1024x1024', quick=q)})"
        f" | memory above the loaded inputs {extra_mb:.0f} MB, process peak {peak_mb:.0f} MB "
        f"({target(peak_mb, '<', 500, ' MB', full_size='1024x1024', quick=q)})"
    )
    return {"n": n, "time_s": dt, "extra_mb": extra_mb, "peak_mb": peak_mb}


_HUGE = r"""
import resource, sys, time, numpy as np, xbar
from xbar.circuit import memory
n = int(sys.argv[1])
rng = np.random.default_rng(0)
G = rng.uniform(1e-6, 1e-4, (n, n)); v = rng.uniform(0, 0.3, n)
kw = dict(r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0)
xb = xbar.Crossbar(G, **kw)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); I = xb.read(v, method="pcg"); dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
est = memory.solve_bytes(n, n, 1, 1, full=False, direct=False)
print(dt, (peak - base) / 1024.0, peak / 1024.0, est / 2**20)
"""


def bench_huge(n):
    """Case 6 in fresh processes on one thread (the default for one read) and on two
    (``XBAR_NUM_THREADS=2``)."""
    import os

    rows = {}
    for threads in (1, 2):
        env = dict(os.environ, XBAR_NUM_THREADS=str(threads))
        out = subprocess.run(
            [sys.executable, "-c", _HUGE, str(n)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.split()
        dt, extra_mb, peak_mb, est_mb = map(float, out)
        print(
            f"[6] {n}x{n} one read, {threads} thread{'s' * (threads > 1)}: {dt:.1f} s "
            f"(target < 15 s at 4096²) | memory above the inputs "
            f"{extra_mb:.0f} MB, process peak {peak_mb:.0f} MB, up-front estimate {est_mb:.0f} MB"
        )
        rows[threads] = {
            "n": n,
            "threads": threads,
            "time_s": dt,
            "extra_mb": extra_mb,
            "peak_mb": peak_mb,
            "estimate_mb": est_mb,
        }
    return rows


def bench_batched(n, batch, rng):
    G, _, kw = case(n, rng)
    V = rng.uniform(0.0, 0.3, (batch, n))
    t_ideal, ideal = timeit(lambda: V @ G, 3)

    def run():
        xb = xbar.Crossbar(G, **kw)
        return xb.read(V)

    t_x, I = timeit(run, 3)
    print(
        f"[4] {n}x{n}, {batch} reads, fixed G (transfer matrix built inside the timing): "
        f"{t_x:.2f} s | ideal V @ G {t_ideal:.3f} s | ratio {t_x / t_ideal:.1f} "
        f"({target(t_x / t_ideal, '<=', 5, '', full_size='256x256 x 100,000 reads', quick=n != 256)})"
    )
    return {"n": n, "batch": batch, "xbar_s": t_x, "ideal_s": t_ideal, "ratio": t_x / t_ideal}


def bench_scaling(sizes, rng):
    print("[5] iterations and time of one read (PCG on the bit-line Schur complement):")
    print(
        f"    {'M x N':>11} {'r_wire':>7} {'r_term':>7} {'r·Ḡ·N²':>8} {'R·ΣG':>6} {'iters':>5} "
        f"{'time':>9}"
    )
    rows = []
    for n in sizes:
        for r_wire in (0.5, 2.5, 10.0):
            for r_term in (10.0, 100.0, 1000.0):
                G, v, kw = case(n, rng, r_wire=r_wire, r_term=r_term)
                xb = xbar.Crossbar(G, **kw)
                t, sol = timeit(lambda: xb.solve(v, np.zeros(n), method="pcg"), 3)
                strength = r_wire * G.mean() * n * n
                load = r_term * G.sum(axis=0).mean()
                print(
                    f"    {n:>5}x{n:<5} {r_wire:>7.1f} {r_term:>7.0f} {strength:>8.2f} "
                    f"{load:>6.2f} {sol.iterations:>5} {t * 1e3:>7.1f}ms"
                )
                rows.append(
                    {
                        "n": n,
                        "r_wire": r_wire,
                        "r_term": r_term,
                        "iterations": int(sol.iterations),
                        "time_s": t,
                    }
                )
    return rows


def bench_coarse(sizes, repeat=3):
    """Iterations and time of the PCG kernel with the coarse level off (0) and automatic (-1)."""
    from xbar._kernels import _pcg

    print("[7] one level vs two levels (coarse=0 vs the automatic choice):")
    rows = []
    for label, lo, hi, r_wire in (("mild", 1e-6, 1e-4, 2.5), ("strong", 1e-4, 1e-2, 20.0)):
        for n in sizes:
            G, v, kw = case(n, np.random.default_rng(0), lo=lo, hi=hi, r_wire=r_wire)
            net = xbar.Crossbar(G, **kw).network()
            prob = build_problem(net, v[None], np.zeros((1, n)))
            out = {}
            for coarse in (0, -1):

                def run():
                    X = prob.x.copy()
                    return _pcg.solve(
                        net.gc,
                        net.gw,
                        net.gb,
                        prob.dw_extra,
                        prob.db_extra,
                        prob.fixed_w,
                        prob.fixed_b,
                        prob.f,
                        X,
                        1e-15,
                        0.0,
                        100000,
                        1,
                        coarse,
                    )[1][0]

                out[coarse] = timeit(run, repeat)
            a = _pcg.coarse_block(n, n, -1, _pcg._span(net.gc, net.gw, net.gb))
            (t0, i0), (t1, i1) = out[0], out[-1]
            print(
                f"    {label:>6} {n:>5}x{n:<5} block {a:>2}: {i0:>4} vs {i1:>4} it, "
                f"{t0 * 1e3:>8.1f} vs {t1 * 1e3:>8.1f} ms (ratio {t0 / t1:.2f})"
            )
            rows.append(
                {
                    "case": label,
                    "n": n,
                    "block": a,
                    "it_one": int(i0),
                    "it_two": int(i1),
                    "time_one_s": t0,
                    "time_two_s": t1,
                }
            )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument(
        "--huge",
        type=int,
        metavar="N",
        help="also time one read of an NxN array "
        "in fresh processes on 1 and 2 threads (case 6; 4096: about a minute on a quiet machine)",
    )
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    q = args.quick
    res = {
        "fresh_read": bench_fresh_read(64 if q else 256, rng, 3 if q else 9),
        "badcrossbar": bench_badcrossbar(32 if q else 256, rng, 3 if q else 5),
        "strong_ir": bench_strong(64 if q else 256, rng, 3 if q else 7),
        "large": bench_large(128 if q else 1024),
        "batched": bench_batched(64 if q else 256, 2000 if q else 100_000, rng),
        "scaling": bench_scaling([32, 64] if q else [64, 128, 256, 512], rng),
        "coarse": bench_coarse([64, 128] if q else [128, 256, 512, 1024], 1 if q else 3),
    }
    if args.huge:
        res["huge"] = bench_huge(args.huge)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
