"""Where does on-chip training lose accuracy? One rule, one update cadence, four kinds of layer.

Trains the same network from the same initial weights with the same rule, batch (one pulse step per
``--batch`` samples) and learning rate, on

* ``float``      floating-point layers (the rule's own updates);
* ``quantised``  floating-point layers whose updates go through the same pulse mapping, each pulse
  a fixed step of the pairs' nominal ``dw_per_pulse`` and weights clipped to ±w_max (isolates the
  mapping: stochastic rounding to whole pulses);
* ``ideal``      reset-only HfOx pairs, the same pulses, ideal reads ``x·W`` (adds the device:
  state-dependent steps, c2c/d2d variability, the window, refreshes);
* ``circuit``    the same pairs read through the circuit (128² tiles, 1 Ω wires, 8-bit DAC/ADC,
  ``xbar.train.CircuitReader``; adds IR drop and quantised reads);
* ``ideal-calibrated``, ``circuit-calibrated``: the same with ``PulseMapping(step="calibrated")``
  (each cell's pulse count sized by its calibrated step at its read state, per-device law);
  ``ideal-model``, ``circuit-model``: the calibrated step from the model's nominal law only;
  ``ideal-measured``, ``circuit-measured``: the model's law times each device's ratio learned
  from the state reads (``ResetOnlyWriter(step_calibration="measured")``).

``--max-pulses N`` lets the stochastic mapping round to up to N pulses per cell and update
(default 1, the former mapping).  ``--r-wire``, ``--adc-bits``, ``--dac-bits`` and ``--output-range`` change
the circuit variants' wires (ohm per segment; default 1), converters (default 8 bits; 0 = ideal)
and read-out gain (the per-tile pre-activation at the TIA swing; default 8; one per layer
with ``--output-range 2.5,1``),
to split the circuit's cost into IR drop and quantisation; ``--swap-reads`` also tests each
trained pulsed network through the other reads (the ideal-read network through the circuit, the
circuit-trained one with ideal reads), to tell a cost of training through the circuit from a
cost of inference through it.

    XBAR_DATA_DIR=/path/to/data PYTHONPATH=. python examples/train/compare_pulsed.py \
        --rule ff --n-train 10000 --n-test 2000 --epochs 2 --batch 100 --lr 0.002 \
        [--variants float,quantised,ideal,circuit] [--validation] [--momentum 0.9] [--max-pulses 4]

``--validation`` evaluates on the last 10,000 MNIST training digits instead of the test set (for
choosing ``--lr``). Prints one line per variant and epoch: test/validation and training accuracy
(on ``--n-test`` training samples), wall time and energy (training, evaluation) per epoch.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HIDDEN = {"ff": [100, 100], "competitive": [100, 100], "backprop": [100], "sgd": [], "sgd+lfm": []}


class QuantisedLayer:
    """A float layer updated only in whole pulses of ``dw`` (the pulse mapping, no device)."""

    def __init__(self, W, mapping, dw, w_max, rng, bias=True):
        from xbar.train import FloatLayer

        self._f = FloatLayer(W, bias=bias, w_max=w_max)
        self.mapping, self.dw, self.rng = mapping, dw, rng
        self.n_in, self.n_out, self.bias = self._f.n_in, self._f.n_out, bias

    @property
    def weights(self):
        from xbar.train import stacked_weights

        return stacked_weights(self._f)

    def forward(self, x):
        return self._f.forward(x)

    def update(self, x, delta):
        from xbar.train import augment

        self.apply_change(augment(x, self.bias).T @ delta)

    def apply_change(self, dW):
        self._f.apply_change(self.mapping.counts(dW, self.dw, self.rng) * self.dw)

    def state_dict(self):
        return self._f.state_dict()

    def load_state_dict(self, s):
        self._f.load_state_dict(s)


def circuit_reader(seed, r_wire=1.0, adc_bits=8, dac_bits=8, output_range=8.0):
    """The circuit variants' reads: 128² tiles, wires of ``r_wire`` ohm per segment, DAC and ADC
    of the given bits (0 = ideal), a per-tile pre-activation of ±``output_range`` (weight x input
    units) at the TIA swing."""
    import xbar.train as T
    from xbar.periphery import ADC, DAC, ArrayConfig

    return T.CircuitReader(
        array=ArrayConfig(max_rows=128, max_cols=128, r_wordline=r_wire, r_bitline=r_wire),
        adc=ADC(bits=adc_bits or None),
        dac=DAC(bits=dac_bits or None),
        random_state=seed,
        output_range=output_range,
    )


def layer_readers(n_layers, seed, r_wire=1.0, adc_bits=8, dac_bits=8, output_range=8.0):
    """One reader per layer (``output_range`` a number: one reader shared by every layer, as the
    factory does; a sequence: each layer's own read-out gain, in network order)."""
    ranges = np.atleast_1d(np.asarray(output_range, dtype=float))
    if ranges.size == 1:
        return [circuit_reader(seed, r_wire, adc_bits, dac_bits, float(ranges[0]))] * n_layers
    if ranges.size != n_layers:
        raise SystemExit(f"--output-range: {ranges.size} values for {n_layers} layers")
    return [circuit_reader(seed, r_wire, adc_bits, dac_bits, float(r)) for r in ranges]


def swapped_reads_accuracy(net, rule, X, y, reader):
    """Test accuracy of a trained pulsed network read through ``reader`` (one for every layer,
    or a list of one per layer) instead of its own reads (None: ideal reads ``x·W``); the
    network's readers are restored afterwards."""
    import xbar.train as T

    own = [lay.reader for lay in net.layers]
    readers = reader if isinstance(reader, list) else [reader] * len(net.layers)
    try:
        for lay, r in zip(net.layers, readers):
            lay.reader = r
        return T.evaluate(net, rule, X, y)
    finally:
        for lay, r in zip(net.layers, own):
            lay.reader = r


def build(
    variant,
    rule,
    n_in,
    hidden,
    seed,
    ledger,
    g_max,
    variability=True,
    max_pulses=1,
    r_wire=1.0,
    adc_bits=8,
    dac_bits=8,
    output_range=8.0,
):
    import xbar.train as T
    from xbar.devices import HfOxReRAM

    variant, _, step = variant.partition("-")
    # "-calibrated": per-device law; "-model": the model's nominal law; "-measured": model x ratio
    mapping = T.PulseMapping(
        "stochastic", max_pulses=max_pulses, step="calibrated" if step else "nominal"
    )
    writer = T.ResetOnlyWriter(step_calibration=step if step in ("model", "measured") else "device")
    quiet = (
        {}
        if variability
        else dict(
            g_min_dtod=0.0,
            g_max_dtod=0.0,
            set_sigma_rel=0.0,
            reset_sigma_rel=0.0,
            alpha_dtod=0.0,
            v_th_dtod=0.0,
        )
    )
    device = HfOxReRAM(g_min=g_max / 100, g_max=g_max, **quiet)
    factory = T.pulsed_layer_factory(device, writer, mapping, w_max=1.0, ledger=ledger)
    net = T.build_network(rule, n_in, 10, hidden, layer_factory=factory, random_state=seed)
    if variant == "circuit":
        readers = layer_readers(len(net.layers), seed, r_wire, adc_bits, dac_bits, output_range)
        for lay, r in zip(net.layers, readers):
            lay.reader = r
    if variant in ("ideal", "circuit"):
        return net
    rng = np.random.default_rng(seed + 7)
    if variant == "float":
        layers = [T.FloatLayer(T.stacked_weights(lay).copy()) for lay in net.layers]
    else:
        layers = [
            QuantisedLayer(T.stacked_weights(lay).copy(), mapping, lay.dw_per_pulse, lay.w_max, rng)
            for lay in net.layers
        ]
    return T.Network(layers, 10)


def main(argv=None):
    import xbar.train as T
    from xbar.cli.train import make_rule
    from xbar.data import load_mnist
    from xbar.pulses import EnergyLedger

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rule", default="ff")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--n-train", type=int, default=10000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--g-max", type=float, default=10e-6, help="S; g_min = g_max / 100")
    ap.add_argument("--variants", default="float,quantised,ideal,circuit")
    ap.add_argument("--validation", action="store_true")
    ap.add_argument(
        "--no-variability",
        action="store_true",
        help="devices without d2d and c2c variability (isolates the pulse law/window)",
    )
    ap.add_argument(
        "--momentum",
        type=float,
        default=0.0,
        help="SGD momentum (dense updates: a float velocity per weight)",
    )
    ap.add_argument(
        "--max-pulses",
        type=int,
        default=1,
        help="cap on pulses per cell per update of the stochastic mapping",
    )
    ap.add_argument(
        "--r-wire",
        type=float,
        default=1.0,
        help="circuit variants: word- and bit-line resistance per segment, ohm",
    )
    ap.add_argument(
        "--adc-bits", type=int, default=8, help="circuit variants: ADC bits (0 = ideal ADC)"
    )
    ap.add_argument(
        "--dac-bits", type=int, default=8, help="circuit variants: DAC bits (0 = ideal DAC)"
    )
    ap.add_argument(
        "--output-range",
        type=lambda t: tuple(float(v) for v in t.split(",")),
        default=(8.0,),
        help="circuit variants: per-tile pre-activation (weight x input units) at the TIA swing; "
        "one value for every layer or one per layer, comma-separated",
    )
    ap.add_argument(
        "--swap-reads",
        action="store_true",
        help="also test each trained pulsed network through the other reads (ideal <-> circuit): "
        "does the circuit cost the training or the inference?",
    )
    args = ap.parse_args(argv)
    X, y = load_mnist("train")
    X, y = X.reshape(len(X), -1) / 255.0, y.astype(np.int64)
    if args.validation:
        Xte, yte = X[50000 : 50000 + args.n_test], y[50000 : 50000 + args.n_test]
    else:
        Xte, yte = load_mnist("test")
        Xte, yte = (
            Xte[: args.n_test].reshape(args.n_test, -1) / 255.0,
            yte[: args.n_test].astype(np.int64),
        )
    Xtr, ytr = X[: args.n_train], y[: args.n_train]
    print(
        f"rule {args.rule} lr {args.lr} hidden {HIDDEN[args.rule]} batch {args.batch} "
        f"train {args.n_train} {'validation' if args.validation else 'test'} {args.n_test} "
        f"seed {args.seed} g_max {args.g_max} momentum {args.momentum} "
        f"variability {not args.no_variability} max_pulses {args.max_pulses} "
        f"r_wire {args.r_wire} adc_bits {args.adc_bits} dac_bits {args.dac_bits} "
        f"output_range {args.output_range}",
        flush=True,
    )
    for variant in args.variants.split(","):
        params = {} if args.lr is None else {"lr": args.lr}
        rule = make_rule(args.rule, params)
        ledger = EnergyLedger()
        net = build(
            variant,
            rule,
            Xtr.shape[1],
            HIDDEN[args.rule],
            args.seed,
            ledger,
            args.g_max,
            variability=not args.no_variability,
            max_pulses=args.max_pulses,
            r_wire=args.r_wire,
            adc_bits=args.adc_bits,
            dac_bits=args.dac_bits,
            output_range=args.output_range,
        )
        t0 = time.perf_counter()
        res = T.fit(
            net,
            (Xtr, ytr),
            rule=rule,
            epochs=args.epochs,
            random_state=args.seed,
            batch_size=args.batch,
            test=(Xte, yte),
            ledger=ledger,
            progress=False,
            train_eval_samples=args.n_test,
            optimizer=T.SGD(momentum=args.momentum),
        )
        dt = time.perf_counter() - t0
        for r in res.history:
            print(
                f"{variant:<10} epoch {r['epoch']} test {r['test_accuracy']:.4f} train "
                f"{r['train_accuracy']:.4f} wall {r['wall_s']:.0f} s energy train "
                f"{r['train_energy_J']:.3g} J eval {r['eval_energy_J']:.3g} J",
                flush=True,
            )
        print(f"{variant:<10} total {dt:.0f} s", flush=True)
        kind = variant.partition("-")[0]
        if args.swap_reads and kind in ("ideal", "circuit"):
            other = (
                None
                if kind == "circuit"
                else layer_readers(
                    len(net.layers),
                    args.seed,
                    args.r_wire,
                    args.adc_bits,
                    args.dac_bits,
                    args.output_range,
                )
            )
            acc = swapped_reads_accuracy(net, rule, Xte, yte, other)
            print(
                f"{variant:<10} tested through {'ideal' if kind == 'circuit' else 'circuit'} "
                f"reads: {acc:.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
