"""Sphinx configuration of the xbar documentation.

Build (no network needed; warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API pages are generated from the code by autosummary (``api/index.rst`` lists the packages);
the tutorials in ``examples/`` are run during the build by the ``runexample`` directive
(``_ext/runexample.py``), so their printed output is what the current code prints.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The checkout whose code is documented: the parent of docs/, or XBAR_DOCS_ROOT when the sources
# are built from a copy (tests/test_docs.py does, so concurrent builds never share a stub folder).
ROOT = Path(os.environ.get("XBAR_DOCS_ROOT", HERE.parent)).resolve()
sys.path.insert(0, str(ROOT))  # document this checkout, not an installed copy
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import shutil  # noqa: E402

import xbar  # noqa: E402

# Regenerate the API stubs on every build, so a renamed or removed name leaves no stale page.
shutil.rmtree(HERE / "api" / "generated", ignore_errors=True)

project = "xbar"
author = "the xbar developers"
copyright = "the xbar developers, BSD-3-Clause"
release = xbar.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "xbar_docs",
    "runexample",
]
# No intersphinx and no MathJax (it loads from a CDN): the build needs no network and the pages
# link nowhere outside the project.  Formulas are written in plain text and literal blocks.

templates_path = ["_templates"]
exclude_patterns = ["_build", "_example_output", "examples"]
root_doc = "index"
language = "en"

# -- autodoc / autosummary -------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False  # a module's __all__ decides (re-exports included)
autosummary_ignore_module_all = False  # ... and __all__ is the list of what is public
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc sections carry the types (and units)
autoclass_content = "class"
autodoc_mock_imports: list[str] = []
runexample_root = str(ROOT)  # the tutorials import xbar from this checkout

# -- numpydoc ------------------------------------------------------------------------------
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False
# Validation of every documented docstring, limited to the checks the whole tree meets today;
# a new docstring that breaks one of these fails the build.
numpydoc_validation_checks = {
    "GL01",
    "GL03",
    "GL05",
    "GL09",
    "GL10",  # layout of the docstring
    "SS01",
    "SS03",
    "SS04",  # a one-line summary ending in a period
    "PR02",
    "PR05",
    "PR06",
    "PR09",
    "PR10",  # parameter entries well formed
    "RT04",
    "RT05",  # returns entries well formed
    "SA02",
    "SA03",
    "SA04",  # See Also entries well formed
}

# -- cross references ----------------------------------------------------------------------
nitpicky = True
# Types of other projects named in docstrings: with intersphinx off they cannot resolve.
nitpick_ignore_regex = [
    # Private base classes shown by :show-inheritance: (not documented, on purpose).
    (r"py:class", r"xbar\..*\._[A-Za-z].*"),
    (
        r"py:.*",
        r"(numpy|np|scipy|matplotlib|pandas|dask|torch|pathlib|os|typing|collections"
        r"|dataclasses|argparse|concurrent)(\..*)?",
    ),
    (
        r"py:.*",
        r"(ndarray|array_like|array-like|ArrayLike|NDArray|Generator|Path|PathLike"
        r"|Figure|Axes|DataFrame|Client|Callable|Iterable|Iterator|Mapping|Sequence)",
    ),
    (r"py:class", r"(int|float|str|bool|bytes|dict|list|tuple|set|object|None|complex|type)"),
]

# Docstring references to objects that do not exist; each is listed with its fix in the
# maintainers' notes.  Remove an entry when its docstring is fixed (the build then checks it).
nitpick_ignore = [
    ("py:func", "xbar.devices.fit.iv_table_from_sweep"),  # xbar/iv.py, Table: no such function
]

# -- HTML ------------------------------------------------------------------------------------
html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"xbar {release}"
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {"show_powered_by": False, "github_button": False, "extra_nav_links": {}}
html_last_updated_fmt = None
