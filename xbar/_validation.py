"""Argument checks shared by the public API.  Kernels never re-validate."""

from __future__ import annotations

import numbers

import numpy as np

from .exceptions import ConfigError, UnitWarning


def as_float_array(value, name: str, *, shape=None, allow_nan: bool = False) -> np.ndarray:
    """Return ``value`` as a C-contiguous float64 array, checking shape and finiteness.

    ``shape`` is a tuple whose ``None`` entries match any length.

    Parameters
    ----------
    value : array_like
        The argument (real numbers, in the caller's unit).
    name : str
        The argument's name, for the error messages.
    shape : tuple of (int or None) or None, optional
        Required shape; None entries match any length; None (default) accepts any shape.
    allow_nan : bool, optional
        Accept NaN entries (default False); infinities are always refused.

    Returns
    -------
    numpy.ndarray
        The values as a C-contiguous float64 array (not a copy when ``value`` already is one).

    Raises
    ------
    ConfigError
        For complex or non-numeric values, a wrong shape, or non-finite entries.
    """
    if np.iscomplexobj(value):
        raise ConfigError(
            f"{name} must be real, got complex values (the imaginary part would be dropped)"
        )
    try:
        arr = np.array(value, dtype=np.float64, order="C", copy=None)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ConfigError(f"{name} must have shape {want}, got {arr.shape}")
    bad = ~np.isfinite(arr) if not allow_nan else np.isinf(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        what = "NaN or inf" if not allow_nan else "inf"
        raise ConfigError(f"{name} contains {what} (first at index {idx}: {arr[idx]!r})")
    return arr


def check_positive(arr: np.ndarray, name: str, *, strict: bool = True, unit: str = "") -> None:
    """Raise if any entry is negative (or zero when ``strict``).

    Parameters
    ----------
    arr : numpy.ndarray
        The values (in ``unit``).
    name : str
        The argument's name, for the error message.
    strict : bool, optional
        Refuse zero too (default True).
    unit : str, optional
        Unit named in the error message (e.g. ``"S"``); default none.

    Raises
    ------
    ConfigError
        Naming the first offending entry, its index and the allowed range.
    """
    bad = arr <= 0 if strict else arr < 0
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(bad))[0])
        val = np.atleast_1d(arr)[idx]
        rel = "> 0" if strict else ">= 0"
        raise ConfigError(
            f"{name} must be {rel}{' ' + unit if unit else ''}, got {val!r} at index {idx}"
        )


def check_scalar(
    value,
    name: str,
    *,
    low=None,
    high=None,
    low_open=False,
    high_open=False,
    integer: bool = False,
    unit: str = "",
):
    """Check a real (or integer) scalar against an interval and return it.

    Parameters
    ----------
    value : int or float
        The argument (booleans are refused), in ``unit``.
    name : str
        The argument's name, for the error messages.
    low, high : float or None, optional
        Bounds of the allowed interval, in ``unit``; None (default) for no bound.
    low_open, high_open : bool, optional
        Exclude the bound itself (default False: the bound is allowed).
    integer : bool, optional
        Require an integer (default False: any finite real number).
    unit : str, optional
        Unit named in the error messages (e.g. ``"V"``); default none.

    Returns
    -------
    int or float
        ``value``, unchanged.

    Raises
    ------
    ConfigError
        For a value of the wrong type, not finite, or outside the interval.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(
            f"{name} must be {'an integer' if integer else 'a real number'}, "
            f"got {type(value).__name__} {value!r}"
        )
    if not integer and not np.isfinite(float(value)):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    u = f" {unit}" if unit else ""
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low}{u}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ConfigError(f"{name} must be {'<' if high_open else '<='} {high}{u}, got {value!r}")
    return value


def check_choice(value, name: str, choices) -> str:
    """Check that ``value`` is one of ``choices``.

    Parameters
    ----------
    value : object
        The argument.
    name : str
        The argument's name, for the error message.
    choices : collection
        The allowed values (listed sorted in the message).

    Returns
    -------
    object
        ``value``, unchanged.

    Raises
    ------
    ConfigError
        If ``value`` is not in ``choices``.
    """
    if value not in choices:
        raise ConfigError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


#: Largest plausible cell conductance, S: a formed RRAM/PCM cell is below ~1e-2 S.  A larger
#: value most likely is a resistance given in ohm.
G_PLAUSIBLE = 1.0
#: Above this no float64 circuit solve is meaningful (G·V·V overflows long before 1e300).
G_REFUSED = 1e30


def check_conductance_magnitude(G: np.ndarray, name: str) -> None:
    """Warn about conductances above ``G_PLAUSIBLE`` S (a unit slip?), refuse above ``G_REFUSED``.

    Parameters
    ----------
    G : numpy.ndarray
        Conductances, in S.
    name : str
        The argument's name, for the messages.

    Raises
    ------
    ConfigError
        If a conductance exceeds ``G_REFUSED`` S.

    Warns
    -----
    UnitWarning
        If a conductance exceeds ``G_PLAUSIBLE`` S (were resistances in ohm given?).
    """
    top = float(np.max(G, initial=0.0))
    if top > G_REFUSED:
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(G)), G.shape))
        raise ConfigError(
            f"{name} must be <= {G_REFUSED:g} S, got {top!r} at index {idx} "
            "(conductances are in siemens: pass 1/R for resistances in ohm)"
        )
    if top > G_PLAUSIBLE:
        import warnings

        n = int(np.count_nonzero(G > G_PLAUSIBLE))
        warnings.warn(
            f"{name} has {n} value(s) above {G_PLAUSIBLE:g} S (max {top:.3g} S): cell "
            "conductances are in siemens (memristors are below ~1e-2 S); were "
            "resistances in ohm given?  Pass 1/R.",
            UnitWarning,
            stacklevel=4,
        )
