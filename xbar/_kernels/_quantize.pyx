"""Quantizers of the periphery: DAC input codes and the TIA -> ADC read-out chain.

``encode_amplitude``: ``out = sign(x) * round(min(|x| / x_max, 1) * L) / L * v_read`` (``L = 0``:
no quantization, only clipping at ``x_max``).

``sense_quantize``: for every sample b and channel k the TIA gives
``v = clip(x[b, k] * pre_gain[k], -swing, swing)``; the ADC sees ``w = v * gain[k] + offset[k]``,
clipped to ``[lo[k], hi[k]]``, and returns the reconstruction ``origin[k] + code * lsb[k]`` with
``code = clip(floor((w - origin[k]) / lsb[k] + 0.5), c_min[k], c_min[k] + levels - 1)``, multiplied
by ``post_scale[k]`` and written to (or, with ``accumulate``, added to) ``out``.  The caller chooses
the code grid: ``origin = lo``, ``c_min = 0`` makes both range ends exact codes; ``origin = 0``
makes 0 an exact code (mid-tread).  ``levels = 0`` is an ideal converter (only the clipping to
``[lo, hi]``).  Python validates; nothing here re-checks its input.
"""
from cython.parallel cimport prange
from libc.math cimport floor, fabs

import numpy as np


def encode_amplitude(const double[:, ::1] x, double x_max, long L, double v_read,
                     double[:, ::1] out, int n_threads):
    """Signed, clipped and (``L > 0``) quantized driver voltages of inputs ``x`` into ``out``."""
    cdef Py_ssize_t B = x.shape[0], M = x.shape[1], b, i
    cdef double u, a, s
    for b in prange(B, nogil=True, num_threads=n_threads, schedule="static"):
        for i in range(M):
            u = x[b, i] / x_max
            a = fabs(u)
            if a > 1.0:
                a = 1.0
            if L > 0:
                a = floor(a * L + 0.5) / L
            s = 1.0 if u > 0 else (-1.0 if u < 0 else 0.0)
            out[b, i] = s * a * v_read
    return None


def sense_quantize(const double[:, ::1] x, const double[::1] pre_gain, double swing,
                   const double[::1] lo, const double[::1] hi, const double[::1] gain,
                   const double[::1] offset, long levels, const double[::1] origin,
                   const double[::1] lsb, const double[::1] c_min,
                   const double[::1] post_scale, double[:, :] out, bint accumulate,
                   int n_threads):
    """TIA gain and saturation, then ADC, into ``out`` (added to it when ``accumulate``);
    returns (n_saturated, n_low, n_high)."""
    cdef Py_ssize_t B = x.shape[0], K = x.shape[1], b, k
    cdef double v, w, code, top = <double>(levels - 1)
    cdef long n_sat = 0, n_low = 0, n_high = 0
    cdef double[::1] inv = np.empty(K)
    for k in range(K):
        inv[k] = 1.0 / lsb[k] if levels > 0 else 0.0
    for b in prange(B, nogil=True, num_threads=n_threads, schedule="static"):
        for k in range(K):
            v = x[b, k] * pre_gain[k]
            if v > swing:
                v = swing
                n_sat += 1
            elif v < -swing:
                v = -swing
                n_sat += 1
            w = v * gain[k] + offset[k]
            if w < lo[k]:
                n_low += 1
                w = lo[k]
            elif w > hi[k]:
                n_high += 1
                w = hi[k]
            if levels > 0:
                code = floor((w - origin[k]) * inv[k] + 0.5)
                if code < c_min[k]:
                    code = c_min[k]
                elif code > c_min[k] + top:
                    code = c_min[k] + top
                w = origin[k] + code * lsb[k]
            if accumulate:
                out[b, k] += w * post_scale[k]
            else:
                out[b, k] = w * post_scale[k]
    return n_sat, n_low, n_high
