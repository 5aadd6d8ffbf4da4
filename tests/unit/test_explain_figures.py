"""core.explain.figures (the Explain page's tiles) and render's downloads, checked against pixels computed here.

The "gray" colour map is the identity ramp (value v -> (v, v, v)), so every expected tile below is plain
arithmetic on the map and the image, independent of the code under test.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from core.explain.base import Explanation
from core.explain.compare import ModelEntry, ModelResult
from core.explain.figures import (MASK_ALPHA, layer_tile, method_tile, model_tile, pil_image, result_tiles,
                                  sanity_tiles, shapes_preview)
from core.explain.metrics import normalise_uint8
from core.explain.render import npy_bytes, png_bytes, settings_json

S = 8


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (S, S, 3), dtype=np.uint8)


def _explanation(native: np.ndarray, notes: list[str] | None = None, **kw) -> Explanation:
    """A map at S×S made of native blocks (nearest neighbour), so map and native agree."""
    k = S // native.shape[0]
    full = np.kron(native, np.ones((k, k))).astype(np.float32)
    return Explanation(method="gradcam", target=1, label="circle", score=0.5, logit=0.0, map=full,
                       native=native.astype(np.float32), image=_image(), layer=kw.pop("layer", "features.2"),
                       notes=notes or [], seconds=0.0123, **kw)


def _blend(image: np.ndarray, norm: np.ndarray, opacity: float) -> np.ndarray:
    heat = np.round(norm * 255)[..., None]  # the gray ramp, every channel
    return np.round((1 - opacity) * image.astype(np.float64) + opacity * heat)


def test_result_tiles_overlay_raw_and_native_blocks():
    native = np.array([[0, 1], [3, 4]])
    e = _explanation(native)
    over, raw, nat = result_tiles(e, 0.25, "gray")
    norm = e.map / 4
    assert over.caption == "overlay" and over.image.dtype == np.uint8 and over.image.shape == (S, S, 3)
    assert np.abs(over.image.astype(np.int64) - _blend(e.image, norm, 0.25)).max() <= 1  # float32 vs float64 ties
    assert raw.caption == "raw map (max 4)"
    assert np.array_equal(raw.image[..., 0], np.round(norm * 255).astype(np.uint8))
    assert nat.caption == "native map 2×2"
    block = 224 // 2  # native_image draws one block per cell at 224 px
    assert nat.image.shape == (2 * block, 2 * block, 3)
    # 0, 0.25, 0.75, 1 of the ramp: 63.75 -> 64, 191.25 -> 191
    assert [nat.image[0, 0, 0], nat.image[0, block, 0], nat.image[block, 0, 0], nat.image[-1, -1, 0]] == [0, 64, 191,
                                                                                                          255]


def test_no_signal_is_not_stretched_and_one_cell_has_no_native_tile():
    e = _explanation(np.array([[0.0, 1e-12], [0.0, 0.0]]), notes=["no signal: the map is flat"])
    over, raw, nat = result_tiles(e, 0.7, "inferno")
    assert np.array_equal(over.image, e.image) and raw is None and nat is None
    one = _explanation(np.array([[2.0]]))
    over, raw, nat = result_tiles(one, 1.0, "gray")
    assert np.array_equal(over.image, np.full((S, S, 3), 255, np.uint8)) and raw is not None and nat is None


def test_grid_tiles_captions_and_images():
    e = _explanation(np.array([[0, 1], [3, 4]]))
    expected = _blend(e.image, e.map / 4, 0.5)
    t = method_tile("Grad-CAM", e, 0.5, "gray")
    assert t.caption == "Grad-CAM · 12 ms" and np.abs(t.image.astype(np.int64) - expected).max() <= 1
    assert layer_tile("features.2", e, 0.5, "gray").caption == "features.2 · 2×2"
    flat = _explanation(np.zeros((2, 2)), notes=["no signal: the map is flat"])
    assert layer_tile("features.5", flat, 0.5, "gray").caption == "features.5 · 2×2 · no signal"
    row = ModelResult(ModelEntry("run A (lenet5)", nn.Identity(), "lenet5", ["square", "circle"], S), e)
    m = model_tile(row, 0.5, "gray")
    assert m.caption == "run A (lenet5) · “circle” p = 0.500 · features.2 2×2"
    assert np.array_equal(m.image, t.image)
    pixels = ModelResult(row.entry, _explanation(np.ones((S, S)), layer=None))
    assert model_tile(pixels, 0.5, "gray").caption == "run A (lenet5) · “circle” p = 0.500"


def test_sanity_tiles_scale_each_map_by_its_own_max():
    image = _image(1)
    base = np.arange(S * S, dtype=np.float32).reshape(S, S)
    steps = [{"stage": "original", "spearman": 1.0, "map": base},
             {"stage": "layer4", "spearman": 0.8765, "map": base * 3},
             {"stage": "layer3", "spearman": float("nan"), "map": np.zeros((S, S), np.float32)}]
    tiles = sanity_tiles(image, steps, 0.5, "gray")
    assert [t.caption for t in tiles] == ["original · ρ=1.00", "layer4 · ρ=0.88", "layer3 · ρ=nan"]
    assert np.abs(tiles[0].image.astype(np.int64) - _blend(image, base / base.max(), 0.5)).max() <= 1
    assert np.array_equal(tiles[0].image, tiles[1].image)  # ×3 everywhere: the same picture
    assert np.array_equal(tiles[2].image, image)  # nothing to draw: the image as is


def test_shapes_preview_tints_only_the_mask():
    img = torch.from_numpy(_image(2)).permute(2, 0, 1).contiguous()  # uint8 [3, S, S], as the data set gives it
    mask = np.zeros((S, S), bool)
    mask[2:5, 3:6] = True
    tile = shapes_preview(img, mask, "circle")
    hwc = _image(2).astype(np.float64)
    assert tile.caption == "true class: circle (true shape mask tinted red)"
    assert np.array_equal(tile.image[~mask], _image(2)[~mask])
    tinted = np.round((1 - MASK_ALPHA) * hwc[mask] + MASK_ALPHA * np.array([255.0, 0.0, 0.0]))
    assert np.abs(tile.image[mask].astype(np.int64) - tinted).max() <= 1


def test_pil_image_gives_back_the_pixels():
    pil = Image.fromarray(_image(3))
    assert pil_image(pil) is pil
    u8 = torch.from_numpy(_image(3)).permute(2, 0, 1)[None]
    back = np.asarray(pil_image(normalise_uint8(u8)))
    assert back.shape == (S, S, 3) and np.abs(back.astype(np.int64) - _image(3)).max() <= 1


def test_downloads_round_trip():
    e = _explanation(np.array([[0, 1], [3, 4]]))
    got = np.load(io.BytesIO(npy_bytes(e.map)))
    assert got.dtype == np.float32 and np.array_equal(got, e.map)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(e.image)))), e.image)
    zoo = json.loads(settings_json(e, arch="resnet18", weights="default", checkpoint=None, image_size=S))
    assert zoo["weights"] == "default" and zoo["checkpoint"] is None and zoo["layer"] == "features.2"
    assert (zoo["target"], zoo["label"], zoo["image_size"]) == (1, "circle", S)
    run = json.loads(settings_json(e, arch="lenet5", weights="none", checkpoint="/runs/a", image_size=S))
    assert run["weights"] is None and run["checkpoint"] == "/runs/a"


@pytest.mark.parametrize("opacity", [0.0, 1.0])
def test_opacity_ends(opacity):
    e = _explanation(np.array([[0, 1], [3, 4]]))
    t = method_tile("Saliency", e, opacity, "gray")
    want = e.image if opacity == 0 else np.repeat(np.round(e.map / 4 * 255)[..., None], 3, 2)
    assert np.array_equal(t.image, want.astype(np.uint8))
