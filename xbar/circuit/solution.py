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
        """Batch item ``k`` of a batched breakdown, as floats (W)."""
        return PowerBreakdown(**{name: float(np.asarray(val)[k]) for name, val in vars(self).items()})

    def as_dict(self) -> dict:
        """Parts, total and supplied as a plain dict of floats/arrays (W)."""
        return {"cells": self.cells, "access": self.access, "wires": self.wires,
                "drivers": self.drivers, "sense": self.sense, "total": self.total,
                "supplied": self.supplied}


@dataclass(frozen=True)
class CircuitSolution:
    """Solved crossbar: every node voltage and terminal current.

    Arrays carry a leading batch axis when the solve was batched.  Currents in A, voltages in V.
    """

    v_wordline: np.ndarray
    """(…, M, N) word-line node voltages w[i, j], V."""
    v_bitline: np.ndarray
    """(…, M, N) bit-line node voltages b[i, j], V."""
    row_voltages: np.ndarray
    """(…, M) source voltages of the word-line drivers (NaN = floating), V."""
    col_voltages: np.ndarray
    """(…, N) source voltages of the bit-line terminals (NaN = floating), V."""
    cell_currents: np.ndarray
    """(…, M, N) current through each cell from word line to bit line, A."""
    cell_voltages: np.ndarray
    """(…, M, N) voltage across each memristive element (excluding an access transistor), V."""
    row_currents: np.ndarray
    """(…, M) current from each driver source into its word line, A."""
    col_currents: np.ndarray
    """(…, N) current out of each bit line into its terminal source, A."""
    power: PowerBreakdown
    """Dissipated power by part, W."""
    iterations: np.ndarray | int
    """Solver iterations (per batch item); 0 for direct solves."""
    residual: np.ndarray | float
    """Largest KCL imbalance over all free nodes, A, recomputed from the returned voltages."""
    method: str
    """Solver that produced the result: "pcg", "direct", "newton-pcg"."""
    newton_iterations: np.ndarray | int = 0
    """Newton steps (nonlinear cells; 0 for linear ones); ``iterations`` then counts CG steps."""

    @property
    def converged(self) -> bool:
        """Always True: a solve that does not converge raises ``ConvergenceError``."""
        return True
