"""xbar.iv.Table on SciPy's PchipInterpolator: the same slopes and values as the hand-written
PCHIP it replaced (kept below as the reference), to 1e-12."""

from __future__ import annotations

import numpy as np
import pytest

from xbar import iv


def _old_pchip_slopes(x, y):
    """The former xbar.iv.pchip_slopes (Fritsch-Butland interior, Moler's clamped ends)."""
    h = np.diff(x)
    d = np.diff(y) / h
    n = x.size
    m = np.zeros(n)
    if n == 2:
        m[:] = d[0]
        return m
    w1 = 2.0 * h[1:] + h[:-1]
    w2 = h[1:] + 2.0 * h[:-1]
    same = (d[:-1] * d[1:]) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        hm = (w1 + w2) / (w1 / d[:-1] + w2 / d[1:])
    m[1:-1] = np.where(same, hm, 0.0)

    def edge(h0, h1, d0, d1):
        e = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        if np.sign(e) != np.sign(d0):
            return 0.0
        if np.sign(d0) != np.sign(d1) and abs(e) > abs(3.0 * d0):
            return 3.0 * d0
        return e

    m[0] = edge(h[0], h[1], d[0], d[1])
    m[-1] = edge(h[-1], h[-2], d[-1], d[-2])
    return m


def _old_shape(x, y, m, V):
    """The former Table.shape: cubic Hermite on the knots, linear beyond the end knots."""
    V = np.asarray(V, dtype=np.float64)
    k = np.clip(np.searchsorted(x, V, side="right") - 1, 0, x.size - 2)
    h = x[k + 1] - x[k]
    t = (V - x[k]) / h
    t2, t3 = t * t, t * t * t
    f = (
        (2 * t3 - 3 * t2 + 1) * y[k]
        + (t3 - 2 * t2 + t) * h * m[k]
        + (-2 * t3 + 3 * t2) * y[k + 1]
        + (t3 - t2) * h * m[k + 1]
    )
    df = (
        (6 * t2 - 6 * t) * y[k] / h
        + (3 * t2 - 4 * t + 1) * m[k]
        + (-6 * t2 + 6 * t) * y[k + 1] / h
        + (3 * t2 - 2 * t) * m[k + 1]
    )
    below, above = V < x[0], V > x[-1]
    f = np.where(below, y[0] + m[0] * (V - x[0]), f)
    f = np.where(above, y[-1] + m[-1] * (V - x[-1]), f)
    df = np.where(below, m[0], np.where(above, m[-1], df))
    return f, df


def _tables():
    rng = np.random.default_rng(7)
    out = [
        (np.array([-1.0, 1.0]), np.array([-0.5, 0.8])),  # 2 knots: linear
        (np.array([-1.0, 0.0, 2.0]), np.array([-1.0, 0.0, 0.1])),  # 3 knots
        (np.array([-1.0, -0.2, 0.0, 0.3, 1.0]), np.array([-1.0, -0.2, -0.2, 0.5, 0.5])),  # flats
        (np.linspace(-1.5, 1.5, 31), np.sinh(np.linspace(-1.5, 1.5, 31) / 0.4) * 0.4),
    ]
    for n in (4, 9, 40):
        x = np.cumsum(rng.uniform(0.01, 0.3, n)) - 1.0
        y = np.cumsum(rng.uniform(0.0, 1.0, n) * (rng.random(n) > 0.2)) - 2.0
        y[-1] += 0.5  # not constant
        out.append((x, y))
    return out


@pytest.mark.parametrize("x, y", _tables())
def test_table_matches_the_former_pchip_to_1e12(x, y):
    t = iv.Table(x, y)
    m_old = _old_pchip_slopes(x, y)
    scale = np.max(np.abs(np.diff(y) / np.diff(x)))
    np.testing.assert_allclose(t.slopes, m_old, rtol=1e-12, atol=1e-12 * scale)
    V = np.concatenate([np.linspace(x[0] - 0.5, x[-1] + 0.5, 997), x])  # knots included
    f, df = t.shape(V)
    f_old, df_old = _old_shape(x, y, m_old, V)
    np.testing.assert_allclose(f, f_old, rtol=1e-12, atol=1e-12 * np.max(np.abs(y)))
    np.testing.assert_allclose(df, df_old, rtol=1e-12, atol=1e-12 * scale)
    I, G = t.current_and_conductance(V, 2e-4)
    np.testing.assert_allclose(I, 2e-4 * f_old, rtol=1e-12, atol=1e-12 * 2e-4 * np.max(np.abs(y)))


def test_pchip_slopes_is_a_deprecated_alias():
    x, y = _tables()[3]
    with pytest.warns(DeprecationWarning, match="pchip_slopes"):
        m = iv.pchip_slopes(x, y)
    np.testing.assert_allclose(m, _old_pchip_slopes(x, y), rtol=1e-12)
