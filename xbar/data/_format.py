"""The error raised for unreadable data files, and small helpers shared by the readers."""

from __future__ import annotations

from pathlib import Path

from ..exceptions import ConfigError


class DataFormatError(ConfigError):
    """A data file is missing, truncated or not in the expected format.

    The message names the file and, where it applies, the line (1-based) or sheet and row.

    Attributes
    ----------
    path : str
        The file.
    line : int or None
        1-based line (or sheet row) of the first problem, when known.
    """

    def __init__(self, path, message: str, line: int | None = None):
        where = f"{path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class DataWarning(UserWarning):
    """A data file has something a reader had to step over (e.g. a blank row inside a series);
    the message names the file and the row.  No point is dropped silently."""


def check_file(path) -> Path:
    """Return ``path`` as a Path, raising :class:`DataFormatError` if it is not a file."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(p, "file not found")
    return p
