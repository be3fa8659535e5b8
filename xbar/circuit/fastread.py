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
maps (``xbar.circuit.transfer``) when it is large, chosen per tile by :func:`maps_pay_off`
(the time model :func:`read_seconds`: measured seconds per cell and CG iteration).

:func:`read_currents` solves the reads with the Cython kernel ``xbar._kernels._reads``:
conjugate gradients on the bit-line Schur complement, preconditioned by exact bit-line solves,
all right-hand sides innermost so that each line sweep serves the whole batch, and the row
currents (driver admittance) returned with the column currents so that the read energy is booked
without the maps.  :func:`read_many` reads several tiles at once, their batches as jobs on a
thread pool (the kernel releases the GIL).  Every read agrees with the exact maps to ~1e-13
relative at the default ``rtol`` (2e-11 on stress cases; tested at 1e-9 against the maps, the dense nodal solve and
``Crossbar.solve``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _threads
from .._deprecate import renamed_kwarg
from .._kernels import _reads  # type: ignore[attr-defined]  # compiled, no stub
from .._validation import check_scalar
from ..exceptions import ConfigError, ConvergenceError
from . import transfer
from .nodal import NodalNetwork as Network

__all__ = [
    "supported",
    "read_currents",
    "read_many",
    "read_seconds",
    "maps_pay_off",
]

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
# right-hand sides per kernel block (see ``_reads.read``): 16 puts the 10-20 distinct reads a 128²
# tile gets per step at one update per 10 samples in one or two blocks of >= 10 (a single block of
# 10 ran 0.30 ms per read, two of 5 0.41-0.43 ms, best of 60 on the shared machine); in FF
# training runs alternated with blocks of 8, the solves took 0.81-1.12x the time (median 0.94,
# 7 pairs at batch 10; 0.88 in one pair at batch 100)
_BLOCK = 16
_JOB_READS = 32  # reads per thread-pool job at most (a tile's batch is split beyond that)


def supported(net: Network) -> bool:
    """True if the kernel applies: resistive terminals and wires (as the map sweep).

    Parameters
    ----------
    net : Network
        The crossbar's network (conductances in S).

    Returns
    -------
    bool
        Whether :func:`read_currents` accepts ``net``.
    """
    return transfer.supported(net)


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE < n:
        _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="xbar-read")
        _POOL_SIZE = n
    return _POOL


def _kernel_args(net: Network) -> tuple:
    M, N = net.shape
    gw = net.gw if N > 1 else np.ones((M, 1))
    gb = net.gb if M > 1 else np.ones((1, N))
    return tuple(
        np.ascontiguousarray(a, dtype=np.float64)
        for a in (net.gc, gw, gb, net.g_driver, net.g_sense)
    )


def _solve(args, V, rtol, maxiter):
    icol, irow, iters, status = _reads.read(*args, V, rtol, maxiter, _BLOCK)
    bad = np.flatnonzero(status != 0)
    if bad.size:
        k = int(bad[0])
        why = (
            "iteration limit reached"
            if status[k] == 1
            else "breakdown: the Schur complement is not positive definite"
        )
        raise ConvergenceError(
            f"exact read of batch item {k} did not converge: {why} after "
            f"{int(iters[k])} iterations (rtol={rtol})",
            iterations=int(iters[k]),
            residual=float("nan"),
        )
    return icol, irow, iters


def _check(net: Network, V, rtol, maxiter) -> np.ndarray:
    check_scalar(rtol, "rtol", low=0.0, low_open=True, high=1.0)
    check_scalar(maxiter, "maxiter", low=1, integer=True)
    if not supported(net):
        raise ConfigError(
            "the exact read kernel needs finite, non-zero driver and sense "
            "resistances and wires with resistance > 0"
        )
    M = net.shape[0]
    V = np.ascontiguousarray(V, dtype=np.float64)
    if V.ndim != 2 or V.shape[1] != M:
        raise ConfigError(f"V must have shape (B, {M}), got {V.shape}")
    if not np.isfinite(V).all():
        raise ConfigError("V must be finite (driver voltages, V)")
    return V


@renamed_kwarg(workers="n_threads")
def read_currents(
    net: Network,
    V: np.ndarray,
    *,
    rtol: float = 1e-11,
    maxiter: int = 200,
    n_threads: int | None = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Column and row currents (A) of the reads ``V`` (B, M) (V; bit lines at 0 V).

    Parameters
    ----------
    net : Network
        The crossbar's network (``Crossbar.network()``: 1T1R access devices folded in;
        conductances in S).
    V : (B, M) array
        Driver source voltages, V (finite).
    rtol : float
        Preconditioned-residual reduction at which CG stops (dimensionless).  The read error is
        about ``rtol`` or less (1e-11: at most 2e-11 relative on stress cases up to 256², 100 µS
        cells, 10 ohm wires; 1e-10 gave 2e-10).
    maxiter : int
        CG iterations per read at most (:class:`~xbar.exceptions.ConvergenceError` beyond).
    n_threads : int or None, default 1
        Threads the batch is split over (the kernel releases the GIL; None: ``xbar._threads.default_threads()``).
        Splitting one small batch rarely pays (a 128² tile at B = 10: 5-6 ms on two threads,
        4-5 ms on one); :func:`read_many` splits several tiles' reads instead.  ``workers`` is
        its deprecated name.

    Returns
    -------
    I_col : (B, N) ndarray
        Currents into the sense terminals, A (``V @ T.T``).
    I_row : (B, M) ndarray
        Currents out of the drivers, A (``V @ Y``).
    """
    icol, irow, _ = read_many(
        [net], [V], rtol=rtol, maxiter=maxiter, n_threads=n_threads, split=True
    )[0]
    return icol, irow


def read_many(
    nets: Sequence[Network],
    Vs: Sequence[np.ndarray],
    *,
    rtol: float = 1e-11,
    maxiter: int = 200,
    n_threads: int | None = None,
    split: bool = False,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Exact reads of several networks (e.g. a layer's tiles), their batches on a thread pool.

    Each network's batch becomes one job (cut into jobs of at most 32 reads, or into one job per
    thread with ``split``); the jobs run largest first on ``n_threads`` threads.  Every result is
    bit-for-bit the serial one (the kernel's arithmetic per read does not depend on the batch).

    Parameters
    ----------
    nets : sequence of Network
        The networks (conductances in S); see :func:`read_currents`.
    Vs : sequence of (B_k, M_k) arrays
        Driver voltages per network, V.
    rtol : float
        CG stopping tolerance (dimensionless), as in :func:`read_currents`.
    maxiter : int
        CG iterations per read at most.
    n_threads : int or None
        Threads (None: ``xbar._threads.default_threads()``).
    split : bool
        Also split a single network's batch over the threads.

    Returns
    -------
    list of (I_col (B_k, N_k), I_row (B_k, M_k), iterations (B_k,))
        Currents, A, and the CG iterations each read took.
    """
    if len(nets) != len(Vs):
        raise ConfigError(f"nets and Vs must have the same length, got {len(nets)} and {len(Vs)}")
    n = (
        _threads.default_threads()
        if n_threads is None
        else int(check_scalar(n_threads, "n_threads", low=1, integer=True))
    )
    Vs = [_check(net, V, rtol, maxiter) for net, V in zip(nets, Vs)]
    args = [_kernel_args(net) for net in nets]
    jobs = []  # (cost, network index, first, stop)
    for k, (net, V) in enumerate(zip(nets, Vs)):
        B = V.shape[0]
        parts = -(-B // _JOB_READS)
        if split:
            parts = max(parts, min(n, B // _BLOCK))
        bounds = np.linspace(0, B, max(parts, 1) + 1).astype(int)
        cells = net.shape[0] * net.shape[1]
        jobs += [(cells * (b - a), k, a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    jobs.sort(key=lambda j: -j[0])
    run = lambda j: _solve(args[j[1]], Vs[j[1]][j[2] : j[3]], float(rtol), int(maxiter))  # noqa: E731
    if n <= 1 or len(jobs) <= 1:
        res = [run(j) for j in jobs]
    else:
        res = list(_pool(n).map(run, jobs))
    out = []
    for k, (net, V) in enumerate(zip(nets, Vs)):
        mine = [(j[2], r) for j, r in zip(jobs, res) if j[1] == k]
        mine.sort(key=lambda t: t[0])
        if not mine:
            M, N = net.shape
            out.append((np.zeros((0, N)), np.zeros((0, M)), np.zeros(0, dtype=np.int64)))
        elif len(mine) == 1:
            out.append(mine[0][1])
        else:
            out.append(
                (
                    np.concatenate([r[0] for _, r in mine]),
                    np.concatenate([r[1] for _, r in mine]),
                    np.concatenate([r[2] for _, r in mine]),
                )
            )
    return out


# Cost model (seconds), from measurements on this 2-core EPYC (quiet, one thread per call, blocks
# of 8 right-hand sides, before blocks of 16 and the driver currents without a word sweep: both
# make reads cheaper, so the model errs towards the maps), the same conditions as
# ``transfer.sweep_seconds``.  An exact read costs
# ``M·N·(c_it·iterations + c_0)``: c_it ≈ 4e-9 s per cell and CG iteration (five line sweeps),
# c_0 ≈ 8e-9 s per cell for the rest (right-hand side, the first and last sweeps, the factors);
# a 128² tile of ~10 µS cells with 1 ohm wires takes 3-4 iterations, 0.33-0.4 ms per read
# (measured 0.39 ms), so its maps (56 ms modelled, 63 ms measured) pay off from ~140 reads.
_S_PER_CELL_ITERATION = 4e-9
_S_PER_CELL_READ = 8e-9
DEFAULT_ITERATIONS = 4


def read_seconds(M: int, N: int, reads: int, iterations: float = DEFAULT_ITERATIONS) -> float:
    """Modelled time of ``reads`` exact reads of an M x N tile by :func:`read_currents`, s.

    Parameters
    ----------
    M, N : int
        Word lines and bit lines of the tile.
    reads : int
        Number of reads (right-hand sides).
    iterations : float
        CG iterations per read (measured on the tile's previous reads, else 4).

    Returns
    -------
    float
        Seconds (one thread).
    """
    return reads * M * N * (_S_PER_CELL_ITERATION * iterations + _S_PER_CELL_READ)


def maps_pay_off(M: int, N: int, reads: int, iterations: float = DEFAULT_ITERATIONS) -> bool:
    """Whether building the exact maps (T and Y) of an M x N tile costs less than ``reads``
    exact reads of the same conductances.

    Parameters
    ----------
    M, N : int
        Word lines and bit lines of the tile.
    reads : int
        Reads the tile will serve before its conductances change.
    iterations : float
        CG iterations per read (see :func:`read_seconds`).

    Returns
    -------
    bool
        True when :func:`read_seconds` is at least ``transfer.sweep_seconds(M, N)``.
    """
    return read_seconds(M, N, reads, iterations) >= transfer.sweep_seconds(M, N, admittance=True)
