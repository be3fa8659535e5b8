"""Running a sweep: serially, on a local Dask cluster of processes, or on an existing Dask cluster.

The client process (the one calling :func:`run`) writes every record as its result arrives, so
workers need no shared file system and a record on disk is always complete.  Killing the run loses
only the points in flight; re-running skips every finished point.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from .._deprecate import renamed_kwarg
from ..exceptions import ConfigError
from .progress import Progress
from .records import RecordStore, table_rows, to_json_value, write_json_atomic, write_table
from .spec import Point, SweepSpec, load_spec


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@renamed_kwarg(seed="random_state")
def execute_point(fn, params: dict, random_state: int, metric_names: tuple[str, ...]) -> dict:
    """Run one point and return its outcome; never raises for an error of the task.

    Returns a dict with ``status`` ("ok" or "failed"), ``metrics``, ``error`` (type, message,
    traceback, or None; a task returning a NaN, infinite or None metric fails the point with error
    type ``"NonFiniteMetric"``, the other metrics are kept), ``wall_time_s``, ``started``, ``finished`` and ``host``.

    Parameters
    ----------
    fn : callable
        The task: ``fn(params, random_state) -> dict`` of metrics.
    params : dict
        The point's parameters.
    random_state : int
        The point's seed (the spec's ``seed`` axis), passed to the task as its random_state;
        ``seed`` is its deprecated keyword name.
    metric_names : tuple of str
        Metrics the task must return.
    """
    started, t0 = _now(), time.perf_counter()
    try:
        result = fn(dict(params), random_state)
        if not isinstance(result, dict):
            raise TypeError(f"the task returned {type(result).__name__}, not a dict of metrics")
        missing = [m for m in metric_names if m not in result]
        extra = [m for m in result if m not in metric_names]
        if missing or extra:
            raise KeyError(
                f"the task returned metrics {sorted(result)}; declared {list(metric_names)}"
            )
        metrics, bad = {}, []
        for m in metric_names:
            raw = result[m]
            v = to_json_value(raw)
            if v is not None and not isinstance(v, (bool, int, float, str)):
                raise TypeError(f"metric {m!r} must be a scalar, got {type(raw).__name__}")
            if v is None:
                bad.append(f"{m}={raw!r}")
            metrics[m] = v
        status, error = "ok", None
        if bad:  # a NaN or infinite metric is a failure of the point, not a result
            status = "failed"
            error = {
                "type": "NonFiniteMetric",
                "message": f"the task returned non-finite metrics: {', '.join(bad)} (stored "
                "as null; the finite metrics are kept)",
                "traceback": "",
            }
    except Exception as exc:  # a failing point is recorded, the sweep goes on
        status, metrics = "failed", {}
        error = {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": traceback.format_exc(),
        }
    return {
        "status": status,
        "metrics": metrics,
        "error": error,
        "wall_time_s": time.perf_counter() - t0,
        "started": started,
        "finished": _now(),
        "host": socket.gethostname(),
    }


def _lost_outcome(exc: BaseException) -> dict:
    """Outcome of a point whose worker died or whose result could not be fetched."""
    return {
        "status": "failed",
        "metrics": {},
        "wall_time_s": None,
        "started": None,
        "finished": _now(),
        "host": None,
        "error": {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)),
        },
    }


@dataclass
class SweepResult:
    """What :func:`run` returns.

    Parameters
    ----------
    spec : SweepSpec
        The sweep that ran.
    records : list of dict
        One record per point in spec order (``None`` for points not finished, after an interrupt).
    n_run : int
        Points computed in this call.
    n_skipped : int
        Points reused from earlier runs.
    out : Path or None
        Output directory (None when run without one).
    table : Path or None
        The combined table (Parquet or CSV).
    wall_time_s : float
        Wall time of this call (s).

    Attributes
    ----------
    n_ok, n_failed : int
        The status counts over all points.
    """

    spec: SweepSpec
    records: list
    n_run: int = 0
    n_skipped: int = 0
    out: Path | None = None
    table: Path | None = None
    wall_time_s: float = 0.0
    n_ok: int = field(init=False)
    n_failed: int = field(init=False)

    def __post_init__(self):
        self.n_ok = sum(1 for r in self.records if r and r["status"] == "ok")
        self.n_failed = sum(1 for r in self.records if r and r["status"] == "failed")

    def rows(self) -> list[dict]:
        """Flat rows (parameters and the spec's metrics) of the finished points."""
        return table_rows(
            [r for r in self.records if r], list(self.spec.task.params), list(self.spec.metrics)
        )

    def to_pandas(self):
        """The rows as a ``pandas.DataFrame`` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def summary(self) -> str:
        """One line: points ok / failed / reused / run and the wall time (s)."""
        return (
            f"{len(self.records)} points: {self.n_ok} ok, {self.n_failed} failed, "
            f"{self.n_skipped} reused, {self.n_run} run in {self.wall_time_s:.1f} s"
        )


def spec_summary(spec: SweepSpec, points: list[Point]) -> dict:
    """The JSON description of a sweep written to ``DIR/sweep.json`` (read by the report).

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    points : list of Point
        Its points (``spec.points()``).
    """
    from .. import __version__

    return {
        "name": spec.name,
        "description": spec.description,
        "task": spec.task.name,
        "task_version": spec.task.version,
        "base": spec.base,
        "axes": [
            {"names": list(a.names), "values": [list(v) for v in a.values]} for a in spec.axes
        ],
        "metrics": list(spec.metrics),
        "metric_docs": {m: spec.task.metrics[m] for m in spec.metrics},
        "timing_metrics": [m for m in spec.task.timing if m in spec.metrics],
        "params": list(spec.task.params),
        "units": {n: p.unit for n, p in spec.task.params.items()},
        "points": [p.hash for p in points],
        "xbar_version": __version__,
        "written": _now(),
    }


def memory_limit() -> float:
    """Physical memory of this machine, bytes (``inf`` where the OS does not tell)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return math.inf


def format_bytes(n: float) -> str:
    """A byte count as text with a decimal unit (``"4.59 MB"``).

    Parameters
    ----------
    n : float
        Number of bytes (>= 0).

    Returns
    -------
    str
        Three significant digits and the largest unit of kB ... PB not above ``n``.
    """
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def memory_estimates(spec: SweepSpec, points: list[Point]) -> list[float] | None:
    """Estimated peak memory (bytes) of every point, or None if the task gives no estimate.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    points : list of Point
        Its points (``spec.points()``).
    """
    if spec.task.memory is None:
        return None
    return [float(spec.task.memory(_task_params(p))) for p in points]


def check_memory(
    spec: SweepSpec, points: list[Point], max_memory: float | None = None
) -> float | None:
    """Refuse a sweep with a point whose memory estimate exceeds ``max_memory`` (bytes; default
    :func:`memory_limit`).  Returns the largest estimate (None without one).

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    points : list of Point
        Its points (``spec.points()``).
    max_memory : float or None
        Limit in bytes; default :func:`memory_limit`.
    """
    est = memory_estimates(spec, points)
    if not est:
        return None
    limit = memory_limit() if max_memory is None else float(max_memory)
    too_big = [k for k, e in enumerate(est) if e > limit]
    if too_big:
        k = max(too_big, key=lambda i: est[i])
        shown = (
            ", ".join(f"{n}={points[k].params[n]!r}" for n in spec.axis_names) or "the base point"
        )
        raise ConfigError(
            f"{len(too_big)} of {len(points)} points need more memory than the limit of "
            f"{format_bytes(limit)}; the largest ({shown}) needs an estimated {format_bytes(est[k])} "
            f"(task {spec.task.name!r}).  Reduce its size or batch, or pass max_memory "
            "(--max-memory GB) if the workers have more memory than this machine"
        )
    return max(est)


def run(
    spec: "str | os.PathLike | dict | SweepSpec",
    client=None,
    *,
    out: "str | os.PathLike | None" = None,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = True,
    progress: "TextIO | bool | None" = True,
    max_memory: float | None = None,
) -> SweepResult:
    """Run every point of a sweep and store the results.

    Parameters
    ----------
    spec : path, TOML text, dict or SweepSpec
        The sweep (validated completely before anything runs).
    client : dask.distributed.Client or None
        Run on this client's cluster (left open afterwards).
    out : path or None
        Output directory: records, combined table, ``sweep.json``.  Finished points found there are
        skipped.  ``None`` keeps the results in memory only.
    workers : int or None
        Without ``client``/``scheduler``: ``None`` starts a local Dask cluster with one
        single-threaded worker process per CPU (``XBAR_NUM_THREADS=1`` in each); ``N > 0`` one
        with N processes; ``0`` runs serially in this process without Dask.  Worker processes are
        spawned and re-import the main module, so a script calling ``run`` must do so under
        ``if __name__ == "__main__":``.
    scheduler : str or None
        Address of a running Dask scheduler (``tcp://HOST:PORT``) to connect to instead.
    retry_failed : bool
        Re-run points recorded as failed (finished ok points are always skipped).
    progress : file, bool or None
        Where to draw the progress bar: True for stderr (default), a file, or None/False for none.
    max_memory : float or None
        Memory one point may use, bytes (default: this machine's physical memory).  Points whose
        task estimates more are refused before anything runs (``check_memory``).

    Returns
    -------
    SweepResult
        Records in spec order and counts.  A Ctrl-C stops the run after writing the table of what
        finished; KeyboardInterrupt is re-raised.
    """
    t_start = time.perf_counter()
    spec = load_spec(spec)
    if client is not None and scheduler is not None:
        raise ConfigError("give either client or scheduler, not both")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 0
    ):
        raise ConfigError(f"workers must be None or an integer >= 0, got {workers!r}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ConfigError(
            f"scheduler must be an address string like 'tcp://host:8786', got {scheduler!r}"
        )

    points = spec.points()
    if max_memory is not None and (
        isinstance(max_memory, bool)
        or not isinstance(max_memory, (int, float))
        or not max_memory > 0
    ):
        raise ConfigError(f"max_memory must be a number of bytes > 0, got {max_memory!r}")
    check_memory(spec, points, max_memory)
    store = existing = None
    if out is not None:
        store = RecordStore(out)
        write_json_atomic(store.out / "sweep.json", spec_summary(spec, points))
        existing = store.load()
    results: dict[str, dict] = {}
    todo = []
    for p in points:
        rec = existing.get(p.hash) if existing else None
        if rec is not None and (rec["status"] == "ok" or not retry_failed):
            results[p.hash] = rec
        else:
            todo.append(p)
    n_skipped = len(points) - len(todo)
    stream = sys.stderr if progress is True else (progress or None)
    bar = Progress(len(points), n_skipped, stream)
    task = spec.task
    from .. import __version__

    def finish(p: Point, outcome: dict) -> None:
        rec = {
            "hash": p.hash,
            "task": task.name,
            "task_version": task.version,
            "seed": p.seed,
            "params": p.params,
            "xbar_version": __version__,
            **outcome,
        }
        if store is not None:
            store.write(rec)
        results[p.hash] = rec
        bar.update(rec["status"] == "ok")

    try:
        if not todo:
            pass
        elif client is None and scheduler is None and workers == 0:
            for p in todo:
                finish(p, execute_point(task.fn, _task_params(p), p.seed, tuple(task.metrics)))
        else:
            _run_dask(todo, task, finish, client, scheduler, workers)
    finally:  # also on Ctrl-C: what finished is in the table
        bar.close()
        records = [results.get(p.hash) for p in points]
        table = None
        if store is not None:
            done = [r for r in records if r is not None]
            table = write_table(store.out, table_rows(done, list(task.params), list(spec.metrics)))
        result = SweepResult(
            spec,
            records,
            len(todo) - sum(results.get(p.hash) is None for p in todo),
            n_skipped,
            store.out if store else None,
            table,
            time.perf_counter() - t_start,
        )
    return result


def _task_params(p: Point) -> dict:
    return {k: v for k, v in p.params.items() if k != "seed"}


def _run_dask(todo: list[Point], task, finish, client, scheduler, workers) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is an optional dependency
        raise ConfigError(
            "running a sweep on Dask needs dask[distributed] "
            "(pip install 'xbar-sim[cluster]'); use workers=0 to run serially"
        ) from exc
    owned = []
    try:
        if client is None:
            if scheduler is not None:
                client = Client(scheduler)
            else:
                n = min(workers or os.cpu_count() or 1, len(todo))
                # One single-threaded process per CPU: keep the OpenMP kernels to one thread each
                # so that n workers do not start n x cpu_count threads.
                threads = {
                    "XBAR_NUM_THREADS": os.environ.get("XBAR_NUM_THREADS", "1"),
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
                }
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=40,
                    env=threads,
                )
                owned.append(cluster)
                client = Client(cluster)
            owned.insert(0, client)
        token = uuid.uuid4().hex[:8]
        metric_names = tuple(task.metrics)
        futures = {}
        for p in todo:
            fut = client.submit(
                execute_point,
                task.fn,
                _task_params(p),
                p.seed,
                metric_names,
                key=f"xbar-sweep-{p.hash}-{token}",
                pure=False,
            )
            futures[fut] = p
        try:
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # the worker died (KilledWorker) or the result was lost
                    outcome = _lost_outcome(exc)
                finish(p, outcome)
                fut.release()
        finally:
            client.cancel([f for f in futures if not f.done()])
    finally:
        for obj in owned:
            obj.close()


def load_records(out: "str | os.PathLike") -> tuple[dict, list]:
    """Read ``DIR/sweep.json`` and the records of its points (``None`` for missing points).

    Parameters
    ----------
    out : str or os.PathLike
        A sweep output directory.
    """
    out = Path(out)
    meta_path = out / "sweep.json"
    if not meta_path.is_file():
        raise ConfigError(f"{str(out)!r} is not a sweep output directory (no sweep.json)")
    meta = json.loads(meta_path.read_text())
    on_disk = RecordStore(out).load()
    return meta, [on_disk.get(h) for h in meta["points"]]


def load_table(out: "str | os.PathLike"):
    """The results of a sweep output directory as a ``pandas.DataFrame`` (finished points only).

    Parameters
    ----------
    out : str or os.PathLike
        A sweep output directory.
    """
    import pandas as pd

    meta, records = load_records(out)
    return pd.DataFrame(table_rows([r for r in records if r], meta["params"], meta["metrics"]))
