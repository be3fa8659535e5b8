"""A crossbar whose cells are device models: the devices' state is the array's conductance.

``Crossbar(devices, ...)`` with an array of fabricated devices (``model.sample((M, N),
random_state=...)`` of any :mod:`xbar.devices` model or fitted preset) builds a
:class:`DeviceCrossbar`:

* the model's cell I-V (``model.iv``) is the cell law of every solve and read;
* the devices' device-to-device variation is the one sampled at fabrication (``sample``'s
  ``random_state``), so a seed reproduces the array;
* every write goes through the device model and the crossbar's conductances (and every cached
  map: transfer matrix, admittance, network) follow it: :meth:`DeviceCrossbar.apply_pulse`
  (a pulse solved through the array, each cell switching by the voltage it sees),
  :meth:`DeviceCrossbar.pulse_cells` / :meth:`DeviceCrossbar.reset_cells` (pulses applied at the
  cells, e.g. reset-only updates), :meth:`DeviceCrossbar.program_verify`,
  :meth:`DeviceCrossbar.set_conductances` (an exact write, clipped to each device's window);
* :meth:`DeviceCrossbar.age` lets the devices relax (drift) and ``read(v, noise=True)`` reads
  with the model's state-dependent read noise.

The devices stay reachable as ``xb.devices``; an operation applied to them directly is picked
up by the next solve, read or ``xb.G`` (the crossbar compares its conductances with the
devices' state there: one O(M·N) comparison).

>>> import xbar
>>> from xbar.devices import presets
>>> devs = presets.tud_hfox().sample((32, 32), random_state=0)
>>> xb = xbar.Crossbar(devs, r_wordline=1.0, r_bitline=1.0)      # a DeviceCrossbar
>>> res = xb.apply_pulse(3, 5, amplitude=1.0, width=100e-9, polarity=-1)
>>> xb.age(3600.0); I = xb.read(np.full(32, 0.1), noise=True, random_state=1)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._random import check_random_state
from .._validation import as_float_array
from ..exceptions import ConfigError
from .crossbar import Crossbar

__all__ = ["DeviceCrossbar", "adopt_devices", "is_device_array"]


def is_device_array(obj) -> bool:
    """True if ``obj`` is an array of fabricated devices (an ``xbar.devices`` device array).

    Parameters
    ----------
    obj : object
        Anything (e.g. the ``G`` argument of ``Crossbar``).

    Returns
    -------
    bool
        Whether ``obj`` is an ``xbar.devices`` device array.
    """
    from ..devices._common import _DeviceArrayBase

    return isinstance(obj, _DeviceArrayBase)


def adopt_devices(xb: Crossbar, devices, iv):
    """The hook of ``Crossbar.__init__`` for ``G`` given as devices (not for direct use).

    Checks ``devices`` (a 2-D device array), makes ``xb`` a :class:`DeviceCrossbar` bound to it
    and returns ``(G, iv)``: the devices' present conductances (S) and the model's cell I-V.

    Parameters
    ----------
    xb : Crossbar
        The crossbar being constructed.
    devices : device array
        Fabricated devices, shape (M, N) (``model.sample((M, N), random_state=...)``).
    iv : xbar.iv model or None
        The ``iv`` argument of the constructor: None (the model's I-V is used) or the model's own.

    Returns
    -------
    G : (M, N) ndarray
        The devices' conductances, S.
    iv : xbar.iv model
        The model's cell I-V.
    """
    if not is_device_array(devices):
        if hasattr(devices, "sample"):
            raise ConfigError(
                f"G is a device model ({type(devices).__name__}); a crossbar needs "
                "fabricated devices: Crossbar(model.sample((M, N), "
                "random_state=...), ...)"
            )
        raise ConfigError(
            f"G must be a conductance array (S) or an xbar.devices device array, "
            f"got {type(devices).__name__}"
        )
    if len(devices.shape) != 2 or 0 in devices.shape:
        raise ConfigError(
            f"G (devices) must be a non-empty 2-D (M, N) device array, got shape {devices.shape}"
        )
    model_iv = devices.model.iv
    if iv is not None and iv != model_iv:
        raise ConfigError(
            f"iv={iv!r} differs from the device model's I-V {model_iv!r}: a "
            "device-backed crossbar solves with its devices' I-V (build the model "
            "with another iv, e.g. dataclasses.replace(model, iv=...), to change it)"
        )
    if not isinstance(xb, DeviceCrossbar):
        if type(xb) is not Crossbar:
            raise ConfigError(
                f"{type(xb).__name__} cannot be built on device arrays; use "
                "xbar.circuit.DeviceCrossbar"
            )
        xb.__class__ = DeviceCrossbar
    assert isinstance(xb, DeviceCrossbar)
    xb.devices = devices
    xb._following = False
    return np.array(devices.G), model_iv


class DeviceCrossbar(Crossbar):
    """A :class:`~xbar.circuit.Crossbar` whose cells are fabricated devices (module docstring).

    Built by ``Crossbar(devices, ...)`` or ``DeviceCrossbar(devices, ...)``: the keyword
    arguments (wires, terminals, cell type, 1T1R access) are those of ``Crossbar``; ``iv`` is
    the device model's and may be omitted.

    Parameters
    ----------
    G : (M, N) device array
        Fabricated devices, e.g. ``xbar.devices.presets.tud_hfox().sample((M, N),
        random_state=0)`` (their conductances are in S).
    r_wordline, r_bitline : float or array_like
        Wire resistance per segment, ohm (>= 0), as for ``Crossbar``.
    r_driver, r_sense : float or array_like
        Terminal resistances, ohm (>= 0), as for ``Crossbar``.
    cell : {"0T1R", "1T1R"}
        Passive cell, or one with an access transistor of on-resistance ``r_access``.
    r_access : float or (M, N) array_like, optional
        Access-transistor on-resistance, ohm (1T1R only).
    select : (M,) or (M, N) bool array_like, optional
        1T1R gate state (default every gate on).
    iv : xbar.iv model, optional
        Omit it (the model's ``iv`` is used); a different law raises ``ConfigError``.

    Attributes
    ----------
    devices : device array
        The devices; their state is the crossbar's ``G`` (S).
    """

    devices: Any
    _following: bool

    def __init__(
        self,
        G,
        *,
        r_wordline=0.0,
        r_bitline=0.0,
        r_driver=0.0,
        r_sense=0.0,
        cell: str = "0T1R",
        r_access=None,
        select=None,
        iv=None,
    ):
        if not (is_device_array(G) or hasattr(G, "sample")):
            raise ConfigError(
                f"DeviceCrossbar needs fabricated devices as G (model.sample((M, N), "
                f"random_state=...)), got {type(G).__name__}; use xbar.Crossbar "
                "for a conductance array"
            )
        super().__init__(
            G,
            r_wordline=r_wordline,
            r_bitline=r_bitline,
            r_driver=r_driver,
            r_sense=r_sense,
            cell=cell,
            r_access=r_access,
            select=select,
            iv=iv,
        )

    # ------------------------------------------------------------------ state
    @property
    def model(self):
        """The device model the cells were fabricated from."""
        return self.devices.model

    def sync(self) -> bool:
        """Take the devices' present conductances (S) if they changed; True if they did.

        Called by every solve, read and ``G``; explicit calls are only needed by code that reads
        ``_G`` itself.
        """
        G = self.devices.G
        if np.array_equal(G, self._G):
            return False
        Crossbar.set_conductances(self, np.array(G))
        return True

    @property
    def G(self) -> np.ndarray:
        """(M, N) cell conductances, S: the devices' state (read-only)."""
        self.sync()
        return self._G

    def network(self):
        """The network's conductances (S) of the devices' present state."""
        self.sync()
        return super().network()

    def transfer_matrix(self, **kwargs) -> np.ndarray:
        """Exact read map (N, M), A/V, of the devices' present state (see ``Crossbar``)."""
        self.sync()
        return super().transfer_matrix(**kwargs)

    def port_admittance(self, **kwargs) -> np.ndarray:
        """Driver admittance (M, M), A/V, of the devices' present state (see ``Crossbar``)."""
        self.sync()
        return super().port_admittance(**kwargs)

    def set_conductances(self, G) -> None:
        """Write conductances ``G`` (M, N), S, exactly into the devices (their ``set_state``).

        Each device is clipped to its own (device-to-device varied) window; the write is a
        programming event (the relaxation clock restarts, the pulse-history memory clears).  The
        crossbar takes the devices' resulting state.
        """
        if not self._following:
            G = as_float_array(G, "G")
            if G.shape != self.shape:
                raise ConfigError(f"G must keep shape {self.shape}, got {G.shape}")
            self.devices.set_state(G)
        Crossbar.set_conductances(self, np.array(self.devices.G))

    # ------------------------------------------------------------------ writes
    def apply_pulse(
        self,
        rows=None,
        cols=None,
        *,
        amplitude: float,
        width: float,
        polarity: int = 1,
        scheme: str = "half",
        substeps: int = 1,
        compliance=None,
        random_state=None,
        on_substep=None,
    ):
        """A write pulse solved through the array; every cell switches by its own voltage.

        The network is solved with the devices' present state and I-V; each cell (selected,
        half-selected and unselected alike: write disturb is the model's response to the
        voltage it sees) then receives a pulse of its solved cell voltage (word side minus bit
        side, the memristor's own voltage in 1T1R cells) for ``width / substeps`` through the
        device model (``devices.apply_pulses``), and the crossbar follows, ``substeps`` times.

        Parameters
        ----------
        rows, cols : int, sequence of int or None
            Selected word and bit lines (None = all).
        amplitude : float
            Pulse amplitude, V (> 0).
        width : float
            Pulse width, s.
        polarity : {+1, -1}
            Sign of the voltage across the selected cells (word line minus bit line); the device
            SETs where it equals ``model.set_polarity``.
        scheme : {"half", "third", "floating", "grounded"}
            Bias of the unselected lines.
        substeps : int
            Equal sub-steps; the network is re-solved with the updated state after each.
        compliance : float, array or None
            SET current compliance, A (the model's ``apply_pulses``; analog models only).
        random_state : None, int or Generator
            Cycle-to-cycle noise stream (default: the devices' own operation stream).
        on_substep : None
            Not accepted: the device model is the response (raises ConfigError if given).

        Returns
        -------
        xbar.circuit.write.PulseResult
            The solved operating point of the last sub-step and the pulse's energy (J).
        """
        if on_substep is not None:
            raise ConfigError(
                "on_substep is not accepted by a device-backed crossbar: the "
                "devices' model is the cells' response to the pulse"
            )
        rng = None if random_state is None else check_random_state(random_state)
        extra = {} if compliance is None else {"compliance": compliance}

        def step(sol, dt):
            v = np.where(np.isnan(sol.cell_voltages), 0.0, sol.cell_voltages)
            self.devices.apply_pulses(v, dt, random_state=rng, **extra)
            return np.array(self.devices.G)

        self.sync()
        self._following = True
        try:
            return super().apply_pulse(
                rows,
                cols,
                amplitude=amplitude,
                width=width,
                polarity=polarity,
                scheme=scheme,
                substeps=substeps,
                on_substep=step,
            )
        finally:
            self._following = False

    def pulse_cells(
        self, amplitude, width, *, mask=None, compliance=None, random_state=None
    ) -> np.ndarray:
        """Pulses applied at the cells (each sees exactly ``amplitude``: per-cell write drivers,
        no IR drop or disturb); the crossbar follows.  Returns the change of G, S.

        Parameters
        ----------
        amplitude : float or (M, N) array_like
            Cell voltage, V (sign ``model.set_polarity`` SETs, the other RESETs, 0 nothing).
        width : float or (M, N) array_like
            Pulse width, s.
        mask : (M, N) bool array_like, optional
            Cells to pulse (default all).
        compliance : float, array or None
            SET current compliance, A (analog models only).
        random_state : None, int or Generator
            Cycle-to-cycle noise stream (default: the devices' own operation stream).

        Returns
        -------
        (M, N) ndarray
            Conductance change, S.
        """
        extra = {} if compliance is None else {"compliance": compliance}
        dG = self.devices.apply_pulses(
            amplitude, width, mask=mask, random_state=random_state, **extra
        )
        self.sync()
        return np.asarray(dG)

    def reset_cells(
        self, amplitude: float = 0.8, width: float = 100e-9, *, mask=None, random_state=None
    ) -> np.ndarray:
        """Reset-only pulses of ``amplitude`` V (> 0) for ``width`` s at the masked cells (the
        RESET polarity of the model is applied); the crossbar follows.  Returns the change of
        G, S (<= 0 for the analog model).

        Parameters
        ----------
        amplitude : float
            Pulse magnitude, V (> 0; sub-1 V gives the gradual reset-only regime of HfOx).
        width : float
            Pulse width, s.
        mask : (M, N) bool array_like, optional
            Cells to pulse (default all).
        random_state : None, int or Generator
            Cycle-to-cycle noise stream (default: the devices' own operation stream).

        Returns
        -------
        (M, N) ndarray
            Conductance change, S.
        """
        from .._validation import check_scalar

        check_scalar(amplitude, "amplitude", low=0.0, low_open=True, unit="V")
        return self.pulse_cells(
            -self.model.set_polarity * float(amplitude), width, mask=mask, random_state=random_state
        )

    def program_verify(self, G_target, **kwargs):
        """Program-and-verify of the devices to ``G_target`` (S); the crossbar follows.

        The model's ``program_verify`` (incremental step pulses applied at the cells with
        verify reads carrying the read noise; keyword arguments as there:
        ``max_pulses``, ``width`` (s), ``compliance`` (A), ``on_failure``, ``random_state`` and
        the tolerance on G in S).

        Parameters
        ----------
        G_target : float or (M, N) array_like
            Target conductances, S.
        **kwargs
            Keyword arguments of the device model's ``program_verify``.

        Returns
        -------
        xbar.devices.ProgramVerifyResult
            Per-cell pulses, verify reads, energies (J) and convergence flags.
        """
        if not hasattr(self.devices, "program_verify"):
            raise ConfigError(
                f"{type(self.devices).__name__} has no program_verify (binary "
                "devices switch, they are not programmed to a level)"
            )
        res = self.devices.program_verify(G_target, **kwargs)
        self.sync()
        return res

    def age(self, t, random_state=None) -> np.ndarray:
        """Let ``t`` seconds pass: the devices relax (the model's drift in log time since each
        cell was last programmed); the crossbar follows.  Returns G after ageing, S.

        Parameters
        ----------
        t : float or (M, N) array_like
            Time, s (>= 0).
        random_state : None, int or Generator
            Relaxation noise stream (default: the devices' own operation stream).

        Returns
        -------
        (M, N) ndarray
            Conductances after ageing, S (read-only).
        """
        self.devices.age(t, random_state=random_state)
        self.sync()
        return self._G

    # ------------------------------------------------------------------ reads
    def read(self, v, *, noise: bool = False, random_state=None, **kwargs) -> np.ndarray:
        """Column currents (A) of a read of word-line voltages ``v`` (V), see ``Crossbar.read``.

        Parameters
        ----------
        v : (M,) or (B, M) array_like
            Word-line voltages, V.
        noise : bool
            Read each input with its own draw of the devices' read noise: the cells are read as
            ``devices.read()`` gives them, ``G (1 + sigma_rel(x) z)`` (S, the model's
            state-dependent table; clipped at 0 S), one independent draw per input.  Each noisy
            input is solved on its own (no cached maps).
        random_state : None, int or Generator
            Read-noise stream (default: the devices' own operation stream); only with ``noise``.
        **kwargs
            ``method``, ``rtol``, ``atol`` (A), ``maxiter``, ``on_failure``: as ``Crossbar.read``.

        Returns
        -------
        (N,) or (B, N) ndarray
            Column currents, A.
        """
        if not noise:
            if random_state is not None:
                raise ConfigError("random_state applies to read(..., noise=True) only")
            return super().read(v, **kwargs)
        V = as_float_array(v, "v")
        M = self.shape[0]
        if V.ndim not in (1, 2) or V.shape[-1] != M:
            raise ConfigError(f"v must have shape ({M},) or (B, {M}), got {V.shape}")
        batched = V.ndim == 2
        V = np.atleast_2d(V)
        rng = None if random_state is None else check_random_state(random_state)
        out = np.empty((V.shape[0], self.shape[1]))
        for b in range(V.shape[0]):
            g = np.maximum(np.asarray(self.devices.read(rng)), 0.0)
            out[b] = self._copy_with(g).read(V[b], **kwargs)
        return out if batched else out[0]

    def _copy_with(self, G) -> Crossbar:
        """A plain ``Crossbar`` with this one's wires, terminals, cells and I-V and ``G`` (S)."""
        kw = {}
        if self.cell == "1T1R":
            kw = dict(r_access=self.r_access, select=self.select)
        return Crossbar(
            G,
            r_wordline=self.r_wordline,
            r_bitline=self.r_bitline,
            r_driver=self.r_driver,
            r_sense=self.r_sense,
            cell=self.cell,
            iv=self.iv,
            **kw,
        )

    def __repr__(self) -> str:
        M, N = self.shape
        G = self.G
        return (
            f"DeviceCrossbar({M}x{N}, model={type(self.model).__name__} "
            f"({getattr(self.model, 'source', '')}), cell={self.cell!r}, iv={self.iv!r}, "
            f"G in [{G.min():.3g}, {G.max():.3g}] S)"
        )
