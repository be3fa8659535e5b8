"""Exact reads of a small batch through a linear crossbar without building its read maps.

Between two pulse steps of on-chip training only the pulsed cells change, but they are many: a
reset-only step of Forward-Forward on MNIST (784-100-100, 128² tiles, stochastic pulse mapping;
measured over 600 samples) changes a median of 66 cells per tile of layer 1 at one update per
sample, 138 at one per 10 samples and 78 at one per 100 (layer 2: 168, 416, 868), while a tile
is read only 2, 20 and 200 times before the next step (positive and negative passes).  A
low-rank (Woodbury) update of the maps, ``T' = T − H Δ (I + Z Δ)⁻¹ R`` with ``R``, ``H``, ``Z``
the responses at the k changed cells, needs one solve per changed cell: more than solving the
reads themselves at 1 and 10 samples per step, more than rebuilding the maps at 100.  The fast
exact path is therefore: solve the reads when the batch is small (this module), rebuild the
maps (``xbar.circuit.transfer``) when it is large, chosen per tile by :func:`maps_pay_off`.

:func:`read_currents` solves the reads with the Cython kernel ``xbar._kernels._reads``:
conjugate gradients on the bit-line Schur complement, preconditioned by exact bit-line solves,
all right-hand sides innermost so that each line sweep serves the whole batch, and the row
currents (driver admittance) returned with the column currents so that the read energy is booked
without the maps.  Every read agrees with the exact maps to ~1e-13 relative at the default
``rtol`` (2e-11 on stress cases; tested at 1e-9 against the maps, the dense nodal solve and
``Crossbar.solve``).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._kernels import _reads  # type: ignore[attr-defined]  # compiled, no stub
from .._validation import check_scalar
from ..exceptions import ConfigError, ConvergenceError
from . import transfer
from .nodal import NodalNetwork as Network

__all__ = ["supported", "read_currents", "maps_pay_off"]

_POOL: ThreadPoolExecutor | None = None


def supported(net: Network) -> bool:
    """True if the kernel applies: resistive terminals and wires (as the map sweep)."""
    return transfer.supported(net)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="xbar-read")
    return _POOL


def _solve(args, V, rtol, maxiter):
    icol, irow, iters, status = _reads.read(*args, V, rtol, maxiter)
    bad = np.flatnonzero(status != 0)
    if bad.size:
        k = int(bad[0])
        why = ("iteration limit reached" if status[k] == 1 else
               "breakdown: the Schur complement is not positive definite")
        raise ConvergenceError(f"exact read of batch item {k} did not converge: {why} after "
                               f"{int(iters[k])} iterations (rtol={rtol})",
                               iterations=int(iters[k]), residual=float("nan"))
    return icol, irow


def read_currents(net: Network, V: np.ndarray, *, rtol: float = 1e-11, maxiter: int = 200,
                  workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Column and row currents (A) of the reads ``V`` (B, M) (V; bit lines at 0 V).

    Parameters
    ----------
    net : Network
        The crossbar's network (``Crossbar.network()``: 1T1R access devices folded in).
    V : (B, M) array
        Driver source voltages, V (finite).
    rtol : float
        Preconditioned-residual reduction at which CG stops.  The read error is about
        ``rtol`` or less (1e-11: at most 2e-11 relative on stress cases up to 256², 100 µS
        cells, 10 ohm wires; 1e-10 gave 2e-10).
    workers : int
        Threads the batch is split over (the kernel releases the GIL).

    Returns
    -------
    I_col : (B, N) ndarray
        Currents into the sense terminals, A (``V @ T.T``).
    I_row : (B, M) ndarray
        Currents out of the drivers, A (``V @ Y``).
    """
    check_scalar(rtol, "rtol", low=0.0, low_open=True, high=1.0)
    check_scalar(maxiter, "maxiter", low=1, integer=True)
    if not supported(net):
        raise ConfigError("the exact read kernel needs finite, non-zero driver and sense "
                          "resistances and wires with resistance > 0")
    M, N = net.shape
    V = np.ascontiguousarray(V, dtype=np.float64)
    if V.ndim != 2 or V.shape[1] != M:
        raise ConfigError(f"V must have shape (B, {M}), got {V.shape}")
    if not np.isfinite(V).all():
        raise ConfigError("V must be finite (driver voltages, V)")
    gw = net.gw if N > 1 else np.ones((M, 1))
    gb = net.gb if M > 1 else np.ones((1, N))
    args = tuple(np.ascontiguousarray(a, dtype=np.float64)
                 for a in (net.gc, gw, gb, net.g_driver, net.g_sense))
    B = V.shape[0]
    if workers <= 1 or B < 2:
        return _solve(args, V, float(rtol), int(maxiter))
    parts = np.array_split(np.arange(B), min(workers, B))
    futs = [_pool().submit(_solve, args, V[p[0]:p[-1] + 1], float(rtol), int(maxiter))
            for p in parts]
    res = [f.result() for f in futs]
    return np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res])


# Cost model (seconds), calibrated on this 2-core EPYC with one thread per call: the map sweep
# with Y takes transfer.sweep_seconds (24e9·m/(m+64) flop/s for fronts of m = M nodes), an exact
# read costs ~5e-8 s per cell and right-hand side (128² at B = 20: 20 ms at load 2, 20-55 ms
# at load 8; 128x72 at B = 20: 8-10 ms; single inputs 0.65 ms at 128x72, 2 ms at 128²).  Maps
# of a 128² tile pay off from ~60 reads, of a 128x72 tile from ~50.
_READ_S_PER_CELL = 6e-8


def maps_pay_off(M: int, N: int, reads: int) -> bool:
    """Whether building the exact maps (T and Y) of an M x N tile costs less than ``reads``
    exact reads of the same conductances."""
    return reads * M * N * _READ_S_PER_CELL >= transfer.sweep_seconds(M, N, admittance=True)
