"""Input drivers (DACs): digital inputs to word-line voltages, amplitude, pulse width or bit-serial.

Inputs ``x`` (any unit) are scaled by the full scale ``x_max`` (larger magnitudes clip) and
quantized to ``bits`` magnitude bits (sign-magnitude: the sign is extra):
``code = floor(|x| / x_max * L + 1/2)``, ``L = 2**bits - 1``.

* ``"amplitude"``: one read at ``v = sign · code / L · v_read`` (V).
* ``"pulse_width"``: the driver applies ``±v_read`` for ``code / L`` of the read window; the TIA
  integrates the charge, which for a linear array equals the amplitude read (the solver gives the
  exact value for nonlinear cells by summing the ``L`` time slots).
* ``"bit_serial"``: one read per input bit ``k`` at ``sign · bit_k · v_read``; the digital
  outputs are shifted and added with weights ``2**k / L`` after the ADC.

Signed inputs use bipolar drivers (``signed="bipolar"``, negative voltages) or two reads
(``"two_phase"``: positive parts, then magnitudes of the negative parts, subtracted digitally).
The driver's output resistance is the crossbar's ``r_driver``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._kernels import _quantize  # type: ignore[attr-defined]
from .._fielddoc import document_fields
from ..config.declare import declared, param, validate
from ..exceptions import ConfigError
from .adc import _n_threads

__all__ = ["DAC", "Phase", "ENCODINGS", "SIGNED_MODES"]

ENCODINGS = ("amplitude", "pulse_width", "bit_serial")
SIGNED_MODES = ("bipolar", "two_phase")


@document_fields
@dataclass
class Phase:
    """One read of the array, digitised on its own and added with ``weight`` after the ADC."""

    volts: np.ndarray
    """(B, M) amplitude-equivalent driver voltages, V (for pulse width: ``v_read`` times the
    signed duty cycle, which gives the integrated charge of a linear array over ``t_read``)."""
    weight: float
    """Digital weight of this read's outputs, dimensionless (bit-serial ``±2**k / L``, two-phase
    ``±1``)."""
    codes: np.ndarray | None = field(default=None, repr=False)
    """Pulse width only: (B, M) signed integer durations in slots of ``t_read / L``."""


@declared
@dataclass
class DAC:
    """Word-line driver / DAC configuration."""

    bits: int | None = param(8, low=1, high=30, optional=True, unit="bit")
    """Magnitude resolution in bits (>= 1); ``None`` is ideal (continuous amplitude; not allowed
    for pulse-width or bit-serial encoding, which need discrete slots or bits).  Default 8 [H: the
    input precision of 8-bit inference; ISAAC streams 16-bit inputs bit-serially]."""
    v_read: float = param(0.2, low=0.0, low_open=True, unit="V")
    """Full-scale read voltage, V (low enough to keep cells in their linear, non-disturbing
    range; NeuroSim uses 0.5 V, docs/references.rst, ref-read-write-energy) [H]."""
    x_max: float = param(1.0, low=0.0, low_open=True)
    """Input full scale, in the units of the inputs ``x``: ``|x| = x_max`` maps to ``v_read``;
    larger values clip.  Default 1 (inputs normalised to [-1, 1])."""
    encoding: str = param("amplitude", choices=ENCODINGS)
    """``"amplitude"``, ``"pulse_width"`` or ``"bit_serial"`` (see the module docstring).  Default
    amplitude: one read per input vector."""
    signed: str = param("bipolar", choices=SIGNED_MODES)
    """``"bipolar"`` (± driver voltages) or ``"two_phase"`` (two reads, subtracted digitally).
    Default bipolar: one read per signed input."""
    t_read: float = param(100e-9, low=0.0, low_open=True, unit="s")
    """Duration of one read (one bit in bit-serial mode; the full pulse-width window), s.
    Default: ISAAC/PUMA 128x128 MVM of 100 ns (docs/references.rst, ref-dac-driver-energy)."""
    r_driver: float = param(10.0, low=0.0, unit="ohm")
    """Driver output resistance, ohm (the crossbar's ``r_driver``) [H: small against the load of
    a full word line, 1 / (256 x 10 µS) = 390 ohm]."""
    power_per_line: float = param(3.89e-6, low=0.0, unit="W")
    """Driver/DAC power per word line while a read is applied, W: ISAAC's 1-bit DAC, 3.5 uW
    dynamic + 0.39 uW leakage (``Aayush-Ankit/puma-simulator:include/constants.py``,
    docs/references.rst, ref-dac-driver-energy: ~4 fJ per row drive per ns).  Applied as is to multi-bit drivers
    [H: a multi-bit DAC costs more; set this for your design]."""

    def __post_init__(self):
        validate(self)
        if self.bits is None and self.encoding != "amplitude":
            raise ConfigError(
                f"bits must be an integer >= 1 for encoding={self.encoding!r} "
                "(pulse-width slots / input bits), got None"
            )

    @property
    def levels(self) -> int | None:
        """Largest magnitude code ``L = 2**bits - 1`` (None when ideal)."""
        return None if self.bits is None else 2**self.bits - 1

    @property
    def scale(self) -> float:
        """Input units per volt, ``x_max / v_read``: multiplies the read-out to give ``x @ W.T``."""
        return self.x_max / self.v_read

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Inputs as the DAC represents them (clipped to ``±x_max`` and quantized), input units.

        Parameters
        ----------
        x : ndarray
            Inputs, in the units of ``x_max``.

        Returns
        -------
        ndarray
            The represented inputs (same shape and units as ``x``).
        """
        u = np.clip(x / self.x_max, -1.0, 1.0)
        if self.bits is not None:
            L = self.levels
            u = np.sign(u) * np.floor(np.abs(u) * L + 0.5) / L
        return u * self.x_max

    def reads_per_input(self) -> int:
        """Array reads per input vector."""
        n = self.bits if (self.encoding == "bit_serial" and self.bits is not None) else 1
        return n * (2 if self.signed == "two_phase" else 1)

    def encode(self, x: np.ndarray) -> list[Phase]:
        """Driver voltages (V) for inputs ``x`` (B, M): the list of reads to perform.

        Parameters
        ----------
        x : (B, M) ndarray
            Inputs, in the units of ``x_max`` (one row per input vector, one column per word
            line).

        Returns
        -------
        list of Phase
            The reads: (B, M) driver voltages (V) and the digital weight of each read's outputs
            (one read for bipolar amplitude encoding; ``bits`` per sign for bit-serial; two
            signs for ``signed="two_phase"``).
        """
        v = self.v_read
        if self.encoding == "amplitude" and self.signed == "bipolar":
            x = np.ascontiguousarray(x, dtype=np.float64)
            out = np.empty_like(x)
            _quantize.encode_amplitude(
                x, float(self.x_max), self.levels or 0, float(v), out, _n_threads(x.shape[0])
            )
            return [Phase(out, 1.0)]
        u = np.clip(x / self.x_max, -1.0, 1.0)
        sign_parts = (
            [(np.maximum(u, 0.0), 1.0), (np.maximum(-u, 0.0), -1.0)]
            if self.signed == "two_phase"
            else [(u, 1.0)]
        )
        phases: list[Phase] = []
        for part, s in sign_parts:
            if self.bits is None:
                phases.append(Phase(part * v, s))
                continue
            L = 2**self.bits - 1
            codes = np.floor(np.abs(part) * L + 0.5)
            sgn = np.sign(part)
            if self.encoding == "amplitude":
                phases.append(Phase(sgn * codes * (v / L), s))
            elif self.encoding == "pulse_width":
                signed_codes = (sgn * codes).astype(np.int64)
                phases.append(Phase(sgn * codes * (v / L), s, codes=signed_codes))
            else:
                ic = codes.astype(np.int64)
                for k in range(self.bits):
                    bit = (ic >> k) & 1
                    phases.append(Phase(sgn * bit * v, s * 2.0**k / L))
        return phases
