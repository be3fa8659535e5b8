"""Layers whose weights live on differential device pairs and change only by programming pulses.

``w_ij = k · (G⁺_ij − G⁻_ij)``, ``k = w_max / (g_max − g_min)`` (weight units per siemens). A
requested ``ΔW`` becomes signed pulse counts (:class:`~xbar.train.pulse_mapping.PulseMapping`); a writer
turns them into a :class:`~xbar.pulses.PulseSchedule`, applies it to the devices and books every
pulse's energy in an :class:`~xbar.pulses.EnergyLedger`:

:class:`ResetOnlyWriter` (docs/references.rst, ref-renaudineau2026-designs (design 1))
    raise w: a sub-1 V RESET pulse on G⁻; lower w: one on G⁺. Conductances only fall. A pair whose
    two devices both come within ``refresh_margin`` of G_min is refreshed: one SET pulse on each,
    then the device that must be lower is brought back to encode the old weight by RESET
    program-and-verify; every pulse and verify read of a refresh is booked as ``refresh``.
:class:`ProgramVerifyWriter`, the conventional baseline
    the requested change is turned into target conductances (moved on G⁺ first, any rest on G⁻)
    reached by SET/RESET program-and-verify: verify read, then a SET (below target) or RESET
    (above) pulse, until within ``tolerance`` or ``max_iterations``.

Device protocol (what a writer needs; :mod:`xbar.devices` models follow it, see the report of the
training issue for the adapter): an object with

* ``g_min``, ``g_max``: conductance window, S (floats);
* ``apply_pulse(G, polarity, amplitude, width, random_state) -> G_new``: conductances after one
  pulse (``polarity`` "set" or "reset", amplitude V, width s) on each entry of the 1-D array G, S;
* optionally ``current(V, G) -> I`` in A (default: linear ``G·V``).

Energy of one cell pulse: ``E = V·t·(I(V, G_before) + I(V, G_after)) / 2`` (trapezoid over the
state change, J). A verify read: ``V_r · I(V_r, G) · t_r``. Half-selected cells of a row-parallel
pulse (bias ``"V/2"``: the rest of the selected row and the selected columns' cells on other rows
see V/2; ``"V/3"``: every unselected cell sees V/3; ``"1T1R"``: none, access transistors off) are
booked with the conductances at the start of the update and ideal wires.  This device-level
estimate is the default because it is cheap; with a :class:`WriteCircuit` on the writer every
row-parallel pulse is instead solved through its tile (``xbar.Crossbar.apply_pulse``: wires,
drivers, sense terminals, access transistors, the cells' I-V): each selected device is pulsed with
the voltage it actually sees, and the half-selected, wire, driver and access energies come from the
solve.  One solve per row pulse costs 10-35 ms for a 75 x 80 tile and 30-240 ms for 256 x 200
(measured, linear vs Sinh cells, 0T1R vs 1T1R), i.e. minutes per update of a 784-input layer: use
it for small arrays and studies of the write energy, not for MNIST-scale training.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .._random import check_random_state, spawn
from .._validation import as_float_array, check_choice, check_scalar
from ..exceptions import ConfigError
from ..pulses.schedule import BIAS_SCHEMES, MODES, PulseSchedule
from .layers import augment, init_weights
from .pulse_mapping import PulseMapping


# ----------------------------------------------------------------------------- energies
def device_current(device, V: float, G: np.ndarray) -> np.ndarray:
    """Device current at voltage V (V) and state G (S), A; linear ``G·V`` if no I-V model."""
    cur = getattr(device, "current", None)
    if cur is None:
        return G * V
    return np.asarray(cur(V, G), dtype=np.float64)


def pulse_energy(device, V: float, width: float, g_before, g_after) -> np.ndarray:
    """Energy of one pulse per cell, J: ``V·t·(I(V, G_before) + I(V, G_after)) / 2``."""
    return 0.5 * V * width * (np.abs(device_current(device, V, g_before))
                              + np.abs(device_current(device, V, g_after)))


def half_select_energy(sched: PulseSchedule, device, G: np.ndarray) -> np.ndarray:
    """Energy of the half-selected cells of each pulse of a one-array schedule, J.

    Uses the conductances ``G`` (M, N) for every pulse and ideal wires (see module docstring).
    """
    out = np.zeros(sched.n_pulses)
    if sched.n_pulses == 0:
        return out
    b = sched._bounds()
    for code, scheme in enumerate(BIAS_SCHEMES):
        pulses = np.nonzero(sched.bias == code)[0]
        if not len(pulses) or scheme in ("1T1R", "floating", "grounded"):
            continue
        frac = 0.5 if scheme == "V/2" else 1.0 / 3.0
        for p in pulses:
            V = sched.amplitude[p] * frac
            P = V * np.abs(device_current(device, V, G))          # W per cell
            rows, cols = sched.row[b[p]:b[p + 1]], sched.col[b[p]:b[p + 1]]
            sel = P[rows, cols].sum()
            if scheme == "V/2":
                # rows of the pulse (one row when row-parallel) + selected columns, minus selected
                e = P[np.unique(rows)].sum() + P[:, np.unique(cols)].sum() - 2 * sel
            else:
                e = P.sum() - sel
            out[p] = e * sched.width[p]
    return out


# ----------------------------------------------------------------------------- pair state
class PairArray:
    """Differential conductance pairs of one layer: G⁺, G⁻ (M, N) in S, and their devices.

    Either a stateless ``device`` following the protocol of this module, or (with
    :meth:`from_device_arrays`) two stateful :class:`xbar.devices.DeviceArray` s whose per-device
    (d2d) parameters and cycle noise drive every pulse.
    """

    def __init__(self, g_plus, g_minus, device, name: str = "layer", arrays: dict | None = None):
        self.g_plus = as_float_array(g_plus, "g_plus", shape=(None, None)).copy()
        self.g_minus = as_float_array(g_minus, "g_minus", shape=self.g_plus.shape).copy()
        self.device = device
        self.name = name
        self.arrays = arrays

    @classmethod
    def from_device_arrays(cls, plus, minus, name: str = "layer") -> "PairArray":
        """Pairs backed by two ``xbar.devices`` arrays of equal shape (M, N)."""
        if plus.shape != minus.shape or len(plus.shape) != 2:
            raise ConfigError(f"plus and minus must be 2-D device arrays of one shape, got "
                              f"{plus.shape} and {minus.shape}")
        return cls(plus.G, minus.G, DeviceModelView(plus.model), name=name,
                   arrays={"+": plus, "-": minus})

    @property
    def shape(self):
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
        return self.g_plus if which == "+" else self.g_minus

    def label(self, which: str) -> str:
        return f"{self.name}/G{which}"

    def pulse(self, which: str, mask: np.ndarray, polarity: str, amplitude: float, width: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One pulse on the masked cells of one side; returns G before and after (S)."""
        G = self.side(which)
        before = G[mask]
        if self.arrays:
            arr = self.arrays[which]
            sign = arr.model.set_polarity * (1 if polarity == "set" else -1)
            arr.apply_pulses(sign * amplitude, width, mask=mask, random_state=rng)
            G[...] = arr.G
        else:
            G[mask] = np.asarray(self.device.apply_pulse(before, polarity, amplitude, width, rng),
                                 dtype=np.float64)
        return before, G[mask]

    def set_state(self, g_plus, g_minus) -> None:
        """Replace both sides' conductances (S), e.g. from a checkpoint."""
        self.g_plus[...] = g_plus
        self.g_minus[...] = g_minus
        if self.arrays:
            self.arrays["+"].set_state(g_plus)
            self.arrays["-"].set_state(g_minus)
            self.g_plus[...] = self.arrays["+"].G
            self.g_minus[...] = self.arrays["-"].G


class DeviceModelView:
    """Adapter of an ``xbar.devices`` model (e.g. ``HfOxReRAM``) to the stateless protocol.

    ``g_min``/``g_max`` are the model's nominal window (S; the HRS/LRS medians of a binary
    ``StochasticBinaryReRAM``), ``current`` its cell I-V, and
    ``apply_pulse`` pulses a fresh sample of devices at the given states (used only to estimate the
    nominal step of a pulse; trained pairs use their own device arrays).
    """

    def __init__(self, model):
        self.model = model
        self.g_min = float(getattr(model, "g_min", None) or model.g_hrs)
        self.g_max = float(getattr(model, "g_max", None) or model.g_lrs)

    def current(self, V, G):
        return self.model.iv.current(V, G)

    def apply_pulse(self, G, polarity, amplitude, width, random_state=None):
        G = np.asarray(G, dtype=np.float64)
        arr = self.model.sample(G.shape, random_state=random_state)
        arr.set_state(G)
        sign = self.model.set_polarity * (1 if polarity == "set" else -1)
        arr.apply_pulses(sign * amplitude, width)
        return np.array(arr.G)


@dataclass
class WriteCircuit:
    """Row-parallel write pulses solved through the array (see the module docstring).

    The pairs are laid out as the read path lays them out (``xbar.periphery`` differential
    mapping): tiles of ``array.max_rows`` word lines and ``array.max_cols`` bit lines, each output
    a pair of adjacent columns ``[G⁺, G⁻]``.  A pulse on row ``i`` drives that word line at
    ``±amplitude`` and the selected bit lines at 0 V, the other lines per the bias scheme
    (``"V/2"`` → ``"half"``, ``"V/3"`` → ``"third"``, ``"1T1R"`` → ``"half"`` on a 1T1R array whose
    gates are open on the selected row only).  The cells' conductances are held at their values
    before the pulse during the solve.

    Parameters
    ----------
    array : xbar.periphery.ArrayConfig or None
        Tile size, wire resistances (ohm), cell type and access resistance; None = ``ArrayConfig()``
        (256 x 256, 1 ohm), with ``cell="1T1R"`` needed for the ``"1T1R"`` bias scheme.
    r_driver : float, default 10.0
        Output resistance of the word-line drivers during a write, ohm (as the read DAC default).
    r_sense : float, default 10.0
        Resistance of the bit-line terminals during a write, ohm.
    device_iv : bool, default True
        Solve with the device model's I-V (e.g. ``Sinh``) instead of linear cells ``G·V``.
    """

    array: object = None
    r_driver: float = 10.0
    r_sense: float = 10.0
    device_iv: bool = True

    def __post_init__(self):
        from ..periphery import ArrayConfig
        if self.array is None:
            self.array = ArrayConfig()
        if not isinstance(self.array, ArrayConfig):
            raise ConfigError(f"array must be an xbar.periphery.ArrayConfig, got "
                              f"{type(self.array).__name__}")
        check_scalar(self.r_driver, "r_driver", low=0.0, unit="ohm")
        check_scalar(self.r_sense, "r_sense", low=0.0, unit="ohm")

    def solve_row(self, pairs: PairArray, which: str, row: int, cols: np.ndarray, *,
                  amplitude: float, width: float, sign: int, bias_scheme: str):
        """Solve one pulse on ``row`` x ``cols`` of side ``which``; returns the selected cells'
        |voltage| (V, per col) and the energies (J) half-selected + unselected, wires, drivers
        (driver and terminal resistances), access."""
        from ..circuit import Crossbar
        a = self.array
        if bias_scheme == "1T1R" and a.cell != "1T1R":
            raise ConfigError("bias_scheme '1T1R' needs WriteCircuit(array=ArrayConfig(cell='1T1R', "
                              f"r_access=...)), got cell={a.cell!r}")
        scheme = {"V/2": "half", "V/3": "third", "1T1R": "half"}[bias_scheme]
        per_tile = max(a.max_cols // 2, 1)
        r0 = (row // a.max_rows) * a.max_rows
        r1 = min(r0 + a.max_rows, pairs.shape[0])
        side = 0 if which == "+" else 1
        kw = a.crossbar_kwargs(self.r_driver, self.r_sense)
        if self.device_iv and pairs.arrays:
            kw["iv"] = pairs.arrays[which].model.iv
        v_cell = np.empty(len(cols))
        e = np.zeros(4)
        for o0 in np.unique(cols // per_tile) * per_tile:
            o1 = min(o0 + per_tile, pairs.shape[1])
            sel = (cols >= o0) & (cols < o1)
            G = np.empty((r1 - r0, 2 * (o1 - o0)))
            G[:, 0::2] = pairs.g_plus[r0:r1, o0:o1]
            G[:, 1::2] = pairs.g_minus[r0:r1, o0:o1]
            local = 2 * (cols[sel] - o0) + side
            res = Crossbar(G, **kw).apply_pulse(row - r0, local, amplitude=amplitude,
                                                width=width, polarity=sign, scheme=scheme)
            v_cell[sel] = np.abs(res.cell_voltages[row - r0, local])
            en = res.energy
            e += (en.half_selected + en.unselected, en.wires, en.word_drivers + en.sense, en.access)
        return v_cell, e


def _pulse_rows_circuit(pairs: PairArray, which: str, sched: PulseSchedule, *, polarity: str,
                        amplitude: float, width: float, bias_scheme: str, circuit: WriteCircuit,
                        rng: np.random.Generator) -> PulseSchedule:
    """Apply a row-parallel schedule pulse by pulse, each solved through its tile."""
    if not pairs.arrays:
        raise ConfigError("a WriteCircuit needs pairs on xbar.devices arrays (per-cell voltages), "
                          "got a stateless device")
    arr = pairs.arrays[which]
    G = pairs.side(which)
    sign = arr.model.set_polarity * (1 if polarity == "set" else -1)
    b = sched._bounds()
    n = sched.n_cell_pulses
    energy, gb, ga = np.empty(n), np.empty(n), np.empty(n)
    parts = np.zeros((sched.n_pulses, 4))
    for p in range(sched.n_pulses):
        lo, hi = b[p], b[p + 1]
        row, cols = int(sched.row[lo]), sched.col[lo:hi]
        v_cell, parts[p] = circuit.solve_row(pairs, which, row, cols, amplitude=amplitude,
                                             width=width, sign=sign, bias_scheme=bias_scheme)
        mask = np.zeros(G.shape, dtype=bool)
        mask[row, cols] = True
        volts = np.zeros(G.shape)
        volts[row, cols] = sign * v_cell
        gb[lo:hi] = G[row, cols]
        arr.apply_pulses(volts, width, mask=mask, random_state=rng)
        G[...] = arr.G
        ga[lo:hi] = G[row, cols]
        energy[lo:hi] = pulse_energy(pairs.device, v_cell, width, gb[lo:hi], ga[lo:hi])
    sched.set_results(energy, gb, ga, parts[:, 0], energy_wires=parts[:, 1],
                      energy_drivers=parts[:, 2], energy_access=parts[:, 3])
    return sched


def _pulse_cells(pairs: PairArray, which: str, counts: np.ndarray, *, polarity: str,
                 amplitude: float, width: float, bias_scheme: str, kind: str, mode: str,
                 rng: np.random.Generator, circuit: WriteCircuit | None = None) -> PulseSchedule:
    """Apply ``counts`` identical pulses to the cells of one side; return the filled schedule.

    With ``circuit`` and ``mode="row-parallel"`` every pulse is solved through its tile."""
    G = pairs.side(which)
    sched = PulseSchedule.from_counts(counts, amplitude=amplitude, width=width, polarity=polarity,
                                      array=pairs.label(which), bias_scheme=bias_scheme, kind=kind,
                                      mode=mode)
    if sched.n_cell_pulses == 0:
        return sched
    if circuit is not None and mode == "row-parallel":
        return _pulse_rows_circuit(pairs, which, sched, polarity=polarity, amplitude=amplitude,
                                   width=width, bias_scheme=bias_scheme, circuit=circuit, rng=rng)
    e_half = half_select_energy(sched, pairs.device, G)
    n_rep = int(counts.max())
    g0 = np.full((n_rep,) + G.shape, np.nan)
    g1 = np.full((n_rep,) + G.shape, np.nan)
    for r in range(n_rep):
        mask = counts > r
        before, after = pairs.pulse(which, mask, polarity, amplitude, width, rng)
        g0[r][mask] = before
        g1[r][mask] = after
    gb = g0[sched.rep, sched.row, sched.col]
    ga = g1[sched.rep, sched.row, sched.col]
    sched.set_results(pulse_energy(pairs.device, amplitude, width, gb, ga), gb, ga, e_half)
    return sched


def _read_cells(pairs: PairArray, which: str, mask: np.ndarray, *, voltage: float, width: float,
                kind: str) -> PulseSchedule:
    """Verify reads (one cell at a time) of the masked cells of one side."""
    G = pairs.side(which)
    sched = PulseSchedule.from_counts(mask.astype(np.int64), amplitude=voltage, width=width,
                                      polarity="read", array=pairs.label(which),
                                      bias_scheme="1T1R", kind=kind, mode="cell-by-cell")
    g = G[sched.row, sched.col]
    sched.set_results(voltage * width * np.abs(device_current(pairs.device, voltage, g)), g, g)
    return sched


def _ramp_levels(start: float, stop: float, step: float) -> np.ndarray:
    n = int(np.floor((stop - start) / step + 1e-9)) + 1 if step > 0 else 1
    return np.minimum(start + step * np.arange(max(n, 1)), stop)


def program_verify(pairs: PairArray, which: str, target: np.ndarray, mask: np.ndarray, *,
                   tolerance: float, max_iterations: int, set_ramp: tuple, reset_ramp: tuple,
                   width: float, read_voltage: float, read_width: float, kind: str,
                   rng: np.random.Generator, allow_set: bool = True,
                   bias_scheme: str = "1T1R") -> tuple[list[PulseSchedule], np.ndarray]:
    """Incremental-step program-and-verify of the masked cells of one side towards ``target`` (S).

    Each iteration reads every unfinished cell; cells within ``tolerance`` (S) stop; the others get
    one SET pulse (below target, if ``allow_set``) or one RESET pulse (above). Amplitudes follow
    ``(start, stop, step)`` ramps in V, per cell: each further pulse of the same polarity is one
    step higher (up to ``stop``), a change of polarity restarts at ``start`` (ISPP with verify).
    Returns the schedules (reads and pulses, in order) and the mask of unconverged cells.
    """
    G = pairs.side(which)
    levels = {"set": _ramp_levels(*set_ramp), "reset": _ramp_levels(*reset_ramp)}
    ramp = np.zeros(G.shape, dtype=np.int64)
    last = np.zeros(G.shape, dtype=np.int8)              # +1 last pulse SET, -1 RESET
    active = mask.copy()
    read_kind = "refresh" if kind == "refresh" else "verify"
    scheds = []
    for it in range(max_iterations + 1):
        if not active.any():
            break
        scheds.append(_read_cells(pairs, which, active, voltage=read_voltage, width=read_width,
                                  kind=read_kind))
        err = G - target
        done = np.abs(err) <= tolerance
        if not allow_set:
            done |= err < 0          # cannot go up: as close as a reset-only device gets
        active &= ~done
        if it == max_iterations:
            break
        for polarity, sel, sign in (("set", active & (err < 0), 1), ("reset", active & (err > 0), -1)):
            if not sel.any():
                continue
            ramp[sel & (last != sign)] = 0
            lv = levels[polarity]
            for r in np.unique(ramp[sel]):
                cells = sel & (ramp == r)
                scheds.append(_pulse_cells(pairs, which, cells.astype(np.int64),
                                           polarity=polarity, amplitude=float(lv[min(r, len(lv) - 1)]),
                                           width=width, bias_scheme=bias_scheme, kind=kind,
                                           mode="cell-by-cell", rng=rng))
            ramp[sel] += 1
            last[sel] = sign
    return scheds, active


# ----------------------------------------------------------------------------- writers
@dataclass
class ResetOnlyWriter:
    """Reset-only single-pulse updates on differential pairs.

    Parameters
    ----------
    amplitude : float, default 0.8
        RESET pulse amplitude, V (sub-1 V; docs/references.rst, ref-read-write-energy illustration, 0.8 V).
    width : float, default 100e-9
        RESET pulse width, s.
    bias_scheme : {"1T1R", "V/2", "V/3"}, default "1T1R"
        Bias of unselected lines (1T1R: unselected rows' transistors off).
    mode : {"row-parallel", "cell-by-cell"}, default "row-parallel"
    refresh_margin : float, default 0.1
        A pair is refreshed when both devices are below ``g_min + refresh_margin·(g_max − g_min)``.
    set_amplitude : float, default 1.5
        SET pulse amplitude of a refresh, V (docs/references.rst, ref-read-write-energy: SET ~1–2 V).
    set_level : float, default 0.9
        A refresh SETs both devices (SET-and-verify) to ``g_min + set_level·(g_max − g_min)``.
    set_width : float, default 100e-9
        SET pulse width, s.
    tolerance : float, default 0.05
        Re-programming tolerance after a refresh, as a fraction of the window (g_max − g_min);
        keep it above one RESET step, since a reset-only device cannot correct an overshoot.
    max_iterations : int, default 60
        Program-and-verify iterations of a refresh.
    read_voltage : float, default 0.2
        Verify read voltage, V.  read_width : float, default 100e-9, s.
    circuit : WriteCircuit or None, default None
        Solve every row-parallel update pulse through its tile (energies of wires, drivers and
        half-selected cells from the solve, each device pulsed with the voltage it sees); None =
        the device-level estimate (module docstring). Refresh pulses stay device-level.
    """

    amplitude: float = 0.8
    width: float = 100e-9
    bias_scheme: str = "1T1R"
    mode: str = "row-parallel"
    refresh_margin: float = 0.1
    set_amplitude: float = 1.5
    set_level: float = 0.9
    set_width: float = 100e-9
    tolerance: float = 0.05
    max_iterations: int = 60
    read_voltage: float = 0.2
    read_width: float = 100e-9
    circuit: WriteCircuit | None = None

    name = "reset-only"

    def __post_init__(self):
        for f in ("amplitude", "width", "set_amplitude", "set_width", "read_voltage",
                  "read_width"):
            check_scalar(getattr(self, f), f, low=0.0, low_open=True)
        check_choice(self.bias_scheme, "bias_scheme", ("1T1R", "V/2", "V/3"))
        check_choice(self.mode, "mode", MODES)
        check_scalar(self.refresh_margin, "refresh_margin", low=0.0, high=1.0)
        check_scalar(self.set_level, "set_level", low=self.refresh_margin, high=1.0)
        check_scalar(self.tolerance, "tolerance", low=0.0, low_open=True, high=1.0)
        check_scalar(self.max_iterations, "max_iterations", low=1, integer=True)
        if self.circuit is not None and not isinstance(self.circuit, WriteCircuit):
            raise ConfigError(f"circuit must be a WriteCircuit or None, got "
                              f"{type(self.circuit).__name__}")
        if (self.circuit is not None and self.bias_scheme == "1T1R"
                and self.circuit.array.cell != "1T1R"):
            raise ConfigError("bias_scheme '1T1R' needs a circuit array of 1T1R cells "
                              "(WriteCircuit(array=ArrayConfig(cell='1T1R', r_access=...))), got "
                              f"cell={self.circuit.array.cell!r}; or choose bias_scheme 'V/2' / 'V/3'")

    def nominal_dG(self, device, rng) -> float:
        """Mean |ΔG| of one update pulse from mid-window, S (256 draws)."""
        g = np.full(256, 0.5 * (device.g_min + device.g_max))
        return float(np.mean(np.abs(device.apply_pulse(g, "reset", self.amplitude, self.width,
                                                       rng) - g)))

    def apply(self, pairs: PairArray, counts: np.ndarray, k: float,
              rng: np.random.Generator) -> list[PulseSchedule]:
        """Apply signed pulse counts; returns the schedules (update pulses, then refreshes)."""
        common = dict(polarity="reset", amplitude=self.amplitude, width=self.width,
                      bias_scheme=self.bias_scheme, kind="update", mode=self.mode, rng=rng,
                      circuit=self.circuit)
        scheds = [_pulse_cells(pairs, "-", np.maximum(counts, 0), **common),   # raise w
                  _pulse_cells(pairs, "+", np.maximum(-counts, 0), **common)]  # lower w
        scheds += self.refresh(pairs, rng)
        return [s for s in scheds if s.n_pulses]

    def refresh(self, pairs: PairArray, rng: np.random.Generator) -> list[PulseSchedule]:
        """Refresh the pairs whose devices both sit near G_min (module docstring)."""
        g_min, g_max = pairs.g_min, pairs.g_max
        window = g_max - g_min
        floor = g_min + self.refresh_margin * window
        mask = (pairs.g_plus < floor) & (pairs.g_minus < floor)
        if not mask.any():
            return []
        diff = pairs.g_plus - pairs.g_minus               # the weight to keep, in S
        scheds = []
        set_target = np.broadcast_to(g_min + self.set_level * window, mask.shape)
        tol = self.tolerance * np.mean(window)
        for which in "+-":
            s, _ = program_verify(pairs, which, set_target, mask & (pairs.side(which) < set_target - tol),
                                  tolerance=tol, max_iterations=self.max_iterations,
                                  set_ramp=(self.set_amplitude, self.set_amplitude, 0.0),
                                  reset_ramp=(self.amplitude, self.amplitude, 0.0),
                                  width=self.set_width, read_voltage=self.read_voltage,
                                  read_width=self.read_width, kind="refresh", rng=rng)
            scheds += s
        # the device that must be lower is reset to (other − |diff|); the other stays where SET put it
        lower_plus = mask & (diff < 0)
        lower_minus = mask & (diff >= 0)
        for which, sel, other in (("+", lower_plus, pairs.g_minus), ("-", lower_minus, pairs.g_plus)):
            if sel.any():
                target = np.maximum(other - np.abs(diff), g_min)
                s, _ = program_verify(pairs, which, target, sel, tolerance=tol,
                                      max_iterations=self.max_iterations,
                                      set_ramp=(self.set_amplitude, self.set_amplitude, 0.0),
                                      reset_ramp=(self.amplitude, self.amplitude, 0.0),
                                      width=self.width, read_voltage=self.read_voltage,
                                      read_width=self.read_width, kind="refresh", rng=rng,
                                      allow_set=False)
                scheds += s
        return scheds


@dataclass
class ProgramVerifyWriter:
    """Conventional SET/RESET program-and-verify updates (the baseline).

    Parameters
    ----------
    set_ramp : (start, stop, step), default (0.6, 1.5, 0.1)
        SET amplitudes of the incremental-step program-and-verify, V (docs/references.rst, ref-read-write-energy: SET
        ~1–2 V; MemTorch write-verify ±1 V).
    reset_ramp : (start, stop, step), default (0.5, 1.5, 0.1)
        RESET amplitudes, V.
    width : float, default 100e-9
        Pulse width, s.
    tolerance : float or None, default None
        Verify tolerance, S; None = half the nominal conductance step of one reset-only update
        pulse, so that the smallest update the mapping asks for is resolvable.
    max_iterations : int, default 20
    read_voltage : float, default 0.2 (V);  read_width : float, default 100e-9 (s)
    """

    set_ramp: tuple = (0.6, 1.5, 0.1)
    reset_ramp: tuple = (0.5, 1.5, 0.1)
    width: float = 100e-9
    tolerance: float | None = None
    max_iterations: int = 20
    read_voltage: float = 0.2
    read_width: float = 100e-9

    name = "program-verify"

    def __post_init__(self):
        for f in ("width", "read_voltage", "read_width"):
            check_scalar(getattr(self, f), f, low=0.0, low_open=True)
        for f in ("set_ramp", "reset_ramp"):
            r = tuple(getattr(self, f))
            if len(r) != 3 or not 0 < r[0] <= r[1] or r[2] < 0:
                raise ConfigError(f"{f} must be (start, stop, step) V with 0 < start <= stop and "
                                  f"step >= 0, got {r!r}")
            setattr(self, f, tuple(float(v) for v in r))
        if self.tolerance is not None:
            check_scalar(self.tolerance, "tolerance", low=0.0, low_open=True, unit="S")
        check_scalar(self.max_iterations, "max_iterations", low=1, integer=True)
        self._tol = self.tolerance

    def nominal_dG(self, device, rng) -> float:
        """The reset-only nominal step (the unit the mapping counts in), S."""
        return ResetOnlyWriter().nominal_dG(device, rng)

    def apply(self, pairs: PairArray, counts: np.ndarray, k: float, rng: np.random.Generator,
              dG_per_count: float = 0.0) -> list[PulseSchedule]:
        g_min, g_max = pairs.g_min, pairs.g_max
        dG = counts * dG_per_count                          # requested change of G⁺ − G⁻, S
        tp = np.clip(pairs.g_plus + dG, g_min, g_max)
        rest = dG - (tp - pairs.g_plus)
        tm = np.clip(pairs.g_minus - rest, g_min, g_max)
        tol = self._tol if self._tol is not None else 0.5 * dG_per_count
        scheds = []
        for which, target in (("+", tp), ("-", tm)):
            sel = (counts != 0) & (np.abs(pairs.side(which) - target) > 0)
            if sel.any():
                s, _ = program_verify(pairs, which, target, sel, tolerance=tol,
                                      max_iterations=self.max_iterations,
                                      set_ramp=self.set_ramp, reset_ramp=self.reset_ramp,
                                      width=self.width,
                                      read_voltage=self.read_voltage, read_width=self.read_width,
                                      kind="program", rng=rng)
                scheds += s
        return [s for s in scheds if s.n_pulses]


# ----------------------------------------------------------------------------- the layer
Reader = Callable[[np.ndarray, "PulsedLayer"], np.ndarray]


class PulsedLayer:
    """A layer on differential device pairs, updated only by pulses.

    Parameters
    ----------
    pairs : PairArray
        G⁺, G⁻ of shape (n_in + bias, n_out), S, and the device model.
    writer : ResetOnlyWriter or ProgramVerifyWriter
    mapping : PulseMapping
    w_max : float, default 1.0
        Weight of a pair at full window, ``k = w_max / (g_max − g_min)``.
    bias : bool, default True
    ledger : EnergyLedger or None
        Where pulse energies are booked (tag ``layer`` = ``pairs.name``).
    reader : callable or None
        ``reader(x_aug, layer) -> pre-activations`` (B, n_out) for circuit-accurate forward
        passes (it books its own read energy); None = ideal ``x_aug · W``.
    keep_schedules : int, default 0
        Keep the schedules of the first ``keep_schedules`` updates in ``self.schedules``.
    random_state : None | int | Generator
        Operation stream (cycle-to-cycle pulse noise, stochastic mapping).
    """

    def __init__(self, pairs: PairArray, writer, mapping: PulseMapping | None = None, *,
                 w_max: float = 1.0, bias: bool = True, ledger=None,
                 reader: Reader | None = None, keep_schedules: int = 0, random_state=None):
        check_scalar(w_max, "w_max", low=0.0, low_open=True)
        self.pairs = pairs
        self.writer = writer
        self.mapping = mapping if mapping is not None else PulseMapping()
        self.w_max = float(w_max)
        self.bias = bool(bias)
        self.ledger = ledger
        self.reader = reader
        self.keep_schedules = int(keep_schedules)
        self.schedules: list[PulseSchedule] = []
        self.n_updates = 0
        self.version = 0          # bumped whenever the conductances change (reader caches)
        self._rng = check_random_state(random_state)
        dev = pairs.device
        self.k = self.w_max / (dev.g_max - dev.g_min)
        self.dG_nominal = writer.nominal_dG(dev, np.random.default_rng(0))
        self.n_in = pairs.shape[0] - int(self.bias)
        self.n_out = pairs.shape[1]

    @classmethod
    def from_weights(cls, W, device, writer, mapping=None, *, name: str = "layer",
                     w_max: float = 1.0, g_high: float | None = None, fabrication_state=None,
                     **kw) -> "PulsedLayer":
        """Encode ``W`` (n_in + bias, n_out) as pairs: the larger device at ``g_high`` (default
        G_max), the other ``|w|/k`` below (ideal initial programming, not booked).

        ``device`` is a stateless protocol device, or an ``xbar.devices`` model (anything with
        ``sample``): then two device arrays are fabricated from ``fabrication_state`` (the d2d
        stream, kept apart from the operation stream ``random_state``) and hold the pairs.
        """
        W = as_float_array(W, "W", shape=(None, None))
        if hasattr(device, "sample"):
            fab_p, fab_m = spawn(fabrication_state, 2)
            plus = device.sample(W.shape, random_state=fab_p)
            minus = device.sample(W.shape, random_state=fab_m)
            view = DeviceModelView(device)
            tmp = cls.from_weights(W, view, writer, mapping, name=name, w_max=w_max,
                                   g_high=g_high, **kw)
            pairs = PairArray.from_device_arrays(plus, minus, name=name)
            pairs.set_state(tmp.pairs.g_plus, tmp.pairs.g_minus)
            return cls(pairs, writer, mapping, w_max=w_max, **kw)
        k = w_max / (device.g_max - device.g_min)
        g_high = device.g_max if g_high is None else g_high
        d = np.clip(W / k, -(g_high - device.g_min), g_high - device.g_min)
        gp = np.where(d >= 0, g_high, g_high + d)
        gm = np.where(d >= 0, g_high - d, g_high)
        return cls(PairArray(gp, gm, device, name=name), writer, mapping, w_max=w_max, **kw)

    @property
    def weights(self) -> np.ndarray:
        """Effective weights ``k·(G⁺ − G⁻)`` (n_in + bias, n_out)."""
        return self.k * (self.pairs.g_plus - self.pairs.g_minus)

    @property
    def dw_per_pulse(self) -> float:
        """Nominal weight change of one update pulse (weight units)."""
        return self.k * self.dG_nominal

    def forward(self, x: np.ndarray) -> np.ndarray:
        xa = augment(x, self.bias)
        if self.reader is None:
            return xa @ self.weights
        return self.reader(xa, self)

    def update(self, x: np.ndarray, delta: np.ndarray) -> None:
        self.apply_change(augment(x, self.bias).T @ delta)

    def apply_change(self, dW: np.ndarray) -> None:
        """Turn a dense requested change ``dW`` (n_in + bias, n_out) into pulses."""
        counts = self.mapping.counts(dW, self.dw_per_pulse, self._rng)
        if isinstance(self.writer, ProgramVerifyWriter):
            scheds = self.writer.apply(self.pairs, counts, self.k, self._rng,
                                       dG_per_count=self.dG_nominal)
        else:
            scheds = self.writer.apply(self.pairs, counts, self.k, self._rng)
        if self.ledger is not None:
            for s in scheds:
                s.book(self.ledger, layer=self.pairs.name)
        self.version += 1
        if self.n_updates < self.keep_schedules:
            self.schedules.append(PulseSchedule.concat(scheds))
        self.n_updates += 1

    def state_dict(self) -> dict:
        return {"g_plus": self.pairs.g_plus.copy(), "g_minus": self.pairs.g_minus.copy(),
                "rng": self._rng.bit_generator.state, "n_updates": self.n_updates}

    def load_state_dict(self, state: dict) -> None:
        self.pairs.set_state(state["g_plus"], state["g_minus"])
        self.version += 1
        self._rng.bit_generator.state = state["rng"]
        self.n_updates = int(state["n_updates"])

    def __repr__(self) -> str:
        return (f"PulsedLayer({self.pairs.name}, n_in={self.n_in}, n_out={self.n_out}, "
                f"writer={self.writer.name}, mapping={self.mapping.method})")


def pulsed_layer_factory(device, writer=None, mapping=None, *, w_max: float = 1.0, ledger=None,
                         reader: Reader | None = None, keep_schedules: int = 0,
                         init_scale: float = 1.0, g_high: float | None = None):
    """A ``layer_factory`` for :func:`~xbar.train.build_network` building :class:`PulsedLayer` s.

    Each layer gets its own operation stream from the ``random_state`` build_network passes, so
    runs are reproducible; weights start as :func:`~xbar.train.layers.init_weights`, encoded with
    the larger device of each pair at ``g_high`` (S, default G_max; see
    :meth:`PulsedLayer.from_weights`).
    """
    writer = writer if writer is not None else ResetOnlyWriter()

    def make(n_in, n_out, *, bias=True, random_state=None, index=0):
        init_rs, op_rs, fab_rs = spawn(random_state, 3)
        W = init_weights(n_in, n_out, bias=bias, scale=init_scale, random_state=init_rs)
        return PulsedLayer.from_weights(W, device, writer, mapping, name=f"layer{index}",
                                        w_max=w_max, g_high=g_high, bias=bias, ledger=ledger,
                                        reader=reader,
                                        keep_schedules=keep_schedules, random_state=op_rs,
                                        fabrication_state=fab_rs)
    return make


def writer_config(writer) -> dict:
    """The writer's parameters as a plain dictionary (results files)."""
    return {"writer": writer.name, **asdict(writer)}
