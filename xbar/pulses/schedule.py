"""Programming pulses and pulse schedules: what is applied to which cells, when, and at what cost.

A :class:`Pulse` is one electrical event: an amplitude (V) and width (s) applied to a set of
selected cells of one array (one cell, part of a row, ...), with a polarity (``"set"``, ``"reset"``
or ``"read"`` for verify reads), the cell type of the array (``"0T1R"``: passive, ``"1T1R"``: an
access transistor per cell, the names of ``xbar.Crossbar(cell=...)``) and the bias scheme of the
unselected lines (``"half"``: V/2, ``"third"``: V/3, ``"floating"``, ``"grounded"``, the names of
:mod:`xbar.circuit.bias`).  On a 1T1R array only the selected rows' transistors are on, so the
bias scheme sets the bit lines seen by the selected row only; the unselected rows' cells are
isolated.  ``"V/2"`` and ``"V/3"`` are accepted as deprecated spellings of ``"half"`` and
``"third"``, and ``bias_scheme="1T1R"`` as a deprecated spelling of ``cell="1T1R"`` (with
``bias_scheme="half"``).

A :class:`PulseSchedule` is an ordered list of pulses with timing. It is stored column-wise (one
row per selected cell and pulse), so a training step's thousands of cell pulses cost numpy arrays,
not Python objects; iterating yields :class:`Pulse` records. Two application modes:

``"row-parallel"``
    every pulse selects one word line and all the bit lines of that row that need the same pulse
    (``"half"``-style); a cell needing ``n`` pulses takes part in the row's first ``n`` pulse slots.
``"cell-by-cell"``
    every pulse selects exactly one cell.

The time a schedule takes is the sum over its pulses of ``width + gap`` (``gap`` = settling/line
switching time between pulses, s). Energies per selected cell (``energy``, J, from the device's
current during the pulse) and per pulse for the half-selected cells (``e_half_selected``, J) are
filled in by whoever applies the schedule; when the pulse was solved through the array the
per-pulse ``e_wires``, ``e_word_drivers``, ``e_sense`` and ``e_access`` (J) are filled too.  The
column names are the fields of :class:`xbar.circuit.write.PulseEnergy` (``e_half`` and
``e_drivers`` are deprecated aliases: ``e_drivers`` reads ``e_word_drivers + e_sense``).
:meth:`PulseSchedule.book` moves them into an :class:`~xbar.pulses.EnergyLedger` under the
categories of the same names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._deprecate import renamed_kwarg, warn_renamed
from .._io import dump_document, load_document, open_atomic
from .._validation import as_float_array, check_choice, check_scalar
from ..circuit.bias import DEPRECATED_SCHEMES as _OLD_SCHEMES  # the one table of old spellings
from ..circuit.bias import SCHEMES as BIAS_SCHEMES
from ..circuit.crossbar import CELLS
from ..exceptions import ConfigError

__all__ = [
    "Pulse",
    "PulseSchedule",
    "POLARITIES",
    "BIAS_SCHEMES",
    "CELLS",
    "KINDS",
    "MODES",
    "canonical_bias_scheme",
    "cell_and_scheme",
]

POLARITIES = ("set", "reset", "read")
# Energy columns per pulse, named as the fields of xbar.circuit.write.PulseEnergy.
PULSE_ENERGY_PARTS = ("half_selected", "wires", "word_drivers", "sense", "access")


def canonical_bias_scheme(
    name, argname: str = "bias_scheme", *, warn: bool = True, stacklevel: int = 4
) -> str:
    """The bias-scheme name of ``name``: one of ``BIAS_SCHEMES`` (:data:`xbar.circuit.bias.SCHEMES`).

    Parameters
    ----------
    name : str
        A scheme name; ``"V/2"`` and ``"V/3"`` are deprecated spellings of ``"half"`` and
        ``"third"`` (a DeprecationWarning when ``warn``).
    argname : str, default "bias_scheme"
        Argument name for the error message.
    warn : bool, default True
        Warn on a deprecated spelling (False when reading a file written before the rename).
    stacklevel : int, default 4
        Stack level of the deprecation warning.

    Returns
    -------
    str
        The name in ``BIAS_SCHEMES``.

    Notes
    -----
    The old spellings are ``xbar.circuit.bias.DEPRECATED_SCHEMES``.  ``"1T1R"`` is a cell type,
    not a bias scheme: :func:`cell_and_scheme` maps the deprecated ``bias_scheme="1T1R"``.
    """
    if isinstance(name, str) and name in _OLD_SCHEMES:
        if warn:
            warn_renamed(name, _OLD_SCHEMES[name], stacklevel=stacklevel)
        return _OLD_SCHEMES[name]
    if name == "1T1R":
        raise ConfigError(
            f"{argname} must be one of {list(BIAS_SCHEMES)}, got '1T1R' (a cell "
            "type: pass cell='1T1R')"
        )
    check_choice(name, argname, BIAS_SCHEMES)
    return name


def cell_and_scheme(
    cell: str | None,
    bias_scheme: str | None,
    *,
    default_cell: str = "0T1R",
    implied_cell: str = "0T1R",
    warn: bool = True,
    stacklevel: int = 4,
) -> tuple[str, str]:
    """The cell type and the bias scheme of pulses from a ``cell`` and a ``bias_scheme`` keyword.

    Parameters
    ----------
    cell : {"0T1R", "1T1R"} or None
        Cell type of the array (``xbar.circuit.crossbar.CELLS``); None = not given.
    bias_scheme : str or None
        Bias of the unselected lines (``BIAS_SCHEMES``, or a deprecated spelling: ``"V/2"``,
        ``"V/3"``, and ``"1T1R"`` for ``cell="1T1R", bias_scheme="half"``); None = ``"half"``.
    default_cell : {"0T1R", "1T1R"}, default "0T1R"
        The cell type when neither keyword names one.
    implied_cell : {"0T1R", "1T1R"}, default "0T1R"
        The cell type a ``bias_scheme`` given without ``cell`` stood for before the two were
        separated (a passive array; a writer's circuit array).  When it differs from
        ``default_cell`` the call is the deprecated spelling: it keeps its former meaning
        with a DeprecationWarning asking for ``cell``.
    warn : bool, default True
        Warn on a deprecated spelling (False when reading a file written before the rename).
    stacklevel : int, default 4
        Stack level of the deprecation warnings.

    Returns
    -------
    cell : str
        One of ``CELLS``.
    bias_scheme : str
        One of ``BIAS_SCHEMES``.
    """
    if bias_scheme == "1T1R":
        if cell not in (None, "1T1R"):
            raise ConfigError(
                f"bias_scheme='1T1R' (deprecated: a 1T1R array) contradicts "
                f"cell={cell!r}; pass cell and a bias scheme in {list(BIAS_SCHEMES)}"
            )
        if warn:
            warn_renamed(
                "bias_scheme='1T1R'", "cell='1T1R' (bias_scheme='half')", stacklevel=stacklevel
            )
        return "1T1R", "half"
    scheme = (
        "half"
        if bias_scheme is None
        else canonical_bias_scheme(bias_scheme, warn=warn, stacklevel=stacklevel + 1)
    )
    if cell is None:
        cell = default_cell if bias_scheme is None else implied_cell
        if bias_scheme is not None and implied_cell != default_cell and warn:
            warn_renamed(
                f"bias_scheme={bias_scheme!r} without cell",
                f"cell={implied_cell!r}, bias_scheme={scheme!r} (a bias scheme alone "
                f"will mean cell={default_cell!r})",
                stacklevel=stacklevel,
            )
    check_choice(cell, "cell", CELLS)
    return cell, scheme


KINDS = ("update", "program", "verify", "refresh")
MODES = ("row-parallel", "cell-by-cell")

# Ledger category of the selected-cell energy of each pulse kind.
_CATEGORY = {"update": "write", "program": "write", "verify": "verify", "refresh": "refresh"}


@dataclass(frozen=True)
class Pulse:
    """One pulse.

    Parameters
    ----------
    cells : ndarray of int, shape (k, 2)
        (word line, bit line) of each selected cell.
    amplitude : float
        Pulse amplitude on the selected cells, V (magnitude; the polarity says the direction).
    width : float
        Pulse width, s.
    polarity : {"set", "reset", "read"}
        Direction of the pulse (``"read"``: a verify read).
    bias_scheme : {"half", "third", "floating", "grounded"}
        Bias of the unselected lines (on a 1T1R array: of the bit lines the selected row sees).
    array : str
        Name of the array the pulse is applied to (e.g. ``"layer0/G-"``).
    kind : {"update", "program", "verify", "refresh"}
        Why the pulse is applied.
    t_start : float
        Start time within its schedule, s.
    energy : ndarray, shape (k,)
        Energy dissipated in each selected cell, J (NaN until the pulse is applied).
    energy_half_selected : float
        Energy in the half-selected cells during the pulse, J.
    energy_wires, energy_word_drivers, energy_sense, energy_access : float
        Energy in the line wires, the word-line driver resistances, the bit-line terminal
        resistances and the access transistors during the pulse, J (0 unless the pulse was
        solved through the array).
    cell : {"0T1R", "1T1R"}, default "0T1R"
        Cell type of the array (``"1T1R"``: the unselected rows' access transistors are off).
    """

    cells: np.ndarray
    amplitude: float
    width: float
    polarity: str
    bias_scheme: str
    array: str
    kind: str
    t_start: float
    energy: np.ndarray
    energy_half_selected: float
    energy_wires: float = 0.0
    energy_word_drivers: float = 0.0
    energy_sense: float = 0.0
    energy_access: float = 0.0
    cell: str = "0T1R"

    @property
    def total_energy(self) -> float:
        """Selected, half-selected, wire, driver, sense and access energy, J."""
        return float(
            np.nansum(self.energy)
            + self.energy_half_selected
            + self.energy_wires
            + self.energy_word_drivers
            + self.energy_sense
            + self.energy_access
        )

    @property
    def energy_half_select(self) -> float:
        """Deprecated alias of ``energy_half_selected`` (J)."""
        warn_renamed("energy_half_select", "energy_half_selected")
        return self.energy_half_selected

    @property
    def energy_drivers(self) -> float:
        """Deprecated: ``energy_word_drivers + energy_sense`` (J), the former lumped column."""
        warn_renamed("energy_drivers", "energy_word_drivers + energy_sense")
        return self.energy_word_drivers + self.energy_sense


def _file_cell_scheme(row: dict) -> tuple[str, str]:
    """(cell, bias scheme) of a pulse row of a schedule file, older versions mapped silently."""
    scheme = row["bias_scheme"]
    if scheme == "1T1R":  # versions 1-2: the cell type as a scheme
        return "1T1R", "half"
    return row.get("cell", "0T1R"), _OLD_SCHEMES.get(scheme, scheme)


def _codes(values, table, name):
    out = np.empty(len(values), dtype=np.int8)
    for k, v in enumerate(values):
        if v not in table:
            raise ConfigError(f"{name} must be one of {list(table)}, got {v!r}")
        out[k] = table.index(v)
    return out


class PulseSchedule:
    """An ordered, inspectable, serialisable list of pulses with timing.

    Build one with :meth:`from_counts` (a pulse-count matrix of one array), or :meth:`concat`
    several; read it with ``len``, iteration, indexing, :meth:`to_table`, ``str()``; save it with
    :meth:`to_json` / :meth:`to_csv`; draw it with :meth:`plot`.

    Parameters
    ----------
    mode : {"row-parallel", "cell-by-cell"}
        How cells were grouped into pulses (informational once built).
    gap : float, default 0.0
        Time between consecutive pulses, s.
    """

    # per-pulse columns
    _PULSE = (
        "amplitude",
        "width",
        "polarity",
        "cell",
        "bias",
        "array",
        "kind",
        *(f"e_{p}" for p in PULSE_ENERGY_PARTS),
    )
    # per-cell-pulse columns
    _CELL = ("slot", "row", "col", "rep", "energy", "g_before", "g_after")

    def __init__(self, mode: str = "row-parallel", gap: float = 0.0):
        check_choice(mode, "mode", MODES)
        check_scalar(gap, "gap", low=0.0, unit="s")
        self.mode = mode
        self.gap = float(gap)
        self.arrays: list[str] = []
        self.amplitude = np.zeros(0)
        self.width = np.zeros(0)
        self.polarity = np.zeros(0, dtype=np.int8)
        self.cell = np.zeros(0, dtype=np.int8)  # per pulse: index into CELLS
        self.bias = np.zeros(0, dtype=np.int8)  # per pulse: index into BIAS_SCHEMES
        self.array = np.zeros(0, dtype=np.int32)
        self.kind = np.zeros(0, dtype=np.int8)
        self.e_half_selected = np.zeros(0)  # per pulse, J: half-selected cells
        self.e_wires = np.zeros(0)  # per pulse, J: word/bit-line wires (circuit solve)
        self.e_word_drivers = np.zeros(0)  # per pulse, J: word-line driver resistances
        self.e_sense = np.zeros(0)  # per pulse, J: bit-line terminal resistances
        self.e_access = np.zeros(0)  # per pulse, J: access transistors (1T1R)
        self.slot = np.zeros(0, dtype=np.int64)
        self.row = np.zeros(0, dtype=np.int64)
        self.col = np.zeros(0, dtype=np.int64)
        self.rep = np.zeros(0, dtype=np.int64)  # which pulse of its cell (0 = first)
        self.energy = np.zeros(0)
        self.g_before = np.zeros(0)
        self.g_after = np.zeros(0)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_counts(
        cls,
        counts,
        *,
        amplitude: float,
        width: float,
        polarity: str,
        array: str = "array",
        bias_scheme: str = "half",
        kind: str = "update",
        mode: str = "row-parallel",
        gap: float = 0.0,
        cell: str | None = None,
    ) -> "PulseSchedule":
        """Pulses that give cell (i, j) ``counts[i, j]`` identical pulses.

        Parameters
        ----------
        counts : int array (M, N)
            Non-negative pulse counts per cell.
        amplitude : float
            Pulse amplitude, V (> 0).
        width : float
            Pulse width, s (> 0).
        polarity : {"set", "reset", "read"}
            Direction (see :class:`Pulse`).
        array : str, default "array"
            Name of the array.
        bias_scheme : {"half", "third", "floating", "grounded"}, default "half"
            Bias of the unselected lines; ``"V/2"`` and ``"V/3"`` are deprecated spellings, and
            ``"1T1R"`` a deprecated spelling of ``cell="1T1R"`` (with ``"half"``).
        kind : {"update", "program", "verify", "refresh"}, default "update"
            Why the pulses are applied.
        mode : {"row-parallel", "cell-by-cell"}, default "row-parallel"
            How cells are grouped into pulses.
        gap : float, default 0.0
            Time between consecutive pulses, s.
        cell : {"0T1R", "1T1R"} or None, default None
            Cell type of the array; None = ``"0T1R"`` (passive).

        Returns
        -------
        PulseSchedule
            Energies and conductances not yet filled in (NaN).
        """
        counts = np.asarray(counts)
        if counts.ndim != 2 or not np.issubdtype(counts.dtype, np.integer) or np.any(counts < 0):
            raise ConfigError(
                f"counts must be a 2-D array of non-negative integers, got "
                f"dtype {counts.dtype}, shape {counts.shape}"
            )
        rows, cols = np.nonzero(counts)
        return cls.from_cells(
            rows,
            cols,
            counts[rows, cols],
            amplitude=amplitude,
            width=width,
            polarity=polarity,
            array=array,
            bias_scheme=bias_scheme,
            kind=kind,
            mode=mode,
            gap=gap,
            cell=cell,
        )

    @classmethod
    def from_cells(
        cls,
        rows,
        cols,
        counts=None,
        *,
        amplitude: float,
        width: float,
        polarity: str,
        array: str = "array",
        bias_scheme: str = "half",
        kind: str = "update",
        mode: str = "row-parallel",
        gap: float = 0.0,
        cell: str | None = None,
    ) -> "PulseSchedule":
        """:meth:`from_counts` for the cells listed, at a cost proportional to their number.

        The schedule equals ``from_counts`` of a count matrix holding ``counts`` at
        ``(rows, cols)`` and 0 elsewhere (same pulses, same order).

        Parameters
        ----------
        rows, cols : (k,) int array_like
            Row and column of each cell (distinct cells, >= 0).
        counts : (k,) int array_like or None, default None
            Pulses per cell (>= 0); None = one each.
        amplitude, width, polarity, array, bias_scheme, kind, mode, gap, cell
            As for :meth:`from_counts` (V, s, ...).

        Returns
        -------
        PulseSchedule
            Energies and conductances not yet filled in (NaN).
        """
        r = np.asarray(rows)
        c = np.asarray(cols)
        n = np.ones(r.shape, dtype=np.int64) if counts is None else np.asarray(counts)
        for name, a in (("rows", r), ("cols", c), ("counts", n)):
            if (
                a.ndim != 1
                or a.shape != r.shape
                or (a.size and not np.issubdtype(a.dtype, np.integer))
            ):
                raise ConfigError(
                    f"{name} must be a 1-D integer array of the length of rows ({r.size}), got "
                    f"dtype {a.dtype}, shape {a.shape}"
                )
            if a.size and a.min() < 0:
                raise ConfigError(f"{name} must be >= 0, got {a.min()}")
        r, c, n = r.astype(np.int64), c.astype(np.int64), n.astype(np.int64)
        if r.size > 1:
            step = (r[1:] - r[:-1]) * (int(c.max()) + 1) + (c[1:] - c[:-1])
            if not np.all(step > 0):  # not already distinct and row-major
                order = np.lexsort((c, r))  # row-major, as np.nonzero of a count matrix
                r, c, n = r[order], c[order], n[order]
                same = (r[1:] == r[:-1]) & (c[1:] == c[:-1])
                if same.any():
                    i = int(np.flatnonzero(same)[0])
                    raise ConfigError(f"cells must be distinct, got ({r[i]}, {c[i]}) twice")
        keep = n > 0
        rows, cols, reps = (r, c, n) if keep.all() else (r[keep], c[keep], n[keep])
        check_scalar(amplitude, "amplitude", low=0.0, low_open=True, unit="V")
        check_scalar(width, "width", low=0.0, low_open=True, unit="s")
        check_choice(polarity, "polarity", POLARITIES)
        cell, bias_scheme = cell_and_scheme(cell, bias_scheme, stacklevel=6)
        check_choice(kind, "kind", KINDS)
        sched = cls(mode=mode, gap=gap)
        total = int(reps.sum())
        if total == 0:
            return sched
        single = total == rows.size  # one pulse per cell: the cells in row-major order
        if single:
            r, c, k = rows, cols, np.zeros(total, dtype=np.int64)
        else:
            r = np.repeat(rows, reps)
            c = np.repeat(cols, reps)
            k = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)  # repetition index
        if mode == "row-parallel":
            key = r * (int(reps.max()) + 1) + k
            uniq, slot = np.unique(key, return_inverse=True)
            n_pulses = len(uniq)
        else:
            if not single:
                order = np.lexsort((c, r, k))  # one cell at a time, first pulses first
                r, c, k = r[order], c[order], k[order]
            slot = np.arange(total)
            n_pulses = total
        sched.arrays = [array]
        sched.amplitude = np.full(n_pulses, float(amplitude))
        sched.width = np.full(n_pulses, float(width))
        sched.polarity = np.full(n_pulses, POLARITIES.index(polarity), dtype=np.int8)
        sched.cell = np.full(n_pulses, CELLS.index(cell), dtype=np.int8)
        sched.bias = np.full(n_pulses, BIAS_SCHEMES.index(bias_scheme), dtype=np.int8)
        sched.array = np.zeros(n_pulses, dtype=np.int32)
        sched.kind = np.full(n_pulses, KINDS.index(kind), dtype=np.int8)
        for part in PULSE_ENERGY_PARTS:
            setattr(sched, f"e_{part}", np.zeros(n_pulses))
        if mode == "row-parallel":
            order = np.argsort(slot, kind="stable")
            sched.slot = slot.ravel()[order].astype(np.int64)
            sched.row, sched.col, sched.rep = r[order], c[order], k[order]
        else:  # slot = arange: already in order
            sched.slot, sched.row, sched.col, sched.rep = slot, r, c, k
        sched.energy = np.full(total, np.nan)
        sched.g_before = np.full(total, np.nan)
        sched.g_after = np.full(total, np.nan)
        return sched

    @classmethod
    def from_cell_pulses(
        cls,
        rows,
        cols,
        *,
        amplitude,
        width,
        polarity,
        kind,
        bias_scheme,
        cell: str,
        array: str = "array",
        energy=None,
        g_before=None,
        g_after=None,
        energy_half_selected=None,
        gap: float = 0.0,
    ) -> "PulseSchedule":
        """A cell-by-cell schedule of one-cell pulses, described pulse by pulse, with results.

        Pulse ``p`` is on cell ``(rows[p], cols[p])``; the schedule equals the
        :meth:`concat` of the one-pulse-per-cell schedules of :meth:`from_cells` those pulses
        came from (e.g. the rounds of a program-and-verify), built in one pass.

        Parameters
        ----------
        rows, cols : (n,) int array_like
            Cell of each pulse (>= 0).
        amplitude : (n,) array_like
            Amplitude of each pulse, V (> 0).
        width : (n,) array_like
            Width of each pulse, s (> 0).
        polarity, kind, bias_scheme : (n,) int array_like
            Codes per pulse: indices into ``POLARITIES``, ``KINDS`` and ``BIAS_SCHEMES``.
        cell : {"0T1R", "1T1R"}
            Cell type of the array.
        array : str, default "array"
            Name of the array.
        energy, g_before, g_after : (n,) array_like or None
            Selected-cell energy (J) and conductances before/after (S) of each pulse; None: NaN.
        energy_half_selected : (n,) array_like or None
            Half-selected energy of each pulse, J; None: 0.
        gap : float, default 0.0
            Time between consecutive pulses, s.
        """
        r = np.asarray(rows, dtype=np.int64)
        n = r.size
        sched = cls(mode="cell-by-cell", gap=gap)
        codes = {}
        for name, value, table in (
            ("polarity", polarity, POLARITIES),
            ("kind", kind, KINDS),
            ("bias_scheme", bias_scheme, BIAS_SCHEMES),
        ):
            a = np.asarray(value)
            if a.shape != (n,) or (n and (a.min() < 0 or a.max() >= len(table))):
                raise ConfigError(
                    f"{name} must hold one code in [0, {len(table)}) per pulse ({n}), got "
                    f"shape {a.shape}"
                )
            codes[name] = a.astype(np.int8)
        sched.amplitude = as_float_array(amplitude, "amplitude", shape=(n,)).copy()
        sched.width = as_float_array(width, "width", shape=(n,)).copy()
        if n and (sched.amplitude.min() <= 0 or sched.width.min() <= 0):
            raise ConfigError("amplitude (V) and width (s) must be > 0 for every pulse")
        sched.arrays = [array] if n else []
        sched.polarity, sched.kind, sched.bias = (
            codes["polarity"],
            codes["kind"],
            codes["bias_scheme"],
        )
        check_choice(cell, "cell", CELLS)
        sched.cell = np.full(n, CELLS.index(cell), dtype=np.int8)
        sched.array = np.zeros(n, dtype=np.int32)
        for part in PULSE_ENERGY_PARTS:
            setattr(sched, f"e_{part}", np.zeros(n))
        c = np.asarray(cols, dtype=np.int64)
        if r.ndim != 1 or c.shape != (n,) or (n and min(r.min(), c.min()) < 0):
            raise ConfigError(
                f"rows and cols must be 1-D arrays of cell indices >= 0 of one length, got "
                f"shapes {r.shape} and {c.shape}"
            )
        sched.slot = np.arange(n, dtype=np.int64)
        sched.row, sched.col = r.copy(), c.copy()
        sched.rep = np.zeros(n, dtype=np.int64)
        nan = np.full(n, np.nan)
        sched.set_results(
            nan if energy is None else energy,
            nan if g_before is None else g_before,
            nan if g_after is None else g_after,
            energy_half_selected=energy_half_selected,
        )
        return sched

    @classmethod
    def concat(cls, schedules) -> "PulseSchedule":
        """Schedules one after another (the later ones start when the earlier ones end).

        Parameters
        ----------
        schedules : iterable of PulseSchedule
            Schedules sharing one ``gap`` (s).
        """
        schedules = [s for s in schedules]
        if not schedules:
            return cls()
        out = cls(mode=schedules[0].mode, gap=schedules[0].gap)
        if any(s.gap != out.gap for s in schedules):
            raise ConfigError("schedules must share the same gap to be concatenated")
        if any(s.mode != out.mode for s in schedules):
            out.mode = "mixed"
        names: list[str] = []
        arr_codes, slot_offset, slots = [], 0, []
        for s in schedules:
            for a in s.arrays:
                if a not in names:
                    names.append(a)
            remap = np.array([names.index(a) for a in s.arrays], dtype=np.int32)
            arr_codes.append(remap[s.array] if len(remap) else s.array)
            slots.append(s.slot + slot_offset)
            slot_offset += s.n_pulses
        out.arrays = names
        for name in (
            "amplitude",
            "width",
            "polarity",
            "cell",
            "bias",
            "kind",
            *(f"e_{p}" for p in PULSE_ENERGY_PARTS),
            "row",
            "col",
            "rep",
            "energy",
            "g_before",
            "g_after",
        ):
            setattr(out, name, np.concatenate([getattr(s, name) for s in schedules]))
        out.array = np.concatenate(arr_codes).astype(np.int32)
        out.slot = np.concatenate(slots)
        return out

    # ------------------------------------------------------------------ inspection
    @property
    def n_pulses(self) -> int:
        """Number of pulses (electrical events)."""
        return len(self.amplitude)

    @property
    def n_cell_pulses(self) -> int:
        """Number of (cell, pulse) pairs: the pulses each device receives, summed."""
        return len(self.slot)

    def __len__(self) -> int:
        return self.n_pulses

    @property
    def t_start(self) -> np.ndarray:
        """Start time of each pulse, s."""
        step = self.width + self.gap
        return np.concatenate([[0.0], np.cumsum(step)[:-1]]) if len(step) else np.zeros(0)

    @property
    def duration(self) -> float:
        """Time the whole schedule takes, s: Σ (width + gap)."""
        return float(np.sum(self.width) + self.gap * self.n_pulses)

    def pulse_bounds(self) -> np.ndarray:
        """Cell-pulse index bounds of the pulses, ``(n_pulses + 1,)`` ints.

        Pulse ``p`` selects the cell pulses ``b[p]:b[p + 1]`` of the per-cell columns
        (``row``, ``col``, ``energy``, ``g_before``, ``g_after``).
        """
        return np.searchsorted(self.slot, np.arange(self.n_pulses + 1))

    _bounds = pulse_bounds  # former private name, kept for one release

    @property
    def e_half(self) -> np.ndarray:
        """Deprecated alias of ``e_half_selected`` (J per pulse)."""
        warn_renamed("e_half", "e_half_selected")
        return self.e_half_selected

    @e_half.setter
    def e_half(self, value) -> None:
        warn_renamed("e_half", "e_half_selected")
        self.e_half_selected = value

    @property
    def e_drivers(self) -> np.ndarray:
        """Deprecated: ``e_word_drivers + e_sense`` (J per pulse), the former lumped column."""
        warn_renamed("e_drivers", "e_word_drivers + e_sense")
        return self.e_word_drivers + self.e_sense

    def __getitem__(self, p: int) -> Pulse:
        if not -self.n_pulses <= p < self.n_pulses:
            raise IndexError(f"pulse index {p} out of range for {self.n_pulses} pulses")
        p %= self.n_pulses
        lo, hi = np.searchsorted(self.slot, [p, p + 1])
        return Pulse(
            cells=np.stack([self.row[lo:hi], self.col[lo:hi]], axis=1),
            amplitude=float(self.amplitude[p]),
            width=float(self.width[p]),
            polarity=POLARITIES[self.polarity[p]],
            bias_scheme=BIAS_SCHEMES[self.bias[p]],
            array=self.arrays[self.array[p]],
            kind=KINDS[self.kind[p]],
            t_start=float(self.t_start[p]),
            energy=self.energy[lo:hi].copy(),
            **{
                f"energy_{part}": float(getattr(self, f"e_{part}")[p])
                for part in PULSE_ENERGY_PARTS
            },
            cell=CELLS[self.cell[p]],
        )

    def __iter__(self):
        for p in range(self.n_pulses):
            yield self[p]

    def cells_per_pulse(self) -> np.ndarray:
        """Selected cells of each pulse."""
        return np.diff(self.pulse_bounds())

    def pulse_counts(self, shape, array: str | None = None, polarity: str | None = None):
        """Pulses each cell receives, as an int array of ``shape`` (one array, one polarity).

        Parameters
        ----------
        shape : tuple of int
            (M, N) of the array.
        array : str or None
            Count only pulses on this array (None = all).
        polarity : {"set", "reset", "read"} or None
            Count only pulses of this polarity (None = all).
        """
        mask = np.ones(self.n_cell_pulses, dtype=bool)
        if array is not None:
            if array not in self.arrays:
                return np.zeros(shape, dtype=np.int64)
            mask &= self.array[self.slot] == self.arrays.index(array)
        if polarity is not None:
            mask &= self.polarity[self.slot] == POLARITIES.index(polarity)
        out = np.zeros(shape, dtype=np.int64)
        np.add.at(out, (self.row[mask], self.col[mask]), 1)
        return out

    def energy_by_category(self) -> dict:
        """``{ledger category: J}`` of the applied schedule (NaN energies count as 0)."""
        out: dict[str, float] = {}
        kind_cell = self.kind[self.slot]
        for code, kind in enumerate(KINDS):
            cat = _CATEGORY[kind]
            e = float(np.nansum(self.energy[kind_cell == code]))
            h = float(np.sum(self.e_half_selected[self.kind == code]))
            if kind == "refresh":
                e, h = e + h, 0.0
            e += float(np.sum(self.e_access[self.kind == code]))
            if e:
                out[cat] = out.get(cat, 0.0) + e
            if h:
                out["half_selected"] = out.get("half_selected", 0.0) + h
        for cat in ("wires", "word_drivers", "sense"):
            col = getattr(self, f"e_{cat}")
            if col.any():
                out[cat] = out.get(cat, 0.0) + float(np.sum(col))
        return out

    @property
    def total_energy(self) -> float:
        """All energy of the schedule, J."""
        return float(sum(self.energy_by_category().values()))

    def book(self, ledger, **tags) -> None:
        """Book the schedule's energies into ``ledger``.

        Selected-cell energy goes to ``write`` (update and program pulses), ``verify`` (verify
        reads) or ``refresh``; half-selected energy to ``half_selected`` (to ``refresh`` for
        refresh pulses). Counts are cell pulses for cell energies and write pulses (reads left
        out) for half-selected energies.  Circuit-solved pulses also book ``wires``, ``word_drivers`` and ``sense`` (tag
        ``operation`` = the pulse kind) and their access-transistor energy with the selected
        cells' category (tag ``component="access"``).

        Parameters
        ----------
        ledger : xbar.pulses.EnergyLedger
            Where the energies (J) are booked.
        **tags
            Scalar tags of every booking (e.g. ``layer``).
        """
        if self.n_pulses and np.all(self.kind == self.kind[0]):  # one kind (most schedules)
            codes = [(int(self.kind[0]), slice(None), slice(None))]
        else:
            kind_cell = self.kind[self.slot]
            codes = [(code, kind_cell == code, self.kind == code) for code in range(len(KINDS))]
        reads = self.polarity == POLARITIES.index("read")
        for code, cells, pulses in codes:
            kind = KINDS[code]
            n_cells = self.n_cell_pulses if isinstance(cells, slice) else int(cells.sum())
            n_pulses = self.n_pulses if isinstance(pulses, slice) else int(pulses.sum())
            if not n_cells and not n_pulses:
                continue
            e = float(np.nansum(self.energy[cells]))
            h = float(np.sum(self.e_half_selected[pulses]))
            ledger.book(_CATEGORY[kind], e, count=n_cells, operation=kind, **tags)
            # the parts of the write pulses count write pulses (a read among them has none)
            n_pulses -= int(np.count_nonzero(reads[pulses]))
            if h > 0:
                cat = "refresh" if kind == "refresh" else "half_selected"
                ledger.book(cat, h, count=n_pulses, operation=kind, **tags)
            for cat, col in (
                ("wires", self.e_wires),
                ("word_drivers", self.e_word_drivers),
                ("sense", self.e_sense),
                (_CATEGORY[kind], self.e_access),
            ):
                e_c = float(np.sum(col[pulses]))
                if e_c > 0:
                    extra = {"component": "access"} if col is self.e_access else {}
                    ledger.book(cat, e_c, count=n_pulses, operation=kind, **extra, **tags)

    def to_table(self) -> list[dict]:
        """One dictionary per pulse (cells as a list of [row, col])."""
        t0 = self.t_start
        b = self.pulse_bounds()
        return [
            {
                "pulse": p,
                "t_start_s": float(t0[p]),
                "array": self.arrays[self.array[p]],
                "kind": KINDS[self.kind[p]],
                "polarity": POLARITIES[self.polarity[p]],
                "amplitude_V": float(self.amplitude[p]),
                "width_s": float(self.width[p]),
                "cell": CELLS[self.cell[p]],
                "bias_scheme": BIAS_SCHEMES[self.bias[p]],
                "cells": np.stack(
                    [self.row[b[p] : b[p + 1]], self.col[b[p] : b[p + 1]]], 1
                ).tolist(),
                "energy_cells_J": [
                    None if np.isnan(e) else float(e) for e in self.energy[b[p] : b[p + 1]]
                ],
                "g_before_S": [
                    None if np.isnan(g) else float(g) for g in self.g_before[b[p] : b[p + 1]]
                ],
                "g_after_S": [
                    None if np.isnan(g) else float(g) for g in self.g_after[b[p] : b[p + 1]]
                ],
                **{
                    f"energy_{part}_J": float(getattr(self, f"e_{part}")[p])
                    for part in PULSE_ENERGY_PARTS
                },
            }
            for p in range(self.n_pulses)
        ]

    def __str__(self) -> str:
        head = (
            f"PulseSchedule: {self.n_pulses:,} pulses, {self.n_cell_pulses:,} cell pulses, "
            f"{self.mode}, duration {self.duration:.4g} s, energy {self.total_energy:.4g} J"
        )
        lines = [
            head,
            f"{'#':>6} {'t_start/s':>11} {'array':<12} {'kind':<8} {'pol':<6} "
            f"{'V':>6} {'width/s':>9} {'cell':<5} {'bias':<8} {'cells':>6} "
            f"{'E/J':>10}",
        ]
        t0 = self.t_start
        counts = self.cells_per_pulse()
        shown = list(range(min(self.n_pulses, 10)))
        b = self.pulse_bounds()
        for p in shown:
            e = float(
                np.nansum(self.energy[b[p] : b[p + 1]])
                + sum(getattr(self, f"e_{part}")[p] for part in PULSE_ENERGY_PARTS)
            )
            lines.append(
                f"{p:>6} {t0[p]:>11.4g} {self.arrays[self.array[p]]:<12} "
                f"{KINDS[self.kind[p]]:<8} {POLARITIES[self.polarity[p]]:<6} "
                f"{self.amplitude[p]:>6.3g} {self.width[p]:>9.3g} "
                f"{CELLS[self.cell[p]]:<5} {BIAS_SCHEMES[self.bias[p]]:<8} "
                f"{counts[p]:>6} {e:>10.4g}"
            )
        if self.n_pulses > len(shown):
            lines.append(f"... {self.n_pulses - len(shown):,} more pulses")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"PulseSchedule(n_pulses={self.n_pulses}, n_cell_pulses={self.n_cell_pulses}, "
            f"mode={self.mode!r}, duration={self.duration:.4g} s)"
        )

    # ------------------------------------------------------------------ serialisation
    def to_json(self, path: str | Path | None = None) -> str:
        """JSON document (format ``xbar-pulse-schedule``, version 3); written to ``path`` if given.

        Parameters
        ----------
        path : str, Path or None
            File to write (None: only return the text).
        """
        doc = {
            "format": "xbar-pulse-schedule",
            "version": 3,
            "mode": self.mode,
            "gap_s": self.gap,
            "units": {"amplitude": "V", "width": "s", "energy": "J", "g": "S", "t_start": "s"},
            "pulses": self.to_table(),
        }
        return dump_document(doc, path)

    @classmethod
    def from_json(cls, source: str | Path) -> "PulseSchedule":
        """Rebuild a schedule from :meth:`to_json` output (a path or the JSON text).

        Files of version 1 (bias schemes ``"V/2"``/``"V/3"``, ``energy_half_select_J`` and the
        lumped ``energy_drivers_J``, loaded as ``e_word_drivers``) and version 2 are read too,
        without a warning: they have no ``cell``, which is ``"0T1R"`` unless the bias scheme is
        the former ``"1T1R"`` (read as ``cell="1T1R"``, ``bias_scheme="half"``).

        Parameters
        ----------
        source : str or Path
            A path or the JSON text.
        """
        doc = load_document(source, "xbar-pulse-schedule", "an xbar pulse schedule")
        s = cls(mode=doc["mode"] if doc["mode"] in MODES else "row-parallel", gap=doc["gap_s"])
        s.mode = doc["mode"]
        pulses = doc["pulses"]
        s.arrays = list(dict.fromkeys(p["array"] for p in pulses))
        nan = lambda v: np.nan if v is None else v  # noqa: E731
        s.amplitude = np.array([p["amplitude_V"] for p in pulses], dtype=float)
        s.width = np.array([p["width_s"] for p in pulses], dtype=float)
        s.polarity = _codes([p["polarity"] for p in pulses], POLARITIES, "polarity")
        cells_schemes = [_file_cell_scheme(p) for p in pulses]
        s.cell = _codes([c for c, _ in cells_schemes], CELLS, "cell")
        s.bias = _codes([b for _, b in cells_schemes], BIAS_SCHEMES, "bias_scheme")
        s.kind = _codes([p["kind"] for p in pulses], KINDS, "kind")
        s.array = np.array([s.arrays.index(p["array"]) for p in pulses], dtype=np.int32)
        old = {"half_selected": "energy_half_select_J", "word_drivers": "energy_drivers_J"}
        for part in PULSE_ENERGY_PARTS:
            key = f"energy_{part}_J"
            setattr(
                s,
                f"e_{part}",
                np.array([p.get(key, p.get(old.get(part, key), 0.0)) for p in pulses], dtype=float),
            )
        n = [len(p["cells"]) for p in pulses]
        s.slot = np.repeat(np.arange(len(pulses)), n).astype(np.int64)
        cells = np.array([c for p in pulses for c in p["cells"]], dtype=np.int64).reshape(-1, 2)
        s.row, s.col = cells[:, 0].copy(), cells[:, 1].copy()
        s.rep = np.zeros(len(s.row), dtype=np.int64)
        seen: dict = {}
        for q, (a, i, j) in enumerate(zip(s.array[s.slot], s.row, s.col)):
            s.rep[q] = seen.get((a, i, j), 0)
            seen[(a, i, j)] = s.rep[q] + 1
        for col, key in (
            ("energy", "energy_cells_J"),
            ("g_before", "g_before_S"),
            ("g_after", "g_after_S"),
        ):
            setattr(s, col, np.array([nan(v) for p in pulses for v in p[key]], dtype=float))
        return s

    def to_csv(self, path: str | Path) -> Path:
        """One row per (cell, pulse): pulse, t_start_s, array, row, col, kind, polarity,
        amplitude_V, width_s, cell, bias_scheme, energy_J, energy_half_selected_J, energy_wires_J,
        energy_word_drivers_J, energy_sense_J, energy_access_J (per pulse, on its first cell),
        g_before_S, g_after_S.

        Parameters
        ----------
        path : str or Path
            The CSV file to write.
        """
        path = Path(path)
        t0 = self.t_start
        first = np.r_[True, self.slot[1:] != self.slot[:-1]] if self.n_cell_pulses else []
        with open_atomic(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "pulse",
                    "t_start_s",
                    "array",
                    "row",
                    "col",
                    "kind",
                    "polarity",
                    "amplitude_V",
                    "width_s",
                    "cell",
                    "bias_scheme",
                    "energy_J",
                    *(f"energy_{part}_J" for part in PULSE_ENERGY_PARTS),
                    "g_before_S",
                    "g_after_S",
                ]
            )
            for q in range(self.n_cell_pulses):
                p = self.slot[q]
                w.writerow(
                    [
                        p,
                        repr(float(t0[p])),
                        self.arrays[self.array[p]],
                        self.row[q],
                        self.col[q],
                        KINDS[self.kind[p]],
                        POLARITIES[self.polarity[p]],
                        repr(float(self.amplitude[p])),
                        repr(float(self.width[p])),
                        CELLS[self.cell[p]],
                        BIAS_SCHEMES[self.bias[p]],
                        repr(float(self.energy[q])),
                        *(
                            [
                                repr(float(getattr(self, f"e_{part}")[p]))
                                for part in PULSE_ENERGY_PARTS
                            ]
                            if first[q]
                            else [""] * len(PULSE_ENERGY_PARTS)
                        ),
                        repr(float(self.g_before[q])),
                        repr(float(self.g_after[q])),
                    ]
                )
        return path

    def plot(self, ax=None, n_cols: int | None = None):
        """Raster of the schedule: pulse start time (s) vs cell index ``row·n_cols + col``.

        Marker colour shows the polarity (set, reset, read); returns the matplotlib Axes
        (:func:`xbar.plot.pulse_schedule_plot`: a new figure is a ``matplotlib.figure.Figure``
        built without pyplot).

        Parameters
        ----------
        ax : matplotlib Axes or None
            Where to draw (None: a new figure).
        n_cols : int or None
            Columns of the array for the cell index (None: the largest column + 1).
        """
        from ..plot import pulse_schedule_plot

        return pulse_schedule_plot(self, ax, n_cols=n_cols)

    # ------------------------------------------------------------------ filling in results
    @renamed_kwarg(energy_half_select="energy_half_selected", energy_drivers="energy_word_drivers")
    def set_results(
        self,
        energy,
        g_before=None,
        g_after=None,
        energy_half_selected=None,
        energy_wires=None,
        energy_word_drivers=None,
        energy_sense=None,
        energy_access=None,
    ) -> None:
        """Store the results of applying the schedule.

        Parameters
        ----------
        energy : (n_cell_pulses,) array_like
            Energy in each selected cell per cell pulse, J.
        g_before, g_after : (n_cell_pulses,) array_like or None
            Conductance before and after each cell pulse, S.
        energy_half_selected, energy_wires, energy_word_drivers : (n_pulses,) array_like or None
            Per-pulse energies of the half-selected cells, the wires and the word-line drivers,
            J (None: unchanged).  Deprecated keywords: ``energy_half_select`` and
            ``energy_drivers`` (stored as ``energy_word_drivers``).
        energy_sense, energy_access : (n_pulses,) array_like or None
            Per-pulse energies of the bit-line terminals and the access transistors, J.
        """
        parts = {
            "half_selected": energy_half_selected,
            "wires": energy_wires,
            "word_drivers": energy_word_drivers,
            "sense": energy_sense,
            "access": energy_access,
        }
        for part, val in parts.items():
            if val is not None:
                setattr(
                    self,
                    f"e_{part}",
                    as_float_array(val, f"energy_{part}", shape=(self.n_pulses,)).copy(),
                )
        self.energy = as_float_array(energy, "energy", shape=(self.n_cell_pulses,)).copy()
        if g_before is not None:
            self.g_before = as_float_array(g_before, "g_before", shape=(self.n_cell_pulses,)).copy()
        if g_after is not None:
            self.g_after = as_float_array(g_after, "g_after", shape=(self.n_cell_pulses,)).copy()
