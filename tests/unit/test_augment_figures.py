"""core.augment.figures: what the Augmentation lab draws, checked against plain NumPy / torch."""
from __future__ import annotations

import numpy as np
import torch

from core.augment import mix_preview
from core.augment import figures as fig


def test_layout_conversions_round_trip_and_copy():
    arr = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    (t,) = fig.to_chw([arr])
    assert t.shape == (3, 4, 5) and int(t[2, 1, 3]) == int(arr[1, 3, 2])
    back = fig.to_hwc(t)
    assert np.array_equal(back, arr)
    t[0, 0, 0] = 255  # the tensor owns its pixels: the (possibly cached, read-only) array is untouched
    assert arr[0, 0, 0] == 0


def test_outline_draws_exactly_the_box_border_and_nothing_for_an_empty_box():
    img = np.zeros((120, 120, 3), dtype=np.uint8)
    out = fig.outline(img, (10, 20, 50, 60))
    drawn = np.argwhere(out.any(axis=2))
    assert drawn[:, 0].min() == 20 and drawn[:, 0].max() == 59  # rows y1..y2-1 (end-exclusive box)
    assert drawn[:, 1].min() == 10 and drawn[:, 1].max() == 49
    assert not out[40, 30].any()  # the inside stays as it was
    assert tuple(out[20, 30]) == fig.OUTLINE_COLOR
    assert np.array_equal(fig.outline(img, (5, 5, 5, 30)), img)


def test_soft_label_pairs_drop_zeros_and_sort_largest_first():
    classes = ["a", "b", "c"]
    assert fig.soft_label_pairs([0.25, 0.0, 0.75], classes) == [("a", 0.25), ("c", 0.75)]
    assert fig.soft_label_pairs([0.25, 0.0, 0.75], classes, top_first=True) == [("c", 0.75), ("a", 0.25)]


def test_shown_image_outlines_the_box_that_was_pasted():
    imgs = [torch.zeros(3, 64, 64, dtype=torch.uint8), torch.full((3, 64, 64), 200, dtype=torch.uint8)]
    res = mix_preview(imgs, [0, 1], 2, {"name": "cutmix", "p": 1.0, "params": {"alpha": 1.0}}, seed=3)
    x1, y1, x2, y2 = res.record.box
    shown = fig.shown_image(res, 0)
    if x2 > x1 and y2 > y1:
        assert tuple(shown[y1, x1]) == fig.OUTLINE_COLOR
    plain = fig.to_hwc(res.images[0])
    mask = np.ones(plain.shape[:2], bool)
    mask[y1:y2, x1:x2] = False  # outside the box nothing is drawn
    assert np.array_equal(shown[mask], plain[mask])


def test_geometry_text_and_table_use_the_drawn_numbers():
    latex = fig.geometry_latex([[1.0, 0.5, 3.0], [-0.25, 2.0, 4.5]])
    assert "1.000 & 0.500 & 3.0" in latex and "-0.250 & 2.000 & 4.5" in latex
    geo = {"corners": [[0, 0], [10.04, 0], [10, 8], [0, 8]], "matrix": None}
    rows = fig.corner_rows(geo, 10, 8)
    assert rows["corner"][2] == "bottom-right (10, 8)" and rows["went to (x, y) px"][1] == "(10.0, 0.0)"
    f = fig.geometry_figure(geo, 10, 8)
    assert list(f.data[1].x) == [0, 10.04, 10, 0, 0]  # the quadrilateral closes on its first corner


def test_demo_batch_is_seeded_and_labelled():
    a, la, ca = fig.demo_batch(fig.BATCH_SOURCES[0], 4, 32, seed=1)
    b, lb, _ = fig.demo_batch(fig.BATCH_SOURCES[0], 4, 32, seed=1)
    assert la == lb == [0, 1, 2, 3] and all(torch.equal(x, y) for x, y in zip(a, b))
    assert len(ca) == 5 and a[0].shape == (3, 32, 32) and a[0].dtype == torch.uint8


def test_prepare_arrays_is_prepare_images_on_arrays():
    from PIL import Image

    from core.augment import prepare_images

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)
    got = fig.prepare_arrays([a, b], 96)
    want = prepare_images([Image.fromarray(a), Image.fromarray(b)], 96)
    assert [g.shape for g in got] == [(64, 96, 3), (64, 96, 3)]
    assert all(np.array_equal(g, w.permute(1, 2, 0).numpy()) for g, w in zip(got, want))
