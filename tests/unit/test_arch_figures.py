"""core.models.figures: the Architectures page's charts and tables, built from small hand-made cards.

Fast: no model is built except the stacked-convolution lesson, which traces AlexNet / VGG-16 on the meta device.
"""
from __future__ import annotations

import math

import pytest

from core.models import get_spec
from core.models.card import format_flops, format_macs, format_params, label_positions
from core.models.figures import (
    ZOO_FONT_PX,
    ZOO_HEIGHT_PX,
    ZOO_WIDTH_PX,
    kernel_rows,
    layer_rows,
    stacked_rf_figure,
    topk_figure,
    zoo_figure,
    zoo_rows,
)
from core.models.stacked_convs import features_receptive_field, kernel_lessons


def _card(title: str, params: float, flops: float, acc1: float | None) -> dict:
    return {"title": title, "year": 2000, "inference_params": int(params), "flops": flops, "input_size": 224,
            "acc1": acc1, "acc5": None if acc1 is None else acc1 + 20}


CARDS = [_card("Tiny", 6e4, 8e5, None), _card("Mid", 5e6, 6e8, 70.0), _card("Big", 1.4e8, 3e10, 72.5),
         _card("Mid-too", 5.2e6, 6.3e8, 71.0)]


def test_zoo_figure_rings_only_the_selected_model_and_names_it():
    for selected in range(len(CARDS)):
        fig, unlabelled = zoo_figure(CARDS, selected=selected)
        rings = [t for t in fig.data if t.marker.symbol == "circle-open"]
        assert len(rings) == 1 and rings[0].name == f"selected: {CARDS[selected]['title']}"
        assert rings[0].x == (CARDS[selected]["inference_params"] / 1e6,)
        shown = [x for t in fig.data if t is not rings[0] for x in t.text if x]
        assert CARDS[selected]["title"] in shown  # the selected model is always named
        assert sorted(shown + unlabelled) == sorted(c["title"] for c in CARDS)  # every name: on the chart or listed


def test_zoo_figure_labels_are_the_placement_it_computes():
    fig, unlabelled = zoo_figure(CARDS, selected=1)
    xs = [c["inference_params"] / 1e6 for c in CARDS]
    ys = [c["flops"] / 1e9 for c in CARDS]
    sizes = [8 + (c["acc1"] - 50) if c["acc1"] is not None else 10 for c in CARDS]
    where = label_positions(xs, ys, [c["title"] for c in CARDS], x_range=(min(xs) / 1.6, max(xs) * 1.6),
                            y_range=(min(ys) / 2.5, max(ys) * 2.5), width_px=ZOO_WIDTH_PX,
                            height_px=ZOO_HEIGHT_PX, font_px=ZOO_FONT_PX, first=1, sizes=sizes)
    assert unlabelled == [c["title"] for c, w in zip(CARDS, where) if w is None]
    # the axes span exactly the padded ranges the placement assumed
    assert fig.layout.xaxis.range == pytest.approx((math.log10(min(xs) / 1.6), math.log10(max(xs) * 1.6)))
    # models without a published accuracy are their own grey trace
    grey = [t for t in fig.data if t.name == "no ImageNet accuracy"]
    assert len(grey) == 1 and grey[0].x == (xs[0],)


def test_zoo_rows_show_a_dash_where_no_accuracy_is_published():
    rows = zoo_rows(CARDS)
    assert [r["architecture"] for r in rows] == [c["title"] for c in CARDS]
    assert rows[0]["top-1 %"] == rows[0]["top-5 %"] == "—"
    assert rows[2]["top-1 %"] == "72.5" and rows[2]["top-5 %"] == "92.5"
    assert rows[2]["FLOPs"] == format_flops(CARDS[2]["flops"]) and rows[2]["params (M)"] == 140.0


def test_layer_rows_drop_the_batch_axis_and_name_modules_that_did_not_run():
    summary = {"rows": [{"name": "conv1", "type": "Conv2d", "output_shape": [1, 64, 112, 112], "params": 9408,
                         "macs": 118013952},
                        {"name": "aux1", "type": "InceptionAux", "output_shape": None, "params": 10, "macs": 0}]}
    rows = layer_rows(summary)
    assert rows[0] == {"layer": "conv1", "type": "Conv2d", "output shape": "64 × 112 × 112", "params": 9408,
                       "MACs": 118013952}
    assert rows[1]["output shape"] == "not run (eval mode)"


def test_kernel_rows_say_what_the_lesson_computed():
    lessons = [k.to_dict() for k in kernel_lessons(32)]
    rows = kernel_rows(lessons)
    for row, k in zip(rows, lessons):
        assert row["receptive field"] == f"{k['rf_big']} px = {k['rf_stack']} px"
        assert row["params (stack)"] == k["params_stack"] and row["stack / one"] == f"{k['params_ratio']:.0%}"


def test_stacked_rf_figure_draws_one_line_per_architecture_from_its_convolutions():
    curves = [r for n in ("alexnet", "vgg16") for r in features_receptive_field(n)]
    fig = stacked_rf_figure(curves)
    assert [t.name for t in fig.data] == [get_spec("alexnet").title, get_spec("vgg16").title]
    for trace, arch in zip(fig.data, ("alexnet", "vgg16")):
        convs = [r for r in curves if r["arch"] == arch and r["type"] == "Conv2d"]
        assert list(trace.y) == [r["receptive_field"] for r in convs]
    assert len(fig.data[0].x) == 5 and len(fig.data[1].x) == 13  # AlexNet's 5 convolutions, VGG-16's 13


def test_topk_figure_puts_the_most_likely_class_on_top():
    topk = [{"label": "cat", "prob": 0.7}, {"label": "dog", "prob": 0.2}, {"label": "fox", "prob": 0.05}]
    bar = topk_figure(topk).data[0]
    assert list(bar.y) == ["fox", "dog", "cat"]  # plotly draws the first bar at the bottom
    assert list(bar.x) == pytest.approx([5.0, 20.0, 70.0]) and bar.text[-1] == "70.0%"


@pytest.mark.parametrize("n, text", [(61_706, "61,706"), (99_999, "99,999"), (100_000, "0.10 M"),
                                     (6_624_904, "6.62 M")])
def test_format_params_switches_to_millions_at_100k(n, text):
    assert format_params(n) == text


def test_format_macs_is_half_the_flops():
    assert format_macs(3.64e9) == format_flops(1.82e9).replace("FLOPs", "MACs") == "1.82 GMACs"
