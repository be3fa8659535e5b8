"""Writers: how a pulsed layer turns signed pulse counts into pulses (one :class:`Writer` protocol)."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..._deprecate import renamed_kwarg, warn_renamed
from ..._random import check_random_state
from ..._validation import check_choice, check_scalar
from ...exceptions import ConfigError
from ...pulses.schedule import MODES, PulseSchedule, cell_and_scheme
from ...pulses.energy import ReadPeriphery, book_read_periphery
from ...pulses.verify import Ramp
from .circuit import WriteCircuit
from .pairs import PairArray
from .programming import program_verify

__all__ = ["ProgramVerifyWriter", "ResetOnlyWriter", "Writer", "writer_config"]


@runtime_checkable
class Writer(Protocol):
    """What :class:`~xbar.train.pulsed.PulsedLayer` needs of a writer.

    ``name`` (str) labels results; ``nominal_dG(device, random_state)`` is the conductance step (S) one
    pulse count stands for; ``apply(pairs, counts, k, random_state)`` applies signed pulse counts
    (``> 0`` raise the weight) to the pairs and returns the schedules it ran.  A writer with a
    ``book(schedules, ledger, **tags)`` method books its schedules itself (the layer calls it
    instead of booking each schedule), e.g. to add the verify reads' periphery energy.

    Attributes
    ----------
    name : str
        Label of the writer in results files.
    """

    name: str

    def nominal_dG(self, device: Any, random_state) -> float:
        """Mean |ΔG| (S) of one update pulse count on ``device``.

        Parameters
        ----------
        device : object
            Stateless device (protocol of :mod:`xbar.train.pulsed`).
        random_state : None, int or Generator
            Stream of any draws (a Generator is used as is).
        """
        ...

    def apply(
        self, pairs: PairArray, counts: np.ndarray, k: float, random_state
    ) -> list[PulseSchedule]:
        """Apply signed pulse counts to ``pairs``; return the schedules run.

        Parameters
        ----------
        pairs : PairArray
            The pairs (conductances in S).
        counts : (M, N) int ndarray
            Signed pulse counts (> 0 raise the weight).
        k : float
            Weight per S of the layer.
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is).
        """
        ...


def _rename_fields(cls, renames: dict):
    """Accept the deprecated field names of a writer dataclass (constructor and attributes)."""
    cls.__init__ = renamed_kwarg(**renames)(cls.__init__)
    for old, new in renames.items():

        def getter(self, _old=old, _new=new):
            warn_renamed(_old, _new)
            return getattr(self, _new)

        def setter(self, value, _old=old, _new=new):
            warn_renamed(_old, _new)
            setattr(self, _new, value)

        setattr(cls, old, property(getter, setter, doc=f"Deprecated alias of ``{new}``."))
    return cls


def _coerce_ramp(value, name: str) -> Ramp:
    if isinstance(value, Ramp):
        return value
    if isinstance(value, dict):  # e.g. a TOML table {v_start, v_step, v_stop}
        unknown = sorted(set(value) - {"v_start", "v_step", "v_stop"})
        if unknown or "v_start" not in value:
            raise ConfigError(
                f"{name} must have the keys v_start (and optionally v_step, "
                f"v_stop), in V, got {sorted(value)}"
            )
        return Ramp(**value)
    warn_renamed(
        f"{name}=(start, stop, step)", f"{name}=Ramp(v_start, v_step, v_stop)", stacklevel=5
    )
    return Ramp.from_start_stop_step(value, name)


@dataclass
class ResetOnlyWriter:
    """Reset-only single-pulse updates on differential pairs.

    Parameters
    ----------
    amplitude : float, default 0.8
        RESET pulse amplitude, V (sub-1 V; docs/references.rst, ref-read-write-energy illustration, 0.8 V).
    width : float, default 100e-9
        RESET pulse width, s.
    cell : {"1T1R", "0T1R"} or None, default None
        Cell type of the arrays; None = ``"1T1R"``.  On a 1T1R array the unselected rows'
        access transistors are off: the device-level estimate books as half-selected only the
        selected row's cells on unselected bit lines (as a solved pulse, ``circuit``, has
        them).  With a ``circuit`` it must match ``circuit.array.cell``.
    bias_scheme : {"half", "third"} or None, default None
        Bias of the unselected lines (on a 1T1R array: of the bit lines the selected row
        sees); None = ``"half"``.  Deprecated spellings: ``"V/2"``/``"V/3"``; ``"1T1R"`` for
        ``cell="1T1R"``; a bias scheme without ``cell`` for ``cell="0T1R"`` (or the circuit
        array's cell type), its former meaning.
    mode : {"row-parallel", "cell-by-cell"}, default "row-parallel"
        Grouping of the update pulses.
    refresh_margin : float, default 0.1
        A pair is refreshed when both devices are below ``g_min + refresh_margin·(g_max − g_min)``
        (a fraction of the window, in [0, 1]).
    set_amplitude : float, default 1.5
        SET pulse amplitude of a refresh, V (docs/references.rst, ref-read-write-energy: SET ~1–2 V).
    set_level : float, default 0.9
        A refresh SETs both devices (SET-and-verify) to ``g_min + set_level·(g_max − g_min)``
        (a fraction of the window, in [``refresh_margin``, 1]).
    set_width : float, default 100e-9
        SET pulse width, s.
    window_rtol : float, default 0.05
        Re-programming tolerance after a refresh, as a fraction of the window (g_max − g_min);
        keep it above one RESET step, since a reset-only device cannot correct an overshoot.
        Deprecated name: ``tolerance``.
    max_pulses : int, default 60
        Program-and-verify pulses per cell of a refresh.  Deprecated name: ``max_iterations``.
    v_read : float, default 0.2
        Verify read voltage, V.  Deprecated name: ``read_voltage``.
    t_read : float, default 100e-9
        Verify read time, s.  Deprecated name: ``read_width``.
    step_calibration : {"measured", "device", "model"}, default "measured"
        What :meth:`step_per_count` (``PulseMapping(step="calibrated")``) knows of the devices:
        ``"device"`` each device's own pulse law (its d2d step size, threshold shift and
        window, read from the simulator: an oracle no chip has, kept as the upper reference);
        ``"model"`` only the device model's nominal law (no
        d2d: a calibration of the technology), at each device's read state and pulse history;
        ``"measured"`` the model's law times each device's own ratio of realised to predicted
        change, learned from the state reads of successive updates (a cell is read before every
        pulse it gets, so the next read shows what its pulses did; no extra reads; a running
        mean with weight ``1/2`` per observation; a refresh voids the pending observation; not
        checkpointed).
    circuit : WriteCircuit or None, default None
        Solve every row-parallel update pulse through its tile (energies of wires, drivers and
        half-selected cells from the solve, each device pulsed with the voltage it sees); None =
        the device-level estimate (:mod:`xbar.pulses.energy`). Refresh pulses stay device-level.

    Notes
    -----
    The refresh's program-and-verify pulses and reads are booked cell by cell on the writer's
    ``cell`` type and ``bias_scheme`` (device-level, also with a ``circuit``).
    """

    amplitude: float = 0.8
    width: float = 100e-9
    cell: str | None = None
    bias_scheme: str | None = None
    mode: str = "row-parallel"
    refresh_margin: float = 0.1
    set_amplitude: float = 1.5
    set_level: float = 0.9
    set_width: float = 100e-9
    window_rtol: float = 0.05
    max_pulses: int = 60
    v_read: float = 0.2
    t_read: float = 100e-9
    step_calibration: str = "measured"
    circuit: WriteCircuit | None = None

    name = "reset-only"

    def __post_init__(self) -> None:
        for f in ("amplitude", "width", "set_amplitude", "set_width", "v_read", "t_read"):
            check_scalar(getattr(self, f), f, low=0.0, low_open=True)
        if self.circuit is not None and not isinstance(self.circuit, WriteCircuit):
            raise ConfigError(
                f"circuit must be a WriteCircuit or None, got {type(self.circuit).__name__}"
            )
        implied = self.circuit.array.cell if self.circuit is not None else "0T1R"
        self.cell, self.bias_scheme = cell_and_scheme(
            self.cell, self.bias_scheme, default_cell="1T1R", implied_cell=implied, stacklevel=6
        )
        check_choice(self.bias_scheme, "bias_scheme", ("half", "third"))
        check_choice(self.mode, "mode", MODES)
        check_scalar(self.refresh_margin, "refresh_margin", low=0.0, high=1.0)
        check_scalar(self.set_level, "set_level", low=self.refresh_margin, high=1.0)
        check_scalar(self.window_rtol, "window_rtol", low=0.0, low_open=True, high=1.0)
        check_scalar(self.max_pulses, "max_pulses", low=1, integer=True)
        check_choice(self.step_calibration, "step_calibration", ("device", "model", "measured"))
        self._nominal: dict[tuple, Any] = {}  # nominal device arrays of "model" calibration
        self._seen: dict[tuple, dict] = {}  # "measured": per (pairs, side) read/pulse records
        if self.circuit is not None and self.circuit.array.cell != self.cell:
            raise ConfigError(
                f"cell {self.cell!r} needs a circuit array of {self.cell} cells "
                f"(WriteCircuit(array=ArrayConfig(cell={self.cell!r}, ...))), got "
                f"cell={self.circuit.array.cell!r}; or choose "
                f"cell={self.circuit.array.cell!r}"
            )

    def nominal_dG(self, device, random_state) -> float:
        """Mean |ΔG| of one update pulse from mid-window, S (256 draws).

        Parameters
        ----------
        device : object
            Stateless device (protocol of :mod:`xbar.train.pulsed`).
        random_state : None, int or Generator
            Stream of the draws (a Generator is used as is).
        """
        g = np.full(256, 0.5 * (device.g_min + device.g_max))
        return float(
            np.mean(
                np.abs(device.apply_pulse(g, "reset", self.amplitude, self.width, random_state) - g)
            )
        )

    def step_per_count(
        self, pairs: PairArray, direction: np.ndarray
    ) -> tuple[np.ndarray, list[PulseSchedule]]:
        """Calibrated mean |ΔG| (S) of each cell's next update pulse, from a read of its state.

        The controller of ``PulseMapping(step="calibrated")``: every cell with a requested
        change has the side that would be pulsed (G⁻ to raise the weight, G⁺ to lower it) read
        once (cell by cell at ``v_read``/``t_read``, booked as ``verify``), and the mean step of
        one RESET pulse (``amplitude``, ``width``) at the read state is looked up in the devices'
        calibrated pulse law, evaluated at the midpoint of the pulse: with device arrays each
        device's own (``step_calibration="device"``: its d2d parameters, threshold shift and
        window) or the model's nominal law (``"model"``), both with the device's pulse-history
        memory (the conductance verified at its last SET), else the stateless device's mean
        over 16 draws (a fixed calibration stream).  The step is capped at the distance to the
        lower window edge the calibration knows.

        Parameters
        ----------
        pairs : PairArray
            The pairs (conductances in S).
        direction : (M, N) ndarray
            Sign of the requested weight change per cell (> 0 raise, < 0 lower, 0 none).

        Returns
        -------
        steps : (M, N) ndarray
            Mean |ΔG| of one pulse, S; ``inf`` where nothing is requested or a pulse would
            not move the device (at ``g_min``).
        reads : list of PulseSchedule
            The state reads.
        """
        direction = np.asarray(direction)
        if direction.shape != pairs.shape:
            raise ConfigError(
                f"direction must have the pairs' shape {pairs.shape}, got {direction.shape}"
            )
        steps = np.full(pairs.shape, np.inf)
        reads = []
        for which, sel in (("-", direction > 0), ("+", direction < 0)):
            if not sel.any():
                continue
            reads.append(
                pairs.read_cells(
                    which,
                    sel,
                    v_read=self.v_read,
                    t_read=self.t_read,
                    kind="verify",
                    cell=str(self.cell),
                )
            )
            step = self._reset_step(pairs, which)
            if self.step_calibration == "measured":
                step = step * self._measured_ratio(pairs, which, sel, step)
            steps[sel] = np.where(step > 0, step, np.inf)[sel]
        return steps, reads

    def _measured_ratio(self, pairs: PairArray, which: str, sel, predicted) -> np.ndarray:
        """Per-device realised/predicted step ratio from the reads (``"measured"``)."""
        G = pairs.side(which)
        rec = self._seen.setdefault(
            (id(pairs), which),
            dict(
                g=G.copy(),
                pred=np.zeros(G.shape),
                n=np.zeros(G.shape, np.int64),
                ratio=np.ones(G.shape),
            ),
        )
        seen = sel & (rec["n"] > 0) & (rec["pred"] > 0)
        obs = (rec["g"][seen] - G[seen]) / (rec["n"][seen] * rec["pred"][seen])
        rec["ratio"][seen] = 0.5 * rec["ratio"][seen] + 0.5 * np.clip(obs, 0.0, 10.0)
        rec["n"][sel] = 0
        rec["g"][sel] = G[sel]
        rec["pred"][sel] = predicted[sel]
        return rec["ratio"]

    def _record_pulses(self, pairs: PairArray, counts: np.ndarray, refreshed) -> None:
        """Remember the pulses each side got (``"measured"``); a refresh voids the records."""
        for which, n in (("-", np.maximum(counts, 0)), ("+", np.maximum(-counts, 0))):
            rec = self._seen.get((id(pairs), which))
            if rec is not None:
                rec["n"] += n
                rec["n"][refreshed] = 0

    def _reset_step(self, pairs: PairArray, which: str) -> np.ndarray:
        """Mean |ΔG| (S) of one update RESET pulse on every device of one side, at its state."""
        arr = pairs.arrays[which] if pairs.arrays else None
        if arr is not None and hasattr(arr, "reversal_state") and hasattr(arr, "pulse_strength"):
            G = pairs.side(which)
            # the pulse-history memory the first RESET would start from (a fresh ramp after a SET)
            g_rev = arr.reversal_state(-1, G)
            law = arr if self.step_calibration == "device" else self._nominal_array(arr)
            _, strength = law.pulse_strength(-law.model.set_polarity * self.amplitude, self.width)
            strength = strength.reshape(pairs.shape)
            # midpoint rule over the pulse: the law at the state half a step down
            first = np.abs(law.mean_step(-1, G=G, g_rev=g_rev)) * strength
            mid = np.maximum(G - 0.5 * first, law.g_min)
            step = np.abs(law.mean_step(-1, G=mid, g_rev=g_rev)) * strength
            return np.minimum(step, G - law.g_min)  # the controller's idea of the lower edge
        G = pairs.side(which).ravel()
        rng = np.random.default_rng(0)
        draws = [
            pairs.device.apply_pulse(G, "reset", self.amplitude, self.width, rng) for _ in range(16)
        ]
        step = np.abs(np.mean(draws, axis=0) - G).reshape(pairs.shape)
        return np.minimum(step, pairs.side(which) - pairs.g_min)

    def _nominal_array(self, arr):
        """Devices of ``arr``'s shape with the model's nominal parameters (no d2d), cached."""
        key = (id(arr.model), arr.shape)
        if key not in self._nominal:
            self._nominal[key] = arr.model.without_dtod().sample(arr.shape, random_state=0)
        return self._nominal[key]

    def apply(
        self, pairs: PairArray, counts: np.ndarray, k: float, random_state
    ) -> list[PulseSchedule]:
        """Apply signed pulse counts; returns the schedules (update pulses, then refreshes).

        Parameters
        ----------
        pairs : PairArray
            The pairs (conductances in S).
        counts : (M, N) int ndarray
            Signed pulse counts (> 0 raise the weight: RESET on G⁻; < 0: RESET on G⁺).
        k : float
            Weight per S (unused: one count is one pulse).
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is).
        """
        random_state = check_random_state(random_state)
        common: dict[str, Any] = dict(
            polarity="reset",
            amplitude=self.amplitude,
            width=self.width,
            cell=self.cell,
            bias_scheme=self.bias_scheme,
            kind="update",
            mode=self.mode,
            random_state=random_state,
            circuit=self.circuit,
        )
        scheds = [
            pairs.pulse_cells("-", np.maximum(counts, 0), **common),  # raise w
            pairs.pulse_cells("+", np.maximum(-counts, 0), **common),
        ]  # lower w
        before = (pairs.g_plus.copy(), pairs.g_minus.copy()) if self._seen else None
        scheds += self.refresh(pairs, random_state)
        if before is not None:
            refreshed = (pairs.g_plus > before[0]) | (pairs.g_minus > before[1])
            self._record_pulses(pairs, counts, refreshed)
        return [s for s in scheds if s.n_pulses]

    def refresh(self, pairs: PairArray, random_state) -> list[PulseSchedule]:
        """Refresh the pairs whose devices both sit near G_min (:mod:`xbar.train.pulsed`).

        Parameters
        ----------
        pairs : PairArray
            The pairs (conductances in S).
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is).
        """
        random_state = check_random_state(random_state)
        g_min, g_max = pairs.g_min, pairs.g_max
        window = g_max - g_min
        floor = g_min + self.refresh_margin * window
        mask = (pairs.g_plus < floor) & (pairs.g_minus < floor)
        if not mask.any():
            return []
        diff = pairs.g_plus - pairs.g_minus  # the weight to keep, in S
        scheds = []
        set_target = np.broadcast_to(g_min + self.set_level * window, mask.shape)
        tol = self.window_rtol * np.mean(window)
        ramps = dict(set_ramp=Ramp(self.set_amplitude), reset_ramp=Ramp(self.amplitude))
        common: dict[str, Any] = dict(
            atol=tol,
            max_pulses=self.max_pulses,
            v_read=self.v_read,
            t_read=self.t_read,
            kind="refresh",
            random_state=random_state,
            cell=self.cell,
            bias_scheme=self.bias_scheme,
            **ramps,
        )
        for which in "+-":
            s, _ = program_verify(
                pairs,
                which,
                set_target,
                mask & (pairs.side(which) < set_target - tol),
                width=self.set_width,
                **common,
            )
            scheds += s
        # the device that must be lower is reset to (other − |diff|); the other stays where SET put it
        lower_plus = mask & (diff < 0)
        lower_minus = mask & (diff >= 0)
        for which, sel, other in (
            ("+", lower_plus, pairs.g_minus),
            ("-", lower_minus, pairs.g_plus),
        ):
            if sel.any():
                target = np.maximum(other - np.abs(diff), g_min)
                s, _ = program_verify(
                    pairs, which, target, sel, width=self.width, allow_set=False, **common
                )
                scheds += s
        return scheds


_rename_fields(
    ResetOnlyWriter,
    {
        "tolerance": "window_rtol",
        "max_iterations": "max_pulses",
        "read_voltage": "v_read",
        "read_width": "t_read",
    },
)


@dataclass
class ProgramVerifyWriter:
    """Conventional SET/RESET program-and-verify updates (the baseline).

    The requested change is turned into target conductances (moved on G⁺ first, any rest on G⁻)
    reached by program-and-verify (:mod:`xbar.pulses.verify`).

    Parameters
    ----------
    set_ramp : Ramp, default Ramp(v_start=0.6, v_step=0.1, v_stop=1.5)
        SET amplitudes of the incremental-step program-and-verify, V (docs/references.rst,
        ref-read-write-energy: SET ~1–2 V; MemTorch write-verify ±1 V), or a dict with these
        keys (a TOML table).  A ``(start, stop, step)`` tuple is a deprecated spelling.
    reset_ramp : Ramp, default Ramp(v_start=0.5, v_step=0.1, v_stop=1.5)
        RESET amplitudes, V.
    width : float, default 100e-9
        Pulse width, s.
    atol : float or None, default None
        Verify band, S; None = half the nominal conductance step of one reset-only update
        pulse, so that the smallest update the mapping asks for is resolvable.  Deprecated
        name: ``tolerance``.
    rtol : float, default 0.0
        Relative verify band (fraction of the target conductance).
    max_pulses : int, default 20
        Pulses per cell and update.  Deprecated name: ``max_iterations``.
    v_read : float, default 0.2
        Verify read voltage, V.  Deprecated name: ``read_voltage``.
    t_read : float, default 100e-9
        Verify read time, s.  Deprecated name: ``read_width``.
    read_periphery : ReadPeriphery or None, default None
        The read path's periphery that every verify read goes through
        (:class:`xbar.pulses.energy.ReadPeriphery`: DAC, TIA and ADC energy per read); None:
        verify reads cost their cell current only.  The schedules :meth:`apply` returns carry
        the cell energies; :meth:`book` books them and, with a periphery, its energy per verify
        read (ledger categories ``dac``, ``tia``, ``adc``, ``operation="verify"``).  A
        :class:`~xbar.train.pulsed.PulsedLayer` books through :meth:`book`; a caller that books
        the schedules itself (``s.book(ledger)``) books no periphery energy.
    """

    set_ramp: Ramp = field(default_factory=lambda: Ramp(0.6, 0.1, 1.5))
    reset_ramp: Ramp = field(default_factory=lambda: Ramp(0.5, 0.1, 1.5))
    width: float = 100e-9
    atol: float | None = None
    rtol: float = 0.0
    max_pulses: int = 20
    v_read: float = 0.2
    t_read: float = 100e-9
    read_periphery: ReadPeriphery | None = None

    name = "program-verify"

    def __post_init__(self) -> None:
        for f in ("width", "v_read", "t_read"):
            check_scalar(getattr(self, f), f, low=0.0, low_open=True)
        self.set_ramp = _coerce_ramp(self.set_ramp, "set_ramp")
        self.reset_ramp = _coerce_ramp(self.reset_ramp, "reset_ramp")
        if self.atol is not None:
            check_scalar(self.atol, "atol", low=0.0, low_open=True, unit="S")
        check_scalar(self.rtol, "rtol", low=0.0)
        check_scalar(self.max_pulses, "max_pulses", low=1, integer=True)
        if self.read_periphery is not None and not isinstance(self.read_periphery, ReadPeriphery):
            raise ConfigError(
                "read_periphery must be an xbar.pulses.energy.ReadPeriphery or None, got "
                f"{type(self.read_periphery).__name__}"
            )
        self._dG_cache: tuple[Any, float] | None = None

    def book(self, schedules, ledger, **tags) -> dict:
        """Book the schedules of :meth:`apply` into ``ledger``, with the verify reads' periphery.

        Parameters
        ----------
        schedules : list of PulseSchedule
            What :meth:`apply` returned.
        ledger : xbar.pulses.EnergyLedger
            Where the energies (J) are booked.
        **tags
            Scalar tags of every booking (e.g. ``layer``).

        Returns
        -------
        dict
            The periphery booked: ``{"reads": n, "dac": J, "tia": J, "adc": J}`` (zeros
            without ``read_periphery``).
        """
        for s in schedules:
            s.book(ledger, **tags)
        if self.read_periphery is None:
            return {"reads": 0, "dac": 0.0, "tia": 0.0, "adc": 0.0}
        return book_read_periphery(ledger, schedules, self.read_periphery, **tags)

    def nominal_dG(self, device, random_state) -> float:
        """The reset-only nominal step (the unit the mapping counts in), S.

        Parameters
        ----------
        device : object
            Stateless device (protocol of :mod:`xbar.train.pulsed`).
        random_state : None, int or Generator
            Stream of the draws (a Generator is used as is).
        """
        return ResetOnlyWriter().nominal_dG(device, random_state)

    def _dG_per_count(self, device) -> float:
        # what PulsedLayer computes as dG_nominal (seed 0), cached per device
        if self._dG_cache is None or self._dG_cache[0] is not device:
            self._dG_cache = (device, self.nominal_dG(device, np.random.default_rng(0)))
        return self._dG_cache[1]

    def apply(
        self,
        pairs: PairArray,
        counts: np.ndarray,
        k: float,
        random_state,
        dG_per_count: float | None = None,
    ) -> list[PulseSchedule]:
        """Move the pairs to the targets the counts ask for; returns the schedules.

        Parameters
        ----------
        pairs : PairArray
            The pairs (conductances in S).
        counts : (M, N) int ndarray
            Signed pulse counts (> 0 raise the weight).
        k : float
            Weight per S (unused: counts are converted with ``dG_per_count``).
        random_state : None, int or Generator
            Cycle-noise stream (a Generator is used as is).
        dG_per_count : float or None
            Conductance change per count, S; None = :meth:`nominal_dG` of ``pairs.device`` (the
            step the layer's mapping counts in).
        """
        random_state = check_random_state(random_state)
        if dG_per_count is None:
            dG_per_count = self._dG_per_count(pairs.device)
        g_min, g_max = pairs.g_min, pairs.g_max
        dG = counts * dG_per_count  # requested change of G⁺ − G⁻, S
        tp = np.clip(pairs.g_plus + dG, g_min, g_max)
        rest = dG - (tp - pairs.g_plus)
        tm = np.clip(pairs.g_minus - rest, g_min, g_max)
        tol = self.atol if self.atol is not None else 0.5 * dG_per_count
        scheds = []
        for which, target in (("+", tp), ("-", tm)):
            sel = (counts != 0) & (np.abs(pairs.side(which) - target) > 0)
            if sel.any():
                s, _ = program_verify(
                    pairs,
                    which,
                    target,
                    sel,
                    atol=tol,
                    rtol=self.rtol,
                    max_pulses=self.max_pulses,
                    set_ramp=self.set_ramp,
                    reset_ramp=self.reset_ramp,
                    width=self.width,
                    v_read=self.v_read,
                    t_read=self.t_read,
                    kind="program",
                    random_state=random_state,
                )
                scheds += s
        return [s for s in scheds if s.n_pulses]


_rename_fields(
    ProgramVerifyWriter,
    {
        "tolerance": "atol",
        "max_iterations": "max_pulses",
        "read_voltage": "v_read",
        "read_width": "t_read",
    },
)


def writer_config(writer) -> dict:
    """The writer's parameters as a plain dictionary (results files).

    Parameters
    ----------
    writer : Writer
        A dataclass writer (``name`` and fields).
    """
    fields = (
        asdict(writer) if dataclasses.is_dataclass(writer) and not isinstance(writer, type) else {}
    )
    return {"writer": writer.name, **fields}
