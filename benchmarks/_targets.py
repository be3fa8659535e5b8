"""How a benchmark line states its target: for the size that ran, with a met/MISSED mark.

The issues set their targets at full size.  A ``--quick`` run uses smaller sizes, where those
targets do not apply (fixed costs dominate small problems, and speed-up ratios grow with size), so
a quick run says that the full-size target is not assessed instead of printing it next to a
small-size number as if it were comparable.
"""

from __future__ import annotations

_OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


def target(
    value: float, op: str, goal: float, unit: str = "", *, full_size: str, quick: bool = False
) -> str:
    """``"target >= 100x at 256x256: met"`` for ``value`` against ``goal``, or in a quick run
    ``"target >= 100x is for 256x256: not assessed in a quick run"``."""
    if op not in _OPS:
        raise ValueError(f"op must be one of {list(_OPS)}, got {op!r}")
    if quick:
        return f"target {op} {goal:g}{unit} is for {full_size}: not assessed in a quick run"
    mark = "met" if _OPS[op](value, goal) else "MISSED"
    return f"target {op} {goal:g}{unit} at {full_size}: {mark}"
