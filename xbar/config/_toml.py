"""A small TOML writer for the configuration tables (read back with :mod:`tomllib`).

Tables of booleans, integers, floats, strings and lists of those, nested tables as ``[a.b]``;
optional end-of-line comments per key of a first-level table.
"""

from __future__ import annotations

import json
import math

from ..exceptions import ConfigError

__all__ = ["dump_toml"]


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise ConfigError(f"cannot write {v!r} ({type(v).__name__}) to TOML")  # pragma: no cover


def dump_toml(data: dict, notes: dict, path: tuple = ()) -> str:
    """TOML text of ``data``: tables of scalars and lists, nested tables as ``[a.b]``.

    Parameters
    ----------
    data : dict
        ``{table: {key: value}}`` (values: bool, int, float, str, lists of those, dicts).
    notes : dict
        ``{(table, key): comment}`` written after the value (first-level tables only).
    path : tuple
        The enclosing table names (for the recursion).

    Returns
    -------
    str
        Text that :func:`tomllib.loads` parses back to ``data``.
    """
    lines = []
    sub = {k: v for k, v in data.items() if isinstance(v, dict)}
    for k, v in data.items():
        if isinstance(v, dict):
            continue
        line = f"{k} = {_toml_value(v)}"
        note = notes.get(path + (k,)) if len(path) == 1 else None
        if note:
            line = f"{line:<34} # {note}"
        lines.append(line)
    out = "\n".join(lines)
    for k, v in sub.items():
        name = ".".join(path + (k,))
        body = dump_toml(v, notes, path + (k,))
        out += ("\n\n" if out else "") + f"[{name}]" + ("\n" + body if body.strip() else "")
    return out + ("\n" if not path else "")
