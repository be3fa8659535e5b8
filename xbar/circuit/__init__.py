"""Crossbar topology, bias schemes, fabrication faults and the circuit solvers."""
from . import bias, faults
from .crossbar import Crossbar
from .solution import CircuitSolution, PowerBreakdown

__all__ = ["Crossbar", "CircuitSolution", "PowerBreakdown", "bias", "faults"]
