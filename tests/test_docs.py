"""The documentation site builds with warnings as errors (docs/, Sphinx + numpydoc).

The build imports this checkout, generates the API pages from the docstrings, runs the tutorial
scripts, and fails on any warning: a broken cross reference, a malformed numpydoc section, a
tutorial that raises.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_without_warnings(tmp_path):
    # Build from a copy: the build writes its API stubs and tutorial output into the source folder.
    src = tmp_path / "docs"
    shutil.copytree(
        ROOT / "docs", src, ignore=shutil.ignore_patterns("_build", "generated", "_example_output")
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        MPLBACKEND="Agg",
        XBAR_DOCS_ROOT=str(ROOT),
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(src),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-5000:]
    html = tmp_path / "html"
    for page in (
        "index.html",
        "api/index.html",
        "references.html",
        "api/generated/xbar.circuit.Crossbar.html",
        "tutorials/index.html",
        "_images/voltage_map.png",
    ):
        assert (html / page).is_file(), page
    # The site links nowhere outside itself (no network, no external URLs).
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'href="http' not in text and 'src="http' not in text, page


def test_magnitude_bars_are_escaped_only_in_running_text():
    """``|V|`` in a docstring is a magnitude, not a reST substitution; literals stay verbatim."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        from xbar_docs import _process_docstring
    finally:
        sys.path.pop(0)
    lines = [
        "Grows with |V| above ``|v_th|``::",
        "",
        "    n = sign(x) * 1[|x| > t]",
        "",
        "| a | b |",
        "back |ΔG| (S).",
    ]
    _process_docstring(None, "function", "f", None, {}, lines)
    assert lines == [
        "Grows with \\|V\\| above ``|v_th|``::",
        "",
        "    n = sign(x) * 1[|x| > t]",
        "",
        "| a | b |",
        "back \\|ΔG\\| (S).",
    ]
