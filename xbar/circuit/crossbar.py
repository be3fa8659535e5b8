"""The crossbar array as a resistive circuit, and its solvers."""
from __future__ import annotations

import dataclasses
import os
import threading

import numpy as np

from .._kernels import _line_pcg
from .._validation import (as_float_array, check_choice, check_conductance_magnitude,
                           check_positive, check_scalar)
from ..exceptions import (ON_FAILURE, ConfigError, ConvergenceError, handle_failure)
from . import direct, memory, newton, transfer
from .network import (Network, Problem, build_problem, check_connected, current_errors,
                      terminal_pattern)
from .solution import INFO, CircuitSolution, PowerBreakdown

CELLS = ("0T1R", "1T1R")
#: Residual targets of the iterations: PCG runs to the rounding floor of its residual (this
#: relative tolerance is below it); Newton stops at this fraction of its initial residual.
_PCG_RTOL = 1e-15
_NEWTON_RTOL = 1e-13
#: A read's problem vectors (4·M·N doubles per input) are built for this many bytes of inputs at
#: a time.
_READ_CHUNK_BYTES = 256e6
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


_CPUS = os.cpu_count() or 1          # os.cpu_count() costs ~0.5 ms on these VMs


def _num_threads(batch: int) -> int:
    """Threads for a batch: one right-hand side per thread.  A single right-hand side runs on one
    thread unless ``XBAR_NUM_THREADS`` asks for more (sharing each iteration pays off only on an
    otherwise idle machine)."""
    env = os.environ.get("XBAR_NUM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(_CPUS, batch))


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
        stiffness float64 cannot resolve (``CircuitSolution.info == 3``).
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

    def _solve_nodes(self, rv: np.ndarray, cv: np.ndarray, method: str, maxiter: int | None,
                     scratch: bool = False):
        """Node voltages for terminal voltages (B, M), (B, N), one NaN pattern at a time.

        Yields ``(batch indices, problem, w, b, CG iterations, method, Newton steps, status,
        errors)``: ``status`` per item is an ``INFO`` code of the iteration itself (the accuracy
        test is the caller's), ``errors`` the kernel's (B, 2, N) column error estimates and gross
        currents for linear PCG solves (None otherwise).  Iterations always run to the rounding
        floor of the residual.  With ``scratch`` the problem and node voltages live in reused
        scratch memory, valid only until the generator resumes (the caller copies out what it
        needs).
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
            buffers = (_line_pcg.take(size), _line_pcg.take(size)) if scratch else None
            prob = build_problem(net, rv[idx], cv[idx],
                                 self._terminal_pattern(net, rv[idx[0]], cv[idx[0]]), buffers)
            errors = None
            if use_direct:
                X = direct.solve(net, prob)
                iters = np.zeros(idx.size, dtype=int)
                status = np.where(np.isfinite(X).all(axis=1), 0, -1)
                used = "direct"
                if not self.linear:
                    n_newton, iters, _, status = newton.solve(
                        net, prob, self._cells(), X, rtol=_NEWTON_RTOL, atol=0.0,
                        maxiter=maxiter)
                    used = "newton-direct"
            else:
                X = prob.x                   # the start; overwritten with the solution
                fixed_idx = np.flatnonzero(np.concatenate([prob.fixed_w.ravel(),
                                                           prob.fixed_b.ravel()]))
                fixed_val = X[:, fixed_idx].copy()   # the sources, for a direct fallback
                gw = net.gw if N > 1 else np.ones((M, 1))
                gb = net.gb if M > 1 else np.ones((1, N))
                status, iters, _, _, errors = _line_pcg.solve(
                    net.gc, np.ascontiguousarray(gw), np.ascontiguousarray(gb),
                    prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b, prob.f, X,
                    _PCG_RTOL, 0.0, int(maxiter), _num_threads(idx.size))
                status = np.asarray(status, dtype=int)
                # A breakdown or a non-finite iterate (pivots lost to cancellation next to
                # stiff wires): the sparse direct solver takes those items under "auto".
                bad = (status == -1) | ~np.isfinite(X).all(axis=1)
                status[bad] = -1
                if bad.any() and method == "auto":
                    x_bad = X[bad]
                    x_bad[:, fixed_idx] = fixed_val[bad]
                    sub = Problem(prob.dw_extra, prob.db_extra, prob.fixed_w, prob.fixed_b,
                                  prob.f[bad], x_bad)
                    X[bad] = direct.solve(net, sub)
                    status[bad] = np.where(np.isfinite(X[bad]).all(axis=1), 0, -1)
                    errors = None            # estimates are recomputed for the whole group
                used = "pcg"
                if not self.linear:
                    n_newton, iters, _, st = newton.solve(
                        net, prob, self._cells(), X, rtol=_NEWTON_RTOL, atol=0.0,
                        maxiter=maxiter, num_threads=_num_threads(idx.size))
                    status = np.where(status == 0, st, status)
                    errors = None
                    used = "newton-pcg"
            X = X.reshape(idx.size, 2, M, N)
            yield idx, prob, X[:, 0], X[:, 1], np.asarray(iters), used, n_newton, status, errors
            if buffers is not None:
                for buf in buffers:
                    _line_pcg.give(buf)

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

    def solve(self, row_voltages, col_voltages, *, method: str = "auto", rtol: float = 1e-6,
              atol: float = 0.0, maxiter: int | None = None,
              on_failure: str = "raise") -> CircuitSolution:
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
        rtol, atol, maxiter = _check_tolerances(rtol, atol, maxiter, on_failure)
        rv, cv, batched = self._terminals(row_voltages, col_voltages)
        B = rv.shape[0]
        M, N = self.shape
        net = self.network()
        memory.check_fits(f"a solve of {B} item(s) on a {M}x{N} array",
                          memory.solve_bytes(M, N, B, _num_threads(B), full=True,
                                             direct=method == "direct" or net.ideal_wires),
                          "solve fewer items at a time, or use read() for column currents")
        w = np.empty((B, M, N)); b = np.empty((B, M, N))
        iters = np.zeros(B, dtype=int); resid = np.zeros(B)
        status = np.zeros(B, dtype=int)
        row_err = np.zeros((B, M)); col_err = np.zeros((B, N))
        used = set()
        newton_iters = np.zeros(B, dtype=int)
        # Nonlinear cells: their currents and memristor voltages, evaluated once per solve (for
        # 1T1R cells every evaluation is an inner solve of each series cell).
        cells = None if self.linear else (np.empty((B, M, N)), np.empty((B, M, N)))
        for idx, prob, wg, bg, it, how, nn, st, _ in self._solve_nodes(rv, cv, method,
                                                                        maxiter):
            w[idx], b[idx], iters[idx], newton_iters[idx], status[idx] = wg, bg, it, nn, st
            i_cell = g_cell = None
            if cells is not None:
                i_cell, g_cell, cells[1][idx] = self._cells().evaluate(wg - bg)
                cells[0][idx] = i_cell
            row_err[idx], col_err[idx], resid[idx] = current_errors(net, prob, wg, bg, i_cell,
                                                                    g_cell)
            used.add(how)
        sol = self._assemble_solution(w, b, rv, cv, iters, resid, used.pop(), newton_iters,
                                      cells)
        rel, ok = self._accuracy(sol, row_err, col_err, rv, cv, rtol, atol)
        info = _info(status, ok)
        sol = dataclasses.replace(sol, row_current_errors=row_err, col_current_errors=col_err,
                                  error_estimate=rel, info=info)
        _report(sol, on_failure, rtol, atol, lambda: self._stiffness(rv, cv))
        return sol if batched else _unbatch(sol)

    def _accuracy(self, sol, row_err, col_err, rv, cv, rtol, atol):
        """(worst relative error estimate, accuracy met) per item, from terminal estimates."""
        net = self.network()
        rows = _line_scale(np.abs(sol.cell_currents).sum(axis=2), sol.row_currents, rv,
                           net.g_driver, net.gw[:, 0] if self.shape[1] > 1 else net.gc[:, 0])
        cols = _line_scale(np.abs(sol.cell_currents).sum(axis=1), sol.col_currents, cv,
                           net.g_sense, net.gb[-1] if self.shape[0] > 1 else net.gc[0])
        # A floating line carries no terminal current, and neither does a line whose every cell
        # is open or gated off (cut off from the array, whatever its source): nothing to resolve.
        conducting = net.gc > 0
        row_err = np.where(np.isnan(rv) | ~conducting.any(axis=1), 0.0, row_err)
        col_err = np.where(np.isnan(cv) | ~conducting.any(axis=0), 0.0, col_err)
        ok = ((row_err <= rtol * rows + atol).all(axis=1)
              & (col_err <= rtol * cols + atol).all(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.maximum(np.where(row_err > 0, row_err / rows, 0.0).max(axis=1),
                             np.where(col_err > 0, col_err / cols, 0.0).max(axis=1))
        return rel, ok

    def _stiffness(self, rv, cv) -> float:
        """Largest finite conductance (S) times the largest |source voltage| (V): the current
        scale whose float64 rounding (×eps) limits every other current's accuracy, A."""
        net = self.network()
        g = max(float(np.max(a[np.isfinite(a)], initial=0.0))
                for a in (net.gc, net.gw, net.gb, net.g_driver, net.g_sense))
        v = max(float(np.nanmax(np.abs(rv), initial=0.0)), float(np.nanmax(np.abs(cv),
                                                                           initial=0.0)))
        return g * v

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
        # Terminal currents: by KCL over the whole line (a word line connects only to its driver
        # and its cells), or through the driver resistor where that is better conditioned:
        # V − w0 cancels when the driver drop is small, the cell sum when cell currents cancel.
        cell_sum = i_cell.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            resistor = gd * (rv0 - w[:, :, 0])
            sum_cond = np.abs(i_cell).sum(axis=2) / np.abs(cell_sum)
            res_cond = (np.abs(rv0) + np.abs(w[:, :, 0])) / np.abs(rv0 - w[:, :, 0])
        use_res = ~np.isinf(net.g_driver) & (res_cond < sum_cond)
        i_row = np.where(rdrv, np.where(use_res, resistor, cell_sum), 0.0)
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

    def read(self, v, *, method: str = "auto", rtol: float = 1e-6, atol: float = 0.0,
             maxiter: int | None = None, on_failure: str = "raise") -> np.ndarray:
        """Matrix-vector read: ``v`` (V) on the drivers, every bit line held at 0 V.

        Parameters
        ----------
        v : (M,) or (B, M) array_like
            Driver source voltages, V (finite).
        method : {"auto", "pcg", "direct", "transfer"}
            ``"auto"`` uses the cached transfer matrix when it exists or the batch has at least
            min(M, N)/3 inputs (where building it pays off), PCG otherwise.
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
        rtol, atol, maxiter = _check_tolerances(rtol, atol, maxiter, on_failure)
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
            B = V.shape[0]
            M, N = self.shape
            C = np.zeros((B, N))
            out = np.empty_like(C)
            net = self.network()
            ideal_sense = bool(np.isinf(net.g_sense).any())
            # Inputs go through in chunks whose problem vectors (4·M·N doubles each) stay
            # within ~256 MB; only the (B, N) result has to fit as a whole.
            threads = _num_threads(B)
            chunk = max(threads, int(_READ_CHUNK_BYTES // (32 * M * N)))
            memory.check_fits(
                f"a read of {B} input(s) on a {M}x{N} array",
                memory.solve_bytes(M, N, min(B, chunk), threads, full=False,
                                   direct=method == "direct" or net.ideal_wires) + 8.0 * B * N,
                "read fewer inputs at a time")
            failed = []
            for s0 in range(0, B, chunk):
                Vc, Cc = V[s0:s0 + chunk], C[s0:s0 + chunk]
                for idx, prob, w, b, _, _, _, status, errors in self._solve_nodes(
                        Vc, Cc, method, maxiter, scratch=True):
                    # Cell currents only where a bit line meets its source without a resistor.
                    i_cell = g_cell = None
                    if not self.linear:
                        i_cell, g_cell, _ = self._cells().evaluate(w - b)
                    elif ideal_sense or errors is None:
                        i_cell = net.gc * (w - b)
                    res = self._col_currents(i_cell, b, Cc[idx])
                    out[s0 + idx] = res
                    if errors is None:
                        err = current_errors(net, prob, w, b, i_cell, g_cell)[1]
                        gross = np.abs(i_cell).sum(axis=1)
                    else:
                        err, gross = errors[:, 0], errors[:, 1]
                    ok = (err <= rtol * (gross + np.abs(res)) + atol).all(axis=1)
                    status = _info(status, ok)
                    for k in np.flatnonzero(status != 0):
                        with np.errstate(divide="ignore", invalid="ignore"):
                            rel = np.max(np.where(err[k] > 0, err[k] / gross[k], 0.0))
                        failed.append((int(s0 + idx[k]), int(status[k]), float(rel)))
            if failed:
                _report_read(failed, on_failure, rtol, atol, lambda: self._stiffness(V, C), out,
                             batched)
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
        self._check_map_fits(admittance=True)
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
        self._check_map_fits(admittance=False)

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

    def _check_map_fits(self, admittance: bool) -> None:
        """Refuse a transfer map (and admittance) that cannot fit in memory, before building it."""
        M, N = self.shape
        front = transfer.front_nodes(M, N, admittance)
        need = 8.0 * (M * N + (M * M if admittance else 0) + 4 * front ** 2 + 2 * M * N)
        memory.check_fits(f"the {M}x{N} array's transfer map{' and admittance' if admittance else ''}",
                          need + memory.network_bytes(M, N), "read with method='pcg' instead")

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
        sweep_s = transfer.sweep_seconds(M, N, admittance)
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
                sol = _map_solve(self, eye, np.zeros((e - s, N)), method)
                T[:, s:e] = sol.col_currents.T
                Y[:, s:e] = sol.row_currents.T
            else:
                sol = _map_solve(self, np.zeros((e - s, M)), eye, method)
                T[s:e, :] = -sol.row_currents
        return T, Y


def _unbatch(sol: CircuitSolution) -> CircuitSolution:
    def first(x):
        return x[0] if isinstance(x, np.ndarray) and x.ndim else x
    return CircuitSolution(
        first(sol.v_wordline), first(sol.v_bitline), first(sol.row_voltages),
        first(sol.col_voltages), first(sol.cell_currents), first(sol.cell_voltages),
        first(sol.row_currents), first(sol.col_currents), sol.power.item(0), int(sol.iterations[0]),
        float(sol.residual[0]), sol.method, int(sol.newton_iterations[0]),
        first(sol.row_current_errors), first(sol.col_current_errors),
        float(sol.error_estimate[0]), int(sol.info[0]))


def _map_solve(xb: "Crossbar", rv, cv, method: str) -> CircuitSolution:
    """Unit-excitation solve for a map.  A far line's tiny current may miss rtol relative to
    itself (info 3) while being exact relative to the map's scale; other failures raise."""
    sol = xb.solve(rv, cv, method=method, on_failure="ignore")
    bad = np.flatnonzero((sol.info != 0) & (sol.info != 3))
    if bad.size:
        k = int(bad[0])
        raise ConvergenceError(f"unit-excitation solve {k} of the map did not converge: "
                               f"info={int(sol.info[k])} ({INFO[int(sol.info[k])]})",
                               iterations=int(sol.iterations[k]), residual=float(sol.residual[k]))
    return sol


def _info(status: np.ndarray, accurate: np.ndarray) -> np.ndarray:
    """INFO codes from the iteration's status and the accuracy test: a Newton iteration that
    stopped (step limit, stalled line search: at the rounding floor of its residual) is
    accepted when the error estimate meets the tolerance; a finished one that misses it is 3."""
    newton_stop = (status == 2) | (status == -2)
    return np.where(accurate & newton_stop, 0, np.where((status == 0) & ~accurate, 3, status))


def _check_tolerances(rtol, atol, maxiter, on_failure):
    """Validated (rtol, atol, maxiter) of a solve or read; ``on_failure`` checked."""
    check_scalar(rtol, "rtol", low=0.0, high=1.0, low_open=True, high_open=True)
    check_scalar(atol, "atol", low=0.0, unit="A")
    if maxiter is not None:
        check_scalar(maxiter, "maxiter", low=1, integer=True)
    check_choice(on_failure, "on_failure", ON_FAILURE)
    return float(rtol), float(atol), None if maxiter is None else int(maxiter)


def _line_scale(gross, current, source, g_term, g_near):
    """Gross current of each line (A): Σ|I_cell| + |I_terminal| + g_terminal·|V_source| (an
    ideal terminal counts with its adjacent element's conductance ``g_near``)."""
    g = np.where(np.isinf(g_term), g_near, g_term)
    g = np.where(np.isfinite(g), g, 0.0)
    return gross + np.abs(current) + g * np.where(np.isnan(source), 0.0, np.abs(source))


def _failure_text(items, rtol, atol, stiffness, residual=None) -> str:
    """Message for failed items ``[(batch index, info, relative estimate)]``; ``stiffness()``
    gives the stiffest current scale (A), computed only when the message needs it."""
    k, code, rel = items[0]
    res = "" if residual is None else f", KCL residual {residual:.3e} A"
    text = (f"{len(items)} batch item(s) did not converge (first: item {k}, info={code}: "
            f"{INFO[code]}; estimated relative error {rel:.2e} against rtol={rtol:g}, "
            f"atol={atol:g} A{res})")
    if code == 3:
        stiffness = stiffness()
        text += (f".  Conditioning: the stiffest element carries currents of up to "
                 f"{stiffness:.3g} A (largest conductance × largest |source voltage|), whose "
                 f"float64 rounding (eps = 2.2e-16) is {stiffness * 2.2e-16:.2e} A; weak lines "
                 "cannot be resolved below it.  Check G for a unit slip (S, not ohm) and the "
                 "wire/terminal resistances, or loosen rtol")
    return text


def _report(sol: CircuitSolution, on_failure: str, rtol, atol, stiffness) -> None:
    """Apply ``on_failure`` to a batched solution's failed items."""
    bad = np.flatnonzero(np.asarray(sol.info) != 0)
    if not bad.size or on_failure == "ignore":
        return
    items = [(int(k), int(sol.info[k]), float(sol.error_estimate[k])) for k in bad]
    text = _failure_text(items, rtol, atol, stiffness, float(sol.residual[bad[0]]))
    k = int(bad[0])
    err = ConvergenceError(text, iterations=int(sol.iterations[k]),
                           residual=float(sol.residual[k]))
    err.solution = sol
    handle_failure(on_failure, err, stacklevel=4)


def _report_read(items, on_failure, rtol, atol, stiffness, out, batched) -> None:
    """Apply ``on_failure`` to failed read items (``out`` attached to the exception)."""
    if on_failure == "ignore":
        return
    err = ConvergenceError(_failure_text(items, rtol, atol, stiffness), iterations=-1,
                           residual=float("nan"))
    err.solution = out if batched else out[0]
    handle_failure(on_failure, err, stacklevel=4)
