"""Program-and-verify of one side of a layer's pairs (the engine of :mod:`xbar.pulses.verify`)."""

from __future__ import annotations

import numpy as np

from ..._deprecate import renamed_kwarg, warn_renamed
from ..._random import check_random_state
from ...pulses.schedule import PulseSchedule, cell_and_scheme
from ...exceptions import ConfigError
from ...pulses.verify import Ramp, run_program_verify
from .pairs import PairArray

__all__ = ["program_verify"]


@renamed_kwarg(
    tolerance="atol",
    max_iterations="max_pulses",
    read_voltage="v_read",
    read_width="t_read",
    rng="random_state",
)
def program_verify(
    pairs: PairArray,
    which: str,
    target: np.ndarray,
    mask: np.ndarray,
    *,
    atol: float,
    max_pulses: int,
    set_ramp: Ramp,
    reset_ramp: Ramp,
    width: float,
    v_read: float,
    t_read: float,
    kind: str,
    random_state,
    rtol: float = 0.0,
    allow_set: bool = True,
    cell: str | None = None,
    bias_scheme: str | None = None,
) -> tuple[list[PulseSchedule], np.ndarray]:
    """Incremental-step program-and-verify of the masked cells of one side towards ``target``.

    The loop of :func:`xbar.pulses.verify.run_program_verify` with noiseless verify reads of the
    pairs' conductances: each round reads every unfinished cell; cells within
    ``atol + rtol·|target|`` (S) stop; the others get one SET pulse (below target, if
    ``allow_set``) or one RESET pulse (above), the amplitudes following the ramps.  Every read
    and pulse is recorded in a schedule (energies in J).

    Parameters
    ----------
    pairs : PairArray
        The pairs (conductances in S).
    which : {"+", "-"}
        Side programmed.
    target : (M, N) ndarray
        Target conductances, S.
    mask : (M, N) bool ndarray
        Cells programmed.
    atol : float
        Absolute verify band, S.
    max_pulses : int
        Pulses per cell before giving up (>= 1).
    set_ramp, reset_ramp : Ramp
        SET and RESET amplitudes, V.  A ``(start, stop, step)`` tuple (V) is a deprecated
        spelling.
    width : float
        Pulse width, s.
    v_read : float
        Verify read voltage, V.
    t_read : float
        Verify read time, s.
    kind : {"program", "refresh"}
        Schedule kind of the pulses (reads are ``"verify"``, or ``"refresh"`` for a refresh).
    random_state : None, int or Generator
        Cycle-noise stream (a Generator is used as is; deprecated name: ``rng``).
    rtol : float, default 0.0
        Relative verify band (fraction of the target).
    allow_set : bool, default True
        False: reset-only (a cell below its target is done).
    cell : {"0T1R", "1T1R"} or None, default None
        Cell type of the array; None = ``"1T1R"`` (no half-selected cells booked).
    bias_scheme : {"half", "third", "floating", "grounded"} or None, default None
        Bias of the unselected lines during the pulses (cell by cell); None = ``"half"``.
        ``"1T1R"`` is a deprecated spelling of ``cell="1T1R"``; a bias scheme without ``cell``
        is the deprecated spelling of a passive array (``cell="0T1R"``).

    Returns
    -------
    schedules : list of PulseSchedule
        Reads and pulses, in order.
    unconverged : (M, N) bool ndarray
        Cells not within the band after ``max_pulses``.
    """
    random_state = check_random_state(random_state)
    cell, bias_scheme = cell_and_scheme(cell, bias_scheme, default_cell="1T1R", stacklevel=5)
    ramps = []
    for name, ramp in (("set_ramp", set_ramp), ("reset_ramp", reset_ramp)):
        if not isinstance(ramp, Ramp):
            warn_renamed(
                f"{name}=(start, stop, step)", f"{name}=Ramp(v_start, v_step, v_stop)", stacklevel=4
            )
            ramp = Ramp.from_start_stop_step(ramp, name)
        ramps.append(ramp)
    set_ramp, reset_ramp = ramps
    G = pairs.side(which)
    target = np.asarray(target, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    for name, a in (("target", target), ("mask", mask)):
        if a.shape != G.shape:
            raise ConfigError(f"{name} must have the pairs' shape {G.shape}, got {a.shape}")
    read_kind = "refresh" if kind == "refresh" else "verify"
    scheds: list[PulseSchedule] = []
    # the loop runs on the selected cells only (flat indices, row-major as a mask's cells):
    # every read, pulse and schedule costs the cells it touches, not the layer
    idx = np.flatnonzero(mask)
    flat = G.reshape(-1)  # a view (the sides are C-contiguous)
    n_cols = G.shape[1]

    def read(sel):
        scheds.append(
            pairs._read_at(which, idx[sel], v_read=v_read, t_read=t_read, kind=read_kind, cell=cell)
        )
        return flat[idx]

    def pulse(active, direction, amplitude, level):
        for polarity, sign in (("set", 1), ("reset", -1)):
            sel = active & (direction == sign)
            for r in np.unique(level[sel]):
                cells = sel & (level == r)
                rows, cols = np.divmod(idx[cells], n_cols)
                sched = PulseSchedule.from_cells(
                    rows,
                    cols,
                    amplitude=float(amplitude[cells][0]),
                    width=width,
                    polarity=polarity,
                    array=pairs.label(which),
                    bias_scheme=bias_scheme,
                    kind=kind,
                    mode="cell-by-cell",
                    cell=cell,
                )
                scheds.append(
                    pairs._apply_schedule(
                        which, sched, polarity, float(amplitude[cells][0]), width, random_state
                    )
                )

    out = run_program_verify(
        read,
        pulse,
        target.reshape(-1)[idx],
        np.ones(idx.size, dtype=bool),
        rtol=rtol,
        atol=atol,
        max_pulses=max_pulses,
        set_ramp=set_ramp,
        reset_ramp=reset_ramp,
        allow_set=allow_set,
    )
    unconverged = np.zeros(G.shape, dtype=bool)
    unconverged.reshape(-1)[idx] = ~out.converged
    return scheds, unconverged
