"""The program-and-verify engine: verify reads and SET/RESET pulses until a conductance band is met.

One loop serves every caller (``xbar.devices.DeviceArray.program_verify`` on a device array,
``xbar.train.pulsed.program_verify`` on one side of a layer's differential pairs).  The caller
supplies how to read and how to pulse; the engine decides, per cell, whether it is done, the
direction of the next pulse and its amplitude:

* every unfinished cell is read; a cell is done when ``|G_read - G_target| <= atol +
  rtol·|G_target|`` (S), or (``allow_set=False``: a reset-only device cannot go up) when it
  reads below its target;
* every other cell gets one pulse: SET when it reads below target, RESET when above;
* amplitudes follow a :class:`Ramp` per polarity (incremental step pulse programming, ISPP): the
  first pulse of a direction is at ``v_start``, each further pulse in the same direction one
  ``v_step`` higher, up to ``v_stop``; a change of direction restarts the ramp;
* at most ``max_pulses`` pulses per cell; after the last pulse a final verify read decides
  convergence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._deprecate import warn_renamed
from .._validation import check_scalar
from ..exceptions import ConfigError

__all__ = ["Ramp", "VerifyOutcome", "check_band", "ramps_from_legacy", "run_program_verify"]


@dataclass(frozen=True)
class Ramp:
    """Amplitudes of consecutive pulses of one polarity (ISPP ramp).

    Parameters
    ----------
    v_start : float
        Amplitude of the first pulse, V (> 0).
    v_step : float, default 0.0
        Increase per further pulse in the same direction, V (>= 0; 0 = constant amplitude).
    v_stop : float or None, default None
        Largest amplitude, V (>= ``v_start``); None = ``v_start``.
    """

    v_start: float
    v_step: float = 0.0
    v_stop: float | None = None

    def __post_init__(self) -> None:
        check_scalar(self.v_start, "v_start", low=0.0, low_open=True, unit="V")
        check_scalar(self.v_step, "v_step", low=0.0, unit="V")
        stop = self.v_start if self.v_stop is None else self.v_stop
        check_scalar(stop, "v_stop", low=self.v_start, unit="V")
        object.__setattr__(self, "v_start", float(self.v_start))
        object.__setattr__(self, "v_step", float(self.v_step))
        object.__setattr__(self, "v_stop", float(stop))

    @classmethod
    def coerce(cls, value, name: str) -> "Ramp":
        """A :class:`Ramp` from a Ramp or a ``(v_start, v_step, v_stop)`` sequence (V).

        Parameters
        ----------
        value : Ramp or sequence of 3 floats
            The ramp, or its ``(v_start, v_step, v_stop)`` in V.
        name : str
            Argument name for error messages.
        """
        if isinstance(value, cls):
            return value
        try:
            v = tuple(float(x) for x in value)
        except (TypeError, ValueError):
            v = ()
        if len(v) != 3:
            raise ConfigError(
                f"{name} must be a Ramp or (v_start, v_step, v_stop) in V, got {value!r}"
            )
        return cls(*v)

    @classmethod
    def from_start_stop_step(cls, value, name: str) -> "Ramp":
        """A :class:`Ramp` from the former ``(start, stop, step)`` tuple order (V).

        Parameters
        ----------
        value : sequence of 3 floats
            ``(start, stop, step)`` in V.
        name : str
            Argument name for error messages.
        """
        try:
            v = tuple(float(x) for x in value)
        except (TypeError, ValueError):
            v = ()
        if len(v) != 3 or not 0 < v[0] <= v[1] or v[2] < 0:
            raise ConfigError(
                f"{name} must be (start, stop, step) V with 0 < start <= stop and "
                f"step >= 0, got {value!r}"
            )
        return cls(v_start=v[0], v_step=v[2], v_stop=v[1])

    def level(self, index) -> np.ndarray:
        """Amplitude (V) of the pulse ``index`` (0 = first) of a run in one direction.

        Parameters
        ----------
        index : int or int array
            Pulses already applied in this direction since the last change of direction.
        """
        stop = self.v_start if self.v_stop is None else self.v_stop
        return np.minimum(self.v_start + self.v_step * np.asarray(index), stop)


@dataclass
class VerifyOutcome:
    """What :func:`run_program_verify` did, per cell (arrays of the target's shape).

    Parameters
    ----------
    converged : bool ndarray
        Cell within its band at its last verify read (True for cells outside the mask).
    g_read : ndarray
        Last verify read, S (NaN for cells never read).
    n_pulses : int ndarray
        Write pulses applied (count).
    n_reads : int ndarray
        Verify reads (count).
    """

    converged: np.ndarray
    g_read: np.ndarray
    n_pulses: np.ndarray
    n_reads: np.ndarray


def check_band(rtol: float, atol: float) -> tuple[float, float]:
    """Validate a verify band: ``rtol >= 0`` (dimensionless), ``atol >= 0`` (S), not both 0.

    Parameters
    ----------
    rtol : float
        Relative tolerance on the target conductance.
    atol : float
        Absolute tolerance, S.
    """
    check_scalar(rtol, "rtol", low=0.0)
    check_scalar(atol, "atol", low=0.0, unit="S")
    if rtol == 0 and atol == 0:
        raise ConfigError(
            "rtol and atol must not both be 0 (the band |G - target| <= atol + "
            "rtol*|target| would be empty), got rtol=0, atol=0 S"
        )
    return float(rtol), float(atol)


def run_program_verify(
    read: Callable[[np.ndarray], np.ndarray],
    pulse: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None],
    target: np.ndarray,
    mask: np.ndarray,
    *,
    rtol: float,
    atol: float,
    max_pulses: int,
    set_ramp: Ramp,
    reset_ramp: Ramp,
    allow_set: bool = True,
) -> VerifyOutcome:
    """Program-and-verify the masked cells towards ``target`` (module docstring).

    Parameters
    ----------
    read : callable
        ``read(sel) -> G_read``: verify-read the cells of the boolean array ``sel`` and return
        read conductances (S) of the target's shape (only ``sel`` entries are used).
    pulse : callable
        ``pulse(sel, direction, amplitude, level)``: apply one pulse to each cell of ``sel``;
        ``direction`` +1 SET / -1 RESET, ``amplitude`` V (> 0) and ``level`` (the ramp index of
        the pulse) per cell, all of the target's shape.
    target : ndarray
        Target conductance per cell, S.
    mask : bool ndarray
        Cells to program (shape of ``target``).
    rtol : float
        Relative tolerance of the band (dimensionless).
    atol : float
        Absolute tolerance of the band, S.
    max_pulses : int
        Pulses per cell before giving up (>= 1).
    set_ramp, reset_ramp : Ramp
        Amplitudes of SET and RESET pulses, V.
    allow_set : bool, default True
        False: a cell below its target counts as done (reset-only devices).

    Returns
    -------
    VerifyOutcome
    """
    rtol, atol = check_band(rtol, atol)
    check_scalar(max_pulses, "max_pulses", low=1, integer=True)
    target = np.asarray(target, dtype=np.float64)
    band = atol + rtol * np.abs(target)
    active = np.array(mask, dtype=bool, copy=True)
    shape = target.shape
    g_read = np.full(shape, np.nan)
    n_pulses = np.zeros(shape, dtype=np.int64)
    n_reads = np.zeros(shape, dtype=np.int64)
    level = np.zeros(shape, dtype=np.int64)
    last = np.zeros(shape, dtype=np.int8)  # +1 last pulse SET, -1 RESET, 0 none
    for it in range(int(max_pulses) + 1):
        if not active.any():
            break
        g_read[active] = np.asarray(read(active))[active]
        n_reads[active] += 1
        err = g_read - target
        done = np.abs(err) <= band
        if not allow_set:
            done |= err < 0
        active &= ~done
        if it == max_pulses or not active.any():
            break
        direction = np.where(err < 0, 1, -1).astype(np.int8)
        level[active & (direction != last)] = 0
        amplitude = np.where(direction > 0, set_ramp.level(level), reset_ramp.level(level))
        pulse(active, direction, amplitude, level)
        level[active] += 1
        last[active] = direction[active]
        n_pulses[active] += 1
    return VerifyOutcome(~active, g_read, n_pulses, n_reads)


_LEGACY_RAMP = {
    "v_set_start": ("set", "v_start"),
    "v_set_step": ("set", "v_step"),
    "v_set_max": ("set", "v_stop"),
    "v_reset_start": ("reset", "v_start"),
    "v_reset_step": ("reset", "v_step"),
    "v_reset_max": ("reset", "v_stop"),
}


def ramps_from_legacy(
    set_ramp, reset_ramp, legacy: dict, defaults: tuple[Ramp, Ramp]
) -> tuple[Ramp, Ramp]:
    """The SET and RESET ramps of a call, folding in the deprecated ramp keywords.

    Parameters
    ----------
    set_ramp, reset_ramp : Ramp, (v_start, v_step, v_stop) in V, or None
        The ramps passed (None = default).
    legacy : dict
        Other keywords of the call: only the deprecated ``v_set_start``, ``v_set_step``,
        ``v_set_max``, ``v_reset_start``, ``v_reset_step``, ``v_reset_max`` (V) are accepted,
        each with a DeprecationWarning.
    defaults : (Ramp, Ramp)
        SET and RESET ramps when none is given.
    """
    unknown = sorted(set(legacy) - set(_LEGACY_RAMP))
    if unknown:
        raise TypeError(f"program_verify() got unexpected keyword arguments {unknown}")
    ramps = {"set": set_ramp, "reset": reset_ramp}
    for which, default in zip(("set", "reset"), defaults):
        old = {fld: legacy[k] for k, (w, fld) in _LEGACY_RAMP.items() if w == which and k in legacy}
        if not old:
            ramps[which] = (
                default if ramps[which] is None else Ramp.coerce(ramps[which], f"{which}_ramp")
            )
            continue
        if ramps[which] is not None:
            raise TypeError(
                f"program_verify() got both {which}_ramp and the deprecated {sorted(old)}"
            )
        for k, (w, fld) in _LEGACY_RAMP.items():
            if w == which and k in legacy:
                warn_renamed(k, f"{which}_ramp=Ramp({fld}=...)", stacklevel=4)
        ramps[which] = Ramp(
            v_start=float(old.get("v_start", default.v_start)),
            v_step=float(old.get("v_step", default.v_step)),
            v_stop=float(
                old.get("v_stop", default.v_stop if default.v_stop is not None else default.v_start)
            ),
        )
    return ramps["set"], ramps["reset"]
