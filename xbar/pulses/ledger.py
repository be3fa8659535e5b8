"""``EnergyLedger``: every joule a simulated chip spends, booked by category and tags.

Each booking is ``(category, energy [J], count, tags)``.  ``count`` is the number of operations the
energy covers (pulses, conversions, line drives); ``tags`` are scalar labels such as ``step``,
``epoch``, ``layer``, ``operation`` or ``component``.  By default the ledger *aggregates*: bookings
with the same category and tags share one row whose energy and count are summed, so millions of
pulses cost one dictionary look-up each (or one ``numpy`` sum for an array of energies) and no
Python object per pulse.  ``EnergyLedger(detail=True)`` keeps one row per booked energy instead.

Storage is columnar (growable ``numpy`` arrays of energies and counts, one integer-code column per
tag key with a value table), so totals, group-bys and exports are vectorised.

Categories (``EnergyLedger.CATEGORIES``):

================== ===========================================================================
``write``          energy dissipated in the selected device(s) by a programming pulse
``half_selected``  energy in half-selected (disturbed) cells during a pulse
``wires``          word-/bit-line wire dissipation during pulses
``word_drivers``   word-line driver dissipation (driver output resistance) during pulses
``sense``          bit-line terminal (sense) resistance dissipation during pulses
``read``           array dissipation of a read (cells, access devices, wires, drivers and sense
                   resistance, from the solved node voltages), tag ``component`` splits it
``adc``            analog-to-digital conversions
``dac``            input drivers / digital-to-analog conversion of a read
``tia``            sense amplifiers (trans-impedance amplifiers / integrators)
``refresh``        re-programming of pairs that reached the window edge
``verify``         verify reads and sensing of program-and-verify
================== ===========================================================================

The pulse categories carry the names of the fields of :class:`xbar.circuit.write.PulseEnergy`
and of the schedule's ``e_*`` columns.  The former names are deprecated aliases for one release:
``half_select`` (= ``half_selected``) and ``drivers`` (booked as ``word_drivers``; queried as
``word_drivers`` + ``sense``), each with a DeprecationWarning; ledger files written with them load
without warning (``drivers`` rows as ``word_drivers`` with the tag ``component="drivers+sense"``,
the split the file did not record).

More categories can be declared with ``EnergyLedger(extra_categories=[...])``; unknown names are
rejected so that typos do not silently open new rows.
"""

from __future__ import annotations

import contextlib
import csv
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .._deprecate import warn_renamed
from .._io import dump_document, load_document, open_atomic
from ..exceptions import ConfigError

__all__ = ["EnergyLedger", "LedgerSummary", "format_energy"]

CATEGORIES: tuple[str, ...] = (
    "write",
    "half_selected",
    "wires",
    "word_drivers",
    "sense",
    "read",
    "adc",
    "dac",
    "tia",
    "refresh",
    "verify",
)
# Deprecated category names -> the categories they now are (booked as the first).
_OLD_CATEGORIES: dict[str, tuple[str, ...]] = {
    "half_select": ("half_selected",),
    "drivers": ("word_drivers", "sense"),
}

_MISSING = -1  # tag code of a row that lacks a tag key
_RESERVED = {"category", "energy", "count"}


def format_energy(joules: float) -> str:
    """Format an energy with an SI prefix (``3.2 pJ``).

    Parameters
    ----------
    joules : float
        Energy, J.
    """
    if joules == 0 or not np.isfinite(joules):
        return f"{joules:.3g} J"
    for scale, prefix in (
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "u"),
        (1e-9, "n"),
        (1e-12, "p"),
        (1e-15, "f"),
        (1e-18, "a"),
    ):
        if abs(joules) >= scale:
            return f"{joules / scale:.4g} {prefix}J"
    return f"{joules:.3g} J"


_format_energy = format_energy  # former private name, kept for one release


def _plain(value):
    """Turn numpy scalars into Python scalars (JSON, dictionary keys)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class LedgerSummary:
    """A table of ledger totals, grouped by one or more keys.

    Parameters
    ----------
    by : tuple of str
        Grouping keys (``"category"`` and/or tag names).
    rows : list of dict
        One dictionary per group: the key values, ``energy`` (J), ``count``, ``share`` (fraction of
        the total energy) and ``per_sample`` (J per sample, ``None`` when no samples are known).
    total : float
        Sum of all energies in the table, J.
    samples : int
        Samples the per-sample figures divide by (0 = unknown).
    """

    by: tuple[str, ...]
    rows: list[dict] = field(default_factory=list)
    total: float = 0.0
    samples: int = 0

    def as_dict(self) -> dict:
        """``{key or tuple of keys: energy in J}``."""
        if len(self.by) == 1:
            return {r[self.by[0]]: r["energy"] for r in self.rows}
        return {tuple(r[k] for k in self.by): r["energy"] for r in self.rows}

    def to_pandas(self):
        """The table as a ``pandas.DataFrame`` (pandas is optional, imported here)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=[*self.by, "energy", "count", "share", "per_sample"])

    def __str__(self) -> str:
        head = [*self.by, "energy", "count", "share"] + (["per sample"] if self.samples else [])
        body = []
        for r in self.rows:
            line = [str(r[k]) for k in self.by] + [
                format_energy(r["energy"]),
                f"{r['count']:,}",
                f"{100 * r['share']:.1f} %",
            ]
            if self.samples:
                line.append(format_energy(r["per_sample"]))
            body.append(line)
        total = (
            ["total"]
            + [""] * (len(self.by) - 1)
            + [format_energy(self.total), f"{sum(r['count'] for r in self.rows):,}", "100.0 %"]
        )
        if self.samples:
            total.append(format_energy(self.total / self.samples))
        table = [head, *body, total]
        widths = [max(len(row[i]) for row in table) for i in range(len(head))]

        def fmt(row):
            return "  ".join(
                c.ljust(w) if i < len(self.by) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths))
            )

        rule = "  ".join("-" * w for w in widths)
        lines = [fmt(head), rule, *(fmt(r) for r in body), rule, fmt(total)]
        if self.samples:
            lines.append(f"({self.samples:,} samples)")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython
        printer.text(str(self))


class _Column:
    """A growable integer-code column with its value table (one per tag key)."""

    __slots__ = ("codes", "values", "index")

    def __init__(self, n_rows: int, capacity: int):
        self.codes = np.full(capacity, _MISSING, dtype=np.int32)
        self.values: list = []
        self.index: dict = {}

    def code(self, value) -> int:
        value = _plain(value)
        code = self.index.get(value)
        if code is None:
            code = len(self.values)
            self.index[value] = code
            self.values.append(value)
        return code

    def grow(self, capacity: int) -> None:
        new = np.full(capacity, _MISSING, dtype=np.int32)
        new[: self.codes.size] = self.codes
        self.codes = new

    def decoded(self, n: int) -> list:
        table = self.values
        return [None if c == _MISSING else table[c] for c in self.codes[:n]]


class EnergyLedger:
    """Energy book of a simulated chip: bookings by category and tags, totals, exports.

    Parameters
    ----------
    detail : bool, default False
        ``False`` aggregates bookings with equal category and tags into one row (fast, small).
        ``True`` keeps one row per booked energy value (e.g. per pulse) for later inspection.
    extra_categories : iterable of str, optional
        Categories allowed besides ``EnergyLedger.CATEGORIES``.

    Examples
    --------
    >>> ledger = EnergyLedger()
    >>> ledger.book("adc", 9.1e-12, count=1, layer="fc1", operation="read")
    >>> with ledger.tags(epoch=0, step=3):
    ...     ledger.book("write", [2.4e-12, 2.5e-12], layer="fc1")  # two pulses, count 2
    >>> ledger.add_samples(1)
    >>> print(ledger.summary())                                         # doctest: +SKIP
    """

    CATEGORIES = CATEGORIES

    def __init__(self, *, detail: bool = False, extra_categories: Iterable[str] = ()):
        self.detail = bool(detail)
        extra = tuple(extra_categories)
        for c in extra:
            if not isinstance(c, str) or not c:
                raise ConfigError(f"extra_categories must be non-empty strings, got {c!r}")
        self.categories: tuple[str, ...] = CATEGORIES + tuple(
            c for c in extra if c not in CATEGORIES
        )
        self._cat_code = {c: i for i, c in enumerate(self.categories)}
        self._n = 0
        self._cap = 64
        self._energy = np.zeros(self._cap)
        self._count = np.zeros(self._cap, dtype=np.int64)
        self._cat = np.zeros(self._cap, dtype=np.int16)
        self._cols: dict[str, _Column] = {}
        self._rows: dict[tuple, int] = {}  # aggregation key -> row (aggregate mode only)
        self._context: list[dict] = []
        self.samples = 0

    # ----------------------------------------------------------------- booking
    @contextlib.contextmanager
    def tags(self, **tags) -> Iterator["EnergyLedger"]:
        """Context in which every booking also carries ``tags`` (explicit tags win).

        The training loop sets ``step``/``epoch`` here so that layers need not know them.

        Parameters
        ----------
        **tags
            Scalar labels (int, str, float, bool or None).
        """
        self._check_tags(tags)
        self._context.append(tags)
        try:
            yield self
        finally:
            self._context.pop()

    def book(self, category: str, energy, count: int | None = None, **tags) -> None:
        """Book ``energy`` (J, scalar or array) under ``category`` with scalar ``tags``.

        Parameters
        ----------
        category : str
            One of ``self.categories``.
        energy : float or array_like
            Energy in joules, finite and ``>= 0``.  An array books one operation per element:
            summed into one row in aggregate mode, one row per element with ``detail=True``.
        count : int, optional
            Operations covered; default 1 for a scalar, ``energy.size`` for an array.  With
            ``detail=True`` and an array, ``count`` is spread as one per element and must equal
            the array size if given.
        **tags
            Scalar labels (int, str, float, bool); ``None`` means "no value".
        """
        if category in _OLD_CATEGORIES and category not in self._cat_code:
            warn_renamed(category, _OLD_CATEGORIES[category][0])
            category = _OLD_CATEGORIES[category][0]
        code = self._cat_code.get(category)
        if code is None:
            raise ConfigError(f"category must be one of {list(self.categories)}, got {category!r}")
        e = np.asarray(energy, dtype=np.float64)
        if e.size and (not np.all(np.isfinite(e)) or e.min() < 0):
            raise ConfigError(f"energy must be finite and >= 0 J, got {energy!r} for {category!r}")
        if count is None:
            count = 1 if e.ndim == 0 else e.size
        elif isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise ConfigError(f"count must be an integer >= 0, got {count!r}")
        merged = {}
        for ctx in self._context:
            merged.update(ctx)
        merged.update(tags)
        self._check_tags(merged)
        merged = {k: v for k, v in merged.items() if v is not None}
        if self.detail and e.ndim > 0:
            if count != e.size:
                raise ConfigError(
                    f"count must equal the number of energies ({e.size}) with "
                    f"detail=True, got {count}"
                )
            self._append_many(code, e.ravel(), merged)
            return
        self._add(code, float(e.sum()), int(count), merged)

    def add_samples(self, n: int) -> None:
        """Count ``n`` more samples (inputs processed) for ``per_sample``.

        Parameters
        ----------
        n : int
            Samples (>= 0).
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ConfigError(f"n must be an integer >= 0, got {n!r}")
        self.samples += int(n)

    def _check_tags(self, tags: dict) -> None:
        for k, v in tags.items():
            if k in _RESERVED:
                raise ConfigError(f"tag name {k!r} is reserved (reserved: {sorted(_RESERVED)})")
            v = _plain(v)
            if v is not None and not isinstance(v, (str, int, float, bool)):
                raise ConfigError(
                    f"tag {k!r} must be a scalar (str, int, float, bool or None), "
                    f"got {type(v).__name__}"
                )

    def _ensure(self, extra: int) -> None:
        need = self._n + extra
        if need <= self._cap:
            return
        cap = max(need, 2 * self._cap)
        for name in ("_energy", "_count", "_cat"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)
        for col in self._cols.values():
            col.grow(cap)
        self._cap = cap

    def _column(self, key: str) -> _Column:
        col = self._cols.get(key)
        if col is None:
            col = self._cols[key] = _Column(self._n, self._cap)
        return col

    def _add(self, cat: int, energy: float, count: int, tags: dict) -> None:
        codes = tuple(sorted((k, self._column(k).code(v)) for k, v in tags.items()))
        if not self.detail:
            row = self._rows.get((cat, codes))
            if row is not None:
                self._energy[row] += energy
                self._count[row] += count
                return
        self._ensure(1)
        row = self._n
        self._energy[row], self._count[row], self._cat[row] = energy, count, cat
        for k, c in codes:
            self._cols[k].codes[row] = c
        self._n += 1
        if not self.detail:
            self._rows[(cat, codes)] = row

    def _append_many(self, cat: int, energies: np.ndarray, tags: dict) -> None:
        m = energies.size
        codes = [(k, self._column(k).code(v)) for k, v in tags.items()]
        self._ensure(m)
        sl = slice(self._n, self._n + m)
        self._energy[sl] = energies
        self._count[sl] = 1
        self._cat[sl] = cat
        for k, c in codes:
            self._cols[k].codes[sl] = c
        self._n += m

    # ----------------------------------------------------------------- queries
    def __len__(self) -> int:
        """Number of rows (aggregated groups, or bookings with ``detail=True``)."""
        return self._n

    def _mask(self, category=None, **filters) -> np.ndarray:
        n = self._n
        mask = np.ones(n, dtype=bool)
        if category is not None:
            cats = [category] if isinstance(category, str) else list(category)
            codes = []
            for c in list(cats):
                if c in _OLD_CATEGORIES and c not in self._cat_code:
                    warn_renamed(c, " + ".join(_OLD_CATEGORIES[c]), stacklevel=4)
                    codes += [self._cat_code[n] for n in _OLD_CATEGORIES[c]]
                    continue
                if c not in self._cat_code:
                    raise ConfigError(f"category must be one of {list(self.categories)}, got {c!r}")
                codes.append(self._cat_code[c])
            mask &= np.isin(self._cat[:n], codes)
        for key, value in filters.items():
            col = self._cols.get(key)
            code = None if col is None else col.index.get(_plain(value))
            if col is None or code is None:
                return np.zeros(n, dtype=bool)
            mask &= col.codes[:n] == code
        return mask

    def total(self, category: str | Iterable[str] | None = None, **filters) -> float:
        """Total energy in J, optionally of some categories and rows whose tags equal ``filters``.

        Parameters
        ----------
        category : str, iterable of str or None
            Categories to include (None = all; deprecated names map to their new ones).
        **filters
            Tag values the rows must have (e.g. ``layer="fc1"``).
        """
        return float(self._energy[: self._n][self._mask(category, **filters)].sum())

    def count(self, category: str | Iterable[str] | None = None, **filters) -> int:
        """Total operation count, filtered like ``total``.

        Parameters
        ----------
        category : str, iterable of str or None
            Categories to include (None = all; deprecated names map to their new ones).
        **filters
            Tag values the rows must have (e.g. ``layer="fc1"``).
        """
        return int(self._count[: self._n][self._mask(category, **filters)].sum())

    def _keys(self, key: str) -> tuple[np.ndarray, list]:
        """Integer codes of ``key`` per row and the value table (``None`` for missing)."""
        n = self._n
        if key == "category":
            return self._cat[:n].astype(np.int64), list(self.categories)
        col = self._cols.get(key)
        if col is None:
            return np.full(n, _MISSING, dtype=np.int64), []
        return col.codes[:n].astype(np.int64), col.values

    def totals(self, by: str = "category", category=None, **filters) -> dict:
        """``{value of by: energy in J}``, e.g. ``totals("epoch")`` or ``totals("step", "write")``.

        Rows that lack the tag are grouped under ``None``.

        Parameters
        ----------
        by : str, default "category"
            Grouping key (``"category"`` or a tag name).
        category : str, iterable of str or None
            Categories to include (None = all; deprecated names map to their new ones).
        **filters
            Tag values the rows must have (e.g. ``layer="fc1"``).
        """
        return self.summary(by=by, category=category, **filters).as_dict()

    def summary(
        self, by: str | Iterable[str] = "category", category=None, **filters
    ) -> LedgerSummary:
        """Totals grouped by ``by`` (``"category"`` and/or tag names), largest energy first.

        Returns a ``LedgerSummary``: ``rows`` (plain dictionaries), ``str()`` gives a table,
        ``to_pandas()`` a DataFrame.  Per-sample figures use ``self.samples``.

        Parameters
        ----------
        by : str or iterable of str, default "category"
            Grouping keys (``"category"`` and/or tag names).
        category : str, iterable of str or None
            Categories to include (None = all; deprecated names map to their new ones).
        **filters
            Tag values the rows must have (e.g. ``layer="fc1"``).
        """
        keys = (by,) if isinstance(by, str) else tuple(by)
        if not keys:
            raise ConfigError("by must name at least one key, got an empty sequence")
        mask = self._mask(category, **filters)
        code_cols, tables = [], []
        for k in keys:
            codes, table = self._keys(k)
            code_cols.append(codes[mask])
            tables.append(table)
        energy = self._energy[: self._n][mask]
        counts = self._count[: self._n][mask]
        rows = []
        if energy.size:
            stacked = np.stack(code_cols, axis=1)
            groups, inverse = np.unique(stacked, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            e_sum = np.bincount(inverse, weights=energy, minlength=len(groups))
            c_sum = np.bincount(inverse, weights=counts, minlength=len(groups))
            total = float(energy.sum())
            for g, es, cs in zip(groups, e_sum, c_sum):
                row = {k: (None if c == _MISSING else t[c]) for k, c, t in zip(keys, g, tables)}
                row.update(
                    energy=float(es),
                    count=int(round(cs)),
                    share=float(es / total) if total > 0 else 0.0,
                    per_sample=float(es / self.samples) if self.samples else None,
                )
                rows.append(row)
            rows.sort(key=lambda r: float(r["energy"] or 0.0), reverse=True)
        return LedgerSummary(by=keys, rows=rows, total=float(energy.sum()), samples=self.samples)

    def per_sample(self, n_samples: int | None = None, by: str = "category") -> dict:
        """Energy per sample in J, ``{value of by: J}``, plus ``"total"``.

        Parameters
        ----------
        n_samples : int or None
            Samples to divide by (> 0); None = those counted with ``add_samples``.
        by : str, default "category"
            Grouping key.
        """
        n = self.samples if n_samples is None else n_samples
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ConfigError(
                "n_samples must be an integer > 0 (or count samples with "
                f"add_samples first), got {n!r}"
            )
        out = {k: v / n for k, v in self.totals(by).items()}
        out["total"] = self.total() / n
        return out

    # ----------------------------------------------------------------- combine / export
    def records(self) -> list[dict]:
        """All rows as dictionaries: ``category``, ``energy`` (J), ``count`` and the tags."""
        n = self._n
        cats = [self.categories[c] for c in self._cat[:n]]
        cols = {k: col.decoded(n) for k, col in self._cols.items()}
        out = []
        for i in range(n):
            rec = {
                "category": cats[i],
                "energy": float(self._energy[i]),
                "count": int(self._count[i]),
            }
            for k, vals in cols.items():
                if vals[i] is not None:
                    rec[k] = vals[i]
            out.append(rec)
        return out

    def merge(self, other: "EnergyLedger") -> "EnergyLedger":
        """Add every row and the samples of ``other`` into this ledger; returns ``self``.

        Parameters
        ----------
        other : EnergyLedger
            The ledger to add (its categories must be known here).
        """
        if not isinstance(other, EnergyLedger):
            raise ConfigError(f"other must be an EnergyLedger, got {type(other).__name__}")
        missing = [c for c in other.categories if c not in self._cat_code]
        if missing:
            raise ConfigError(
                f"other has categories unknown here: {missing}; create this ledger "
                "with extra_categories"
            )
        for rec in other.records():
            cat, e, c = rec.pop("category"), rec.pop("energy"), rec.pop("count")
            self._add(self._cat_code[cat], e, c, rec)
        self.samples += other.samples
        return self

    def to_csv(self, path: str | Path) -> Path:
        """Write all rows as CSV (columns ``category, energy_J, count`` then tags); returns path.

        Parameters
        ----------
        path : str or Path
            The CSV file.
        """
        path = Path(path)
        keys = sorted(self._cols)
        with open_atomic(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["category", "energy_J", "count", *keys])
            for rec in self.records():
                w.writerow(
                    [
                        rec["category"],
                        repr(rec["energy"]),
                        rec["count"],
                        *("" if rec.get(k) is None else rec[k] for k in keys),
                    ]
                )
        return path

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise (rows, samples, categories, mode) to JSON; written to ``path`` if given.

        Parameters
        ----------
        path : str, Path or None
            File to write (None: only return the text).
        """
        doc = {
            "format": "xbar-energy-ledger",
            "version": 1,
            "unit": "J",
            "detail": self.detail,
            "categories": list(self.categories),
            "samples": self.samples,
            "entries": self.records(),
        }
        return dump_document(doc, path, indent=1)

    @classmethod
    def from_json(cls, source: str | Path) -> "EnergyLedger":
        """Rebuild a ledger from ``to_json`` output (a path or the JSON text).

        Files written with the former category names load (module docstring).

        Parameters
        ----------
        source : str or Path
            A path or the JSON text.
        """
        doc = load_document(source, "xbar-energy-ledger", "an xbar energy ledger")
        extra = [c for c in doc["categories"] if c not in CATEGORIES and c not in _OLD_CATEGORIES]
        ledger = cls(detail=doc.get("detail", False), extra_categories=extra)
        for rec in doc["entries"]:
            cat, e, c = rec.pop("category"), rec.pop("energy"), rec.pop("count")
            if cat == "drivers":  # written before the split
                rec.setdefault("component", "drivers+sense")
            cat = _OLD_CATEGORIES.get(cat, (cat,))[0]
            ledger._add(ledger._cat_code[cat], float(e), int(c), rec)
        ledger.samples = int(doc.get("samples", 0))
        return ledger

    def clear(self) -> None:
        """Remove all rows and the sample count."""
        EnergyLedger.__init__(
            self,
            detail=self.detail,
            extra_categories=[c for c in self.categories if c not in CATEGORIES],
        )

    def __repr__(self) -> str:
        return (
            f"EnergyLedger(rows={self._n}, total={format_energy(self.total())}, "
            f"samples={self.samples}, detail={self.detail})"
        )

    def __str__(self) -> str:
        return str(self.summary())
