"""The MVM error study (validation/periphery/mvm_error.py) in quick mode: trends that must hold."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "validation" / "periphery" / "mvm_error.py"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("mvm_error", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("mvm")
    assert mod.main(["--quick", "--out", str(out)]) == 0
    assert (out / "mvm_error.png").stat().st_size > 0
    return json.loads((out / "mvm_error.json").read_text())


def test_error_falls_with_adc_bits_to_the_circuit_floor(study):
    a = study["adc_bits"]
    full = [r["full_range"] for r in a["rows"]]
    assert all(f1 > f2 for f1, f2 in zip(full, full[1:]))  # more bits, less error
    assert full[-1] < 2 * a["ideal_adc"]  # 10 bits: near the floor
    assert full[0] > 10 * a["ideal_adc"]  # 4 bits: quantization rules
    cal = a["rows"][0]["calibrated"]
    assert cal < 0.5 * a["rows"][0]["full_range"]  # calibration helps at 4 bits


def test_error_grows_with_wire_resistance_and_array_size(study):
    w = [r["error"] for r in study["wire_resistance"]["rows"]]
    assert w[0] < w[1] < w[2]
    s = study["array_size"]["rows"]
    assert s[0]["ideal_adc"] < s[-1]["ideal_adc"]  # smaller tiles, less IR drop
    assert s[0]["tiles"] > s[-1]["tiles"]
