"""Analog-to-digital converters of the column read-out.

An ``ADC`` converts the TIA output voltage of every read-out channel with a uniform quantizer
(Cython kernel ``xbar._kernels._quantize``) of ``2**bits`` codes, one LSB ``(hi - lo) / (2**bits - 1)``
apart, over a range ``[lo, hi]`` (V); values outside clip to the range first.  Two code grids:

* ``zero_code=True`` (default, mid-tread): the grid is placed so that 0 V is an exact code, as in a
  bipolar (two's complement) converter; a zero current then reads exactly 0 -- a pruned or
  zero-initialised weight row, or a zero input, gives 0 and not half an LSB.  The grid is shifted
  by at most half an LSB against ``[lo, hi]``, so one end code may lie up to ``lsb / 2`` outside
  the range; the error stays at most half an LSB everywhere inside it.
* ``zero_code=False`` (mid-rise for a symmetric range): both range ends are exact codes and 0 lies
  half an LSB from the nearest code when the number of codes is even.  The range is fixed, the TIA's full swing, or calibrated per channel
from calibration inputs (min/max or percentiles).  Converter non-idealities: gain and offset error
per converter (drawn once, fabrication stream) and Gaussian noise per conversion (operation stream).
One converter may serve ``columns_per_adc`` channels (column multiplexing): they share its errors
and are converted one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import _quantize  # type: ignore[attr-defined]  # compiled, no stub
from .._random import check_random_state
from .._threads import default_threads
from ..config.declare import declared, param, validate
from .._validation import as_float_array, check_choice, check_scalar
from ..exceptions import ConfigError

__all__ = ["ADC", "quantize", "code_grid", "murmann_energy", "RANGE_MODES"]

RANGE_MODES = ("full", "calibrate", "percentile")

#: Medians of energy per conversion (J) of Nyquist ADCs, Murmann ADC survey (ISSCC + VLSI
#: 1997-2025, designs from 2015 on, ENOB bins of +-0.5), docs/references.rst, ref-adc-energy.
MURMANN_MEDIAN_5B = 2.1e-12
MURMANN_MEDIAN_8B = 9.1e-12


def murmann_energy(bits: int) -> float:
    """Default energy per conversion (J) of a ``bits``-bit ADC from the Murmann survey medians.

    Geometric interpolation between the survey medians at 5 bits (2.1 pJ) and 8 bits (9.1 pJ),
    ``E(b) = 2.1 pJ * (9.1 / 2.1) ** ((b - 5) / 3)``, i.e. a factor ~1.63 per bit, extrapolated
    with the same factor outside 5-8 bits (docs/references.rst, ref-adc-energy; the 6-bit and 7-bit medians,
    3.2 and 3.1 pJ, lie within 30 % of the law).  Low-resolution medians come mostly from GS/s
    designs, so these defaults are pessimistic for slow column ADCs: pass ``energy_per_conversion``.

    Parameters
    ----------
    bits : int
        Resolution of the converter, bits.

    Returns
    -------
    float
        Energy per conversion, J.
    """
    return MURMANN_MEDIAN_5B * (MURMANN_MEDIAN_8B / MURMANN_MEDIAN_5B) ** ((bits - 5) / 3.0)


def _n_threads(batch: int) -> int:
    """Threads of the converter kernels for ``batch`` samples: ``xbar._threads.default_threads()``,
    one per 512 samples."""
    return max(1, min(default_threads(), batch // 512 + 1))


def code_grid(
    lo: np.ndarray, hi: np.ndarray, bits: int, zero_code: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(origin, lsb, c_min)`` per channel of the quantizer grid over ``[lo, hi]`` (V).

    The codes are ``origin + c * lsb`` for integers ``c_min <= c <= c_min + 2**bits - 1``, with
    ``lsb = (hi - lo) / (2**bits - 1)``.  ``zero_code``: ``origin = 0`` and ``c_min`` the code
    nearest ``lo`` (0 V exact); otherwise ``origin = lo``, ``c_min = 0`` (both ends exact).

    Parameters
    ----------
    lo, hi : (K,) array_like
        Range ends per channel, V (``lo < hi``).
    bits : int
        Resolution, ``2**bits`` codes.
    zero_code : bool
        True: 0 V is an exact code (mid-tread); False: ``lo`` and ``hi`` are exact codes.

    Returns
    -------
    origin : (K,) ndarray
        Voltage of code 0, V.
    lsb : (K,) ndarray
        Code spacing, V.
    c_min : (K,) ndarray
        Lowest code per channel (integer values stored as float).
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    lsb = np.ascontiguousarray((hi - lo) / (2**bits - 1))
    if zero_code:
        return np.zeros_like(lo), lsb, np.ascontiguousarray(np.floor(lo / lsb + 0.5))
    return np.ascontiguousarray(lo), lsb, np.zeros_like(lo)


def _sense(x, pre, swing, lo, hi, gain, offset, bits, zero_code, post, out, accumulate):
    """Call the fused TIA + ADC kernel (``bits=None``: ideal converter)."""
    K = x.shape[1]
    if bits is None:
        levels, grid = 0, (np.zeros(K), np.zeros(K), np.zeros(K))
    else:
        levels, grid = 2**bits, code_grid(lo, hi, bits, zero_code)
    return _quantize.sense_quantize(
        x,
        pre,
        swing,
        lo,
        hi,
        gain,
        offset,
        levels,
        *grid,
        post,
        out,
        accumulate,
        _n_threads(x.shape[0]),
    )


def quantize(
    x, lo, hi, bits: int, *, gain=None, offset=None, zero_code: bool = True
) -> tuple[np.ndarray, int, int]:
    """Uniform quantization of ``x`` (B, K) with per-channel ranges ``lo``, ``hi`` (K,).

    Parameters
    ----------
    x : (B, K) array_like
        Analog values (V).
    lo, hi : float or (K,) array_like
        Range ends (V), ``lo < hi``; both are exact output codes.
    bits : int
        Resolution, ``2**bits`` codes (>= 1).
    gain, offset : (K,) array_like, optional
        Converter gain (default 1) and offset (V, default 0) applied before quantizing.
    zero_code : bool
        True (default): 0 V is an exact code (mid-tread); False: ``lo`` and ``hi`` are exact
        codes (see the module docstring and :func:`code_grid`).

    Returns
    -------
    out : (B, K) ndarray
        Reconstructed values ``origin + code * lsb`` (V), see :func:`code_grid`.
    n_low, n_high : int
        How many values clipped at the low / high end.
    """
    x = as_float_array(x, "x")
    if x.ndim != 2:
        raise ConfigError(f"x must be 2-D (B, K), got shape {x.shape}")
    K = x.shape[1]
    check_scalar(bits, "bits", low=1, high=52, integer=True)
    lo = np.ascontiguousarray(np.broadcast_to(as_float_array(lo, "lo"), (K,)))
    hi = np.ascontiguousarray(np.broadcast_to(as_float_array(hi, "hi"), (K,)))
    if np.any(lo >= hi):
        k = int(np.argmax(lo >= hi))
        raise ConfigError(
            f"ADC range must have lo < hi, got lo={lo[k]!r} >= hi={hi[k]!r} (channel {k})"
        )
    gain = (
        np.ones(K)
        if gain is None
        else np.ascontiguousarray(np.broadcast_to(as_float_array(gain, "gain"), (K,)))
    )
    offset = (
        np.zeros(K)
        if offset is None
        else np.ascontiguousarray(np.broadcast_to(as_float_array(offset, "offset"), (K,)))
    )
    out = np.empty_like(x)
    _, n_low, n_high = _sense(
        x, np.ones(K), np.inf, lo, hi, gain, offset, bits, bool(zero_code), np.ones(K), out, False
    )
    return out, int(n_low), int(n_high)


@declared
@dataclass
class ADC:
    """Column ADC configuration.

    The analog layer keeps the per-channel state (ranges, converter errors) and calls
    :meth:`convert`; the class is usable on its own too.
    """

    bits: int | None = param(8, low=1, high=52, optional=True, unit="bit")
    """Resolution in bits (>= 1); ``None`` is an ideal converter (no quantization, no clipping
    beyond the TIA swing, no energy unless ``energy_per_conversion`` is given).  Default 8: ISAAC's
    8-bit column ADC (ISCA 2016, docs/references.rst, ref-adc-energy)."""
    range: str | tuple = "full"
    """``"full"``: the TIA output swing ``[-v_swing, v_swing]``; ``"calibrate"``: per channel
    min..max of the calibration outputs; ``"percentile"``: per channel ``[100-p, p]`` percentiles
    of the calibration outputs (``p = percentile``); or a fixed ``(lo, hi)`` in V with lo < hi.
    Default ``"full"``: no calibration needed (the automatic TIA gain already scales each channel's
    largest current to the swing)."""
    percentile: float = param(99.9, low=50.0, low_open=True, high=100.0, unit="%")
    """Upper percentile for ``range="percentile"`` (50 < p <= 100), % [H: clips 0.1 % of the
    calibration outputs at each end]."""
    offset_std: float = param(0.0, low=0.0, unit="LSB")
    """Standard deviation of the offset error per converter, LSB (drawn once, fabrication stream).
    Default 0: an ideal, trimmed converter."""
    gain_std: float = param(0.0, low=0.0, high=1.0, high_open=True)
    """Standard deviation of the relative gain error per converter, dimensionless (drawn once,
    fabrication stream; 0 <= value < 1).  Default 0: an ideal, trimmed converter."""
    noise_std: float = param(0.0, low=0.0, unit="LSB")
    """Standard deviation of the input-referred noise per conversion, LSB (operation stream).
    Default 0: noiseless."""
    columns_per_adc: int = param(1, low=1)
    """Channels multiplexed onto one converter (share its errors, converted one after another).
    Default 1: one converter per channel (ISAAC shares one ADC among 128 columns: set 128 to model
    that read-out time)."""
    energy_per_conversion: float | None = param(None, kind=float, low=0.0, optional=True, unit="J")
    """Energy per conversion, J.  ``None``: ``murmann_energy(bits)`` (2.1 pJ at 5 b, 9.1 pJ at 8 b,
    Murmann survey medians, docs/references.rst, ref-adc-energy), 0 for an ideal converter."""
    t_conversion: float = param(1e-9, low=0.0, unit="s")
    """Time per conversion, s (ISAAC 8-bit ADC at 1.28 GS/s ~ 1 ns, docs/references.rst, ref-adc-energy);
    with multiplexing a read-out takes ``columns_per_adc * t_conversion``."""
    zero_code: bool = param(True)
    """Code grid: True (default) places 0 V on an exact code (mid-tread, like a two's-complement
    bipolar converter), so a zero channel current reads exactly 0; False makes both range ends
    exact codes instead (then 0 lies half an LSB from a code for a symmetric range).  The
    mid-rise grid keeps the sign of outputs smaller than half an LSB, which on-chip learning at low
    resolution can use: softmax SGD on 500 digits through 4-bit ADCs reached 0.45 test accuracy
    with ``False`` against 0.29 with ``True`` (mean of 4 seeds; 0.71 / 0.69 at 6 bits, equal at 8;
    ``xbar.sweep`` task ``train``, parameter ``adc_zero_code``)."""

    def __post_init__(self):
        if isinstance(self.zero_code, np.bool_):
            self.zero_code = bool(self.zero_code)
        validate(self)
        if isinstance(self.range, str):
            check_choice(self.range, "range", RANGE_MODES)
        else:
            try:
                lo, hi = (float(v) for v in self.range)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"range must be one of {list(RANGE_MODES)} or a (lo, hi) pair "
                    f"in V, got {self.range!r}"
                ) from None
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
                raise ConfigError(f"range must have finite lo < hi (V), got {self.range!r}")
            self.range = (lo, hi)

    @property
    def ideal(self) -> bool:
        """True for an infinite-resolution converter (``bits=None``)."""
        return self.bits is None

    def conversion_energy(self) -> float:
        """Energy per conversion, J (see ``energy_per_conversion``)."""
        if self.energy_per_conversion is not None:
            return float(self.energy_per_conversion)
        return 0.0 if self.bits is None else murmann_energy(self.bits)

    def readout_time(self) -> float:
        """Time to convert every channel once, s (``columns_per_adc * t_conversion``)."""
        return self.columns_per_adc * self.t_conversion

    def converter_errors(self, n_channels: int, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw gain (relative, around 1) and offset (LSB) per channel; shared by multiplexed ones.

        Channel k uses converter ``k // columns_per_adc``.

        Parameters
        ----------
        n_channels : int
            Number of read-out channels.
        random_state : int, numpy.random.Generator or None
            Seed or generator of the draw (the fabrication stream).

        Returns
        -------
        gain : (n_channels,) ndarray
            Relative gain per channel, dimensionless (1 = ideal).
        offset : (n_channels,) ndarray
            Offset per channel, LSB.
        """
        n_conv = -(-n_channels // self.columns_per_adc)
        rng = check_random_state(random_state)
        gain = (
            1.0 + self.gain_std * rng.standard_normal(n_conv) if self.gain_std else np.ones(n_conv)
        )
        off = self.offset_std * rng.standard_normal(n_conv) if self.offset_std else np.zeros(n_conv)
        conv = np.arange(n_channels) // self.columns_per_adc
        return gain[conv], off[conv]

    def ranges_from(self, samples: np.ndarray, v_swing: float) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel ranges (V) for this ADC's ``range`` mode from calibration outputs (S, K).

        Parameters
        ----------
        samples : (S, K) ndarray
            Calibration outputs (TIA output voltages) per channel, V; unused for the ``"full"``
            and fixed ``(lo, hi)`` modes except for their number of channels.
        v_swing : float
            TIA output swing, V: the ranges are clipped to ``[-v_swing, v_swing]``.

        Returns
        -------
        lo, hi : (K,) ndarray
            Range ends per channel, V (a channel whose outputs never moved gets a symmetric
            range of ``2e-9 * v_swing`` around their value).
        """
        K = samples.shape[1]
        if self.range == "full":
            lo, hi = np.full(K, -v_swing), np.full(K, v_swing)
        elif isinstance(self.range, tuple):
            lo, hi = np.full(K, self.range[0]), np.full(K, self.range[1])
        elif self.range == "calibrate":
            lo, hi = samples.min(axis=0), samples.max(axis=0)
        else:
            p = self.percentile
            lo, hi = np.percentile(samples, [100.0 - p, p], axis=0)
        lo, hi = np.maximum(lo, -v_swing), np.minimum(hi, v_swing)
        # A channel that never moved (e.g. all-zero weights) gets a tiny symmetric range.
        tiny = hi - lo <= 1e-9 * v_swing
        mid = 0.5 * (lo + hi)
        lo = np.where(tiny, mid - 1e-9 * v_swing, lo)
        hi = np.where(tiny, mid + 1e-9 * v_swing, hi)
        return np.ascontiguousarray(lo), np.ascontiguousarray(hi)

    def convert(
        self,
        v: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        gain: np.ndarray | None = None,
        offset_lsb: np.ndarray | None = None,
        random_state=None,
    ) -> tuple[np.ndarray, int]:
        """Convert channel voltages ``v`` (B, K) with ranges ``lo``, ``hi`` (K,) V.

        An ideal converter (``bits=None``) only clips to ``[lo, hi]``.

        Parameters
        ----------
        v : (B, K) array_like
            Channel (TIA output) voltages, V.
        lo, hi : (K,) ndarray
            Range ends per channel, V.
        gain : (K,) ndarray, optional
            Relative gain error per channel (dimensionless, 1 = ideal; default 1).
        offset_lsb : (K,) ndarray, optional
            Offset error per channel, LSB (default 0).
        random_state : int, numpy.random.Generator or None
            Seed or generator of the conversion noise (used when ``noise_std > 0``).

        Returns
        -------
        out : (B, K) ndarray
            The digital outputs expressed in volts.
        n_clipped : int
            How many values clipped at either range end.
        """
        v = np.ascontiguousarray(v, dtype=np.float64)
        if self.bits is None:
            out = np.clip(v, lo, hi)
            return out, int(np.count_nonzero(out != v))
        lsb = (hi - lo) / (2**self.bits - 1)
        if self.noise_std:
            rng = check_random_state(random_state)
            v = v + self.noise_std * lsb * rng.standard_normal(v.shape)
        offset = None if offset_lsb is None else np.ascontiguousarray(offset_lsb * lsb)
        out, n_low, n_high = quantize(
            v, lo, hi, self.bits, gain=gain, offset=offset, zero_code=self.zero_code
        )
        return out, n_low + n_high

    def read_out(
        self,
        current: np.ndarray,
        tia_gains: np.ndarray,
        v_swing: float,
        lo: np.ndarray,
        hi: np.ndarray,
        gain: np.ndarray,
        offset_lsb: np.ndarray,
        random_state=None,
        scale: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, int, int]:
        """TIA (gain ``tia_gains`` ohm, saturation ``±v_swing``) then this ADC, for channel
        currents (B, K) A, in one pass of the Cython kernel.

        Parameters
        ----------
        current : (B, K) array_like
            Channel currents, A.
        tia_gains : (K,) ndarray
            Trans-impedance gain per channel, ohm (0: a channel without current, read as 0).
        v_swing : float
            TIA output swing, V: outputs saturate at ``±v_swing``.
        lo, hi : (K,) ndarray
            ADC range ends per channel, V.
        gain : (K,) ndarray
            Relative ADC gain error per channel, dimensionless (1 = ideal).
        offset_lsb : (K,) ndarray
            ADC offset error per channel, LSB.
        random_state : int, numpy.random.Generator or None
            Seed or generator of the conversion noise (used when ``noise_std > 0``).
        scale : (K,) ndarray, optional
            Factor per channel applied to the outputs (e.g. A -> weight units).
        out : (B, K) ndarray, optional
            Accumulator (last axis contiguous): the results are added to it in place.

        Returns
        -------
        out : (B, K) ndarray
            The digital outputs referred back to the TIA input (A, i.e. divided by the TIA gain;
            0 for a channel of gain 0), times ``scale`` if given; the ``out`` given, if any.
        n_saturated : int
            Number of saturated TIA outputs.
        n_clipped : int
            Number of clipped conversions.
        """
        current = np.ascontiguousarray(current, dtype=np.float64)
        B, K = current.shape
        lsb = 0.0 if self.bits is None else (hi - lo) / (2**self.bits - 1)
        offset = np.ascontiguousarray(offset_lsb * lsb, dtype=np.float64)
        # A channel with gain 0 carries no current (TIA.channel_gains): its read-out is 0.
        live = tia_gains > 0
        post = np.where(live, 1.0 / np.where(live, tia_gains, 1.0), 0.0)
        post = np.ascontiguousarray(post if scale is None else scale * post, dtype=np.float64)
        pre = np.ascontiguousarray(tia_gains, dtype=np.float64)
        n_sat = 0
        if self.noise_std and self.bits is not None:
            v = current * pre
            n_sat = int(np.count_nonzero(np.abs(v) > v_swing))
            v = np.clip(v, -v_swing, v_swing)
            v += self.noise_std * lsb * check_random_state(random_state).standard_normal(v.shape)
            current, pre, swing = v, np.ones(K), np.inf
        else:
            swing = float(v_swing)
        accumulate = out is not None
        if out is None:
            out = np.empty((B, K))
        s, lo_n, hi_n = _sense(
            current,
            pre,
            swing,
            lo,
            hi,
            np.ascontiguousarray(gain, dtype=np.float64),
            offset,
            self.bits,
            self.zero_code,
            post,
            out,
            accumulate,
        )
        return out, n_sat + int(s), int(lo_n + hi_n)
