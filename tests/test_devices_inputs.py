"""Device state stays finite and inside the window for any finite pulse; implausible pulses are
refused naming the unit; program-and-verify works on any array shape (issue 14, item 5)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from xbar.devices import HfOxReRAM, StochasticBinaryReRAM
from xbar.exceptions import ConfigError

_finite = dict(allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    "amplitude, width, match",
    [
        (100.0, 1e-7, "amplitude.*V"),
        (-1e3, 1e-7, "amplitude.*V"),
        (1.2, 1e300, "width.*s"),
        (1.2, 100.0, "width.*s"),
        (np.nan, 1e-7, "amplitude"),
        (1.2, np.inf, "width"),
        (1.2, -1e-9, "width"),
    ],
)
def test_implausible_pulses_are_refused_naming_the_unit(amplitude, width, match):
    arr = HfOxReRAM().sample((2, 3), random_state=0)
    g0 = arr.G.copy()
    with pytest.raises(ConfigError, match=match):
        arr.apply_pulses(amplitude, width)
    np.testing.assert_array_equal(arr.G, g0)
    with pytest.raises(ConfigError, match=match):
        StochasticBinaryReRAM().sample((2, 3), random_state=0).apply_pulses(amplitude, width)


def test_strongest_accepted_pulses_saturate_at_the_window_edge():
    """The audit's NaN: exp overflow of the pulse strength.  At +-20 V and up to 1 s the state
    ends at the device's window edge, finite."""
    arr = HfOxReRAM().sample((2, 3), random_state=0, g_init=100e-6)
    arr.apply_pulses(-20.0, 1.0)
    np.testing.assert_allclose(arr.G, arr.g_min, rtol=0.02)
    arr.apply_pulses(20.0, 1.0)
    np.testing.assert_allclose(arr.G, arr.g_max, rtol=0.02)
    arr.apply_pulses(20.0, 0.0)  # zero width at a huge amplitude: no change, no NaN
    assert np.isfinite(arr.G).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    v=st.floats(-20.0, 20.0, **_finite),
    t=st.floats(0.0, 1.0, **_finite),
    v_scale=st.floats(0.005, 1.0),
    kappa=st.floats(-20.0, 20.0),
    seed=st.integers(0, 99),
)
def test_any_finite_pulse_keeps_the_state_finite_and_in_the_window(v, t, v_scale, kappa, seed):
    model = HfOxReRAM(
        set_v_scale=v_scale,
        reset_v_scale=v_scale,
        set_kappa=kappa,
        reset_kappa=kappa,
        set_sigma_abs=1e-6,
    )
    arr = model.sample((2, 3), random_state=seed, g_init=200e-6)
    for sign in (1, -1):
        arr.apply_pulses(sign * v, t)
        g = arr.G
        assert np.isfinite(g).all()
        assert np.all(g >= arr.g_min) and np.all(g <= arr.g_max)


@pytest.mark.parametrize("shape", [(6,), (2, 3), (1, 6), (6, 1), (2, 1, 3)])
def test_program_verify_any_shape(shape):
    """Before: only 1-D or (1, N) worked; (2, 3) raised an internal v_cell broadcast error."""
    arr = HfOxReRAM().sample(shape, random_state=1)
    res = arr.program_verify(np.full(shape, 5e-5), atol=5e-6, max_pulses=200, on_failure="ignore")
    assert res.G.shape == shape and res.n_pulses.shape == shape and res.energy.shape == shape
    assert np.all(res.n_pulses > 0) and np.all(res.energy > 0)
    assert res.converged.mean() > 0.8


def test_read_noise_rel_is_the_models_table_at_the_state():
    """DeviceArray.read_noise_rel (used by the program -> relax -> infer workflow) is the model's
    read-noise table at the normalised state, and the std of repeated reads follows it."""
    from xbar.devices import presets
    from xbar.exceptions import ConfigError

    dev = presets.stanford_tech_b().sample((3, 4), random_state=0)
    m = dev.model
    x = (dev.G - dev.g_min) / (dev.g_max - dev.g_min)
    np.testing.assert_allclose(dev.read_noise_rel(), np.interp(x, m.read_noise_x, m.read_noise_rel))
    G = np.full((3, 4), 0.5 * (np.mean(dev.g_min) + np.mean(dev.g_max)))
    assert dev.read_noise_rel(G).shape == (3, 4)
    reads = np.array([dev.read(random_state=k) for k in range(4000)])
    np.testing.assert_allclose(reads.std(axis=0) / dev.G, dev.read_noise_rel(), rtol=0.1)
    with pytest.raises(ConfigError, match="one conductance per device"):
        dev.read_noise_rel(np.ones(5))
