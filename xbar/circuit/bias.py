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

from .._deprecate import warn_renamed
from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError

__all__ = [
    "SCHEMES",
    "scheme_name",
    "select_lines",
    "scheme",
    "half",
    "third",
    "floating",
    "grounded",
]

#: The bias schemes, by their canonical names.
SCHEMES = ("half", "third", "floating", "grounded")
#: Deprecated spellings of scheme names (accepted by :func:`scheme_name` for one release).
DEPRECATED_SCHEMES = {"V/2": "half", "V/3": "third"}
"""Deprecated spellings of scheme names (removed in the next release) -> the names."""


def scheme_name(name: str, *, stacklevel: int = 3) -> str:
    """The canonical name of a bias scheme: one of ``SCHEMES``.

    Parameters
    ----------
    name : str
        ``"half"``, ``"third"``, ``"floating"`` or ``"grounded"``; the deprecated spellings
        ``"V/2"`` and ``"V/3"`` are accepted with a ``DeprecationWarning`` (removed in the next
        release).
    stacklevel : int
        Stack level of the deprecation warning (default: the caller of the function that calls
        ``scheme_name``).

    Returns
    -------
    str
        The name in ``SCHEMES``.

    Raises
    ------
    xbar.exceptions.ConfigError
        For any other name.
    """
    if isinstance(name, str) and name in DEPRECATED_SCHEMES:
        warn_renamed(name, DEPRECATED_SCHEMES[name], stacklevel=stacklevel)
        return DEPRECATED_SCHEMES[name]
    return check_choice(name, "scheme", SCHEMES)


def select_lines(n: int, idx, name: str) -> np.ndarray:
    """Boolean mask of the selected lines among ``n``.

    Parameters
    ----------
    n : int
        Number of lines (word lines or bit lines).
    idx : int or sequence of int
        Selected line indices, each in ``[0, n - 1]`` (non-empty; no booleans or floats).
    name : str
        Argument name for error messages (e.g. ``"rows"``).

    Returns
    -------
    (n,) bool ndarray
        True at the selected lines.
    """
    mask = np.zeros(n, dtype=bool)
    sel = np.atleast_1d(np.asarray(idx))
    if sel.size == 0 or sel.dtype.kind not in "iu":
        raise ConfigError(f"{name} must be a non-empty int or sequence of ints, got {idx!r}")
    if sel.min() < 0 or sel.max() >= n:
        raise ConfigError(f"{name} must lie in [0, {n - 1}], got {idx!r}")
    mask[sel] = True
    return mask


#: Deprecated private name of :func:`select_lines` (kept until circuit/write.py uses the new one).

_PARAMETERS = """
    Parameters
    ----------
    M, N : int
        Word lines (rows) and bit lines (columns) of the array, >= 1.
    rows, cols : int or sequence of int
        Selected word lines and bit lines (a row set times a column set is selected).
    v : float
        Voltage of the selected rows, V (the selected columns are at 0 V).

    Returns
    -------
    row_voltages : (M,) ndarray
        Word-line source voltages, V (NaN = floating).
    col_voltages : (N,) ndarray
        Bit-line source voltages, V (NaN = floating).
"""


def scheme(name: str, M: int, N: int, rows, cols, v: float) -> tuple[np.ndarray, np.ndarray]:
    """Terminal voltages for bias scheme ``name`` selecting ``rows`` x ``cols`` at ``v`` volts.

    Parameters
    ----------
    name : {"half", "third", "floating", "grounded"}
        The scheme (see the module docstring; ``"V/2"``/``"V/3"`` are deprecated spellings of
        ``"half"``/``"third"``).
    M, N, rows, cols, v :
        Array size, selected lines and their voltage (V), as in :func:`half`.

    Returns
    -------
    row_voltages, col_voltages : ndarray
        (M,) word-line and (N,) bit-line source voltages, V (NaN = floating).
    """
    name = scheme_name(name)
    check_scalar(M, "M", low=1, integer=True)
    check_scalar(N, "N", low=1, integer=True)
    check_scalar(v, "v", unit="V")
    rsel = select_lines(M, rows, "rows")
    csel = select_lines(N, cols, "cols")
    level_r, level_c = {
        "half": (v / 2, v / 2),
        "third": (v / 3, 2 * v / 3),
        "floating": (np.nan, np.nan),
        "grounded": (0.0, 0.0),
    }[name]
    row_v = np.where(rsel, float(v), level_r)
    col_v = np.where(csel, 0.0, level_c)
    return row_v, col_v


def half(M: int, N: int, rows, cols, v: float) -> tuple[np.ndarray, np.ndarray]:
    return scheme("half", M, N, rows, cols, v)


def third(M: int, N: int, rows, cols, v: float) -> tuple[np.ndarray, np.ndarray]:
    return scheme("third", M, N, rows, cols, v)


def floating(M: int, N: int, rows, cols, v: float) -> tuple[np.ndarray, np.ndarray]:
    return scheme("floating", M, N, rows, cols, v)


def grounded(M: int, N: int, rows, cols, v: float) -> tuple[np.ndarray, np.ndarray]:
    return scheme("grounded", M, N, rows, cols, v)


half.__doc__ = (
    "V/2 scheme: selected rows at v, selected columns at 0, every other line at v/2.\n"
    + _PARAMETERS
)
third.__doc__ = (
    "V/3 scheme: selected rows at v, selected columns at 0, other rows v/3, other "
    "columns 2v/3.\n" + _PARAMETERS
)
floating.__doc__ = (
    "Selected rows at v, selected columns at 0, every other line left floating "
    "(NaN).\n" + _PARAMETERS
)
grounded.__doc__ = (
    "Selected rows at v, every other line (and the selected columns) at 0 V.\n" + _PARAMETERS
)
