"""Results of a crossbar circuit solve: node voltages, terminal and cell currents, power."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PowerBreakdown:
    """Power dissipated in each part of the circuit, W (floats, or (B,) arrays for a batch).

    ``total`` is the sum of the parts; ``supplied`` is the power delivered by the ideal terminal
    sources, ``Σ V_row·I_row − Σ V_col·I_col``.  The two agree to the solver tolerance (energy
    conservation), which the tests check.

    Parameters
    ----------
    cells, access, wires, drivers, sense : float or (B,) ndarray
        Power dissipated in each part, W (see the attributes).
    supplied : float or (B,) ndarray
        Power delivered by the terminal sources, W.
    """

    cells: np.ndarray | float
    """Memristive cells, Σ V_cell·I_cell."""
    access: np.ndarray | float
    """Access transistors of 1T1R cells, Σ I·(V_cell_total − V_memristor) = Σ I²·r_access."""
    wires: np.ndarray | float
    """Word-line and bit-line segments, Σ ΔV²/r."""
    drivers: np.ndarray | float
    """Driver output resistances, Σ (V_row − w[i,0])²/r_driver."""
    sense: np.ndarray | float
    """Sense (TIA input) resistances, Σ (b[M−1,j] − V_col)²/r_sense."""
    supplied: np.ndarray | float
    """Power delivered by the terminal sources."""

    @property
    def total(self):
        """Total dissipated power, W."""
        return self.cells + self.access + self.wires + self.drivers + self.sense

    def item(self, k: int = 0) -> "PowerBreakdown":
        """Batch item ``k`` of a batched breakdown, as floats (W).

        Parameters
        ----------
        k : int
            Batch index.

        Returns
        -------
        PowerBreakdown
        """
        return PowerBreakdown(
            **{name: float(np.asarray(val)[k]) for name, val in vars(self).items()}
        )

    def as_dict(self) -> dict:
        """Parts, total and supplied as a plain dict of floats/arrays (W)."""
        return {
            "cells": self.cells,
            "access": self.access,
            "wires": self.wires,
            "drivers": self.drivers,
            "sense": self.sense,
            "total": self.total,
            "supplied": self.supplied,
        }


#: ``CircuitSolution.info`` codes per batch item (in the manner of SciPy's iterative solvers:
#: 0 success, > 0 no convergence to tolerance, < 0 breakdown).
INFO = {
    0: "converged: every terminal current's estimated error is within tolerance",
    1: "iteration limit reached (CG iterations, or refinement rounds that stopped improving)",
    2: "Newton step limit reached",
    3: "tolerance not attainable in float64: the estimated error exceeds rtol at the rounding "
    "floor (ill-conditioned input: stiff elements next to weak lines)",
    -1: "breakdown: the nodal matrix is not positive definite (invalid conductances)",
    -2: "Newton line search stalled",
}


@dataclass(frozen=True)
class CircuitSolution:
    """Solved crossbar: every node voltage and terminal current, and how far to trust them.

    Shapes: ``(M, N)`` etc. for one solve; a leading batch axis ``B`` (written ``…``) when the
    solve was batched (2-D source voltages).  Currents in A, voltages in V.  Modelled on SciPy's
    iterative solvers: ``converged``/``info`` say per batch item whether the result meets the
    tolerance (``Crossbar.solve(on_failure=...)`` decides whether a failure raises, warns or
    only shows here).  The fields below are also the attributes of the same name.

    Parameters
    ----------
    v_wordline : np.ndarray
        (…, M, N) word-line node voltages w[i, j], V.
    v_bitline : np.ndarray
        (…, M, N) bit-line node voltages b[i, j], V.
    row_voltages : np.ndarray
        (…, M) source voltages of the word-line drivers (NaN = floating), V.
    col_voltages : np.ndarray
        (…, N) source voltages of the bit-line terminals (NaN = floating), V.
    cell_currents : np.ndarray
        (…, M, N) current through each whole cell from word line to bit line, A (access
        transistor included for 1T1R; 0 for an off gate).
    cell_voltages : np.ndarray
        (…, M, N) voltage across each memristive element, V. For 1T1R cells this is the
        memristor alone (``w − b`` minus the access transistor's drop; 0 for an off gate);
        ``v_wordline − v_bitline`` is the whole cell's voltage.
    row_currents : np.ndarray
        (…, M) current from each driver source into its word line, A (0 for a floating row).
    col_currents : np.ndarray
        (…, N) current out of each bit line into its terminal source, A (0 for a floating
        column).
    power : PowerBreakdown
        Dissipated power by part, W.
    iterations : np.ndarray | int
        (…,) CG iterations per batch item; 0 for direct solves (with Newton: CG steps in total).
    residual : np.ndarray | float
        (…,) largest KCL imbalance over all free nodes, A, recomputed from the returned
        voltages.
    method : str
        Solver that produced the result: "pcg", "direct", "newton-pcg", "newton-direct".
    newton_iterations : np.ndarray | int
        (…,) Newton steps per batch item (nonlinear cells; 0 for linear ones).
    row_current_errors : np.ndarray | None
        (…, M) a-posteriori error estimates of ``row_currents``, A (see ``error_estimate``).
        Per terminal an estimate, not a bound: a residual current leaves through every terminal
        in fractions summing to 1, so part of another line's residual can reach this one.  The
        bound (above the rounding floor) is the sum over an item's terminals:
        ``Σ|row errors| + Σ|col errors| <= row_current_errors.sum(-1) + col_current_errors.sum(-1)``.
    col_current_errors : np.ndarray | None
        (…, N) the same for ``col_currents``, A.
    error_estimate : np.ndarray | float
        (…,) the worst relative error estimate over the terminal currents: each terminal's
        estimate divided by its line's gross current S = Σ|I_cell| + |I| + g_terminal·|V_source|
        (dimensionless; floating lines excluded).  The estimate propagates every node's KCL
        residual plus the float64 rounding floor of that residual (``eps·(|A||x| + |f|)``) to
        the terminals (``xbar.circuit.nodal.current_errors``); the errors of all terminal
        currents together are about the sum of those node terms at most.  ``rtol`` of a solve
        is tested against it.
    info : np.ndarray | int
        (…,) status per batch item, an integer code of ``xbar.circuit.solution.INFO`` (0 = converged).

    Attributes
    ----------
    converged : (…,) bool array, or bool for one solve
        True where ``info == 0`` (a property).
    """

    v_wordline: np.ndarray
    v_bitline: np.ndarray
    row_voltages: np.ndarray
    col_voltages: np.ndarray
    cell_currents: np.ndarray
    cell_voltages: np.ndarray
    row_currents: np.ndarray
    col_currents: np.ndarray
    power: PowerBreakdown
    iterations: np.ndarray | int
    residual: np.ndarray | float
    method: str
    newton_iterations: np.ndarray | int = 0
    row_current_errors: np.ndarray | None = None
    col_current_errors: np.ndarray | None = None
    error_estimate: np.ndarray | float = 0.0
    info: np.ndarray | int = 0

    @property
    def converged(self) -> np.ndarray | bool:
        """(…,) True where ``info == 0``: the solve met its tolerance (a bool for one solve)."""
        ok = np.asarray(self.info) == 0
        return bool(ok) if ok.ndim == 0 else ok
