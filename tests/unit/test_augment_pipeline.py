"""Pipelines: seeds make grids reproducible, records match what was applied, geometry reports are right."""
from __future__ import annotations

import json

import pytest
import torch

from core.augment import (
    PRESETS,
    AugmentError,
    build_transform,
    from_json,
    preview_grid,
    resolve_spec,
    to_json,
    validate_spec,
)


def _img(h=33, w=47, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)


CHAIN = {"steps": [{"name": "random_resized_crop"}, {"name": "hflip", "p": 0.5},
                   {"name": "rotation", "p": 0.5}, {"name": "randaugment"}, {"name": "random_erasing"}]}


def test_same_seed_same_grid_and_different_seed_different_grid():
    img = _img()
    a = preview_grid(img, CHAIN, n=6, seed=11)
    b = preview_grid(img, CHAIN, n=6, seed=11)
    c = preview_grid(img, CHAIN, n=6, seed=12)
    assert all(torch.equal(x.image, y.image) for x, y in zip(a, b))
    assert [x.caption for x in a] == [y.caption for y in b]
    # seed + i: the grid for seed 12 is the grid for seed 11 shifted by one tile
    assert all(torch.equal(x.image, y.image) for x, y in zip(a[1:], c[:-1]))
    assert not all(torch.equal(x.image, y.image) for x, y in zip(a, c))


def test_preview_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    preview_grid(_img(), CHAIN, n=3, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_tiles_alternate_between_images():
    a, b = _img(seed=1), _img(seed=2)
    tiles = preview_grid([a, b], {"steps": []}, n=4, seed=0)
    assert [t.source for t in tiles] == [0, 1, 0, 1]
    assert torch.equal(tiles[1].image, b) and torch.equal(tiles[2].image, a)


def test_p_zero_never_applies_and_says_so():
    img = _img()
    tiles = preview_grid(img, {"steps": [{"name": "rotation", "p": 0.0}, {"name": "hflip", "p": 0.0}]}, n=4)
    for t in tiles:
        assert torch.equal(t.image, img)
        assert "not applied (p=0)" in t.caption
        assert not any(r.applied for r in t.records)


def test_recorded_params_are_the_applied_params():
    img = _img()
    tile = preview_grid(img, {"steps": [{"name": "rotation", "params": {"degrees": 40}}]}, n=1, seed=4)[0]
    angle = tile.records[0].ops[0]["params"]["angle"]
    assert -40 <= angle <= 40 and tile.caption.startswith("rotate")
    from torchvision.transforms import v2

    again = v2.RandomRotation(40, interpolation="bilinear", fill=0).transform(img, {"angle": angle})
    # the record is rounded to 4 decimals: allow interpolation noise on a few pixels
    assert (again.int() - tile.image.int()).abs().gt(2).float().mean() < 0.01


def _marker_image(h, w, cx, cy, r=2):
    img = torch.zeros(3, h, w, dtype=torch.uint8)
    img[:, cy - r:cy + r + 1, cx - r:cx + r + 1] = 255
    return img


def _centroid(img):
    m = img[0].float()
    ys, xs = torch.meshgrid(torch.arange(m.shape[0]), torch.arange(m.shape[1]), indexing="ij")
    tot = m.sum()
    return float((m * xs).sum() / tot) + 0.5, float((m * ys).sum() / tot) + 0.5  # pixel centres at +0.5


@pytest.mark.parametrize("step", [
    {"name": "affine", "params": {"degrees": 25, "translate": 0.1, "scale": [0.9, 1.1], "shear": 10, "shear_y": 5}},
    {"name": "rotation", "params": {"degrees": 30}},
    {"name": "hflip", "p": 1.0},
    {"name": "vflip", "p": 1.0},
    {"name": "random_resized_crop", "params": {"scale": [0.7, 1.0]}},
])
@pytest.mark.parametrize("seed", [0, 7])
def test_reported_matrix_and_corners_match_where_a_marker_moves(step, seed):
    h, w = 61, 83
    spec = {"steps": [step]}
    geo = preview_grid(_img(h, w), spec, n=1, seed=seed)[0].records[0].ops[0]["geometry"]
    m = torch.tensor(geo["matrix"], dtype=torch.float64)
    corners = torch.tensor([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=torch.float64)
    assert torch.allclose(corners @ m.T, torch.tensor(geo["corners"], dtype=torch.float64), atol=0.05)
    checked = 0
    for cx, cy in [(20, 15), (62, 16), (60, 45), (22, 44), (41, 30)]:
        tile = preview_grid(_marker_image(h, w, cx, cy), spec, n=1, seed=seed)[0]
        px, py = (m @ torch.tensor([cx + 0.5, cy + 0.5, 1.0], dtype=torch.float64)).tolist()
        if not (4 < px < w - 4 and 4 < py < h - 4) or tile.image[0].sum() == 0:
            continue  # the marker left the frame
        gx, gy = _centroid(tile.image)
        assert abs(gx - px) < 1.0 and abs(gy - py) < 1.0, (cx, cy, (gx, gy), (px, py))
        checked += 1
    assert checked >= 2


def test_perspective_reports_corners_but_no_affine_matrix():
    tile = preview_grid(_img(40, 50), {"steps": [{"name": "perspective", "p": 1.0,
                                                  "params": {"distortion_scale": 0.8}}]}, n=1, seed=2)[0]
    geo = tile.records[0].ops[0]["geometry"]
    assert geo["matrix"] is None and len(geo["corners"]) == 4


def test_policy_records_name_ops_and_magnitudes():
    tile = preview_grid(_img(), {"steps": [{"name": "randaugment", "params": {"num_ops": 3}}]}, n=1, seed=1)[0]
    ops = tile.records[0].ops[0]["params"]["ops"]
    assert len(ops) == 3 and all("op" in o and "magnitude" in o for o in ops)
    assert tile.caption.startswith("RandAugment: ")


def test_json_round_trip_for_every_preset_and_a_full_chain():
    for name in PRESETS:
        norm = resolve_spec(name)
        assert from_json(to_json(norm)) == from_json(json.dumps(json.loads(to_json(name))))
        assert validate_spec(json.loads(to_json(norm))) == norm
    full = {"steps": [{"name": n} for n in ("affine", "color_jitter", "gaussian_blur", "augmix", "autoaugment")],
            "mixing": {"name": "mixup", "p": 0.5, "params": {"alpha": 0.4}}}
    norm = validate_spec(full)
    text = to_json(norm)
    assert from_json(text) == norm
    assert from_json(text.encode()) == norm


@pytest.mark.parametrize("text, words", [
    ("", ["empty"]),
    ("{\"steps\": [", ["not valid JSON", "line 1"]),
    (b"\xff\xfe", ["UTF-8"]),
    ("[]", ["JSON object"]),
])
def test_bad_json_is_a_clear_error(text, words):
    with pytest.raises(AugmentError) as info:
        from_json(text)
    for w in words:
        assert w in str(info.value)


def test_presets_required_by_the_training_engine():
    assert {"none", "flip-crop", "randaugment", "trivialaugment"} <= set(PRESETS)
    steps = resolve_spec("flip-crop")["steps"]
    assert [s["name"] for s in steps] == ["random_resized_crop", "hflip"]
    assert steps[0]["params"]["scale"] == (0.6, 1.0)
    ra = resolve_spec("randaugment")["steps"][-1]
    assert ra["name"] == "randaugment" and ra["params"]["num_ops"] == 2 and ra["params"]["magnitude"] == 9
    img = _img()
    assert torch.equal(build_transform(None)(img), img) and torch.equal(build_transform("none")(img), img)
    with pytest.raises(AugmentError, match="Presets"):
        build_transform("fancy")
