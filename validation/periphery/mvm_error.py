"""MVM error study: relative RMS error of an analog layer against the ideal ``x @ W.T``.

Three sweeps of a 256 x 256 layer (random Gaussian weights, inputs uniform in [-1, 1], default
periphery: 0.5-10 µS window, 10 ohm drivers and TIA inputs, 0.2 V reads):

1. ADC bits (3-12 and ideal) on 256 x 256 arrays with 1 ohm wires, full-swing and calibrated
   ADC ranges (min..max calibrated on a separate batch four times larger: the held-out batch
   clips where it exceeds the calibration extremes, which sets the floor of calibrated ranges);
2. wire resistance per segment (0-10 ohm), ideal DAC and ADC;
3. physical array size (32-256 rows and columns; the layer is tiled), 1 ohm wires, ideal and 8-bit
   ADC.

The error is ``sqrt(mean((y - x W^T)^2) / mean((x W^T)^2))``.  Results go to ``OUT/mvm_error.json``
and ``OUT/mvm_error.png``.  ``--quick`` runs a 64 x 64 layer with a few points (used by the tests).

    python validation/periphery/mvm_error.py [--quick] [--out DIR] [--batch B] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from xbar.periphery import ADC, DAC, AnalogLinear, ArrayConfig


def rel_rms(y: np.ndarray, ref: np.ndarray) -> float:
    """Relative RMS error of ``y`` against ``ref``."""
    return float(np.sqrt(np.mean((y - ref) ** 2) / np.mean(ref**2)))


def _layer(W, size: int, r_wire: float, adc: ADC, seed: int) -> AnalogLinear:
    return AnalogLinear(
        W,
        array=ArrayConfig(max_rows=size, max_cols=size, r_wordline=r_wire, r_bitline=r_wire),
        dac=DAC(bits=None),
        adc=adc,
        energy=False,
        random_state=seed,
    )


def run(n: int, bits_list, r_list, sizes, batch: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n))
    x = rng.uniform(-1, 1, size=(batch, n))
    x_cal = rng.uniform(-1, 1, size=(4 * batch, n))  # min/max calibration needs the tails
    ref = x @ W.T
    out: dict = {"n": n, "batch": batch, "seed": seed}

    # 1. ADC bits, largest array, 1 ohm
    size = max(sizes)
    layer = _layer(W, size, 1.0, ADC(bits=None), seed)
    ideal_adc = rel_rms(layer(x), ref)
    rows = []
    for b in bits_list:
        layer.set_adc(ADC(bits=b))
        full = rel_rms(layer(x), ref)
        layer.set_adc(ADC(bits=b, range="calibrate"))
        layer.calibrate(x_cal)
        cal = rel_rms(layer(x), ref)
        rows.append({"bits": b, "full_range": full, "calibrated": cal})
    out["adc_bits"] = {"array": size, "r_wire": 1.0, "ideal_adc": ideal_adc, "rows": rows}

    # 2. wire resistance, ideal periphery otherwise
    rows = []
    for r in r_list:
        layer = _layer(W, size, r, ADC(bits=None), seed)
        rows.append({"r_wire": r, "error": rel_rms(layer(x), ref)})
    out["wire_resistance"] = {"array": size, "rows": rows}

    # 3. array size, 1 ohm wires
    rows = []
    for s in sizes:
        layer = _layer(W, s, 1.0, ADC(bits=None), seed)
        e_ideal = rel_rms(layer(x), ref)
        layer.set_adc(ADC(bits=8))
        rows.append(
            {
                "array": s,
                "tiles": len(layer.tiles),
                "ideal_adc": e_ideal,
                "adc_8bit": rel_rms(layer(x), ref),
            }
        )
    out["array_size"] = {"r_wire": 1.0, "rows": rows}
    return out


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    a = res["adc_bits"]
    b = [r["bits"] for r in a["rows"]]
    ax[0].semilogy(b, [r["full_range"] for r in a["rows"]], "o-", label="full-swing range")
    ax[0].semilogy(b, [r["calibrated"] for r in a["rows"]], "s-", label="calibrated range")
    ax[0].axhline(a["ideal_adc"], color="k", ls="--", label="ideal ADC (wires, terminals)")
    ax[0].set(
        xlabel="ADC bits",
        ylabel="relative RMS error",
        title=f"{res['n']}x{res['n']} layer, {a['array']}² arrays, 1 Ω",
    )
    ax[0].legend(fontsize=8)
    w = res["wire_resistance"]
    r = [max(row["r_wire"], 1e-3) for row in w["rows"]]
    ax[1].loglog(r, [max(row["error"], 1e-17) for row in w["rows"]], "o-")
    ax[1].set(
        xlabel="wire resistance per segment (Ω)  [0 plotted at 1e-3]",
        ylabel="relative RMS error",
        title="ideal DAC/ADC, 10 Ω terminals",
    )
    s = res["array_size"]
    sz = [row["array"] for row in s["rows"]]
    ax[2].loglog(sz, [row["ideal_adc"] for row in s["rows"]], "o-", label="ideal ADC")
    ax[2].loglog(sz, [row["adc_8bit"] for row in s["rows"]], "s-", label="8-bit ADC")
    ax[2].set(xlabel="array rows = columns", ylabel="relative RMS error", title="1 Ω wires, tiled")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="64 x 64 layer, few points (tests)")
    p.add_argument("--out", type=Path, default=Path("results/periphery"))
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.quick:
        cfg = dict(
            n=64,
            bits_list=[4, 6, 8, 10],
            r_list=[0.0, 1.0, 10.0],
            sizes=[16, 64],
            batch=a.batch or 64,
        )
    else:
        cfg = dict(
            n=256,
            bits_list=[3, 4, 5, 6, 7, 8, 10, 12],
            r_list=[0.0, 0.1, 0.3, 1.0, 3.0, 10.0],
            sizes=[32, 64, 128, 256],
            batch=a.batch or 500,
        )
    t0 = time.perf_counter()
    res = run(seed=a.seed, **cfg)
    res["seconds"] = time.perf_counter() - t0
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "mvm_error.json").write_text(json.dumps(res, indent=1))
    plot(res, a.out / "mvm_error.png")
    print(f"MVM error of a {res['n']}x{res['n']} analog layer ({res['seconds']:.1f} s)")
    print(f"  ADC bits   full range   calibrated   (ideal ADC: {res['adc_bits']['ideal_adc']:.3e})")
    for r in res["adc_bits"]["rows"]:
        print(f"  {r['bits']:8d}   {r['full_range']:10.3e}   {r['calibrated']:10.3e}")
    print("  r_wire (ohm)   error")
    for r in res["wire_resistance"]["rows"]:
        print(f"  {r['r_wire']:12.2f}   {r['error']:.3e}")
    print("  array   tiles   ideal ADC    8-bit ADC")
    for r in res["array_size"]["rows"]:
        print(f"  {r['array']:5d}   {r['tiles']:5d}   {r['ideal_adc']:.3e}   {r['adc_8bit']:.3e}")
    print(f"  wrote {a.out / 'mvm_error.json'} and {a.out / 'mvm_error.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
