"""Periphery of a crossbar read: DACs, TIAs, ADCs, weight mapping, tiling, the analog layer and the
matrix core of any conductance matrix."""
from .adc import ADC, code_grid, murmann_energy, quantize
from .core import MatrixCore
from .dac import DAC, Phase
from .layer import AnalogLinear, Tile
from .mapping import ConductanceRange, MappedBlock, WeightMapping, effective_weights
from .tia import TIA
from .tiling import ArrayConfig, TileSpec, plan_tiles

__all__ = ["ADC", "DAC", "TIA", "AnalogLinear", "ArrayConfig", "ConductanceRange", "MappedBlock", "MatrixCore",
           "Phase", "Tile", "TileSpec", "WeightMapping", "effective_weights", "murmann_energy",
           "plan_tiles", "quantize", "code_grid"]
