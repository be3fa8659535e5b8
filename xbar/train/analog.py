"""Circuit-accurate forward passes of pulsed layers through ``xbar.periphery.AnalogLinear``.

:class:`CircuitReader` is a ``reader`` for :class:`~xbar.train.pulsed.PulsedLayer`: for each layer
it builds an ``AnalogLinear`` (tiles, wire resistance, DAC, TIA, ADC as configured) on the layer's
conductance pairs, re-writes the pairs into the tiles whenever pulses changed them (the tiles'
transfer-matrix caches follow), and returns the read-out, de-scaled to weight × input units. Read,
DAC, TIA and ADC energies are booked by ``AnalogLinear`` into the layer's ledger.
"""
from __future__ import annotations

import numpy as np

from ..exceptions import ConfigError


class CircuitReader:
    """Forward passes through the periphery and the circuit solve.

    Parameters
    ----------
    array : xbar.periphery.ArrayConfig, optional
        Tile size, wire resistances (ohm), cell type.
    dac, adc, tia : xbar.periphery DAC, ADC, TIA, optional
        Periphery; ``dac.x_max`` must cover the layer inputs (larger inputs clip).
    read_method : {"auto", "transfer", "solve"}, default "auto"
    random_state : None | int | Generator
        Converter errors and conversion noise of the ``AnalogLinear`` layers.
    """

    def __init__(self, *, array=None, dac=None, adc=None, tia=None, read_method: str = "auto",
                 random_state=None):
        self.options = dict(array=array, dac=dac, adc=adc, tia=tia, read_method=read_method)
        self.random_state = random_state
        self._layers: dict = {}     # id(layer) -> [AnalogLinear, version]

    def analog(self, layer):
        """The ``AnalogLinear`` of ``layer`` (built on first use), synchronised with its pairs."""
        from ..periphery import AnalogLinear, WeightMapping

        entry = self._layers.get(id(layer))
        if entry is None:
            pairs = layer.pairs
            if layer.ledger is None:
                from ..pulses import EnergyLedger
                layer.ledger = EnergyLedger()
            g_min = float(np.mean(pairs.g_min))
            g_max = float(np.mean(pairs.g_max))
            if layer.k * (g_max - g_min) <= 0:
                raise ConfigError("layer window must have g_max > g_min")
            analog = AnalogLinear(layer.weights.T, mapping=WeightMapping(w_max=layer.k * (g_max - g_min)),
                                  device=(g_min, g_max), ledger=layer.ledger, name=pairs.name,
                                  count_samples=False, random_state=self.random_state,
                                  **{k: v for k, v in self.options.items() if v is not None})
            entry = self._layers[id(layer)] = [analog, -1]
        analog, version = entry
        if version != layer.version:
            analog.set_conductance_pairs(layer.pairs.g_plus, layer.pairs.g_minus)
            entry[1] = layer.version
        return analog

    def __call__(self, x_aug: np.ndarray, layer) -> np.ndarray:
        return self.analog(layer).forward(x_aug)
