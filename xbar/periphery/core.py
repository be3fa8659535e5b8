"""``MatrixCore``: the read path of any conductance matrix, DAC -> exact circuit read -> TIA -> ADC.

Where :class:`~xbar.periphery.AnalogLinear` maps signed weights onto conductance pairs, a
``MatrixCore`` reads the user's own conductances ``G`` (M word lines x N bit lines, S) as they are,
one read-out channel per bit line (CrossSim's ``AnalogCore`` does the same on a weight matrix).
Inputs ``x`` (B, M) in input units are turned into word-line voltages by the DAC
(``v = x / x_max * v_read``, quantized, clipped), the array is solved exactly (wire, driver and
sense resistances, sneak paths, the cell model of ``array``; matrices larger than one array are
tiled and the partial sums added after the ADCs), every bit-line current is amplified by its TIA
and digitised by its ADC.  The result is ``x @ G`` in siemens x input units (the ideal-periphery
limit with ideal wires is exactly ``x @ G``), or with :meth:`MatrixCore.read_currents` the column
currents in A.

The TIA gain of each bit line is set (``TIA.gain=None``; ``TIA.auto_gain`` does not apply) so that
the largest current a full-scale input can give, ``v_read * sum_i G_ij``, reaches the output swing; a bit line of open cells
(``G = 0``) has gain 0 and reads exactly 0.  After writing new conductances call
:meth:`~AnalogLinear.update_gains`.  The read energy is booked in the core's
:class:`~xbar.pulses.EnergyLedger` exactly as for ``AnalogLinear``: ``read`` (the solved array,
driver and sense dissipation x ``dac.t_read``), ``dac``, ``tia`` and ``adc``.

``MatrixCore(crossbar)`` reads a crossbar the user built, as it is (one tile: its own wires,
terminals, cells and I-V), without copying it: a :class:`~xbar.circuit.DeviceCrossbar` (cells
that are fabricated devices) is read in its present state after every write or
:meth:`~AnalogLinear.age`, and ``read_noise=True`` adds its devices' read noise.
"""

from __future__ import annotations

import numpy as np

from .._deprecate import renamed_kwarg
from .._validation import as_float_array
from ..exceptions import ConfigError
from .layer import AnalogLinear, CellReadNoise, Tile, _device_read_noise
from .tiling import ArrayConfig, plan_tiles

__all__ = ["MatrixCore"]


class MatrixCore(AnalogLinear):
    """Read a conductance matrix through DAC, circuit, TIA and ADC (see the module docstring).

    Parameters
    ----------
    G : (M, N) array_like or xbar.Crossbar
        Cell conductances, S (word line i, bit line j), as ``xbar.Crossbar`` accepts them; or a
        crossbar, read as it is (its wires, terminals, cells and I-V; a ``DeviceCrossbar`` in
        its devices' present state), not copied.
    array : ArrayConfig, optional
        Array size limit (tiling), wires and cell type (default 256 x 256, 1 ohm per segment).
        Not with a crossbar (it brings its own).
    dac, adc, tia : DAC, ADC, TIA, optional
        Periphery (defaults as for ``AnalogLinear``: 8-bit DAC at 0.2 V full scale, 8-bit ADC,
        automatic-gain TIA).  ``DAC(bits=None)``, ``ADC(bits=None)`` give an ideal periphery.
    ledger : EnergyLedger, optional
        Where reads book their energy (default: a new one, ``core.ledger``).
    name : str
        ``layer`` tag of the bookings.
    read_method, energy, count_samples, n_threads, random_state
        As for ``AnalogLinear``.
    read_noise : bool
        Read with the devices' state-dependent read noise (a ``DeviceCrossbar`` only).

    Notes
    -----
    ``core(x)`` returns ``x @ G`` (B, N) in S x input units; ``core.ideal(x)`` is the exact
    ``x @ G``; ``core.read_currents(x)`` the digitised column currents, A.
    """

    @renamed_kwarg(map_workers="n_threads")
    def __init__(
        self,
        G,
        *,
        array=None,
        dac=None,
        adc=None,
        tia=None,
        ledger=None,
        name: str = "core",
        read_method: str = "auto",
        energy: bool = True,
        count_samples: bool = True,
        n_threads: int | None = None,
        read_noise: bool = False,
        random_state=None,
    ):
        from ..circuit import Crossbar, DeviceCrossbar

        self._crossbar = G if isinstance(G, Crossbar) else None
        if self._crossbar is not None:
            xb = self._crossbar
            if array is not None:
                raise ConfigError(
                    "array must be None for a MatrixCore of a given crossbar (its "
                    "wires, terminals and cells are the crossbar's)"
                )
            if dac is not None and not np.all(np.asarray(xb.r_driver) == dac.r_driver):
                raise ConfigError(
                    f"dac.r_driver = {dac.r_driver!r} ohm differs from the "
                    "crossbar's r_driver: the crossbar's terminals are the ones "
                    "read (build it with r_driver=dac.r_driver)"
                )
            if tia is not None and not np.all(np.asarray(xb.r_sense) == tia.r_in):
                raise ConfigError(
                    f"tia.r_in = {tia.r_in!r} ohm differs from the crossbar's "
                    "r_sense: the crossbar's terminals are the ones read (build "
                    "it with r_sense=tia.r_in)"
                )
            array = ArrayConfig(max_rows=xb.shape[0], max_cols=xb.shape[1])
            G = np.array(xb.G)
        if read_noise and not isinstance(self._crossbar, DeviceCrossbar):
            raise ConfigError(
                "read_noise=True needs a device-backed crossbar as G "
                "(xbar.Crossbar(model.sample((M, N)), ...)), got "
                f"{type(G).__name__}"
            )
        G = as_float_array(G, "G")
        if G.ndim != 2 or 0 in G.shape:
            raise ConfigError(
                f"G must be a non-empty 2-D (M, N) conductance matrix in S, got shape {G.shape}"
            )
        super().__init__(
            G.T,
            array=array,
            dac=dac,
            adc=adc,
            tia=tia,
            ledger=ledger,
            name=name,
            read_method=read_method,
            energy=energy,
            count_samples=count_samples,
            n_threads=n_threads,
            random_state=random_state,
        )
        self.mapping = None  # type: ignore[assignment]  # no weight mapping: G is read as it is
        if isinstance(self._crossbar, DeviceCrossbar):
            self.device = self._crossbar.model  # age() acts on its devices
        if read_noise:
            self.read_noise = True
            self.channel_noise = CellReadNoise(_device_read_noise, self._op_rng.spawn(1)[0])

    def _build_tiles(self, W: np.ndarray, kw: dict) -> list[Tile]:
        from ..circuit import Crossbar

        G = W.T
        M, N = G.shape
        if self._crossbar is not None:
            spec = plan_tiles(M, N, M, N, 1, 0)[0]
            return [Tile(spec, self._crossbar, np.eye(N), np.eye(N))]
        tiles = []
        for spec in plan_tiles(M, N, self.array.max_rows, self.array.max_cols, 1, 0):
            K = spec.outputs.stop - spec.outputs.start
            tiles.append(
                Tile(spec, Crossbar(G[spec.rows, spec.outputs], **kw), np.eye(K), np.eye(K))
            )
        return tiles

    def update_gains(self) -> None:
        """Set each bit line's TIA gain (``tia.gain``, or automatic: ``v_swing`` for the largest
        current a full-scale input can give, ``v_read * sum_i |G_ij|``; 0 for a bit line of open
        cells)."""
        for tile in self.tiles:
            i_bound = self.dac.v_read * np.abs(np.asarray(tile.G)).sum(axis=0)
            tile.gains = self.tia.channel_gains(i_bound)

    def ideal(self, x) -> np.ndarray:
        """The exact ``x @ G`` of the present conductances, S x input units.

        Parameters
        ----------
        x : (M,) or (B, M) array_like
            Inputs, in input units.

        Returns
        -------
        (N,) or (B, N) ndarray
            ``x @ G``, S x input units.
        """
        x, single = self._check_x(x)
        y = x @ self.matrix()
        return y[0] if single else y

    @property
    def shape(self) -> tuple[int, int]:
        """(M, N): word lines (inputs) x bit lines (outputs)."""
        return self.in_features, self.out_features

    def matrix(self) -> np.ndarray:
        """(M, N) present conductances of all tiles, S (a copy)."""
        return self.effective_weights().T

    def set_matrix(self, G) -> None:
        """Write new conductances (M, N) S into the tiles and re-set the automatic TIA gains.

        Parameters
        ----------
        G : (M, N) array_like
            Conductances, S (a device-backed crossbar writes them into its devices exactly).
        """
        G = as_float_array(G, "G", shape=self.shape)
        for k, t in enumerate(self.tiles):
            self.set_conductances(k, G[t.spec.rows, t.spec.outputs])
        self.update_gains()

    def read_currents(self, x) -> np.ndarray:
        """Digitised column currents (B, N) or (N,), A: ``core(x) / dac.scale``, i.e. the read of
        word-line voltages ``x / x_max * v_read``.

        Parameters
        ----------
        x : (M,) or (B, M) array_like
            Inputs, in input units (``dac.x_max`` is full scale).

        Returns
        -------
        (N,) or (B, N) ndarray
            Column currents, A.
        """
        return self.forward(x) / self.dac.scale

    def __repr__(self) -> str:
        dev = (
            ""
            if self.device is None
            else (
                f"device={type(self.device).__name__}, iv={self.tiles[0].crossbar.iv!r}, "
                f"read_noise={self.read_noise}, "
            )
        )
        return (
            f"MatrixCore({self.in_features} x {self.out_features}, tiles={len(self.tiles)}, "
            f"dac={self.dac.bits} b {self.dac.encoding}, adc={self.adc.bits} b, {dev}"
            f"name={self.name!r})"
        )

    def _check_pairs(self) -> None:
        raise ConfigError(
            "a MatrixCore reads conductances as they are: it has no conductance "
            "pairs (use matrix() / set_matrix())"
        )
