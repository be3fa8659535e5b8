"""Build helpers of the xbar documentation (configuration, not content).

* ``|x|`` in a docstring is the magnitude of ``x`` (as in the code's comments), not a reST
  substitution: the bars are escaped before docutils reads the docstring.
* A cross reference to a name that is not documented under that spelling (a package re-exports
  it, or the docstring writes the short name) links to the page where the same object is
  documented; if no object or several match, Sphinx's usual "target not found" stands.
"""

from __future__ import annotations

import importlib
import re

# |V|, |x_i d_j|, |0.1 V| ... : bars around text that starts and ends with a non-space, outside
# inline literals.  Grid-table rows ("| a | b |") have spaces inside the bars and are left alone.
_BARS = re.compile(r"(?<![\\|`\w])\|(?=[^\s|])([^|`\n]*?[^\s|\\])\|(?![\w|`])")
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")


def escape_bars(text: str) -> str:
    """Escape the magnitude bars of one line, leaving inline literals and roles untouched."""
    parts = _LITERAL.split(text)
    for k in range(0, len(parts), 2):
        parts[k] = _BARS.sub(r"\\|\1\\|", parts[k])
    return "".join(parts)


def _process_docstring(app, what, name, obj, options, lines):
    literal_indent = None  # indentation of the paragraph that opened a literal block
    for k, line in enumerate(lines):
        row = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not row or indent > literal_indent:
                continue  # inside a literal block: shown verbatim, leave it alone
            literal_indent = None
        table_row = (row.startswith("|") and row.endswith("|") and " " in row) or row.startswith(
            ("+-", "+=")
        )
        if "|" in line and not table_row:
            lines[k] = escape_bars(line)
        if row.endswith("::"):
            literal_indent = indent


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


_DOCUMENTED: dict[int, str] = {}  # per process and build; never pickled with the environment


def _reset(app) -> None:
    _DOCUMENTED.clear()


def _documented(env) -> dict[int, str]:
    """id(object) -> the name it is documented under (built once per build from the py domain)."""
    if not _DOCUMENTED:
        for name in sorted(env.get_domain("py").objects, key=len):
            obj = _resolve(name)
            if obj is not None and not isinstance(obj, (int, float, str, tuple, dict, type(None))):
                _DOCUMENTED.setdefault(id(obj), name)
    return _DOCUMENTED


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    module, klass = node.get("py:module"), node.get("py:class")
    objects = env.get_domain("py").objects
    candidates = [target]
    if module:
        candidates = ([f"{module}.{klass}.{target}"] if klass else []) + [
            f"{module}.{target}",
            target,
        ]
    documented = _documented(env)
    found = None
    for cand in candidates:
        obj = _resolve(cand)
        if obj is not None and id(obj) in documented:
            found = documented[id(obj)]
            break
    if found is None:  # the short name of exactly one documented object
        matches = [
            n
            for n, e in objects.items()
            if n.endswith("." + target) and n.startswith("xbar.") and not e.aliased
        ]
        if len(matches) == 1:
            found = matches[0]
    if found is None:
        return None
    from sphinx.util.nodes import make_refnode

    entry = objects[found]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, found)


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    app.connect("builder-inited", _reset)
    app.connect("env-updated", lambda app, env: _reset(app))
    app.connect("missing-reference", _missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
