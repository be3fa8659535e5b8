"""Programming pulses, pulse schedules, pulse energy, program-and-verify and the energy ledger
(SI units: V, s, J, S)."""

from .ledger import EnergyLedger, LedgerSummary, format_energy
from .schedule import (
    BIAS_SCHEMES,
    CELLS,
    KINDS,
    MODES,
    POLARITIES,
    Pulse,
    PulseSchedule,
    canonical_bias_scheme,
    cell_and_scheme,
)
from .verify import Ramp

__all__ = [
    "EnergyLedger",
    "LedgerSummary",
    "BIAS_SCHEMES",
    "CELLS",
    "KINDS",
    "MODES",
    "POLARITIES",
    "Pulse",
    "PulseSchedule",
    "Ramp",
    "canonical_bias_scheme",
    "cell_and_scheme",
    "format_energy",
]
