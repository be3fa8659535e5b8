"""How many threads xbar's kernels use: one rule for every OpenMP kernel and thread pool.

``default_threads()`` is the number of threads a kernel may use when the caller does not say:

1. ``XBAR_NUM_THREADS`` (an integer >= 1) when set: an explicit request, taken as is;
2. otherwise the CPUs this process may run on (``os.sched_getaffinity``, which respects
   ``taskset``, cgroup cpusets and container limits; ``os.cpu_count()`` where it does not exist),
   capped by the OpenMP runtime's present limit as threadpoolctl reads it: that is
   ``OMP_NUM_THREADS`` as the runtime read it when it was loaded, or what
   ``threadpoolctl.threadpool_limits(n, "openmp")`` (or ``omp_set_num_threads``) set since.
   The environment variable itself is consulted only when no OpenMP runtime is loaded: changing
   ``os.environ["OMP_NUM_THREADS"]`` later does not change OpenMP either (Dask's nannies, for
   one, set it to 1 in the parent process for the workers they spawn).

``resolve_threads(n_threads, work)`` turns a public ``n_threads`` argument (int or None) into a
count: an explicit value (the argument, else ``XBAR_NUM_THREADS``) is used as given; otherwise
``default_threads()`` capped at ``work`` independent items (one batch item per thread).
"""

from __future__ import annotations

import numbers
import os
import threading

from .exceptions import ConfigError

__all__ = [
    "available_cpus",
    "default_threads",
    "requested_threads",
    "resolve_threads",
    "batch_threads",
]

_ENV = "XBAR_NUM_THREADS"
_lock = threading.Lock()
_openmp: list | None = None  # get_num_threads of the loaded OpenMP runtimes (threadpoolctl)
_cpus: int | None = None  # the affinity mask's size, read once (a solve asks often)


def available_cpus() -> int:
    """Number of CPUs this process may run on (its affinity mask, read once), at least 1."""
    global _cpus
    if _cpus is None:
        try:
            _cpus = max(1, len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):  # not on Linux
            _cpus = max(1, os.cpu_count() or 1)
    return _cpus


def _env_count(name: str) -> int | None:
    """Positive integer environment variable ``name`` (None when unset or empty)."""
    raw = os.environ.get(name)
    if not raw or not raw.strip():
        return None
    first = raw.split(",")[0].strip()  # OMP_NUM_THREADS may list nested levels: "4,2"
    try:
        value = int(first)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be an integer >= 1 (a number of threads), got {raw!r}")
    return value


def _openmp_limit() -> int | None:
    """The smallest present thread limit of the loaded OpenMP runtimes (threadpoolctl), or None."""
    global _openmp
    if _openmp is None:
        with _lock:
            if _openmp is None:
                try:
                    from threadpoolctl import ThreadpoolController

                    # Inspecting the loaded libraries costs ~5 ms: once per process.
                    libs = ThreadpoolController().select(user_api="openmp").lib_controllers
                    _openmp = [lib.get_num_threads for lib in libs]
                except Exception:  # noqa: BLE001 (optional)
                    _openmp = []
    best = None
    for get in _openmp:
        n = get()
        if n is not None and n >= 1 and (best is None or n < best):
            best = n
    return best


def requested_threads() -> int | None:
    """The thread count ``XBAR_NUM_THREADS`` asks for (None when it is unset)."""
    return _env_count(_ENV)


def default_threads() -> int:
    """Threads an xbar kernel uses by default (see the module docstring), >= 1.

    Returns
    -------
    int
        ``XBAR_NUM_THREADS`` when set; otherwise the CPUs of the process's affinity mask, capped
        by the OpenMP runtime's limit (threadpoolctl; ``OMP_NUM_THREADS`` without a runtime).
    """
    asked = requested_threads()
    return asked if asked is not None else _machine_threads()


def _machine_threads() -> int:
    """The affinity mask's CPUs capped by the OpenMP limit (``default_threads`` without the
    request)."""
    n = available_cpus()
    cap = _openmp_limit()
    if cap is None:
        cap = _env_count("OMP_NUM_THREADS")
    if cap is not None and cap < n:
        n = cap
    return n


def resolve_threads(n_threads: int | None = None, work: int | None = None) -> int:
    """Thread count for a call with public argument ``n_threads`` over ``work`` items.

    Parameters
    ----------
    n_threads : int or None
        Threads the caller asks for (an integer >= 1), used as given.  None: ``XBAR_NUM_THREADS``
        when set (as given), else :func:`default_threads` capped at ``work``.
    work : int or None
        Independent items that can run in parallel (e.g. batch items; at least 1), or None for
        no cap.

    Returns
    -------
    int
        Number of threads, >= 1.
    """
    if n_threads is not None:
        if (
            isinstance(n_threads, bool)
            or not isinstance(n_threads, numbers.Integral)
            or n_threads < 1
        ):
            raise ConfigError(f"n_threads must be an integer >= 1 or None, got {n_threads!r}")
        return int(n_threads)
    asked = requested_threads()
    if asked is not None:
        return asked
    n = _machine_threads()
    if work is not None and work < n:
        n = int(work)
    return max(1, n)


def batch_threads(batch: int) -> int:
    """Threads for a batch of ``batch`` independent items: ``resolve_threads(None, batch)``.

    One item per thread; a single item runs on one thread unless ``XBAR_NUM_THREADS`` asks for
    more (sharing each iteration pays off only on an otherwise idle machine).

    Parameters
    ----------
    batch : int
        Number of independent items (e.g. right-hand sides), >= 1.

    Returns
    -------
    int
        Number of threads, >= 1.
    """
    return resolve_threads(None, batch)
