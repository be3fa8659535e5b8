"""Training speed per rule: samples/s of on-chip training on MNIST through the circuit.

Target of issue 6: one epoch of Forward-Forward on MNIST (784 -> 100 -> 100 on tiled arrays with
wire resistance and an 8-bit ADC, circuit-accurate forward passes) in < 5 min on the project's
2-core machine.  Each rule trains on ``--samples`` MNIST digits through
``xbar.train.analog.CircuitReader`` (tiles of ``--tile`` word lines x bit lines, 1 ohm wires,
10 ohm drivers and TIAs, 8-bit DAC and ADC, reset-only pulses on HfOx device pairs with d2d and
c2c variability, stochastic pulse mapping) and the time is extrapolated to 60,000 samples;
``--full`` runs the whole FF epoch.  The same rule with ideal reads (``x @ W``, same pulses) is
timed as the baseline.  Every update changes the conductances, so every step rebuilds each tile's
exact read maps (one column sweep per tile, ``xbar.circuit.transfer``, the tiles of a layer on two
threads) or solves each input: the cost per step is set by the tile shape, the cost per epoch by
the number of steps, i.e. ``--batch`` (samples whose updates are accumulated into one pulse step).

The read-out gain: ``--output-range R`` maps a per-tile pre-activation of ±R (weight x input
units, inputs after per-sample scaling) to the TIA swing (``CircuitReader(output_range=R)``).
The default 8 covers the per-tile partial sums of this network (|a| at the 99.9th
percentile 0.6-2.9 at the start and after 20,000 samples, largest 4.5, with ideal reads);
``--output-range 0`` keeps the window gain, under which a full-window input on every word line
reaches the swing, i.e. an 8-bit LSB of about ``tile / 128`` in those units, several times the
typical partial sum.

    XBAR_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/bench_train.py \
        [--samples 1000] [--batch 100] [--tile 256] [--rules ff,sgd] [--full] [--output-range 8]

BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` unless set): on this shared 2-core box
multi-threaded OpenBLAS made one sweep of a 256 x 256 tile 20x slower under load (28 s vs 1.3 s).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from _targets import target  # noqa: E402  (benchmarks/_targets.py, beside this script)

HIDDEN = {"ff": [100, 100], "competitive": [100, 100], "backprop": [100]}


def _data(n, split="train"):
    from xbar.data import load_mnist
    X, y = load_mnist(split)
    return X[:n].reshape(n, -1) / 255.0, y[:n].astype(np.int64)


def run(rule_name, X, y, batch, circuit, *, tile=256, seed=0, g_max=10e-6, test=None,
        output_range=8.0):
    """Train one epoch on (X, y); returns (samples/s, J per sample, layer tile shapes, test
    accuracy on ``test`` = (X, y) through the same reads, untimed)."""
    import xbar.train as T
    from xbar.cli.train import make_rule
    from xbar.devices import HfOxReRAM
    from xbar.periphery import ADC, DAC, ArrayConfig
    from xbar.pulses import EnergyLedger
    from xbar.train.analog import CircuitReader

    rule = make_rule(rule_name, {})
    ledger = EnergyLedger()
    reader = None
    if circuit:
        reader = CircuitReader(array=ArrayConfig(max_rows=tile, max_cols=tile, r_wordline=1.0,
                                                 r_bitline=1.0),
                               adc=ADC(bits=8), dac=DAC(bits=8), random_state=seed,
                               output_range=output_range or None)
    factory = T.pulsed_layer_factory(HfOxReRAM(g_min=g_max / 100, g_max=g_max),
                                     T.ResetOnlyWriter(), T.PulseMapping("stochastic"),
                                     w_max=1.0, ledger=ledger, reader=reader)
    net = T.build_network(rule, X.shape[1], 10, HIDDEN.get(rule_name, []),
                          layer_factory=factory, random_state=seed)
    t0 = time.perf_counter()
    T.fit(net, (X, y), rule=rule, epochs=1, seed=seed, batch_size=batch, ledger=ledger,
          progress=False)
    dt = time.perf_counter() - t0
    shapes = ([[t.G.shape for t in reader.analog(layer).tiles] for layer in net.layers]
              if reader else None)
    acc = T.evaluate(net, rule, *test) if test is not None else float("nan")
    return len(y) / dt, ledger.total() / len(y), shapes, acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=100,
                    help="samples per update step (their updates are accumulated)")
    ap.add_argument("--tile", type=int, default=256, help="word lines = bit lines per tile")
    ap.add_argument("--rules", default="ff,competitive,sgd,sgd+lfm,backprop")
    ap.add_argument("--full", action="store_true", help="one full epoch (60,000) of FF")
    ap.add_argument("--no-ideal", action="store_true", help="skip the ideal-read baseline")
    ap.add_argument("--output-range", type=float, default=8.0,
                    help="per-tile pre-activation full scale of the read-out (0: window gain)")
    args = ap.parse_args(argv)
    n = 60000 if args.full else args.samples
    X, y = _data(n)
    test = _data(2000, "test")
    rules = ["ff"] if args.full else args.rules.split(",")
    print(f"batch {args.batch}, tiles {args.tile} x {args.tile}, {n} samples, "
          f"output range {args.output_range or 'window gain'}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'rule':<12} {'reads':<8} {'samples/s':>10} {'epoch (60k) est.':>17} "
          f"{'energy/sample':>14} {'test acc (2k)':>13}  tiles")
    ff_epoch_min = None
    for rule in rules:
        for circuit in (True, False) if not args.no_ideal else (True,):
            rate, e, shapes, acc = run(rule, X, y, args.batch, circuit, tile=args.tile,
                                       test=test, output_range=args.output_range)
            if rule == "ff" and circuit:
                ff_epoch_min = 60000 / rate / 60
            print(f"{rule:<12} {'circuit' if circuit else 'ideal':<8} {rate:>10.1f} "
                  f"{60000 / rate / 60:>13.2f} min {e:>12.3g} J {acc:>13.3f}  {shapes or ''}",
                  flush=True)
    if ff_epoch_min is not None:
        how = "measured" if args.full else f"extrapolated from {n} samples"
        print(f"FF with circuit reads: one epoch {ff_epoch_min:.2f} min ({how}), "
              + target(ff_epoch_min, "<", 5, " min", full_size="one 60,000-sample epoch"))


if __name__ == "__main__":
    main()
