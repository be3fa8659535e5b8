"""Crossbar topology, bias schemes and the circuit solvers."""
from . import bias
from .crossbar import Crossbar
from .solution import CircuitSolution, PowerBreakdown

__all__ = ["Crossbar", "CircuitSolution", "PowerBreakdown", "bias"]
