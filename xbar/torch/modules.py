"""``CrossbarLinear`` and ``CrossbarConv2d``: torch modules whose matrix-vector products run on
crossbar tiles through the periphery (``xbar.periphery.AnalogLinear``).

Forward: the circuit-accurate read of ``ProgrammedLayer.read`` (float64 numpy inside; the output
has the input's dtype); the bias is added digitally in torch.  Backward (``_CrossbarMVM``):

* input gradient ``∂L/∂x = ∂L/∂y @ J``, ``J`` the read's input Jacobian: for linear cells the
  tiles' exact transfer maps composed with the periphery's linear gains, quantisers and clipping
  straight-through (``_program`` module docstring); exact when the periphery is ideal;
* weight gradient ``∂L/∂W = ∂L/∂yᵀ @ x``: the ideal one, straight through the arrays.

After an optimiser step the next forward call sees weights that differ from those written and
re-programs the tiles (``ProgrammedLayer.sync``), so any torch optimiser fine-tunes the model
hardware-aware.  Convolutions are lowered by unfolding: each output pixel's patch is one read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import ConfigError
from ._program import ProgrammedLayer

__all__ = ["CrossbarLinear", "CrossbarConv2d"]


def _check_tensor(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise ConfigError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.device.type != "cpu":
        raise ConfigError(
            f"{name} is on device {x.device}, but xbar's crossbar layers run on the "
            "CPU (the circuit solver is numpy/Cython): move the model and its inputs "
            "with .cpu()"
        )
    if not x.is_floating_point():
        raise ConfigError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


class _CrossbarMVM(torch.autograd.Function):
    """``y = read(x)`` of a ``ProgrammedLayer`` with weights ``weight`` (out, in)."""

    @staticmethod
    def forward(ctx, x, weight, core, calibrate):
        core.sync(weight.detach().to(torch.float64).numpy())
        y = core.read(x.detach().to(torch.float64).numpy(), calibrate=calibrate)
        # the Jacobian of this programming (cached per programming; the read maps it needs are
        # those the transfer reads use)
        ctx.jacobian = core.jacobian() if ctx.needs_input_grad[0] else None
        ctx.save_for_backward(x)
        return torch.from_numpy(y).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_y @ torch.from_numpy(ctx.jacobian).to(grad_y.dtype)
        if ctx.needs_input_grad[1]:
            grad_w = grad_y.transpose(0, 1) @ x
        return grad_x, grad_w, None, None


class _CrossbarModule(nn.Module):
    """What both analog modules share: the programmed arrays and their inspection."""

    core: ProgrammedLayer
    weight: nn.Parameter
    bias: nn.Parameter | None

    def _setup(
        self, weight2d: torch.Tensor, hardware, name: str, ledger, random_state, count_samples: bool
    ) -> None:
        _check_tensor(weight2d, "weight")
        self.hardware = hardware
        self.layer_name = name
        self.count_samples = bool(count_samples)
        self.calibrating = False
        self.core = ProgrammedLayer(
            weight2d.detach().double().numpy(),
            hardware,
            name=name,
            ledger=ledger,
            random_state=random_state,
        )

    def _mvm(self, x2d: torch.Tensor, w2d: torch.Tensor, n_samples: int) -> torch.Tensor:
        _check_tensor(w2d, f"weight of {self.layer_name!r}")
        y = _CrossbarMVM.apply(x2d, w2d, self.core, self.calibrating)
        if self.count_samples and self.hardware.energy and not self.calibrating:
            self.ledger.add_samples(n_samples)
        return y

    def _weight2d(self) -> torch.Tensor:
        return self.weight.reshape(self.weight.shape[0], -1)

    # ------------------------------------------------------------------ inspection
    @property
    def analog(self):
        """The ``xbar.periphery.AnalogLinear`` holding the tiles (``.tiles[k].crossbar``)."""
        return self.core.analog

    @property
    def ledger(self):
        """The ``EnergyLedger`` the reads book into (shared by the layers of a converted model)."""
        return self.core.analog.ledger

    def energy(self) -> dict:
        """``{category: J}`` booked by this layer so far (read, dac, tia, adc)."""
        return self.ledger.totals("category", layer=self.layer_name)

    def conductances(self) -> list[np.ndarray]:
        """Copies of every tile's conductances (rows, columns), S (re-programs pending weights)."""
        self.reprogram(force=False)
        return self.core.analog.conductances()

    def reprogram(self, force: bool = True) -> None:
        """Write the present weights into the arrays now (``force``: even if unchanged, which
        draws a new programming error)."""
        w = self._weight2d().detach().double().numpy()
        if force:
            self.core.program(w)
        else:
            self.core.sync(w)

    def relax(self, t_seconds: float) -> None:
        """Conductance relaxation over ``t_seconds`` (s) since programming
        (``ProgrammedLayer.relax``; needs a device model with relaxation as ``hardware.device``)."""
        self.reprogram(force=False)
        self.core.relax(t_seconds)

    def effective_weight(self, circuit: bool = False) -> torch.Tensor:
        """The weights read back from the arrays, shaped like ``weight`` (its dtype).

        ``circuit=False``: the mapping's inverse of the conductances (programming error and
        clipping included); ``circuit=True``: the read's linear map including the IR drop of
        wires and terminals (the input Jacobian, see the module docstring).
        """
        self.reprogram(force=False)
        W = self.core.effective_weights(circuit=circuit)
        return torch.from_numpy(W).to(self.weight.dtype).reshape(self.weight.shape)

    def extra_repr(self) -> str:
        a = self.core.analog
        bits = lambda b: "ideal" if b is None else f"{b} b"  # noqa: E731
        return (
            f"{super().extra_repr()}, tiles={len(a.tiles)}, dac={bits(a.dac.bits)}, "
            f"adc={bits(a.adc.bits)}, r_wire={a.array.r_wordline} ohm, "
            f"name={self.layer_name!r}"
        )


class CrossbarLinear(_CrossbarModule):
    """``nn.Linear`` on crossbar tiles: ``y = read(x) + bias`` (bias digital).

    Build with :func:`xbar.torch.convert` or :meth:`from_linear`.  Inputs ``(*, in_features)``,
    floating point on the CPU; the output has the input's dtype.

    Parameters
    ----------
    in_features : int
        Inputs.
    out_features : int
        Outputs.
    bias : bool, default True
        Whether to add a (digital) bias.
    hardware : Hardware or None
        The arrays, converters and device; default ``Hardware()``.
    name : str
        Layer name in the energy ledger.
    ledger : EnergyLedger or None
        Energy book (J) of the reads; default a new one.
    random_state : None, int or numpy.random.Generator
        Seed of converter errors, programming and read noise.
    count_samples : bool, default False
        Count every forward pass's samples in the ledger (``ledger.add_samples``).
    weight : torch.Tensor or None
        Initial weights (out_features, in_features); default ``nn.Linear``'s initialisation.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        hardware=None,
        name: str = "linear",
        ledger=None,
        random_state=None,
        count_samples: bool = False,
        weight: torch.Tensor | None = None,
    ):
        super().__init__()
        from ..pulses import EnergyLedger
        from .hardware import Hardware

        self.in_features, self.out_features = int(in_features), int(out_features)
        if weight is None:
            weight = nn.Linear(in_features, out_features).weight.detach()
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=weight.dtype)) if bias else None
        self._setup(
            self.weight,
            hardware or Hardware(),
            name,
            ledger if ledger is not None else EnergyLedger(),
            random_state,
            count_samples,
        )

    @classmethod
    def from_linear(cls, linear: nn.Linear, **kw) -> "CrossbarLinear":
        """An analog copy of ``linear`` (weights and bias copied; see the class parameters)."""
        m = cls(
            linear.in_features,
            linear.out_features,
            linear.bias is not None,
            weight=linear.weight,
            **kw,
        )
        if linear.bias is not None and m.bias is not None:
            m.bias.data.copy_(linear.bias.detach())
        m.train(linear.training)
        return m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b`` read through the crossbar tiles (DAC, circuit solve, TIA, ADC).

        Parameters
        ----------
        x : torch.Tensor
            Inputs of shape (..., in_features), on the CPU, in the units the model was trained
            with (the DAC maps them to word-line voltages).

        Returns
        -------
        torch.Tensor
            Outputs of shape (..., out_features), in ``x``'s dtype.
        """
        _check_tensor(x, "input")
        if x.shape[-1] != self.in_features:
            raise ConfigError(
                f"input must have {self.in_features} features in its last "
                f"dimension, got shape {tuple(x.shape)}"
            )
        x2 = x.reshape(-1, self.in_features)
        y = self._mvm(x2, self.weight, x2.shape[0]).reshape(*x.shape[:-1], self.out_features)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}" + super().extra_repr()
        )


class CrossbarConv2d(_CrossbarModule):
    """``nn.Conv2d`` (``groups=1``) on crossbar tiles, lowered by unfolding.

    The weight ``(out, C, kh, kw)`` is one crossbar layer of ``C·kh·kw`` inputs; every output pixel
    is one read of its input patch.  Padding (any ``padding_mode``), stride and dilation are applied
    digitally around the reads exactly as ``nn.Conv2d`` does.  Build with :func:`convert` or
    :meth:`from_conv`.

    Parameters
    ----------
    conv : torch.nn.Conv2d
        The convolution to copy (weights, bias, stride, padding, dilation).
    hardware : Hardware or None
        The arrays, converters and device; default ``Hardware()``.
    name : str
        Layer name in the energy ledger.
    ledger : EnergyLedger or None
        Energy book (J) of the reads; default a new one.
    random_state : None, int or numpy.random.Generator
        Seed of converter errors, programming and read noise.
    count_samples : bool, default False
        Count every forward pass's samples in the ledger (``ledger.add_samples``).
    """

    in_channels: int
    out_channels: int
    kernel_size: Any
    stride: Any
    padding: Any
    dilation: Any
    padding_mode: Any

    def __init__(
        self,
        conv: nn.Conv2d,
        *,
        hardware=None,
        name: str = "conv",
        ledger=None,
        random_state=None,
        count_samples: bool = False,
    ):
        super().__init__()
        from ..pulses import EnergyLedger
        from .hardware import Hardware

        if not isinstance(conv, nn.Conv2d):
            raise ConfigError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
        if conv.groups != 1:
            raise ConfigError(
                f"CrossbarConv2d supports groups=1 only, got groups={conv.groups} "
                f"in {name!r} (keep it digital with a hardware callable that "
                "returns None for it)"
            )
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.kernel_size, self.stride, self.dilation = conv.kernel_size, conv.stride, conv.dilation
        self.padding, self.padding_mode = conv.padding, conv.padding_mode
        self._pad = tuple(conv._reversed_padding_repeated_twice)
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
        self._setup(
            self._weight2d(),
            hardware or Hardware(),
            name,
            ledger if ledger is not None else EnergyLedger(),
            random_state,
            count_samples,
        )
        self.train(conv.training)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, **kw) -> "CrossbarConv2d":
        """An analog copy of ``conv`` (the same as ``CrossbarConv2d(conv, **kw)``)."""
        return cls(conv, **kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution read through the crossbar tiles, one read per output pixel's patch.

        Parameters
        ----------
        x : torch.Tensor
            Images of shape (N, C_in, H, W) or (C_in, H, W), on the CPU.

        Returns
        -------
        torch.Tensor
            Shape (N, C_out, H_out, W_out) (or without N), in ``x``'s dtype.
        """
        _check_tensor(x, "input")
        single = x.dim() == 3
        if single:
            x = x.unsqueeze(0)
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(
                f"input must have shape (N, {self.in_channels}, H, W) or "
                f"({self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        if any(self._pad):
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            x = F.pad(x, self._pad, mode=mode)
        N, _, H, W = x.shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        Ho, Wo = (H - dh * (kh - 1) - 1) // sh + 1, (W - dw * (kw - 1) - 1) // sw + 1
        if Ho < 1 or Wo < 1:
            raise ConfigError(
                f"input of spatial size {H} x {W} (after padding) is smaller than "
                f"the dilated kernel of {self.layer_name!r}"
            )
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, stride=self.stride)
        patches = cols.transpose(1, 2).reshape(N * Ho * Wo, -1)
        y = self._mvm(patches, self._weight2d(), N)
        y = y.reshape(N, Ho * Wo, self.out_channels).transpose(1, 2)
        y = y.reshape(N, self.out_channels, Ho, Wo)
        if self.bias is not None:
            y = y + self.bias[None, :, None, None]
        return y[0] if single else y

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}"
            + super().extra_repr()
        )
