"""Benchmark: a 784 -> 256 analog layer, r_wire = 1 ohm, 8-bit DAC and ADC, batch 10,000.

Prints the one-off set-up (mapping, and the per-tile transfer matrix and driver admittance built
from unit-excitation circuit solves), the time of a circuit-accurate forward pass with its energy
booking, and the ratio against the ideal ``x @ W.T`` measured in the same run.  Target: forward
< 1 s.  ``--quick`` runs a 196 -> 64 layer with batch 1,000 (for CI).

    python benchmarks/bench_analog_layer.py [--quick] [--batch B] [--repeat R]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from xbar.periphery import ADC, DAC, AnalogLinear, ArrayConfig

from _targets import target  # benchmarks/_targets.py (the script's directory is on sys.path)


def _best(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="196 -> 64 layer, batch 1,000")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    n_in, n_out, batch = (196, 64, 1000) if a.quick else (784, 256, 10_000)
    batch = a.batch or batch
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    x = rng.uniform(0, 1, size=(batch, n_in))  # pixel-like, non-negative

    t0 = time.perf_counter()
    layer = AnalogLinear(
        W,
        array=ArrayConfig(max_rows=256, max_cols=256, r_wordline=1.0, r_bitline=1.0),
        dac=DAC(bits=8),
        adc=ADC(bits=8),
        random_state=0,
    )
    t_map = time.perf_counter() - t0
    t0 = time.perf_counter()
    for tile in layer.tiles:
        tile.linear_maps(with_energy=True)
    t_setup = time.perf_counter() - t0

    t_ideal = _best(lambda: x @ W.T, a.repeat)
    t_layer = _best(lambda: layer(x), a.repeat)
    layer.energy = False
    t_noenergy = _best(lambda: layer(x), a.repeat)
    layer.energy = True
    y, ref = layer(x), x @ W.T
    rel = np.sqrt(np.mean((y - ref) ** 2) / np.mean(ref**2))
    per = layer.ledger.per_sample()

    print(
        f"analog layer {n_in} -> {n_out}, {len(layer.tiles)} tiles of <= 256 x 256, r_wire = 1 ohm,"
        f" 8-bit DAC/ADC, batch {batch:,}"
    )
    print(f"  mapping                         {t_map:8.3f} s")
    print(f"  set-up (T and Y of every tile)  {t_setup:8.3f} s   (once per conductance state)")
    print(f"  ideal x @ W.T                   {t_ideal:8.4f} s")
    goal = target(
        t_layer,
        "<",
        1.0,
        " s",
        full_size="784 -> 256, batch 10,000",
        quick=(n_in, n_out, batch) != (784, 256, 10_000),
    )
    print(
        f"  analog forward (with energy)    {t_layer:8.4f} s   ratio {t_layer / t_ideal:6.1f}x"
        f"   {goal}"
    )
    print(
        f"  analog forward (no energy)      {t_noenergy:8.4f} s   ratio "
        f"{t_noenergy / t_ideal:6.1f}x"
    )
    print(f"  relative RMS error vs ideal     {rel:8.2e}")
    print(
        f"  energy per sample               {per['total'] * 1e9:8.3f} nJ  (read "
        f"{per.get('read', 0) * 1e9:.3f}, ADC {per.get('adc', 0) * 1e9:.3f}, DAC "
        f"{per.get('dac', 0) * 1e9:.3f}, TIA {per.get('tia', 0) * 1e9:.4f} nJ)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
