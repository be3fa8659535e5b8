"""IR drop: how far a circuit read departs from the ideal v @ G as arrays grow.

Square arrays of random conductances in [1 uS, 100 uS] are read with random inputs through
word- and bit-line wires of r ohm per segment and 100-ohm terminals; the error is the relative
RMS difference of the column currents from the ideal read.  The same read is checked against the
direct (SuperLU) solver, and the transfer map is used for a batch.
"""

import time

import numpy as np

import xbar

rng = np.random.default_rng(0)
print(f"{'size':>5} {'r (ohm)':>8} {'rel. RMS error':>15} {'PCG it':>7} {'pcg vs direct':>14}")
for n in (32, 64, 128):
    G = rng.uniform(1e-6, 1e-4, (n, n))  # S
    v = rng.uniform(0.0, 0.2, n)  # V
    ideal = v @ G  # A
    for r in (0.5, 2.5, 10.0):
        xb = xbar.Crossbar(G, r_wordline=r, r_bitline=r, r_driver=100.0, r_sense=100.0)
        sol = xb.solve(v, np.zeros(n), method="pcg")
        ref = xb.solve(v, np.zeros(n), method="direct")
        err = np.sqrt(np.mean((sol.col_currents - ideal) ** 2) / np.mean(ideal**2))
        agree = np.max(np.abs(sol.col_currents - ref.col_currents)) / np.max(np.abs(ideal))
        print(f"{n:>5} {r:>8.1f} {err:>15.2%} {int(sol.iterations):>7} {agree:>14.1e}")

# A batch of reads of one conductance state: the exact transfer map makes each a matrix product.
G = rng.uniform(1e-6, 1e-4, (128, 128))
xb = xbar.Crossbar(G, r_wordline=2.5, r_bitline=2.5, r_driver=100.0, r_sense=100.0)
V = rng.uniform(0.0, 0.2, (2000, 128))
t0 = time.perf_counter()
I_map = xb.read(V)  # auto: builds T, then V @ T.T
t_map = time.perf_counter() - t0
I_pcg = xb.read(V[:20], method="pcg")
print(
    f"\n2000 reads of a 128 x 128 array via the transfer map: "
    f"max deviation from per-read PCG solves {np.max(np.abs(I_map[:20] - I_pcg)):.1e} A "
    f"(currents up to {np.max(np.abs(I_pcg)):.1e} A)"
)
p = xb.read_power(V[0])
print("power of one read by part (W):", {k: f"{val:.2e}" for k, val in p.as_dict().items()})
