"""Atomic checkpoints: a training run interrupted at any moment resumes from the last one.

A checkpoint is one ``.npz`` file (arrays of every layer's state, the loop's counters and random
generator states as JSON). It is written to a temporary file in the same folder, flushed and
``fsync``-ed, then moved over the old one with ``os.replace`` (atomic on POSIX), so a reader
always sees either the previous or the new checkpoint, never a partial one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._io import open_atomic
from ..exceptions import ConfigError


def _flatten(prefix: str, obj, arrays: dict, meta: dict) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}{k}/", v, arrays, meta)
    elif isinstance(obj, np.ndarray):
        arrays[prefix[:-1]] = obj
    else:
        meta[prefix[:-1]] = obj


def _unflatten(arrays: dict, meta: dict) -> dict:
    out: dict = {}
    for key, val in list(arrays.items()) + list(meta.items()):
        parts = key.split("/")
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = val
    return out


def save_checkpoint(path, state: dict) -> Path:
    """Write ``state`` (nested dicts of arrays and JSON-able values) atomically to ``path``.

    Parameters
    ----------
    path : str or Path
        The checkpoint file (written through a temporary file and os.replace).
    state : dict
        Nested dicts of arrays and JSON-able values.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict = {}
    meta: dict = {}
    _flatten("", state, arrays, meta)
    with open_atomic(path, "wb") as fh:
        np.savez(fh, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_checkpoint`.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["__meta__"]).decode())
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"checkpoint {path} cannot be read: {exc}") from None
    return _unflatten(arrays, meta)
