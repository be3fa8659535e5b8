"""Dataclass field documentation where ``help()`` shows it.

Fields are documented by a string literal right below each field (the attribute-docstring
convention Sphinx reads).  Python drops those strings at run time, so ``help(ADC)`` would not show
them; :func:`document_fields` appends a numpydoc ``Parameters`` section built from them (name,
annotation, default, text) to the class docstring, keeping one home for every field's text.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap

__all__ = ["document_fields", "field_docs"]


def field_docs(cls) -> dict[str, str]:
    """``{field: docstring}`` of the string literals written below the fields of ``cls``."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # pragma: no cover - no source (frozen, interactive)
        return {}
    body = getattr(ast.parse(source).body[0], "body", [])
    docs = {}
    for node, nxt in zip(body, body[1:]):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return f", default {f.default!r}"
    if f.default_factory is not dataclasses.MISSING:
        return f", default {getattr(f.default_factory, '__name__', repr(f.default_factory))}()"
    return ""


def document_fields(cls):
    """Class decorator: append a ``Parameters`` section of every documented field to ``__doc__``."""
    docs = field_docs(cls)
    if not docs or cls.__doc__ is None:
        return cls
    lines = ["", "Parameters", "----------"]
    for f in dataclasses.fields(cls):
        if f.name not in docs:
            continue
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        lines.append(f"{f.name} : {kind}{_default(f)}")
        lines += ["    " + ln if ln else "" for ln in docs[f.name].splitlines()]
    cls.__doc__ = inspect.cleandoc(cls.__doc__) + "\n" + "\n".join(lines) + "\n"
    return cls
