"""Circuit-accurate forward passes of pulsed layers through ``xbar.periphery.AnalogLinear``.

:class:`CircuitReader` is a ``reader`` for :class:`~xbar.train.pulsed.PulsedLayer`: for each layer
it builds an ``AnalogLinear`` (tiles, wire resistance, DAC, TIA, ADC as configured) on the layer's
conductance pairs, re-writes the pairs into the tiles whenever pulses changed them (the tiles'
cached read maps follow), and returns the read-out, de-scaled to weight × input units. Read, DAC,
TIA and ADC energies are booked by ``AnalogLinear`` into the layer's ledger.

Three choices matter for training through the circuit (each was a cause of wrong reads before):

* **Read-out gain.** The weights change during training, so a TIA gain fitted to the weights at
  construction (``TIA(auto_gain="weights")``) saturates once a pair's difference grows. The reader
  therefore uses a fixed gain: by default ``TIA(auto_gain="window")`` (no weight the window allows
  can saturate; coarse), or, with ``output_range``, the gain that maps a pre-activation of
  ``±output_range`` (weight × input units, inputs after scaling) to the TIA swing; larger outputs
  saturate and are counted in ``analog.stats["tia_saturated"]``.  The window gain is safe but
  coarse: a tile of M word lines reaches the swing only at a pre-activation of about
  ``M·w_max``, so an 8-bit ADC resolves ~``M·w_max/128`` per tile, often more than a tile's whole
  partial sum; set ``output_range`` from the partial sums the network produces.
* **Input scaling.** Inputs of layers ≥ 2 of Forward-Forward and the competitive rule are
  length-normalised (mean square 1, entries up to √n), far beyond a DAC full scale of 1. With
  ``input_scaling="per_sample"`` each input vector is divided digitally by ``max|x| / x_max`` before
  the DAC and the read-out multiplied back (one scale per vector; exact for the linear array).
* **Common mode.** Reset-only pairs sit near G_max, so each column carries a large common-mode
  current; the IR drop it causes on wires and terminals does not cancel in ``I⁺ − I⁻``. This is
  physics and is kept (the rule trains through it); it shrinks with lower conductances or wire and
  terminal resistances.

Every read is exact (within ~1e-13 relative of a fresh circuit solve; tested at 1e-9).  After a
pulse step each tile is read either through its exact read maps, rebuilt by one column sweep
(``xbar.circuit.transfer``; the tiles of a layer on two threads), or by solving the batch's reads
directly with the multi-right-hand-side kernel of ``xbar.circuit.fastread`` (CG on the bit-line
Schur complement, the batch split over two threads), whichever a cost model
(``fastread.maps_pay_off``) expects to be cheaper for the batch: a 128² tile switches to the maps
from ~57 inputs per step, a 128x72 tile from ~50.  Low-rank (Woodbury) updates of the maps do
not pay here: a reset-only step changes more cells per tile (median 66-868) than the tile is
read before the next step (2-200 inputs), and each changed cell costs one solve.  The cells are
read as linear conductances (``G·V``); pass a cell I-V model in ``ArrayConfig.crossbar_options``
for nonlinear reads (solves only, slow).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_choice, check_scalar
from ..circuit import cost, fastread
from ..exceptions import ConfigError
from ..periphery import AnalogLinear, ReadStrategy

INPUT_SCALINGS = ("per_sample", "none")


class FastReads(ReadStrategy):
    """A ``ReadStrategy`` for linear, resistive tiles: the exact maps or exact batched solves
    (``xbar.circuit.fastread``), whichever the cost model expects to be cheaper, booking the same
    energy components as the map path (``array``, ``drivers``, ``sense``).  Tiles it does not
    support (ideal wires or terminals) and time-encoded DAC phases take the default strategy."""

    @staticmethod
    def _fast(layer, tile) -> bool:
        return layer.linear and fastread.supported(tile.crossbar.network())

    def use_maps(self, layer, tile, batch: int) -> bool:
        if not self._fast(layer, tile):
            return super().use_maps(layer, tile, batch)
        return tile.maps_ready(layer.energy) or fastread.maps_pay_off(*tile.crossbar.shape, batch)

    def solve(self, layer, tile, V, phase):
        if phase.codes is not None or not self._fast(layer, tile):
            return super().solve(layer, tile, V, phase)
        M, C = tile.crossbar.shape
        B = V.shape[0]
        # Identical inputs are solved once (Forward-Forward's positive and negative passes differ
        # only in the label inputs, so every tile without label rows sees each input twice) and
        # all-zero inputs not at all (their currents are exactly 0: MNIST's first and last pixel
        # rows are blank, so whole tiles of the first layer often get no input).
        Vu, inv = (np.unique(V, axis=0, return_inverse=True) if B > 1 else (V, np.zeros(1, int)))
        live = np.flatnonzero(np.any(Vu != 0, axis=1))
        i_col, i_row = np.zeros((len(Vu), C)), np.zeros((len(Vu), M))
        if live.size:
            workers = layer.map_workers if live.size * M * C >= 20000 else 1
            i_col[live], i_row[live] = fastread.read_currents(tile.crossbar.network(), Vu[live],
                                                              workers=workers)
        inv = np.ravel(inv)
        i_col, i_row = i_col[inv], i_row[inv]
        parts = {}
        if layer.energy:
            t = layer.dac.t_read
            e_tot = t * float(np.einsum("bi,bi->", V, i_row))
            e_drv = t * float(np.sum(np.asarray(tile.crossbar.r_driver) * i_row ** 2))
            e_sen = t * float(np.sum(np.asarray(tile.crossbar.r_sense) * i_col ** 2))
            parts = {"array": max(e_tot - e_drv - e_sen, 0.0), "drivers": e_drv, "sense": e_sen}
        return i_col @ tile.A, parts


class CircuitReader:
    """Forward passes through the periphery and the circuit solve.

    Parameters
    ----------
    array : xbar.periphery.ArrayConfig, optional
        Tile size, wire resistances (ohm), cell type.
    dac, adc, tia : xbar.periphery DAC, ADC, TIA, optional
        Periphery. Default TIA: ``TIA(auto_gain="window")`` (see the module docstring); a TIA with
        ``auto_gain="weights"`` is accepted but saturates as the weights grow.
    output_range : float or None, default None
        Pre-activation full scale of the read-out (weight × input units, inputs as applied to the
        DAC): sets a fixed TIA gain per layer ``v_swing·k·x_max / (v_read·output_range)`` (ohm),
        ``k`` the layer's weight units per siemens. ``None`` keeps ``tia``'s gain rule.
    input_scaling : {"per_sample", "none"}, default "per_sample"
        Divide each input vector by ``max|x| / dac.x_max`` before the DAC and multiply the outputs
        back ("none": inputs beyond ``dac.x_max`` clip).
    read_method : {"auto", "transfer", "solve"}, default "auto"
        ``"auto"``: the tiles' read maps when cached or when they pay off for the batch (see
        ``fast_reads`` and ``transfer_batch``), exact solves of the batch's reads otherwise;
        ``"transfer"``: always the maps (rebuilt after every update); ``"solve"``: always solves.
    transfer_batch : int or None, default None
        Batch size from which the maps are built; ``None`` = the per-tile cost model with
        ``fast_reads``, else a third of the largest tile's smaller side.
    fast_reads : bool, default True
        Choose per tile and batch between the exact maps and exact batched solves by the cost
        model (module docstring).  ``False`` keeps ``AnalogLinear``'s rule (maps from a third of
        the tile's smaller side, else one ``Crossbar.solve`` per input), e.g. as a reference.
    rerange : bool, default False
        Re-apply the TIAs' gain rule (``AnalogLinear.update_gains``) after every write, as a
        controller that knows what it programmed would.  With ``TIA(auto_gain="weights")`` this
        keeps a differential layer's signals on the ADC's full scale (the fixed window gain leaves
        them a few LSBs of an 8-bit ADC); without it such gains saturate as the weights grow.
    random_state : None | int | Generator
        Converter errors and conversion noise of the ``AnalogLinear`` layers.
    """

    def __init__(self, *, array=None, dac=None, adc=None, tia=None,
                 output_range: float | None = None, input_scaling: str = "per_sample",
                 read_method: str = "auto", transfer_batch: int | None = None,
                 fast_reads: bool = True, rerange: bool = False, random_state=None):
        self.rerange = bool(rerange)
        self.fast_reads = bool(fast_reads)
        from ..periphery import TIA

        if output_range is not None:
            check_scalar(output_range, "output_range", low=0.0, low_open=True)
            if tia is not None and tia.gain is not None:
                raise ConfigError("give either output_range or tia.gain, not both (got "
                                  f"output_range={output_range!r}, tia.gain={tia.gain!r} ohm)")
        if tia is None:
            tia = TIA(auto_gain="window")
        check_choice(input_scaling, "input_scaling", INPUT_SCALINGS)
        check_choice(read_method, "read_method", ("auto", "transfer", "solve"))
        if transfer_batch is not None:
            check_scalar(transfer_batch, "transfer_batch", low=1, integer=True)
        self.options = dict(array=array, dac=dac, adc=adc, tia=tia)
        self.output_range = None if output_range is None else float(output_range)
        self.input_scaling = input_scaling
        self.read_method = read_method
        self.transfer_batch = transfer_batch
        self.random_state = random_state
        self._layers: dict = {}     # id(layer) -> [AnalogLinear, version, transfer_batch]

    def _tia_for(self, layer):
        from ..periphery import DAC
        tia = self.options["tia"]
        if self.output_range is None:
            return tia
        dac = self.options["dac"] or DAC()
        gain = tia.v_swing * layer.k * dac.x_max / (dac.v_read * self.output_range)
        return dataclasses.replace(tia, gain=gain)

    def analog(self, layer):
        """The ``AnalogLinear`` of ``layer`` (built on first use), synchronised with its pairs."""
        from ..periphery import WeightMapping

        entry = self._layers.get(id(layer))
        if entry is None:
            pairs = layer.pairs
            if layer.ledger is None:
                from ..pulses import EnergyLedger
                layer.ledger = EnergyLedger()
            # the layer's own window: weights are k·(G⁺ − G⁻) with k from the nominal device
            g_min, g_max = float(layer.pairs.device.g_min), float(layer.pairs.device.g_max)
            opts = {k: v for k, v in self.options.items() if v is not None}
            opts["tia"] = self._tia_for(layer)
            analog = AnalogLinear(layer.weights.T, mapping=WeightMapping(w_max=layer.k * (g_max - g_min)),
                         device=(g_min, g_max), ledger=layer.ledger, name=pairs.name,
                         count_samples=False, random_state=self.random_state,
                         read_method=self.read_method,
                         read_strategy=FastReads() if self.fast_reads else None, **opts)
            tb = self.transfer_batch
            if tb is None and not self.fast_reads:
                tb = max(cost.transfer_break_even(*t.G.shape) for t in analog.tiles)
            entry = self._layers[id(layer)] = [analog, -1, tb]
        analog, version, _ = entry
        if version != layer.version:
            analog.set_conductance_pairs(layer.pairs.g_plus, layer.pairs.g_minus)
            if self.rerange:
                analog.update_gains()
            entry[1] = layer.version
        return analog

    def __call__(self, x_aug: np.ndarray, layer) -> np.ndarray:
        analog = self.analog(layer)
        tb = self._layers[id(layer)][2]
        if self.read_method == "auto" and tb is not None:
            analog.read_method = "transfer" if (analog.linear and len(x_aug) >= tb) else "auto"
        if self.input_scaling == "none":
            return analog.forward(x_aug)
        scale = np.max(np.abs(x_aug), axis=1, keepdims=True) / analog.dac.x_max
        scale[scale == 0] = 1.0
        return analog.forward(x_aug / scale) * scale
