"""Readers of the measured device data formats, as the files are.

* :func:`read_keithley_xlsx`: Keithley 4200A (Clarius+) xlsx export, one sheet per sweep
  (``tud-rram-iv-cycles``).
* :func:`read_pulse_ramps`: CSV, one column of read currents per pulse ramp (``crosssim-pulse-ramps``).
* :func:`read_relaxation`: gzip TSV of conductance re-reads after programming
  (``stanford-rram-relaxation``, ``tech*_relaxdata*.tsv.gz``).
* :func:`read_read_noise`: gzip TSV of read-noise time series (``techA_tsdata.min.tsv.gz``).

Every reader raises :class:`~xbar.data.DataFormatError` (a ``ConfigError``) naming the file and the
line (or sheet and row) when a file is missing, truncated or malformed, or holds a NaN, inf or
implausible value (negative read current, fractional address or level, a relaxation line whose
g is not 1/r, a negative time) inside a series.  Readers keep every point: a blank row inside a
series (or between the lines of a relaxation or read-noise file) is skipped with a
:class:`DataWarning` naming the file and row, never silently ending or shortening the series; an
empty cell or a NaN/inf inside a series raises, naming file, row and column.
"""

from __future__ import annotations

import re
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._deprecate import renamed_kwarg, warn_renamed
from .._validation import check_scalar
from ._format import DataFormatError, DataWarning, check_file

__all__ = [
    "IVSweep",
    "read_keithley_xlsx",
    "PulseRamps",
    "read_pulse_ramps",
    "RelaxationData",
    "read_relaxation",
    "ReadNoiseSeries",
    "read_read_noise",
    "read_text",
]


# --------------------------------------------------------------------------------------- text
def read_text(path) -> list[str]:
    """Lines of a text file (gzip-compressed when the name ends in ``.gz``).

    A truncated gzip stream raises :class:`DataFormatError` naming the line where the data stop.

    Parameters
    ----------
    path : path-like
        The file (UTF-8 text; gzip when the name ends in ``.gz``).

    Returns
    -------
    list of str
        The lines without their line endings (a final empty line is dropped).
    """
    p = check_file(path)
    raw = p.read_bytes()
    if p.suffix == ".gz":
        d = zlib.decompressobj(wbits=31)
        try:
            data = d.decompress(raw) + d.flush()
        except zlib.error as exc:
            raise DataFormatError(p, f"not a valid gzip file ({exc})") from None
        if not d.eof:
            line = data.count(b"\n") + 1
            raise DataFormatError(
                p, "truncated gzip stream: the data end in the middle of this line", line=line
            )
        raw = data
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte-order mark is not part of the first field
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFormatError(p, f"not UTF-8 text ({exc.reason})", line=line) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines and p.suffix != ".gz" and len(lines) > 1:
        pass  # a final line without newline is accepted
    return [ln.rstrip("\r") for ln in lines]


def _floats(p, parts, line: int, allow_empty: bool = False) -> np.ndarray:
    try:
        if allow_empty:
            return np.array([float(x) if x.strip() else np.nan for x in parts])
        return np.array(parts, dtype=np.float64)
    except ValueError:
        for k, x in enumerate(parts):
            try:
                if not (allow_empty and not x.strip()):
                    float(x)
            except ValueError:
                raise DataFormatError(
                    p, f"column {k + 1}: {x!r} is not a number", line=line
                ) from None
        raise  # pragma: no cover


def _nonblank_lines(p, lines, kept: str, start: int = 1):
    """``(line number, text)`` of the non-blank lines; blank lines followed by more data are
    reported in one :class:`DataWarning` per run of them (file and lines named; trailing blank
    lines end the file and are not reported)."""
    blank: list[int] = []
    for ln, text in enumerate(lines, start=start):
        if not text.strip():
            blank.append(ln)
            continue
        if blank:
            warnings.warn(
                f"{p}: blank line(s) inside the data (line {blank[0]}"
                f"{'' if len(blank) == 1 else f'..{blank[-1]}'}); skipped, {kept}",
                DataWarning,
                stacklevel=3,
            )
            blank = []
        yield ln, text


# --------------------------------------------------------------------------------- Keithley
@dataclass
class IVSweep:
    """One quasi-static I-V sweep.

    The fields are also the attributes of the same name.

    Parameters
    ----------
    name : str
        Sheet (run) name, e.g. ``"Run173"``.
    cycle : int
        1-based cycle index (runs sorted by their number).
    kind : str
        ``"set"`` or ``"reset"`` (from the file name / test name).
    time : ndarray
        Time stamps (s).
    v : ndarray
        Programmed voltage (V).
    i : ndarray
        Measured current (A).
    scalars : dict
        Per-run scalars of the export's first data row (e.g. ``VSET`` in V, ``ILRS`` in A).
    settings : dict
        The run's block of the ``Settings`` sheet: key -> list of values (one per instrument).

    Attributes
    ----------
    compliance : float
        Current compliance (A) of the sweeping SMU, NaN if not recorded (a property).
    """

    name: str
    cycle: int
    kind: str
    time: np.ndarray
    v: np.ndarray
    i: np.ndarray
    scalars: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def compliance(self) -> float:
        """Current compliance (A) of the sweeping SMU, NaN if not recorded."""
        modes = self.settings.get("Operation Mode", [])
        comp = self.settings.get("Compliance", [])
        for k, mode in enumerate(modes):
            if "Sweep" in str(mode) and k < len(comp):
                try:
                    return float(comp[k])
                except (TypeError, ValueError):
                    break
        return float("nan")


def _open_workbook(p: Path):
    try:
        import python_calamine
    except ImportError:  # pragma: no cover - fallback
        python_calamine = None  # type: ignore[assignment]
    try:
        if python_calamine is not None:
            wb = python_calamine.CalamineWorkbook.from_path(str(p))
            return wb.sheet_names, lambda name: wb.get_sheet_by_name(name).to_python()
        import openpyxl

        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        return wb.sheetnames, lambda name: [list(r) for r in wb[name].iter_rows(values_only=True)]
    except Exception as exc:  # zip/xml errors of a corrupt or truncated file
        raise DataFormatError(
            p, f"cannot open as an xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None


def _settings_blocks(rows) -> dict[str, dict]:
    blocks: dict[str, dict] = {}
    current = None
    for r in rows:
        if not r or r[0] in (None, ""):
            continue
        key = str(r[0]).strip()
        if re.fullmatch(r"Run\d+", key):
            current = blocks.setdefault(key, {})
            continue
        if current is not None and not key.startswith("="):
            current[key] = [x for x in r[1:]]
    return blocks


def read_keithley_xlsx(path, kind: str | None = None) -> list[IVSweep]:
    """Read a Keithley 4200A Clarius+ xlsx export with one I-V sweep per ``Run<n>`` sheet.

    Parameters
    ----------
    path : path-like
        The workbook.
    kind : {"set", "reset"} or None
        Sweep type; by default from the file name (``set``/``reset``).

    Returns
    -------
    list of IVSweep
        Sorted by run number; cycle numbers start at 1.  Columns used: ``Time`` (s), ``AV`` (V),
        ``AI`` (A); non-numeric cells in the scalar columns (``#REF``) are dropped.
    """
    p = check_file(path)
    if kind is None:
        stem = p.stem.lower()
        kind = "reset" if "reset" in stem else "set" if "set" in stem else "unknown"
    names, sheet = _open_workbook(p)
    runs = sorted((n for n in names if re.fullmatch(r"Run\d+", n)), key=lambda n: int(n[3:]))
    if not runs:
        raise DataFormatError(p, f"no 'Run<n>' sheets (sheets: {names})")
    settings = _settings_blocks(sheet("Settings")) if "Settings" in names else {}
    sweeps = []
    for cycle, name in enumerate(runs, start=1):
        rows = sheet(name)
        if not rows:
            raise DataFormatError(p, f"sheet {name!r} is empty")
        header = [str(h).strip() for h in rows[0]]
        missing = [c for c in ("Time", "AI", "AV") if c not in header]
        if missing:
            raise DataFormatError(
                p, f"sheet {name!r}: header lacks column(s) {missing} (found {header})", line=1
            )
        cols = {c: header.index(c) for c in ("Time", "AI", "AV")}
        data = np.empty((len(rows) - 1, 3))
        n = 0
        blank = []  # blank rows followed by more data (trailing blank rows end the sheet)
        for rnum, r in enumerate(rows[1:], start=2):
            vals = [r[cols[c]] if cols[c] < len(r) else "" for c in ("Time", "AI", "AV")]
            if all(v in ("", None) for v in vals):
                blank.append(rnum)
                continue
            if blank:
                warnings.warn(
                    f"{p}: sheet {name!r} has {len(blank)} blank row(s) inside the "
                    f"sweep (row {blank[0]}{'' if len(blank) == 1 else f'..{blank[-1]}'})"
                    "; skipped, the points after them are kept",
                    DataWarning,
                    stacklevel=2,
                )
                blank = []
            for k, (c, v) in enumerate(zip(("Time", "AI", "AV"), vals)):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise DataFormatError(
                        p, f"sheet {name!r}, column {c!r}: {v!r} is not a number", line=rnum
                    )
                if not np.isfinite(v):
                    raise DataFormatError(
                        p, f"sheet {name!r}, column {c!r}: {v!r} is not finite", line=rnum
                    )
                data[n, k] = v
            n += 1
        if n < 2:
            raise DataFormatError(p, f"sheet {name!r} has {n} data rows, need at least 2")
        scalars = {}
        if len(rows) > 1:
            for h, v in zip(header, rows[1]):
                if h not in cols and isinstance(v, (int, float)) and not isinstance(v, bool):
                    scalars[h] = float(v)
        sweeps.append(
            IVSweep(
                name=name,
                cycle=cycle,
                kind=kind,
                time=data[:n, 0].copy(),
                v=data[:n, 2].copy(),
                i=data[:n, 1].copy(),
                scalars=scalars,
                settings=settings.get(name, {}),
            )
        )
    return sweeps


# ----------------------------------------------------------------------------------- ramps
@dataclass
class PulseRamps:
    """Conductance versus pulse number for a set of ramps (one ramp = one cycle).

    The fields are also the attributes of the same name.

    Parameters
    ----------
    g : ndarray, shape (n_pulses_max, n_ramps)
        Conductance (S) after each pulse, NaN after a ramp's end.
    names : list of str
        Column names.
    v_read : float
        Read voltage (V) used to convert the stored read currents.
    path : str, default ""
        Source file.

    Attributes
    ----------
    n_ramps : int
        Number of ramps (columns of ``g``; a property).
    lengths : ndarray of int, shape (n_ramps,)
        Number of points in each ramp (a property).
    """

    g: np.ndarray
    names: list
    v_read: float
    path: str = ""

    @property
    def read_voltage(self) -> float:
        """Deprecated name of ``v_read`` (V)."""
        warn_renamed("read_voltage", "v_read")
        return self.v_read

    @property
    def n_ramps(self) -> int:
        """Number of ramps (columns of ``g``)."""
        return self.g.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        """Number of points in each ramp."""
        return np.sum(np.isfinite(self.g), axis=0)

    def ramp(self, k: int) -> np.ndarray:
        """Ramp ``k`` without padding (S).

        Parameters
        ----------
        k : int
            Ramp (column) index.

        Returns
        -------
        ndarray, shape (lengths[k],)
            Conductance after each pulse of the ramp, S.
        """
        return self.g[: self.lengths[k], k]

    def subset(self, idx) -> "PulseRamps":
        """The ramps ``idx`` as a new :class:`PulseRamps` (same read voltage and path).

        Parameters
        ----------
        idx : sequence of int
            Ramp (column) indices to keep, in the order given.

        Returns
        -------
        PulseRamps
        """
        idx = np.asarray(idx)
        return PulseRamps(self.g[:, idx], [self.names[k] for k in idx], self.v_read, self.path)


@renamed_kwarg(read_voltage="v_read")
def read_pulse_ramps(path, v_read: float = 0.1) -> PulseRamps:
    """Read a pulse-ramp CSV: a header ``rmp1,rmp2,...``, then one row per pulse.

    Parameters
    ----------
    path : path-like
        CSV file; cells are read currents (A); empty cells pad the shorter ramps.
    v_read : float
        Read voltage (V); conductance = current / v_read.  Default 0.1 V (CrossSim's
        ``create_lookup_table.py`` for ``crosssim-pulse-ramps``).

    Returns
    -------
    PulseRamps
        Conductances (S), NaN-padded after each ramp's end.
    """
    check_scalar(v_read, "v_read", low=0.0, low_open=True, unit="V")
    p = check_file(path)
    lines = read_text(p)
    if not lines:
        raise DataFormatError(p, "empty file", line=1)
    names = [h.strip() for h in lines[0].split(",")]
    rows, line_of = [], []
    for ln, text in _nonblank_lines(p, lines[1:], "every ramp point is kept", start=2):
        parts = text.split(",")
        if len(parts) != len(names):
            raise DataFormatError(
                p,
                f"{len(parts)} fields, the header has {len(names)} (truncated or malformed line)",
                line=ln,
            )
        vals = _floats(p, parts, ln, allow_empty=True)
        written = np.array([bool(x.strip()) for x in parts])
        bad = written & ~np.isfinite(vals)
        if bad.any():  # an explicit nan/inf is not padding (padding is an empty cell)
            k = int(np.argmax(bad))
            raise DataFormatError(
                p,
                f"column {names[k]!r}: {parts[k].strip()!r} is not a "
                "finite current (only empty cells pad a ramp)",
                line=ln,
            )
        neg = written & (vals <= 0)
        if neg.any():
            k = int(np.argmax(neg))
            raise DataFormatError(
                p,
                f"column {names[k]!r}: read current {vals[k]!r} A must be > 0 (a conductance ramp)",
                line=ln,
            )
        rows.append(vals)
        line_of.append(ln)
    if not rows:
        raise DataFormatError(p, "no data rows after the header", line=2)
    cur = np.vstack(rows)
    for k in range(cur.shape[1]):
        fin = np.isfinite(cur[:, k])
        n = int(fin.sum())
        if n and not fin[:n].all():
            gap = int(np.argmin(fin[:n]))
            raise DataFormatError(
                p, f"column {names[k]!r} has an empty cell inside the ramp", line=line_of[gap]
            )
    return PulseRamps(cur / v_read, names, float(v_read), str(p))


# ------------------------------------------------------------------------------ relaxation
@dataclass
class RelaxationData:
    """Conductance re-reads of many cells after programming (one row per read).

    The fields are also the attributes of the same name; every array has shape (n_rows,).

    Parameters
    ----------
    addr : ndarray of int
        Cell address.
    time : ndarray
        Time since the first read, s.
    r : ndarray
        Read resistance, ohm.
    g : ndarray
        Read conductance, S (= 1/r).
    gi : ndarray
        Conductance at the first read, S.
    level : ndarray of int
        Target range, ``int(gi/gmax*32)``.
    timept : ndarray
        Nominal time point of the read, s.
    path : str, default ""
        Source file.

    Attributes
    ----------
    timepoints : ndarray
        Distinct nominal time points, s (a property).
    levels : ndarray of int
        Distinct target ranges (a property).
    """

    addr: np.ndarray
    time: np.ndarray
    r: np.ndarray
    g: np.ndarray
    gi: np.ndarray
    level: np.ndarray
    timept: np.ndarray
    path: str = ""

    @property
    def timepoints(self) -> np.ndarray:
        """Distinct nominal time points (s)."""
        return np.unique(self.timept)

    @property
    def levels(self) -> np.ndarray:
        """Distinct target ranges (levels)."""
        return np.unique(self.level)

    def select(self, mask) -> "RelaxationData":
        """The reads ``mask`` selects, as a new :class:`RelaxationData` (same path).

        Parameters
        ----------
        mask : (n_rows,) ndarray of bool or of int
            Which rows (reads) to keep.

        Returns
        -------
        RelaxationData
        """
        fields = ("addr", "time", "r", "g", "gi", "level", "timept")
        return RelaxationData(**{f: getattr(self, f)[mask] for f in fields}, path=self.path)


_RELAX_COLUMNS = ("addr", "time", "r", "g", "gi", "range", "timept")


def read_relaxation(path) -> RelaxationData:
    """Read a relaxation TSV (gzip, no header, 7 columns: addr, time, r, g, gi, range, timept).

    Parameters
    ----------
    path : path-like
        The file, e.g. ``tech*_relaxdata*.tsv.gz``: addr (integer), time (s), r (ohm),
        g (S), gi (S), range (integer), timept (s) per line.

    Returns
    -------
    RelaxationData

    Raises
    ------
    DataFormatError
        Naming the file and line: a wrong field count, a non-number, NaN or inf (and its
        column), a fractional address or range, a negative time, g below -1 mS, or
        ``g * r`` off 1 by more than 1e-6 (a column in another unit).  Blank lines are skipped
        with a :class:`DataWarning` naming them.
    """
    p = check_file(path)
    lines = read_text(p)
    if not lines:
        raise DataFormatError(p, "empty file", line=1)
    out = np.empty((len(lines), 7))
    line_of = np.empty(len(lines), dtype=np.int64)
    n = 0
    for ln, text in _nonblank_lines(p, lines, "every read is kept"):
        parts = text.split("\t")
        if len(parts) != 7:
            raise DataFormatError(
                p,
                f"{len(parts)} tab-separated fields, expected 7 "
                "(addr, time, r, g, gi, range, timept)",
                line=ln,
            )
        out[n] = _floats(p, parts, ln)
        line_of[n] = ln
        n += 1
    if n == 0:
        raise DataFormatError(p, "no data lines", line=1)
    out, line_of = out[:n], line_of[:n]
    bad = ~np.isfinite(out)
    if bad.any():
        k, col = np.argwhere(bad)[0]
        raise DataFormatError(
            p,
            f"column {col + 1} ({_RELAX_COLUMNS[col]}): {out[k, col]!r} is not finite",
            line=int(line_of[k]),
        )
    checks = (
        (out[:, 3] < -1e-3, "column 4 (g): conductance below -1 mS is implausible (unit slip?)"),
        (out[:, 1] < 0, "column 2 (time): the time since the first read must be >= 0 s"),
        (out[:, 6] < 0, "column 7 (timept): the nominal time point must be >= 0 s"),
        # g is exactly 1/r in these files: a column in another unit (uS, kohm) breaks it
        (np.abs(out[:, 2] * out[:, 3] - 1.0) > 1e-6, "columns 3, 4: g must be 1/r (unit slip?)"),
    )
    for mask, what in checks:
        if mask.any():
            k = int(np.argmax(mask))
            raise DataFormatError(
                p,
                f"{what}; got r = {out[k, 2]!r} ohm, g = {out[k, 3]!r} S, time = "
                f"{out[k, 1]!r} s, timept = {out[k, 6]!r} s",
                line=int(line_of[k]),
            )
    for col, what in ((0, "cell address"), (5, "range (level)")):
        frac = out[:, col] != np.round(out[:, col])
        if frac.any():
            k = int(np.argmax(frac))
            raise DataFormatError(
                p,
                f"column {col + 1}: the {what} must be an integer, got {out[k, col]!r}",
                line=int(line_of[k]),
            )
    return RelaxationData(
        out[:, 0].astype(np.int64),
        out[:, 1],
        out[:, 2],
        out[:, 3],
        out[:, 4],
        out[:, 5].astype(np.int64),
        out[:, 6],
        str(p),
    )


@dataclass
class ReadNoiseSeries:
    """Read-noise time series of a few cells.

    The fields are also the attributes of the same name.

    Parameters
    ----------
    levels : ndarray of int, shape (n_series,)
        Conductance range of each cell.
    g : ndarray, shape (n_series, n_samples)
        Consecutive conductance reads (S).
    fs : float
        Sampling rate (Hz).
    path : str, default ""
        Source file.
    """

    levels: np.ndarray
    g: np.ndarray
    fs: float
    path: str = ""


def read_read_noise(path, fs: float = 400.0) -> ReadNoiseSeries:
    """Read a read-noise TSV: one line per cell, ``range``, a dummy column, then the reads (S).

    Parameters
    ----------
    path : path-like
        The file, e.g. ``techA_tsdata.min.tsv.gz``; every line holds the same number of reads.
    fs : float
        Sampling rate (Hz); 400 Hz for ``techA_tsdata`` (``techA_settings.json``).

    Returns
    -------
    ReadNoiseSeries
    """
    check_scalar(fs, "fs", low=0.0, low_open=True, unit="Hz")
    p = check_file(path)
    lines = read_text(p)
    if not lines:
        raise DataFormatError(p, "empty file", line=1)
    levels: list[int] = []
    series: list[np.ndarray] = []
    for ln, text in _nonblank_lines(p, lines, "every series is kept"):
        parts = text.split("\t")
        if len(parts) < 3:
            raise DataFormatError(
                p, f"{len(parts)} fields, expected range, dummy, reads...", line=ln
            )
        vals = _floats(p, parts, ln)
        if not np.isfinite(vals).all():
            k = int(np.argmax(~np.isfinite(vals)))
            raise DataFormatError(
                p,
                f"column {k + 1}: {parts[k].strip()!r} is not finite (a gap in the series)",
                line=ln,
            )
        if vals[0] != np.round(vals[0]):
            raise DataFormatError(
                p, f"column 1: the range (level) must be an integer, got {vals[0]!r}", line=ln
            )
        if series and vals.size - 2 != series[0].size:
            raise DataFormatError(
                p,
                f"{vals.size - 2} reads, the first line has {series[0].size} (truncated line?)",
                line=ln,
            )
        levels.append(int(vals[0]))
        series.append(vals[2:])
    if not series:
        raise DataFormatError(p, "no data lines", line=1)
    return ReadNoiseSeries(np.array(levels), np.vstack(series), float(fs), str(p))
