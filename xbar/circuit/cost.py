"""Cost model of a crossbar's read paths: when the exact read map pays off, and how it is built.

Two ways to read a linear crossbar: solve every input (batched PCG, ``xbar.circuit.dispatch``), or
build the exact map ``T`` once per conductance state (``xbar.circuit.maps``) and multiply.  A map
is built either by the block sweep of ``xbar.circuit.transfer`` or by min(M, N) unit-excitation
solves.  The models here (seconds, calibrated on the 2-core development machine, see
:func:`sweep_applies`) choose between them.

* :func:`transfer_break_even` -- the batch size from which a read builds the map rather than
  solving its inputs (the rule of ``Crossbar.read(method="auto")``, the periphery's tiles and
  the training readers).
* :func:`pcg_seconds` -- modelled time of batched unit-excitation PCG solves.
* :func:`sweep_applies` -- whether the block sweep beats the unit solves for a map.
"""

from __future__ import annotations

from .. import _threads
from . import transfer
from .nodal import NodalNetwork

__all__ = ["transfer_break_even", "pcg_seconds", "sweep_applies", "PCG_SECONDS_PER_NODE"]

#: Batched PCG unit solve, s per node (2·M·N nodes counted as M·N cells) and thread: measured
#: 1.4e-7-2.8e-7 s per cell on two cores (4.9e-7 at 512²), modelled as 4.5e-7.
PCG_SECONDS_PER_NODE = 4.5e-7
#: Scratch of a map sweep above which unit solves are used instead, bytes.
SWEEP_MEMORY_LIMIT = 4e9


def transfer_break_even(M: int, N: int) -> int:
    """Batch size from which building the exact read map of an M x N array pays off.

    The map (block sweep) costs about as much as ``min(M, N)/3`` single reads (measured), so a
    batch of at least ``max(1, min(M, N) // 3)`` inputs builds it.

    Parameters
    ----------
    M, N : int
        Word lines (rows) and bit lines (columns) of the array, >= 1.

    Returns
    -------
    int
        The smallest batch (number of inputs, >= 1) read through the map.
    """
    return max(1, min(int(M), int(N)) // 3)


def pcg_seconds(M: int, N: int, solves: int, n_threads: int | None = None) -> float:
    """Modelled time of ``solves`` batched unit-excitation PCG solves of an M x N array, s.

    Parameters
    ----------
    M, N : int
        Word lines and bit lines of the array.
    solves : int
        Right-hand sides (unit excitations), one per row for ``Y``, min(M, N) for ``T``.
    n_threads : int or None
        Threads the batch runs on; None = ``xbar._threads.default_threads()``.

    Returns
    -------
    float
        Seconds: ``solves · M · N · PCG_SECONDS_PER_NODE / n_threads``.
    """
    threads = _threads.default_threads() if n_threads is None else int(n_threads)
    return solves * M * N * PCG_SECONDS_PER_NODE / threads


def sweep_applies(net: NodalNetwork, admittance: bool = False) -> bool:
    """Whether the map sweep is cheaper than unit-excitation solves (and fits in memory).

    Calibrated on back-to-back timings on the 2-core EPYC (one BLAS thread for the sweep,
    batched PCG on both cores; G ~ U[1, 100] µS, 2.5 ohm wires, 100 ohm terminals): the sweep
    (``transfer.sweep_flops``) ran at 6, 12, 18, 23 and 23 GFLOP/s with fronts of 32, 64, 128,
    256 and 512 nodes (32²: 0.6 ms, 64²: 4.6 ms, 128x72: 24 ms, 128²: 47 ms, 256²: 0.62 s,
    512²: 10 s with Y; the final kernel, timed at load 2 with 1 ohm wires: 64² 5.4 ms,
    128x72 24 ms, 128² 49 ms, 256² 0.77 s), modelled as ``24e9·m/(m + 64)`` flop/s for a
    front of m nodes (``transfer.sweep_seconds``); a batched PCG unit solve cost
    1.4e-7–2.8e-7 s per node on two cores (4.9e-7 at 512²), modelled as 4.5e-7 s per node and
    core (:func:`pcg_seconds`).  T needs min(M, N) solves, Y needs M.

    Parameters
    ----------
    net : NodalNetwork
        The array's conductances, S (``Crossbar.network()``).
    admittance : bool
        Whether the port admittance ``Y`` is built with ``T``.

    Returns
    -------
    bool
        True when the sweep applies (``transfer.supported``), is modelled faster and its scratch
        stays within 4 GB.
    """
    M, N = net.shape
    if not transfer.supported(net):
        return False
    front = transfer.front_nodes(M, N, admittance)
    sweep_s = transfer.sweep_seconds(M, N, admittance)
    solves = M if admittance else min(M, N)
    memory = 8.0 * (4 * front**2 + 2 * M * N)
    return sweep_s <= pcg_seconds(M, N, solves) and memory <= SWEEP_MEMORY_LIMIT
