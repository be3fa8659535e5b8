"""Periphery of a crossbar read: DACs, TIAs, ADCs, weight mapping, tiling, the analog layer, the
matrix core of any conductance matrix and the program -> relax -> infer workflow."""

from .aging import AgingResult, program_relax_infer
from .adc import ADC, code_grid, murmann_energy, quantize
from .core import MatrixCore
from .dac import DAC, Phase
from .layer import AnalogLinear, CellReadNoise, ReadStrategy, Tile
from .mapping import ConductanceRange, MappedBlock, WeightMapping, effective_weights
from .tia import TIA
from .tiling import ArrayConfig, TileSpec, plan_tiles

__all__ = [
    "ADC",
    "DAC",
    "TIA",
    "AgingResult",
    "AnalogLinear",
    "ArrayConfig",
    "CellReadNoise",
    "ConductanceRange",
    "MappedBlock",
    "MatrixCore",
    "Phase",
    "ReadStrategy",
    "Tile",
    "TileSpec",
    "WeightMapping",
    "code_grid",
    "effective_weights",
    "murmann_energy",
    "plan_tiles",
    "program_relax_infer",
    "quantize",
]
