"""The built-in ``mvm`` sweep task against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from dense_reference import dense_solve

from xbar._random import spawn
from xbar.exceptions import ConfigError
from xbar.sweep import get_task, parse_spec, run
from xbar.sweep.mvm import adc_available, mvm

MVM = get_task("mvm")


def params(**kw) -> dict:
    p = {k: v for k, v in MVM.defaults().items() if k != "seed"}
    p.update(kw)
    MVM.check(dict(p, seed=0))
    return p


def draws(p: dict, seed: int):
    """G (S) and inputs V (V) as the task documents it draws them (fabrication, operation)."""
    fab, op, _ = spawn(seed, 3)
    G = fab.uniform(p["g_min"], p["g_max"], size=(p["rows"], p["cols"]))
    V = op.uniform(0.0, p["v_read"], size=(p["batch"], p["rows"]))
    return G, V


def reference_read(G, V, r_wire, r_driver, r_sense):
    """Column currents (A) and supplied power (W) per input from the independent dense solver."""
    cols, power = [], []
    for v in V:
        _, _, i_row, i_col = dense_solve(
            G, r_wire, r_wire, r_driver, r_sense, v, np.zeros(G.shape[1])
        )
        cols.append(i_col)
        power.append(v @ i_row)  # the bit-line sources sit at 0 V and supply nothing
    return np.array(cols), np.array(power)


def test_rms_error_matches_an_independent_nodal_solve():
    p = params(rows=4, cols=3, batch=5, r_wire=40.0, r_driver=150.0, r_sense=90.0, g_max=1e-3)
    m = mvm(p, 7)
    G, V = draws(p, 7)
    ref, power = reference_read(G, V, 40.0, 150.0, 90.0)
    ideal = V @ G
    want = np.linalg.norm(ref - ideal) / np.linalg.norm(ideal)
    assert want > 0.05  # the case has real IR drop
    assert m["rel_rms_error"] == pytest.approx(want, rel=1e-8)
    assert m["analog_rel_rms_error"] == m["rel_rms_error"]
    assert m["max_error"] == pytest.approx(
        np.abs(ref - ideal).max() / np.abs(ideal).max(), rel=1e-8
    )
    assert m["read_energy_j"] == pytest.approx(power.mean() * p["t_read"], rel=1e-8)


def test_ideal_wires_have_no_error_and_analytic_read_energy():
    p = params(rows=8, cols=6, batch=4, r_wire=0.0, t_read=7e-9)
    m = mvm(p, 3)
    G, V = draws(p, 3)
    assert m["rel_rms_error"] < 1e-12 and m["max_error"] < 1e-12
    # every cell sees its full input voltage: E = sum_ij V_i^2 G_ij * t, averaged over the batch
    energy = np.mean((V**2) @ G.sum(axis=1)) * 7e-9
    assert m["read_energy_j"] == pytest.approx(energy, rel=1e-9)
    assert m["adc_energy_j"] == 0.0 and m["solve_time_s"] > 0


def test_error_grows_with_wire_resistance_and_size():
    errs = [mvm(params(rows=16, cols=16, r_wire=r), 0)["rel_rms_error"] for r in (0.1, 1.0, 10.0)]
    assert errs[0] < errs[1] < errs[2]
    sizes = [mvm(params(rows=n, cols=n, r_wire=1.0), 0)["rel_rms_error"] for n in (8, 16, 32)]
    assert sizes[0] < sizes[1] < sizes[2]


def test_same_seed_same_metrics_other_seed_differs():
    a, b, c = (mvm(params(rows=8, cols=8), s) for s in (5, 5, 6))
    for k in ("rel_rms_error", "max_error", "read_energy_j"):
        assert a[k] == b[k] and a[k] != c[k]


@pytest.mark.skipif(not adc_available(), reason="xbar.periphery.adc (issue 5) is not installed")
def test_adc_quantization_error_is_bounded_by_half_an_lsb_and_energy_from_the_survey():
    for bits, e_conv in (
        (5, 2.1e-12),
        (8, 9.1e-12),
    ):  # Murmann survey medians, docs/references.rst, ref-adc-energy
        p = params(rows=8, cols=5, batch=20, r_wire=0.0, adc_bits=bits, adc_range="full")
        m = mvm(p, 1)
        G, V = draws(p, 1)
        full_scale = p["v_read"] * p["g_max"] * p["rows"]
        lsb = full_scale / (2**bits - 1)
        worst = m["max_error"] * np.abs(V @ G).max()
        assert 0.1 * lsb < worst <= 0.5 * lsb * (1 + 1e-9)
        assert m["analog_rel_rms_error"] < 1e-12
        assert m["adc_energy_j"] == pytest.approx(5 * e_conv, rel=1e-9)
    errs = [
        mvm(params(rows=16, cols=16, r_wire=0.0, adc_bits=b), 0)["rel_rms_error"] for b in (3, 5, 7)
    ]
    assert errs[0] > errs[1] > errs[2]
    full = mvm(params(rows=16, cols=16, adc_bits=4, adc_range="full"), 0)["rel_rms_error"]
    cal = mvm(params(rows=16, cols=16, adc_bits=4, adc_range="calibrate"), 0)["rel_rms_error"]
    assert cal < full


def test_1t1r_and_input_distributions_run():
    a = mvm(params(rows=6, cols=4, cell="1T1R", r_access=15e3), 0)
    b = mvm(params(rows=6, cols=4), 0)
    assert a["rel_rms_error"] > b["rel_rms_error"]  # the access transistor adds series resistance
    for kind in ("bipolar", "binary"):
        assert np.isfinite(mvm(params(rows=6, cols=4, inputs=kind), 0)["rel_rms_error"])


@pytest.mark.parametrize(
    "base,match",
    [
        ({"g_min": 2e-4}, "g_min must be < g_max"),
        ({"r_access": 1e3}, "r_access applies to cell='1T1R' only"),
    ],
)
def test_cross_parameter_checks(base, match):
    with pytest.raises(ConfigError, match=match):
        parse_spec({"sweep": {"task": "mvm"}, "base": base})


def test_small_mvm_sweep_serial(tmp_path):
    res = run(
        {
            "sweep": {"task": "mvm"},
            "base": {"batch": 4},
            "axes": {"r_wire": [0.0, 2.0]},
            "zip": [{"rows": [4, 8], "cols": [4, 8]}],
        },
        out=tmp_path,
        workers=0,
        progress=None,
    )
    assert res.n_ok == 4
    errs = {
        (r["params"]["r_wire"], r["params"]["rows"]): r["metrics"]["rel_rms_error"]
        for r in res.records
    }
    assert errs[(0.0, 4)] < 1e-12 and errs[(2.0, 4)] < errs[(2.0, 8)]


def test_bundled_example_spec_is_valid_and_its_smallest_point_runs():
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "mvm_size_wire_adc.toml"
    spec = parse_spec(tomllib.loads(path.read_text()))
    assert spec.n_points == 90 and spec.task.name == "mvm"
    data = tomllib.loads(path.read_text())
    data["axes"] = {k: v[:1] for k, v in data["axes"].items()}
    data["zip"] = [{k: v[:1] for k, v in g.items()} for g in data["zip"]]
    res = run(data, workers=0, progress=None)
    assert res.n_ok == 1 and 0 < res.records[0]["metrics"]["rel_rms_error"] < 1


def test_read_time_is_a_deprecated_spelling_of_t_read():
    from xbar.sweep import load_spec

    text = '[sweep]\ntask = "mvm"\n[base]\n'
    with pytest.warns(DeprecationWarning, match=r"'\[base\] read_time' is deprecated.*'t_read'"):
        old = load_spec(text + "read_time = 7e-9\n")
    new = load_spec(text + "t_read = 7e-9\n")
    assert [p.params for p in old.points()] == [p.params for p in new.points()]
    assert old.points()[0].params["t_read"] == 7e-9 and "read_time" not in old.points()[0].params
