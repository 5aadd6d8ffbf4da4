"""Figures and tables of the Architectures page, built here so the page stays thin and notebooks can reuse them.

Inputs are the JSON-friendly dicts the page already caches: model cards (:func:`core.models.card.model_card`),
a summary's ``to_dict()`` (:mod:`core.models.summary`), the stacked-convolution lesson
(:mod:`core.models.stacked_convs`) and a prediction's ``topk`` (:mod:`core.models.predict`).

- :func:`zoo_figure`: every architecture on one log-log chart, parameters against GFLOPs, marker size and colour
  from ImageNet top-1; names placed by :func:`core.models.card.label_positions` so none overlap;
- :func:`stacked_rf_figure`: receptive field per convolution, AlexNet against VGG-16;
- :func:`topk_figure`: the top-k classes as horizontal bars;
- ``*_rows``: the page's tables, one dict per row, numbers formatted as shown.

Gotcha: the label placement needs to know where every point lands on screen, so the zoo chart's axes get fixed
(padded) log ranges and the placement assumes the smallest width the chart is drawn at (``ZOO_WIDTH_PX``).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from core.models.card import format_flops, label_positions
from core.models.registry import get_spec

__all__ = ["zoo_figure", "zoo_rows", "layer_rows", "kernel_rows", "stacked_rf_figure", "topk_figure"]

ZOO_WIDTH_PX, ZOO_HEIGHT_PX, ZOO_FONT_PX = 640, 420, 11  # the plot area the label placement assumes


# ------------------------------------------------------------------------------------------ the zoo
def zoo_figure(cards: Sequence[dict[str, Any]], selected: int) -> tuple[go.Figure, list[str]]:
    """The zoo on one chart: parameters used at inference (M) against GFLOPs per image, both log scale.

    ``cards``: :func:`core.models.card.model_card` dicts; ``selected``: index of the model ringed in red (its
    name is always shown). Returns the figure and the titles whose names were left off (shown on hover only).
    """
    xs = [r["inference_params"] / 1e6 for r in cards]
    ys = [r["flops"] / 1e9 for r in cards]
    # Fixed log ranges (padded) so the label placement knows where every point lands on screen.
    x_range = (min(xs) / 1.6, max(xs) * 1.6)
    y_range = (min(ys) / 2.5, max(ys) * 2.5)
    sizes = [8 + (r["acc1"] - 50) if r["acc1"] is not None else 10 for r in cards]  # marker diameter, px
    where = label_positions(xs, ys, [r["title"] for r in cards], x_range=x_range, y_range=y_range,
                            width_px=ZOO_WIDTH_PX, height_px=ZOO_HEIGHT_PX, font_px=ZOO_FONT_PX, first=selected,
                            sizes=sizes)
    fig = go.Figure()
    for has_acc in (True, False):
        idx = [i for i, r in enumerate(cards) if (r["acc1"] is not None) == has_acc]
        if not idx:
            continue
        marker = dict(size=[sizes[i] for i in idx], color=[cards[i]["acc1"] for i in idx],
                      colorscale="Viridis", showscale=True, colorbar=dict(title="top-1 %"), line=dict(width=0)) \
            if has_acc else dict(size=10, color="lightgrey", symbol="diamond", line=dict(width=1, color="grey"))
        fig.add_trace(go.Scatter(
            x=[xs[i] for i in idx], y=[ys[i] for i in idx], mode="markers+text",
            text=[cards[i]["title"] if where[i] else "" for i in idx],
            textposition=[where[i] or "top center" for i in idx], textfont=dict(size=ZOO_FONT_PX),
            marker=marker,
            customdata=[[cards[i]["title"], cards[i]["input_size"], format_flops(cards[i]["flops"]),
                         f"ImageNet top-1 {cards[i]['acc1']:.1f} %" if has_acc else "no ImageNet accuracy published"]
                        for i in idx],
            hovertemplate="<b>%{customdata[0]}</b><br>%{x:.2f} M params<br>%{customdata[2]} at %{customdata[1]} px"
                          "<br>%{customdata[3]}<extra></extra>",
            name="ImageNet top-1 known" if has_acc else "no ImageNet accuracy",
        ))
    fig.add_trace(go.Scatter(  # the red ring marks the selected model only
        x=[xs[selected]], y=[ys[selected]], mode="markers", hoverinfo="skip",
        marker=dict(size=30, symbol="circle-open", color="red", line=dict(width=3)),
        name=f"selected: {cards[selected]['title']}",
    ))
    fig.update_layout(
        xaxis=dict(type="log", title="parameters used at inference (millions, log scale)",
                   range=[np.log10(x_range[0]), np.log10(x_range[1])]),
        yaxis=dict(type="log", title="GFLOPs per image at the default input size (log scale)",
                   range=[np.log10(y_range[0]), np.log10(y_range[1])]),
        height=560, legend=dict(orientation="h", y=-0.15), margin=dict(t=30),
    )
    return fig, [r["title"] for r, w in zip(cards, where) if w is None]


def zoo_rows(cards: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The zoo table: one row per model card; "—" where no ImageNet accuracy is published."""
    return [{"architecture": r["title"], "year": r["year"], "params (M)": round(r["inference_params"] / 1e6, 2),
             "FLOPs": format_flops(r["flops"]), "input px": r["input_size"],
             "top-1 %": "—" if r["acc1"] is None else f"{r['acc1']:.1f}",
             "top-5 %": "—" if r["acc5"] is None else f"{r['acc5']:.1f}"}
            for r in cards]


# ------------------------------------------------------------------------------------------ one model
def layer_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer-by-layer table of a summary's ``to_dict()``: output shape without the batch axis ("64 × 56 × 56";
    modules that did not run in eval mode, e.g. auxiliary heads, say so), parameters and MACs."""
    return [{"layer": r["name"], "type": r["type"],
             "output shape": "not run (eval mode)" if r["output_shape"] is None
             else " × ".join(map(str, r["output_shape"][1:])),
             "params": r["params"], "MACs": r["macs"]}
            for r in summary["rows"]]


def topk_figure(topk: Sequence[dict[str, Any]]) -> go.Figure:
    """Horizontal bars of ``[{"label", "prob"}, ...]`` (most likely first), the most likely drawn on top."""
    top = list(topk)[::-1]
    fig = go.Figure(go.Bar(
        x=[p["prob"] * 100 for p in top], y=[p["label"] for p in top], orientation="h",
        text=[f"{p['prob']:.1%}" for p in top], textposition="auto",
    ))
    fig.update_layout(xaxis=dict(title="probability (%)", range=[0, 100]), height=300, margin=dict(t=10, l=10))
    return fig


# ------------------------------------------------------------------------------------------ stacked 3×3 lesson
def kernel_rows(kernels: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One big kernel against a stack of 3×3 convolutions (``KernelComparison.to_dict()`` rows)."""
    return [{"one layer": f"{k['big_kernel']}×{k['big_kernel']}", "or a stack of": f"{k['n_small']} × 3×3",
             "receptive field": f"{k['rf_big']} px = {k['rf_stack']} px",
             "params (one)": k["params_big"], "params (stack)": k["params_stack"],
             "stack / one": f"{k['params_ratio']:.0%}",
             "non-linearities": f"{k['nonlinearities_big']} vs {k['nonlinearities_stack']}"} for k in kernels]


def stacked_rf_figure(curves: Sequence[dict[str, Any]], archs: Sequence[str] = ("alexnet", "vgg16")) -> go.Figure:
    """Receptive field after each convolution of ``archs`` (rows of
    :func:`core.models.stacked_convs.features_receptive_field`, tagged with their ``arch``), one line each."""
    fig = go.Figure()
    for arch in archs:
        pts = [r for r in curves if r["arch"] == arch and r["type"] == "Conv2d"]
        fig.add_trace(go.Scatter(
            x=[r["conv_index"] for r in pts], y=[r["receptive_field"] for r in pts], mode="lines+markers",
            name=get_spec(arch).title, customdata=[[r["kernel"], r["stride"], r["cumulative_params"]] for r in pts],
            hovertemplate="conv %{x}: %{customdata[0]}×%{customdata[0]} stride %{customdata[1]}<br>"
                          "receptive field %{y} px<br>%{customdata[2]:,} parameters so far<extra></extra>",
        ))
    fig.update_layout(xaxis_title="convolution layer (input → output)", yaxis_title="receptive field (px)",
                      height=380, margin=dict(t=30))
    return fig
