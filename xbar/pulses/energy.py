"""Pulse energy at the device level: one home for the energy a write or read pulse costs.

The parts of a pulse's energy carry the names of :class:`xbar.circuit.write.PulseEnergy`
(``selected``, ``half_selected``, ``unselected``, ``access``, ``wires``, ``word_drivers``,
``sense``); the schedule's per-pulse ``e_*`` columns and the ledger categories use the same words.
This module estimates the cell parts without solving the array (ideal wires):

* a selected cell: :func:`pulse_energy`, ``E = |V|·t·I(V, G)`` at a fixed state, or the
  trapezoid ``E = |V|·t·(|I(V, G_before)| + |I(V, G_after)|) / 2`` over the state change (J);
* the half-selected cells of a pulse: :func:`half_selected_energy`, with the conductances at
  the start of the update.  On a passive (``"0T1R"``) array ``"half"`` makes the rest of the
  selected row and the selected columns' cells see V/2, ``"third"`` every unselected cell V/3
  (``"floating"``, ``"grounded"``: none booked).  On a ``"1T1R"`` array the unselected rows'
  access transistors are off, but the selected word line opens its whole row's gates: that row's
  cells on the unselected bit lines see the bit lines' bias (V/2 or V/3), as in a solved pulse
  (:func:`xbar.circuit.write.apply_pulse`).  The cost is that of the pulses' rows and columns
  (``"third"`` on a passive array: one evaluation of the whole array per pulse amplitude).

A solved pulse (``xbar.Crossbar.apply_pulse``) gives every part from the network instead.

Verify reads also cost the read path's periphery (:class:`ReadPeriphery`): the word-line DAC/driver
and the bit-line TIA while the read voltage is applied, and one ADC conversion per read-out
channel.  :func:`book_read_periphery` books it for the read pulses of schedules, under the
ledger categories ``dac``, ``tia`` and ``adc`` of the forward reads
(:class:`xbar.periphery.AnalogLinear`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_scalar

__all__ = [
    "ReadPeriphery",
    "book_read_periphery",
    "device_current",
    "half_selected_energy",
    "pulse_energy",
    "selected_row_energy",
]

HALF_SELECTED_FRACTION = {"half": 0.5, "third": 1.0 / 3.0}
"""Fraction of the pulse amplitude across a half-selected cell per bias scheme, with ideal
wires (:mod:`xbar.circuit.bias`); the other schemes half-select no cell."""


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
        Cell I-V as for :func:`device_current` (elementwise in ``G``).
    G : (M, N) ndarray
        Conductances used for every pulse (those at the start of the update), S.

    Returns
    -------
    (n_pulses,) ndarray
        J per pulse (ideal wires and access transistors; see the module docstring).
    """
    from .schedule import BIAS_SCHEMES, CELLS

    out = np.zeros(sched.n_pulses)
    if sched.n_pulses == 0:
        return out
    b = sched.pulse_bounds()
    passive = sched.cell == CELLS.index("0T1R")
    total: dict[float, float] = {}  # "third": P summed over the array, per cell voltage
    for code, scheme in enumerate(BIAS_SCHEMES if passive.any() else ()):
        pulses = np.nonzero((sched.bias == code) & passive)[0]
        if not len(pulses) or scheme not in HALF_SELECTED_FRACTION:
            continue
        frac = HALF_SELECTED_FRACTION[scheme]
        for p in pulses:
            V = sched.amplitude[p] * frac
            rows, cols = sched.row[b[p] : b[p + 1]], sched.col[b[p] : b[p + 1]]
            sel = _power(device, V, G[rows, cols]).sum()
            if scheme == "half":
                # rows of the pulse (one row when row-parallel) + selected columns, minus selected
                e = (
                    _power(device, V, G[np.unique(rows)]).sum()
                    + _power(device, V, G[:, np.unique(cols)]).sum()
                    - 2 * sel
                )
            else:
                if V not in total:
                    total[V] = _power(device, V, G).sum()
                e = total[V] - sel
            out[p] = e * sched.width[p]
    return out + _selected_row_energy(sched, device, G)


def _power(device, V, G) -> np.ndarray:
    """Power (W) of cells at voltage ``V`` (V) and conductances ``G`` (S): ``V·|I(V, G)|``."""
    return V * np.abs(device_current(device, V, G))


def selected_row_energy(rows, cols, V, width, device, G: np.ndarray) -> np.ndarray:
    """Energy (J) of the selected row's unselected cells of one-cell pulses on a 1T1R array.

    Pulse ``p`` selects cell ``(rows[p], cols[p])``; its word line opens the gates of its whole
    row, whose other cells see ``V`` (the bit lines' bias, e.g. half the pulse amplitude).

    Parameters
    ----------
    rows, cols : (n,) int ndarray
        Selected cell of each pulse.
    V : float
        Voltage across the row's unselected cells, V.
    width : float or (n,) ndarray
        Pulse width, s.
    device : object or None
        Cell I-V as for :func:`device_current`.
    G : (M, N) ndarray
        Conductances, S.

    Returns
    -------
    (n,) ndarray
        J per pulse (ideal wires and access transistors).
    """
    rows = np.asarray(rows)
    if rows.size < 2 or np.all(rows[1:] > rows[:-1]):  # distinct rows in order (cell by cell)
        ur, ri = rows, np.arange(rows.size)
    else:
        ur, ri = np.unique(rows, return_inverse=True)
    P = float(V) * np.abs(device_current(device, float(V), G[ur]))  # W per cell of the rows
    return (P.sum(axis=1)[ri] - P[ri, cols]) * width


def _selected_row_energy(sched, device, G: np.ndarray) -> np.ndarray:
    """Energy (J per pulse) of the unselected cells on the selected rows of 1T1R pulses.

    The word line of a selected row opens the gates of its whole row, so its cells on the
    unselected bit lines see the bias scheme's fraction of the pulse (``"half"``: V/2,
    ``"third"``: V/3); the unselected rows' gates are off.  Ideal wires and access
    transistors, the conductances ``G`` (S); 0 for the other pulses.  One I-V evaluation per
    bias level, on the pulses' rows only.
    """
    from .schedule import BIAS_SCHEMES, CELLS

    out = np.zeros(sched.n_pulses)
    if sched.n_pulses == 0:
        return out
    b = sched.pulse_bounds()
    frac = np.full(sched.n_pulses, np.nan)
    for name, f in HALF_SELECTED_FRACTION.items():
        frac[sched.bias == BIAS_SCHEMES.index(name)] = f
    frac[sched.cell != CELLS.index("1T1R")] = np.nan
    todo = np.flatnonzero(np.isfinite(frac))
    volts = sched.amplitude[todo] * frac[todo]
    if sched.n_cell_pulses == sched.n_pulses and todo.size:  # one cell per pulse (cell by cell)
        for V in np.unique(volts):
            ps = todo[volts == V]
            out[ps] = selected_row_energy(
                sched.row[ps], sched.col[ps], V, sched.width[ps], device, G
            )
        return out
    for V in np.unique(volts):
        ps = todo[volts == V]
        counts = b[ps + 1] - b[ps]
        entry = np.repeat(b[ps] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        pulse = np.repeat(np.arange(ps.size), counts)
        rows, cols = sched.row[entry], sched.col[entry]
        ur, ri = np.unique(rows, return_inverse=True)
        P = float(V) * np.abs(device_current(device, float(V), G[ur]))  # W per cell of the rows
        cells = np.bincount(pulse, P[ri, cols], minlength=ps.size)
        pairs = np.unique(pulse.astype(np.int64) * ur.size + ri)  # (pulse, row) once each
        row_sum = P.sum(axis=1)
        rows_e = np.bincount(pairs // ur.size, row_sum[pairs % ur.size], minlength=ps.size)
        out[ps] = (rows_e - cells) * sched.width[ps]
    return out


@dataclass(frozen=True)
class ReadPeriphery:
    """Periphery energy of one cell read (a verify read), the read path's DAC, TIA and ADC.

    A verify read drives ``lines_per_read`` word lines at the read voltage for the read time
    ``t_read`` and senses ``channels_per_read`` bit lines; its periphery energy is::

        E = lines·P_dac·t_read + channels·(P_tia·t_read + E_adc)

    the same terms :class:`xbar.periphery.AnalogLinear` books for a forward read.

    Parameters
    ----------
    dac_power : float, default 0.0
        Power of one word-line DAC/driver while a read is applied, W (``DAC.power_per_line``).
    tia_power : float, default 0.0
        Power of one bit-line TIA while a read is applied, W (``TIA.power``).
    adc_energy : float, default 0.0
        Energy per ADC conversion, J (``ADC.conversion_energy()``).
    lines_per_read : int, default 1
        Word lines driven per read (one for a cell-by-cell verify read).
    channels_per_read : int, default 1
        Bit lines sensed and converted per read.
    """

    dac_power: float = 0.0
    tia_power: float = 0.0
    adc_energy: float = 0.0
    lines_per_read: int = 1
    channels_per_read: int = 1

    def __post_init__(self) -> None:
        check_scalar(self.dac_power, "dac_power", low=0.0, high=1.0, unit="W")
        check_scalar(self.tia_power, "tia_power", low=0.0, high=1.0, unit="W")
        check_scalar(self.adc_energy, "adc_energy", low=0.0, high=1e-6, unit="J")
        check_scalar(self.lines_per_read, "lines_per_read", low=1, integer=True)
        check_scalar(self.channels_per_read, "channels_per_read", low=1, integer=True)

    @classmethod
    def from_components(cls, dac=None, tia=None, adc=None, **kw) -> "ReadPeriphery":
        """The periphery of a read path built from ``xbar.periphery`` components.

        Parameters
        ----------
        dac : xbar.periphery.DAC or None
            Its ``power_per_line`` (W); None: no DAC energy.
        tia : xbar.periphery.TIA or None
            Its ``power`` (W); None: no TIA energy.
        adc : xbar.periphery.ADC or None
            Its ``conversion_energy()`` (J); None: no conversion.
        **kw
            ``lines_per_read``, ``channels_per_read``.
        """
        return cls(
            dac_power=0.0 if dac is None else float(dac.power_per_line),
            tia_power=0.0 if tia is None else float(tia.power),
            adc_energy=0.0 if adc is None else float(adc.conversion_energy()),
            **kw,
        )

    def energies(self, n_reads: int, t_read: float) -> dict:
        """Periphery energy of ``n_reads`` reads of total duration ``t_read``, J per part.

        Parameters
        ----------
        n_reads : int
            Reads (>= 0).
        t_read : float
            Sum of the reads' durations, s (>= 0).

        Returns
        -------
        dict
            ``{"dac": J, "tia": J, "adc": J}``.
        """
        check_scalar(n_reads, "n_reads", low=0, integer=True)
        check_scalar(t_read, "t_read", low=0.0, unit="s")
        return {
            "dac": self.lines_per_read * self.dac_power * float(t_read),
            "tia": self.channels_per_read * self.tia_power * float(t_read),
            "adc": self.channels_per_read * self.adc_energy * int(n_reads),
        }


def book_read_periphery(ledger, schedules, periphery: ReadPeriphery, **tags) -> dict:
    """Book the periphery energy of the read pulses of ``schedules`` (verify or refresh reads).

    Every pulse of polarity ``"read"`` is one read of ``periphery`` lasting its width; the
    energies go to the ledger categories ``dac``, ``tia`` and ``adc`` (tag ``operation`` = the
    reads' kind, ``"verify"`` or ``"refresh"``; counts: lines, channels and conversions).

    Parameters
    ----------
    ledger : xbar.pulses.EnergyLedger
        Where the energies (J) are booked.
    schedules : iterable of xbar.pulses.PulseSchedule
        Schedules holding the reads.
    periphery : ReadPeriphery
        Periphery of one read.
    **tags
        Scalar tags of every booking (e.g. ``layer``).

    Returns
    -------
    dict
        ``{"reads": n, "dac": J, "tia": J, "adc": J}`` booked in total.
    """
    from .schedule import KINDS, POLARITIES

    read = POLARITIES.index("read")
    total = {"reads": 0, "dac": 0.0, "tia": 0.0, "adc": 0.0}
    for s in schedules:
        if s.n_pulses == 0:
            continue
        reads = s.polarity == read
        for code in np.unique(s.kind[reads]):
            sel = reads & (s.kind == code)
            n = int(sel.sum())
            parts = periphery.energies(n, float(np.sum(s.width[sel])))
            counts = {
                "dac": n * periphery.lines_per_read,
                "tia": n * periphery.channels_per_read,
                "adc": n * periphery.channels_per_read,
            }
            for cat, e in parts.items():
                if e > 0:
                    ledger.book(cat, e, count=counts[cat], operation=KINDS[code], **tags)
                total[cat] += e
            total["reads"] += n
    return total
