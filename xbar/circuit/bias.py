"""Bias schemes of passive (0T1R) arrays for selecting cells.

Each helper returns ``(row_voltages, col_voltages)`` for ``Crossbar.solve``: the selected rows at
``v``, the selected columns at 0 V, the unselected lines at the scheme's level.  ``rows`` and
``cols`` may be an int or a sequence (a row set times a column set is selected).

=========  ===================  ======================
scheme     unselected rows      unselected columns
=========  ===================  ======================
half       v/2                  v/2
third      v/3                  2v/3
floating   NaN (floating)       NaN (floating)
grounded   0                    0
=========  ===================  ======================

With ideal wires a half-selected cell sees v/2 (half) or v/3 (third) and an unselected one 0 (half)
or −v/3 (third); with wire resistance the solver gives the real values.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError

SCHEMES = ("half", "third", "floating", "grounded")


def _select(n: int, idx, name: str) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    sel = np.atleast_1d(np.asarray(idx))
    if sel.size == 0 or sel.dtype.kind not in "iu":
        raise ConfigError(f"{name} must be a non-empty int or sequence of ints, got {idx!r}")
    if sel.min() < 0 or sel.max() >= n:
        raise ConfigError(f"{name} must lie in [0, {n - 1}], got {idx!r}")
    mask[sel] = True
    return mask


def scheme(name: str, M: int, N: int, rows, cols, v: float) -> tuple[np.ndarray, np.ndarray]:
    """Terminal voltages for bias scheme ``name`` selecting ``rows`` x ``cols`` at ``v`` volts."""
    check_choice(name, "scheme", SCHEMES)
    check_scalar(M, "M", low=1, integer=True)
    check_scalar(N, "N", low=1, integer=True)
    check_scalar(v, "v", unit="V")
    rsel = _select(M, rows, "rows")
    csel = _select(N, cols, "cols")
    level_r, level_c = {"half": (v / 2, v / 2), "third": (v / 3, 2 * v / 3),
                        "floating": (np.nan, np.nan), "grounded": (0.0, 0.0)}[name]
    row_v = np.where(rsel, float(v), level_r)
    col_v = np.where(csel, 0.0, level_c)
    return row_v, col_v


def half(M: int, N: int, rows, cols, v: float):
    """V/2 scheme: selected rows at v, selected columns at 0, every other line at v/2."""
    return scheme("half", M, N, rows, cols, v)


def third(M: int, N: int, rows, cols, v: float):
    """V/3 scheme: selected rows at v, selected columns at 0, other rows v/3, other columns 2v/3."""
    return scheme("third", M, N, rows, cols, v)


def floating(M: int, N: int, rows, cols, v: float):
    """Selected rows at v, selected columns at 0, every other line left floating (NaN)."""
    return scheme("floating", M, N, rows, cols, v)


def grounded(M: int, N: int, rows, cols, v: float):
    """Selected rows at v, every other line (and the selected columns) at 0 V."""
    return scheme("grounded", M, N, rows, cols, v)
