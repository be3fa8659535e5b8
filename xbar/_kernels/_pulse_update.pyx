# cython: language_level=3
"""Per-device pulse update of analog RRAM (soft-bounds law with exponential state dependence).

Python (``xbar.devices.hfox``) validates and gathers the pulsed devices; this kernel trusts its
input.  For device k with window [gmin, gmax], W = gmax - gmin, x = (G - gmin) / W:

    SET   (polarity +1):  mu = +alpha_set[k]   * W * exp(kappa_s * x + kd_s * d)       * (1 - x)^gamma_s
                                   * (1 - c_s * exp(-d / dw_s))
    RESET (polarity -1):  mu = -alpha_reset[k] * W * exp(kappa_r * (1 - x) + kd_r * d) * x^gamma_r
                                   * (1 - c_r * exp(-d / dw_r))
    sigma = sqrt(sigma_abs^2 + (sigma_win * W)^2 + (sigma_rel * mu)^2)   (S per reference pulse)

with d = |G - grev[k]| / W the displacement since the device's last polarity reversal (the
memory of the pulse history; ``grev`` is kept by the caller).

The pulse strength s (number of reference pulses, >= 0) is computed in Python.  The pulse is
integrated in n = clamp(ceil(s * alpha * exp(|kappa| + |kd|) / dx_max), 1, max_sub) Euler-Maruyama
sub-steps of h = s / n reference pulses:  G += h * mu(G) + sqrt(h) * sigma(G) * z,  clipped to
[gmin, gcap] after each sub-step (gcap = min(gmax, compliance cap)); a SET on a device already at
or above its compliance cap does nothing.

Random numbers: a counter-based stream per device.  ``seed`` (one uint64 drawn from the caller's
numpy Generator) and the device's global index ``idx[k]`` seed a SplitMix64 sequence; normals come
from the Box-Muller transform.  A device's noise therefore depends only on (seed, idx[k]), not on
which other devices are pulsed or on the thread schedule.

``prm`` layout (float64): [kappa_s, gamma_s, sigma_rel_s, sigma_abs_s,
                           kappa_r, gamma_r, sigma_rel_r, sigma_abs_r, dx_max, max_sub,
                           kd_s, c_s, dw_s, kd_r, c_r, dw_r, sigma_win_s, sigma_win_r].
"""
from cython.parallel import prange
from libc.math cimport exp, pow, sqrt, log, cos, ceil, fabs
from libc.stdint cimport uint64_t, int64_t

cdef double _TWO_PI = 6.283185307179586


cdef inline uint64_t _splitmix(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline double _uniform(uint64_t* state) noexcept nogil:
    # (0, 1]: 53 random bits
    return ((_splitmix(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0)


cdef inline double _normal(uint64_t* state) noexcept nogil:
    cdef double u1 = _uniform(state)
    cdef double u2 = _uniform(state)
    return sqrt(-2.0 * log(u1)) * cos(_TWO_PI * u2)


cdef inline double _mean_step(double x, double d, double alpha, double w, int pol, double kappa,
                              double gamma, double kd, double c, double dw) noexcept nogil:
    cdef double warm = 1.0
    if x < 0.0:
        x = 0.0
    elif x > 1.0:
        x = 1.0
    if c > 0.0:
        warm = 1.0 - c * exp(-d / dw)
    if pol > 0:
        return alpha * w * exp(kappa * x + kd * d) * pow(1.0 - x, gamma) * warm
    return -alpha * w * exp(kappa * (1.0 - x) + kd * d) * pow(x, gamma) * warm


def pulse_update(double[::1] G, const double[::1] gmin, const double[::1] gmax,
                 const double[::1] gcap, const double[::1] grev,
                 const double[::1] strength, const signed char[::1] pol,
                 const double[::1] alpha, const int64_t[::1] idx, const double[::1] prm,
                 uint64_t seed, int n_threads=1):
    """Update ``G`` (S) in place for one pulse per device; see the module docstring."""
    cdef Py_ssize_t n = G.shape[0], k
    cdef int j, nsub, p
    cdef double w, mu, sig, h, g, lo, hi, s, kappa, gamma, srel, sabs, kd, c, dw, d, swin
    cdef double dx_max = prm[8]
    cdef int max_sub = <int>prm[9]
    cdef uint64_t state
    for k in prange(n, nogil=True, num_threads=n_threads, schedule="static"):
        s = strength[k]
        p = pol[k]
        if s <= 0.0 or p == 0:
            continue
        if p > 0:
            kappa = prm[0]
            gamma = prm[1]
            srel = prm[2]
            sabs = prm[3]
            kd = prm[10]
            c = prm[11]
            dw = prm[12]
            swin = prm[16]
        else:
            kappa = prm[4]
            gamma = prm[5]
            srel = prm[6]
            sabs = prm[7]
            kd = prm[13]
            c = prm[14]
            dw = prm[15]
            swin = prm[17]
        w = gmax[k] - gmin[k]
        sabs = sqrt(sabs * sabs + swin * swin * w * w)
        g = G[k]
        lo = gmin[k]
        hi = gmax[k]
        if p > 0:
            if gcap[k] <= g:
                continue  # compliance already reached: the filament does not grow
            if gcap[k] < hi:
                hi = gcap[k]
        h = ceil(s * alpha[k] * exp(fabs(kappa) + fabs(kd)) / dx_max)
        if h < 1.0:
            nsub = 1
        elif h > max_sub:
            nsub = max_sub
        else:
            nsub = <int>h
        h = s / nsub
        state = seed ^ (<uint64_t>idx[k] * <uint64_t>0xD1B54A32D192ED03ULL)
        for j in range(nsub):
            d = fabs(g - grev[k]) / w
            mu = _mean_step((g - gmin[k]) / w, d, alpha[k], w, p, kappa, gamma, kd, c, dw)
            sig = sqrt(sabs * sabs + srel * srel * mu * mu)
            g = g + h * mu + sqrt(h) * sig * _normal(&state)
            if g < lo:
                g = lo
            elif g > hi:
                g = hi
        G[k] = g
