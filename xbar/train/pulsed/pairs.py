"""Differential conductance pairs of a pulsed layer and the pulses applied to them."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._deprecate import renamed_kwarg
from ..._random import check_random_state
from ..._validation import as_float_array
from ...exceptions import ConfigError
from ...pulses.energy import device_current, half_selected_energy, pulse_energy
from ...pulses.schedule import PulseSchedule, cell_and_scheme

__all__ = ["DeviceModelView", "PairArray"]


class PairArray:
    """Differential conductance pairs of one layer: G⁺, G⁻ (M, N) in S, and their devices.

    Either a stateless ``device`` following the device protocol of :mod:`xbar.train.pulsed`, or
    (with :meth:`from_device_arrays`) two stateful :class:`xbar.devices.DeviceArray` s whose
    per-device (d2d) parameters and cycle noise drive every pulse.

    Parameters
    ----------
    g_plus, g_minus : (M, N) array_like
        Conductances of the two sides, S.
    device : object
        The device (protocol of :mod:`xbar.train.pulsed`, or a ``DeviceModelView``).
    name : str, default "layer"
        Name of the layer (the arrays are labelled ``name/G+`` and ``name/G-``).
    arrays : dict or None
        ``{"+": DeviceArray, "-": DeviceArray}`` backing the pairs, or None.
    """

    def __init__(self, g_plus, g_minus, device, name: str = "layer", arrays: dict | None = None):
        self.g_plus = as_float_array(g_plus, "g_plus", shape=(None, None)).copy()
        self.g_minus = as_float_array(g_minus, "g_minus", shape=self.g_plus.shape).copy()
        self.device = device
        self.name = name
        self.arrays = arrays

    @classmethod
    def from_device_arrays(cls, plus, minus, name: str = "layer") -> "PairArray":
        """Pairs backed by two ``xbar.devices`` arrays of equal shape (M, N).

        Parameters
        ----------
        plus, minus : xbar.devices.DeviceArray
            The G⁺ and G⁻ devices (conductances in S).
        name : str, default "layer"
            Name of the layer.
        """
        if plus.shape != minus.shape or len(plus.shape) != 2:
            raise ConfigError(
                f"plus and minus must be 2-D device arrays of one shape, got "
                f"{plus.shape} and {minus.shape}"
            )
        return cls(
            plus.G, minus.G, DeviceModelView(plus.model), name=name, arrays={"+": plus, "-": minus}
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(M, N): rows (inputs + bias) x outputs."""
        return self.g_plus.shape

    @property
    def g_min(self):
        """Lower window edge per device (S): array (M, N) for device arrays, else the scalar."""
        return self.arrays["+"].g_min if self.arrays else self.device.g_min

    @property
    def g_max(self):
        """Upper window edge per device (S)."""
        return self.arrays["+"].g_max if self.arrays else self.device.g_max

    def side(self, which: str) -> np.ndarray:
        """The conductances (S) of side ``which``, a live view.

        Parameters
        ----------
        which : {"+", "-"}
            Side.
        """
        return self.g_plus if which == "+" else self.g_minus

    def label(self, which: str) -> str:
        """Name of the array of side ``which`` (``"layer0/G+"``).

        Parameters
        ----------
        which : {"+", "-"}
            Side.
        """
        return f"{self.name}/G{which}"

    @renamed_kwarg(rng="random_state")
    def pulse(
        self,
        which: str,
        mask: np.ndarray,
        polarity: str,
        amplitude: float,
        width: float,
        random_state,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One pulse on the masked cells of one side; returns G before and after (S).

        Parameters
        ----------
        which : {"+", "-"}
            Side.
        mask : (M, N) bool ndarray
            Cells pulsed.
        polarity : {"set", "reset"}
            Direction.
        amplitude : float or (k,) ndarray
            Cell voltage magnitude, V.
        width : float
            Pulse width, s.
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is; deprecated name: ``rng``).
        """
        random_state = check_random_state(random_state)
        return self._pulse_at(which, self._cells(mask), polarity, amplitude, width, random_state)

    def _cells(self, mask) -> np.ndarray:
        """Flat indices (row-major) of the cells of a boolean mask of the pairs' shape."""
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != self.shape:
            raise ConfigError(
                f"mask must be a boolean array of the pairs' shape {self.shape}, got dtype "
                f"{mask.dtype}, shape {mask.shape}"
            )
        return np.flatnonzero(mask)

    def _pulse_at(
        self, which: str, idx: np.ndarray, polarity: str, amplitude, width: float, random_state
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`pulse` on the cells of the sorted flat indices ``idx`` of one side, at their
        cost: G before and after (S) in the order of ``idx``."""
        G = self.side(which)
        flat = G.reshape(-1)  # a view: the sides are C-contiguous
        before = flat[idx]
        arr = self.arrays[which] if self.arrays else None
        if arr is not None:
            sign = arr.model.set_polarity * (1 if polarity == "set" else -1)
            if hasattr(arr, "apply_pulses_at"):
                arr.apply_pulses_at(idx, sign * amplitude, width, random_state=random_state)
                flat[idx] = arr.G.reshape(-1)[idx]
            else:  # a device array without index pulses: the masked pulse of the whole array
                mask = np.zeros(G.size, dtype=bool)
                mask[idx] = True
                arr.apply_pulses(
                    sign * amplitude, width, mask=mask.reshape(G.shape), random_state=random_state
                )
                G[...] = arr.G
        else:
            flat[idx] = np.asarray(
                self.device.apply_pulse(before, polarity, amplitude, width, random_state),
                dtype=np.float64,
            )
        return before, flat[idx]

    @renamed_kwarg(rng="random_state")
    def pulse_cells(
        self,
        which: str,
        counts: np.ndarray,
        *,
        polarity: str,
        amplitude: float,
        width: float,
        bias_scheme: str,
        kind: str,
        mode: str,
        random_state,
        circuit: Any = None,
        cell: str | None = None,
    ) -> PulseSchedule:
        """Apply ``counts`` identical pulses to the cells of one side; return the filled schedule.

        Parameters
        ----------
        which : {"+", "-"}
            Side.
        counts : (M, N) int ndarray
            Pulses per cell (>= 0).
        polarity : {"set", "reset"}
            Direction.
        amplitude : float
            Pulse amplitude, V.
        width : float
            Pulse width, s.
        bias_scheme : {"half", "third", "floating", "grounded"}
            Bias of the unselected lines (energies of the half-selected cells; ``"V/2"``,
            ``"V/3"`` and ``"1T1R"``, meaning ``cell="1T1R"`` with ``"half"``, are deprecated
            spellings).
        kind : {"update", "program", "verify", "refresh"}
            Why the pulses are applied (ledger category).
        mode : {"row-parallel", "cell-by-cell"}
            Grouping of cells into pulses.
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is; deprecated name: ``rng``).
        circuit : WriteCircuit or None
            With ``mode="row-parallel"``, solve every pulse through its tile
            (:meth:`WriteCircuit.apply_rows`); None = the device-level estimate.
        cell : {"0T1R", "1T1R"} or None, default None
            Cell type of the array (a 1T1R array has no half-selected cells off the selected
            row); None = the circuit array's cell type, else ``"0T1R"``.  It must match the
            circuit's array.

        Returns
        -------
        PulseSchedule
            With per-cell energies (J) and conductances before/after (S).
        """
        random_state = check_random_state(random_state)
        c0 = circuit.array.cell if circuit is not None else "0T1R"
        cell, bias_scheme = cell_and_scheme(
            cell, bias_scheme, default_cell=c0, implied_cell=c0, stacklevel=5
        )
        if circuit is not None and cell != c0:
            raise ConfigError(
                f"cell={cell!r} does not match the write circuit's array (ArrayConfig(cell={c0!r}))"
            )
        counts = np.asarray(counts)
        if counts.shape != self.shape:
            raise ConfigError(f"counts must have the pairs' shape {self.shape}, got {counts.shape}")
        sched = PulseSchedule.from_counts(
            counts,
            amplitude=amplitude,
            width=width,
            polarity=polarity,
            array=self.label(which),
            bias_scheme=bias_scheme,
            kind=kind,
            mode=mode,
            cell=cell,
        )
        if sched.n_cell_pulses == 0:
            return sched
        if circuit is not None and mode == "row-parallel":
            return circuit.apply_rows(
                self,
                which,
                sched,
                polarity=polarity,
                amplitude=amplitude,
                width=width,
                bias_scheme=bias_scheme,
                random_state=random_state,
            )
        return self._apply_schedule(which, sched, polarity, amplitude, width, random_state)

    def _apply_schedule(
        self,
        which: str,
        sched: PulseSchedule,
        polarity: str,
        amplitude: float,
        width: float,
        random_state,
    ) -> PulseSchedule:
        """Apply a device-level schedule of identical pulses on one side and fill in its
        results: repetition ``r`` pulses, in one call, every cell with more than ``r`` pulses
        (row-major order), so the cycle-noise draws are those of one masked pulse per
        repetition; cost proportional to the schedule's cells (and their rows and columns for
        the half-selected energy)."""
        G = self.side(which)
        e_half = half_selected_energy(sched, self.device, G)
        gb = np.full(sched.n_cell_pulses, np.nan)
        ga = np.full(sched.n_cell_pulses, np.nan)
        flat = sched.row.astype(np.int64) * G.shape[1] + sched.col
        for r in range(int(sched.rep.max()) + 1):
            at = np.flatnonzero(sched.rep == r)
            order = np.argsort(flat[at], kind="stable")  # row-major, as a mask's cells
            idx = flat[at][order]
            before, after = self._pulse_at(which, idx, polarity, amplitude, width, random_state)
            gb[at[order]] = before
            ga[at[order]] = after
        sched.set_results(
            pulse_energy(self.device, amplitude, width, gb, ga), gb, ga, energy_half_selected=e_half
        )
        return sched

    def read_cells(
        self,
        which: str,
        mask: np.ndarray,
        *,
        v_read: float,
        t_read: float,
        kind: str,
        cell: str = "1T1R",
    ) -> PulseSchedule:
        """Verify reads (one cell at a time) of the masked cells of one side.

        Parameters
        ----------
        which : {"+", "-"}
            Side.
        mask : (M, N) bool ndarray
            Cells read.
        v_read : float
            Read voltage, V.
        t_read : float
            Read time, s.
        kind : {"verify", "refresh"}
            Ledger category of the reads.
        cell : {"0T1R", "1T1R"}, default "1T1R"
            Cell type recorded with the reads (a read books the read cell's energy only).

        Returns
        -------
        PulseSchedule
            Cell by cell, with the read energies (J) and the conductances read (S).
        """
        return self._read_at(
            which, self._cells(mask), v_read=v_read, t_read=t_read, kind=kind, cell=cell
        )

    def _read_at(
        self, which: str, idx: np.ndarray, *, v_read: float, t_read: float, kind: str, cell: str
    ) -> PulseSchedule:
        """:meth:`read_cells` of the cells of the flat indices ``idx`` (cost of those cells)."""
        G = self.side(which)
        rows, cols = np.divmod(idx, G.shape[1])
        sched = PulseSchedule.from_cells(
            rows,
            cols,
            amplitude=v_read,
            width=t_read,
            polarity="read",
            array=self.label(which),
            cell=cell,
            bias_scheme="half",
            kind=kind,
            mode="cell-by-cell",
        )
        g = G[sched.row, sched.col]
        sched.set_results(v_read * t_read * np.abs(device_current(self.device, v_read, g)), g, g)
        return sched

    def set_state(self, g_plus, g_minus) -> None:
        """Program both sides to ``g_plus``, ``g_minus`` (S) directly, e.g. from a checkpoint.

        With device arrays this is a programming event of the devices (``set_state``: clipped
        to each device's window, relaxation clock restarted).

        Parameters
        ----------
        g_plus, g_minus : (M, N) array_like
            Conductances, S.
        """
        self.g_plus[...] = g_plus
        self.g_minus[...] = g_minus
        if self.arrays:
            self.arrays["+"].set_state(g_plus)
            self.arrays["-"].set_state(g_minus)
            self.g_plus[...] = self.arrays["+"].G
            self.g_minus[...] = self.arrays["-"].G

    def set_conductances(self, g_plus, g_minus) -> None:
        """Replace the conductances the layer computes with (S), leaving the devices as they are.

        For what-if evaluations (e.g. a frozen noisy read of every device); the device arrays,
        if any, keep their state: :meth:`sync_from_devices` restores the pairs from them.

        Parameters
        ----------
        g_plus, g_minus : (M, N) array_like
            Conductances, S.
        """
        self.g_plus[...] = as_float_array(g_plus, "g_plus", shape=self.shape)
        self.g_minus[...] = as_float_array(g_minus, "g_minus", shape=self.shape)

    def sync_from_devices(self) -> None:
        """Copy the device arrays' conductances (S) into the pairs (after ``age``, a read...)."""
        if not self.arrays:
            raise ConfigError(
                "sync_from_devices needs pairs on device arrays "
                "(PairArray.from_device_arrays), got a stateless device"
            )
        self.g_plus[...] = self.arrays["+"].G
        self.g_minus[...] = self.arrays["-"].G


class DeviceModelView:
    """Adapter of an ``xbar.devices`` model (e.g. ``HfOxReRAM``) to the stateless protocol.

    ``g_min``/``g_max`` are the model's nominal window (S; the HRS/LRS medians of a binary
    ``StochasticBinaryReRAM``), ``current`` its cell I-V, and ``apply_pulse`` pulses a fresh
    sample of devices at the given states (used only to estimate the nominal step of a pulse;
    trained pairs use their own device arrays).

    Parameters
    ----------
    model : xbar.devices model
        Anything with ``sample``, ``iv`` and a window (``g_min``/``g_max`` or
        ``g_hrs``/``g_lrs``, S).
    """

    def __init__(self, model):
        self.model = model
        self.g_min = float(getattr(model, "g_min", None) or model.g_hrs)
        self.g_max = float(getattr(model, "g_max", None) or model.g_lrs)

    def current(self, V, G):
        """Cell current (A) through the model's I-V.

        Parameters
        ----------
        V : float or ndarray
            Cell voltage, V.
        G : ndarray
            Conductance, S.
        """
        return self.model.iv.current(V, G)

    def apply_pulse(self, G, polarity, amplitude, width, random_state=None):
        """Conductances (S) after one pulse on fresh devices at states ``G``.

        Parameters
        ----------
        G : ndarray
            States before the pulse, S.
        polarity : {"set", "reset"}
            Direction.
        amplitude : float
            Pulse amplitude, V.
        width : float
            Pulse width, s.
        random_state : None, int or Generator
            Fabrication and cycle-noise stream of the sample.
        """
        G = np.asarray(G, dtype=np.float64)
        arr = self.model.sample(G.shape, random_state=random_state)
        arr.set_state(G)
        sign = self.model.set_polarity * (1 if polarity == "set" else -1)
        arr.apply_pulses(sign * amplitude, width)
        return np.array(arr.G)
