"""Small file helpers: atomic writes and tagged JSON documents.

Every file xbar writes for a user (sweep records, tables and reports, energy ledgers, pulse
schedules, CLI outputs) goes through :func:`open_atomic`: the content is written to a temporary
file in the target's directory, flushed and ``fsync``-ed, then moved over the target with
``os.replace`` (atomic on POSIX and Windows).  A crash or Ctrl-C leaves either the old file or the
complete new one, never a half-written one.  The temporary file is created with mode ``0o666``
filtered by the process umask, so the result has the permissions of a file opened with ``open``
(``tempfile.mkstemp`` would make it ``0o600``).
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from .exceptions import ConfigError

__all__ = ["open_atomic", "write_atomic", "dump_document", "load_document", "TMP_SUFFIX"]

TMP_SUFFIX = ".tmp"
"""Suffix of the temporary files (``.<name>.<random>.tmp``), so a directory can be swept of
those a killed process left behind."""


@contextmanager
def open_atomic(path: str | Path, mode: str = "w", **open_kw) -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` atomically when the ``with`` block succeeds.

    Parameters
    ----------
    path : str or Path
        The file to (re)place.  Its directory must exist.
    mode : {"w", "wb"}
        Text or binary.
    **open_kw
        Passed to :func:`open` (e.g. ``newline=""`` for CSV, ``encoding``).

    Yields
    ------
    file object
        Write the content to it.  On an exception the temporary file is removed and ``path`` is
        left as it was.
    """
    if mode not in ("w", "wb"):
        raise ConfigError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}")
    # O_EXCL: a fresh file; mode 0o666 is filtered by the umask like any open(path, "w").
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        if mode == "w":
            open_kw.setdefault("encoding", "utf-8")
        with os.fdopen(fd, mode, **open_kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically (see :func:`open_atomic`).

    Parameters
    ----------
    path : str or pathlib.Path
        The file written (replaced whole, never left half-written).
    data : str or bytes
        The content; bytes are written in binary mode, text in text mode.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with open_atomic(path, "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)
    return Path(path)


def dump_document(doc: dict, path: str | Path | None = None, **json_kw) -> str:
    """JSON text of ``doc``; also written atomically to ``path`` when given.

    Parameters
    ----------
    doc : dict
        The document (JSON-serialisable).
    path : str or pathlib.Path or None, optional
        File to write the text to (atomically); None (default) writes nothing.
    **json_kw
        Keyword arguments of :func:`json.dumps` (e.g. ``indent``).

    Returns
    -------
    str
        The JSON text.
    """
    text = json.dumps(doc, **json_kw)
    if path is not None:
        write_atomic(path, text)
    return text


def load_document(source: str | Path, fmt: str, what: str) -> dict:
    """Parse a JSON document given as text or a path and check its ``format`` tag is ``fmt``.

    Parameters
    ----------
    source : str or pathlib.Path
        The JSON text (starting with ``{``) or the path of a file holding it.
    fmt : str
        The expected value of the document's ``"format"`` key.
    what : str
        What the document is, with its article (e.g. ``"a checkpoint"``), for the error message.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    ConfigError
        If the ``format`` tag is missing or differs from ``fmt``.
    """
    text = str(source)
    if not text.lstrip().startswith("{"):
        text = Path(source).read_text()
    doc = json.loads(text)
    if doc.get("format") != fmt:
        raise ConfigError(
            f"source is not {what} JSON document (format {doc.get('format')!r}, expected {fmt!r})"
        )
    return doc
