"""Periphery of a crossbar read: DACs, TIAs, ADCs, weight mapping, tiling and the analog layer."""
from .adc import ADC, murmann_energy, quantize
from .dac import DAC, Phase
from .layer import AnalogLinear, Tile
from .mapping import ConductanceRange, MappedBlock, WeightMapping, effective_weights
from .tia import TIA
from .tiling import ArrayConfig, TileSpec, plan_tiles

__all__ = ["ADC", "DAC", "TIA", "AnalogLinear", "ArrayConfig", "ConductanceRange", "MappedBlock",
           "Phase", "Tile", "TileSpec", "WeightMapping", "effective_weights", "murmann_energy",
           "plan_tiles", "quantize"]
