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
(``xbar.circuit.transfer``; the tiles of a layer on two threads), or by solving the pass's
distinct inputs directly with the multi-right-hand-side kernel of ``xbar.circuit.fastread`` (CG
on the bit-line Schur complement; all solved tiles of a layer in one call, spread over two
threads), whichever a cost model (``fastread.maps_pay_off``, with the CG iterations each tile's
last reads took) expects to be cheaper: a 128² tile switches to the maps from ~140 distinct
inputs per step.  Low-rank (Woodbury) updates of the maps do not pay here: a reset-only step
changes more cells per tile (median 66-868) than the tile is read before the next step (2-200
inputs), and each changed cell costs one solve.  The cells are
read as linear conductances (``G·V``) unless ``device_iv=True``: then the tiles of a layer whose
pairs are device arrays (``PulsedLayer.from_weights(W, model, ...)``) solve the device model's
cell I-V (solves only, slow); ``read_noise=True`` adds the pair devices' state-dependent read
noise to every read.  The tiles follow the pairs' state through ``layer.version``, which the
pulsed layer bumps after every write.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._random import check_random_state
from .._validation import check_choice, check_scalar
from ..circuit import cost, fastread
from ..exceptions import ConfigError
from ..periphery import AnalogLinear, CellReadNoise, ReadStrategy
from .layers import stacked_weights

INPUT_SCALINGS = ("per_sample", "none")


def _distinct(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-zero rows of ``V`` (B, M) and, per row, its index among them (-1 for an
    all-zero row)."""
    seen: dict = {}
    inv = np.empty(V.shape[0], dtype=np.intp)
    zero = ~np.any(V != 0, axis=1)
    first: list[int] = []
    for r in range(V.shape[0]):
        if zero[r]:
            inv[r] = -1
            continue
        k = seen.setdefault(V[r].tobytes(), len(seen))
        if k == len(first):
            first.append(r)
        inv[r] = k
    return V[first], inv


def _scatter(i_u: np.ndarray, inv: np.ndarray) -> np.ndarray:
    out = np.zeros((inv.size, i_u.shape[1]))
    hit = inv >= 0
    out[hit] = i_u[inv[hit]]
    return out


class FastReads(ReadStrategy):
    """A ``ReadStrategy`` for linear, resistive tiles: the exact maps or exact batched solves
    (``xbar.circuit.fastread``), whichever the cost model expects to be cheaper, booking the same
    energy components as the map path (``array``, ``drivers``, ``sense``).  Tiles it does not
    support (ideal wires or terminals) and time-encoded DAC phases take the default strategy.

    Before a forward pass (:meth:`plan`) it counts each tile's distinct non-zero inputs
    (Forward-Forward's positive and negative passes differ only in the label inputs, so every
    tile without label rows sees each input twice; MNIST's blank pixel rows give whole tiles of
    the first layer no input, whose currents are exactly 0): the cost model
    (``fastread.maps_pay_off``, with the CG iterations the tile's last reads took) weighs those
    reads against a map build.  The first tile of a read phase that is solved triggers the
    solves of every tile of the layer that this phase reads by solves (``fastread.read_many``:
    the tiles' distinct inputs on the layer's ``n_threads`` threads, largest first); the later
    tiles of the phase take their result.  One instance serves one layer at a time (not
    thread-safe).

    Parameters
    ----------
    rtol : float, default 1e-10
        CG tolerance of the solves (dimensionless; ``fastread.read_currents``).  The read error
        stays below ~2·rtol (measured up to 256², 100 µS cells, 10 ohm wires: at most 2e-10 at
        1e-10; tested at 1e-9); 1e-10 saves one of four CG iterations on a 128² tile of 10 µS
        cells with 1 ohm wires against 1e-11 (error 1.1e-10 instead of 7e-15).
    """

    def __init__(self, rtol: float = 1e-10) -> None:
        self.rtol = float(check_scalar(rtol, "rtol", low=0.0, low_open=True, high=1e-9))
        self._plan: tuple | None = None  # (layer, phases, {(phase, tile): (Vu, inv)})
        self._ready: dict = {}  # tile index -> (network, I_col, I_row)
        self._phase = None
        self._iterations: dict = {}  # id(tile) -> mean CG iterations of its last reads
        self._supported: dict = {}  # id(tile) -> (network, fastread.supported(network))

    def _fast(self, layer, tile) -> bool:
        if not layer.linear:
            return False
        net = tile.crossbar.network()
        known = self._supported.get(id(tile))
        if known is None or known[0] is not net:  # once per conductance state
            known = self._supported[id(tile)] = (net, fastread.supported(net))
        return known[1]

    def plan(self, layer, phases) -> None:
        """Count the distinct non-zero inputs of each tile this pass reads (see the class
        docstring).

        Parameters
        ----------
        layer : AnalogLinear
            The layer about to be read.
        phases : list of Phase
            Its DAC phases (``volts`` (B, in), V).
        """
        self._ready, self._phase = {}, None
        if layer.read_method == "transfer" or not layer.linear:
            self._plan = None
            return
        inputs = {}
        for p, phase in enumerate(phases):
            if phase.codes is not None:
                continue
            for k, tile in enumerate(layer.tiles):
                if self._fast(layer, tile):
                    inputs[p, k] = _distinct(phase.volts[:, tile.spec.rows])
        self._plan = (layer, phases, inputs)

    def _reads(self, layer, tile, batch: int) -> int:
        """Reads the coming pass needs of ``tile``: its distinct non-zero inputs when planned."""
        if self._plan is None or self._plan[0] is not layer:
            return batch
        _, phases, inputs = self._plan
        if not phases or phases[0].volts.shape[0] != batch:
            return batch
        k = next(i for i, t in enumerate(layer.tiles) if t is tile)
        got = [inputs[p, k][0].shape[0] for p in range(len(phases)) if (p, k) in inputs]
        return sum(got) if len(got) == len(phases) else batch

    def use_maps(self, layer, tile, batch: int) -> bool:
        """True to read ``tile`` through its exact maps for ``batch`` inputs: when they are
        cached, or when ``fastread.maps_pay_off`` for the tile's distinct inputs (see
        :meth:`plan`) and the CG iterations its last reads took.

        Parameters
        ----------
        layer : AnalogLinear
            The layer read.
        tile : Tile
            One of its tiles.
        batch : int
            Inputs of the coming read.

        Returns
        -------
        bool
            True for the maps, False for exact batched solves.
        """
        if not self._fast(layer, tile):
            return super().use_maps(layer, tile, batch)
        if tile.maps_ready(layer.energy):
            return True
        reads = self._reads(layer, tile, batch)
        # only the pulsed cells change between steps: the last count stays a good estimate
        its = self._iterations.get(id(tile), fastread.DEFAULT_ITERATIONS)
        M, N = tile.crossbar.shape
        return reads > 0 and fastread.maps_pay_off(M, N, reads, its)

    def _solved_here(self, layer, tile, B: int) -> bool:
        """Whether ``layer._run`` reads ``tile`` through :meth:`solve` in a phase of B inputs."""
        if not self._fast(layer, tile):
            return False
        return layer.read_method == "solve" or (
            layer.read_method == "auto" and not self.use_maps(layer, tile, B)
        )

    def _prefetch(self, layer, phase) -> None:
        """Solve every tile of ``layer`` this phase reads by solves, on the layer's threads."""
        self._ready, self._phase = {}, phase
        if self._plan is None or self._plan[0] is not layer:
            return
        _, phases, inputs = self._plan
        p = next((i for i, ph in enumerate(phases) if ph is phase), None)
        if p is None:
            return
        B = phase.volts.shape[0]
        todo = [
            k
            for k, t in enumerate(layer.tiles)
            if (p, k) in inputs and self._solved_here(layer, t, B)
        ]
        for k in todo:
            if inputs[p, k][0].shape[0] == 0:  # no input: the currents are exactly 0
                M, C = layer.tiles[k].crossbar.shape
                self._ready[k] = (
                    layer.tiles[k].crossbar.network(),
                    np.zeros((B, C)),
                    np.zeros((B, M)),
                )
        todo = [k for k in todo if k not in self._ready]
        nets = [layer.tiles[k].crossbar.network() for k in todo]
        Vs = [inputs[p, k][0] for k in todo]
        res = (
            fastread.read_many(nets, Vs, rtol=self.rtol, n_threads=layer.n_threads) if nets else []
        )
        for k, net, (ic, ir, it) in zip(todo, nets, res):
            inv = inputs[p, k][1]
            if it.size:
                self._iterations[id(layer.tiles[k])] = float(np.mean(it))
            self._ready[k] = (net, _scatter(ic, inv), _scatter(ir, inv))

    def _take(self, layer, tile, phase):
        if self._phase is not phase:
            return None
        k = next((i for i, t in enumerate(layer.tiles) if t is tile), None)
        hit = self._ready.pop(k, None)
        if hit is None or hit[0] is not tile.crossbar.network():  # conductances changed
            return None
        return hit[1], hit[2]

    def solve(self, layer, tile, V, phase):
        """Channel currents of one tile by exact batched solves (see the class docstring).

        Parameters
        ----------
        layer : AnalogLinear
            The layer (``dac.t_read`` gives the read duration, s).
        tile : Tile
            The tile read.
        V : (B, M) ndarray
            Word-line voltages of this read phase, V.
        phase : Phase
            The DAC phase (pulse-width phases take the default strategy).

        Returns
        -------
        I : (B, K) ndarray
            Channel currents before the TIA, A.
        energy : dict
            Read energy of the batch per component (``array``, ``drivers``, ``sense``), J.
        """
        if phase.codes is not None or not self._fast(layer, tile):
            return super().solve(layer, tile, V, phase)
        got = self._take(layer, tile, phase)
        if got is None and self._phase is not phase:
            self._prefetch(layer, phase)
            got = self._take(layer, tile, phase)
        if got is None:  # not planned (e.g. called directly): solve this tile alone
            Vu, inv = _distinct(V)
            ic, ir = fastread.read_many(
                [tile.crossbar.network()], [Vu], rtol=self.rtol, n_threads=layer.n_threads
            )[0][:2]
            got = _scatter(ic, inv), _scatter(ir, inv)
        i_col, i_row = got
        parts = {}
        if layer.energy:
            t = layer.dac.t_read
            e_tot = t * float(np.einsum("bi,bi->", V, i_row))
            e_drv = t * float(np.sum(np.asarray(tile.crossbar.r_driver) * i_row**2))
            e_sen = t * float(np.sum(np.asarray(tile.crossbar.r_sense) * i_col**2))
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
    device_iv : bool, default False
        Solve the reads with the cell I-V of the layer's device model (layers whose pairs are
        device arrays only; nonlinear cells are solved per read, no maps).  False reads the
        cells as linear conductances ``G·V`` (fast: maps and batched linear solves).
    read_noise : bool, default False
        Add the pair devices' state-dependent read noise (their ``read_noise_rel`` at the
        present conductances) to every cell read (device-array pairs only).
    random_state : None | int | Generator
        Converter errors and conversion noise of the ``AnalogLinear`` layers, and the read noise.
    """

    def __init__(
        self,
        *,
        array=None,
        dac=None,
        adc=None,
        tia=None,
        output_range: float | None = None,
        input_scaling: str = "per_sample",
        read_method: str = "auto",
        transfer_batch: int | None = None,
        fast_reads: bool = True,
        rerange: bool = False,
        device_iv: bool = False,
        read_noise: bool = False,
        random_state=None,
    ):
        self.rerange = bool(rerange)
        self.device_iv = bool(device_iv)
        self.read_noise = bool(read_noise)
        self.fast_reads = bool(fast_reads)
        from ..periphery import TIA

        if output_range is not None:
            check_scalar(output_range, "output_range", low=0.0, low_open=True)
            if tia is not None and tia.gain is not None:
                raise ConfigError(
                    "give either output_range or tia.gain, not both (got "
                    f"output_range={output_range!r}, tia.gain={tia.gain!r} ohm)"
                )
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
        self._noise_root = check_random_state(random_state) if read_noise else None
        self._layers: dict = {}  # id(layer) -> [AnalogLinear, version, transfer_batch]

    def _tia_for(self, layer):
        from ..periphery import DAC

        tia = self.options["tia"]
        if self.output_range is None:
            return tia
        dac = self.options["dac"] or DAC()
        gain = tia.v_swing * layer.k * dac.x_max / (dac.v_read * self.output_range)
        return dataclasses.replace(tia, gain=gain)

    def analog(self, layer):
        """The ``AnalogLinear`` of ``layer`` (built on first use), synchronised with its pairs.

        Parameters
        ----------
        layer : xbar.train.pulsed.PulsedLayer
            The layer read (its pairs in S, ``version`` bumped by every write).

        Returns
        -------
        xbar.periphery.AnalogLinear
            Its tiles hold the pairs' present conductances, S.
        """
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
            arrays = self._pair_arrays(layer)
            if self.device_iv:
                opts["array"] = _with_iv(opts.get("array"), arrays["+"].model.iv)
            noise = (
                CellReadNoise(_pair_read_noise(arrays), self._noise_root.spawn(1)[0])
                if self._noise_root is not None
                else None
            )
            analog = AnalogLinear(
                stacked_weights(layer).T,
                mapping=WeightMapping(w_max=layer.k * (g_max - g_min)),
                device=(g_min, g_max),
                ledger=layer.ledger,
                name=pairs.name,
                count_samples=False,
                random_state=self.random_state,
                read_method=self.read_method,
                channel_noise=noise,
                read_strategy=FastReads() if self.fast_reads else None,
                **opts,
            )
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

    def _pair_arrays(self, layer):
        """The device arrays behind ``layer``'s pairs (``{"+": ..., "-": ...}``), checked when
        ``device_iv``/``read_noise`` need them; None otherwise."""
        arrays = getattr(layer.pairs, "arrays", None)
        if (self.device_iv or self.read_noise) and not arrays:
            need = "device_iv=True" if self.device_iv else "read_noise=True"
            raise ConfigError(
                f"{need} needs a layer whose pairs are device arrays (built from an "
                "xbar.devices model, e.g. PulsedLayer.from_weights(W, "
                f"presets.tud_hfox(), ...)); layer {layer.pairs.name!r} has none"
            )
        return arrays

    def __call__(self, x_aug: np.ndarray, layer) -> np.ndarray:
        """Read ``layer`` for inputs ``x_aug`` through the periphery and the circuit.

        Parameters
        ----------
        x_aug : (B, n_in + bias) ndarray
            Inputs with the bias input appended, input units.
        layer : xbar.train.pulsed.PulsedLayer
            The layer read.

        Returns
        -------
        (B, n_out) ndarray
            Pre-activations, weight x input units.
        """
        analog = self.analog(layer)
        tb = self._layers[id(layer)][2]
        if self.read_method == "auto" and tb is not None:
            analog.read_method = "transfer" if (analog.linear and len(x_aug) >= tb) else "auto"
        if self.input_scaling == "none":
            return analog.forward(x_aug)
        scale = np.max(np.abs(x_aug), axis=1, keepdims=True) / analog.dac.x_max
        scale[scale == 0] = 1.0
        return analog.forward(x_aug / scale) * scale


def _with_iv(array, iv):
    """``array`` (an ``ArrayConfig`` or None) with the cell I-V ``iv`` in its crossbar options."""
    from ..periphery import ArrayConfig

    array = array if array is not None else ArrayConfig()
    options = dict(array.crossbar_options)
    if options.get("iv") is not None and options["iv"] != iv:
        raise ConfigError(
            f"array.crossbar_options['iv'] = {options['iv']!r} differs from the "
            f"device model's I-V {iv!r} that device_iv=True reads with"
        )
    options["iv"] = iv
    return dataclasses.replace(array, crossbar_options=options)


def _pair_read_noise(arrays):
    """``sigma(tile)`` of :class:`~xbar.periphery.CellReadNoise`: the relative read noise (M, C)
    of a tile's interleaved pair columns from the pair devices' tables at their present G."""

    def sigma(tile) -> np.ndarray:
        rows, outs = tile.spec.rows, tile.spec.outputs
        out = np.empty(np.shape(tile.G))
        out[:, 0::2] = arrays["+"].read_noise_rel()[rows, outs]
        out[:, 1::2] = arrays["-"].read_noise_rel()[rows, outs]
        return out

    return sigma
