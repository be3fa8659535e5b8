"""Layers whose weights live on differential device pairs and change only by programming pulses.

``w_ij = k · (G⁺_ij − G⁻_ij)``, ``k = w_max / (g_max − g_min)`` (weight units per siemens). A
requested ``ΔW`` becomes signed pulse counts (:class:`~xbar.train.pulse_mapping.PulseMapping`); a writer
turns them into a :class:`~xbar.pulses.PulseSchedule`, applies it to the devices and books every
pulse's energy in an :class:`~xbar.pulses.EnergyLedger`:

:class:`~xbar.train.ResetOnlyWriter` (docs/references.rst, ref-renaudineau2026-designs (design 1))
    raise w: a sub-1 V RESET pulse on G⁻; lower w: one on G⁺. Conductances only fall. A pair whose
    two devices both come within ``refresh_margin`` of G_min is refreshed: one SET pulse on each,
    then the device that must be lower is brought back to encode the old weight by RESET
    program-and-verify; every pulse and verify read of a refresh is booked as ``refresh``.
:class:`~xbar.train.ProgramVerifyWriter`, the conventional baseline
    the requested change is turned into target conductances (moved on G⁺ first, any rest on G⁻)
    reached by SET/RESET program-and-verify: verify read, then a SET (below target) or RESET
    (above) pulse, until within ``atol`` or ``max_pulses``.

How many pulses a requested change gets is the mapping's business; with
``PulseMapping(step="calibrated")`` the layer asks the writer (``step_per_count``, the reset-only
writer has it) for each cell's mean step at its read state, so that the realised change matches
the request on a device whose step depends on the state; the state reads are booked as
``verify``.

Device protocol (what a writer needs; :mod:`xbar.devices` models follow it, see the report of the
training issue for the adapter): an object with

* ``g_min``, ``g_max``: conductance window, S (floats);
* ``apply_pulse(G, polarity, amplitude, width, random_state) -> G_new``: conductances after one
  pulse (``polarity`` "set" or "reset", amplitude V, width s) on each entry of the 1-D array G, S;
* optionally ``current(V, G) -> I`` in A (default: linear ``G·V``).

Energy of one cell pulse: ``E = V·t·(I(V, G_before) + I(V, G_after)) / 2`` (trapezoid over the
state change, J). A verify read: ``V_r · I(V_r, G) · t_r``. Half-selected cells of a row-parallel
pulse on a passive array (writer ``cell="0T1R"``; bias ``"half"``: the rest of the selected row
and the selected columns' cells on other rows see V/2; ``"third"``: every unselected cell sees
V/3) are booked with the conductances at the start of the update and ideal wires
(:mod:`xbar.pulses.energy`); on a 1T1R array (``cell="1T1R"``, the writers' default) the
unselected rows' access transistors are off, and only the selected row's cells on unselected
bit lines are booked (they see V/2 or V/3 through their open gates, as in a solved pulse).  This device-level
estimate is the default because it is cheap; with a :class:`~xbar.train.WriteCircuit` on the writer every
row-parallel pulse is instead solved through its tile (``xbar.Crossbar.apply_pulse``: wires,
drivers, sense terminals, access transistors, the cells' I-V): each selected device is pulsed with
the voltage it actually sees, and the half-selected, wire, driver and access energies come from the
solve.  One solve per row pulse costs 10-35 ms for a 75 x 80 tile and 30-240 ms for 256 x 200
(measured, linear vs Sinh cells, 0T1R vs 1T1R), i.e. minutes per update of a 784-input layer: use
it for small arrays and studies of the write energy, not for MNIST-scale training.

The package holds one concept per module: ``pairs`` (:class:`~xbar.train.PairArray`,
``DeviceModelView``), ``programming`` (``program_verify`` on one side of the pairs), ``writers``
(the ``Writer`` protocol, :class:`~xbar.train.ResetOnlyWriter`,
:class:`~xbar.train.ProgramVerifyWriter`), ``circuit`` (:class:`~xbar.train.WriteCircuit`) and
``layer`` (:class:`~xbar.train.PulsedLayer`, :func:`~xbar.train.pulsed_layer_factory`); every
public name is importable from ``xbar.train.pulsed``.
"""

from __future__ import annotations

from ..._deprecate import warn_renamed
from ...pulses.energy import device_current, half_selected_energy, pulse_energy
from .circuit import WriteCircuit
from .layer import PulsedLayer, Reader, pulsed_layer_factory
from .pairs import DeviceModelView, PairArray
from .programming import program_verify
from .writers import ProgramVerifyWriter, ResetOnlyWriter, Writer, writer_config

__all__ = [
    "DeviceModelView",
    "PairArray",
    "ProgramVerifyWriter",
    "PulsedLayer",
    "Reader",
    "ResetOnlyWriter",
    "WriteCircuit",
    "Writer",
    "device_current",
    "half_selected_energy",
    "program_verify",
    "pulse_energy",
    "pulsed_layer_factory",
    "writer_config",
]


def half_select_energy(sched, device, G):
    """Deprecated alias of :func:`xbar.pulses.energy.half_selected_energy` (J per pulse).

    Parameters
    ----------
    sched : PulseSchedule
        One-array schedule.
    device : object or None
        Cell I-V.
    G : (M, N) ndarray
        Conductances, S.
    """
    warn_renamed("half_select_energy", "xbar.pulses.energy.half_selected_energy")
    return half_selected_energy(sched, device, G)


def _pulse_cells(pairs: PairArray, which: str, counts, **kw):
    """Former private function: use ``PairArray.pulse_cells`` (kept for one release)."""
    if "rng" in kw:
        kw["random_state"] = kw.pop("rng")
    return pairs.pulse_cells(which, counts, **kw)


def _read_cells(pairs: PairArray, which: str, mask, *, voltage: float, width: float, kind: str):
    """Former private function: use ``PairArray.read_cells`` (kept for one release)."""
    return pairs.read_cells(which, mask, v_read=voltage, t_read=width, kind=kind)
