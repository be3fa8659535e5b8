"""Crossbar topology, bias schemes, fabrication faults and the circuit solvers."""

from . import bias, faults
from .crossbar import Crossbar
from .device_crossbar import DeviceCrossbar
from .solution import CircuitSolution, PowerBreakdown

__all__ = ["Crossbar", "DeviceCrossbar", "CircuitSolution", "PowerBreakdown", "bias", "faults"]
