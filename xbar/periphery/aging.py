"""Program -> relax -> infer: accuracy of an analog layer versus time since programming.

:func:`program_relax_infer` writes the layer's weights into arrays of a device model (one
device per cell, sampled with the model's device-to-device variation), lets them relax for the
requested times with the model's drift (``age``: a walk in log time whose mean and spread follow
the model's tables at each cell's programmed state: ``drift_rate``/``drift_sigma`` per decade, or
the measured ``drift_mean``/``drift_std`` at the clock knots ``drift_L`` of the Stanford presets)
and reads the inputs through the layer at each time, with the model's state-dependent read
noise (``read_noise_x``/``read_noise_rel``) on every cell read (:class:`~xbar.periphery.CellReadNoise`).
The times form one trajectory: the devices age from one time to the next (the relaxation composes
exactly), as a chip left unrefreshed for a month would.  A time beyond the device's measured
record (Stanford B: 1e4 s, C: 1e5 s, about a day; a month is 2.6e6 s) is an extrapolation: the
law continues with its slopes over the last two measured decades (``xbar validate measured``
reports how far such an extrapolation is off: C fitted on t <= 4 s misses 1e5 s by 1.8 % of
gmax, RMS over levels).

The weights are programmed one of three ways: ``"verify"`` (SET/RESET program-and-verify, the
conventional baseline), ``"reset-only"`` (from the formed state ``g_max``, identical RESET pulses
with verify reads until each cell reads at or below its target, the way the reset-only training
writer moves devices: conductances only fall, so the programming error is one-sided) or
``"exact"`` (the targets set directly, no programming error).  Both pulsed modes run the one
program-and-verify engine (:mod:`xbar.pulses.verify`).

Only the device model's public array API is used (``sample``, ``set_state``, ``program_verify``,
``age``, ``g_min``/``g_max``), so any model with relaxation works (the fitted Stanford presets of
``xbar.devices.presets`` among them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._random import check_random_state, spawn
from .._validation import as_float_array, check_choice
from ..exceptions import ConfigError
from ..pulses.verify import Ramp
from .layer import AnalogLinear, CellReadNoise

__all__ = ["AgingResult", "age_layer", "program_relax_infer", "sample_devices"]

PROGRAMMINGS = ("verify", "reset-only", "exact")
# Reset-only programming: identical 1 V, 100 ns RESET pulses.  The Stanford presets need about
# 0.9 V or more at 100 ns: with 0.8 V (the HfOx training writer's pulse) 53 % of the cells of a
# 20 x 20 test array reached their band within 100 pulses, with 1.0 V all did (<= 25 pulses).
RESET_ONLY_DEFAULTS = {"reset_ramp": Ramp(1.0), "width": 100e-9}


@dataclass
class AgingResult:
    """Outcome of :func:`program_relax_infer` (one entry per time).

    The fields are also the attributes of the same name.

    Parameters
    ----------
    times : (T,) ndarray
        Time since programming, s.
    accuracy : (T,) ndarray
        Fraction of inputs whose largest output is the label.
    shift : (T,) ndarray
        Mean conductance change of the cells since programming, S.
    spread : (T,) ndarray
        Standard deviation over the cells of the change since programming, S.
    programmed : list of ndarray
        Per-tile (rows, C) conductances right after programming, S.
    converged : float
        Fraction of cells program-and-verify brought into its band (1 for ``"exact"``).
    programming : str, default "verify"
        How the weights were programmed (``"verify"``, ``"reset-only"`` or ``"exact"``).
    """

    times: np.ndarray
    accuracy: np.ndarray
    shift: np.ndarray
    spread: np.ndarray
    programmed: list
    converged: float
    programming: str = "verify"

    def __str__(self) -> str:
        rows = [
            f"programming: {self.programming}, converged {100 * self.converged:.1f} %",
            f"{'t (s)':>10} {'accuracy':>9} {'shift (S)':>11} {'spread (S)':>11}",
        ]
        rows += [
            f"{t:10.3g} {a:9.4f} {m:11.3e} {s:11.3e}"
            for t, a, m, s in zip(self.times, self.accuracy, self.shift, self.spread)
        ]
        return "\n".join(rows)


def sample_devices(layer: AnalogLinear, device, random_state=None) -> list:
    """One device array per tile of ``layer``, shaped like its conductances.

    Parameters
    ----------
    layer : AnalogLinear
        The layer whose tiles the devices back.
    device : device model
        A model with relaxation (``sample`` and ``drift_rate``, e.g.
        ``xbar.devices.presets.stanford_tech_b()``).
    random_state : None, int, SeedSequence or Generator
        Spawned into one stream per tile (fabrication and the arrays' own operation streams).

    Returns
    -------
    list of device arrays (their states as the model samples them: set them with
    ``set_state`` or program them before ageing).
    """
    if not (hasattr(device, "sample") and hasattr(device, "drift_rate")):
        raise ConfigError(
            "ageing needs a device model with relaxation (e.g. "
            f"xbar.devices.presets.stanford_tech_b()), got {type(device).__name__}"
        )
    rngs = check_random_state(random_state).spawn(len(layer.tiles))
    return [device.sample(tile.G.shape, random_state=r) for tile, r in zip(layer.tiles, rngs)]


def age_layer(layer: AnalogLinear, devices: list, t_seconds: float) -> None:
    """Let time pass for the device arrays behind ``layer``'s tiles and write the relaxed
    conductances into the tiles (their ``age``, on each array's own operation stream).

    TIA gains and ADC ranges stay as they are.

    Parameters
    ----------
    layer : AnalogLinear
        The layer.
    devices : list of device arrays
        One per tile (:func:`sample_devices`).
    t_seconds : float
        Time to pass, s (>= 0).
    """
    from .._validation import check_scalar

    check_scalar(t_seconds, "t_seconds", low=0.0, unit="s")
    if len(devices) != len(layer.tiles):
        raise ConfigError(
            f"devices must hold one array per tile ({len(layer.tiles)}), got {len(devices)}"
        )
    for i, dev in enumerate(devices):
        layer.set_conductances(i, np.array(dev.age(float(t_seconds))))


def program_relax_infer(
    layer: AnalogLinear,
    X,
    y,
    times,
    *,
    device,
    programming: str = "verify",
    read_noise: bool = True,
    x_calibration=None,
    program_options: dict | None = None,
    random_state=None,
) -> AgingResult:
    """Program ``layer``'s weights into device arrays, let them relax and classify ``X`` at each time.

    Parameters
    ----------
    layer : AnalogLinear
        The layer; its conductance window must lie within ``device``'s nominal window.  The
        layer is modified: it ends holding the conductances at ``times[-1]`` (its
        ``channel_noise`` is restored).
    X : (n, in) array_like
        Inputs (in the layer's input units).
    y : (n,) array_like of int
        Labels in ``[0, layer.out_features)``; the prediction is the largest output.
    times : (T,) array_like
        Times since programming at which to read, s (>= 0, non-decreasing; month scale is
        ``2.6e6`` s).
    device : device model
        A model with relaxation (``sample``, ``drift_rate``; e.g.
        ``xbar.devices.presets.stanford_tech_b()``).  One device per cell, sampled per tile.
    programming : {"verify", "reset-only", "exact"}
        ``"verify"``: the devices' program-and-verify (``program_verify``, from the formed
        state ``g_max``; its verify reads carry the read noise); ``"reset-only"``: from the
        formed state ``g_max``, RESET pulses only (``program_verify(..., allow_set=False)``,
        default 1 V, 100 ns pulses: ``RESET_ONLY_DEFAULTS``) until each cell reads at or
        below its target; ``"exact"``: the targets are set directly (``set_state``), the
        reference without programming error.
    read_noise : bool
        Add the model's state-dependent read noise to every cell read of the inference.
    x_calibration : (m, in) array_like, optional
        Inputs to calibrate the ADC ranges on right after programming (needed when the layer's
        ADC range mode is ``"calibrate"``/``"percentile"``).
    program_options : dict, optional
        Keyword arguments of ``program_verify`` for the pulsed modes (``atol`` in S,
        ``max_pulses``, ``reset_ramp``, ``width`` in s, ``on_failure``...).
    random_state : None, int, SeedSequence or Generator
        Fabrication of the devices, programming, relaxation and read noise.

    Returns
    -------
    AgingResult
    """
    if not isinstance(layer, AnalogLinear):
        raise ConfigError(f"layer must be an AnalogLinear, got {type(layer).__name__}")
    X = as_float_array(X, "X")
    if X.ndim != 2 or X.shape[1] != layer.in_features or len(X) == 0:
        raise ConfigError(f"X must have shape (n, {layer.in_features}) with n >= 1, got {X.shape}")
    y = np.asarray(y)
    if (
        y.shape != (len(X),)
        or not np.issubdtype(y.dtype, np.integer)
        or np.any((y < 0) | (y >= layer.out_features))
    ):
        raise ConfigError(
            f"y must be ({len(X)},) integer labels in [0, {layer.out_features}), "
            f"got shape {y.shape}, dtype {y.dtype}"
        )
    t = as_float_array(times, "times")
    if t.ndim != 1 or t.size == 0 or np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ConfigError(f"times must be a non-empty 1-D non-decreasing array of s >= 0, got {t}")
    check_choice(programming, "programming", PROGRAMMINGS)
    if not (hasattr(device, "g_min") and hasattr(device, "g_max")):
        raise ConfigError(
            "device must be a device model with relaxation (e.g. "
            f"xbar.devices.presets.stanford_tech_b()), got {type(device).__name__}"
        )
    win = layer.window
    if win.g_min < device.g_min * (1 - 1e-9) or win.g_max > device.g_max * (1 + 1e-9):
        raise ConfigError(
            f"the layer's window [{win.g_min:.4g}, {win.g_max:.4g}] S must lie within "
            f"the device's [{device.g_min:.4g}, {device.g_max:.4g}] S: build the "
            "layer with AnalogLinear(..., device=model)"
        )
    opts = dict(program_options or {})
    if programming == "exact" and opts:
        raise ConfigError(
            f"program_options apply to programming='verify' or 'reset-only', got {sorted(opts)}"
        )
    if programming == "reset-only":
        if "allow_set" in opts or "set_ramp" in opts:
            raise ConfigError(
                "programming='reset-only' applies no SET pulse: program_options "
                f"must not set allow_set or set_ramp, got {sorted(opts)}"
            )
        opts = {**RESET_ONLY_DEFAULTS, **opts, "allow_set": False}

    fab, prog, noise = spawn(check_random_state(random_state), 3)
    devs = sample_devices(layer, device, fab)
    converged = []

    def write(i, G):
        if programming == "exact":
            devs[i].set_state(G)
        else:
            if programming == "reset-only":
                devs[i].set_state(devs[i].g_max)  # the formed state
            opts.setdefault("on_failure", "ignore")
            res = devs[i].program_verify(G, random_state=prog, **opts)
            converged.append(np.asarray(res.converged))
        return np.array(devs[i].G)

    layer.set_weights(layer.W, write=write)
    if x_calibration is not None:
        layer.calibrate(x_calibration)
    elif not layer.calibrated:
        raise ConfigError(
            f"adc.range={layer.adc.range!r} needs x_calibration (the ranges are "
            "calibrated right after programming)"
        )
    g0 = [np.array(d.G) for d in devs]
    index = {id(tile): i for i, tile in enumerate(layer.tiles)}
    sigma = CellReadNoise(
        lambda tile: devs[index[id(tile)]].read_noise_rel(tile.G), random_state=noise
    )
    saved = layer.channel_noise
    acc, shift, spread = (np.empty(t.size) for _ in range(3))
    try:
        if read_noise:
            layer.channel_noise = sigma
        t_prev = 0.0
        for k, tk in enumerate(t):
            if tk > t_prev:
                age_layer(layer, devs, tk - t_prev)
            t_prev = tk
            dG = np.concatenate([(np.asarray(d.G) - g).ravel() for d, g in zip(devs, g0)])
            shift[k], spread[k] = dG.mean(), dG.std()
            acc[k] = float(np.mean(np.argmax(layer(X), axis=1) == y))
    finally:
        layer.channel_noise = saved
    conv = float(np.mean(np.concatenate([c.ravel() for c in converged]))) if converged else 1.0
    return AgingResult(t, acc, shift, spread, g0, conv, programming)
