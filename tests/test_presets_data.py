"""The fitted preset numbers live in xbar/devices/presets.json (package data); loaded, they are
exactly the numbers the module carried as literals before (digest of their repr, types included)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from xbar.devices import presets

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("TECH_B", "TECH_C", "RAMPS", "TECH_A_NOISE", "TUD")
# sha256 of repr([TECH_B, TECH_C, RAMPS, TECH_A_NOISE, TUD]); re-measured when TECH_B/TECH_C were
# refitted on the whole records with drift tables (relax round 2; before: 12e38cc4...)
DIGEST = "b83d820e33088e96a4357a879b5d9091405757534400a97b919487557587891e"


def test_presets_are_unchanged():
    got = repr([getattr(presets, n) for n in NAMES])
    assert hashlib.sha256(got.encode()).hexdigest() == DIGEST
    assert isinstance(presets.TECH_B["drift_x"], tuple) and len(presets.TECH_B["drift_x"]) > 20
    assert presets.TUD["r_lrs"] == 1722.0 and presets.RAMPS["set"]["alpha"] == 0.0036501
    dev = presets.tud_hfox()
    assert dev.g_max == 1.0 / 1722.0 and dev.g_min == 1.0 / 109800.0
    assert presets.stanford_tech_b().drift_x == presets.TECH_B["drift_x"]


def test_the_data_file_is_declared_package_data():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        tomllib = pytest.importorskip("tomli")
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = doc["tool"]["setuptools"]["package-data"]
    assert presets.PRESETS_FILE in data["xbar.devices"]
    assert (ROOT / "xbar" / "devices" / presets.PRESETS_FILE).is_file()
