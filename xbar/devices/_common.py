"""Shared pieces of the device models: parameter checks, state-dependent tables, relaxation in
log time, 1/f read noise, and the array base class with read / age / energy."""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._random import check_random_state
from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError
from ..iv import IVModel


# ----------------------------------------------------------------------------- validation
def validate_config(cfg, constraints: dict) -> None:
    """Check every dataclass field named in ``constraints``: name -> ``xbar.config.Constraint``.

    Tuples of knots are checked elementwise; ``iv`` must be an :class:`xbar.iv.IVModel`.
    """
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.name in constraints:
            c = constraints[f.name]
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):  # a table
                for j, row in enumerate(value):
                    for k, v in enumerate(row):
                        c.check(v, f"{type(cfg).__name__}.{f.name}[{j}][{k}]")
            elif isinstance(value, tuple):
                for k, v in enumerate(value):
                    c.check(v, f"{type(cfg).__name__}.{f.name}[{k}]")
            else:
                c.check(value, f"{type(cfg).__name__}.{f.name}")
    if hasattr(cfg, "iv") and not isinstance(cfg.iv, IVModel):
        raise ConfigError(
            f"{type(cfg).__name__}.iv must be an xbar.iv model, got {type(cfg.iv).__name__}"
        )
    if hasattr(cfg, "g_min") and not cfg.g_min < cfg.g_max:
        raise ConfigError(
            f"{type(cfg).__name__}: g_min must be < g_max (S), got g_min = "
            f"{cfg.g_min!r}, g_max = {cfg.g_max!r}"
        )
    for knots, vals in (
        ("drift_x", ("drift_rate", "drift_sigma")),
        ("read_noise_x", ("read_noise_rel",)),
    ):
        if not hasattr(cfg, knots):
            continue
        x = np.asarray(getattr(cfg, knots), dtype=float)
        if x.size < 1 or np.any(np.diff(x) <= 0):
            raise ConfigError(
                f"{type(cfg).__name__}.{knots} must be a non-empty strictly "
                f"increasing tuple of normalised states, got {getattr(cfg, knots)}"
            )
        for v in vals:
            if len(getattr(cfg, v)) != x.size:
                raise ConfigError(
                    f"{type(cfg).__name__}.{v} must have one value per "
                    f"{knots} knot ({x.size}), got {len(getattr(cfg, v))}"
                )
    if hasattr(cfg, "drift_L"):
        _check_drift_tables(cfg)


def _check_drift_tables(cfg) -> None:
    """``drift_L`` increasing; ``drift_mean``/``drift_std`` one row of len(drift_L) per
    ``drift_x`` knot; ``drift_std`` non-decreasing in L."""
    name = type(cfg).__name__
    n_l = len(cfg.drift_L)
    if n_l == 0:
        if cfg.drift_mean or cfg.drift_std:
            raise ConfigError(f"{name}.drift_mean/drift_std need drift_L knots, got drift_L = ()")
        return
    if np.any(np.diff(np.asarray(cfg.drift_L, float)) <= 0):
        raise ConfigError(f"{name}.drift_L must be strictly increasing, got {cfg.drift_L}")
    for v in ("drift_mean", "drift_std"):
        tab = getattr(cfg, v)
        if len(tab) != len(cfg.drift_x) or any(
            not isinstance(r, tuple) or len(r) != n_l for r in tab
        ):
            raise ConfigError(
                f"{name}.{v} must be {len(cfg.drift_x)} tuples (one per drift_x knot) of "
                f"{n_l} values (one per drift_L knot), got {tab!r:.200}"
            )
    if np.any(np.diff(np.asarray(cfg.drift_std, float), axis=1) < 0):
        raise ConfigError(f"{name}.drift_std must be non-decreasing along drift_L")


def drift_moments(model, xp: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the relaxation shift since programming, relative to the window.

    Parameters
    ----------
    model : RelaxationNoiseConfig
        The law: ``drift_x`` knots in the programmed state, ``drift_rate``/``drift_sigma``
        (linear in the clock) and, when ``drift_L`` is set, the tables ``drift_mean`` and
        ``drift_std`` at the clock knots (PCHIP in ``L``, 0 at ``L = 0``; beyond the last knot
        continued with slopes ``drift_rate`` and ``drift_sigma**2``).  Linear between
        ``drift_x`` knots, constant beyond the end knots.
    xp : (n,) ndarray
        Normalised programmed state of each device (dimensionless).
    L : (n,) ndarray
        Clock ``log10(1 + t/drift_t0)`` of each device (decades, >= 0).

    Returns
    -------
    mean, var : (n,) ndarray
        In units of the window (W and W**2).
    """
    rate = interp_knots(xp, model.drift_x, model.drift_rate)
    s2 = interp_knots(xp, model.drift_x, model.drift_sigma) ** 2
    if not model.drift_L:
        return rate * L, s2 * L
    from scipy.interpolate import PchipInterpolator

    lk = np.concatenate([[0.0], np.asarray(model.drift_L, float)])
    z = np.zeros((len(model.drift_x), 1))
    mt = np.hstack([z, np.asarray(model.drift_mean, float)])
    vt = np.hstack([z, np.asarray(model.drift_std, float) ** 2])
    l_end = lk[-1]
    u, inv = np.unique(np.minimum(L, l_end), return_inverse=True)
    xk = np.asarray(model.drift_x, float)
    j = np.clip(np.searchsorted(xk, xp) - 1, 0, max(xk.size - 2, 0))
    if xk.size > 1:
        w = np.clip((xp - xk[j]) / (xk[j + 1] - xk[j]), 0.0, 1.0)
    else:
        w = np.zeros_like(xp)
    j1 = np.minimum(j + 1, xk.size - 1)
    out = []
    for tab in (mt, vt):
        f = PchipInterpolator(lk, tab, axis=1)(u)  # (n_x, n_unique)
        out.append((1.0 - w) * f[j, inv] + w * f[j1, inv])
    beyond = np.maximum(L - l_end, 0.0)
    return out[0] + rate * beyond, np.maximum(out[1], 0.0) + s2 * beyond


def interp_knots(x: np.ndarray, knots, values) -> np.ndarray:
    """Piecewise-linear table in the normalised state ``x`` (constant beyond the end knots)."""
    return np.interp(x, np.asarray(knots, float), np.asarray(values, float))


def log_time(t, t0: float) -> np.ndarray:
    """Relaxation clock ``L(t) = log10(1 + t / t0)`` (decades), ``t`` in s."""
    return np.log10(1.0 + np.asarray(t, dtype=float) / t0)


def one_over_f(n: int, size: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """``size`` independent series of ``n`` samples with PSD ~ 1/f**exponent, unit variance.

    White Gaussian noise is shaped in the frequency domain by ``f**(-exponent/2)`` (DC removed)
    and scaled by the *expected* standard deviation of the shaped process, so the sample standard
    deviation of one record fluctuates as a real 1/f record's would.  Returns shape (n, size).
    """
    f = np.fft.rfftfreq(n)
    h = np.zeros_like(f)
    h[1:] = f[1:] ** (-exponent / 2.0)
    c = np.full(f.shape, 2.0)
    c[0] = 1.0
    if n % 2 == 0:
        c[-1] = 1.0
    expected_var = np.sum(c * h * h) / n**2 * n  # E|rfft(white)|^2 = n
    spec = np.fft.rfft(rng.standard_normal((n, size)), axis=0) * h[:, None]
    return np.fft.irfft(spec, n=n, axis=0) / np.sqrt(expected_var)


def broadcast_input(value, name: str, shape: tuple, *, allow_nan: bool = False) -> np.ndarray:
    """``value`` as a flat float64 array broadcast to the device-array ``shape``."""
    arr = as_float_array(value, name, allow_nan=allow_nan)
    try:
        return np.ascontiguousarray(np.broadcast_to(arr, shape)).reshape(-1)
    except ValueError:
        raise ConfigError(
            f"{name} must broadcast to the device-array shape {shape}, got {arr.shape}"
        ) from None


#: Largest cell voltage (V) a pulse may have: filamentary RRAM switches at ~0.5-3 V and breaks
#: down at a few V; |V| above this is a unit slip (mV given as V) or a wrong circuit solve.
V_PULSE_MAX = 20.0
#: Largest pulse width (s) accepted: programming pulses are ns to ms; longer is a unit slip.
T_PULSE_MAX = 1.0


def _plain_number(x) -> float | None:
    """``x`` as a float if it is a plain real number (not a bool, array or string), else None."""
    if isinstance(x, (float, int, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_)):
        try:
            return float(x)
        except OverflowError:
            return None
    return None


def check_pulse(amplitude, width, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Pulse amplitudes (V) and widths (s), flat, broadcast to ``shape`` and checked (read only).

    Refuses non-finite values, negative widths, ``|amplitude| > V_PULSE_MAX`` (20 V) and
    ``width > T_PULSE_MAX`` (1 s), naming the unit (those are unit slips, not pulses).
    """
    n = math.prod(shape)
    a, w = _plain_number(amplitude), _plain_number(width)
    if a is not None and w is not None and abs(a) <= V_PULSE_MAX and 0 <= w <= T_PULSE_MAX:
        # two plain numbers within range (NaN fails the comparisons): broadcast them
        if n <= 64:  # a few devices: plain arrays (cheaper than broadcast views)
            return np.full(n, a), np.full(n, w)
        return np.broadcast_to(np.array([a]), (n,)), np.broadcast_to(np.array([w]), (n,))
    if np.ndim(amplitude) == 0 and np.ndim(width) == 0:
        # one pulse for the whole array: check the two numbers, then broadcast (no O(n) checks)
        v0, t0 = check_pulse(np.array([amplitude]), np.array([width]), (1,))
        return np.broadcast_to(v0, (n,)), np.broadcast_to(t0, (n,))  # read-only views
    v = broadcast_input(amplitude, "amplitude", shape)
    t = broadcast_input(width, "width", shape)
    if np.any(t < 0):
        raise ConfigError(f"width must be >= 0 s, got {t[t < 0][0]!r}")
    if np.any(t > T_PULSE_MAX):
        raise ConfigError(
            f"width must be <= {T_PULSE_MAX:g} s (a programming pulse; widths are "
            f"in seconds, e.g. 100e-9 for 100 ns), got {t[t > T_PULSE_MAX][0]!r}"
        )
    big = np.abs(v) > V_PULSE_MAX
    if np.any(big):
        raise ConfigError(
            f"amplitude must be within +-{V_PULSE_MAX:g} V (the cell voltage in "
            f"volts; RRAM switches near 1 V), got {v[big][0]!r}"
        )
    return v, t


def as_mask(mask, shape: tuple) -> np.ndarray:
    """Flat boolean mask (all True for ``None``)."""
    n = int(np.prod(shape))
    if mask is None:
        return np.ones(n, dtype=bool)
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ConfigError(f"mask must be a boolean array, got dtype {m.dtype}")
    try:
        return np.ascontiguousarray(np.broadcast_to(m, shape)).reshape(-1)
    except ValueError:
        raise ConfigError(
            f"mask must broadcast to the device-array shape {shape}, got {m.shape}"
        ) from None


def lognormal_factor(rng, sigma: float, n: int) -> np.ndarray:
    """Median-1 log-normal factors ``exp(sigma * z)`` (1 when ``sigma == 0``)."""
    if sigma == 0:
        return np.ones(n)
    return np.exp(sigma * rng.standard_normal(n))


# -------------------------------------------------------------------------- array base
class _DeviceArrayBase:
    """State and per-device parameters of an array of devices (flattened internally).

    Subclasses provide ``apply_pulses``.  Shared here: reads with state-dependent relative noise
    (white single reads, 1/f series), relaxation in log time since programming, and the energy of
    a pulse from the device I-V.
    """

    def __init__(self, model, shape: tuple, g_min, g_max, G, fab_rng, op_rng):
        self.model = model
        self.shape = tuple(shape)
        self.size = int(np.prod(self.shape))
        self._g_min = g_min
        self._g_max = g_max
        self._G = np.ascontiguousarray(G, dtype=np.float64)
        # relaxation bookkeeping: state at the last programming event and time since then (s)
        self._g_prog = self._G.copy()
        self._t_since = np.zeros(self.size)
        self._shift = np.zeros(self.size)  # unclipped relaxation shift since programming (S)
        self._fab_rng = fab_rng
        self._op_rng = op_rng

    # ------------------------------------------------------------------ state access
    def _rng(self, random_state) -> np.random.Generator:
        """The operation stream: ``random_state`` when given, else the array's own stream
        (spawned from the ``random_state`` given to ``sample``)."""
        return self._op_rng if random_state is None else check_random_state(random_state)

    @property
    def G(self) -> np.ndarray:
        """Present conductance (S), shape ``self.shape`` (read-only view)."""
        v = self._G.reshape(self.shape).view()
        v.flags.writeable = False
        return v

    @property
    def g_min(self) -> np.ndarray:
        """Per-device lower window edge (S) (device-to-device varied)."""
        return self._g_min.reshape(self.shape).copy()

    @property
    def g_max(self) -> np.ndarray:
        """Per-device upper window edge (S)."""
        return self._g_max.reshape(self.shape).copy()

    @property
    def t_since_programming(self) -> np.ndarray:
        """Time (s) since each device was last pulsed (advanced by :meth:`age`)."""
        return self._t_since.reshape(self.shape).copy()

    def set_state(self, G) -> None:
        """Set the conductance (S) directly, e.g. to a programmed pattern; clipped to the window.

        Counts as a programming event for relaxation (the clock restarts at 0 s).
        """
        g = broadcast_input(G, "G", self.shape)
        self._G[:] = np.clip(g, self._g_min, self._g_max)
        self._g_prog[:] = self._G
        self._t_since[:] = 0.0
        self._shift[:] = 0.0

    def _programmed(self, idx) -> None:
        self._g_prog[idx] = self._G[idx]
        self._t_since[idx] = 0.0
        self._shift[idx] = 0.0

    def _x(self, G) -> np.ndarray:
        return (G - self._g_min) / (self._g_max - self._g_min)

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1

    def __repr__(self) -> str:
        g = self._G
        return (
            f"{type(self).__name__}(shape={self.shape}, model={type(self.model).__name__}, "
            f"G in [{g.min():.4g}, {g.max():.4g}] S)"
        )

    # ------------------------------------------------------------------ reads
    def read_noise_rel(self, G=None) -> np.ndarray:
        """Relative read-noise std of each device (dimensionless), shaped like the array.

        The model's state-dependent table (``read_noise_x``, ``read_noise_rel``) at the
        normalised state of ``G`` (S, one value per device; default: the devices' present
        conductances).
        """
        if G is None:
            G = self._G
        else:
            G = np.asarray(G, dtype=float)
            if G.size != self.size:
                raise ConfigError(
                    f"G must have one conductance per device ({self.size}), got shape {G.shape}"
                )
            G = G.reshape(-1)
        m = self.model
        return interp_knots(self._x(G), m.read_noise_x, m.read_noise_rel).reshape(self.shape)

    def _read_sigma(self) -> np.ndarray:
        return self.read_noise_rel().reshape(-1) * self._G

    def read(self, random_state=None) -> np.ndarray:
        """One noisy conductance read (S) per device.

        ``G_read = G * (1 + sigma_rel(x) * z)``, z ~ N(0, 1) independent per read, with
        ``sigma_rel`` the model's state-dependent relative read noise (``read_noise_x``,
        ``read_noise_rel``; the std of a record of reads, see :meth:`read_series` for the 1/f
        correlation in time).
        """
        rng = self._rng(random_state)
        return (self._G + self._read_sigma() * rng.standard_normal(self.size)).reshape(self.shape)

    def read_series(self, n_samples: int, fs: float, random_state=None) -> np.ndarray:
        """A time series of ``n_samples`` reads at ``fs`` Hz per device (S).

        Noise with PSD ~ 1/f**``read_noise_exponent`` and expected std ``sigma_rel(x) * G``
        (the model's relative read noise; its definition follows the measured records it was
        fitted to, ``read_noise_record`` seconds long).  Returns shape ``(n_samples, *shape)``.
        """
        n = check_scalar(n_samples, "n_samples", low=2, integer=True)
        check_scalar(fs, "fs", low=0.0, low_open=True, unit="Hz")
        rng = self._rng(random_state)
        noise = one_over_f(n, self.size, self.model.read_noise_exponent, rng)
        return (self._G + self._read_sigma() * noise).reshape((n,) + self.shape)

    def read_current(self, v_read: float = 0.2, random_state=None) -> np.ndarray:
        """Noisy read current (A) at cell voltage ``v_read`` (V) through the model's I-V."""
        check_scalar(v_read, "v_read", unit="V")
        g = self.read(random_state).reshape(-1)
        return self.model.iv.current(v_read, g).reshape(self.shape)

    # ------------------------------------------------------------------ relaxation
    def age(self, t_seconds, random_state=None) -> np.ndarray:
        """Let ``t_seconds`` (s; scalar or per device) pass: conductance relaxation in log time.

        The relaxation is a Gaussian walk with independent increments in the clock
        ``L(t) = log10(1 + t / drift_t0)`` since the last programming pulse: the unclipped
        shift ``S`` since programming has mean ``W * mu(x_p, L)`` and variance
        ``W**2 * v(x_p, L)`` (:func:`drift_moments`: linear in ``L`` with ``drift_rate`` and
        ``drift_sigma**2``, or the measured tables ``drift_mean``/``drift_std`` at the clock
        knots ``drift_L``), with ``W`` the device's window and ``x_p`` its normalised state when
        last programmed; over ``[t1, t2]``, ``S`` moves by ``W * (mu(L2) - mu(L1))`` plus
        Gaussian noise of variance ``W**2 * (v(L2) - v(L1))``.  ``G = clip(G_prog + S)`` to
        the window, so ageing in one call or in several gives the same distribution.

        Returns the conductance after ageing (S).
        """
        t = broadcast_input(t_seconds, "t_seconds", self.shape)
        if np.any(t < 0):
            raise ConfigError(f"t_seconds must be >= 0 s, got {t[t < 0][0]!r}")
        m = self.model
        rng = self._rng(random_state)
        t_new = self._t_since + t
        w = self._g_max - self._g_min
        xp = np.clip(self._x(self._g_prog), 0.0, 1.0)
        m1, v1 = drift_moments(m, xp, log_time(self._t_since, m.drift_t0))
        m2, v2 = drift_moments(m, xp, log_time(t_new, m.drift_t0))
        dv = np.maximum(v2 - v1, 0.0)
        self._shift += w * (m2 - m1 + np.sqrt(dv) * rng.standard_normal(self.size))
        self._G[:] = np.clip(self._g_prog + self._shift, self._g_min, self._g_max)
        self._t_since[:] = t_new
        return self.G

    # ------------------------------------------------------------------ energy
    def pulse_energy(self, v_cell, width, compliance=None) -> np.ndarray:
        """Energy (J) of a pulse per device: ``|v_cell * I(v_cell, G)| * width``.

        ``I`` comes from the model's I-V at the present state (held fixed during the pulse, as in
        the circuit solve) and is limited to ``compliance`` (A) when given
        (:func:`xbar.pulses.energy.pulse_energy`).  Pass the cell voltage the circuit solve gives
        (V) to get the device share of a pulse's energy through the array.

        Parameters
        ----------
        v_cell : float or array
            Voltage across each cell, V.
        width : float or array
            Pulse width, s (>= 0).
        compliance : float, array or None
            Current limit, A (> 0); None = no limit.
        """
        v = broadcast_input(v_cell, "v_cell", self.shape)
        t = broadcast_input(width, "width", self.shape)
        if np.any(t < 0):
            raise ConfigError(f"width must be >= 0 s, got {t[t < 0][0]!r}")
        icc = None
        if compliance is not None:
            icc = broadcast_input(compliance, "compliance", self.shape)
            if np.any(icc <= 0):
                raise ConfigError(f"compliance must be > 0 A, got {icc[icc <= 0][0]!r}")
        from ..pulses.energy import pulse_energy

        return pulse_energy(self.model.iv, v, t, self._G, compliance=icc).reshape(self.shape)

    def read_energy(self, v_read: float, t_read: float) -> np.ndarray:
        """Energy (J) of one read of each device at ``v_read`` (V) for ``t_read`` (s)."""
        return self.pulse_energy(v_read, t_read)


def is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)
