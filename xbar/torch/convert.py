"""``convert`` a trained torch model to crossbar layers, ``to_float`` back, ``calibrate`` the ADC
ranges, and read the model's energy ledger."""

from __future__ import annotations

import copy
from typing import Callable, cast

import torch
from torch import nn

from .._random import check_random_state, spawn
from ..exceptions import ConfigError
from .hardware import Hardware
from .modules import CrossbarConv2d, CrossbarLinear, _CrossbarModule

__all__ = ["convert", "to_float", "calibrate", "relax", "analog_modules", "energy"]


def _set_child(root: nn.Module, qualname: str, new: nn.Module) -> None:
    parent_name, _, attr = qualname.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, attr, new)


def analog_modules(model: nn.Module) -> list[tuple[str, _CrossbarModule]]:
    """``(name, module)`` of every crossbar layer of ``model``, in registration order.

    Parameters
    ----------
    model : torch.nn.Module
        Any model.
    """
    return [(n, m) for n, m in model.named_modules() if isinstance(m, _CrossbarModule)]


def convert(
    model: nn.Module,
    hardware: Hardware | Callable | None = None,
    *,
    ledger=None,
    inplace: bool = False,
) -> nn.Module:
    """A copy of ``model`` whose ``nn.Linear`` and ``nn.Conv2d`` layers run on crossbars.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model on the CPU.  Everything but its Linear and Conv2d layers (activations,
        pooling, normalisation, biases) stays PyTorch.
    hardware : Hardware or callable, optional
        The arrays and periphery of every layer (default ``Hardware()``), or a function
        ``(name, module) -> Hardware | None`` choosing per layer (``None`` keeps it digital).
    ledger : xbar.EnergyLedger, optional
        The energy book shared by all converted layers (tag ``layer`` = the module's name).
        Default: a new ledger; its ``samples`` count the inputs of the first converted layer.
    inplace : bool
        Convert ``model`` itself instead of a deep copy.

    Returns
    -------
    torch.nn.Module
        The converted model, in the training mode of ``model``.  Layer ``k`` (registration order)
        draws its converter errors and noise from child ``k`` of ``hardware.random_state``.
    """
    from ..pulses import EnergyLedger

    if not isinstance(model, nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if hardware is None:
        hardware = Hardware()
    if not (isinstance(hardware, Hardware) or callable(hardware)):
        raise ConfigError(
            "hardware must be an xbar.torch.Hardware or a callable "
            f"(name, module) -> Hardware | None, got {type(hardware).__name__}"
        )
    for pname, p in model.named_parameters():
        if p.device.type != "cpu":
            raise ConfigError(
                f"parameter {pname!r} is on device {p.device}; xbar's crossbar "
                "layers run on the CPU: convert model.cpu()"
            )
    if analog_modules(model):
        raise ConfigError("model already contains crossbar layers (convert a float model)")
    ledger = ledger if ledger is not None else EnergyLedger()
    out = model if inplace else copy.deepcopy(model)
    todo = []
    for name, m in out.named_modules():
        if type(m) in (nn.Linear, nn.Conv2d):
            hw = hardware if isinstance(hardware, Hardware) else hardware(name, m)
            if hw is None:
                continue
            if not isinstance(hw, Hardware):
                raise ConfigError(
                    f"hardware({name!r}, ...) must return a Hardware or None, got "
                    f"{type(hw).__name__}"
                )
            todo.append((name, m, hw))
    seeds = {}  # children of each distinct Hardware's random_state
    for _, _, hw in todo:
        if id(hw) not in seeds:
            seeds[id(hw)] = spawn(check_random_state(hw.random_state), len(todo))
    replaced = {}
    for k, (name, m, hw) in enumerate(todo):
        kw = dict(
            hardware=hw,
            name=name,
            ledger=ledger,
            random_state=seeds[id(hw)][k],
            count_samples=(k == 0),
        )
        replaced[id(m)] = (
            CrossbarLinear.from_linear(m, **kw)
            if isinstance(m, nn.Linear)
            else CrossbarConv2d(m, **kw)
        )
    if not todo:
        return out
    if not todo[0][0]:  # the model is itself a Linear / Conv2d
        return replaced[id(out)]
    # every place a converted module sits (a module used twice shares one set of arrays)
    for name, m in list(out.named_modules(remove_duplicate=False)):
        if name and id(m) in replaced:
            _set_child(out, name, replaced[id(m)])
    return out


def to_float(model: nn.Module, *, circuit: bool = False) -> nn.Module:
    """A plain PyTorch copy of a converted model with the weights read back from the arrays.

    Every crossbar layer becomes the ``nn.Linear`` / ``nn.Conv2d`` it stands for, with weight
    ``module.effective_weight(circuit)``: the mapping's inverse of the programmed conductances
    (programming error and clipping included), or with ``circuit=True`` the read's linear map
    including the IR drop of wires and terminals.  Biases are copied.

    Parameters
    ----------
    model : torch.nn.Module
        A model converted by :func:`convert`.
    circuit : bool, default False
        Read the weights back through the circuit (IR drop included) instead of the mapping's inverse.
    """
    mods = analog_modules(model)
    memo = {id(m.core): None for _, m in mods}  # the arrays are not copied
    out = copy.deepcopy(model, memo)
    for name, m in mods:
        w = m.effective_weight(circuit=circuit).detach().clone()
        new: nn.Linear | nn.Conv2d
        if isinstance(m, CrossbarLinear):
            new = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=w.dtype)
        else:
            c = cast(CrossbarConv2d, m)
            new = nn.Conv2d(
                c.in_channels,
                c.out_channels,
                c.kernel_size,
                stride=c.stride,
                padding=c.padding,
                dilation=c.dilation,
                bias=c.bias is not None,
                padding_mode=c.padding_mode,
                dtype=w.dtype,
            )
        with torch.no_grad():
            new.weight.copy_(w)
            if m.bias is not None and new.bias is not None:
                new.bias.copy_(m.bias)
        new.train(m.training)
        if not name:
            return new
        _set_child(out, name, new)
    return out


@torch.no_grad()
def calibrate(model: nn.Module, *inputs, **kwargs) -> nn.Module:
    """Set the calibrated ADC ranges (``adc.range`` ``"calibrate"`` or ``"percentile"``) of every
    crossbar layer from one forward pass ``model(*inputs, **kwargs)``; returns ``model``.

    Each layer calibrates on the inputs it receives in that pass (after the preceding layers,
    themselves calibrated).  The reads book energy with ``operation="calibrate"``.  Re-programming
    re-applies the TIA gain rule, so calibrate again after fine-tuning.

    Parameters
    ----------
    model : torch.nn.Module
        A model converted by :func:`convert`.
    *inputs
        Positional inputs of the forward pass.
    **kwargs
        Keyword inputs of the forward pass.
    """
    mods = [m for _, m in analog_modules(model)]
    if not mods:
        raise ConfigError("model has no crossbar layers to calibrate (convert it first)")
    try:
        for m in mods:
            m.calibrating = True
        model(*inputs, **kwargs)
    finally:
        for m in mods:
            m.calibrating = False
    return model


def relax(model: nn.Module, t_seconds: float) -> nn.Module:
    """Let ``t_seconds`` (s) of conductance relaxation pass in every crossbar layer (the device
    model of its ``Hardware.device``, e.g. ``xbar.devices.presets.stanford_tech_b()``); returns
    ``model``.  Calls compose; an optimiser step (re-programming) restarts a layer's clock.

    Parameters
    ----------
    model : torch.nn.Module
        A model converted by :func:`convert`.
    t_seconds : float
        Time that passes (s).
    """
    mods = analog_modules(model)
    if not mods:
        raise ConfigError("model has no crossbar layers (convert it first)")
    for _, m in mods:
        m.relax(t_seconds)
    return model


def energy(model: nn.Module, by=("layer", "category")):
    """The ``LedgerSummary`` of the model's crossbar energy (J), per layer and category.

    Parameters
    ----------
    model : torch.nn.Module
        A model converted by :func:`convert`.
    by : tuple of str, default ("layer", "category")
        Ledger tags to group by.
    """
    mods = analog_modules(model)
    if not mods:
        raise ConfigError("model has no crossbar layers (convert it first)")
    ledgers = {id(m.ledger): m.ledger for _, m in mods}
    if len(ledgers) != 1:
        raise ConfigError(
            "the crossbar layers book into different ledgers; read each module's .ledger"
        )
    return mods[0][1].ledger.summary(by=by)
