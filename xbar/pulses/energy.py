"""Pulse energy at the device level: one home for the energy a write or read pulse costs.

The parts of a pulse's energy carry the names of :class:`xbar.circuit.write.PulseEnergy`
(``selected``, ``half_selected``, ``unselected``, ``access``, ``wires``, ``word_drivers``,
``sense``); the schedule's per-pulse ``e_*`` columns and the ledger categories use the same words.
This module estimates the cell parts without solving the array (ideal wires):

* a selected cell: :func:`pulse_energy`, ``E = |V|·t·I(V, G)`` at a fixed state, or the
  trapezoid ``E = |V|·t·(|I(V, G_before)| + |I(V, G_after)|) / 2`` over the state change (J);
* the half-selected cells of a pulse on a passive (``"0T1R"``) array:
  :func:`half_selected_energy` (``"half"``: the rest of the selected row and the selected
  columns' cells see V/2; ``"third"``: every unselected cell sees V/3; ``"floating"``,
  ``"grounded"``: none), with the conductances at the start of the update.  Pulses on a
  ``"1T1R"`` array book none: the unselected rows' transistors are off, and the estimate also
  leaves out the selected row's unselected cells (a solved pulse has them).

A solved pulse (``xbar.Crossbar.apply_pulse``) gives every part from the network instead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["device_current", "half_selected_energy", "pulse_energy"]


def device_current(device, V, G) -> np.ndarray:
    """Device current, A, at voltage ``V`` (V) and state ``G`` (S).

    Parameters
    ----------
    device : object or None
        Anything with ``current(V, G) -> I`` (a device model, an ``xbar.iv`` model, a device
        view); None or an object without ``current``: linear cells, ``I = G·V``.
    V : float or ndarray
        Cell voltage, V.
    G : ndarray
        Conductance, S.
    """
    cur = getattr(device, "current", None)
    if cur is None:
        return G * V
    return np.asarray(cur(V, G), dtype=np.float64)


def pulse_energy(device, V, width, g_before, g_after=None, compliance=None) -> np.ndarray:
    """Energy of one pulse per cell, J.

    Parameters
    ----------
    device : object or None
        Cell I-V as for :func:`device_current`.
    V : float or ndarray
        Voltage across the cell, V (its sign is the polarity; the energy uses ``|V|``).
    width : float or ndarray
        Pulse width, s.
    g_before : ndarray
        Conductance at the start of the pulse, S.
    g_after : ndarray or None
        Conductance at its end, S: the trapezoid ``|V|·t·(|I(G_before)| + |I(G_after)|)/2``;
        None: the state is held, ``|V|·|I(G_before)|·t``.
    compliance : float, ndarray or None
        Current limit, A (``|I|`` is capped at it); None = no limit.
    """
    i0 = np.abs(device_current(device, V, g_before))
    if compliance is not None:
        i0 = np.minimum(i0, compliance)
    if g_after is None:
        return np.abs(V) * i0 * width
    i1 = np.abs(device_current(device, V, g_after))
    if compliance is not None:
        i1 = np.minimum(i1, compliance)
    return 0.5 * np.abs(V) * width * (i0 + i1)


def half_selected_energy(sched, device, G: np.ndarray) -> np.ndarray:
    """Energy of the half-selected cells of each pulse of a one-array schedule, J.

    Parameters
    ----------
    sched : xbar.pulses.PulseSchedule
        The schedule (its ``cell`` and ``bias_scheme`` per pulse say which cells are
        half-selected).
    device : object or None
        Cell I-V as for :func:`device_current`.
    G : (M, N) ndarray
        Conductances used for every pulse (those at the start of the update), S.

    Returns
    -------
    (n_pulses,) ndarray
        J per pulse (ideal wires; see the module docstring).
    """
    from .schedule import BIAS_SCHEMES, CELLS

    out = np.zeros(sched.n_pulses)
    if sched.n_pulses == 0:
        return out
    b = sched.pulse_bounds()
    passive = sched.cell == CELLS.index("0T1R")
    for code, scheme in enumerate(BIAS_SCHEMES):
        pulses = np.nonzero((sched.bias == code) & passive)[0]
        if not len(pulses) or scheme not in ("half", "third"):
            continue
        frac = 0.5 if scheme == "half" else 1.0 / 3.0
        for p in pulses:
            V = sched.amplitude[p] * frac
            P = V * np.abs(device_current(device, V, G))  # W per cell
            rows, cols = sched.row[b[p] : b[p + 1]], sched.col[b[p] : b[p + 1]]
            sel = P[rows, cols].sum()
            if scheme == "half":
                # rows of the pulse (one row when row-parallel) + selected columns, minus selected
                e = P[np.unique(rows)].sum() + P[:, np.unique(cols)].sum() - 2 * sel
            else:
                e = P.sum() - sel
            out[p] = e * sched.width[p]
    return out
