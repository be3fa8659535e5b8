"""A fixed, offline feature front end for natural images (no learned or downloaded weights).

Two-layer classifiers on a few thousand devices cannot take 224 x 224 x 3 = 150,528 pixels
(docs/references.rst, ref-renaudineau2026-designs (design 3)), so the seed study feeds them hand-designed descriptors:

1. the image is averaged over ``downsample`` x ``downsample`` pixel blocks (RGB in [0, 1]);
2. **gradient-orientation histograms** (HOG-like): luminance ``0.299 R + 0.587 G + 0.114 B``,
   central differences, unsigned orientation in ``[0, pi)`` split into ``orientation_bins`` bins,
   each pixel voting its gradient magnitude; histograms pooled on square grids ``grids`` (1 x 1,
   2 x 2, 4 x 4 cells), each cell's histogram L2-normalised (``+ 1e-3``) and square-rooted;
3. a **global joint colour histogram**: each RGB channel quantised into ``colour_bins`` levels,
   ``colour_bins**3`` bins, normalised to a distribution and square-rooted (Hellinger map);
4. **colour layout**: mean and standard deviation of R, G, B on a ``colour_grid`` x ``colour_grid``
   grid.

With the defaults the descriptor has 9 x (1 + 4 + 16) + 64 + 2 x 3 x 16 = **349** dimensions
(:func:`feature_dimension`). Every step is a fixed function of the image; the only data-dependent
part of the front end is the optional :class:`PCAProjection` (unsupervised: mean, principal axes
and whitening scale of the training descriptors, no labels), fitted by the caller.

:func:`image_folder_features` computes the descriptors of an image-folder data set once and caches
them on disk outside the repository (``$XBAR_CACHE_DIR`` or ``~/.cache/xbar``), keyed by the
configuration, the split and the file list (names and sizes).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .._fielddoc import document_fields
from .._io import open_atomic
from .._validation import as_float_array, check_scalar
from ..exceptions import ConfigError

__all__ = [
    "FeatureConfig",
    "image_features",
    "feature_dimension",
    "image_folder_features",
    "PCAProjection",
    "cache_dir",
]

FEATURE_VERSION = 1
_LUMA = np.array([0.299, 0.587, 0.114])


@document_fields
@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the descriptor (all dimensionless counts)."""

    downsample: int = 2
    """Block size of the initial mean pooling (224 px -> 112 px); must divide the image size."""
    orientation_bins: int = 9
    """Unsigned gradient-orientation bins over [0, pi) (Dalal & Triggs 2005 use 9)."""
    grids: tuple = (1, 2, 4)
    """Square pooling grids of the orientation histograms (cells per side)."""
    colour_bins: int = 4
    """Levels per RGB channel of the global joint colour histogram (colour_bins**3 bins)."""
    colour_grid: int = 4
    """Cells per side of the colour mean / standard-deviation layout."""

    def __post_init__(self):
        for name in ("downsample", "orientation_bins", "colour_bins", "colour_grid"):
            check_scalar(getattr(self, name), name, low=1, integer=True)
        if not self.grids or any(int(g) != g or g < 1 for g in self.grids):
            raise ConfigError(
                f"grids must be a non-empty tuple of integers >= 1, got {self.grids!r}"
            )


def feature_dimension(config: FeatureConfig = FeatureConfig()) -> int:
    """Length of the descriptor for ``config``.

    Parameters
    ----------
    config : FeatureConfig
        The descriptor's parameters.
    """
    c = config
    return (
        c.orientation_bins * sum(g * g for g in c.grids) + c.colour_bins**3 + 6 * c.colour_grid**2
    )


def _pool(a: np.ndarray, g: int) -> np.ndarray:
    """Mean of (B, H, W, C) over a g x g grid of equal cells -> (B, g, g, C)."""
    B, H, W, C = a.shape
    return a.reshape(B, g, H // g, g, W // g, C).mean(axis=(2, 4))


def _check_divides(size: int, k: int, what: str) -> None:
    if size % k:
        raise ConfigError(f"{what} must divide the image size {size}, got {k}")


def image_features(
    images, config: FeatureConfig = FeatureConfig(), *, batch_size: int = 128
) -> np.ndarray:
    """Descriptors (n, :func:`feature_dimension`) of RGB images (n, H, W, 3), float64.

    ``images`` are uint8 (0-255) or floats in [0, 1]. H and W must be divisible by ``downsample``
    and the pooled size by every grid (224 px with the defaults).

    Parameters
    ----------
    images : ndarray, shape (n, H, W, 3)
        RGB images, uint8 (0-255) or floats in [0, 1].
    config : FeatureConfig
        The descriptor's parameters.
    batch_size : int, default 128
        Images per computation batch (memory only).
    """
    imgs = np.asarray(images)
    if imgs.ndim != 4 or imgs.shape[3] != 3:
        raise ConfigError(f"images must have shape (n, H, W, 3), got {imgs.shape}")
    c = config
    n, H, W, _ = imgs.shape
    _check_divides(H, c.downsample, "downsample")
    _check_divides(W, c.downsample, "downsample")
    h, w = H // c.downsample, W // c.downsample
    for g in (*c.grids, c.colour_grid):
        _check_divides(h, g, "grid")
        _check_divides(w, g, "grid")
    scale = 255.0 if imgs.dtype == np.uint8 else 1.0
    nb, cb = c.orientation_bins, c.colour_bins
    out = np.empty((n, feature_dimension(c)))
    for s in range(0, n, batch_size):
        x = imgs[s : s + batch_size].astype(np.float64) / scale
        B = len(x)
        x = x.reshape(B, h, c.downsample, w, c.downsample, 3).mean(axis=(2, 4))
        lum = x @ _LUMA
        gx = np.zeros_like(lum)
        gy = np.zeros_like(lum)
        gx[:, :, 1:-1] = lum[:, :, 2:] - lum[:, :, :-2]
        gy[:, 1:-1] = lum[:, 2:] - lum[:, :-2]
        mag = np.hypot(gx, gy)
        ang = np.mod(np.arctan2(gy, gx), np.pi)
        idx = np.minimum((ang * (nb / np.pi)).astype(np.int64), nb - 1)
        votes = np.zeros(mag.shape + (nb,))
        np.put_along_axis(votes, idx[..., None], mag[..., None], axis=-1)
        parts = []
        for g in c.grids:
            hist = _pool(votes, g).reshape(B, g * g, nb)
            hist = hist / (np.linalg.norm(hist, axis=2, keepdims=True) + 1e-3)
            parts.append(np.sqrt(hist).reshape(B, -1))
        q = np.minimum((x * cb).astype(np.int64), cb - 1)
        code = ((q[..., 0] * cb + q[..., 1]) * cb + q[..., 2]).reshape(B, -1)
        counts = np.zeros((B, cb**3))
        np.add.at(counts, (np.repeat(np.arange(B), code.shape[1]), code.ravel()), 1.0)
        parts.append(np.sqrt(counts / code.shape[1]))
        mean = _pool(x, c.colour_grid)
        std = np.sqrt(np.maximum(_pool(x * x, c.colour_grid) - mean * mean, 0.0))
        parts += [mean.reshape(B, -1), std.reshape(B, -1)]
        out[s : s + B] = np.concatenate(parts, axis=1)
    return out


def cache_dir() -> Path:
    """Feature cache folder: ``$XBAR_CACHE_DIR/features`` or ``~/.cache/xbar/features``."""
    env = os.environ.get("XBAR_CACHE_DIR")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "xbar"
    return base / "features"


def _file_list(folder: Path, max_per_class: int | None) -> list:
    from .images import _EXTS

    rows = []
    for cls in sorted(d.name for d in folder.iterdir() if d.is_dir()):
        files = sorted(f for f in (folder / cls).iterdir() if f.suffix.lower() in _EXTS)
        rows += [(cls, f.name, f.stat().st_size) for f in files[:max_per_class]]
    return rows


def image_folder_features(
    root=None,
    split: str = "train",
    *,
    config: FeatureConfig = FeatureConfig(),
    max_per_class: int | None = None,
    cache: bool | str | Path = True,
) -> tuple[np.ndarray, np.ndarray, list]:
    """Descriptors of ``<root>/<split>/<class>/*.jpg``, computed once and cached.

    Parameters
    ----------
    root : path-like or None
        Data-set folder; default ``xbar.data.data_dir() / "imagenette4"``.
    split : str
        ``"train"`` or ``"test"``.
    config : FeatureConfig
        The descriptor's parameters.
    max_per_class : int or None
        Keep the first files (sorted by name) of each class (quick runs).
    cache : bool or path
        True: :func:`cache_dir`; a path: that folder; False: no cache.

    Returns
    -------
    features : (n, d) float64,  labels : (n,) int64,  classes : list of str
    """
    from . import data_dir
    from .images import load_image_folder

    root = Path(root) if root is not None else data_dir() / "imagenette4"
    folder = root / split
    if not folder.is_dir():
        from ._format import DataFormatError

        raise DataFormatError(folder, f"split folder {split!r} not found under {root}")
    path = None
    if cache is not False:
        key = json.dumps(
            {
                "version": FEATURE_VERSION,
                "config": asdict(config),
                "split": split,
                "root": str(root.resolve()),
                "files": _file_list(folder, max_per_class),
            }
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        folder_c = cache_dir() if cache is True else Path(cache)
        path = folder_c / f"{root.name}_{split}_{digest}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as d:
                return d["features"], d["labels"], [str(c) for c in d["classes"]]
    images, labels, classes = load_image_folder(root, split, max_per_class=max_per_class)
    feats = image_features(images, config)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_atomic(path, "wb") as fh:
            np.savez(fh, features=feats, labels=labels, classes=np.array(classes))
    return feats, labels, classes


class PCAProjection:
    """Standardise, project on the leading principal axes, optionally whiten (unsupervised).

    ``z = ((f - mean) / std) @ components.T``, divided by the axis standard deviations when
    ``whiten``; fitted on training descriptors only (no labels).

    Parameters
    ----------
    n_components : int
        Output dimension.
    whiten : bool, default True
        Scale every output to unit variance on the fitting data.
    """

    def __init__(self, n_components: int, whiten: bool = True):
        check_scalar(n_components, "n_components", low=1, integer=True)
        self.n_components = int(n_components)
        self.whiten = bool(whiten)

    def fit(self, F) -> "PCAProjection":
        """Fit the standardisation and principal axes on ``F``; returns self.

        Parameters
        ----------
        F : ndarray, shape (n, d)
            Training descriptors.
        """
        F = as_float_array(F, "F", shape=(None, None))
        n, d = F.shape
        if self.n_components > min(n, d):
            raise ConfigError(
                f"n_components must be <= min(n_samples, n_features) = "
                f"{min(n, d)}, got {self.n_components}"
            )
        self.mean_ = F.mean(axis=0)
        self.std_ = F.std(axis=0)
        self.std_[self.std_ == 0] = 1.0
        Z = (F - self.mean_) / self.std_
        _, s, vt = np.linalg.svd(Z, full_matrices=False)
        self.components_ = vt[: self.n_components]
        k = self.n_components
        self.scale_ = s[:k] / np.sqrt(n) if self.whiten else np.ones(k)
        self.scale_[self.scale_ == 0] = 1.0
        self.explained_variance_ratio_ = s[: self.n_components] ** 2 / np.sum(s**2)
        return self

    def transform(self, F) -> np.ndarray:
        """Project ``F`` (n, d) on the fitted axes: (n, n_components).

        Parameters
        ----------
        F : ndarray, shape (n, d)
            Descriptors.
        """
        F = as_float_array(F, "F", shape=(None, self.mean_.size))
        return ((F - self.mean_) / self.std_) @ self.components_.T / self.scale_
