"""Programming pulses, pulse schedules and the energy ledger (SI units: V, s, J)."""
from .ledger import EnergyLedger, LedgerSummary
from .schedule import BIAS_SCHEMES, KINDS, MODES, POLARITIES, Pulse, PulseSchedule

__all__ = ["EnergyLedger", "LedgerSummary", "BIAS_SCHEMES", "KINDS", "MODES", "POLARITIES", "Pulse",
           "PulseSchedule"]
