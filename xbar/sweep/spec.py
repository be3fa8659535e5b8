"""Sweep specs: parse a TOML file, validate it against the task's schema, expand it into points.

A spec has four sections (only ``[sweep]`` is required)::

    [sweep]
    name = "mvm-size-wire-adc"      # optional, defaults to the file name
    task = "mvm"                    # registered task, or "package.module:function"
    metrics = ["rel_rms_error"]     # optional subset for the table and report (all are recorded)

    [base]                          # fixed parameters; the task's defaults fill the rest
    g_max = 1e-4
    seed = 0

    [axes]                          # varied parameters, Cartesian product in the order written
    r_wire = [0.5, 2.5, 10.0]                            # a list
    v_read = {start = 0.1, stop = 0.3, num = 3}          # linear range, stop included
    g_min = {start = 1e-7, stop = 1e-5, num = 3, scale = "log"}
    adc_bits = {start = 4, stop = 8, step = 2}           # stepped range, stop included

    [[zip]]                         # parameters varied together; each group is one more factor
    rows = [16, 32, 64]
    cols = [16, 32, 64]

Dotted parameter names (the ``layer`` task's ``hardware.adc.bits``, every field of
:class:`xbar.config.HardwareConfig`) are written as TOML dotted keys: ``hardware.adc.bits =
[4, 6, 8]`` in ``[axes]``.

Everything is checked before anything runs: unknown sections, keys, tasks, parameters or metrics,
empty axes, values of the wrong type or out of range, zip groups of unequal length, a parameter
given twice, and the task's own cross-parameter check on every point.  Errors are
:class:`~xbar.exceptions.ConfigError` naming the place in the spec.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._deprecate import warn_renamed
from ..exceptions import ConfigError
from .params import Param, unknown_name
from .records import config_hash
from .tasks import Task, get_task

_SECTIONS = {"sweep", "base", "axes", "zip"}
_SWEEP_KEYS = {"name", "task", "metrics", "description"}
_RANGE_KEYS = {"start", "stop", "num", "step", "scale"}


@dataclass(frozen=True)
class Axis:
    """One factor of the Cartesian product.

    Parameters
    ----------
    names : tuple of str
        One parameter name for an ``[axes]`` parameter, several for a ``[[zip]]`` group.
    values : tuple of tuple
        ``values[k]`` is the tuple of values those parameters take at position ``k`` (in the
        parameters' units).
    """

    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    @property
    def label(self) -> str:
        return " / ".join(self.names)


@dataclass(frozen=True)
class Point:
    """One run: every parameter of the task (``seed`` included) and its config hash.

    Parameters
    ----------
    params : dict
        Every parameter of the task at this point, ``seed`` (the task's random_state) included.
    hash : str
        The point's config hash (``xbar.sweep.records.config_hash``).
    """

    params: dict
    hash: str

    @property
    def seed(self) -> int:
        return self.params["seed"]


@dataclass
class SweepSpec:
    """A validated sweep.

    Parameters
    ----------
    name : str
        Name of the sweep (``[sweep] name``, default the file name).
    task : Task
        The task run at every point.
    base : dict
        Every task parameter at its fixed value (defaults overridden by ``[base]``).
    axes : list of Axis
        The factors of the Cartesian product, in the order written.
    metrics : tuple of str
        Metrics shown in the table and report.
    description : str, optional
        Free text (``[sweep] description``).
    raw : dict, optional
        The spec as parsed (kept in the output directory).
    """

    name: str
    task: Task
    base: dict
    axes: list[Axis]
    metrics: tuple[str, ...]
    description: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return math.prod(len(a.values) for a in self.axes)

    @property
    def axis_names(self) -> list[str]:
        return [n for a in self.axes for n in a.names]

    def points(self) -> list[Point]:
        """Every point in Cartesian order (the last axis varies fastest)."""
        out = []
        for combo in itertools.product(*(a.values for a in self.axes)):
            params = dict(self.base)
            for axis, vals in zip(self.axes, combo):
                params.update(zip(axis.names, vals))
            out.append(Point(params, config_hash(self.task, params)))
        return out


def load_spec(spec: "str | os.PathLike | dict | SweepSpec") -> SweepSpec:
    """Read and validate a spec from a TOML file path, a TOML text (with newlines) or a parsed dict.

    Parameters
    ----------
    spec : str, os.PathLike, dict or SweepSpec
        A TOML file path, a TOML text (a string containing a newline), a parsed spec dict, or
        an already validated spec (returned as is).

    Returns
    -------
    SweepSpec
        The validated spec.

    Raises
    ------
    ConfigError
        For anything wrong in the spec (see the module docstring); nothing is run.
    """
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, dict):
        return parse_spec(spec, default_name="sweep")
    if isinstance(spec, str) and "\n" in spec:
        source, name, text = "<string>", "sweep", spec
    else:
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"sweep spec file {str(path)!r} does not exist")
        source, name, text = str(path), path.stem, path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"sweep spec {source}: invalid TOML: {exc}") from None
    return parse_spec(data, default_name=name)


def parse_spec(data: dict, default_name: str = "sweep") -> SweepSpec:
    """Validate a parsed spec dict (see :func:`load_spec`).

    Parameters
    ----------
    data : dict
        The parsed TOML spec (sections ``sweep``, ``base``, ``axes``, ``zip``).
    default_name : str, optional
        Name of the sweep when ``[sweep]`` sets none (default ``"sweep"``).

    Returns
    -------
    SweepSpec
        The validated spec.

    Raises
    ------
    ConfigError
        For anything wrong in the spec; nothing is run.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"a sweep spec must be a table, got {type(data).__name__}")
    for section in data:
        if section not in _SECTIONS:
            raise unknown_name(section, _SECTIONS, "section", "the spec")
    head = _table(data, "sweep", required=True)
    for key in head:
        if key not in _SWEEP_KEYS:
            raise unknown_name(key, _SWEEP_KEYS, "key", "[sweep]")
    if "task" not in head:
        raise ConfigError('[sweep] task is required (e.g. task = "mvm")')
    task = get_task(head["task"])
    name = head.get("name", default_name)
    description = head.get("description", "")
    for key, val in (("name", name), ("description", description)):
        if not isinstance(val, str):
            raise ConfigError(f"[sweep] {key} must be a string, got {type(val).__name__} {val!r}")
    metrics = head.get("metrics", list(task.metrics))
    if not isinstance(metrics, list) or not metrics:
        raise ConfigError(
            f"[sweep] metrics must be a non-empty list of metric names, got {metrics!r}"
        )
    for m in metrics:
        if m not in task.metrics:
            raise unknown_name(
                str(m), task.metrics, "metric", f"[sweep] metrics of task {task.name!r}"
            )

    schema = task.params
    base = task.defaults()
    given: dict[str, str] = {}  # parameter -> where it was set

    def names(table: dict, where: str) -> dict:
        """Dotted keys flattened, deprecated parameter names replaced (with a warning)."""
        out = {}
        for pname, value in _dotted(table, schema).items():
            if pname in task.renamed:
                warn_renamed(f"{where} {pname}", task.renamed[pname], stacklevel=5)
                pname = task.renamed[pname]
            out[pname] = value
        return out

    def claim(pname: str, where: str) -> Param:
        if pname not in schema:
            raise unknown_name(pname, schema, "parameter", f"{where} (task {task.name!r})")
        if pname in given:
            raise ConfigError(
                f"parameter {pname!r} is set both in {given[pname]} and in {where}; "
                "set it in one place"
            )
        given[pname] = where
        return schema[pname]

    for pname, value in names(_table(data, "base"), "[base]").items():
        base[pname] = claim(pname, "[base]").check(value, f"[base] {pname}")

    axes = []
    for pname, value in names(_table(data, "axes"), "[axes]").items():
        p = claim(pname, "[axes]")
        vals = _axis_values(p, value, f"[axes] {pname}")
        axes.append(Axis((pname,), tuple((v,) for v in vals)))

    groups = data.get("zip", [])
    if isinstance(groups, dict):
        groups = [groups]
    if not isinstance(groups, list):
        raise ConfigError(f"[[zip]] must be an array of tables, got {type(groups).__name__}")
    for k, group in enumerate(groups):
        where = f"[[zip]] group {k + 1}"
        if not isinstance(group, dict) or not group:
            raise ConfigError(
                f"{where} must be a non-empty table of parameter lists, got {group!r}"
            )
        columns = {}
        for pname, value in names(group, where).items():
            p = claim(pname, where)
            columns[pname] = _axis_values(p, value, f"{where} {pname}")
        lengths = {n: len(v) for n, v in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError(f"{where}: zipped parameters must have equal lengths, got {lengths}")
        axes.append(Axis(tuple(columns), tuple(zip(*columns.values()))))

    for axis in axes:
        flat = axis.values
        if len(set(flat)) != len(flat):
            raise ConfigError(
                f"axis {axis.label} repeats a value: {[v if len(v) > 1 else v[0] for v in flat]}"
            )

    spec = SweepSpec(name, task, base, axes, tuple(metrics), description, data)
    if task.check is not None:
        for point in spec.points():
            try:
                task.check(point.params)
            except ConfigError as exc:
                coords = {n: point.params[n] for n in spec.axis_names}
                raise ConfigError(f"task {task.name!r} rejects the point {coords}: {exc}") from None
    return spec


def _dotted(table: dict, schema, prefix: str = "") -> dict:
    """Flatten TOML dotted keys (``hardware.adc.bits = [4, 6]`` parses as nested tables) into
    the task's dotted parameter names; a table that is a parameter's value (a range) is kept."""
    out: dict = {}
    for key, value in table.items():
        name = prefix + str(key)
        if (
            isinstance(value, dict)
            and name not in schema
            and any(s.startswith(name + ".") for s in schema)
        ):
            out.update(_dotted(value, schema, name + "."))
        else:
            out[name] = value
    return out


def _table(data: dict, key: str, required: bool = False) -> dict:
    if key not in data:
        if required:
            raise ConfigError(f"the spec needs a [{key}] section")
        return {}
    val = data[key]
    if not isinstance(val, dict):
        raise ConfigError(f"[{key}] must be a table, got {type(val).__name__} {val!r}")
    return val


def _axis_values(p: Param, value: Any, where: str) -> list:
    """Expand a list or a range table into checked values."""
    if isinstance(value, dict):
        raw = _range(p, value, where)
    elif isinstance(value, list):
        raw = value
    else:
        raise ConfigError(
            f"{where} must be a list of values or a range table "
            f"{{start, stop, num|step[, scale]}}, got {type(value).__name__} {value!r}"
        )
    if not raw:
        raise ConfigError(f"{where} is an empty axis: give at least one value")
    return [p.check(v, f"{where}[{k}]") for k, v in enumerate(raw)]


def _range(p: Param, table: dict, where: str) -> list:
    for key in table:
        if key not in _RANGE_KEYS:
            raise unknown_name(key, _RANGE_KEYS, "range key", where)
    if p.type not in (int, float):
        raise ConfigError(
            f"{where}: a range table needs a numeric parameter, {where} is a {p.describe()}"
        )
    missing = {"start", "stop"} - set(table)
    if missing or ("num" in table) == ("step" in table):
        raise ConfigError(
            f"{where}: a range table needs start, stop and exactly one of num or step, "
            f"got keys {sorted(table)}"
        )
    start, stop = table["start"], table["stop"]
    for key, val in (("start", start), ("stop", stop)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise ConfigError(f"{where}.{key} must be a finite number, got {val!r}")
    scale = table.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise ConfigError(f"{where}.scale must be one of ['linear', 'log'], got {scale!r}")
    if "step" in table:
        step = table["step"]
        if scale != "linear":
            raise ConfigError(f"{where}: scale = 'log' needs num, not step")
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not step > 0:
            raise ConfigError(f"{where}.step must be a number > 0, got {step!r}")
        if stop < start:
            raise ConfigError(
                f"{where}: stop must be >= start with a step, got start={start!r}, stop={stop!r}"
            )
        n = int(math.floor((stop - start) / step * (1 + 1e-12))) + 1
        vals = [start + k * step for k in range(n)]
    else:
        num = table["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ConfigError(f"{where}.num must be an integer >= 1, got {num!r}")
        if scale == "log":
            if start <= 0 or stop <= 0:
                raise ConfigError(
                    f"{where}: scale = 'log' needs start and stop > 0, got {start!r}, {stop!r}"
                )
            a, b = math.log(start), math.log(stop)
            vals = (
                [math.exp(a + (b - a) * k / (num - 1)) for k in range(num)] if num > 1 else [start]
            )
        else:
            vals = (
                [start + (stop - start) * k / (num - 1) for k in range(num)] if num > 1 else [start]
            )
    if p.type is int:
        rounded = [round(v) for v in vals]
        if any(abs(v - r) > 1e-9 for v, r in zip(vals, rounded)):
            raise ConfigError(
                f"{where}: the range gives non-integer values {vals} for an integer parameter"
            )
        return rounded
    # 12 significant digits: a range gives the same floats (and config hashes) on every machine.
    return [float(f"{v:.12g}") for v in vals]
