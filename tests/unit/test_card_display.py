"""Issue 8.6 / 8.11: how the Architectures page shows numbers (FLOPs units, auxiliary heads, chart labels)."""
from __future__ import annotations

import itertools

import pytest

from core.models.card import format_flops, label_positions, params_note


@pytest.mark.parametrize("flops,text", [
    (0, "0 FLOPs"), (999, "999 FLOPs"), (846_234, "846 kFLOPs"), (1_500_000, "1.5 MFLOPs"),
    (1.8226e9, "1.82 GFLOPs"), (31e9, "31 GFLOPs"), (float("nan"), "—"),
])
def test_format_flops_keeps_three_digits(flops, text):
    assert format_flops(flops) == text


def test_params_note_only_when_training_and_inference_counts_differ():
    assert params_note({"params": 13_004_888, "inference_params": 6_624_904}) == (
        "6.62 M at inference, 13.00 M with the auxiliary heads used in training")
    assert params_note({"params": 61_706, "inference_params": 61_706}) is None


def _boxes(xs, ys, texts, where, kw):
    """Rebuild the label boxes independently (same geometry the docstring promises)."""
    import math

    W, H, f = kw["width_px"], kw["height_px"], kw["font_px"]
    lx = [math.log10(v) for v in kw["x_range"]]
    ly = [math.log10(v) for v in kw["y_range"]]
    out = []
    for x, y, t, w in zip(xs, ys, texts, where):
        if w is None:
            continue
        cx = (math.log10(x) - lx[0]) / (lx[1] - lx[0]) * W
        cy = (math.log10(y) - ly[0]) / (ly[1] - ly[0]) * H
        bw, bh = 0.6 * f * len(t), 1.3 * f
        dx = {"top center": -bw / 2, "bottom center": -bw / 2, "middle right": 8, "middle left": -8 - bw}[w]
        dy = {"top center": 7, "bottom center": -7 - bh, "middle right": -bh / 2, "middle left": -bh / 2}[w]
        out.append((cx + dx, cy + dy, cx + dx + bw, cy + dy + bh))
    return out


def test_labels_never_overlap_and_the_selected_one_is_always_labelled():
    # A crowded cluster like ResNet-18 / EfficientNet-B3 / SE-ResNet-18 plus far-away points.
    xs = [138.0, 0.06, 2.5, 11.7, 11.8, 11.9, 12.0, 12.1, 12.2]
    ys = [31.0, 0.0009, 0.12, 3.6, 3.62, 3.64, 3.66, 3.68, 3.7]
    texts = ["VGG-16", "LeNet-5", "MobileNet-V3-S", "ResNet-18", "EfficientNet-B3", "SE-ResNet-18", "A-1", "B-2",
             "C-3"]
    kw = dict(x_range=(0.03, 250.0), y_range=(0.0003, 80.0), width_px=700, height_px=440, font_px=11)
    for first in range(len(xs)):
        where = label_positions(xs, ys, texts, first=first, **kw)
        assert where[first] is not None
        assert where[0] and where[1] and where[2]  # isolated points always get a label
        assert None in where[3:]  # six names around one spot: only four positions exist
        for a, b in itertools.combinations(_boxes(xs, ys, texts, where, kw), 2):
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_the_selected_model_is_named_even_in_a_crowd():
    # A big dot ringed by neighbours whose dots cover every label position: it is still labelled.
    xs, ys = [10.0, 10.0, 10.0, 13.0, 7.7], [1.0, 1.45, 0.69, 1.0, 1.0]
    texts = ["Chosen", "N", "S", "E", "W"]
    kw = dict(x_range=(1.0, 100.0), y_range=(0.1, 10.0), width_px=400, height_px=400, font_px=11)
    where = label_positions(xs, ys, texts, first=0, sizes=[30, 30, 30, 30, 30], **kw)
    assert where[0] is not None
    assert label_positions(xs, ys, texts, first=None, sizes=[30, 30, 30, 30, 30], **kw)[0] is None
