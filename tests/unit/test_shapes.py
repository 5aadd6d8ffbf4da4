"""Shapes: determinism, disjoint splits, masks, bias, cache, sizes, and the core.data contract on it."""
from __future__ import annotations

import colorsys
import hashlib

import numpy as np
import pytest
import torch

from core.data import DataError, class_counts, open_dataset, preview_grid, train_val_split
from core.data.shapes import BACKGROUND_HUES, CLASSES, ShapesDataset, split_size


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))


def test_item_contract():
    ds = open_dataset("shapes", "train", image_size=32, n=24)
    assert len(ds) == 24 and ds.classes == list(CLASSES) and len(CLASSES) >= 6
    image, label = ds[3]
    assert image.dtype == torch.uint8 and image.shape == (3, 32, 32)
    assert isinstance(label, int) and label == ds.targets[3]
    assert ds.mask(3).shape == (32, 32) and ds.mask(3).dtype == bool
    x, y = ds.tensors()
    assert x.shape == (24, 3, 32, 32) and x.dtype == torch.uint8 and y.dtype == torch.int64
    assert y.tolist() == ds.targets
    # A transform that writes in place must not corrupt the cached array.
    ds2 = open_dataset("shapes", "train", image_size=32, n=24, transform=lambda t: t.zero_())
    assert int(ds2[3][0].sum()) == 0 and torch.equal(ds[3][0], image)


def test_deterministic_and_seeded():
    a = ShapesDataset("train", image_size=24, n=12, seed=7, use_cache=False)
    b = ShapesDataset("train", image_size=24, n=12, seed=7, use_cache=False)
    c = ShapesDataset("train", image_size=24, n=12, seed=8, use_cache=False)
    assert np.array_equal(a.images, b.images) and a.targets == b.targets
    assert not np.array_equal(a.images, c.images)


def test_classes_balanced_and_split_sizes():
    ds = ShapesDataset("train", image_size=16, n=60)
    assert set(class_counts(ds).values()) == {10}
    assert len(ShapesDataset("test", image_size=16, n=60)) == split_size("test", 60) == 10
    assert len(ShapesDataset("val", image_size=16, n=60, n_eval=7)) == 7


def test_splits_are_disjoint():
    digests = {}
    for split in ("train", "val", "test", "unlabelled"):
        ds = ShapesDataset(split, image_size=24, n=30, n_eval=30)
        digests[split] = {hashlib.sha1(img.tobytes()).hexdigest() for img in ds.images}
        assert len(digests[split]) == len(ds)
    splits = list(digests)
    for i, s in enumerate(splits):
        for t in splits[i + 1:]:
            assert not digests[s] & digests[t], (s, t)


def test_unlabelled_split_has_no_targets_but_keeps_truth():
    ds = open_dataset("shapes", "unlabelled", image_size=16, n=12)
    assert ds.targets == [-1] * 12 and ds[0][1] == -1
    assert ds.labels.min() >= 0
    assert class_counts(ds) == {**{c: 0 for c in CLASSES}, "unlabelled": 12}


def test_masks_match_shape_pixels():
    ds = ShapesDataset("train", image_size=64, n=30)
    for i in range(len(ds)):
        img = ds.images[i].transpose(1, 2, 0).astype(float)
        mask = ds.mask(i)
        color = np.array(ds.meta(i)["color"], dtype=float)
        assert mask.sum() > 20
        inside = np.abs(img[mask] - color).max(axis=1)
        # Inside: the shape colour up to pixel noise and anti-aliased edge pixels.
        assert np.median(inside) < 20, i
        # A ring just outside the mask is mostly not the shape colour.
        ring = _dilate(mask, 2) & ~_dilate(mask, 1)
        outside = np.abs(img[ring] - color).max(axis=1)
        assert np.median(outside) > np.median(inside) + 15, i


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out


def _background_class_from_pixels(ds: ShapesDataset, i: int) -> int:
    """Nearest class hue to the median colour of the pixels outside the shape (what a shortcut learner sees)."""
    img = ds.images[i].transpose(1, 2, 0)
    r, g, b = (np.median(img[~ds.mask(i)], axis=0) / 255).tolist()
    hue = colorsys.rgb_to_hsv(r, g, b)[0]
    dist = [min(abs(hue - h), 1 - abs(hue - h)) for h in BACKGROUND_HUES]
    return int(np.argmin(dist))


def test_bias_is_measurable_in_train_and_absent_in_test():
    k = len(CLASSES)
    train = ShapesDataset("train", image_size=32, n=300, bias=0.8)
    test = ShapesDataset("test", image_size=32, n=300, n_eval=300, bias=0.8)
    unbiased = ShapesDataset("train", image_size=32, n=300, bias=0.0)
    assert train.background_shortcut_accuracy() == pytest.approx(0.8 + 0.2 / k, abs=0.07)
    assert test.bias == 0.0
    assert test.background_shortcut_accuracy() == pytest.approx(1 / k, abs=0.07)
    assert unbiased.background_shortcut_accuracy() == pytest.approx(1 / k, abs=0.07)
    # Measured from pixels alone, as a network would.
    def pixel_acc(ds):
        return np.mean([_background_class_from_pixels(ds, i) == ds.labels[i] for i in range(len(ds))])
    assert pixel_acc(train) > 0.7
    assert pixel_acc(test) < 0.3
    # Bias changes only backgrounds: labels and shapes stay where they were.
    assert train.targets == unbiased.targets
    same_bg = train.background_index == unbiased.background_index
    assert np.array_equal(train.images[same_bg], unbiased.images[same_bg])


def test_cache_is_reused_and_survives_corruption(tmp_path):
    first = ShapesDataset("train", image_size=20, n=10, seed=3)
    assert first.generation_seconds > 0
    assert first.cache_path.is_file() and first.cache_path.parent == tmp_path / "data" / "cache"
    again = ShapesDataset("train", image_size=20, n=10, seed=3)
    assert again.generation_seconds == 0 and np.array_equal(first.images, again.images)
    first.cache_path.write_bytes(first.cache_path.read_bytes()[:100])  # truncated by a crash
    healed = ShapesDataset("train", image_size=20, n=10, seed=3)
    assert healed.generation_seconds > 0 and np.array_equal(first.images, healed.images)
    assert not list(first.cache_path.parent.glob("*.tmp"))
    # Other parameters, other file.
    other = ShapesDataset("train", image_size=20, n=10, seed=4)
    assert other.cache_path != first.cache_path


@pytest.mark.parametrize("size", [8, 37, 100])
def test_odd_sizes(size):
    ds = open_dataset("shapes", "test", image_size=size, n=12)
    assert ds[0][0].shape == (3, size, size) and ds.mask(1).shape == (size, size)
    assert ds.mask(1).any()


def test_same_scene_at_any_size():
    small = ShapesDataset("train", image_size=32, n=6, use_cache=False)
    large = ShapesDataset("train", image_size=96, n=6, use_cache=False)
    assert small.targets == large.targets
    for i in range(6):
        assert abs(small.mask(i).mean() - large.mask(i).mean()) < 0.03


@pytest.mark.parametrize("kwargs", [dict(bias=1.5), dict(bias="x"), dict(n=0), dict(n=2.5), dict(image_size=4), dict(seed=-1)])
def test_bad_options_raise_data_error(kwargs):
    kw = {"image_size": 16, "n": 6, **kwargs}
    with pytest.raises(DataError):
        open_dataset("shapes", "train", **kw)


def test_unknown_split_and_option():
    with pytest.raises(DataError, match="no 'holdout' split"):
        open_dataset("shapes", "holdout", image_size=16, n=6)
    with pytest.raises(DataError, match="unknown option"):
        open_dataset("shapes", "train", image_size=16, n=6, colour="red")
    with pytest.raises(DataError, match="unknown data set"):
        open_dataset("mnist", "train")


def test_train_val_split_is_stratified_and_deterministic():
    ds = ShapesDataset("train", image_size=16, n=120)
    tr, va = train_val_split(ds, val_fraction=0.25, seed=1)
    tr2, va2 = train_val_split(ds, val_fraction=0.25, seed=1)
    assert tr.indices == tr2.indices and va.indices == va2.indices
    assert not set(tr.indices) & set(va.indices) and len(tr) + len(va) == 120
    assert set(class_counts(va).values()) == {5}
    assert class_counts(tr) == {c: 15 for c in CLASSES}
    _, va3 = train_val_split(ds, val_fraction=0.25, seed=2)
    assert va3.indices != va.indices
    with pytest.raises(DataError):
        train_val_split(ds, val_fraction=1.0)


def test_preview_grid():
    ds = ShapesDataset("train", image_size=16, n=30)
    grid = preview_grid(ds, n=8, seed=0)
    assert len(grid) == 8 and grid == grid[:8]
    img, name = grid[0]
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8 and name in CLASSES
    assert [n for _, n in preview_grid(ds, n=8, seed=0)] == [n for _, n in grid]
    assert len(preview_grid(ds, n=100)) == 30


def test_lazy_mode_renders_only_what_is_asked_and_matches_full(tmp_path):
    lazy = open_dataset("shapes", "train", image_size=24, n=40, seed=5, lazy=True)
    assert not lazy.is_rendered and not list((tmp_path / "data" / "cache").glob("*.npz"))
    assert len(lazy) == 40 and len(lazy.targets) == 40
    grid = preview_grid(lazy, n=4, masks=True)
    assert len(grid) == 4 and not lazy.is_rendered
    full = ShapesDataset("train", image_size=24, n=40, seed=5, use_cache=False)
    for i in (0, 7, 39):
        assert torch.equal(lazy[i][0], full[i][0])
        assert np.array_equal(lazy.mask(i), full.mask(i))
        assert lazy.meta(i) == full.meta(i)
    x, _ = lazy.tensors()  # asking for everything renders everything (and caches it)
    assert lazy.is_rendered and torch.equal(x, torch.from_numpy(full.images))
    assert open_dataset("shapes", "train", image_size=24, n=40, seed=5, lazy=True).is_rendered


def test_preview_masks_are_tinted():
    ds = ShapesDataset("train", image_size=32, n=12)
    plain = preview_grid(ds, n=3, seed=1)
    tinted = preview_grid(ds, n=3, seed=1, masks=True)
    from core.data import preview_indices

    for (a, _), (b, _), i in zip(plain, tinted, preview_indices(ds, 3, 1)):
        m = ds.mask(i)
        assert np.array_equal(a[~m], b[~m]) and not np.array_equal(a[m], b[m])


def test_progress_callback():
    calls = []
    open_dataset("shapes", "train", image_size=16, n=300, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (300, 300) and len(calls) >= 2
