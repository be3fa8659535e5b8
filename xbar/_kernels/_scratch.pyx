"""A pool of float64 scratch arrays reused between kernel calls.

On this project's VMs the first touch of a fresh page costs ~2.7 µs per 4 KiB (1,637 faults added
4.5 ms to a 9 ms 256 x 256 solve, measured), and glibc hands big freed blocks back to the system,
so every call paid it again.  Arrays are taken and given back under the GIL (list operations are
atomic), so concurrent calls never share one.

:func:`take` and :func:`give` are the kernel package's public pool verbs: the solvers use them for
their factors and work vectors, and callers (``xbar.circuit``) for problem vectors they hand to the
solvers.
"""
import mmap

import numpy as np

_POOL = []
_POOL_KEEP = 4                     # arrays kept
_POOL_MAX_BYTES = 64 * 2 ** 20     # larger ones are freed (their solve dwarfs the page faults)
# Arrays from this size on are anonymous maps of 4 KiB pages.  NumPy asks for transparent huge
# pages on large arrays (madvise), and with this VM's THP defrag setting a fresh huge page is
# found by direct compaction: first touch of 2 GB measured 1.6-3.7 s that way, 1.3-2.2 s with
# 4 KiB pages (sys time 1.5-3.3 vs 1.1-1.4 s); a fresh 4096² read (~1.9 GB of kernel scratch)
# 15.0-17.3 -> 11.7-12.7 s in the same run.  (Pages already backed by the host re-fault faster
# as huge pages: a second 4096² read in the same process is ~1.5 s slower with 4 KiB pages.)
_SMALL_PAGES_BYTES = 64 * 2 ** 20


def take(Py_ssize_t n):
    """A float64 array of at least ``n`` elements (contents undefined), from the pool if possible.

    Parameters
    ----------
    n : int
        Number of float64 elements needed (>= 0; at least one is allocated).

    Returns
    -------
    numpy.ndarray
        A 1-D float64 array; hand it back with :func:`give` when done.  Arrays of 64 MiB and
        more are fresh anonymous memory maps (4 KiB pages, zero-filled).
    """
    best = -1
    for i, a in enumerate(_POOL):
        if a.size >= n and (best < 0 or a.size < _POOL[best].size):
            best = i
    if best >= 0:
        return _POOL.pop(best)
    if n * 8 >= _SMALL_PAGES_BYTES:
        return np.frombuffer(mmap.mmap(-1, n * 8), dtype=np.float64)
    return np.empty(max(n, 1))


def give(a):
    """Return an array obtained from :func:`take` to the pool (it must no longer be used).

    Parameters
    ----------
    a : numpy.ndarray
        The array; arrays over 64 MiB are left to the garbage collector.
    """
    if a.nbytes <= _POOL_MAX_BYTES:
        _POOL.append(a)
        if len(_POOL) > _POOL_KEEP:
            del _POOL[min(range(len(_POOL)), key=lambda i: _POOL[i].size)]
