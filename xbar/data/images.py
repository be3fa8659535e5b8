"""Image-folder data sets laid out as ``<root>/<split>/<class>/*.jpg`` (e.g. ``imagenette4``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import check_scalar
from ._format import DataFormatError

__all__ = ["load_image_folder"]

_EXTS = {".jpg", ".jpeg", ".png"}


def load_image_folder(
    root=None,
    split: str = "train",
    size: tuple[int, int] | int | None = None,
    max_per_class: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list]:
    """Load ``<root>/<split>/<class>/*.jpg`` into memory.

    Parameters
    ----------
    root : path-like or None
        Data-set folder; default ``xbar.data.data_dir() / "imagenette4"``.
    split : str
        Sub-folder, e.g. ``"train"`` or ``"test"``.
    size : (width, height), int or None
        Resize every image to this size (bilinear, Pillow); ``None`` keeps the stored size, which
        must then be the same for every image.
    max_per_class : int or None
        Keep only the first files (sorted by name) of each class, for quick runs.

    Returns
    -------
    images : ndarray of uint8, shape (n, height, width, 3)
        RGB (greyscale files are converted with ``Image.open(p).convert("RGB")``).
    labels : ndarray of int64, shape (n,)
        Index into ``classes``.
    classes : list of str
        Class folder names, sorted.
    """
    from PIL import Image

    if root is None:
        from . import data_dir

        root = data_dir() / "imagenette4"
    folder = Path(root) / split
    if not folder.is_dir():
        raise DataFormatError(folder, f"split folder {split!r} not found under {root}")
    wh: tuple[int, ...] | None = (size, size) if isinstance(size, int) else size
    if wh is not None:
        wh = tuple(int(check_scalar(s, "size", low=1, integer=True)) for s in wh)
    if max_per_class is not None:
        check_scalar(max_per_class, "max_per_class", low=1, integer=True)
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
    if not classes:
        raise DataFormatError(folder, "no class sub-folders")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for k, cls in enumerate(classes):
        files = sorted(f for f in (folder / cls).iterdir() if f.suffix.lower() in _EXTS)
        for f in files[:max_per_class]:
            try:
                with Image.open(f) as src:
                    im = src.convert("RGB")
                    if wh is not None and im.size != wh:
                        im = im.resize((wh[0], wh[1]), Image.Resampling.BILINEAR)
                    arr = np.asarray(im, dtype=np.uint8)
            except OSError as exc:
                raise DataFormatError(f, f"cannot decode image ({exc})") from None
            if images and arr.shape != images[0].shape:
                raise DataFormatError(
                    f, f"size {arr.shape} differs from {images[0].shape}; pass size=(w, h)"
                )
            images.append(arr)
            labels.append(k)
    if not images:
        raise DataFormatError(folder, "no images found")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes
