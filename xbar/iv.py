"""Current-voltage (I-V) models of a crossbar cell.

Every model maps the voltage across a cell ``V`` (V) and the cell's small-signal (zero-bias)
conductance ``G`` (S) to the current ``I`` (A) and the differential conductance ``dI/dV`` (S):

>>> import xbar.iv as iv
>>> m = iv.Sinh(0.25)
>>> m.current(0.5, 1e-4)          # A
>>> m.conductance(0.5, 1e-4)      # S

Both broadcast over arrays.  Every model is odd-monotone in the sense the circuit solver needs:
the current is continuous, strictly increasing in ``V`` for ``G > 0``, zero at ``V = 0`` (the
:class:`Table` model passes through whatever the table gives at 0 V) and has a continuous
derivative, so Newton's method on the nodal equations is well posed.

Each model also carries a small machine-readable description for compiled kernels:
``kind`` (int code, see ``KIND_*``) and ``params`` (tuple of floats); :class:`Table` adds its knot
arrays ``v``, ``i_over_g`` and Hermite slopes ``slopes``.
"""

from __future__ import annotations

import numbers
from typing import cast

import numpy as np

import warnings

from ._validation import as_float_array, check_choice, check_scalar
from .exceptions import ConfigError, ConvergenceError, UnitWarning

__all__ = [
    "IVModel",
    "Linear",
    "Sinh",
    "Asymmetric",
    "Selector",
    "Table",
    "pchip_slopes",
    "KIND_LINEAR",
    "KIND_SINH",
    "KIND_ASYMMETRIC",
    "KIND_TABLE",
]

KIND_LINEAR = 0
KIND_SINH = 1
KIND_ASYMMETRIC = 2
KIND_TABLE = 3

_SELECTOR_KINDS = {"sinh": 1, "diode": 2}


def _check_shape_voltage(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(
            f"{name} must be a real number in volts, got {type(value).__name__} {value!r}"
        )
    if not np.isfinite(float(value)) or value <= 0:
        raise ConfigError(f"{name} must be a finite shape voltage > 0 V, got {value!r}")
    return float(value)


def _arrays(V, G):
    V = np.asarray(V, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    return V, G


# Plausibility limits of the public evaluation (the circuit solvers call ``_evaluate`` directly).
MAX_PLAUSIBLE_VOLTAGE = 100.0  # V across one cell; beyond it a unit slip (mV as V) is likelier
MAX_PLAUSIBLE_RATIO = 100.0  # |V|/v0 of exponential models: sinh(100)/100 ~ 1e41 x ohmic


class IVModel:
    """Base class: ``current(V, G)`` in A and ``conductance(V, G)`` (dI/dV) in S.

    The public methods validate their arguments: NaN or inf raise ``ConfigError``, a result that
    overflows float64 raises ``ConfigError``, and physically implausible arguments (a cell
    voltage above 100 V, or ``|V|/v0 > 100`` for the exponential models) warn with
    ``xbar.exceptions.UnitWarning`` naming the likely unit slip.  Subclasses implement
    ``_evaluate(V, G) -> (I, dI/dV)`` on float arrays, which the circuit solvers call unchecked
    (their trial iterates may overshoot).
    """

    kind: int = -1
    params: tuple = ()

    def _evaluate(self, V: np.ndarray, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _shape_voltages(self) -> tuple[float, ...]:
        """Shape voltages v0 (V) of an exponential law, () for none."""
        return ()

    def _check_args(self, V: np.ndarray, G: np.ndarray) -> None:
        for arr, name, unit in ((V, "V", "V"), (G, "G", "S")):
            if not np.isfinite(arr).all():
                raise ConfigError(
                    f"{self!r}: {name} contains NaN or inf ({unit}), first "
                    f"{arr[~np.isfinite(arr)].ravel()[0]!r}"
                )
        vmax = float(np.abs(V).max(initial=0.0))
        if vmax > MAX_PLAUSIBLE_VOLTAGE:
            warnings.warn(
                f"{self!r}: |V| = {vmax:.4g} V across a cell exceeds "
                f"{MAX_PLAUSIBLE_VOLTAGE:g} V; V is in volts (was it given in mV?)",
                UnitWarning,
                stacklevel=4,
            )
        v0 = self._shape_voltages()
        if v0 and vmax / min(v0) > MAX_PLAUSIBLE_RATIO:
            warnings.warn(
                f"{self!r}: |V|/v0 = {vmax / min(v0):.4g} (|V| = {vmax:.4g} V, v0 = "
                f"{min(v0):.4g} V) puts the current ~e^{vmax / min(v0):.0f} times above "
                "the ohmic one, far beyond any measured RRAM nonlinearity; V and v0 are "
                "both in volts (was one given in mV?)",
                UnitWarning,
                stacklevel=4,
            )

    def current_and_conductance(self, V, G) -> tuple[np.ndarray, np.ndarray]:
        """Current (A) and dI/dV (S) at cell voltage ``V`` (V) for small-signal conductance ``G``
        (S), validated (see the class notes).

        Parameters
        ----------
        V : float or ndarray
            Voltage across the cell (V).
        G : float or ndarray
            Small-signal (zero-bias) conductance of the cell (S); broadcasts with ``V``.
        """
        V, G = _arrays(V, G)
        self._check_args(V, G)
        with np.errstate(over="ignore", invalid="ignore"):
            I, g = self._evaluate(V, G)
        if not (np.isfinite(I).all() and np.isfinite(g).all()):
            bad = ~(np.isfinite(I) & np.isfinite(g))
            k = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
            vk = np.broadcast_to(V, bad.shape)[k]
            raise ConfigError(
                f"{self!r}: the current overflows float64 at V = {float(vk)!r} V "
                f"(|V|/v0 too large; V and v0 are in volts)"
            )
        return I, g

    def current(self, V, G) -> np.ndarray:
        """Cell current (A) at cell voltage ``V`` (V) for small-signal conductance ``G`` (S).

        Parameters
        ----------
        V : float or ndarray
            Voltage across the cell (V).
        G : float or ndarray
            Small-signal (zero-bias) conductance of the cell (S); broadcasts with ``V``.
        """
        return self.current_and_conductance(V, G)[0]

    def conductance(self, V, G) -> np.ndarray:
        """Differential conductance dI/dV (S) at ``V`` (V) for small-signal conductance ``G`` (S).

        Parameters
        ----------
        V : float or ndarray
            Voltage across the cell (V).
        G : float or ndarray
            Small-signal (zero-bias) conductance of the cell (S); broadcasts with ``V``.
        """
        return self.current_and_conductance(V, G)[1]

    @property
    def is_linear(self) -> bool:
        """True when ``current`` is exactly ``G * V``."""
        return False

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.params == other.params

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.params))


class Linear(IVModel):
    """Ohmic cell, ``I = G * V``."""

    kind = KIND_LINEAR
    params = ()

    def _evaluate(self, V, G):
        return G * V, np.broadcast_to(G, np.broadcast_shapes(V.shape, G.shape)).copy()

    @property
    def is_linear(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "Linear()"


class Sinh(IVModel):
    """Symmetric sinh cell, ``I = G * v0 * sinh(V / v0)``.

    Parameters
    ----------
    v0 : float
        Shape voltage (V), > 0.  For ``|V| << v0`` the cell is ohmic with conductance ``G``; each
        further ``v0 * ln(2)``-ish of bias roughly doubles ``I / V``.  0.25 V is the value used in
        the project's solver benchmarks (README, Benchmarks).
    """

    kind = KIND_SINH

    def __init__(self, v0: float = 0.25):
        self.v0 = _check_shape_voltage(v0, "v0")
        self.params = (self.v0,)

    def _evaluate(self, V, G):
        x = V / self.v0
        return G * self.v0 * np.sinh(x), G * np.cosh(x)

    def _shape_voltages(self):
        return (self.v0,)

    def __repr__(self) -> str:
        return f"Sinh(v0={self.v0!r})"


class Selector:
    """Series selector of a 1S1R cell (a two-terminal device in series with the memristor).

    Parameters
    ----------
    kind : {"sinh", "diode"}
        ``"sinh"``: bidirectional threshold selector, ``I = i0 * sinh(V / v0)``.
        ``"diode"``: rectifying diode, ``I = i0 * (exp(V / v0) - 1)``, forward for ``V > 0``;
        reverse current saturates at ``-i0``.
    i0 : float
        Current scale (A), > 0.  Default 1e-6 A.
    v0 : float
        Shape voltage (V), > 0; for a diode ``n * kT/q`` (0.0259 V at 300 K and n = 1).
        Default 0.1 V.
    """

    def __init__(self, kind: str = "sinh", i0: float = 1e-6, v0: float = 0.1):
        self.kind = check_choice(kind, "selector kind", _SELECTOR_KINDS)
        self.i0 = float(check_scalar(i0, "selector i0", low=0.0, low_open=True, unit="A"))
        self.v0 = _check_shape_voltage(v0, "selector v0")

    @property
    def code(self) -> int:
        return _SELECTOR_KINDS[self.kind]

    def current(self, V) -> np.ndarray:
        """Selector current (A) alone at voltage ``V`` (V); NaN/inf and float64 overflow raise
        ``ConfigError``, |V| > 100 V or |V|/v0 > 100 warn (``UnitWarning``).

        Parameters
        ----------
        V : float or ndarray
            Voltage across the selector (V).
        """
        V = np.asarray(V, dtype=np.float64)
        if not np.isfinite(V).all():
            raise ConfigError(f"{self!r}: V contains NaN or inf (V)")
        vmax = float(np.abs(V).max(initial=0.0))
        if vmax > MAX_PLAUSIBLE_VOLTAGE or vmax / self.v0 > MAX_PLAUSIBLE_RATIO:
            warnings.warn(
                f"{self!r}: |V| = {vmax:.4g} V is {vmax / self.v0:.4g} v0; V and v0 are "
                "in volts (was one given in mV?)",
                UnitWarning,
                stacklevel=2,
            )
        with np.errstate(over="ignore"):
            I = self._current(V)
        if not np.isfinite(I).all():
            raise ConfigError(f"{self!r}: the current overflows float64 at |V| = {vmax!r} V")
        return I

    def _current(self, V: np.ndarray) -> np.ndarray:
        if self.kind == "sinh":
            return self.i0 * np.sinh(V / self.v0)
        return self.i0 * np.expm1(V / self.v0)

    def voltage(self, I) -> tuple[np.ndarray, np.ndarray]:
        """Inverse: the voltage (V) across the selector carrying ``I`` (A), and dV/dI (ohm).

        Parameters
        ----------
        I : float or ndarray
            Current through the selector (A).
        """
        u = I / self.i0
        if self.kind == "sinh":
            return self.v0 * np.arcsinh(u), self.v0 / (self.i0 * np.sqrt(1.0 + u * u))
        return self.v0 * np.log1p(u), self.v0 / (self.i0 + I)

    def __repr__(self) -> str:
        return f"Selector(kind={self.kind!r}, i0={self.i0!r}, v0={self.v0!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Selector) and (self.kind, self.i0, self.v0) == (
            other.kind,
            other.i0,
            other.v0,
        )


class Asymmetric(IVModel):
    """Asymmetric sinh cell, optionally with a series selector (1S1R).

    Without a selector::

        I = G * v0_pos * sinh(V / v0_pos)   for V >= 0
        I = G * v0_neg * sinh(V / v0_neg)   for V <  0

    Both branches have slope ``G`` at 0 V, so ``I`` is C1 everywhere (its second derivative is 0 at
    0 V on both sides, so it is in fact C2).  With a ``selector`` the memristor and the selector
    carry the same current and share the voltage, ``V = V_R(I) + V_S(I)``; the current is found by
    a safeguarded Newton iteration on that monotone equation (relative tolerance 1e-14) and the
    derivative is the exact series combination ``dI/dV = 1 / (dV_R/dI + dV_S/dI)`` at the solved
    current.  Cells with ``G <= 0`` carry no current.

    Parameters
    ----------
    v0_pos, v0_neg : float
        Shape voltages (V), > 0, for positive and negative cell voltage.
    selector : Selector or None
        Series selector; ``None`` for a bare memristor.

    Notes
    -----
    Kernel description: ``params = (v0_pos, v0_neg, selector_code, i0, v0_sel)`` with
    ``selector_code`` 0 (none), 1 (sinh), 2 (diode); ``i0 = v0_sel = 0`` without a selector.
    """

    kind = KIND_ASYMMETRIC
    _max_iter = 200

    def __init__(
        self, v0_pos: float = 0.25, v0_neg: float = 0.25, selector: Selector | None = None
    ):
        self.v0_pos = _check_shape_voltage(v0_pos, "v0_pos")
        self.v0_neg = _check_shape_voltage(v0_neg, "v0_neg")
        if selector is not None and not isinstance(selector, Selector):
            raise ConfigError(
                f"selector must be None or an xbar.iv.Selector, got {type(selector).__name__}"
            )
        self.selector = selector
        if selector is None:
            self.params = (self.v0_pos, self.v0_neg, 0.0, 0.0, 0.0)
        else:
            self.params = (self.v0_pos, self.v0_neg, float(selector.code), selector.i0, selector.v0)

    def _v0(self, x):
        return np.where(x >= 0, self.v0_pos, self.v0_neg)

    def _bare(self, V, G):
        v0 = self._v0(V)
        return G * v0 * np.sinh(V / v0), G * np.cosh(V / v0)

    def _memristor_voltage(self, I, G):
        v0 = self._v0(I)
        u = I / (G * v0)
        return v0 * np.arcsinh(u), 1.0 / (G * np.sqrt(1.0 + u * u))

    def _shape_voltages(self):
        return (self.v0_pos, self.v0_neg)

    def _evaluate(self, V, G):
        V, G = np.broadcast_arrays(V, G)
        if self.selector is None:
            return self._bare(V, G)
        I = np.zeros(V.shape)
        dIdV = np.zeros(V.shape)
        on = (G > 0) & (V != 0)
        if on.any():
            I[on], dIdV[on] = self._solve_series(V[on], G[on])
        zero_v = (G > 0) & (V == 0)
        if zero_v.any():
            dvs = self.selector.voltage(np.zeros(1))[1][0]
            dIdV[zero_v] = 1.0 / (1.0 / G[zero_v] + dvs)
        return I, dIdV

    def _solve_series(self, V, G):
        sel = cast(Selector, self.selector)  # only called with a selector
        with np.errstate(over="ignore", invalid="ignore"):
            i_r = self._bare(V, G)[0]
            i_s = sel._current(V)
        pos = V > 0
        lo = np.where(pos, 0.0, np.maximum(i_r, i_s))
        hi = np.where(pos, np.minimum(i_r, i_s), 0.0)
        I = np.zeros_like(V)
        for it in range(self._max_iter):
            vr, dr = self._memristor_voltage(I, G)
            vs, ds = sel.voltage(I)
            F = vr + vs - V
            # Keep the bracket: F is strictly increasing in I.
            lo = np.where(F < 0, I, lo)
            hi = np.where(F > 0, I, hi)
            step = F / (dr + ds)
            new = I - step
            bad = ~((new > lo) & (new < hi)) | ~np.isfinite(new)
            new = np.where(bad, 0.5 * (lo + hi), new)
            done = np.abs(new - I) <= 1e-14 * np.abs(new) + 1e-300
            I = new
            if done.all():
                break
        else:
            raise ConvergenceError(
                f"1S1R series solve did not converge in {self._max_iter} iterations",
                iterations=self._max_iter,
                residual=float(np.max(np.abs(F))),
            )
        dr = self._memristor_voltage(I, G)[1]
        ds = sel.voltage(I)[1]
        return I, 1.0 / (dr + ds)

    def __repr__(self) -> str:
        sel = "" if self.selector is None else f", selector={self.selector!r}"
        return f"Asymmetric(v0_pos={self.v0_pos!r}, v0_neg={self.v0_neg!r}{sel})"


def _pchip(x: np.ndarray, y: np.ndarray):
    """SciPy's shape-preserving PCHIP interpolant of ``(x, y)`` and its slopes at the knots."""
    from scipy.interpolate import PchipInterpolator  # on first use: import xbar stays light

    p = PchipInterpolator(x, y, extrapolate=True)
    return p, np.asarray(p(x, 1), dtype=np.float64)


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Deprecated: the monotone (PCHIP) Hermite slopes at the knots; use SciPy's
    ``scipy.interpolate.PchipInterpolator(x, y)(x, 1)`` (what this returns).

    Parameters
    ----------
    x : ndarray, shape (K,)
        Knots, strictly increasing (any unit).
    y : ndarray, shape (K,)
        Values at the knots.

    Returns
    -------
    ndarray, shape (K,)
        ``dy/dx`` at the knots.
    """
    from ._deprecate import warn_renamed

    warn_renamed(
        "xbar.iv.pchip_slopes", "scipy.interpolate.PchipInterpolator(x, y)(x, 1)", stacklevel=3
    )
    return _pchip(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))[1]


class Table(IVModel):
    """Tabulated cell I-V, ``I = G * f(V)`` with ``f`` interpolated from measured knots.

    Parameters
    ----------
    v : array_like, shape (K,)
        Knot voltages (V), strictly increasing, K >= 2.
    i_over_g : array_like, shape (K,)
        ``f(v) = I / G`` at the knots (V, i.e. A/S), non-decreasing so the current is monotone.
        For ``G`` to be the small-signal conductance, ``f(0) = 0`` and ``f'(0) = 1``; the table is
        used as given (see :func:`xbar.devices.fit.iv_table_from_sweep` to build a normalised one).

    Notes
    -----
    Interpolation: SciPy's piecewise-cubic Hermite with monotone slopes
    (``scipy.interpolate.PchipInterpolator``, Fritsch-Butland), so ``f`` is C1 and monotone
    between knots.  **Extrapolation rule:** outside ``[v[0], v[-1]]`` ``f`` continues as
    the straight line with the end knot's Hermite slope (C1 at the end knots, monotone).
    Kernel description: ``kind = 3``, ``params = ()``, knot arrays ``v``, ``i_over_g``, ``slopes``.
    """

    kind = KIND_TABLE
    params = ()

    def __init__(self, v, i_over_g):
        v = as_float_array(v, "v", shape=(None,))
        f = as_float_array(i_over_g, "i_over_g", shape=(v.size,))
        if v.size < 2:
            raise ConfigError(f"v must have at least 2 knots, got {v.size}")
        dv = np.diff(v)
        if np.any(dv <= 0):
            k = int(np.argmax(dv <= 0))
            raise ConfigError(
                f"v must be strictly increasing (V); v[{k}] = {v[k]!r} and "
                f"v[{k + 1}] = {v[k + 1]!r}"
            )
        df = np.diff(f)
        if np.any(df < 0):
            k = int(np.argmax(df < 0))
            raise ConfigError(
                f"i_over_g must be non-decreasing (a monotone I-V); i_over_g[{k}] = "
                f"{f[k]!r} > i_over_g[{k + 1}] = {f[k + 1]!r}"
            )
        if not np.any(df > 0):
            raise ConfigError("i_over_g must increase somewhere, got a constant table")
        self.v = v
        self.i_over_g = f
        self._interp, self.slopes = _pchip(v, f)
        for arr in (self.v, self.i_over_g, self.slopes):
            arr.setflags(write=False)

    def shape(self, V) -> tuple[np.ndarray, np.ndarray]:
        """``f(V)`` (V) and ``f'(V)`` (dimensionless) at voltages ``V`` (V).

        Parameters
        ----------
        V : float or ndarray
            Cell voltages (V).
        """
        V = np.asarray(V, dtype=np.float64)
        x, y, m = self.v, self.i_over_g, self.slopes
        f = self._interp(V)
        df = self._interp(V, 1)
        below, above = V < x[0], V > x[-1]
        f = np.where(below, y[0] + m[0] * (V - x[0]), f)
        f = np.where(above, y[-1] + m[-1] * (V - x[-1]), f)
        df = np.where(below, m[0], np.where(above, m[-1], df))
        return f, df

    def _evaluate(self, V, G):
        f, df = self.shape(V)
        return G * f, G * df

    def __eq__(self, other) -> bool:
        return (
            type(other) is Table
            and np.array_equal(self.v, other.v)
            and np.array_equal(self.i_over_g, other.i_over_g)
        )

    def __hash__(self) -> int:
        return hash(("Table", self.v.tobytes(), self.i_over_g.tobytes()))

    def __repr__(self) -> str:
        return (
            f"Table(<{self.v.size} knots, v in [{self.v[0]:g}, {self.v[-1]:g}] V, "
            f"i_over_g in [{self.i_over_g[0]:g}, {self.i_over_g[-1]:g}] V>)"
        )
