"""The read energy's second moment of pulse-width-coded inputs (``AnalogLinear._second_moment``):
computed in one pass (or one Gram matrix per distinct level when there are few) instead of one
Gram matrix per DAC level, equal to the per-slot sum it replaces and to the closed form."""

import numpy as np
import pytest
from scipy.linalg.blas import dsyrk

from xbar.periphery import layer as L


def _per_slot(codes, v, levels):
    """The former form: the slots' ``V_kᵀ V_k`` summed, one Gram matrix per slot k."""
    mag, sgn = np.abs(codes), np.sign(codes).astype(float)
    S = np.zeros((codes.shape[1], codes.shape[1]))
    for k in range(1, int(mag.max(initial=0)) + 1):
        S += dsyrk(1.0, (sgn * (mag >= k) * v).T, trans=0)
    return S / levels


def _closed(codes):
    s, m = np.sign(codes), np.abs(codes)
    return np.triu(np.einsum("bi,bj,bij->ij", s, s, np.minimum(m[:, :, None], m[:, None, :])))


@pytest.mark.parametrize("n_levels", [1, 3, 8, 255])
def test_pulse_width_moment_equals_the_per_slot_sum(n_levels):
    rng = np.random.default_rng(n_levels)
    B, M, v, levels = 37, 19, 0.2, 255
    mags = rng.choice(np.arange(1, 256), n_levels, replace=False)
    codes = rng.choice(mags, (B, M)) * rng.choice([-1, 1], (B, M))
    codes[rng.random((B, M)) < 0.3] = 0  # inputs that drive nothing
    got = L._pulse_width_moment(codes)
    assert np.array_equal(got, _closed(codes))  # integer counts: exact
    assert np.array_equal(np.tril(got, -1), np.zeros((M, M)))  # the upper triangle only
    ref = _per_slot(codes, v, levels)  # rounded per slot: exact zeros come out as ~1e-18
    np.testing.assert_allclose(got * (v * v / levels), ref, rtol=1e-13, atol=1e-13 * abs(ref).max())


def test_pulse_width_moment_of_no_drive_is_zero():
    assert not L._pulse_width_moment(np.zeros((4, 3), dtype=np.int64)).any()


def test_the_layer_books_the_same_read_energy_as_the_per_slot_sum(monkeypatch):
    """End to end: a pulse-width layer's booked read energy is unchanged by the one-pass moment."""
    from xbar.periphery import DAC, AnalogLinear

    rng = np.random.default_rng(3)
    W = rng.uniform(-1, 1, (5, 12))
    x = rng.uniform(-1, 1, (9, 12))

    def booked(layer_cls_moment):
        monkeypatch.setattr(L.AnalogLinear, "_second_moment", layer_cls_moment)
        layer = AnalogLinear(W, dac=DAC(bits=6, encoding="pulse_width"), read_method="transfer")
        layer.forward(x)
        return layer.ledger.total()

    new = booked(L.AnalogLinear._second_moment)

    def old(self, V, phase, rows):
        if phase.codes is None:
            return dsyrk(1.0, V, trans=1)
        return _per_slot(phase.codes[:, rows], self.dac.v_read, self.dac.levels)

    assert new > 0
    assert booked(old) == pytest.approx(new, rel=1e-12)
