"""MNIST in its original IDX format (the four ``*-idx?-ubyte.gz`` files)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .._validation import check_choice
from ._format import DataFormatError, check_file

__all__ = ["load_mnist", "read_idx"]

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip or raw) of unsigned bytes: magic 0x0000080D, big-endian dims.

    Raises :class:`DataFormatError` naming the file for a bad magic number or a short payload.

    Parameters
    ----------
    path : str or Path
        The IDX file (``.gz`` or raw).
    """
    p = check_file(path)
    try:
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFormatError(
            p, f"cannot decompress ({exc}); the file is truncated or corrupt"
        ) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataFormatError(
            p, f"not an IDX file of unsigned bytes (magic {raw[:4].hex()!r}, expected 000008xx)"
        )
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise DataFormatError(p, f"header truncated ({len(raw)} bytes, need {head})")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    need = int(np.prod(dims))
    if len(raw) - head != need:
        raise DataFormatError(
            p, f"payload has {len(raw) - head} bytes, the header {dims} needs {need}"
        )
    return np.frombuffer(raw, np.uint8, offset=head).reshape(dims).copy()


def load_mnist(split: str = "train", root=None) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST from the four IDX ``.gz`` files.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test digits.
    root : path-like or None
        Folder holding the files; default ``xbar.data.data_dir() / "mnist"``.

    Returns
    -------
    images : ndarray of uint8, shape (n, 28, 28)
        0 = background, 255 = ink.
    labels : ndarray of uint8, shape (n,)
        Digits 0-9.
    """
    check_choice(split, "split", _FILES)
    if root is None:
        from . import data_dir

        root = data_dir() / "mnist"
    root = Path(root)
    images = read_idx(root / _FILES[split][0])
    labels = read_idx(root / _FILES[split][1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            root / _FILES[split][0], f"images {images.shape} and labels {labels.shape} do not match"
        )
    return images, labels
