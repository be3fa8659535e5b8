"""The crossbar array as a resistive circuit, and its solvers."""
from __future__ import annotations

import os
import threading

import numpy as np

from .._kernels import _line_pcg
from .._validation import as_float_array, check_choice, check_positive, check_scalar
from ..exceptions import ConfigError, ConvergenceError
from . import direct, newton, transfer
from .network import Network, build_problem, check_connected, node_imbalance, terminal_pattern
from .solution import CircuitSolution, PowerBreakdown

CELLS = ("0T1R", "1T1R")
METHODS = ("auto", "pcg", "direct")
READ_METHODS = ("auto", "pcg", "direct", "transfer")


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
        return 1.0 / r          # r = 0 -> inf (ideal connection)


def _series(G: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Conductance (S) of a cell ``G`` (S) in series with an access resistance ``r`` (ohm)."""
    with np.errstate(divide="ignore"):
        return G / (1.0 + G * r)


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
            raise ConfigError(f"select must be a boolean mask (True = gate on, or 0/1), got "
                              f"dtype {raw.dtype} with value {bad!r}")
    if sel.shape == (M,):
        sel = np.repeat(sel[:, None], N, axis=1)
    if sel.shape != (M, N):
        raise ConfigError(f"select must have shape ({M},) or ({M}, {N}), got {sel.shape}")
    sel.flags.writeable = False
    return sel


def _num_threads(batch: int) -> int:
    """Threads for a batch: one right-hand side per thread.  A single right-hand side runs on one
    thread unless ``XBAR_NUM_THREADS`` asks for more (sharing each iteration pays off only on an
    otherwise idle machine)."""
    env = os.environ.get("XBAR_NUM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(os.cpu_count() or 1, batch))


class Crossbar:
    """An M x N memristor crossbar as a resistive network.

    Word line i (row, input) runs from its driver — an ideal source ``V_row[i]`` behind
    ``r_driver`` — through N−1 segments ``r_wordline``; its far end is open.  Bit line j (column,
    output) runs through M−1 segments ``r_bitline`` to its terminal: ``r_sense`` then an ideal source
    ``V_col[j]`` (0 V = the TIA's virtual ground).  Cell (i, j) joins ``w[i, j]`` to ``b[i, j]``.

    Parameters
    ----------
    G : (M, N) array_like
        Cell conductances, S (> 0).
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

    def __init__(self, G, *, r_wordline=0.0, r_bitline=0.0, r_driver=0.0, r_sense=0.0,
                 cell: str = "0T1R", r_access=None, select=None, iv=None):
        self._set_G(G)
        M, N = self.shape
        self.r_wordline = _resistance(r_wordline, "r_wordline", (M, max(N - 1, 0)))
        self.r_bitline = _resistance(r_bitline, "r_bitline", (max(M - 1, 0), N))
        self.r_driver = _resistance(r_driver, "r_driver", (M,))
        self.r_sense = _resistance(r_sense, "r_sense", (N,))
        self.cell = check_choice(cell, "cell", CELLS)
        if cell == "1T1R":
            if r_access is None:
                raise ConfigError("cell='1T1R' needs r_access (access transistor on-resistance, ohm)")
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
            raise ConfigError(f"iv must be an xbar.iv model (Linear, Sinh, Asymmetric, Table), "
                              f"got {type(iv).__name__}")
        self.iv = None if iv is None or iv.is_linear else iv
        self._fresh_state()

    def _fresh_state(self) -> None:
        """Empty caches and a new lock (construction, copies and unpickling)."""
        self._cache: dict = {}       # depends on G: cleared by set_conductances
        self._static: dict = {}      # does not: wire/terminal conductances, terminal patterns
        self._version = 0            # bumped by every conductance write
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
                arr = arr.copy()          # never freeze an array another object writes to
                arr.flags.writeable = False
                setattr(self, name, arr)
        self._fresh_state()

    @property
    def linear(self) -> bool:
        """True for linear (ohmic) cells."""
        return self.iv is None

    def _cells(self) -> newton.CellModel:
        return self._cached("cells", lambda: newton.CellModel(self.iv, self._G, self.r_access,
                                                              self.select))

    # ------------------------------------------------------------------ state
    def _set_G(self, G) -> None:
        G = np.array(as_float_array(G, "G"))          # own copy: it is frozen below
        if G.ndim != 2 or 0 in G.shape:
            raise ConfigError(f"G must be a non-empty 2-D (M, N) array, got shape {G.shape}")
        check_positive(G, "G", unit="S")
        self._G = G
        self._G.flags.writeable = False

    @property
    def G(self) -> np.ndarray:
        """(M, N) cell conductances, S (read-only; use ``set_conductances`` to change them)."""
        return self._G

    def set_conductances(self, G) -> None:
        """Replace the cell conductances (S); drops every cached factorisation / transfer matrix."""
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
        return (f"Crossbar({M}x{N}, cell={self.cell!r}, iv={self.iv!r}, G in [{self._G.min():.3g}, "
                f"{self._G.max():.3g}] S, r_wordline~{self.r_wordline.mean() if self.r_wordline.size else 0:.3g} "
                f"ohm, r_bitline~{self.r_bitline.mean() if self.r_bitline.size else 0:.3g} ohm)")

    def network(self) -> Network:
        """The network's conductances (S), with the access transistor and gates folded in."""
        return self._cached("net", self._build_network)

    def _build_network(self) -> Network:
        G = self._G
        if self.cell == "0T1R":
            gc = G                           # read-only; nothing in series, every cell on
        else:
            gc = np.where(self.select, _series(G, self.r_access), 0.0)
        if "wires" not in self._static:
            self._static["wires"] = tuple(
                _conductance(r) for r in (self.r_wordline, self.r_bitline, self.r_driver,
                                          self.r_sense))
        return Network(gc, *self._static["wires"])

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
            raise ConfigError(f"row_voltages {rv.shape} and col_voltages {cv.shape} have different "
                              "batch sizes") from None
        return rv, cv, batched

    def _solve_nodes(self, rv: np.ndarray, cv: np.ndarray, method: str, rtol: float,
                     atol: float, maxiter: int | None, scratch: bool = False):
        """Node voltages for terminal voltages (B, M), (B, N), one NaN pattern at a time.

        Yields ``(batch indices, problem, w, b, CG iterations, method, Newton steps)``.  With
        ``scratch`` the problem and node voltages live in reused scratch memory, valid only until
        the generator resumes (the caller copies out what it needs).
        """
        net = self.network()
        M, N = self.shape
        check_connected(net, ~np.isnan(rv), ~np.isnan(cv))
        if method == "pcg" and net.ideal_wires:
            raise ConfigError("method='pcg' needs every wire segment > 0 ohm; zero-resistance "
                              "wires are solved with method='direct' (or 'auto')")
        use_direct = method == "direct" or (method == "auto" and net.ideal_wires)
        n_newton = 0
        if maxiter is None:
            maxiter = 20 * (M + N) + 200
        if rv.shape[0] == 1:
            group = np.zeros(1, dtype=int)
        else:
            pattern = np.concatenate([np.isnan(rv), np.isnan(cv)], axis=1)
            group = np.unique(pattern, axis=0, return_inverse=True)[1].ravel()
        for g in np.unique(group):
            idx = np.flatnonzero(group == g)
            size = idx.size * 2 * M * N
            buffers = (_line_pcg._take(size), _line_pcg._take(size)) if scratch else None
            prob = build_problem(net, rv[idx], cv[idx],
                                 self._terminal_pattern(net, rv[idx[0]], cv[idx[0]]), buffers)
            if use_direct:
                X = direct.solve(net, prob)
                iters = np.zeros(idx.size, dtype=int)
                used = "direct"
                if not self.linear:
                    n_newton, iters, _ = newton.solve(net, prob, self._cells(), X,
                                                      rtol=max(rtol, 1e-13), atol=atol,
                                                      maxiter=maxiter or 1)
                    used = "newton-direct"
            else:
                X = prob.x                   # the start; overwritten with the solution
                gw = net.gw if N > 1 else np.ones((M, 1))
                gb = net.gb if M > 1 else np.ones((1, N))
                status, iters, resid, scale = _line_pcg.solve(
                    net.gc, np.ascontiguousarray(gw), np.ascontiguousarray(gb),
                    prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b, prob.f, X,
                    float(rtol), float(atol), int(maxiter), _num_threads(idx.size))
                bad = np.flatnonzero(status != 0)
                if bad.size:
                    k = int(bad[0])
                    why = ("iteration limit reached" if status[k] == 1 else
                           "breakdown: the nodal matrix is not positive definite (floating "
                           "sub-network or invalid conductances)")
                    raise ConvergenceError(
                        f"line-preconditioned CG did not converge for batch item {int(idx[k])}: "
                        f"{why} after {int(iters[k])} iterations, residual {resid[k]:.3e} A "
                        f"(tolerance max(rtol*{scale[k]:.3e}, atol) with rtol={rtol}, atol={atol})",
                        iterations=int(iters[k]), residual=float(resid[k]))
                used = "pcg"
                if not self.linear:
                    n_newton, iters, _ = newton.solve(net, prob, self._cells(), X,
                                                      rtol=max(rtol, 1e-13), atol=atol,
                                                      maxiter=maxiter,
                                                      num_threads=_num_threads(idx.size))
                    used = "newton-pcg"
            X = X.reshape(idx.size, 2, M, N)
            yield idx, prob, X[:, 0], X[:, 1], np.asarray(iters), used, n_newton
            if buffers is not None:
                for buf in buffers:
                    _line_pcg._give(buf)

    def _terminal_pattern(self, net: Network, rv: np.ndarray, cv: np.ndarray) -> tuple:
        """Cached :func:`~xbar.circuit.network.terminal_pattern` for the NaN pattern of rv, cv."""
        rdrv, cdrv = ~np.isnan(rv), ~np.isnan(cv)
        key = (rdrv.tobytes(), cdrv.tobytes())
        cache = self._static.setdefault("patterns", {})
        if key not in cache:
            if len(cache) >= 4 or 18 * rv.size * cv.size * len(cache) > 64 * 2 ** 20:
                cache.clear()
            cache[key] = terminal_pattern(net, rdrv, cdrv)
        return cache[key]

    def solve(self, row_voltages, col_voltages, *, method: str = "auto", rtol: float = 1e-15,
              atol: float = 0.0, maxiter: int | None = None) -> CircuitSolution:
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
            PCG stops when the recomputed residual ``||f − A x||₂ <= max(rtol·||f||₂, atol)`` (A),
            or when it reaches its own rounding floor ``4·eps·||diag(A)∘x||₂``.  The default
            converges to that floor (column currents exact to ~1e-12 relative whatever the
            terminal strength; it costs at most one more iteration than rtol = 1e-12).  Newton
            (nonlinear cells) stops at ``max(rtol, 1e-13)·||F(x_fixed)||₂``.
        maxiter : int, optional
            PCG iteration limit (default 20·(M+N)+200); exceeding it raises ``ConvergenceError``.

        Returns
        -------
        CircuitSolution
        """
        check_choice(method, "method", METHODS)
        check_scalar(rtol, "rtol", low=0.0)
        check_scalar(atol, "atol", low=0.0, unit="A")
        if maxiter is not None:
            check_scalar(maxiter, "maxiter", low=1, integer=True)
        rv, cv, batched = self._terminals(row_voltages, col_voltages)
        B = rv.shape[0]
        M, N = self.shape
        net = self.network()
        w = np.empty((B, M, N)); b = np.empty((B, M, N))
        iters = np.zeros(B, dtype=int); resid = np.zeros(B)
        used = set()
        newton_iters = np.zeros(B, dtype=int)
        # Nonlinear cells: their currents and memristor voltages, evaluated once per solve (for
        # 1T1R cells every evaluation is an inner solve of each series cell).
        cells = None if self.linear else (np.empty((B, M, N)), np.empty((B, M, N)))
        for idx, prob, wg, bg, it, how, nn in self._solve_nodes(rv, cv, method, rtol, atol,
                                                                 maxiter):
            w[idx], b[idx], iters[idx], newton_iters[idx] = wg, bg, it, nn
            i_cell = None
            if cells is not None:
                i_cell, _, cells[1][idx] = self._cells().evaluate(wg - bg)
                cells[0][idx] = i_cell
            resid[idx] = node_imbalance(net, prob, wg, bg, i_cell)
            used.add(how)
        sol = self._assemble_solution(w, b, rv, cv, iters, resid, used.pop(), newton_iters,
                                      cells)
        return sol if batched else _unbatch(sol)

    def _assemble_solution(self, w, b, rv, cv, iters, resid, method, newton_iters,
                           cells=None) -> CircuitSolution:
        """Currents and power from node voltages; ``cells`` = (I, V_memristor) of nonlinear cells."""
        net = self.network()
        M, N = self.shape
        drop = w - b
        if cells is None:
            i_cell = net.gc * drop
            with np.errstate(invalid="ignore", divide="ignore"):
                v_cell = (np.where(net.gc > 0, i_cell / self._G, 0.0) if self.cell == "1T1R"
                          else drop)
        else:
            i_cell, v_cell = cells
        rdrv = ~np.isnan(rv); cdrv = ~np.isnan(cv)
        rv0 = np.where(rdrv, rv, 0.0); cv0 = np.where(cdrv, cv, 0.0)
        gd = np.where(np.isinf(net.g_driver), 0.0, net.g_driver)
        gs = np.where(np.isinf(net.g_sense), 0.0, net.g_sense)
        # Terminal currents: through the terminal resistor, or by KCL over the whole line when the
        # source is tied to it (a word line connects only to its driver and its cells).
        i_row = np.where(np.isinf(net.g_driver), i_cell.sum(axis=2), gd * (rv0 - w[:, :, 0]))
        i_row = np.where(rdrv, i_row, 0.0)
        i_col = self._col_currents(i_cell, b, cv)
        gw = np.where(np.isinf(net.gw), 0.0, net.gw)
        gb = np.where(np.isinf(net.gb), 0.0, net.gb)
        p_wires = ((gw * np.diff(w, axis=2) ** 2).sum(axis=(1, 2))
                   + (gb * np.diff(b, axis=1) ** 2).sum(axis=(1, 2)))
        power = PowerBreakdown(
            cells=(i_cell * v_cell).sum(axis=(1, 2)),
            access=(i_cell * (drop - v_cell)).sum(axis=(1, 2)),
            wires=p_wires,
            drivers=(np.where(rdrv, gd * (rv0 - w[:, :, 0]) ** 2, 0.0)).sum(axis=1),
            sense=(np.where(cdrv, gs * (b[:, M - 1, :] - cv0) ** 2, 0.0)).sum(axis=1),
            supplied=(rv0 * i_row).sum(axis=1) - (cv0 * i_col).sum(axis=1),
        )
        return CircuitSolution(w, b, rv, cv, i_cell, v_cell, i_row, i_col, power, iters, resid,
                               method, newton_iters)

    def _col_currents(self, i_cell, b, cv) -> np.ndarray:
        """(B, N) current out of each bit line into its terminal, A."""
        net = self.network()
        cdrv = ~np.isnan(cv)
        ideal = np.isinf(net.g_sense)
        gs = np.where(ideal, 0.0, net.g_sense)
        i_col = gs * (b[:, -1, :] - np.where(cdrv, cv, 0.0))
        if ideal.any():
            i_col = np.where(ideal, i_cell.sum(axis=1), i_col)
        return np.where(cdrv, i_col, 0.0)

    def with_select(self, select) -> "Crossbar":
        """A copy of this 1T1R crossbar with another gate mask ((M,) or (M, N) bool)."""
        if self.cell != "1T1R":
            raise ConfigError("with_select applies to cell='1T1R' only")
        return Crossbar(self._G, r_wordline=self.r_wordline, r_bitline=self.r_bitline,
                        r_driver=self.r_driver, r_sense=self.r_sense, cell="1T1R",
                        r_access=self.r_access, select=select, iv=self.iv)

    # ------------------------------------------------------------------ writes
    def apply_pulse(self, rows=None, cols=None, *, amplitude: float, width: float,
                    polarity: int = 1, scheme: str = "half", substeps: int = 1, on_substep=None):
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
        return apply_pulse(self, rows, cols, amplitude=amplitude, width=width,
                           polarity=polarity, scheme=scheme, substeps=substeps,
                           on_substep=on_substep)

    def disturb_margins(self, amplitude: float, scheme: str = "half", cells="corners"):
        """Worst selected-cell voltage and worst disturb voltage of a write scheme, V."""
        from .write import disturb_margins
        return disturb_margins(self, amplitude, scheme, cells)

    # ------------------------------------------------------------------ reads
    def _read_inputs(self, v) -> tuple[np.ndarray, bool]:
        M = self.shape[0]
        v = as_float_array(v, "v")
        if v.ndim not in (1, 2) or v.shape[-1] != M:
            raise ConfigError(f"v must have shape ({M},) or (B, {M}), got {v.shape}")
        return np.atleast_2d(v), v.ndim == 2

    def read(self, v, *, method: str = "auto", rtol: float = 1e-15) -> np.ndarray:
        """Matrix-vector read: ``v`` (V) on the drivers, every bit line held at 0 V.

        Parameters
        ----------
        v : (M,) or (B, M) array_like
            Driver source voltages, V (finite).
        method : {"auto", "pcg", "direct", "transfer"}
            ``"auto"`` uses the cached transfer matrix when it exists or the batch has at least
            min(M, N)/3 inputs (where building it pays off), PCG otherwise.

        Returns
        -------
        (N,) or (B, N) ndarray
            Column currents into the sense terminals, A.
        """
        check_choice(method, "method", READ_METHODS)
        V, batched = self._read_inputs(v)
        if method == "transfer" and not self.linear:
            raise ConfigError("method='transfer' needs linear cells (the read map of nonlinear "
                              "cells is not a matrix)")
        if method == "auto" and self.linear:
            # The map costs about as much as min(M, N)/3 single reads (block sweep, measured).
            big = V.shape[0] >= max(1, min(self.shape) // 3)
            method = "transfer" if ("T" in self._cache or big) else "auto"
        if method == "transfer":
            out = V @ self.transfer_matrix().T
        else:
            C = np.zeros((V.shape[0], self.shape[1]))
            out = np.empty_like(C)
            net = self.network()
            ideal_sense = bool(np.isinf(net.g_sense).any())
            for idx, _, w, b, _, _, _ in self._solve_nodes(V, C, method, rtol, 0.0, None,
                                                           scratch=True):
                # Cell currents only where a bit line meets its source without a resistor.
                i_cell = (None if not ideal_sense else net.gc * (w - b) if self.linear
                          else self._cells().evaluate(w - b)[0])
                out[idx] = self._col_currents(i_cell, b, C[idx])
        return out if batched else out[0]

    def read_power(self, v, *, method: str = "auto") -> PowerBreakdown:
        """Power (W) dissipated during a read of ``v`` (V), by part, from the solved network."""
        V, batched = self._read_inputs(v)
        p = self.solve(V, np.zeros((V.shape[0], self.shape[1])), method=method).power
        return p if batched else p.item(0)

    def ideal_read(self, v) -> np.ndarray:
        """The ideal read ``v @ G_cell`` (A): no wires, no terminal resistance, for comparison.

        ``G_cell`` is each cell's conductance as the lines see it (S): ``G`` for passive cells;
        for 1T1R cells the memristor in series with its access transistor,
        ``G / (1 + G·r_access)``, and 0 where the gate is off.
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
        """
        with self._lock:
            if "Y" in self._cache:
                return self._cache["Y"]
            version = self._version
        if not self.linear:
            raise ConfigError("the port admittance exists for linear cells only")
        check_choice(method, "method", METHODS)
        if method == "auto" and self._sweep_applies(admittance=True):
            T, Y = transfer.transfer_rows(self.network(), admittance=True)
        else:
            T, Y = self._unit_solves(rows=True, method=method)
        for arr in (T, Y):
            arr.flags.writeable = False
        with self._lock:
            if self._version == version:     # built from the present G (see ``_cached``)
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
        """
        with self._lock:
            if "T" in self._cache:
                return self._cache["T"]
        if not self.linear:
            raise ConfigError("the transfer matrix exists for linear cells only")

        def build() -> np.ndarray:
            M, N = self.shape
            net = self.network()
            if method == "auto" and self._sweep_applies():
                T = transfer.transfer_rows(net)
            else:
                T = self._unit_solves(rows=M <= N, method=method, chunk=chunk)[0]
            T.flags.writeable = False
            return T
        return self._cached("T", build)

    def _sweep_applies(self, admittance: bool = False) -> bool:
        """Whether the map sweep is cheaper than unit-excitation solves (and fits in memory).

        Calibrated on back-to-back timings on the 2-core EPYC (one BLAS thread for the sweep,
        batched PCG on both cores; G ~ U[1, 100] µS, 2.5 ohm wires, 100 ohm terminals): the sweep
        (``transfer.sweep_flops``) ran at 6, 12, 18, 23 and 23 GFLOP/s with fronts of 32, 64, 128,
        256 and 512 nodes (32²: 0.6 ms, 64²: 4.6 ms, 128x72: 24 ms, 128²: 47 ms, 256²: 0.62 s,
        512²: 10 s with Y; the final kernel, timed at load 2 with 1 ohm wires: 64² 5.4 ms,
        128x72 24 ms, 128² 49 ms, 256² 0.77 s), modelled as ``24e9·m/(m + 64)`` flop/s for a
        front of m nodes; a batched PCG unit solve cost 1.4e-7–2.8e-7 s per node on two cores
        (4.9e-7 at 512²), modelled as 4.5e-7 s per node and core.  T needs min(M, N) solves, Y
        needs M.
        """
        M, N = self.shape
        if not transfer.supported(self.network()):
            return False
        front = transfer.front_nodes(M, N, admittance)
        sweep_s = transfer.sweep_flops(M, N, admittance) / (24e9 * front / (front + 64))
        solves = M if admittance else min(M, N)
        pcg_s = solves * M * N * 4.5e-7 / min(2, os.cpu_count() or 1)
        memory = 8.0 * (4 * front ** 2 + 2 * M * N)
        return sweep_s <= pcg_s and memory <= 4e9

    def _unit_solves(self, rows: bool, method: str = "auto", chunk: int | None = None):
        """T (N, M), and Y (M, M) when ``rows``, from unit excitations of the rows or columns.

        Column excitations give T by reciprocity, ``T[j, i] = −I_row[i]`` (column j at 1 V).
        """
        M, N = self.shape
        n = M if rows else N
        if chunk is None:
            chunk = max(1, min(n, int(256e6 // (8 * 2 * M * N * 4))))
        T = np.empty((N, M))
        Y = np.empty((M, M)) if rows else None
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            eye = np.zeros((e - s, n))
            eye[np.arange(e - s), np.arange(s, e)] = 1.0
            if rows:
                sol = self.solve(eye, np.zeros((e - s, N)), method=method)
                T[:, s:e] = sol.col_currents.T
                Y[:, s:e] = sol.row_currents.T
            else:
                sol = self.solve(np.zeros((e - s, M)), eye, method=method)
                T[s:e, :] = -sol.row_currents
        return T, Y


def _unbatch(sol: CircuitSolution) -> CircuitSolution:
    def first(x):
        return x[0] if isinstance(x, np.ndarray) and x.ndim else x
    return CircuitSolution(
        first(sol.v_wordline), first(sol.v_bitline), first(sol.row_voltages),
        first(sol.col_voltages), first(sol.cell_currents), first(sol.cell_voltages),
        first(sol.row_currents), first(sol.col_currents), sol.power.item(0), int(sol.iterations[0]),
        float(sol.residual[0]), sol.method, int(sol.newton_iterations[0]))
