"""The numpy side of one converted layer: programming weights into the arrays, reads, the
input Jacobian of the read, and read noise.  No torch here (``modules.py`` wraps it).

Re-programming.  ``ProgrammedLayer.sync(W)`` compares ``W`` with the weights last written and,
when they differ, maps them to conductances with the layer's fixed full scale ``w_max`` (weights
beyond it clip at the window's end), adds the programming error if configured, writes every tile
(``AnalogLinear.set_weights``: the tiles' cached read maps are rebuilt on the next read, and the
TIAs' gain rule is re-applied, as a controller that knows what it wrote would).  Converter errors (fabrication) are kept.

Relaxation.  ``ProgrammedLayer.relax(t)`` hands the programmed conductances of every tile to
the device model's arrays (``hardware.device.sample(...).set_state``) and lets them age; the next
reads see the relaxed cells, re-programming discards them.

Input Jacobian.  For linear cells a read is ``y = s · F(x / s)`` with ``F`` the periphery chain
around the exact linear map of each tile, ``I_chan = V @ (Tᵀ A)`` (``T`` the tile's transfer matrix:
wires, drivers, sense resistances).  With the quantisers and clipping taken as straight-through
(identity), DAC ``V = x · v_read / x_max``, TIA ``v = g · I``, ADC ``a · v`` (converter gain
error ``a``), de-scaling ``D / g · x_max / v_read``, the Jacobian is
``J[outputs, rows] = ((Tᵀ A) · a) @ D`` summed over tiles, transposed to (out, in): exact for an
ideal periphery, the straight-through estimate otherwise.  Nonlinear cells use their ideal
small-signal map ``G @ A`` instead of ``Tᵀ A``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._random import check_random_state, spawn
from .._validation import as_float_array
from ..exceptions import ConfigError
from ..periphery import AnalogLinear, CellReadNoise

__all__ = ["ProgrammedLayer"]


class ProgrammedLayer:
    """Weights ``W`` (out, in) held in crossbar tiles through ``hardware``'s periphery.

    Parameters
    ----------
    W : (out, in) array_like
        Trained weights.
    hardware : xbar.torch.Hardware
        Arrays, periphery, noise.
    name : str
        ``layer`` tag of the energy bookings.
    ledger : EnergyLedger
        Where reads book their energy.
    random_state : None, int, SeedSequence or Generator
        Converter errors (via ``AnalogLinear``), programming error, read noise.
    """

    def __init__(self, W, hardware, *, name: str, ledger, random_state=None):
        W = as_float_array(W, "weight")
        self.hardware = hw = hardware
        fab, self._prog_rng, noise_rng, self._relax_rng = spawn(check_random_state(random_state), 4)
        w_max = hw.mapping.w_max
        if w_max is None:
            m = float(np.max(np.abs(W)))
            w_max = hw.weight_headroom * (m if m > 0 else 1.0)
        noise = CellReadNoise(float(hw.read_noise), noise_rng) if hw.read_noise > 0 else None
        self.analog = AnalogLinear(
            W,
            array=hw.array,
            dac=hw.dac,
            adc=hw.adc,
            tia=hw.tia,
            mapping=dataclasses.replace(hw.mapping, w_max=w_max),
            device=hw.device,
            ledger=ledger,
            name=name,
            read_method=hw.read_method,
            energy=hw.energy,
            count_samples=False,
            channel_noise=noise,
            random_state=fab,
        )
        self.version = 0  # programmings so far
        self._devices: list | None = None  # device arrays of ``relax`` since the last programming
        self._W = np.array(W)
        self._J: np.ndarray | None = None
        if hw.programming_noise > 0.0:
            self.program(W)

    # ------------------------------------------------------------------ programming
    def program(self, W: np.ndarray) -> None:
        """Write ``W`` (out, in) into the tiles (see the module docstring).

        Parameters
        ----------
        W : numpy.ndarray
            Weights, shape (out, in), in weight units; the hardware's ``programming_noise``
            (a fraction of ``g_max - g_min``) adds a Gaussian conductance error per cell.
        """
        a = self.analog
        W = as_float_array(W, "weight", shape=(a.out_features, a.in_features))
        g_min, g_max = a.window.g_min, a.window.g_max
        sigma = self.hardware.programming_noise * (g_max - g_min)

        def write(_, G):
            return np.clip(G + sigma * self._prog_rng.standard_normal(G.shape), g_min, g_max)

        a.set_weights(W, write=write if sigma > 0.0 else None)
        self._W = W.copy()
        self._J = None
        self._devices = None
        self.version += 1

    def relax(self, t_seconds: float) -> None:
        """Let ``t_seconds`` (s) pass since programming: every cell relaxes as the device model
        ``hardware.device`` says (its ``age``: a random walk in log time with state-dependent
        drift and spread, e.g. the Stanford presets of ``xbar.devices.presets``).  Calls compose
        (the clock runs on from the last call); re-programming restarts it.  TIA gains and ADC
        ranges stay as programmed.

        Parameters
        ----------
        t_seconds : float
            Time elapsed since the last call (or since programming), in s; >= 0.

        Raises
        ------
        ConfigError
            If ``hardware.device`` is not a device model with relaxation.
        """
        from .._validation import check_scalar
        from ..periphery.aging import age_layer, sample_devices

        check_scalar(t_seconds, "t_seconds", low=0.0, unit="s")
        model = self.hardware.device
        if not (hasattr(model, "sample") and hasattr(model, "drift_rate")):
            raise ConfigError(
                "relax needs Hardware(device=...) to be a device model with "
                "relaxation (e.g. xbar.devices.presets.stanford_tech_b()), got "
                f"{type(model).__name__}"
            )
        a = self.analog
        if self._devices is None:
            self._devices = sample_devices(a, model, self._relax_rng)
            for tile, dev in zip(a.tiles, self._devices):
                dev.set_state(np.asarray(tile.G))
        age_layer(a, list(self._devices), t_seconds)
        self._J = None

    def sync(self, W: np.ndarray) -> bool:
        """Re-program if ``W`` differs from the weights last written; True if it did.

        Parameters
        ----------
        W : numpy.ndarray
            Weights, shape (out, in), in weight units.

        Returns
        -------
        bool
            True if the layer was re-programmed.
        """
        if W.shape == self._W.shape and np.array_equal(W, self._W):
            return False
        self.program(W)
        return True

    # ------------------------------------------------------------------ reads
    def read(self, x: np.ndarray, calibrate: bool = False) -> np.ndarray:
        """Circuit-accurate outputs (B, out) of inputs ``x`` (B, in), weight x input units.

        Parameters
        ----------
        x : numpy.ndarray
            Inputs, shape (B, in), in input units (scaled per sample to the DAC's ``x_max``
            when the hardware's ``input_scaling`` is ``"per_sample"``).
        calibrate : bool, optional
            Calibrate the ADC ranges on these inputs first (default False; then the layer must
            be calibrated already when the ADC range needs it).

        Returns
        -------
        numpy.ndarray
            Outputs, shape (B, out), in weight x input units.
        """
        a = self.analog
        x = as_float_array(x, "input")
        if self.hardware.input_scaling == "per_sample":
            s = np.max(np.abs(x), axis=1, keepdims=True) / a.dac.x_max
            s[s == 0] = 1.0
            xs = x / s
        else:
            s, xs = None, x
        if calibrate:
            a.calibrate(xs)
        else:
            self.check_ready()
        y = a.forward(xs)
        return y if s is None else y * s

    def jacobian(self) -> np.ndarray:
        """(out, in) input Jacobian of :meth:`read` (see the module docstring), cached."""
        J = self._J
        if J is None:
            a = self.analog
            J = np.zeros((a.out_features, a.in_features))
            for tile in a.tiles:
                if tile.crossbar.linear:
                    TA = tile.linear_maps(a.energy)["TA"]
                else:
                    TA = np.asarray(tile.G) @ tile.A
                J[tile.spec.outputs, tile.spec.rows] += ((TA * tile.adc_gain) @ tile.D).T
            self._J = J
        return J

    def effective_weights(self, circuit: bool = False) -> np.ndarray:
        """(out, in) weights the arrays hold: the mapping's inverse of the conductances, or with
        ``circuit`` the read's linear map (:meth:`jacobian`, includes the IR drop).

        Parameters
        ----------
        circuit : bool, optional
            Return the circuit read's linear map instead of the mapped conductances
            (default False).

        Returns
        -------
        numpy.ndarray
            Shape (out, in), in weight units (a copy).
        """
        return self.jacobian().copy() if circuit else self.analog.effective_weights()

    def check_ready(self) -> None:
        """Raise unless the layer's ADC ranges are calibrated (when its ``adc.range`` needs it).

        Raises
        ------
        ConfigError
            If calibration is needed: call ``xbar.torch.calibrate(model, x)`` first.
        """
        if not self.analog.calibrated:
            raise ConfigError(
                f"adc.range={self.analog.adc.range!r} needs calibrated ranges: call "
                "xbar.torch.calibrate(model, x) before the first forward pass"
            )
