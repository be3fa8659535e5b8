"""Row-parallel write pulses of a pulsed layer solved through its tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._deprecate import renamed_kwarg
from ..._random import check_random_state
from ..._validation import check_scalar
from ...exceptions import ConfigError
from ...pulses.energy import pulse_energy
from ...pulses.schedule import PulseSchedule, cell_and_scheme
from .pairs import PairArray

__all__ = ["WriteCircuit"]


@dataclass
class WriteCircuit:
    """Row-parallel write pulses solved through the array (see :mod:`xbar.train.pulsed`).

    The pairs are laid out as the read path lays them out (``xbar.periphery`` differential
    mapping, :func:`xbar.periphery.plan_tiles` with two columns per output): tiles of
    ``array.max_rows`` word lines and ``array.max_cols`` bit lines, each output a pair of
    adjacent columns ``[G⁺, G⁻]`` (``xbar.periphery.tiling.interleave_pairs``).  A pulse on
    row ``i`` drives that word line at ``±amplitude`` and the selected bit lines at 0 V, the
    other lines per the bias scheme (``"half"`` or ``"third"``; on a 1T1R array the gates are
    open on the selected row only, so the scheme sets the bit lines that row sees).  The cells'
    conductances are held at their values before the pulse during the solve.

    Parameters
    ----------
    array : xbar.periphery.ArrayConfig or None
        Tile size, wire resistances (ohm), cell type and access resistance (ohm); None =
        ``ArrayConfig()`` (256 x 256, 1 ohm, 0T1R).  A writer's ``cell`` must match ``array.cell``.
    r_driver : float, default 10.0
        Output resistance of the word-line drivers during a write, ohm (as the read DAC default).
    r_sense : float, default 10.0
        Resistance of the bit-line terminals during a write, ohm.
    device_iv : bool, default True
        Solve with the device model's I-V (e.g. ``Sinh``) instead of linear cells ``G·V``.
    """

    array: Any = None
    r_driver: float = 10.0
    r_sense: float = 10.0
    device_iv: bool = True

    def __post_init__(self) -> None:
        from ...periphery import ArrayConfig

        if self.array is None:
            self.array = ArrayConfig()
        if not isinstance(self.array, ArrayConfig):
            raise ConfigError(
                f"array must be an xbar.periphery.ArrayConfig, got {type(self.array).__name__}"
            )
        check_scalar(self.r_driver, "r_driver", low=0.0, unit="ohm")
        check_scalar(self.r_sense, "r_sense", low=0.0, unit="ohm")

    def _scheme(self, bias_scheme: str) -> str:
        """The bias scheme of a solved write ("half"/"third"; "1T1R" deprecated, on 1T1R arrays)."""
        cell, scheme = cell_and_scheme(
            None,
            bias_scheme,
            default_cell=self.array.cell,
            implied_cell=self.array.cell,
            stacklevel=6,
        )
        if cell != self.array.cell:
            raise ConfigError(
                "cell '1T1R' (bias_scheme='1T1R') needs WriteCircuit(array="
                f"ArrayConfig(cell='1T1R', r_access=...)), got "
                f"cell={self.array.cell!r}"
            )
        if scheme not in ("half", "third"):
            raise ConfigError(
                f"bias_scheme must be 'half' or 'third' for a solved write, got {scheme!r}"
            )
        return scheme

    def solve_row(
        self,
        pairs: PairArray,
        which: str,
        row: int,
        cols: np.ndarray,
        *,
        amplitude: float,
        width: float,
        sign: int,
        bias_scheme: str,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Solve one pulse on ``row`` x ``cols`` of side ``which``.

        Parameters
        ----------
        pairs : PairArray
            The pairs (conductances in S, held during the solve).
        which : {"+", "-"}
            Side pulsed.
        row : int
            Word line (input row of the pairs).
        cols : (k,) int ndarray
            Outputs selected.
        amplitude : float
            Pulse amplitude, V.
        width : float
            Pulse width, s.
        sign : {+1, -1}
            Polarity of the word-line voltage.
        bias_scheme : {"half", "third"}
            Bias of the unselected lines (``"1T1R"``: deprecated spelling of ``"half"`` on a
            1T1R array).

        Returns
        -------
        v_cell : (k,) ndarray
            |voltage| across each selected cell, V.
        energies : (5,) ndarray
            J of the pulse: half-selected + unselected cells, wires, word-line drivers, sense
            terminals, access transistors.
        """
        from ...circuit import Crossbar
        from ...periphery.tiling import interleave_pairs, pair_column, plan_tiles

        a = self.array
        scheme = self._scheme(bias_scheme)
        side = 0 if which == "+" else 1
        kw = a.crossbar_kwargs(self.r_driver, self.r_sense)
        if self.device_iv and pairs.arrays:
            kw["iv"] = pairs.arrays[which].model.iv
        v_cell = np.empty(len(cols))
        e = np.zeros(5)
        for tile in plan_tiles(pairs.shape[0], pairs.shape[1], a.max_rows, a.max_cols, 2):
            r0, r1 = tile.rows.start, tile.rows.stop
            o0, o1 = tile.outputs.start, tile.outputs.stop
            sel = (cols >= o0) & (cols < o1)
            if not (r0 <= row < r1) or not sel.any():
                continue
            G = interleave_pairs(
                pairs.g_plus[tile.rows, tile.outputs], pairs.g_minus[tile.rows, tile.outputs]
            )
            local = pair_column(cols[sel] - o0, side)
            res = Crossbar(G, **kw).apply_pulse(
                row - r0, local, amplitude=amplitude, width=width, polarity=sign, scheme=scheme
            )
            v_cell[sel] = np.abs(res.cell_voltages[row - r0, local])
            en = res.energy
            e += (en.half_selected + en.unselected, en.wires, en.word_drivers, en.sense, en.access)
        return v_cell, e

    @renamed_kwarg(rng="random_state")
    def apply_rows(
        self,
        pairs: PairArray,
        which: str,
        sched: PulseSchedule,
        *,
        polarity: str,
        amplitude: float,
        width: float,
        bias_scheme: str,
        random_state,
    ) -> PulseSchedule:
        """Apply a row-parallel schedule pulse by pulse, each solved through its tile.

        Parameters
        ----------
        pairs : PairArray
            Pairs on device arrays (each device is pulsed with the voltage it sees).
        which : {"+", "-"}
            Side.
        sched : PulseSchedule
            The row-parallel schedule of one side (filled in and returned).
        polarity : {"set", "reset"}
            Direction.
        amplitude : float
            Pulse amplitude at the drivers, V.
        width : float
            Pulse width, s.
        bias_scheme : {"half", "third"}
            Bias of the unselected lines (``"1T1R"``: deprecated spelling of ``"half"`` on a
            1T1R array).
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is; deprecated name: ``rng``).
        """
        if not pairs.arrays:
            raise ConfigError(
                "a WriteCircuit needs pairs on xbar.devices arrays (per-cell "
                "voltages), got a stateless device"
            )
        random_state = check_random_state(random_state)
        bias_scheme = self._scheme(bias_scheme)
        arr = pairs.arrays[which]
        G = pairs.side(which)
        sign = arr.model.set_polarity * (1 if polarity == "set" else -1)
        b = sched.pulse_bounds()
        n = sched.n_cell_pulses
        energy, gb, ga = np.empty(n), np.empty(n), np.empty(n)
        parts = np.zeros((sched.n_pulses, 5))
        for p in range(sched.n_pulses):
            lo, hi = b[p], b[p + 1]
            row, cols = int(sched.row[lo]), sched.col[lo:hi]
            v_cell, parts[p] = self.solve_row(
                pairs,
                which,
                row,
                cols,
                amplitude=amplitude,
                width=width,
                sign=sign,
                bias_scheme=bias_scheme,
            )
            mask = np.zeros(G.shape, dtype=bool)
            mask[row, cols] = True
            volts = np.zeros(G.shape)
            volts[row, cols] = sign * v_cell
            gb[lo:hi] = G[row, cols]
            arr.apply_pulses(volts, width, mask=mask, random_state=random_state)
            G[...] = arr.G
            ga[lo:hi] = G[row, cols]
            energy[lo:hi] = pulse_energy(pairs.device, v_cell, width, gb[lo:hi], ga[lo:hi])
        sched.set_results(
            energy,
            gb,
            ga,
            energy_half_selected=parts[:, 0],
            energy_wires=parts[:, 1],
            energy_word_drivers=parts[:, 2],
            energy_sense=parts[:, 3],
            energy_access=parts[:, 4],
        )
        return sched
