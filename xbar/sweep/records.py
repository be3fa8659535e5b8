"""Results on disk: one JSON record per point, written atomically, and the combined table.

Layout of an output directory::

    DIR/sweep.json            the validated spec (task, base, axes, metrics, point hashes)
    DIR/records/<hash>.json   one record per finished point (ok or failed)
    DIR/results.parquet       combined table of the spec's points (results.csv without pyarrow)
    DIR/report/               written by ``xbar sweep report DIR``

Every file (records, table, ``sweep.json``, the report) is written to a temporary file in the same
directory, ``fsync``-ed and moved into place with ``os.replace`` (``xbar._io.open_atomic``,
atomic on POSIX and Windows; permissions follow the umask), so a crash or Ctrl-C leaves either the
whole file or the previous one.  The record's name is the point's config hash (task, task version, every parameter and the
seed), so re-running a spec finds the finished points and a changed spec recomputes only new points.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from .._io import TMP_SUFFIX, open_atomic

RECORD_KEYS = (
    "hash",
    "task",
    "task_version",
    "seed",
    "params",
    "status",
    "metrics",
    "error",
    "wall_time_s",
    "started",
    "finished",
    "xbar_version",
    "host",
)
"""Keys of every record (``error`` is None for an ok point; ``metrics`` is empty for a point whose
task raised, and keeps the finite values, null for the others, of a point failed for a NaN metric)."""


def config_hash(task, params: dict) -> str:
    """16-hex-digit SHA-256 of the task name, task version and every parameter (seed included).

    Parameters
    ----------
    task : Task
        Its name and version enter the hash.
    params : dict
        Every parameter of the point (seed included).
    """
    blob = json.dumps(
        {"task": task.name, "version": task.version, "params": params},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def to_json_value(value: Any) -> Any:
    """A JSON-safe scalar: numpy scalars to Python, NaN and infinities to None (strict JSON).

    Parameters
    ----------
    value : object
        A scalar (numpy or Python).
    """
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as strict JSON to ``path`` atomically (``xbar._io.open_atomic``).

    Parameters
    ----------
    path : Path
        Destination file.
    data : dict
        JSON-able mapping.
    """
    with open_atomic(path) as fh:
        json.dump(data, fh, indent=1, sort_keys=True, allow_nan=False)


class RecordStore:
    """The ``records/`` directory of a sweep output directory.

    Parameters
    ----------
    out : str or os.PathLike
        The sweep output directory (``records/`` is created in it).
    """

    def __init__(self, out: "str | os.PathLike"):
        self.out = Path(out)
        self.dir = self.out / "records"
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(f".*{TMP_SUFFIX}"):  # left by a process killed mid-write
            stale.unlink(missing_ok=True)

    def path(self, h: str) -> Path:
        """The record file of the point with hash ``h``.

        Parameters
        ----------
        h : str
            A point's hash (:func:`config_hash`).
        """
        return self.dir / f"{h}.json"

    def write(self, record: dict) -> None:
        """Write a point's record atomically.

        Parameters
        ----------
        record : dict
            A point's record (its ``hash`` names the file).
        """
        write_json_atomic(self.path(record["hash"]), record)

    def load(self) -> dict[str, dict]:
        """Every record on disk, by hash (unreadable files are skipped: they cannot be partial)."""
        out = {}
        for p in self.dir.glob("*.json"):
            try:
                rec = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(rec, dict) and rec.get("hash") == p.stem:
                out[p.stem] = rec
        return out


def table_rows(records: list[dict], param_names: list[str], metric_names: list[str]) -> list[dict]:
    """Flat rows: hash, status, every parameter, the chosen metrics, error, wall time, version.

    Parameters
    ----------
    records : list of dict
        The points' records.
    param_names : list of str
        Parameter columns.
    metric_names : list of str
        Metric columns.
    """
    rows = []
    for rec in records:
        row = {"hash": rec["hash"], "status": rec["status"]}
        row.update({n: rec["params"].get(n) for n in param_names})
        metrics = rec.get("metrics") or {}
        row.update({m: _float(metrics.get(m)) for m in metric_names})
        err = rec.get("error")
        row["error"] = f"{err['type']}: {err['message']}" if err else ""
        row["wall_time_s"] = rec.get("wall_time_s")
        row["xbar_version"] = rec.get("xbar_version")
        rows.append(row)
    return rows


def _float(v):
    if v is None:
        return math.nan
    return float(v) if isinstance(v, (int, float)) else v


def write_table(out: "str | os.PathLike", rows: list[dict]) -> Path:
    """Write the combined table: Parquet (pyarrow) if available, else CSV.  Returns its path.

    Parameters
    ----------
    out : str or os.PathLike
        The sweep output directory.
    rows : list of dict
        From :func:`table_rows`.
    """
    out = Path(out)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        pa = None
    if pa is not None:
        path = out / "results.parquet"
        with open_atomic(path, "wb") as fh:
            pq.write_table(pa.Table.from_pylist(rows), fh)
        (out / "results.csv").unlink(missing_ok=True)
        return path
    path = out / "results.csv"
    with open_atomic(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["hash"])
        writer.writeheader()
        writer.writerows(rows)
    return path
    path = out / "results.csv"
    tmp = out / ".results.csv.tmp"
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["hash"])
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path
