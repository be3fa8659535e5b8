"""Program-and-verify of one side of a layer's pairs (the engine of :mod:`xbar.pulses.verify`)."""

from __future__ import annotations

import numpy as np

from ..._deprecate import renamed_kwarg, warn_renamed
from ..._random import check_random_state
from ..._validation import check_choice, check_scalar
from ...exceptions import ConfigError
from ...pulses.energy import (
    HALF_SELECTED_FRACTION,
    device_current,
    half_selected_energy,
    pulse_energy,
    selected_row_energy,
)
from ...pulses.schedule import BIAS_SCHEMES, KINDS, POLARITIES, PulseSchedule, cell_and_scheme
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
    and pulse is recorded in a schedule (energies in J).  The loop runs on the selected cells
    only: its cost is that of the cells programmed and their rounds, not of the layer.

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
        One cell-by-cell schedule of the reads and pulses in order, round after round (``[]``
        when no cell is selected); energies in J.
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
    check_scalar(width, "width", low=0.0, low_open=True, unit="s")
    check_scalar(v_read, "v_read", low=0.0, low_open=True, unit="V")
    check_scalar(t_read, "t_read", low=0.0, low_open=True, unit="s")
    check_choice(kind, "kind", KINDS)
    read_kind = "refresh" if kind == "refresh" else "verify"
    # the loop runs on the selected cells only (flat indices, row-major as a mask's cells):
    # every read and pulse costs the cells it touches, not the layer; the rounds are recorded
    # and become one schedule at the end
    idx = np.flatnonzero(mask)
    flat = G.reshape(-1)  # a view (the sides are C-contiguous)
    n_cols = G.shape[1]
    rounds: list[tuple] = []  # (cells, polarity, amplitude V, G before, G after, E half J)
    frac = HALF_SELECTED_FRACTION.get(bias_scheme)

    def read(sel):
        cells = idx[sel]
        g = flat[cells]
        rounds.append((cells, "read", v_read, g, g, None))
        return flat[idx]

    def pulse(active, direction, amplitude, level):
        for polarity, sign in (("set", 1), ("reset", -1)):
            sel = active & (direction == sign)
            for r in np.unique(level[sel]):
                chosen = sel & (level == r)
                cells = idx[chosen]
                amp = float(amplitude[chosen][0])
                rows, cols = np.divmod(cells, n_cols)
                if frac is None:  # floating / grounded lines: no half-selected cells
                    e_half = np.zeros(cells.size)
                elif cell == "1T1R":  # the selected row's cells, at the states before the pulse
                    e_half = selected_row_energy(rows, cols, amp * frac, width, pairs.device, G)
                else:
                    one = PulseSchedule.from_cells(
                        rows, cols, amplitude=amp, width=width, polarity=polarity,
                        bias_scheme=bias_scheme, kind=kind, mode="cell-by-cell", cell=cell,
                    )  # fmt: skip
                    e_half = half_selected_energy(one, pairs.device, G)
                before, after = pairs._pulse_at(which, cells, polarity, amp, width, random_state)
                rounds.append((cells, polarity, amp, before, after, e_half))

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
    return _schedule(pairs, which, rounds, width, t_read, kind, read_kind, cell, bias_scheme), (
        unconverged
    )


def _schedule(pairs, which, rounds, width, t_read, kind, read_kind, cell, bias_scheme):
    """The recorded reads and pulses as one cell-by-cell schedule (``[]`` if none): the
    :meth:`PulseSchedule.concat` of the schedules of its rounds, with the same energies."""
    if not rounds:
        return []
    n = np.array([len(r[0]) for r in rounds])
    cells = np.concatenate([r[0] for r in rounds])
    pol = np.array([POLARITIES.index(r[1]) for r in rounds])
    amp = np.array([r[2] for r in rounds], dtype=np.float64)
    is_read = pol == POLARITIES.index("read")
    gb = np.concatenate([r[3] for r in rounds])
    ga = np.concatenate([r[4] for r in rounds])
    e_half = np.concatenate([np.zeros(len(r[0])) if r[5] is None else r[5] for r in rounds])
    per_pulse = np.repeat(np.arange(len(rounds)), n)
    energy = np.full(cells.size, np.nan)
    reads = is_read[per_pulse]
    if reads.any():  # verify reads: V_r·t_r·|I(V_r, G)|
        v_read = float(amp[is_read][0])
        energy[reads] = v_read * t_read * np.abs(device_current(pairs.device, v_read, gb[reads]))
    for a in np.unique(amp[~is_read]):  # pulses: the trapezoid over the state change
        at = ~reads & (amp[per_pulse] == a)
        energy[at] = pulse_energy(pairs.device, float(a), width, gb[at], ga[at])
    rows, cols = np.divmod(cells, pairs.shape[1])
    return [
        PulseSchedule.from_cell_pulses(
            rows,
            cols,
            amplitude=amp[per_pulse],
            width=np.where(reads, t_read, width),
            polarity=pol[per_pulse],
            kind=np.where(reads, KINDS.index(read_kind), KINDS.index(kind)),
            bias_scheme=np.where(
                reads, BIAS_SCHEMES.index("half"), BIAS_SCHEMES.index(bias_scheme)
            ),
            cell=cell,
            array=pairs.label(which),
            energy=energy,
            g_before=gb,
            g_after=ga,
            energy_half_selected=e_half,
        )
    ]
