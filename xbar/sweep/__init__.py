"""Design-space sweeps: run a task over a grid of parameters, locally or on a Dask cluster.

>>> import xbar.sweep
>>> result = xbar.sweep.run("examples/sweeps/mvm_size_wire_adc.toml", out="runs/mvm")   # doctest: +SKIP
>>> xbar.sweep.report("runs/mvm")                                                   # doctest: +SKIP

* :func:`run` runs every point of a spec (serially with ``workers=0``, on a local Dask cluster of
  processes by default, or on your ``dask.distributed.Client``) and writes one JSON record per
  point plus a combined Parquet/CSV table; re-running skips finished points.
* :func:`report` draws metric-vs-axis plots and heatmaps and writes a markdown summary.
* :func:`task` registers a task in one decorator; :class:`Param` describes its parameters.
* :func:`load_spec` validates a spec without running it.

The spec format is described in :mod:`xbar.sweep.spec`, the record layout in
:mod:`xbar.sweep.records`, the built-in tasks in :mod:`xbar.sweep.mvm` (``mvm``: one circuit MVM)
and :mod:`xbar.sweep.train_tasks` (``train``: on-chip learning on simulated hardware).  A point
whose task returns a NaN metric fails; a point whose memory estimate exceeds the machine's memory
is refused before the sweep starts (:func:`run`, ``max_memory``).
"""

from __future__ import annotations

from .params import Param
from .report import report
from .runner import SweepResult, execute_point, load_records, load_table, run
from .spec import Axis, Point, SweepSpec, load_spec, parse_spec
from .tasks import TASK_MODULES, Task, get_task, registered_tasks, task

__all__ = [
    "Axis",
    "Param",
    "Point",
    "SweepResult",
    "SweepSpec",
    "TASK_MODULES",
    "Task",
    "execute_point",
    "get_task",
    "load_records",
    "load_spec",
    "load_table",
    "parse_spec",
    "registered_tasks",
    "report",
    "run",
    "task",
]
