"""Write pulses through the array: voltages the cells see, and the energy of a pulse."""

import numpy as np
import pytest

import xbar
from xbar import ConfigError


def test_energy_equals_terminal_power_times_width(rng):
    G = rng.uniform(1e-6, 1e-4, (16, 12))
    xb = xbar.Crossbar(
        G, r_wordline=5.0, r_bitline=5.0, r_driver=50.0, r_sense=50.0, iv=xbar.iv.Sinh(0.25)
    )
    for scheme in ("half", "third", "floating", "grounded"):
        r = xb.apply_pulse(4, [2, 7], amplitude=1.1, width=2e-7, scheme=scheme)
        sol = r.solution
        rv, cv = sol.row_voltages, sol.col_voltages
        terminal = (np.nansum(rv * sol.row_currents) - np.nansum(cv * sol.col_currents)) * 2e-7
        assert r.energy.total == pytest.approx(terminal, rel=1e-9)
        assert r.energy.supplied == pytest.approx(terminal, rel=1e-9)
        assert r.cell_energy.sum() == pytest.approx(
            r.energy.selected + r.energy.half_selected + r.energy.unselected, rel=1e-12
        )
        assert r.selected.sum() == 2 and r.half_selected[4].sum() == 10


def test_ir_drop_lowers_far_selected_cell(rng):
    G = np.full((32, 32), 5e-5)
    xb = xbar.Crossbar(G, r_wordline=10.0, r_bitline=10.0, r_driver=20.0, r_sense=20.0)
    near = xb.apply_pulse(31, 0, amplitude=1.0, width=1e-7).cell_voltages[31, 0]
    far = xb.apply_pulse(0, 31, amplitude=1.0, width=1e-7).cell_voltages[0, 31]
    assert 0.0 < far < near < 1.0


def test_v3_scheme_trades_disturb_for_sneak_energy(rng):
    G = rng.uniform(2e-5, 1e-4, (24, 24))
    xb = xbar.Crossbar(
        G, r_wordline=2.0, r_bitline=2.0, r_driver=10.0, r_sense=10.0, iv=xbar.iv.Sinh(0.25)
    )
    half = xb.disturb_margins(1.5, "half")
    third = xb.disturb_margins(1.5, "third")
    assert third.worst_disturb_voltage < half.worst_disturb_voltage
    assert third.margin > half.margin
    e_half = xb.apply_pulse(0, 0, amplitude=1.5, width=1e-7, scheme="half").energy
    e_third = xb.apply_pulse(0, 0, amplitude=1.5, width=1e-7, scheme="third").energy
    assert e_third.unselected > e_half.unselected


def test_polarity_and_1t1r_gates(rng):
    G = rng.uniform(1e-5, 1e-4, (6, 6))
    xb = xbar.Crossbar(G, r_wordline=2.0, r_bitline=2.0, cell="1T1R", r_access=2e3)
    r = xb.apply_pulse(2, None, amplitude=0.8, width=1e-7, polarity=-1, scheme="grounded")
    assert np.all(r.cell_voltages[2] < 0)
    assert np.all(r.solution.cell_currents[np.arange(6) != 2] == 0)
    assert r.energy.access > 0


def test_substeps_update_state(rng):
    G = np.full((4, 4), 5e-5)
    xb = xbar.Crossbar(G, r_wordline=1.0, r_bitline=1.0)
    seen = []

    def shrink(sol, dt):
        seen.append(dt)
        return xb.G * 0.9

    xb.apply_pulse(0, 0, amplitude=0.5, width=4e-7, substeps=4, on_substep=shrink)
    assert seen == [1e-7] * 4
    assert np.allclose(xb.G, 5e-5 * 0.9**4)


def test_bad_pulses():
    xb = xbar.Crossbar(np.full((3, 3), 1e-5))
    with pytest.raises(ConfigError, match="amplitude must be > 0"):
        xb.apply_pulse(0, 0, amplitude=0.0, width=1e-7)
    with pytest.raises(ConfigError, match="width must be > 0"):
        xb.apply_pulse(0, 0, amplitude=1.0, width=-1.0)
    with pytest.raises(ConfigError, match="polarity"):
        xb.apply_pulse(0, 0, amplitude=1.0, width=1e-7, polarity=2)
    with pytest.raises(ConfigError, match="scheme must be one of"):
        xb.apply_pulse(0, 0, amplitude=1.0, width=1e-7, scheme="quarter")
    with pytest.raises(ConfigError, match=r"rows must lie in"):
        xb.apply_pulse(5, 0, amplitude=1.0, width=1e-7)


def test_voltage_map_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    xb = xbar.Crossbar(np.full((8, 8), 1e-5), r_wordline=2.0, r_bitline=2.0)
    ax = xbar.plot.voltage_map(xb.apply_pulse(1, 2, amplitude=1.0, width=1e-7))
    ax.figure.savefig(tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 1000
