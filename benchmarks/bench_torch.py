"""Benchmark: what the PyTorch bridge adds to circuit-accurate inference.

A 784 -> 256 -> 10 MLP (ReLU) converted by ``xbar.torch.convert`` (256 x 256 tiles, 1 ohm wires,
8-bit DAC and ADC, energy booked, per-sample input scaling) runs a batch of 1,000 inputs; the
baseline is the same two layers as ``xbar.periphery.AnalogLinear`` objects called directly on
numpy arrays with the same input scaling, bias and ReLU in numpy.  Both use the tiles' cached read
maps (built once before timing, not timed).  Rounds alternate the two; every round prints the
ratio bridge / numpy measured in that round.  Target: ratio < 5.  ``--quick``: 64 -> 32 -> 10,
batch 100 (for CI).

    python benchmarks/bench_torch.py [--quick] [--batch B] [--rounds R] [--repeat N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

import xbar.torch as xt
from bench_analog_layer import _best  # the benchmarks' timing helper (same directory)


def _numpy_forward(layers, biases, x, x_max):
    h = x
    for k, (layer, b) in enumerate(zip(layers, biases)):
        s = np.max(np.abs(h), axis=1, keepdims=True) / x_max
        s[s == 0] = 1.0
        h = layer.forward(h / s) * s + b
        if k < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="64 -> 32 -> 10, batch 100")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeat", type=int, default=3, help="timings per round (best is kept)")
    a = p.parse_args(argv)
    sizes, batch = ((64, 32, 10), 100) if a.quick else ((784, 256, 10), 1000)
    batch = a.batch or batch
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]))
    x = torch.rand(batch, sizes[0])  # pixel-like, non-negative
    hw = xt.Hardware(random_state=0)
    analog = xt.convert(model, hw).eval()

    # the same layers, called directly (own arrays, same configuration and seeds)
    from xbar.torch._program import ProgrammedLayer
    from xbar.pulses import EnergyLedger
    from xbar._random import check_random_state, spawn

    seeds = spawn(check_random_state(0), 2)
    ledger = EnergyLedger()
    direct = [
        ProgrammedLayer(
            m.weight.detach().double().numpy(), hw, name=str(k), ledger=ledger, random_state=s
        ).analog
        for k, m, s in ((0, model[0], seeds[0]), (2, model[2], seeds[1]))
    ]
    biases = [model[0].bias.detach().double().numpy(), model[2].bias.detach().double().numpy()]
    xn = x.double().numpy()

    t0 = time.perf_counter()
    with torch.no_grad():
        y_t = analog(x)
    t_first = time.perf_counter() - t0
    y_n = _numpy_forward(direct, biases, xn, hw.dac.x_max)
    diff = float(np.max(np.abs(y_t.double().numpy() - y_n)))

    def bridge():
        with torch.no_grad():
            analog(x)

    print(
        f"MLP {sizes[0]} -> {sizes[1]} -> {sizes[2]}, batch {batch:,}, tiles of <= 256 x 256, "
        "r_wire = 1 ohm, 8-bit DAC/ADC, energy booked"
    )
    print(f"  first call (builds the read maps)   {t_first:8.3f} s")
    print(f"  max |bridge - numpy| outputs         {diff:8.2e}  (float32 output)")
    ratios = []
    for r in range(a.rounds):
        t_np = _best(lambda: _numpy_forward(direct, biases, xn, hw.dac.x_max), a.repeat)
        t_br = _best(bridge, a.repeat)
        ratios.append(t_br / t_np)
        print(
            f"  round {r + 1}: numpy layers {t_np:7.4f} s   torch bridge {t_br:7.4f} s   "
            f"ratio {t_br / t_np:5.2f}x"
        )
    lo, hi = min(ratios), max(ratios)
    print(
        f"  ratio bridge / numpy over {a.rounds} rounds: {lo:.2f}-{hi:.2f}x (median "
        f"{np.median(ratios):.2f}x); target < 5x: {'met' if hi < 5 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
