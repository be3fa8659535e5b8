"""The registry of sweep tasks: name -> ``callable(params, random_state) -> metrics``.

Registering a task is one decorator::

    from xbar.sweep import Param, task

    @task("ff-train", params={"epochs": Param(int, 5, low=1, doc="training epochs")},
          metrics={"accuracy": "test accuracy (fraction)", "energy_j": "training energy (J)"})
    def ff_train(params: dict, random_state: int) -> dict:
        ...
        return {"accuracy": acc, "energy_j": e}

A spec then says ``task = "ff-train"`` once the defining module is imported: modules listed in
:data:`TASK_MODULES` are imported on the first lookup (the built-in ``mvm``,
``train`` and ``layer`` tasks live in ``xbar/sweep/mvm.py``, ``xbar/sweep/train_tasks.py`` and
``xbar/sweep/layer.py``), and any other module is named in the spec as
``task = "package.module:ff_train"`` (imported on demand, also on Dask workers).  The function receives every parameter of its schema
(spec values over defaults) except ``seed``, which comes separately as the second argument (the
point's ``random_state``, an int; pass it on to ``xbar._random.spawn``); it returns a flat dict of
scalar metrics.  Raise to fail the point: the error is recorded and the sweep goes on.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..exceptions import ConfigError
from .params import SEED, Param, unknown_name

TASK_MODULES: tuple[str, ...] = ("xbar.sweep.mvm", "xbar.sweep.train_tasks", "xbar.sweep.layer")
"""Modules imported to find built-in tasks (each registers its tasks on import; absent ones are
skipped, so a subpackage can add its tasks by creating the listed file)."""

_REGISTRY: dict[str, "Task"] = {}


@dataclass(frozen=True)
class Task:
    """A registered sweep task.

    Parameters
    ----------
    name : str
        Registry name used in specs.
    fn : callable
        ``fn(params: dict, random_state: int) -> dict[str, float]``: the spec's ``seed`` is
        passed as the second (positional) argument.
    params : Mapping[str, Param]
        Parameter schema (``seed`` is added automatically).
    metrics : Mapping[str, str]
        Metric name -> description with unit.  The task must return exactly these keys.
    check : callable or None
        ``check(params)`` raising ConfigError for combinations the per-parameter ranges cannot
        express (e.g. ``g_min < g_max``); run on every point before a sweep starts.
    version : str
        Part of every point's config hash: bump it when the task's results change, so that old
        records are recomputed instead of reused.
    timing : tuple of str
        Metrics that are wall-clock measurements (not reproducible from the seed).
    memory : callable or None
        ``memory(params) -> float``: estimated peak memory of one point, bytes.  :func:`run
        <xbar.sweep.run>` refuses, before anything runs, a sweep with a point whose estimate
        exceeds the memory limit (the machine's physical memory unless ``max_memory`` is given).
    renamed : Mapping[str, str]
        Deprecated parameter name -> its new name: a spec using the old name still works, with a
        DeprecationWarning (for one release).
    """

    name: str
    fn: Callable[[dict, int], dict]
    params: Mapping[str, Param]
    metrics: Mapping[str, str]
    check: Callable[[dict], None] | None = None
    version: str = "1"
    timing: tuple[str, ...] = field(default=())
    memory: Callable[[dict], float] | None = None
    renamed: Mapping[str, str] = field(default_factory=dict)

    def defaults(self) -> dict:
        """Every parameter (``seed`` included) at its default value."""
        return {name: p.default for name, p in self.params.items()}


def task(
    name: str,
    *,
    params: Mapping[str, Param],
    metrics: Mapping[str, str],
    check: Callable[[dict], None] | None = None,
    version: str = "1",
    timing: tuple[str, ...] = (),
    memory: Callable[[dict], float] | None = None,
    renamed: Mapping[str, str] | None = None,
) -> Callable:
    """Decorator registering ``fn(params, random_state) -> metrics`` as sweep task ``name``.

    Returns the function unchanged (so it pickles by reference to Dask workers), with the
    :class:`Task` attached as ``fn.sweep_task``.  See the module docstring for an example.

    Parameters
    ----------
    name : str
        Registry name used in specs (non-empty, without ``":"``).
    params : Mapping[str, Param]
        Parameter schema; ``seed`` is reserved (added automatically).
    metrics : Mapping[str, str]
        Metric name -> description with unit; the task must return exactly these keys.
    check : callable or None, optional
        ``check(params)`` raising ConfigError for combinations the per-parameter ranges cannot
        express; run on every point before a sweep starts.
    version : str, optional
        Part of every point's config hash (default ``"1"``); bump it when the results change.
    timing : tuple of str, optional
        Metrics that are wall-clock measurements, in s (a subset of ``metrics``).
    memory : callable or None, optional
        ``memory(params) -> float``: estimated peak memory of one point, in bytes.
    renamed : Mapping[str, str] or None, optional
        Deprecated parameter name -> its new name (the new one must be in ``params``).

    Returns
    -------
    callable
        The decorator; it registers ``fn`` and returns it unchanged.

    Raises
    ------
    ConfigError
        For an invalid name, schema, metric or timing declaration, or a name already registered
        by another function.
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ConfigError(f"task name must be a non-empty string without ':', got {name!r}")
    schema = dict(params)
    if "seed" in schema:
        raise ConfigError(
            f"task {name!r}: 'seed' is reserved (every task gets it), remove it from params"
        )
    for pname, p in schema.items():
        if not isinstance(p, Param):
            raise ConfigError(
                f"task {name!r}: params[{pname!r}] must be a Param, got {type(p).__name__}"
            )
        p.check(p.default, f"task {name!r} default of {pname}")
    schema["seed"] = SEED
    clash = set(schema) & set(metrics)
    if clash:
        raise ConfigError(
            f"task {name!r}: names used both as parameter and metric: {sorted(clash)}"
        )
    bad_timing = set(timing) - set(metrics)
    if bad_timing:
        raise ConfigError(f"task {name!r}: timing metrics {sorted(bad_timing)} are not in metrics")
    for old, new in (renamed or {}).items():
        if new not in schema or old in schema:
            raise ConfigError(
                f"task {name!r}: renamed {old!r} -> {new!r} needs {new!r} in params and {old!r} not"
            )
    if memory is not None and not callable(memory):
        raise ConfigError(
            f"task {name!r}: memory must be a callable params -> bytes, got {memory!r}"
        )

    def decorate(fn: Callable) -> Callable:
        old = _REGISTRY.get(name)
        if old is not None and (old.fn.__module__, old.fn.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise ConfigError(
                f"task {name!r} is already registered by {old.fn.__module__}.{old.fn.__qualname__}"
            )
        t = Task(
            name,
            fn,
            schema,
            dict(metrics),
            check,
            str(version),
            tuple(timing),
            memory,
            dict(renamed or {}),
        )
        _REGISTRY[name] = t
        setattr(fn, "sweep_task", t)
        return fn

    return decorate


def get_task(name: str) -> Task:
    """Look a task up by registry name or by ``"module:function"`` (imported on demand).

    Parameters
    ----------
    name : str
        A registered task name (built-in modules are imported on the first lookup) or
        ``"package.module:function"`` naming a function decorated with :func:`task`.

    Returns
    -------
    Task
        The registered task.

    Raises
    ------
    ConfigError
        If the name is not a string, the module cannot be imported, or no such task exists.
    """
    if not isinstance(name, str):
        raise ConfigError(f"[sweep] task must be a string, got {type(name).__name__} {name!r}")
    if ":" in name:
        modname, _, attr = name.partition(":")
        try:
            module = importlib.import_module(modname)
        except ImportError as exc:
            raise ConfigError(
                f"[sweep] task {name!r}: cannot import module {modname!r}: {exc}"
            ) from None
        fn = getattr(module, attr, None)
        t = getattr(fn, "sweep_task", None)
        if not isinstance(t, Task):
            raise ConfigError(
                f"[sweep] task {name!r}: {modname}.{attr} is not a function registered "
                "with @xbar.sweep.task"
            )
        return t
    if name not in _REGISTRY:
        _import_task_modules(until=name)
    if name not in _REGISTRY:
        raise unknown_name(name, _REGISTRY, "task", "[sweep] task")
    return _REGISTRY[name]


def registered_tasks() -> dict[str, Task]:
    """All registered tasks (built-in modules imported first)."""
    _import_task_modules()
    return dict(_REGISTRY)


def _import_task_modules(until: str | None = None) -> None:
    """Import the TASK_MODULES in order (stopping once task ``until`` is registered)."""
    for modname in TASK_MODULES:
        if until is not None and until in _REGISTRY:
            return
        try:
            importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:  # the module exists but one of its imports is missing
                raise
