"""Optimiser and learning-rate schedule applied by :func:`~xbar.train.fit` to every rule's steps.

A rule asks for ``ΔW_req = −η·∂L/∂W`` (already scaled by its learning rate η). With
:class:`SGD` the change handed to a layer is, per layer, with ``f`` the schedule's factor::

    g = f·(ΔW_req − η·λ·W)          weight decay λ (coupled, as torch.optim.SGD's weight_decay)
    v = μ·v + g                     momentum μ (heavy ball, dampening 0)
    ΔW = v                          (Nesterov: ΔW = μ·v + g)

which is ``torch.optim.SGD(lr=f·η, momentum=μ, weight_decay=λ)`` exactly while ``f`` is constant
(loeweX FF: μ = 0.9, λ = 3e-4; docs/references.rst, ref-forward-forward). With μ = λ = 0 and ``f = 1`` the rule's own
rank-1 ``(x, δ)`` updates reach the layers unchanged (the on-chip form, pulses from ``x ⊗ δ``); with
momentum or decay the layer receives a dense ΔW (a pulsed layer then maps ΔW to pulses: momentum on
a chip needs a float copy of v per weight, which is what this models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_scalar
from .layers import augment, stacked_weights

SCHEDULES = ("constant", "linear", "cosine", "step")


@dataclass
class LRSchedule:
    """Factor ``f(t)`` on every step, ``t`` = training progress in epochs (fractional).

    Parameters
    ----------
    kind : {"constant", "linear", "cosine", "step"}, default "constant"
        ``"linear"``: f falls linearly from 1 at ``decay_start`` (fraction of the run) to
        ``final`` at the end (Hinton's FF Matlab code decays over the second half:
        ``decay_start=0.5``); ``"cosine"``: half cosine from 1 to ``final`` over the same span;
        ``"step"``: f multiplied by ``gamma`` every ``step_epochs`` epochs.
    decay_start : float, default 0.0
        Fraction of the run (0–1) after which linear/cosine decay begins.
    final : float, default 0.0
        Factor at the end of the run for linear/cosine.
    step_epochs : int, default 1
        Epochs between the factor's steps (``"step"``).
    gamma : float, default 0.5
        Multiplier of each step (``"step"``, dimensionless).
    warmup_epochs : float, default 0.0
        Linear warm-up from 0 to 1 over this many epochs (multiplies the above).
    """

    kind: str = "constant"
    decay_start: float = 0.0
    final: float = 0.0
    step_epochs: int = 1
    gamma: float = 0.5
    warmup_epochs: float = 0.0

    def __post_init__(self):
        check_choice(self.kind, "kind", SCHEDULES)
        check_scalar(self.decay_start, "decay_start", low=0.0, high=1.0, high_open=True)
        check_scalar(self.final, "final", low=0.0)
        check_scalar(self.step_epochs, "step_epochs", low=1, integer=True)
        check_scalar(self.gamma, "gamma", low=0.0, low_open=True)
        check_scalar(self.warmup_epochs, "warmup_epochs", low=0.0)

    def factor(self, t: float, total: float) -> float:
        """Learning-rate factor at progress ``t`` of ``total`` epochs.

        Parameters
        ----------
        t : float
            Training progress in epochs (fractional).
        total : float
            Epochs of the run.
        """
        f = 1.0
        if self.kind in ("linear", "cosine"):
            t0 = self.decay_start * total
            u = min(max((t - t0) / max(total - t0, 1e-12), 0.0), 1.0)
            shape = u if self.kind == "linear" else 0.5 * (1.0 - math.cos(math.pi * u))
            f = 1.0 - (1.0 - self.final) * shape
        elif self.kind == "step":
            f = self.gamma ** int(t // self.step_epochs)
        if self.warmup_epochs > 0:
            f *= min(1.0, t / self.warmup_epochs)
        return f


@dataclass
class SGD:
    """Momentum and weight decay on the rules' requested changes (module docstring).

    Parameters
    ----------
    momentum : float, default 0.0
        μ in [0, 1).
    weight_decay : float, default 0.0
        λ ≥ 0 (per unit of the rule's learning rate, as in torch).
    nesterov : bool, default False
    schedule : LRSchedule or None
        Learning-rate factor per step; None = constant.
    """

    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    schedule: LRSchedule | None = None

    def __post_init__(self):
        check_scalar(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)
        check_scalar(self.weight_decay, "weight_decay", low=0.0)
        if isinstance(self.schedule, dict):
            self.schedule = LRSchedule(**self.schedule)
        if self.schedule is None:
            self.schedule = LRSchedule()
        self._v: dict = {}

    @property
    def dense(self) -> bool:
        """Whether layers get dense ΔW (momentum or decay) instead of the rules' (x, δ)."""
        return self.momentum > 0 or self.weight_decay > 0

    def apply(self, model, updates, lr: float, t: float, total: float) -> None:
        """Hand a step's ``(layer, x, δ)`` updates to the layers of ``model``.

        Parameters
        ----------
        model : Network
            Its layers receive the updates.
        updates : list of (int, ndarray, ndarray)
            ``(layer index, x, δ)`` of the step.
        lr : float
            The rule's learning rate (dimensionless), for the weight decay.
        t : float
            Training progress in epochs.
        total : float
            Epochs of the run.
        """
        f = (self.schedule or LRSchedule()).factor(t, total)
        if not self.dense:
            for k, xin, delta in updates:
                model.layers[k].update(xin, delta if f == 1.0 else f * delta)
            return
        dW: dict = {}
        for k, xin, delta in updates:
            layer = model.layers[k]
            d = augment(xin, layer.bias).T @ delta
            dW[k] = dW[k] + d if k in dW else d
        for k, layer in enumerate(model.layers):
            g = dW.get(k)
            if self.weight_decay > 0:
                decay = (-lr * self.weight_decay) * stacked_weights(layer)
                g = decay if g is None else g + decay
            if g is None:
                continue
            g = f * g
            v = self._v.get(k)
            v = g if v is None else self.momentum * v + g
            self._v[k] = v
            layer.apply_change(self.momentum * v + g if self.nesterov else v)

    def state_dict(self) -> dict:
        """The momentum buffers (for checkpoints)."""
        return {f"v{k}": v.copy() for k, v in self._v.items()}

    def load_state_dict(self, state: dict) -> None:
        """Restore the momentum buffers of :meth:`state_dict`.

        Parameters
        ----------
        state : dict
            What :meth:`state_dict` returned.
        """
        self._v = {int(k[1:]): np.array(v, dtype=np.float64) for k, v in state.items()}

    def config(self) -> dict:
        """The optimiser's settings (for results files and checkpoints)."""
        from dataclasses import asdict

        return {
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "nesterov": self.nesterov,
            "schedule": asdict(self.schedule or LRSchedule()),
        }
