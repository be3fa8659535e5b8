"""The fixed image front end (xbar.data.features): each descriptor block against an independent
computation on synthetic images, the cache, and the PCA projection against numpy's covariance."""

import numpy as np
import pytest

from xbar.data import features as F
from xbar.exceptions import ConfigError

CFG = F.FeatureConfig(downsample=2, orientation_bins=9, grids=(1, 2), colour_bins=4, colour_grid=2)


def _blocks(f, cfg=CFG):
    nb = cfg.orientation_bins
    n_hog = nb * sum(g * g for g in cfg.grids)
    n_col = cfg.colour_bins**3
    return f[:n_hog], f[n_hog : n_hog + n_col], f[n_hog + n_col :]


def test_dimension_of_the_default_descriptor_is_349():
    assert F.feature_dimension() == 349
    x = np.zeros((1, 224, 224, 3), dtype=np.uint8)
    assert F.image_features(x).shape == (1, 349)


def test_horizontal_ramp_votes_only_the_zero_orientation_bin():
    # luminance grows along x only: gradient angle 0 -> bin 0 everywhere; each cell's normalised
    # histogram is (m/(m+1e-3)) in bin 0, then square-rooted
    ramp = np.tile(np.linspace(0, 1, 32)[None, :, None], (32, 1, 3))
    f = F.image_features(ramp[None], CFG)[0]
    hog, _, _ = _blocks(f)
    hog = hog.reshape(-1, 9)
    assert np.all(hog[:, 1:] == 0)
    assert np.all(hog[:, 0] > 0.99)
    # a vertical ramp votes the pi/2 bin (index 4 of 9: [4pi/9, 5pi/9))
    f = F.image_features(np.transpose(ramp, (1, 0, 2))[None], CFG)[0]
    hog = _blocks(f)[0].reshape(-1, 9)
    assert np.all(np.delete(hog, 4, axis=1) == 0) and np.all(hog[:, 4] > 0.99)


def test_colour_blocks_of_a_two_colour_image_against_direct_counts():
    img = np.zeros((32, 32, 3))
    img[:, :16] = (0.9, 0.1, 0.3)  # left half
    img[:, 16:] = (0.2, 0.6, 0.95)  # right half
    f = F.image_features(img[None], CFG)[0]
    hog, col, layout = _blocks(f)
    # joint histogram: bins (3,0,1) and (0,2,3), half of the pixels each, square-rooted
    expect = np.zeros(64)
    expect[(3 * 4 + 0) * 4 + 1] = np.sqrt(0.5)
    expect[(0 * 4 + 2) * 4 + 3] = np.sqrt(0.5)
    np.testing.assert_allclose(col, expect, atol=1e-12)
    # 2x2 layout: means per cell equal the colour of that half, std 0
    mean = layout[:12].reshape(2, 2, 3)
    std = layout[12:].reshape(2, 2, 3)
    np.testing.assert_allclose(mean[:, 0], [[0.9, 0.1, 0.3]] * 2, atol=1e-12)
    np.testing.assert_allclose(mean[:, 1], [[0.2, 0.6, 0.95]] * 2, atol=1e-12)
    np.testing.assert_allclose(std, 0.0, atol=1e-6)
    # uint8 input gives the same descriptor as floats in [0, 1]
    u8 = np.round(img * 255).astype(np.uint8)
    np.testing.assert_allclose(
        F.image_features(u8[None], CFG)[0], F.image_features(u8[None] / 255.0, CFG)[0], atol=1e-12
    )


def test_orientation_histogram_matches_a_per_pixel_loop(rng):
    img = rng.uniform(0, 1, size=(16, 16, 3))
    cfg = F.FeatureConfig(
        downsample=1, orientation_bins=6, grids=(1,), colour_bins=2, colour_grid=1
    )
    hog = F.image_features(img[None], cfg)[0][:6]
    lum = img @ np.array([0.299, 0.587, 0.114])
    h = np.zeros(6)
    for i in range(16):
        for j in range(16):
            gx = lum[i, j + 1] - lum[i, j - 1] if 0 < j < 15 else 0.0
            gy = lum[i + 1, j] - lum[i - 1, j] if 0 < i < 15 else 0.0
            ang = np.arctan2(gy, gx) % np.pi
            h[min(int(ang / np.pi * 6), 5)] += np.hypot(gx, gy)
    h /= 256
    np.testing.assert_allclose(hog, np.sqrt(h / (np.linalg.norm(h) + 1e-3)), rtol=1e-10)


def test_bad_shapes_and_sizes_raise():
    with pytest.raises(ConfigError, match="images"):
        F.image_features(np.zeros((2, 8, 8)))
    with pytest.raises(ConfigError, match="grid"):
        F.image_features(np.zeros((1, 30, 30, 3)), CFG)  # 15 px not divisible by 2
    with pytest.raises(ConfigError, match="grids"):
        F.FeatureConfig(grids=())


def test_folder_features_are_cached_and_reloaded(tmp_path, monkeypatch):
    PIL = pytest.importorskip("PIL.Image")
    root = tmp_path / "set"
    r = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / "train" / cls).mkdir(parents=True)
        for k in range(3):
            PIL.fromarray(r.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                root / "train" / cls / f"{k}.png"
            )
    cache = tmp_path / "cache"
    f1, y1, classes = F.image_folder_features(root, "train", config=CFG, cache=cache)
    assert f1.shape == (6, F.feature_dimension(CFG)) and classes == ["a", "b"]
    np.testing.assert_array_equal(y1, [0, 0, 0, 1, 1, 1])
    assert len(list(cache.glob("*.npz"))) == 1

    def boom(*a, **k):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(F, "image_features", boom)
    f2, y2, _ = F.image_folder_features(root, "train", config=CFG, cache=cache)
    np.testing.assert_array_equal(f1, f2)
    # a subset has its own cache entry
    monkeypatch.undo()
    f3, _, _ = F.image_folder_features(root, "train", config=CFG, cache=cache, max_per_class=2)
    assert f3.shape[0] == 4 and len(list(cache.glob("*.npz"))) == 2
    np.testing.assert_array_equal(f3, f1[[0, 1, 3, 4]])


def test_pca_whitens_and_matches_the_covariance_eigenvectors(rng):
    A = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 3.0
    p = F.PCAProjection(3).fit(A)
    Z = p.transform(A)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(np.cov(Z.T, bias=True), np.eye(3), atol=1e-10)
    S = (A - A.mean(0)) / A.std(0)
    w, v = np.linalg.eigh(np.cov(S.T, bias=True))
    top = v[:, ::-1][:, :3]
    # same subspace: projections onto the top eigenvectors agree up to sign
    np.testing.assert_allclose(np.abs(p.components_ @ top), np.eye(3), atol=1e-8)
    np.testing.assert_allclose(p.explained_variance_ratio_, w[::-1][:3] / w.sum(), rtol=1e-10)
    with pytest.raises(ConfigError, match="n_components"):
        F.PCAProjection(10).fit(A)
