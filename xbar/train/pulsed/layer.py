"""The pulsed layer: weights on differential pairs, changed only by a writer's pulses."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np

from ..._deprecate import warn_renamed
from ..._random import check_random_state, spawn
from ..._validation import as_float_array, check_scalar
from ...exceptions import ConfigError
from ...pulses.schedule import PulseSchedule
from ..layers import WeightAccessors, augment, init_weights
from ..pulse_mapping import PulseMapping
from .pairs import DeviceModelView, PairArray
from .writers import ResetOnlyWriter, Writer

__all__ = ["PulsedLayer", "Reader", "pulsed_layer_factory"]

Reader = Callable[[np.ndarray, "PulsedLayer"], np.ndarray]


class PulsedLayer(WeightAccessors):
    """A layer on differential device pairs, updated only by pulses.

    Parameters
    ----------
    pairs : PairArray
        G⁺, G⁻ of shape (n_in + bias, n_out), S, and the device model.
    writer : Writer
        Turns signed pulse counts into pulses (:class:`ResetOnlyWriter`,
        :class:`ProgramVerifyWriter` or any object following the ``Writer`` protocol).
    mapping : PulseMapping or None
        Requested ``ΔW`` → signed pulse counts; None = ``PulseMapping()``.
    w_max : float, default 1.0
        Weight of a pair at full window, ``k = w_max / (g_max − g_min)`` (weight units per S).
    bias : bool, default True
        The last row of the pairs holds the bias.
    ledger : EnergyLedger or None
        Where pulse energies (J) are booked (tag ``layer`` = ``pairs.name``), through the
        writer's ``book`` if it has one (a ``ProgramVerifyWriter``'s verify-read periphery).
    reader : callable or None
        ``reader(x_aug, layer) -> pre-activations`` (B, n_out) for circuit-accurate forward
        passes (it books its own read energy); None = ideal ``x_aug · W``.
    keep_schedules : int, default 0
        Keep the schedules of the first ``keep_schedules`` updates in ``self.schedules``.
    random_state : None | int | Generator
        Operation stream (cycle-to-cycle pulse noise, stochastic mapping).
    """

    def __init__(
        self,
        pairs: PairArray,
        writer: Writer,
        mapping: PulseMapping | None = None,
        *,
        w_max: float = 1.0,
        bias: bool = True,
        ledger=None,
        reader: Reader | None = None,
        keep_schedules: int = 0,
        random_state=None,
    ):
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
        self.version = 0  # bumped whenever the conductances change (reader caches)
        self._rng = check_random_state(random_state)
        if self.mapping.step == "calibrated" and not hasattr(writer, "step_per_count"):
            raise ConfigError(
                f"mapping step='calibrated' needs a writer with step_per_count (e.g. "
                f"ResetOnlyWriter), got writer {getattr(writer, 'name', type(writer).__name__)!r}"
            )
        dev = pairs.device
        self.k = self.w_max / (dev.g_max - dev.g_min)
        self.dG_nominal = writer.nominal_dG(dev, np.random.default_rng(0))
        self.n_in = pairs.shape[0] - int(self.bias)
        self.n_out = pairs.shape[1]

    @classmethod
    def from_weights(
        cls,
        W,
        device,
        writer: Writer,
        mapping=None,
        *,
        name: str = "layer",
        w_max: float = 1.0,
        g_high: float | None = None,
        random_state=None,
        fabrication_state=None,
        **kw,
    ) -> "PulsedLayer":
        """Encode ``W`` (n_in + bias, n_out) as pairs: the larger device at ``g_high`` (default
        G_max), the other ``|w|/k`` below (ideal initial programming, not booked).

        Parameters
        ----------
        W : (n_in + bias, n_out) array_like
            Weights (weight units).
        device : object
            A stateless protocol device, or an ``xbar.devices`` model (anything with
            ``sample``): then two device arrays are fabricated (their device-to-device
            variation drawn from a stream spawned from ``random_state``) and hold the pairs.
        writer : Writer
            The writer.
        mapping : PulseMapping or None
            The pulse mapping.
        name : str, default "layer"
            Layer name (ledger tag, array labels).
        w_max : float, default 1.0
            Weight of a pair at full window (weight units).
        g_high : float or None
            Conductance of the larger device of each pair, S; None = G_max.
        random_state : None | int | Generator
            Randomness: with a device model, two streams are spawned from it, the first fabricates
            the device arrays and the second is the layer's operation stream
            (:class:`PulsedLayer`'s ``random_state``); with a protocol device it is the operation
            stream itself.
        fabrication_state : None | int | Generator
            Deprecated: the fabrication stream given apart (then ``random_state`` is the
            operation stream as it is); pass one ``random_state`` instead.
        **kw
            Further :class:`PulsedLayer` keywords.
        """
        W = as_float_array(W, "W", shape=(None, None))
        if hasattr(device, "sample"):
            if fabrication_state is not None:
                warn_renamed(
                    "fabrication_state",
                    "random_state (one stream; fabrication and "
                    "operation streams are spawned from it)",
                )
            else:
                fabrication_state, random_state = spawn(random_state, 2)
            return cls._fabricated(
                W,
                device,
                writer,
                mapping,
                name=name,
                w_max=w_max,
                g_high=g_high,
                fabrication_state=fabrication_state,
                random_state=random_state,
                **kw,
            )
        return cls._encoded(
            W,
            device,
            writer,
            mapping,
            name=name,
            w_max=w_max,
            g_high=g_high,
            random_state=random_state,
            **kw,
        )

    @classmethod
    def _fabricated(
        cls,
        W,
        device,
        writer,
        mapping,
        *,
        name,
        w_max,
        g_high,
        fabrication_state,
        random_state,
        **kw,
    ) -> "PulsedLayer":
        """Pairs of two device arrays fabricated from ``fabrication_state`` and programmed
        ideally to ``W``; ``random_state`` is the operation stream."""
        fab_p, fab_m = spawn(fabrication_state, 2)
        plus = device.sample(W.shape, random_state=fab_p)
        minus = device.sample(W.shape, random_state=fab_m)
        tmp = cls._encoded(
            W,
            DeviceModelView(device),
            writer,
            mapping,
            name=name,
            w_max=w_max,
            g_high=g_high,
            random_state=random_state,
            **kw,
        )
        pairs = PairArray.from_device_arrays(plus, minus, name=name)
        pairs.set_state(tmp.pairs.g_plus, tmp.pairs.g_minus)
        return cls(pairs, writer, mapping, w_max=w_max, random_state=random_state, **kw)

    @classmethod
    def _encoded(
        cls, W, device, writer, mapping, *, name, w_max, g_high, random_state, **kw
    ) -> "PulsedLayer":
        """Pairs on a protocol device: the larger at ``g_high``, the other ``|w|/k`` below."""
        k = w_max / (device.g_max - device.g_min)
        g_high = device.g_max if g_high is None else g_high
        d = np.clip(W / k, -(g_high - device.g_min), g_high - device.g_min)
        gp = np.where(d >= 0, g_high, g_high + d)
        gm = np.where(d >= 0, g_high - d, g_high)
        return cls(
            PairArray(gp, gm, device, name=name),
            writer,
            mapping,
            w_max=w_max,
            random_state=random_state,
            **kw,
        )

    def _stacked_weights(self) -> np.ndarray:
        """Effective weights ``k·(G⁺ − G⁻)`` in the stacked layout (n_in + bias, n_out)."""
        return self.k * (self.pairs.g_plus - self.pairs.g_minus)

    @property
    def dw_per_pulse(self) -> float:
        """Nominal weight change of one update pulse (weight units)."""
        return self.k * self.dG_nominal

    def invalidate(self) -> None:
        """Tell readers the conductances changed (call after changing ``pairs`` by hand)."""
        self.version += 1

    def sync_from_devices(self) -> None:
        """Reload the pairs from their device arrays (after ``age`` etc.) and :meth:`invalidate`."""
        self.pairs.sync_from_devices()
        self.invalidate()

    @contextlib.contextmanager
    def conductances_replaced(self, g_plus, g_minus) -> Iterator["PulsedLayer"]:
        """Context in which the layer computes with ``g_plus``, ``g_minus`` (S) instead of its own.

        The devices are not touched; the pairs' conductances are restored on exit (e.g. to
        evaluate with one frozen noisy read of every device).

        Parameters
        ----------
        g_plus, g_minus : (n_in + bias, n_out) array_like
            Conductances, S.
        """
        saved = (self.pairs.g_plus.copy(), self.pairs.g_minus.copy())
        self.pairs.set_conductances(g_plus, g_minus)
        self.invalidate()
        try:
            yield self
        finally:
            self.pairs.set_conductances(*saved)
            self.invalidate()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Pre-activations (B, n_out) of inputs ``x`` (B, n_in).

        Parameters
        ----------
        x : (B, n_in) ndarray
            Inputs (input units).
        """
        xa = augment(x, self.bias)
        if self.reader is None:
            return xa @ self._stacked_weights()
        return self.reader(xa, self)

    def update(self, x: np.ndarray, delta: np.ndarray) -> None:
        """Apply the outer-product update ``x_augᵀ · delta`` by pulses.

        Parameters
        ----------
        x : (B, n_in) ndarray
            Inputs (input units).
        delta : (B, n_out) ndarray
            Per-sample weight-change factors (weight units per input unit).
        """
        self.apply_change(augment(x, self.bias).T @ delta)

    def apply_change(self, dW: np.ndarray) -> None:
        """Turn a dense requested change ``dW`` (n_in + bias, n_out) into pulses.

        Parameters
        ----------
        dW : (n_in + bias, n_out) ndarray
            Requested weight change (weight units).
        """
        if self.mapping.step == "calibrated":
            # checked in __init__: a writer with step_per_count
            dG, scheds = self.writer.step_per_count(  # type: ignore[attr-defined]
                self.pairs, np.sign(dW)
            )
            counts = self.mapping.counts(dW, self.k * dG, self._rng)
        else:
            scheds = []
            counts = self.mapping.counts(dW, self.dw_per_pulse, self._rng)
        scheds += self.writer.apply(self.pairs, counts, self.k, self._rng)
        if self.ledger is not None:
            book = getattr(self.writer, "book", None)
            if callable(book):  # e.g. ProgramVerifyWriter: its verify reads' periphery too
                book(scheds, self.ledger, layer=self.pairs.name)
            else:
                for s in scheds:
                    s.book(self.ledger, layer=self.pairs.name)
        self.invalidate()
        if self.n_updates < self.keep_schedules:
            self.schedules.append(PulseSchedule.concat(scheds))
        self.n_updates += 1

    def state_dict(self) -> dict:
        """Conductances (S), operation stream state and update count (checkpoints)."""
        return {
            "g_plus": self.pairs.g_plus.copy(),
            "g_minus": self.pairs.g_minus.copy(),
            "rng": self._rng.bit_generator.state,
            "n_updates": self.n_updates,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict`.

        Parameters
        ----------
        state : dict
            As returned by :meth:`state_dict`.
        """
        self.pairs.set_state(state["g_plus"], state["g_minus"])
        self.invalidate()
        self._rng.bit_generator.state = state["rng"]
        self.n_updates = int(state["n_updates"])

    def __repr__(self) -> str:
        return (
            f"PulsedLayer({self.pairs.name}, n_in={self.n_in}, n_out={self.n_out}, "
            f"writer={self.writer.name}, mapping={self.mapping.method}, "
            f"step={self.mapping.step}, max_pulses={self.mapping.max_pulses})"
        )


def pulsed_layer_factory(
    device,
    writer: Writer | None = None,
    mapping=None,
    *,
    w_max: float = 1.0,
    ledger=None,
    reader: Reader | None = None,
    keep_schedules: int = 0,
    init_scale: float = 1.0,
    g_high: float | None = None,
) -> Callable[..., PulsedLayer]:
    """A ``layer_factory`` for :func:`~xbar.train.build_network` building :class:`PulsedLayer` s.

    Each layer gets its own operation stream from the ``random_state`` build_network passes, so
    runs are reproducible; weights start as :func:`~xbar.train.layers.init_weights`, encoded with
    the larger device of each pair at ``g_high`` (see :meth:`PulsedLayer.from_weights`).

    Parameters
    ----------
    device : object
        Stateless protocol device or an ``xbar.devices`` model.
    writer : Writer or None
        None = ``ResetOnlyWriter()``.
    mapping : PulseMapping or None
        The pulse mapping.
    w_max : float, default 1.0
        Weight of a pair at full window (weight units).
    ledger : EnergyLedger or None
        Where pulse energies (J) are booked.
    reader : callable or None
        Circuit reader of the forward passes.
    keep_schedules : int, default 0
        Schedules kept per layer.
    init_scale : float, default 1.0
        Scale of the initial weights (dimensionless).
    g_high : float or None
        Conductance of the larger device of each pair, S; None = G_max.
    """
    writer = writer if writer is not None else ResetOnlyWriter()

    def make(n_in, n_out, *, bias=True, random_state=None, index=0) -> PulsedLayer:
        init_rs, op_rs, fab_rs = spawn(random_state, 3)
        W = init_weights(n_in, n_out, bias=bias, scale=init_scale, random_state=init_rs)
        kw = dict(
            name=f"layer{index}",
            w_max=w_max,
            g_high=g_high,
            bias=bias,
            ledger=ledger,
            reader=reader,
            keep_schedules=keep_schedules,
            random_state=op_rs,
        )
        if hasattr(device, "sample"):  # its own fabrication stream, as before
            return PulsedLayer._fabricated(
                W, device, writer, mapping, fabrication_state=fab_rs, **kw
            )
        return PulsedLayer.from_weights(W, device, writer, mapping, **kw)

    return make
