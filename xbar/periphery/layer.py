"""``AnalogLinear``: a linear layer computed by crossbar arrays through their periphery.

``y = layer(x)`` for ``x`` (B, in) runs DAC -> circuit solve of every tile (wire resistance,
sneak paths, terminal resistances, cell model as configured) -> TIA -> ADC -> digital combination
(pair subtraction, bit-slice shift-and-add, bit-serial shift-and-add, tile partial sums) -> de-scaling
to weight x input units, so that an ideal periphery returns ``x @ W.T``.

Reads of linear cells with fixed conductances use each tile's exact linear maps, cached by its
``Crossbar``: the transfer matrix ``T`` (``I_col = T @ V_row``) and the driver admittance ``Y``
(``I_row = Y @ V_row``), so every later read is a matrix product and the
energy of a batch is a quadratic form of its second moment ``S = Vᵀ V``:
total ``t·Σ(Y ∘ S)`` (power supplied = dissipated), drivers ``t·Σ((Yᵀ R_d Y) ∘ S)``, sense
resistances ``t·Σ((Tᵀ R_s T) ∘ S)``; the rest (cells, access devices, wires) is booked as
component ``"array"``.  Per-read solves (small batches, nonlinear cells) book the solved
``PowerBreakdown`` parts ``cells``, ``access``, ``wires``, ``drivers``, ``sense``.  Both give the same
``"read"`` total (tested).  Caches are rebuilt when a tile's conductances change; the missing
maps of a forward pass are built concurrently on ``n_threads`` threads (the sweep releases the
GIL; the results are those of the serial build, tested).

With a device model as ``device`` (``AnalogLinear(W, device=xbar.devices.presets.tud_hfox())``)
every tile is a :class:`~xbar.circuit.DeviceCrossbar`: devices sampled per tile (d2d variation
from ``random_state``), the model's I-V in every read, weights programmed through the devices,
the model's read noise (``read_noise=True``) and drift (:meth:`AnalogLinear.age`); see
:mod:`xbar.periphery.device_tiles`.

Energy booked per forward call (tags ``layer``, ``operation``; contextual tags of the ledger such
as ``step``/``epoch`` are added by ``EnergyLedger.tags``):

* ``read``: array dissipation from the circuit solve x read duration, tag ``component``;
* ``dac``: ``power_per_line x t_read`` per driven word line per read;
* ``tia``: ``power x t_read`` per read-out channel per read;
* ``adc``: ``energy_per_conversion`` per conversion.

Extension points (public, stable): ``read_strategy`` (a :class:`ReadStrategy`: when linear tiles
are read through their maps and how they are solved otherwise; ``xbar.train.analog.FastReads`` is
one), ``channel_noise`` (a callable on the channel currents before the TIA, e.g.
:class:`CellReadNoise`), :meth:`AnalogLinear.set_weights` with its ``write`` hook (the programming
process), :meth:`AnalogLinear.target_conductances` and the ``calibrated``/``linear`` properties.
"""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np
from scipy.linalg.blas import dsyrk

from .._deprecate import renamed_kwarg, warn_renamed
from .._random import check_random_state, spawn
from .._threads import default_threads
from .._validation import as_float_array, check_choice
from ..circuit.cost import transfer_break_even
from ..circuit.crossbar import memristor_for_series, series_conductance
from ..exceptions import ConfigError
from ..pulses.ledger import EnergyLedger
from . import device_tiles
from .adc import ADC
from .dac import DAC, Phase
from .mapping import ConductanceRange, WeightMapping, conductance_range, effective_weights
from .tia import TIA
from .tiling import ArrayConfig, TileSpec, interleave_pairs, plan_tiles, split_pairs

__all__ = ["AnalogLinear", "CellReadNoise", "ReadStrategy", "Tile"]

READ_METHODS = ("auto", "transfer", "solve")
_SOLVE_BYTES = 64e6  # memory budget of one batched per-read solve


def _is_linear(xb, options: dict) -> bool:
    """True when the tile's cells are ohmic (``Crossbar`` normalises a Linear model to None)."""
    return xb.linear


class Tile:
    """One physical array with its read-out channels.

    The parameters are kept as the attributes of the same name.

    Parameters
    ----------
    spec : TileSpec
        Inputs (``spec.rows``) and outputs (``spec.outputs``) covered.
    crossbar : xbar.Crossbar
        The array; change its conductances with ``crossbar.set_conductances`` (caches follow).
    A : (C, K) ndarray
        Analog combination of the weight mapping: column currents into read-out channels
        (dimensionless, ±1).
    D : (K, outputs) ndarray
        Digital combination of the weight mapping after the ADC (weight units per A/V).

    Attributes
    ----------
    gains : (K,) ndarray
        TIA trans-impedance per channel, ohm (1 until the layer sets them).
    lo, hi : (K,) ndarray
        ADC range per channel, V (unbounded until the layer sets them).
    adc_gain : (K,) ndarray
        Relative gain error of each channel's converter, dimensionless (1 = ideal).
    adc_offset : (K,) ndarray
        Offset error of each channel's converter, LSB.
    """

    def __init__(self, spec: TileSpec, crossbar, A: np.ndarray, D: np.ndarray):
        self.spec, self.crossbar, self.A, self.D = spec, crossbar, A, D
        K = A.shape[1]
        self.gains = np.ones(K)
        self.lo = np.full(K, -np.inf)
        self.hi = np.full(K, np.inf)
        self.adc_gain = np.ones(K)
        self.adc_offset = np.zeros(K)
        self._cache: dict = {}
        # When D is a scaled permutation (one channel per output) the digital combination is a
        # per-channel scale and scatter instead of a matrix product.
        # output_scatter: (permutation or None for the identity, per-channel scale) or None.
        nz = D != 0
        self.output_scatter: tuple[np.ndarray | None, np.ndarray] | None = None
        if np.all(nz.sum(axis=0) == 1) and np.all(nz.sum(axis=1) == 1):
            out = np.argmax(nz, axis=1)
            self.output_scatter = (
                None if np.array_equal(out, np.arange(K)) else out,
                D[np.arange(K), out].copy(),
            )
        self._scatter = self.output_scatter  # former private name, kept for one release

    @property
    def G(self) -> np.ndarray:
        """(rows, C) conductances of the array, S (read-only view)."""
        return self.crossbar.G

    @property
    def n_channels(self) -> int:
        return self.A.shape[1]

    def maps_ready(self, with_energy: bool) -> bool:
        """True if :meth:`linear_maps` is cached for the present conductances.

        Parameters
        ----------
        with_energy : bool
            Whether the energy forms must be cached too.
        """
        c, G = self._cache, self.crossbar.G
        cached = bool(c) and (c["G"] is G or np.array_equal(c["G"], G))
        return cached and (not with_energy or "Q_total" in c)

    def linear_maps(self, with_energy: bool) -> dict:
        """Cached ``TA = Tᵀ A`` (M, K) and, ``with_energy``, the quadratic forms (M, M), S/V².

        Parameters
        ----------
        with_energy : bool
            Also build the quadratic forms of the read energy (needs the driver admittance).

        Returns
        -------
        dict
            ``"TA"`` (M, K) A/V, ``"Q_total"``/``"Q_drivers"``/``"Q_sense"`` (M, M) S, and the
            conductances ``"G"`` (S) they were built from.
        """
        xb = self.crossbar
        c = self._cache
        if self.maps_ready(with_energy):
            return c
        c.clear()
        G = xb.G  # taken first: a write while the maps build leaves them marked stale
        if with_energy:
            # Both maps from the crossbar's cache (one column sweep when it applies).
            Y = xb.port_admittance()
            T = xb.transfer_matrix()
            sym = lambda Q: 0.5 * (Q + Q.T)  # noqa: E731
            c["Q_total"] = sym(Y)
            c["Q_drivers"] = sym(Y.T @ (np.asarray(xb.r_driver)[:, None] * Y))
            c["Q_sense"] = sym(T.T @ (np.asarray(xb.r_sense)[:, None] * T))
        else:
            T = xb.transfer_matrix()
        c["TA"] = np.ascontiguousarray(T.T @ self.A)
        c["G"] = G
        return c


class ReadStrategy:
    """How :class:`AnalogLinear` reads a tile of linear cells when ``read_method="auto"``.

    The extension API for read paths: subclass and override :meth:`use_maps` (read through the
    tile's cached exact linear maps, or solve the batch's reads) and/or :meth:`solve` (the per-read
    path), then pass an instance as ``AnalogLinear(read_strategy=...)`` or assign
    ``layer.read_strategy``.  The layer itself handles ``read_method="transfer"``/``"solve"`` and
    nonlinear cells (always solved), the map path and its energy, the channel noise, TIA and ADC.
    Both paths must return the same currents (within the solver's tolerance); only their cost may
    differ.  The default reproduces the layer's rule: maps when cached or when the batch has at
    least a third of the tile's smaller side inputs (building them costs about ``min(M, N)/3``
    solves, measured), else one ``Crossbar.solve`` per chunk of reads.
    """

    def plan(self, layer: "AnalogLinear", phases: list) -> None:
        """Called by a forward pass with its DAC phases before any map is built or tile read
        (a strategy may look at the inputs, e.g. count distinct ones); the default does nothing.

        Parameters
        ----------
        layer : AnalogLinear
            The layer about to be read.
        phases : list of Phase
            The DAC phases of the pass (``phase.volts`` (B, in), V).
        """

    def use_maps(self, layer: "AnalogLinear", tile: Tile, batch: int) -> bool:
        """True to read ``tile`` (linear cells) through its exact maps for ``batch`` inputs.

        Parameters
        ----------
        layer : AnalogLinear
            The layer read.
        tile : Tile
            The tile read.
        batch : int
            Inputs in the batch.
        """
        return tile.maps_ready(layer.energy) or batch >= transfer_break_even(*tile.crossbar.shape)

    def solve(
        self, layer: "AnalogLinear", tile: Tile, V: np.ndarray, phase: Phase
    ) -> tuple[np.ndarray, dict]:
        """Channel currents of one tile by circuit solves of its reads.

        Parameters
        ----------
        layer : AnalogLinear
            The layer (its ``dac`` gives the read duration and the pulse-width levels).
        tile : Tile
            The tile read.
        V : (B, M) ndarray
            Word-line voltages of this read phase, V.
        phase : Phase
            The DAC phase (``phase.codes`` not None for pulse-width encoding: the read is the
            time average over its amplitude slots).

        Returns
        -------
        I : (B, K) ndarray
            Channel currents before the TIA, A (columns combined by ``tile.A``).
        energy : dict
            Read energy of the batch per ``component`` tag, J (booked by the layer as ``read``).
        """
        xb = tile.crossbar
        M, C = xb.shape
        B = V.shape[0]
        t_read = layer.dac.t_read
        chunk = max(1, int(_SOLVE_BYTES // (12 * 8 * M * C)))
        cols = np.zeros((B, C))
        parts = dict.fromkeys(("cells", "access", "wires", "drivers", "sense"), 0.0)
        if phase.codes is None:
            slots = [(V, 1.0)]
        else:
            codes = phase.codes[:, tile.spec.rows]
            L = layer.dac.levels
            assert L is not None  # time-encoded phases come with their levels
            mag, sgn = np.abs(codes), np.sign(codes)
            slots = [
                (sgn * (mag >= k) * layer.dac.v_read, 1.0 / L)
                for k in range(1, int(mag.max(initial=0)) + 1)
            ]
        for Vs, frac in slots:
            for s in range(0, B, chunk):
                sol = xb.solve(Vs[s : s + chunk], np.zeros((min(B, s + chunk) - s, C)))
                cols[s : s + chunk] += frac * sol.col_currents
                for k in parts:
                    parts[k] += frac * t_read * float(np.sum(getattr(sol.power, k)))
        return cols @ tile.A, parts


class CellReadNoise:
    """Cell read noise on the channel currents before the TIA (a ``channel_noise`` of
    :class:`AnalogLinear`).

    A cell read as ``G (1 + σ z)``, z ~ N(0, 1) independent per cell and read, adds to column
    ``c`` the current ``Σ_i V_i σ_ic G_ic z_ic``: Gaussian with variance ``Σ_i V_i² σ_ic² G_ic²``,
    and to channel ``k`` (columns combined by ``A``) the variance ``Σ_c A_ck² Σ_i V_i² σ_ic² G_ic²``.
    The noise is propagated through ideal wires (its IR-drop correction is of order ``r·G`` of a
    quantity that is already small) and drawn per read, so every input of a batch sees fresh noise.

    Parameters
    ----------
    sigma : float or callable
        Relative read noise ``σ`` (dimensionless, ``std(G_read)/G``), or a callable
        ``sigma(tile) -> (M, C)`` array of per-cell relative noise (e.g. a device model's
        state-dependent table).  0 draws nothing.
    random_state : None, int, SeedSequence or Generator
        The noise stream.
    """

    def __init__(self, sigma: float | Callable[[Tile], np.ndarray], random_state=None):
        if not callable(sigma):
            from .._validation import check_scalar

            sigma = float(check_scalar(sigma, "sigma", low=0.0, high=1.0))
        self.sigma = sigma
        self.rng = check_random_state(random_state)

    def __call__(self, tile: Tile, V: np.ndarray, I: np.ndarray) -> np.ndarray:
        """Noisy channel currents (B, K) A from the noiseless ``I`` (B, K) A of word-line
        voltages ``V`` (B, M) V on ``tile``.

        Parameters
        ----------
        tile : Tile
            The tile read (its conductances in S, its analog combination ``A``).
        V : (B, M) ndarray
            Word-line voltages, V.
        I : (B, K) ndarray
            Noiseless channel currents, A.

        Returns
        -------
        (B, K) ndarray
            Channel currents with the read noise, A.
        """
        sigma = self.sigma(tile) if callable(self.sigma) else self.sigma
        if not callable(self.sigma) and sigma == 0.0:
            return I
        var_map = ((sigma * np.asarray(tile.G)) ** 2) @ (tile.A**2)  # (M, K), A²/V²
        std = np.sqrt((V * V) @ var_map)
        return I + std * self.rng.standard_normal(I.shape)


class AnalogLinear:
    """A linear layer ``y = x @ W.T`` computed by crossbar tiles through DAC, TIA and ADC.

    Parameters
    ----------
    W : (out, in) array_like
        Weights (finite).
    array : ArrayConfig, optional
        Physical array size, wires and cell type (default ``ArrayConfig()``: 256 x 256, 1 ohm).
    dac, adc, tia : DAC, ADC, TIA, optional
        Periphery configurations (defaults: 8-bit amplitude DAC at 0.2 V, 8-bit ADC over the TIA
        swing, automatic-gain TIA).
    mapping : WeightMapping, optional
        Weight to conductance mapping (default differential pairs, analog subtraction).
    device : device model, ConductanceRange, (g_min, g_max) (S), optional
        A device model (any ``xbar.devices`` model or fitted preset, e.g.
        ``xbar.devices.presets.tud_hfox()``): every tile is then a
        :class:`~xbar.circuit.DeviceCrossbar` of devices sampled per tile from ``random_state``
        (device-to-device variation), read through the model's cell I-V, programmed through the
        devices (``programming``), with the model's read noise (``read_noise``) and drift
        (:meth:`age`); the mapping uses the model's nominal window.  Otherwise a conductance
        window only (ideal cells; default 0.5-10 µS).  See :mod:`xbar.periphery.device_tiles`.
    programming : {"exact", "verify"}
        How :meth:`set_weights` (and the construction) writes a device-backed tile: each device
        set to its target (clipped to its own window), or the model's program-and-verify from
        the formed state.  Device models only.
    program_options : dict, optional
        Keyword arguments of the model's ``program_verify`` (tolerance in S, ``max_pulses``,
        ``width`` in s, ``compliance`` in A, ``on_failure``...), for ``programming="verify"``.
    read_noise : bool
        Read the cells with the device model's state-dependent read noise on every read
        (:class:`CellReadNoise` of each tile's devices, drawn from the layer's operation stream).
        Device models only; not together with ``channel_noise``.  Default False (noiseless reads).
    ledger : EnergyLedger, optional
        Where reads book their energy (default: a new ledger, ``layer.ledger``).
    name : str
        ``layer`` tag of the bookings.
    read_method : {"auto", "transfer", "solve"}
        ``"transfer"``: exact linear maps per tile (linear cells only); ``"solve"``: a circuit solve
        per read; ``"auto"``: transfer when the cells are linear and the maps are cached or the
        batch has at least as many inputs as the tile has word lines.
    energy : bool
        Book energy (and build the driver admittance it needs) on every forward call.
    n_threads : int or None
        Threads that build the missing read maps of a forward pass concurrently (None: one per
        core, at most 2).  1 builds them one after the other; the results are the same.
    count_samples : bool
        Add each forward batch to ``ledger.samples`` (switch off when a network counts samples).
    read_strategy : ReadStrategy, optional
        Chooses, for ``read_method="auto"`` and linear cells, between a tile's exact maps and
        circuit solves, and performs the solves (default ``ReadStrategy()``, the rule above).
        Settable later as ``layer.read_strategy``.
    channel_noise : callable, optional
        ``channel_noise(tile, V, I) -> I_noisy``: noise added to a tile's channel currents
        ``I`` (B, K) A of word-line voltages ``V`` (B, M) V before the TIA, on every read (both
        read paths; e.g. :class:`CellReadNoise`).  It must return a (B, K) array in A and owns its
        random stream.  None: noiseless.  Settable later as ``layer.channel_noise``.
    random_state : None, int, SeedSequence or Generator
        Seeds the converter errors and the tiles' devices (fabrication stream) and the conversion
        and read noise (operation stream).

    Attributes
    ----------
    tiles : list of Tile
        The arrays; ``tiles[k].crossbar`` exposes the conductances (a ``DeviceCrossbar`` whose
        ``devices`` hold the state with a device model).
    device : device model or None
        The device model of the tiles (None for a conductance window).
    w_max : float
        Weight full scale of the mapping.
    stats : dict
        Counters: ``reads``, ``conversions``, ``adc_clipped``, ``tia_saturated``.
    """

    # set in __init__ (declared for the type checker: the import cycle hides their types)
    _fab_rng: np.random.Generator
    _op_rng: np.random.Generator
    w_max: float
    _linear: bool
    n_threads: int
    stats: dict

    @renamed_kwarg(map_workers="n_threads")
    def __init__(
        self,
        W,
        *,
        array: ArrayConfig | None = None,
        dac: DAC | None = None,
        adc: ADC | None = None,
        tia: TIA | None = None,
        mapping: WeightMapping | None = None,
        device=None,
        ledger: EnergyLedger | None = None,
        name: str = "analog",
        read_method: str = "auto",
        energy: bool = True,
        count_samples: bool = True,
        n_threads: int | None = None,
        read_strategy: ReadStrategy | None = None,
        channel_noise: Callable[[Tile, np.ndarray, np.ndarray], np.ndarray] | None = None,
        programming: str = "exact",
        program_options: dict | None = None,
        read_noise: bool = False,
        random_state=None,
    ):
        W = as_float_array(W, "W")
        if W.ndim != 2 or 0 in W.shape:
            raise ConfigError(f"W must be a non-empty 2-D (out, in) array, got shape {W.shape}")
        for obj, cls, argname in (
            (array, ArrayConfig, "array"),
            (dac, DAC, "dac"),
            (adc, ADC, "adc"),
            (tia, TIA, "tia"),
            (mapping, WeightMapping, "mapping"),
        ):
            if obj is not None and not isinstance(obj, cls):
                raise ConfigError(f"{argname} must be a {cls.__name__}, got {type(obj).__name__}")
        if read_strategy is not None and not isinstance(read_strategy, ReadStrategy):
            raise ConfigError(
                f"read_strategy must be a ReadStrategy, got {type(read_strategy).__name__}"
            )
        if channel_noise is not None and not callable(channel_noise):
            raise ConfigError(
                "channel_noise must be callable (tile, V, I) -> I or None, got "
                f"{type(channel_noise).__name__}"
            )
        self.read_strategy = read_strategy if read_strategy is not None else ReadStrategy()
        self.channel_noise = channel_noise
        if ledger is not None and not isinstance(ledger, EnergyLedger):
            raise ConfigError(f"ledger must be an EnergyLedger, got {type(ledger).__name__}")
        self.W = W.copy()
        self.W.flags.writeable = False
        self.array = array or ArrayConfig()
        self.dac = dac or DAC()
        self.adc = adc or ADC()
        self.tia = tia or TIA()
        self.mapping = mapping or WeightMapping()
        self.device = device_tiles.device_model(device)
        self.window = (
            conductance_range(device)
            if self.device is None
            else device_tiles.model_window(self.device)
        )
        # 1T1R cells conduct G / (1 + G·r_access): the mapping targets that cell conductance
        # (the read window), and the memristors are written to what reaches it
        self.r_series = (
            float(self.array.r_access) if self.array.cell == "1T1R" and self.array.r_access else 0.0
        )
        self.read_window = (
            self.window
            if not self.r_series
            else ConductanceRange(
                float(series_conductance(self.window.g_min, self.r_series)),
                float(series_conductance(self.window.g_max, self.r_series)),
            )
        )
        self.programming = programming
        self.program_options = device_tiles.check_programming(
            self.device, programming, program_options, self.array.crossbar_options
        )
        if read_noise and self.device is None:
            raise ConfigError(
                "read_noise=True needs a device model as device (its read-noise "
                "table), got a conductance window; use channel_noise="
                "CellReadNoise(sigma) for a fixed relative noise"
            )
        if read_noise and channel_noise is not None:
            raise ConfigError(
                "give either read_noise=True (the device model's read noise) or "
                "channel_noise, not both"
            )
        self.read_noise = bool(read_noise)
        self.ledger = ledger if ledger is not None else EnergyLedger()
        self.name = str(name)
        self.read_method = check_choice(read_method, "read_method", READ_METHODS)
        self.energy = bool(energy)
        self.count_samples = bool(count_samples)
        if n_threads is None:
            n_threads = default_threads()
        if (
            isinstance(n_threads, bool)
            or not isinstance(n_threads, numbers.Integral)
            or n_threads < 1
        ):
            raise ConfigError(f"n_threads must be an integer >= 1 or None, got {n_threads!r}")
        self.n_threads = int(n_threads)
        self._fab_rng, self._op_rng = spawn(check_random_state(random_state), 2)
        self.w_max = self.mapping.full_scale(W)
        self.stats = {"reads": 0, "conversions": 0, "adc_clipped": 0, "tia_saturated": 0}

        self.tiles: list[Tile] = self._build_tiles(
            W, self.array.crossbar_kwargs(self.dac.r_driver, self.tia.r_in)
        )
        if self.read_noise:
            self.channel_noise = CellReadNoise(_device_read_noise, self._op_rng.spawn(1)[0])
        self.update_gains()
        self._linear = _is_linear(self.tiles[0].crossbar, self.array.crossbar_options)
        if self.read_method == "transfer" and not self._linear:
            raise ConfigError("read_method='transfer' needs linear cells; use 'solve' or 'auto'")
        self.set_adc(self.adc)

    def _build_tiles(self, W: np.ndarray, kw: dict) -> list[Tile]:
        """Map ``W`` onto the tiles' conductances (``kw``: ``Crossbar`` keyword arguments)."""
        from ..circuit import Crossbar

        n_out, n_in = W.shape
        tiles = []
        specs = plan_tiles(
            n_in,
            n_out,
            self.array.max_rows,
            self.array.max_cols,
            self.mapping.columns_per_output,
            self.mapping.reference_columns,
        )
        # one fabrication stream per tile, spawned (not drawn) from the layer's: the converter
        # errors drawn from it afterwards are those of a layer without devices
        streams = self._fab_rng.spawn(len(specs)) if self.device is not None else None
        for k, spec in enumerate(specs):
            blk = self.mapping.map_block(W[spec.outputs, spec.rows], self.read_window, self.w_max)
            G_cells = self._memristors(blk.G)
            if streams is None:
                tiles.append(Tile(spec, Crossbar(G_cells, **kw), blk.A, blk.D))
                continue
            kw_dev = {key: v for key, v in kw.items() if key != "iv"}
            devices = self.device.sample(blk.G.shape, random_state=streams[k])
            xb = Crossbar(devices, **kw_dev)
            device_tiles.program_tile(xb, G_cells, self.programming, self.program_options)
            tiles.append(Tile(spec, xb, blk.A, blk.D))
        return tiles

    def update_gains(self) -> None:
        """Set the TIA gains per channel (``tia.gain``, or automatic from ``tia.auto_gain``: the
        present conductances or the whole window; a channel whose present bound is 0, i.e. an
        all-zero weight row, takes the window's gain).  Calibrated ADC ranges need ``calibrate`` again
        after a gain change."""
        win = self.read_window
        for tile in self.tiles:
            # each column at g_max or g_min: the largest |sum_c A_ck G_ic| per row
            g_abs = np.maximum(
                np.abs(
                    win.g_max * np.clip(tile.A, 0, None).sum(0)
                    + win.g_min * np.clip(tile.A, None, 0).sum(0)
                ),
                np.abs(
                    win.g_min * np.clip(tile.A, 0, None).sum(0)
                    + win.g_max * np.clip(tile.A, None, 0).sum(0)
                ),
            )
            i_window = self.dac.v_read * tile.G.shape[0] * g_abs
            if self.tia.auto_gain == "window":
                tile.gains = self.tia.channel_gains(i_window)
            else:
                # A channel whose weights are all zero (bound 0) takes the window's gain: it
                # reads 0 (exactly, with the ADC's zero code) and a later write is not saturated.
                i_bound = self.dac.v_read * np.abs(self._cell_conductance(tile.G) @ tile.A).sum(
                    axis=0
                )
                tile.gains = self.tia.channel_gains(i_bound, i_window)

    def set_adc(self, adc: ADC) -> None:
        """Use the converter configuration ``adc`` from now on (e.g. in a sweep of bits).

        Draws new converter errors from the layer's fabrication stream; fixed and full ranges apply
        at once, calibrated ones need ``calibrate`` again.

        Parameters
        ----------
        adc : ADC
            The converter configuration.
        """
        if not isinstance(adc, ADC):
            raise ConfigError(f"adc must be an ADC, got {type(adc).__name__}")
        self.adc = adc
        for tile in self.tiles:
            tile.adc_gain, tile.adc_offset = adc.converter_errors(tile.n_channels, self._fab_rng)
        self._calibrated = adc.range not in ("calibrate", "percentile")
        if self._calibrated:
            for tile in self.tiles:
                tile.lo, tile.hi = adc.ranges_from(np.zeros((1, tile.n_channels)), self.tia.v_swing)

    # ------------------------------------------------------------------ properties
    @property
    def map_workers(self) -> int:
        """Deprecated name of ``n_threads`` (the number of threads, an int)."""
        warn_renamed("map_workers", "n_threads")
        return self.n_threads

    @property
    def calibrated(self) -> bool:
        """True when the ADC ranges are set (fixed or full range, or after :meth:`calibrate`);
        a forward pass needs it."""
        return self._calibrated

    @property
    def linear(self) -> bool:
        """True when the cells are ohmic (the exact linear read maps apply)."""
        return self._linear

    @property
    def in_features(self) -> int:
        return self.W.shape[1]

    @property
    def out_features(self) -> int:
        return self.W.shape[0]

    def __repr__(self) -> str:
        return (
            f"AnalogLinear({self.in_features} -> {self.out_features}, tiles={len(self.tiles)}, "
            f"dac={self.dac.bits} b {self.dac.encoding}, adc={self.adc.bits} b, "
            f"scheme={self.mapping.scheme!r}, {self._device_repr()}name={self.name!r})"
        )

    def _device_repr(self) -> str:
        """``device=..., `` of a device-backed layer (model, I-V, programming, read noise)."""
        if self.device is None:
            return f"window=[{self.window.g_min:.3g}, {self.window.g_max:.3g}] S, "
        return (
            f"device={type(self.device).__name__}({getattr(self.device, 'source', '')!r}), "
            f"iv={self.tiles[0].crossbar.iv!r}, programming={self.programming!r}, "
            f"read_noise={self.read_noise}, "
        )

    @property
    def devices(self) -> list | None:
        """The device arrays of the tiles (their state is the tiles' conductances, S), or None
        without a device model."""
        if self.device is None:
            return None
        return [t.crossbar.devices for t in self.tiles]

    def age(self, t: float, random_state=None) -> None:
        """Let ``t`` seconds pass: every tile's devices relax with the model's drift (the clock
        of each cell runs from its last programming) and the tiles follow.  TIA gains and ADC
        ranges stay as they are.

        Parameters
        ----------
        t : float
            Time, s (>= 0).
        random_state : None, int, SeedSequence or Generator
            Relaxation stream, spawned into one per tile (default: each tile's devices' own
            operation stream).
        """
        from .._validation import check_scalar

        if self.device is None:
            raise ConfigError(
                "age needs a device model: build the layer with "
                "AnalogLinear(W, device=model) (e.g. "
                "xbar.devices.presets.stanford_tech_b())"
            )
        check_scalar(t, "t", low=0.0, unit="s")
        rngs = (
            [None] * len(self.tiles)
            if random_state is None
            else spawn(check_random_state(random_state), len(self.tiles))
        )
        for tile, r in zip(self.tiles, rngs):
            tile.crossbar.age(float(t), random_state=r)

    def ideal(self, x) -> np.ndarray:
        """The ideal result ``x @ W.T`` of the weights the layer was built from.

        Parameters
        ----------
        x : (in,) or (B, in) array_like
            Inputs, in the layer's input units (``dac.x_max`` is full scale).

        Returns
        -------
        (out,) or (B, out) ndarray
            ``x @ W.T``, weight x input units.
        """
        x, single = self._check_x(x)
        y = x @ self.W.T
        return y[0] if single else y

    def effective_weights(self) -> np.ndarray:
        """(out, in) weights the present conductances represent (the mapping's inverse)."""
        W = np.zeros_like(self.W)
        for t in self.tiles:
            W[t.spec.outputs, t.spec.rows] += effective_weights(
                self._cell_conductance(t.G), t.A, t.D
            )
        return W

    def read_time(self) -> float:
        """Time for one input vector, s: reads x (read duration + ADC read-out of all channels)."""
        return self.dac.reads_per_input() * (self.dac.t_read + self.adc.readout_time())

    # ------------------------------------------------------------------ conductances
    def conductances(self) -> list[np.ndarray]:
        """Copies of every tile's conductances (rows, C), S."""
        return [np.array(t.G) for t in self.tiles]

    def target_conductances(self, W) -> list[np.ndarray]:
        """Per-tile (rows, C) conductances, S, that represent weights ``W`` (out, in).

        Mapped with the layer's ``mapping`` and its fixed full scale ``w_max`` (weights beyond it
        clip at the window's end), as at construction; nothing is written.

        Parameters
        ----------
        W : (out, in) array_like
            Weights, in the layer's weight units.

        Returns
        -------
        list of (rows, C) ndarray
            Target conductances per tile, S.
        """
        W = as_float_array(W, "W", shape=self.W.shape)
        return [
            self._memristors(
                self.mapping.map_block(
                    W[t.spec.outputs, t.spec.rows], self.read_window, self.w_max
                ).G
            )
            for t in self.tiles
        ]

    def _memristors(self, g_cell: np.ndarray) -> np.ndarray:
        """Memristor conductances (S) whose cells conduct ``g_cell`` (S): the same without an
        access transistor, ``g / (1 − g·r_access)`` with one."""
        if not self.r_series:
            return g_cell
        return memristor_for_series(g_cell, self.r_series)

    def _cell_conductance(self, G) -> np.ndarray:
        """What cells of memristor conductances ``G`` (S) conduct, S (with the access
        transistor of 1T1R cells)."""
        G = np.asarray(G)
        return series_conductance(G, self.r_series) if self.r_series else G

    def set_weights(
        self, W, *, write: Callable[[int, np.ndarray], np.ndarray] | None = None
    ) -> None:
        """Program weights ``W`` (out, in) into every tile.

        Writes the conductances :meth:`target_conductances` gives (cached read maps are rebuilt
        on the next read) and re-applies the TIA gain rule (:meth:`update_gains`, as a controller
        that knows what it wrote would).  ``layer.W`` (and :meth:`ideal`) follow.  Converter
        errors (fabrication) are kept; calibrated ADC ranges stay as they were (call
        :meth:`calibrate` again to re-fit them to the new gains).

        Parameters
        ----------
        W : (out, in) array_like
            Weights, in the layer's weight units.
        write : callable, optional
            ``write(index, G_target) -> G``: the programming process of tile ``index``, given its
            (rows, C) target conductances in S and returning those it reached, S (e.g. a
            programming error).  Default: the targets, exactly, or with a device model the
            layer's ``programming`` through the tiles' devices (a device-backed tile writes the
            returned G into its devices exactly).
        """
        W = as_float_array(W, "W", shape=self.W.shape)
        for i, G in enumerate(self.target_conductances(W)):
            if write is None and self.device is not None:
                device_tiles.program_tile(
                    self.tiles[i].crossbar, G, self.programming, self.program_options
                )
            else:
                self.set_conductances(i, G if write is None else write(i, G))
        self.update_gains()
        self.W = W.copy()
        self.W.flags.writeable = False

    def set_conductances(self, index: int, G) -> None:
        """Replace tile ``index``'s conductances (S); cached maps are rebuilt on the next read.

        A device-backed tile writes them into its devices exactly (each clipped to its own
        window; the tile then holds the devices' state).

        Parameters
        ----------
        index : int
            Tile index in ``[0, len(tiles))``.
        G : (rows, C) array_like
            Conductances, S.
        """
        if (
            isinstance(index, bool)
            or not isinstance(index, numbers.Integral)
            or not 0 <= index < len(self.tiles)
        ):
            raise ConfigError(
                f"index must be an integer in [0, {len(self.tiles) - 1}], got {index!r}"
            )
        self.tiles[index].crossbar.set_conductances(G)

    def _check_pairs(self) -> None:
        m = self.mapping
        if m.scheme != "differential" or m.slices != 1:
            raise ConfigError(
                "conductance pairs need mapping scheme='differential' with slices=1, "
                f"got scheme={m.scheme!r}, slices={m.slices}"
            )

    def conductance_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(G_plus, G_minus)``, each (in, out) S, assembled over tiles (differential mapping).

        Returns
        -------
        G_plus, G_minus : (in, out) ndarray
            Conductances of the pairs' positive and negative columns, S.
        """
        self._check_pairs()
        gp = np.empty((self.in_features, self.out_features))
        gm = np.empty_like(gp)
        for t in self.tiles:
            gp[t.spec.rows, t.spec.outputs], gm[t.spec.rows, t.spec.outputs] = split_pairs(t.G)
        return gp, gm

    def set_conductance_pairs(self, G_plus, G_minus) -> None:
        """Write ``G_plus``, ``G_minus`` (in, out) S into the tiles (caches follow).

        Parameters
        ----------
        G_plus, G_minus : (in, out) array_like
            Conductances of the pairs' positive and negative columns, S (a device-backed tile
            writes them into its devices exactly).
        """
        self._check_pairs()
        shape = (self.in_features, self.out_features)
        gp = as_float_array(G_plus, "G_plus", shape=shape)
        gm = as_float_array(G_minus, "G_minus", shape=shape)
        for t in self.tiles:
            t.crossbar.set_conductances(
                interleave_pairs(gp[t.spec.rows, t.spec.outputs], gm[t.spec.rows, t.spec.outputs])
            )

    @property
    def siemens_per_weight(self) -> float:
        """Conductance difference per weight unit of the differential mapping, S."""
        self._check_pairs()
        return (self.read_window.g_max - self.read_window.g_min) / self.w_max

    # ------------------------------------------------------------------ reads
    def _check_x(self, x) -> tuple[np.ndarray, bool]:
        x = as_float_array(x, "x")
        if x.ndim == 1:
            x = x[None]
            single = True
        else:
            single = False
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ConfigError(
                f"x must have shape ({self.in_features},) or (B, {self.in_features}), got {x.shape}"
            )
        return x, single

    def _use_transfer(self, tile: Tile, batch: int) -> bool:
        if self.read_method == "solve" or not self._linear:
            return False
        if self.read_method == "transfer":
            return True
        return self.read_strategy.use_maps(self, tile, batch)

    def build_maps(self, batch: int) -> None:
        """Build the read maps every tile will use for a batch of ``batch`` inputs and lacks,
        on ``n_threads`` threads.

        Parameters
        ----------
        batch : int
            Inputs of the coming forward pass.
        """
        from ..circuit.transfer import in_parallel

        need = [
            t for t in self.tiles if self._use_transfer(t, batch) and not t.maps_ready(self.energy)
        ]
        in_parallel(lambda t: t.linear_maps(self.energy), need, self.n_threads)

    def _convert_into(self, y: np.ndarray, tile: Tile, chan: np.ndarray, weight: float):
        """TIA + ADC of a tile's channel currents (B, K), combined by ``D``, added into ``y``."""
        adc, tia = self.adc, self.tia
        args = (
            chan,
            tile.gains,
            tia.v_swing,
            tile.lo,
            tile.hi,
            tile.adc_gain,
            tile.adc_offset,
            self._op_rng,
        )
        yb = y[:, tile.spec.outputs]
        scatter = tile.output_scatter
        if scatter is not None and scatter[0] is None:
            _, n_sat, n_clip = adc.read_out(*args, scale=weight * scatter[1], out=yb)
        elif scatter is not None:
            perm, scale = scatter
            q, n_sat, n_clip = adc.read_out(*args, scale=weight * scale)
            yb[:, perm] += q
        else:
            q, n_sat, n_clip = adc.read_out(*args)
            yb += weight * (q @ tile.D)
        self.stats["tia_saturated"] += n_sat
        self.stats["adc_clipped"] += n_clip

    def _book(self, category: str, energy: float, count: int, operation: str, **tags) -> None:
        if self.energy:
            self.ledger.book(
                category, energy, count=count, layer=self.name, operation=operation, **tags
            )

    def _channels(
        self, tile: Tile, V: np.ndarray, phase: Phase, operation: str, moment: dict
    ) -> np.ndarray:
        """Channel currents (B, K) A of one tile for one read (with ``channel_noise``), booking
        its array energy."""
        chan = self._exact_channels(tile, V, phase, operation, moment)
        if self.channel_noise is not None:
            chan = self.channel_noise(tile, V, chan)
        return chan

    def _exact_channels(
        self, tile: Tile, V: np.ndarray, phase: Phase, operation: str, moment: dict
    ) -> np.ndarray:
        t_read = self.dac.t_read
        B = V.shape[0]
        if self._use_transfer(tile, B):
            maps = tile.linear_maps(self.energy)
            chan = V @ maps["TA"]
            if self.energy:
                S = moment.get("S")
                if S is None:
                    S = moment["S"] = self._second_moment(V, phase, tile.spec.rows)
                e_tot = t_read * _trace_sym(maps["Q_total"], S)
                e_drv = t_read * _trace_sym(maps["Q_drivers"], S)
                e_sen = t_read * _trace_sym(maps["Q_sense"], S)
                self._book("read", max(e_tot - e_drv - e_sen, 0.0), B, operation, component="array")
                self._book("read", e_drv, B, operation, component="drivers")
                self._book("read", e_sen, B, operation, component="sense")
            return chan
        chan, parts = self.read_strategy.solve(self, tile, V, phase)
        for k, e in parts.items():
            self._book("read", e, B, operation, component=k)
        return chan

    def _second_moment(self, V: np.ndarray, phase: Phase, rows: slice) -> np.ndarray:
        """``Σ_b V_bᵀ V_b`` (V²), or its time average over the pulse-width slots (upper triangle)."""
        if phase.codes is None:
            S = np.zeros((V.shape[1], V.shape[1]))
            for s in range(0, V.shape[0], 2048):  # long inner products are slow in OpenBLAS
                S = dsyrk(1.0, V[s : s + 2048], trans=1, beta=1.0, c=S, overwrite_c=1)
            return S
        L = self.dac.levels
        assert L is not None  # time-encoded phases come with their levels
        v = self.dac.v_read
        return _pulse_width_moment(phase.codes[:, rows]) * (v * v / L)

    def _run(self, x: np.ndarray, operation: str, collect: bool = False):
        """Forward pass; with ``collect`` return the TIA outputs per tile instead of converting."""
        B = x.shape[0]
        dac, adc, tia = self.dac, self.adc, self.tia
        phases = dac.encode(x)
        y = np.zeros((B, self.out_features))
        samples: list[list[np.ndarray]] = [[] for _ in self.tiles]
        t_read = dac.t_read
        e_conv = adc.conversion_energy()
        self.read_strategy.plan(self, phases)
        self.build_maps(B)
        groups: dict = {}
        for ti, tile in enumerate(self.tiles):
            groups.setdefault((tile.spec.rows.start, tile.spec.rows.stop), []).append(ti)
        for phase in phases:
            for (r0, r1), members in groups.items():
                V = phase.volts[:, r0:r1]  # a view: BLAS takes the row stride
                moment: dict = {}
                for ti in members:
                    tile = self.tiles[ti]
                    chan = self._channels(tile, V, phase, operation, moment)
                    M, K = V.shape[1], tile.n_channels
                    self._book("dac", B * M * dac.power_per_line * t_read, B * M, operation)
                    self._book("tia", B * K * tia.power * t_read, B * K, operation)
                    self.stats["reads"] += B
                    if collect:
                        v_out, n_sat = tia.amplify(chan, tile.gains)
                        self.stats["tia_saturated"] += n_sat
                        samples[ti].append(v_out)
                        continue
                    self._convert_into(y, tile, chan, phase.weight)
                    self.stats["conversions"] += B * K
                    self._book("adc", B * K * e_conv, B * K, operation)
        if collect:
            return samples
        return y * dac.scale

    def forward(self, x) -> np.ndarray:
        """Outputs (B, out) (or (out,) for one input) of inputs ``x`` (B, in) through the arrays.

        Books the read energy in ``self.ledger`` (tags ``layer``, ``operation="read"``).

        Parameters
        ----------
        x : (in,) or (B, in) array_like
            Inputs (input units; ``dac.x_max`` maps to ``dac.v_read``).

        Returns
        -------
        (out,) or (B, out) ndarray
            The read-out, de-scaled to weight x input units.
        """
        if not self._calibrated:
            raise ConfigError(
                f"adc.range={self.adc.range!r} needs calibration: call "
                "layer.calibrate(x_calibration) before the first forward pass"
            )
        x, single = self._check_x(x)
        y = self._run(x, "read")
        if self.energy and self.count_samples:
            self.ledger.add_samples(x.shape[0])
        return y[0] if single else y

    __call__ = forward

    def calibrate(self, x) -> "AnalogLinear":
        """Set the ADC ranges per channel from the TIA outputs of calibration inputs ``x``.

        Uses the ADC's ``range`` mode (``"calibrate"``: min..max, ``"percentile"``: percentiles;
        fixed modes keep their range).  The calibration reads book energy with
        ``operation="calibrate"``.  Returns ``self``.

        Parameters
        ----------
        x : (in,) or (B, in) array_like
            Calibration inputs, in the layer's input units (``dac.x_max`` is full scale).

        Returns
        -------
        AnalogLinear
            ``self``.
        """
        x, _ = self._check_x(x)
        samples = self._run(x, "calibrate", collect=True)
        for tile, chunks in zip(self.tiles, samples):
            tile.lo, tile.hi = self.adc.ranges_from(
                np.concatenate(chunks, axis=0), self.tia.v_swing
            )
        self._calibrated = True
        return self


def _device_read_noise(tile: Tile) -> np.ndarray:
    """Relative read noise (M, C) of a device-backed tile's cells (the model's table)."""
    return tile.crossbar.devices.read_noise_rel(tile.G)


_FEW_LEVELS = 8
"""Distinct code magnitudes up to which ``_pulse_width_moment`` sums one Gram matrix per level
(BLAS); above it, the elementwise closed form is cheaper."""


def _pulse_width_moment(codes: np.ndarray) -> np.ndarray:
    """Upper triangle of ``Σ_b sgn_bi sgn_bj min(|c_bi|, |c_bj|)`` for signed DAC codes (B, M).

    A pulse-width-coded input of code ``c`` drives its line at ``sgn(c) v_read`` during the first
    ``|c|`` of ``L`` slots, so the slots' summed ``V_kᵀ V_k`` is ``v_read²`` times this integer
    matrix.  It is computed exactly (every term is an integer: the indicator Gram matrices in
    float64, the closed form's products below 2**24 in float32, summed in float64): with few distinct
    magnitudes ``u_1 < … < u_n`` as ``Σ_j (u_j − u_{j−1}) A_jᵀ A_j`` (``A_j`` the ±1/0 indicator of
    ``|c| ≥ u_j``), otherwise elementwise in blocks of samples, one pass instead of one Gram matrix
    per level (up to 255 at 8 bits).
    """
    codes = np.asarray(codes)
    B, M = codes.shape
    mag = np.abs(codes)
    levels = np.unique(mag)
    levels = levels[levels > 0]
    S = np.zeros((M, M))
    if levels.size == 0:
        return S
    if levels.size <= _FEW_LEVELS:
        sgn = np.sign(codes).astype(float)
        prev = 0
        for u in levels:
            A = sgn * (mag >= u)
            S += float(u - prev) * dsyrk(1.0, A, trans=1)
            prev = u
        return S
    m = mag.astype(np.float32)
    sgn32 = np.sign(codes).astype(np.float32)
    chunk = max(1, (1 << 20) // (M * M))  # ~4 MB of float32 per block
    for s in range(0, B, chunk):
        mb, sb = m[s : s + chunk], sgn32[s : s + chunk]
        X = np.minimum(mb[:, :, None], mb[:, None, :])
        X *= sb[:, :, None]
        X *= sb[:, None, :]
        S += X.sum(axis=0, dtype=np.float64)
    return np.triu(S)


def _trace_sym(Q: np.ndarray, U: np.ndarray) -> float:
    """``Σ (Q ∘ S)`` for symmetric ``Q`` and ``S`` given by its upper triangle ``U``."""
    return float(2.0 * np.sum(Q * U) - np.dot(np.diag(Q), np.diag(U)))
