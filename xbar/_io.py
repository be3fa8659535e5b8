"""Small file helpers: atomic writes and tagged JSON documents."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .exceptions import ConfigError


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_document(doc: dict, path: str | Path | None = None, **json_kw) -> str:
    """JSON text of ``doc``; also written atomically to ``path`` when given."""
    text = json.dumps(doc, **json_kw)
    if path is not None:
        write_atomic(path, text)
    return text


def load_document(source: str | Path, fmt: str, what: str) -> dict:
    """Parse a JSON document given as text or a path and check its ``format`` tag is ``fmt``."""
    text = str(source)
    if not text.lstrip().startswith("{"):
        text = Path(source).read_text()
    doc = json.loads(text)
    if doc.get("format") != fmt:
        raise ConfigError(f"source is not {what} JSON document (format {doc.get('format')!r}, "
                          f"expected {fmt!r})")
    return doc
