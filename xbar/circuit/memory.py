"""Up-front memory estimates of circuit solves, reads and maps, refused when they cannot fit.

A solve that runs out of memory half-way (or drives the machine into swap) is worse than a clear
refusal before the first allocation.  The estimates count the float64 arrays each path allocates
(reads: 2048² 853 MB and 4096² 3.2 GB measured before this module's tightening; full solves:
22-26 arrays of M·N per item, tracemalloc peaks at 48x40 to 256x256) and compare them with the memory the process may still use: ``MemAvailable`` of
``/proc/meminfo``, capped by a cgroup limit, or ``XBAR_MEMORY_LIMIT`` (bytes) when set.
"""

from __future__ import annotations

import os

from .._deprecate import renamed_kwarg
from ..exceptions import ConfigError, ResourceLimitError

_F8 = 8


def available_bytes() -> int | None:
    """Memory this process may still allocate, bytes (None when unknown)."""
    env = os.environ.get("XBAR_MEMORY_LIMIT")
    if env:
        try:
            limit = float(env)
        except ValueError:
            limit = float("nan")
        if not limit >= 0 or limit == float("inf"):
            raise ConfigError(f"XBAR_MEMORY_LIMIT must be a number of bytes >= 0, got {env!r}")
        return int(limit)
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
            with open(
                path.replace("memory.max", "memory.current").replace(
                    "limit_in_bytes", "usage_in_bytes"
                )
            ) as fh:
                used = int(fh.read().strip())
        except (OSError, ValueError):
            continue
        if raw.isdigit():
            left = int(raw) - used
            avail = left if avail is None else min(avail, left)
        break
    return avail


def network_bytes(M: int, N: int) -> int:
    """The conductance network and the kernel's factors: G, gc, gw, gb, terminal pattern
    (dw, db), diagonals and line factors (6·M·N: the word lines' pivots and segment
    conductances, the bit lines' factors, the diagonals).

    Parameters
    ----------
    M, N : int
        Word lines and bit lines.

    Returns
    -------
    int
        Bytes.
    """
    return _F8 * M * N * (4 + 2 + 6)


@renamed_kwarg(threads="n_threads")
def solve_bytes(M: int, N: int, batch: int, n_threads: int, *, full: bool, direct: bool) -> int:
    """Peak of one solve (``full``: ``Crossbar.solve``'s node voltages, cell currents and
    voltages, power terms; otherwise a read's column currents only), bytes.

    Parameters
    ----------
    M, N : int
        Word lines and bit lines.
    batch : int
        Items solved together.
    n_threads : int
        Threads of the solve (CG scratch per thread; formerly ``threads``, a deprecated keyword).
    full : bool
        ``Crossbar.solve`` (every node and cell) rather than a read.
    direct : bool
        Whether the sparse direct solver runs (its fill).

    Returns
    -------
    int
        Bytes.
    """
    MN = M * N
    per_item = 2 * 2 * MN  # f and x of the problem
    if full:
        # w, b, cell I and V, drops, power and error terms and their temporaries: tracemalloc
        # peaks of Crossbar.solve at 48x40 to 256x256, B = 1-32, are 22-26 arrays of M N.
        per_item += 24 * MN
    work = n_threads * 6 * MN  # CG scratch per thread
    if direct:
        nodes = 2 * MN
        work += 40 * nodes * max(1, nodes.bit_length())  # SuperLU fill (2-D grid, ~n log n)
    return _F8 * (per_item * batch + work) + network_bytes(M, N)


#: Requests below this many bytes are not checked (reading /proc costs ~0.1 ms; the small
#: reads of a training loop run at ~10 ms).
SMALL = 64 * 2**20


def check_fits(what: str, estimate: float, hint: str = "") -> None:
    """Raise ``ResourceLimitError`` when ``estimate`` (bytes) exceeds the available memory.

    Parameters
    ----------
    what : str
        What needs the memory (for the message).
    estimate : float
        Bytes needed.
    hint : str
        What to do instead (for the message).
    """
    if estimate < SMALL and "XBAR_MEMORY_LIMIT" not in os.environ:
        return
    avail = available_bytes()
    if avail is not None and estimate > avail:
        raise ResourceLimitError(
            f"{what} needs about {estimate:.3g} bytes ({estimate / 2**30:.2f} GiB) but only "
            f"{avail:.3g} bytes ({avail / 2**30:.2f} GiB) are available{'; ' + hint if hint else ''}",
            needed=float(estimate),
            available=float(avail),
        )
