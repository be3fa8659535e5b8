"""Exact read maps of a linear crossbar: ``T`` (N, M) and ``Y`` (M, M), A/V.

In a read (word-line sources ``V_row`` behind the drivers, every bit line at 0 V behind its sense
resistance) ``I_col = T @ V_row`` and ``I_row = Y @ V_row``.  Both come from one block sweep over
the columns in the Cython kernel ``xbar._kernels._maps`` (its docstring has the derivation):
every bit line is eliminated exactly (closed-form tridiagonal inverse), the fronts are the M
word-line nodes of a column, ``Y`` is the Schur complement of the network on the driver nodes and
``T`` follows from N adjoint sources (a unit current at the bottom of each bit line) carried along
the sweep.  The fronts are kept as ``diag(wire to the left) + E`` with ``E`` the admittance of
everything to the right, updated as ``E_j = C_j + E_{j+1} − E_{j+1} S_{j+1}⁻¹ E_{j+1}``: no entry
is ever the small difference of two wire-sized numbers, so T and Y stay accurate to ~1e-11
relative with 1 ohm wires and 0.1 µS cells (tested against dense nodal solves and
unit-excitation solves).

Cost ``N·(7/3)·M³ + M²·N²`` flops in LAPACK/BLAS (dpotrf, dtrsm, dsyrk), memory
``8·(4M² + 2MN)`` bytes,
no Python per column; the GIL is released for the whole sweep, so maps of several tiles can be
built concurrently (:func:`in_parallel`).  When only ``T`` is wanted and N < M, the sweep runs
on the transposed network (fronts of N nodes; ``T`` by reciprocity), ``M·(7/3)·N³ + M²·N²`` flops.

Needs resistive terminals and wires (``supported``); the cells may be 0 S (isolated 1T1R cells).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from .. import _threads
from .._deprecate import renamed_kwarg
from .._kernels import _maps  # type: ignore[attr-defined]  # compiled, no stub
from ..exceptions import ConfigError
from .nodal import NodalNetwork

__all__ = [
    "supported",
    "transfer_rows",
    "read_maps",
    "in_parallel",
    "sweep_flops",
    "front_nodes",
    "one_blas_thread",
]


class _OneBlasThread:
    """Context pinning BLAS to one thread while any thread of this process is inside it.

    The sweep makes ~N mid-size LAPACK calls; a multi-threaded OpenBLAS spin-waits between them
    and became ~10x slower as soon as another process competed for the cores.  The limit is
    process-wide, so concurrent map builds share one limit: the first to enter sets it, the last
    to leave restores the previous setting (nested and concurrent use is safe).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._controller: ThreadpoolController | None = None
        self._limiter = None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                if self._controller is None:
                    self._controller = ThreadpoolController()  # inspects the libraries once
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._depth += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                if self._limiter is not None:
                    self._limiter.restore_original_limits()
                self._limiter = None
        return False


one_blas_thread = _OneBlasThread()


def supported(net: NodalNetwork) -> bool:
    """True if the sweep applies (resistive terminals, no zero-resistance wire).

    Parameters
    ----------
    net : NodalNetwork
        The array's conductances, S.

    Returns
    -------
    bool
    """
    return bool(
        np.isfinite(net.g_driver).all()
        and np.isfinite(net.g_sense).all()
        and (net.g_driver > 0).all()
        and (net.g_sense > 0).all()
        and not net.ideal_wires
    )


def _transposed(M: int, N: int, admittance: bool) -> bool:
    """Whether :func:`read_maps` sweeps the flipped network (T only, and fewer bit lines)."""
    return not admittance and N < M


def front_nodes(M: int, N: int, admittance: bool = True) -> int:
    """Nodes per front of the sweep :func:`read_maps` runs on an M x N array.

    Parameters
    ----------
    M, N : int
        Word lines and bit lines of the array.
    admittance : bool
        Whether ``Y`` is built too (else ``T`` alone, on the transposed network when N < M).

    Returns
    -------
    int
    """
    return N if _transposed(M, N, admittance) else M


def sweep_flops(M: int, N: int, admittance: bool = True) -> float:
    """Floating-point operations of one map build of an M x N array (the orientation
    :func:`read_maps` takes).

    Parameters
    ----------
    M, N, admittance :
        As in :func:`front_nodes`.

    Returns
    -------
    float
        Operation count: ``(M·N/m)·(7/3)·m³ + (M·N)²`` for fronts of m nodes.
    """
    m = front_nodes(M, N, admittance)
    return (M * N // m) * (7.0 / 3.0) * m**3 + (M * N) ** 2


def sweep_seconds(M: int, N: int, admittance: bool = True) -> float:
    """Modelled time of one map build of an M x N array, s: :func:`sweep_flops` at the
    ``24e9·m/(m + 64)`` flop/s measured for fronts of m nodes (one BLAS thread on the 2-core
    development machine; calibration in :func:`xbar.circuit.cost.sweep_applies`).

    Parameters
    ----------
    M, N, admittance :
        As in :func:`front_nodes`.

    Returns
    -------
    float
        Seconds.
    """
    m = front_nodes(M, N, admittance)
    return sweep_flops(M, N, admittance) / (24e9 * m / (m + 64))


def _flipped(net: NodalNetwork) -> NodalNetwork:
    """The same network with word and bit lines swapped: rows become columns, read backwards so
    that each new word line's terminal is at its column 0 and each new bit line's at its last row.
    Its transfer matrix ``T'`` gives ``T = T'[::-1, ::-1].T`` (reciprocity)."""
    return NodalNetwork(
        np.ascontiguousarray(net.gc[::-1, ::-1].T),
        np.ascontiguousarray(net.gb[::-1, ::-1].T),
        np.ascontiguousarray(net.gw[::-1, ::-1].T),
        np.ascontiguousarray(net.g_sense[::-1]),
        np.ascontiguousarray(net.g_driver[::-1]),
    )


def read_maps(net: NodalNetwork, admittance: bool = True):
    """``(T, Y)`` of ``net``: T (N, M) and Y (M, M) (None unless ``admittance``), A/V.

    Releases the GIL during the sweep: call it from several threads to build several maps at
    once (BLAS stays on one thread per call, see ``one_blas_thread``).

    Parameters
    ----------
    net : NodalNetwork
        The array's conductances, S (``supported``).
    admittance : bool
        Whether ``Y`` is built too.

    Returns
    -------
    T : (N, M) ndarray
        A/V.
    Y : (M, M) ndarray or None
        A/V.
    """
    if not supported(net):
        raise ConfigError(
            "the read-map sweep needs finite, non-zero driver and sense resistances "
            "and wires with resistance > 0 (use unit-excitation solves otherwise)"
        )
    flip = _transposed(*net.shape, admittance)
    n = _flipped(net) if flip else net
    with one_blas_thread:
        T, Y, status = _maps.read_maps(
            np.ascontiguousarray(n.gc, dtype=np.float64),
            np.ascontiguousarray(n.gw, dtype=np.float64),
            np.ascontiguousarray(n.gb, dtype=np.float64),
            np.ascontiguousarray(n.g_driver, dtype=np.float64),
            np.ascontiguousarray(n.g_sense, dtype=np.float64),
            bool(admittance),
        )
    if status:
        raise ConfigError(
            f"read-map sweep: the front matrix of column {status - 1} is not "
            "positive definite (negative or non-finite conductances)"
        )
    if flip:
        T = np.ascontiguousarray(T[::-1, ::-1].T)
    return T, Y


@renamed_kwarg(workers="n_threads")
def in_parallel(fn, items: list, n_threads: int | None = None) -> list:
    """``[fn(x) for x in items]`` on ``n_threads`` threads (serially for one thread or one item).

    For map builds: the sweeps release the GIL, and BLAS is pinned to one thread for the whole
    batch.  Each result is bit-for-bit the serial one (every sweep is sequential).

    Parameters
    ----------
    fn : callable
        The work per item.
    items : list
        The items.
    n_threads : int or None
        Threads (>= 1); None = ``xbar._threads.default_threads()``.  (Formerly ``workers``,
        accepted as a deprecated keyword.)

    Returns
    -------
    list
        ``fn(x)`` per item, in order.
    """
    n_threads = _threads.resolve_threads(n_threads)
    with one_blas_thread:
        if n_threads <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=min(n_threads, len(items))) as pool:
            return list(pool.map(fn, items))


def transfer_rows(net: NodalNetwork, *, admittance: bool = False):
    """T (N, M) and, with ``admittance``, also Y (M, M), A/V (see the module docstring).

    Parameters
    ----------
    net : NodalNetwork
        The array's conductances, S.
    admittance : bool
        Whether ``Y`` is returned too.

    Returns
    -------
    ndarray or (ndarray, ndarray)
        ``T`` (N, M), or ``(T, Y)``, A/V.
    """
    T, Y = read_maps(net, admittance)
    return (T, Y) if admittance else T
