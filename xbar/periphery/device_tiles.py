"""Tiles built of device arrays: the device model of ``AnalogLinear(device=model)``.

With a device model (any :mod:`xbar.devices` model or fitted preset) as ``device``, every tile of
an :class:`~xbar.periphery.AnalogLinear` is a :class:`~xbar.circuit.DeviceCrossbar` of devices
sampled per tile from the layer's ``random_state`` (device-to-device variation), its reads solve
the model's cell I-V, weights are programmed through the devices (``programming="exact"``: each
device's ``set_state``, clipped to its own window; ``"verify"``: the model's
program-and-verify), ``read_noise=True`` reads with the model's state-dependent read noise and
``layer.age(t)`` lets the devices drift.  Nothing of the model is dropped: what a layer cannot
honour raises :class:`~xbar.exceptions.ConfigError` naming it.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import ConfigError
from .mapping import ConductanceRange

__all__ = ["PROGRAMMINGS", "device_model", "model_window", "check_programming", "program_tile"]

#: How ``set_weights`` writes a device-backed tile: exact states or program-and-verify.
PROGRAMMINGS = ("exact", "verify")


def device_model(device):
    """The device model in ``device`` (an object with ``sample`` and ``iv``), or None for a
    conductance window; a fabricated device array is refused (tiles sample their own).

    Parameters
    ----------
    device : object
        The ``device`` argument of ``AnalogLinear``: a device model (e.g.
        ``xbar.devices.presets.tud_hfox()``) or a conductance window.

    Returns
    -------
    object or None
        ``device`` itself when it is a device model, else None.

    Raises
    ------
    ConfigError
        ``device`` is a fabricated device array.
    """
    from ..circuit.device_crossbar import is_device_array

    if is_device_array(device):
        raise ConfigError(
            f"device must be a device model (e.g. xbar.devices.presets.tud_hfox()), "
            f"not fabricated devices ({type(device).__name__}): every tile samples "
            "its own from the layer's random_state; build a single array with "
            "xbar.Crossbar(devices, ...) or MatrixCore(crossbar)"
        )
    if hasattr(device, "sample") and hasattr(device, "iv"):
        return device
    return None


def model_window(model) -> ConductanceRange:
    """The nominal window (S) of a device model: ``g_min``/``g_max``, or a binary model's state
    medians ``g_hrs``/``g_lrs``.

    Parameters
    ----------
    model : object
        A device model with ``g_min``/``g_max`` or ``g_hrs``/``g_lrs`` (S).

    Returns
    -------
    ConductanceRange
        The window, S.
    """
    if hasattr(model, "g_min") and hasattr(model, "g_max"):
        return ConductanceRange(float(model.g_min), float(model.g_max))
    if hasattr(model, "g_hrs") and hasattr(model, "g_lrs"):
        return ConductanceRange(float(model.g_hrs), float(model.g_lrs))
    raise ConfigError(
        f"device model {type(model).__name__} has no conductance window "
        "(g_min/g_max or g_hrs/g_lrs, S)"
    )


def check_programming(model, programming: str, program_options, crossbar_options: dict) -> dict:
    """Validate the programming choice and options of a device-backed layer; returns the
    options (a copy).  Refuses what the layer cannot honour, naming it.

    Parameters
    ----------
    model : object or None
        The device model (:func:`device_model`), None for a conductance window.
    programming : {"exact", "verify"}
        How ``set_weights`` writes the tiles (one of :data:`PROGRAMMINGS`).
    program_options : dict or None
        Keyword arguments of the model's ``program_verify`` (only with ``"verify"``; never
        ``random_state``).
    crossbar_options : dict
        The layer's crossbar keyword arguments; an ``iv`` in it must equal the model's I-V.

    Returns
    -------
    dict
        A copy of ``program_options`` (empty when None).

    Raises
    ------
    ConfigError
        A choice or option the layer cannot honour.
    """
    from .._validation import check_choice

    check_choice(programming, "programming", PROGRAMMINGS)
    opts = dict(program_options or {})
    if model is None:
        if programming != "exact" or opts:
            raise ConfigError(
                "programming and program_options need a device model as device "
                "(e.g. device=xbar.devices.presets.tud_hfox()); got a conductance "
                "window"
            )
        return opts
    if programming == "exact" and opts:
        raise ConfigError(f"program_options apply to programming='verify', got {sorted(opts)}")
    if programming == "verify":
        probe = model.sample((1, 1), random_state=0)
        if not hasattr(probe, "program_verify"):
            raise ConfigError(
                f"programming='verify' needs a model with program-and-verify; "
                f"{type(model).__name__} has none (use programming='exact')"
            )
        if "random_state" in opts:
            raise ConfigError(
                "program_options must not hold random_state: each tile programs "
                "with its devices' own stream (seeded by the layer's random_state)"
            )
    iv = crossbar_options.get("iv")
    if iv is not None and iv != model.iv:
        raise ConfigError(
            f"array.crossbar_options['iv'] = {iv!r} differs from the device model's "
            f"I-V {model.iv!r}: a device-backed layer reads through its devices' "
            "I-V (build the model with that iv instead)"
        )
    return opts


def program_tile(crossbar, G, programming: str, options: dict):
    """Write target conductances ``G`` (S) into a device-backed tile's devices.

    Parameters
    ----------
    crossbar : xbar.circuit.DeviceCrossbar
        The tile's array.
    G : (M, C) ndarray
        Target conductances, S.
    programming : {"exact", "verify"}
        Exact states (clipped to each device's window) or the model's program-and-verify.
    options : dict
        Keyword arguments of ``program_verify`` (``max_pulses``, ``width`` in s, the tolerance on G in S, ...).

    Returns
    -------
    xbar.devices.ProgramVerifyResult or None
        The program-and-verify outcome (None for ``"exact"``).
    """
    if programming == "exact":
        crossbar.set_conductances(G)
        return None
    return crossbar.program_verify(np.asarray(G), **options)
