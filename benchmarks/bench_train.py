"""Training speed per rule: samples/s of on-chip training on MNIST through the circuit.

One epoch of Forward-Forward on MNIST (784 -> 100 -> 100, tiled 256 x 256 arrays, 1 ohm wires,
8-bit ADC, circuit-accurate forward passes through ``xbar.periphery.AnalogLinear``, reset-only
pulses on HfOx device pairs) must take < 5 min on the project's 2-core machine. The default run
trains each rule on ``--samples`` MNIST digits and extrapolates to 60,000; ``--full`` runs the
whole epoch of FF. Float (ideal-read) runs of the same rule are measured in the same run as the
baseline.

    XBAR_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/bench_train.py \
        [--samples 3000] [--batch 100] [--full] [--rules ff,sgd]

Reads use each tile's exact transfer matrix, rebuilt after every update (``read_method``).
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def _data(n):
    from xbar.data import load_mnist
    X, y = load_mnist("train")
    return X[:n].reshape(n, -1) / 255.0, y[:n].astype(np.int64)


def run(rule_name, X, y, batch, circuit, seed=0, read_method="transfer"):
    import xbar.train as T
    from xbar.cli.train import make_rule
    from xbar.devices import HfOxReRAM
    from xbar.periphery import ADC, DAC, ArrayConfig
    from xbar.pulses import EnergyLedger
    from xbar.train.analog import CircuitReader

    rule = make_rule(rule_name, {})
    hidden = {"ff": [100, 100], "competitive": [100, 100], "backprop": [100]}.get(rule_name, [])
    ledger = EnergyLedger()
    reader = None
    if circuit:
        reader = CircuitReader(array=ArrayConfig(max_rows=256, max_cols=256, r_wordline=1.0,
                                                 r_bitline=1.0),
                               adc=ADC(bits=8), dac=DAC(x_max=4.0), read_method=read_method,
                               random_state=seed)
    factory = T.pulsed_layer_factory(HfOxReRAM(g_min=1e-6, g_max=100e-6), T.ResetOnlyWriter(),
                                     T.PulseMapping("stochastic"), w_max=1.0, ledger=ledger,
                                     reader=reader)
    net = T.build_network(rule, X.shape[1], 10, hidden, layer_factory=factory, random_state=seed)
    t0 = time.perf_counter()
    T.fit(net, (X, y), rule=rule, epochs=1, seed=seed, batch_size=batch, ledger=ledger,
          progress=False)
    dt = time.perf_counter() - t0
    return len(y) / dt, ledger.total()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--rules", default="ff,competitive,sgd,sgd+lfm,backprop")
    ap.add_argument("--full", action="store_true", help="one full epoch (60,000) of FF")
    args = ap.parse_args(argv)
    n = 60000 if args.full else args.samples
    X, y = _data(n)
    rules = ["ff"] if args.full else args.rules.split(",")
    print(f"{'rule':<12} {'reads':<8} {'samples/s':>10} {'epoch (60k) est.':>17} {'energy/sample':>14}")
    for rule in rules:
        for circuit in (True, False):
            rate, energy = run(rule, X, y, args.batch, circuit)
            print(f"{rule:<12} {'circuit' if circuit else 'ideal':<8} {rate:>10.1f} "
                  f"{60000 / rate / 60:>14.2f} min {energy / len(y):>12.3g} J", flush=True)
    if "ff" in rules:
        print("target: FF with circuit reads, one epoch < 5 min")


if __name__ == "__main__":
    main()
