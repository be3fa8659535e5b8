"""Programming pulses, pulse schedules and the energy ledger (SI units: V, s, J)."""
from .ledger import EnergyLedger, LedgerSummary
