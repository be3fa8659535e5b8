"""The tree passes the project's lint rules (``[tool.ruff]`` in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff():
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else shutil.which("ruff")


@pytest.mark.skipif(_ruff() is None, reason="ruff not installed (it is in the test extra)")
def test_ruff_finds_nothing():
    out = subprocess.run(
        [_ruff(), "check", "--no-cache", "--output-format", "concise", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _tool(name):
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


@pytest.mark.skipif(_tool("mypy") is None, reason="mypy not installed (it is in the test extra)")
def test_mypy_finds_nothing(tmp_path):
    # ``[tool.mypy]`` in pyproject.toml: the package, check_untyped_defs, warn_unused_ignores
    out = subprocess.run(
        [_tool("mypy"), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(_ruff() is None, reason="ruff not installed (it is in the test extra)")
def test_ruff_format_finds_nothing_to_change():
    # ``[tool.ruff]``'s line length; the tree is kept as ``ruff format`` writes it
    paths = [
        str(ROOT / p)
        for p in ("xbar", "tests", "validation", "benchmarks", "examples", "docs", "setup.py")
    ]
    out = subprocess.run(
        [_ruff(), "format", "--check", "--no-cache", *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
