"""The crossbar array as a resistive circuit, and its solvers."""

from __future__ import annotations

import threading

import numpy as np

from .._validation import as_float_array, check_choice, check_conductance_magnitude, check_positive
from ..exceptions import ConfigError
from . import accuracy, dispatch, maps, newton
from .dispatch import METHODS, READ_METHODS
from .nodal import NodalNetwork, terminal_pattern
from .solution import CircuitSolution, PowerBreakdown

CELLS = ("0T1R", "1T1R")
__all__ = [
    "Crossbar",
    "CELLS",
    "METHODS",
    "READ_METHODS",
    "memristor_for_series",
    "series_conductance",
]


def _resistance(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Scalar or array resistance (ohm, >= 0) as a read-only ``shape`` array (a scalar is broadcast,
    not copied)."""
    arr = as_float_array(value, name)
    if arr.ndim and arr.shape != shape:
        raise ConfigError(f"{name} must be a scalar or have shape {shape}, got {arr.shape}")
    check_positive(arr, name, strict=False, unit="ohm")
    if arr.ndim == 0:
        return np.broadcast_to(arr, shape)
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


def _conductance(r: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 1.0 / r  # r = 0 -> inf (ideal connection)


def series_conductance(G, r_access):
    """Conductance of a memristor ``G`` in series with its access transistor ``r_access``.

    Parameters
    ----------
    G : array_like
        Memristor conductances, S (>= 0).
    r_access : float or array_like
        Access-transistor on-resistances, ohm (>= 0), broadcast against ``G``.

    Returns
    -------
    ndarray
        ``G / (1 + G·r_access)``, S: what a 1T1R cell conducts with its gate on.
    """
    G = np.asarray(G, dtype=float)
    with np.errstate(divide="ignore"):
        return G / (1.0 + G * r_access)


def memristor_for_series(g_cell, r_access):
    """The memristor conductance whose 1T1R cell conducts ``g_cell``: the inverse of
    :func:`series_conductance`.

    Parameters
    ----------
    g_cell : array_like
        Wanted cell (memristor + transistor) conductances, S, each below ``1 / r_access``.
    r_access : float or array_like
        Access-transistor on-resistances, ohm (>= 0).

    Returns
    -------
    ndarray
        ``g_cell / (1 − g_cell·r_access)``, S.

    Raises
    ------
    xbar.exceptions.ConfigError
        If a wanted conductance is at or above ``1 / r_access`` (no memristor reaches it).
    """
    g_cell = np.asarray(g_cell, dtype=float)
    denom = 1.0 - g_cell * r_access
    if np.any(denom <= 0):
        raise ConfigError(
            "a 1T1R cell cannot conduct 1/r_access or more: wanted cell conductance "
            f"up to {float(np.max(g_cell)):.3g} S with r_access "
            f"{float(np.max(r_access)):.3g} ohm"
        )
    return g_cell / denom


def _gate_mask(select, M: int, N: int) -> np.ndarray:
    """1T1R gate mask as a read-only (M, N) bool array; only real booleans (or 0/1) are taken.

    Strings (``'False'`` would be truthy), NaN and other numbers are refused rather than cast.
    """
    if select is None:
        sel = np.ones((M, N), dtype=bool)
    else:
        raw = np.asarray(select)
        if raw.dtype.kind == "b":
            sel = raw.astype(bool, copy=True)
        elif raw.dtype.kind in "iuf" and np.isin(raw, (0, 1)).all():
            sel = raw.astype(bool)
        else:
            flat = raw.ravel()
            if raw.dtype.kind in "iuf":
                flat = flat[~np.isin(flat, (0, 1))]
            bad = flat[0] if flat.size else None
            raise ConfigError(
                f"select must be a boolean mask (True = gate on, or 0/1), got "
                f"dtype {raw.dtype} with value {bad!r}"
            )
    if sel.shape == (M,):
        sel = np.repeat(sel[:, None], N, axis=1)
    if sel.shape != (M, N):
        raise ConfigError(f"select must have shape ({M},) or ({M}, {N}), got {sel.shape}")
    sel.flags.writeable = False
    return sel


class Crossbar:
    """An M x N memristor crossbar as a resistive network.

    Word line i (row, input) runs from its driver — an ideal source ``V_row[i]`` behind
    ``r_driver`` — through N−1 segments ``r_wordline``; its far end is open.  Bit line j (column,
    output) runs through M−1 segments ``r_bitline`` to its terminal: ``r_sense`` then an ideal source
    ``V_col[j]`` (0 V = the TIA's virtual ground).  Cell (i, j) joins ``w[i, j]`` to ``b[i, j]``.

    Parameters
    ----------
    G : (M, N) array_like
        Cell conductances, S (real, >= 0; 0 is an open cell).  Values above 1 S (likely
        resistances in ohm) warn; above 1e30 S they are refused.  Solves report inputs whose
        stiffness float64 cannot resolve (``CircuitSolution.info == 3``).  An array of
        fabricated devices (``model.sample((M, N), random_state=...)``) builds a
        :class:`~xbar.circuit.DeviceCrossbar` (module ``xbar.circuit.device_crossbar``).
    r_wordline, r_bitline : float or array_like
        Wire resistance per segment, ohm (>= 0): scalar, (M, N-1) or (M-1, N).
    r_driver, r_sense : float or array_like
        Terminal resistances, ohm (>= 0): scalar, (M,) or (N,).  0 ties the source to the line end.
    cell : {"0T1R", "1T1R"}
        Passive cell, or one with an access transistor of on-resistance ``r_access`` in series.
    r_access : float or (M, N) array_like, optional
        Access-transistor on-resistance, ohm (>= 0); required for ``cell="1T1R"``.
    select : (M,) or (M, N) bool array_like, optional
        1T1R gate state: False isolates the cell.  Booleans or 0/1 only (strings such as
        ``'False'`` and NaN are refused, not cast).  Default: every gate on.
    iv : xbar.iv model, optional
        Cell current–voltage law, e.g. ``xbar.iv.Sinh(0.25)``; ``G`` is then the small-signal
        (zero-bias) conductance.  Default: linear cells.  Nonlinear cells are solved by damped
        Newton from the linear solution; its steps use the same line-preconditioned kernel
        (the direct solver when wires have zero resistance).

    Notes
    -----
    Solvers: ``"pcg"`` — conjugate gradients on the nodal system preconditioned by exact solves of
    every word line and bit line (Cython, O(MN) per iteration, batched over inputs on all cores);
    ``"direct"`` — scipy SuperLU with symmetric minimum-degree ordering (one factorisation, many
    inputs; also handles zero-resistance wires by merging nodes); ``"transfer"`` (reads only) — the
    exact linear map ``I_col = T @ V_row`` built once per conductance state from min(M, N) solves.
    ``"auto"`` picks among them.
    """

    def __init__(
        self,
        G,
        *,
        r_wordline=0.0,
        r_bitline=0.0,
        r_driver=0.0,
        r_sense=0.0,
        cell: str = "0T1R",
        r_access=None,
        select=None,
        iv=None,
    ):
        if hasattr(G, "apply_pulses") or hasattr(G, "sample"):  # devices as the cells
            from .device_crossbar import adopt_devices

            G, iv = adopt_devices(self, G, iv)
        self._set_G(G)
        M, N = self.shape
        self.r_wordline = _resistance(r_wordline, "r_wordline", (M, max(N - 1, 0)))
        self.r_bitline = _resistance(r_bitline, "r_bitline", (max(M - 1, 0), N))
        self.r_driver = _resistance(r_driver, "r_driver", (M,))
        self.r_sense = _resistance(r_sense, "r_sense", (N,))
        self.cell = check_choice(cell, "cell", CELLS)
        if cell == "1T1R":
            if r_access is None:
                raise ConfigError(
                    "cell='1T1R' needs r_access (access transistor on-resistance, ohm)"
                )
            self.r_access = _resistance(r_access, "r_access", (M, N))
            self.select = _gate_mask(select, M, N)
        else:
            if r_access is not None or select is not None:
                raise ConfigError("r_access and select apply to cell='1T1R' only")
            # Read-only broadcasts: a passive array has no access device and every cell is on.
            self.r_access = np.broadcast_to(np.float64(0.0), (M, N))
            self.select = np.broadcast_to(np.True_, (M, N))
        from .. import iv as ivmod

        if iv is not None and not isinstance(iv, ivmod.IVModel):
            raise ConfigError(
                f"iv must be an xbar.iv model (Linear, Sinh, Asymmetric, Table), "
                f"got {type(iv).__name__}"
            )
        self.iv = None if iv is None or iv.is_linear else iv
        self._fresh_state()

    def _fresh_state(self) -> None:
        """Empty caches and a new lock (construction, copies and unpickling)."""
        self._cache: dict = {}  # depends on G: cleared by set_conductances
        self._static: dict = {}  # does not: wire/terminal conductances, terminal patterns
        self._version = 0  # bumped by every conductance write
        self._lock = threading.RLock()

    def _cached(self, key: str, build):
        """``self._cache[key]``, built by ``build()`` on a miss and stored only if no conductance
        write happened meanwhile (a build may release the GIL: a map of an old G is returned to
        its caller but never cached)."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            version = self._version
        value = build()
        with self._lock:
            if self._version == version:
                value = self._cache.setdefault(key, value)
        return value

    # Copies and pickles: the caches are per object (never shared, never serialised) and every
    # array keeps its read-only flag, so an in-place write cannot bypass ``set_conductances``.
    _FROZEN = ("_G", "r_wordline", "r_bitline", "r_driver", "r_sense", "r_access", "select")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for key in ("_cache", "_static", "_version", "_lock"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in self._FROZEN:
            arr = getattr(self, name)
            if arr.flags.writeable:
                arr = arr.copy()  # never freeze an array another object writes to
                arr.flags.writeable = False
                setattr(self, name, arr)
        self._fresh_state()

    @property
    def linear(self) -> bool:
        """True for linear (ohmic) cells."""
        return self.iv is None

    def cell_model(self) -> newton.CellModel:
        """The cells' I–V law with the access transistor and gates (nonlinear cells; cached
        until the conductances change), as the Newton solver evaluates it."""
        return self._cached(
            "cells", lambda: newton.CellModel(self.iv, self._G, self.r_access, self.select)
        )

    # ------------------------------------------------------------------ state
    def _set_G(self, G) -> None:
        G = np.array(as_float_array(G, "G"))  # own copy: it is frozen below
        if G.ndim != 2 or 0 in G.shape:
            raise ConfigError(f"G must be a non-empty 2-D (M, N) array, got shape {G.shape}")
        # G = 0 is an open (unformed or stuck-open) cell; a solve refuses only a set of lines
        # that open cells and floating terminals leave without any path to a source.
        check_positive(G, "G", strict=False, unit="S")
        check_conductance_magnitude(G, "G")
        self._G = G
        self._G.flags.writeable = False

    @property
    def G(self) -> np.ndarray:
        """(M, N) cell conductances, S (read-only; use ``set_conductances`` to change them)."""
        return self._G

    def set_conductances(self, G) -> None:
        """Replace the cell conductances (S); drops every cached factorisation / transfer matrix.

        Parameters
        ----------
        G : (M, N) array_like
            New cell conductances, S; must keep the crossbar's shape.
        """
        G = as_float_array(G, "G")
        if G.shape != self.shape:
            raise ConfigError(f"G must keep shape {self.shape}, got {G.shape}")
        with self._lock:
            self._set_G(G)
            self._version += 1
            self._cache.clear()

    @property
    def shape(self) -> tuple[int, int]:
        """(M, N): word lines (rows), bit lines (columns)."""
        return self._G.shape

    def __repr__(self) -> str:
        M, N = self.shape
        return (
            f"Crossbar({M}x{N}, cell={self.cell!r}, iv={self.iv!r}, G in [{self._G.min():.3g}, "
            f"{self._G.max():.3g}] S, r_wordline~{self.r_wordline.mean() if self.r_wordline.size else 0:.3g} "
            f"ohm, r_bitline~{self.r_bitline.mean() if self.r_bitline.size else 0:.3g} ohm)"
        )

    def network(self) -> NodalNetwork:
        """The network's conductances (S), with the access transistor and gates folded in."""
        return self._cached("net", self._build_network)

    def _build_network(self) -> NodalNetwork:
        G = self._G
        if self.cell == "0T1R":
            gc = G  # read-only; nothing in series, every cell on
        else:
            gc = np.where(self.select, series_conductance(G, self.r_access), 0.0)
        if "wires" not in self._static:
            self._static["wires"] = tuple(
                _conductance(r)
                for r in (self.r_wordline, self.r_bitline, self.r_driver, self.r_sense)
            )
        return NodalNetwork(gc, *self._static["wires"])

    def terminal_pattern(self, row_driven: np.ndarray, col_driven: np.ndarray) -> tuple:
        """The operator's terminal part for one pattern of driven lines (cached; independent of G).

        Parameters
        ----------
        row_driven : (M,) bool ndarray
            Word lines with a driver source (False = floating).
        col_driven : (N,) bool ndarray
            Bit lines with a terminal source (False = floating).

        Returns
        -------
        tuple
            :func:`xbar.circuit.nodal.terminal_pattern`: read-only ``(dw_extra, db_extra,
            fixed_w, fixed_b)`` (terminal conductances in S, fixed-node masks).
        """
        key = (row_driven.tobytes(), col_driven.tobytes())
        cache = self._static.setdefault("patterns", {})
        if key not in cache:
            if len(cache) >= 4 or 18 * row_driven.size * col_driven.size * len(cache) > 64 * 2**20:
                cache.clear()
            cache[key] = terminal_pattern(self.network(), row_driven, col_driven)
        return cache[key]

    # ------------------------------------------------------------------ solves
    def _terminals(self, row_voltages, col_voltages):
        M, N = self.shape
        rv = as_float_array(row_voltages, "row_voltages", allow_nan=True)
        cv = as_float_array(col_voltages, "col_voltages", allow_nan=True)
        batched = rv.ndim == 2 or cv.ndim == 2
        if rv.ndim not in (1, 2) or rv.shape[-1] != M:
            raise ConfigError(f"row_voltages must have shape ({M},) or (B, {M}), got {rv.shape}")
        if cv.ndim not in (1, 2) or cv.shape[-1] != N:
            raise ConfigError(f"col_voltages must have shape ({N},) or (B, {N}), got {cv.shape}")
        B = max(rv.shape[0] if rv.ndim == 2 else 1, cv.shape[0] if cv.ndim == 2 else 1)
        try:
            rv = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(rv), (B, M)))
            cv = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(cv), (B, N)))
        except ValueError:
            raise ConfigError(
                f"row_voltages {rv.shape} and col_voltages {cv.shape} have different batch sizes"
            ) from None
        return rv, cv, batched

    def solve(
        self,
        row_voltages,
        col_voltages,
        *,
        method: str = "auto",
        rtol: float = 1e-6,
        atol: float = 0.0,
        maxiter: int | None = None,
        on_failure: str = "raise",
    ) -> CircuitSolution:
        """Solve the network for the given terminal source voltages.

        Parameters
        ----------
        row_voltages : (M,) or (B, M) array_like
            Word-line driver source voltages, V; NaN leaves a line floating.
        col_voltages : (N,) or (B, N) array_like
            Bit-line terminal source voltages, V; NaN leaves a line floating.
        method : {"auto", "pcg", "direct"}
            Solver (see the class notes).
        rtol, atol : float
            Required accuracy of the terminal currents (an accuracy, not a residual tolerance):
            a batch item counts as converged when every row and column current's a-posteriori
            error estimate (``CircuitSolution.row_current_errors``/``col_current_errors``, A) is
            at most ``rtol·S + atol``, S being that line's gross current (the sum of its cells'
            |currents| plus its terminal conductance times |source voltage|, A).  0 < rtol < 1,
            atol >= 0 A.  The iterations always run to the rounding floor of the float64
            residual (typical estimates 1e-12–1e-10; true errors are smaller still), so rtol
            does not buy speed: it flags inputs that float64 cannot resolve to that accuracy
            (e.g. G ≳ 1e6 S next to 100 ohm terminals, or wire segments of 1e-6 ohm next to
            1e6 ohm ones), which get ``info = 3``.
        maxiter : int, optional
            CG iteration limit per item (default 20·(M+N)+200), >= 1.
        on_failure : {"raise", "warn", "ignore"}
            What a batch item that did not converge does after the whole batch is solved:
            raise ``ConvergenceError`` (its ``solution`` attribute holds the full result),
            warn (``ConvergenceWarning``), or nothing; ``converged``/``info`` say which items
            failed either way.

        Returns
        -------
        CircuitSolution
        """
        check_choice(method, "method", METHODS)
        rtol, atol, maxiter = accuracy.check_tolerances(rtol, atol, maxiter, on_failure)
        rv, cv, batched = self._terminals(row_voltages, col_voltages)
        return dispatch.solve(
            self,
            rv,
            cv,
            batched,
            method=method,
            rtol=rtol,
            atol=atol,
            maxiter=maxiter,
            on_failure=on_failure,
        )

    def with_select(self, select) -> "Crossbar":
        """A copy of this 1T1R crossbar with another gate mask.

        Parameters
        ----------
        select : (M,) or (M, N) bool array_like
            1T1R gate state of the copy (False isolates the cell).

        Returns
        -------
        Crossbar
            Same conductances (S), wires, terminals and cell model.
        """
        if self.cell != "1T1R":
            raise ConfigError("with_select applies to cell='1T1R' only")
        return Crossbar(
            self._G,
            r_wordline=self.r_wordline,
            r_bitline=self.r_bitline,
            r_driver=self.r_driver,
            r_sense=self.r_sense,
            cell="1T1R",
            r_access=self.r_access,
            select=select,
            iv=self.iv,
        )

    # ------------------------------------------------------------------ writes
    def apply_pulse(
        self,
        rows=None,
        cols=None,
        *,
        amplitude: float,
        width: float,
        polarity: int = 1,
        scheme: str = "half",
        substeps: int = 1,
        on_substep=None,
    ):
        """Apply a write pulse to the cells ``rows`` x ``cols`` and report what it did.

        Parameters
        ----------
        rows, cols : int, sequence of int or None
            Selected word and bit lines (None = all): one cell, a row, a column or a set.
        amplitude : float
            Pulse amplitude, V (> 0); the selected rows go to ``polarity·amplitude``, the selected
            columns to 0 V.
        width : float
            Pulse width, s.
        polarity : {+1, −1}
            Sign of the voltage across the selected cells (word line minus bit line); the
            integer +1 or −1 (booleans and other values are refused).
        scheme : {"half", "third", "floating", "grounded"}
            Bias of the unselected lines (V/2, V/3, left floating, at 0 V).  For 1T1R arrays only
            the selected rows' gates are opened; under ``"floating"`` an unselected word line is
            then isolated (reported with NaN node voltages, no current).
        substeps, on_substep :
            The cells' state is held fixed during the pulse unless ``on_substep(solution, dt)``
            returns new conductances (S) after each of ``substeps`` equal sub-steps.

        Returns
        -------
        xbar.circuit.write.PulseResult
            The solved operating point, per-cell voltage, charge (C) and energy (J), and the
            pulse energy split into selected / half-selected / unselected cells, access
            transistors, wires, word-line drivers and bit-line terminals (J).

        Warns (``xbar.exceptions.UnitWarning``) for a width above 1 ms or an amplitude above
        10 V, which are likelier unit slips than write pulses.
        """
        from .write import apply_pulse

        return apply_pulse(
            self,
            rows,
            cols,
            amplitude=amplitude,
            width=width,
            polarity=polarity,
            scheme=scheme,
            substeps=substeps,
            on_substep=on_substep,
        )

    def disturb_margins(self, amplitude: float, scheme: str = "half", cells="corners"):
        """Worst selected-cell voltage and worst disturb voltage of a write scheme, V.

        Parameters
        ----------
        amplitude : float
            Write pulse amplitude, V.
        scheme : {"half", "third", "floating", "grounded"}
            Bias of the unselected lines.
        cells : "corners" or sequence of (int, int)
            Candidate selected cells (default: the four corners).

        Returns
        -------
        xbar.circuit.write.DisturbMargins
        """
        from .write import disturb_margins

        return disturb_margins(self, amplitude, scheme, cells)

    # ------------------------------------------------------------------ reads
    def _read_inputs(self, v) -> tuple[np.ndarray, bool]:
        M = self.shape[0]
        v = as_float_array(v, "v")
        if v.ndim not in (1, 2) or v.shape[-1] != M:
            raise ConfigError(f"v must have shape ({M},) or (B, {M}), got {v.shape}")
        return np.atleast_2d(v), v.ndim == 2

    def read(
        self,
        v,
        *,
        method: str = "auto",
        rtol: float = 1e-6,
        atol: float = 0.0,
        maxiter: int | None = None,
        on_failure: str = "raise",
    ) -> np.ndarray:
        """Matrix-vector read: ``v`` (V) on the drivers, every bit line held at 0 V.

        Parameters
        ----------
        v : (M,) or (B, M) array_like
            Driver source voltages, V (finite).
        method : {"auto", "pcg", "direct", "transfer"}
            ``"auto"`` uses the cached transfer matrix when it exists or the batch has at least
            ``xbar.circuit.cost.transfer_break_even(M, N)`` = min(M, N)/3 inputs (where
            building it pays off), PCG otherwise.
        rtol, atol, maxiter, on_failure :
            As in :meth:`solve`: ``rtol`` (0 < rtol < 1) and ``atol`` (A, >= 0) are the required
            accuracy of each column current relative to its column's gross cell current, by the
            a-posteriori estimate; a failing item raises ``ConvergenceError`` (default), warns
            or is ignored.  Reads through the transfer matrix are exact products and are not
            re-checked.

        Returns
        -------
        (N,) or (B, N) ndarray
            Column currents into the sense terminals, A.
        """
        check_choice(method, "method", READ_METHODS)
        rtol, atol, maxiter = accuracy.check_tolerances(rtol, atol, maxiter, on_failure)
        V, batched = self._read_inputs(v)
        return dispatch.read(
            self,
            V,
            batched,
            method=method,
            rtol=rtol,
            atol=atol,
            maxiter=maxiter,
            on_failure=on_failure,
        )

    def read_power(self, v, *, method: str = "auto") -> PowerBreakdown:
        """Power (W) dissipated during a read of ``v`` (V), by part, from the solved network.

        Parameters
        ----------
        v : (M,) or (B, M) array_like
            Driver source voltages, V (bit lines at 0 V).
        method : {"auto", "pcg", "direct"}
            Solver.

        Returns
        -------
        PowerBreakdown
            Floats (W) for one input, (B,) arrays for a batch.
        """
        V, batched = self._read_inputs(v)
        p = self.solve(V, np.zeros((V.shape[0], self.shape[1])), method=method).power
        return p if batched else p.item(0)

    def ideal_read(self, v) -> np.ndarray:
        """The ideal read ``v @ G_cell`` (A): no wires, no terminal resistance, for comparison.

        ``G_cell`` is each cell's conductance as the lines see it (S): ``G`` for passive cells;
        for 1T1R cells the memristor in series with its access transistor,
        ``G / (1 + G·r_access)``, and 0 where the gate is off.

        Parameters
        ----------
        v : (M,) or (B, M) array_like
            Driver voltages, V.

        Returns
        -------
        (N,) or (B, N) ndarray
            Column currents, A.
        """
        V, batched = self._read_inputs(v)
        out = V @ self.network().gc
        return out if batched else out[0]

    def port_admittance(self, *, method: str = "auto") -> np.ndarray:
        """Driver admittance ``Y`` (M, M), A/V: ``I_row = Y @ V_row`` in a read (bit lines at 0 V).

        Symmetric positive definite; the power a read draws from the drivers is ``v @ Y @ v`` (W).
        Built with the transfer matrix (one column sweep of ``xbar.circuit.transfer``, or M
        unit-row solves, whichever the cost model of ``method="auto"`` expects to be faster;
        ``"pcg"``/``"direct"`` force the solves) and cached.

        Parameters
        ----------
        method : {"auto", "pcg", "direct"}
            How the map is built (see above).

        Returns
        -------
        (M, M) ndarray
            ``Y``, A/V (read-only).
        """
        with self._lock:
            if "Y" in self._cache:
                return self._cache["Y"]
            version = self._version
        if not self.linear:
            raise ConfigError("the port admittance exists for linear cells only")
        check_choice(method, "method", METHODS)
        maps.check_map_fits(*self.shape, admittance=True)
        T, Y = maps.build_maps(self, method)
        with self._lock:
            if self._version == version:  # built from the present G (see ``_cached``)
                self._cache.setdefault("T", T)
                Y = self._cache.setdefault("Y", Y)
        return Y

    def transfer_matrix(self, *, method: str = "auto", chunk: int | None = None) -> np.ndarray:
        """Exact read map ``T`` (N, M), A/V: ``read(v) == v @ T.T`` for fixed G, bit lines at 0 V.

        ``method="auto"`` uses the exact block sweep of ``xbar.circuit.transfer`` (Cython and
        LAPACK, ``(7/3)·n·m³ + M²N²`` flops with ``m = min(M, N)`` nodes per front and ``n`` the
        other side) when the terminals are resistive, the wires are not ideal and a cost model
        expects it to beat unit solves; otherwise,
        or with ``method="pcg"``/``"direct"``, it uses min(M, N) unit-excitation solves (rows
        driven one at a time, or — fewer when N < M — columns, by reciprocity of the resistive
        network: ``T[j, i] = −I_row[i]`` when column j alone is at 1 V).  Cached until the
        conductances change.

        Parameters
        ----------
        method : {"auto", "pcg", "direct"}
            How the map is built (see above).
        chunk : int, optional
            Unit excitations per batched solve (default: ~256 MB of problem vectors).

        Returns
        -------
        (N, M) ndarray
            ``T``, A/V (read-only).
        """
        with self._lock:
            if "T" in self._cache:
                return self._cache["T"]
        if not self.linear:
            raise ConfigError("the transfer matrix exists for linear cells only")
        maps.check_map_fits(*self.shape, admittance=False)
        return self._cached("T", lambda: maps.build_transfer(self, method, chunk))

    def has_transfer_matrix(self) -> bool:
        """True when the transfer matrix of the present conductances is cached (a read through
        it costs one product)."""
        return "T" in self._cache
