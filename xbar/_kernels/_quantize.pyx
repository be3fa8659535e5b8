"""Uniform mid-tread quantizer of the ADC, per channel (column) ranges.

For every sample b and channel k the converter sees ``v = x[b, k] * gain[k] + offset[k]`` and
returns the reconstruction ``lo[k] + code * lsb[k]`` with ``lsb[k] = (hi[k] - lo[k]) / (levels - 1)``
and ``code = clip(floor((v - lo[k]) / lsb[k] + 0.5), 0, levels - 1)``.  Both range ends are exact
codes, so the error is at most ``lsb / 2`` inside ``[lo, hi]``; outside, the output clips to the end.
Python validates; nothing here re-checks its input.
"""
from cython.parallel cimport prange
from libc.math cimport floor


def quantize(const double[:, ::1] x, const double[::1] lo, const double[::1] hi,
             const double[::1] gain, const double[::1] offset, long levels,
             double[:, ::1] out, int n_threads):
    """Quantize ``x`` (B, K) into ``out`` (B, K); return (number below lo, number above hi)."""
    cdef Py_ssize_t B = x.shape[0], K = x.shape[1], b, k
    cdef double v, lsb, code, top = <double>(levels - 1)
    cdef long n_low = 0, n_high = 0
    for b in prange(B, nogil=True, num_threads=n_threads, schedule="static"):
        for k in range(K):
            v = x[b, k] * gain[k] + offset[k]
            lsb = (hi[k] - lo[k]) / top
            if v < lo[k]:
                n_low += 1
                out[b, k] = lo[k]
            elif v > hi[k]:
                n_high += 1
                out[b, k] = hi[k]
            else:
                code = floor((v - lo[k]) / lsb + 0.5)
                if code > top:
                    code = top
                out[b, k] = lo[k] + code * lsb
    return n_low, n_high
