"""IR-drop map, write-disturb margins plot, voltage map and the sweep report's log axes; library
plots build matplotlib Figures and leave pyplot's backend and figure list alone."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import xbar
from xbar import plot
from xbar.circuit.write import disturb_margins
from xbar.exceptions import ConfigError

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from dense_reference import dense_solve  # noqa: E402

pytest.importorskip("matplotlib")


def test_ir_drop_against_the_dense_nodal_reference():
    rng = np.random.default_rng(0)
    M, N = 5, 4
    G = rng.uniform(1e-5, 1e-3, size=(M, N))
    v_row, v_col = rng.uniform(0.1, 0.5, M), np.array([0.0, 0.05, 0.0, -0.1])
    xb = xbar.Crossbar(G, r_wordline=3.0, r_bitline=2.0, r_driver=20.0, r_sense=10.0)
    sol = xb.solve(v_row, v_col)
    w, b, _, _ = dense_solve(G, 3.0, 2.0, 20.0, 10.0, v_row, v_col)
    ideal = v_row[:, None] - v_col[None, :]
    ref = ideal - (w - b)
    np.testing.assert_allclose(plot.ir_drop(sol, relative=False), ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(plot.ir_drop(sol), ref / ideal, rtol=1e-8)
    assert np.all(plot.ir_drop(sol) > 0)  # every cell loses voltage


def test_ir_drop_is_zero_with_ideal_lines_and_analytic_for_one_cell():
    G = np.full((3, 3), 1e-4)
    sol = xbar.Crossbar(G).solve(np.full(3, 0.2), np.zeros(3))
    assert np.all(np.abs(plot.ir_drop(sol)) < 1e-12)
    g, rd, rs = 1e-3, 100.0, 50.0
    sol = xbar.Crossbar(np.array([[g]]), r_driver=rd, r_sense=rs).solve(
        np.array([1.0]), np.zeros(1)
    )
    # series divider: the cell keeps 1 / (1 + (rd + rs) g) of the applied volt
    assert plot.ir_drop(sol)[0, 0] == pytest.approx((rd + rs) * g / (1 + (rd + rs) * g), rel=1e-9)
    # a floating line has no ideal voltage
    pulse = xbar.Crossbar(G).apply_pulse(1, 1, amplitude=1.0, width=1e-6, scheme="floating")
    d = plot.ir_drop(pulse)
    assert np.isnan(d[0, 0]) and np.isfinite(d[1, 1])


def test_plots_build_figures_without_pyplot():
    import matplotlib
    from matplotlib.figure import Figure

    backend = matplotlib.get_backend()
    before = (
        set(sys.modules.get("matplotlib.pyplot").get_fignums())
        if "matplotlib.pyplot" in sys.modules
        else set()
    )
    xb = xbar.Crossbar(np.full((6, 5), 1e-4), r_wordline=5.0, r_bitline=5.0)
    pulse = xb.apply_pulse(2, 3, amplitude=1.0, width=1e-6, scheme="half")
    sol = xb.solve(np.full(6, 0.2), np.zeros(5))
    margins = [disturb_margins(xb, a, s) for s in ("half", "third") for a in (0.8, 1.2, 1.6)]
    axes = [
        plot.voltage_map(pulse),
        plot.ir_drop_map(sol),
        plot.ir_drop_map(pulse, relative=False),
        plot.disturb_margin_plot(margins, title="margins"),
    ]
    for ax in axes:
        assert isinstance(ax.figure, Figure)
        ax.figure.canvas.draw() if hasattr(ax.figure.canvas, "draw") else None
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        assert set(sys.modules["matplotlib.pyplot"].get_fignums()) == before
    lines = axes[3].get_lines()
    assert len(lines) == 4  # selected + disturbed per scheme
    half = [m for m in margins if m.scheme == "half"]
    np.testing.assert_allclose(lines[0].get_ydata(), [m.worst_selected_voltage for m in half])
    np.testing.assert_allclose(lines[1].get_ydata(), [m.worst_disturb_voltage for m in half])
    # the IR-drop image holds the relative loss in %
    img = axes[1].get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(img), 100 * plot.ir_drop(sol))


def test_plots_refuse_bad_input():
    xb = xbar.Crossbar(np.full((3, 3), 1e-4))
    with pytest.raises(ConfigError, match="unbatched"):
        plot.ir_drop(xb.solve(np.full((2, 3), 0.1), np.zeros((2, 3))))
    with pytest.raises(ConfigError, match="CircuitSolution"):
        plot.ir_drop_map(np.zeros((3, 3)))
    with pytest.raises(ConfigError, match="at least one"):
        plot.disturb_margin_plot([])


def test_sweep_report_log_axes_are_labelled_at_the_swept_values(tmp_path):
    from xbar.sweep import run
    from xbar.sweep.report import metric_figure
    from xbar.sweep.runner import load_records
    from xbar.sweep.report import _grid

    run(
        {
            "sweep": {"task": "mvm", "metrics": ["read_energy_j"]},
            "base": {"batch": 2, "rows": 4, "cols": 4},
            "axes": {"r_wire": [0.3, 1.0, 3.0, 10.0], "g_max": [2e-5, 5e-5, 1e-4]},
        },
        out=tmp_path,
        workers=0,
        progress=None,
    )
    meta, recs = load_records(tmp_path)
    fig = metric_figure(meta, _grid(meta, recs, "read_energy_j"), "read_energy_j")
    ax_r, ax_g = fig.axes[0], fig.axes[1]
    assert ax_r.get_xscale() == "log"
    fig.canvas.draw()
    assert [t.get_text() for t in ax_r.get_xticklabels()] == ["0.3", "1", "3", "10"]
    assert [t.get_text() for t in ax_g.get_xticklabels()] == ["2e-05", "5e-05", "0.0001"]
    # a log data axis spanning < 3 decades gets 1-2-5 ticks in plain numbers, all inside the data
    if ax_g.get_yscale() == "log":
        labels = [t.get_text() for t in ax_g.get_yticklabels() if t.get_text()]
        assert len(labels) >= 2 and all("$" not in s for s in labels)
