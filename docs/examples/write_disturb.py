"""Write disturb: V/2 against V/3 on a passive 64 x 64 array with wire resistance.

For each scheme, the worst voltage a selected cell receives (IR drop) and the worst voltage any
other cell sees (disturb), over the four corners and the centre; then the energy of one pulse by
part, and a map of the cell voltages.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import xbar  # noqa: E402
import xbar.plot  # noqa: E402

rng = np.random.default_rng(1)
G = rng.uniform(5e-6, 5e-5, (64, 64))  # S
xb = xbar.Crossbar(G, r_wordline=5.0, r_bitline=5.0, r_driver=50.0, r_sense=50.0)

amplitude = 1.2  # V
print(f"pulse amplitude {amplitude} V")
print(f"{'scheme':>8} {'worst selected (V)':>19} {'worst disturb (V)':>18} {'margin (V)':>11}")
for scheme in ("half", "third"):
    m = xb.disturb_margins(amplitude, scheme)
    print(
        f"{scheme:>8} {m.worst_selected_voltage:>19.3f} {m.worst_disturb_voltage:>18.3f} "
        f"{m.margin:>11.3f}"
    )

r = xb.apply_pulse(63, 63, amplitude=amplitude, width=100e-9, scheme="third")
print("\none 100 ns V/3 pulse on the far corner (63, 63), energy by part:")
for part, e in r.energy.as_dict().items():
    print(f"  {part:>14}: {e * 1e12:9.3f} pJ")
print(f"selected cell sees {r.cell_voltages[63, 63]:.3f} V of {amplitude} V")

fig, ax = plt.subplots(figsize=(5, 4))
xbar.plot.voltage_map(r, ax=ax, title="V/3 pulse on cell (63, 63)")
fig.tight_layout()
fig.savefig("voltage_map.png", dpi=80)
