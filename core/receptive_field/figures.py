"""Figures and tables of the Receptive fields page, built here so the page stays thin and notebooks can reuse them.

Coordinates: an image of S×S pixels is drawn with pixel centres at 0 … S−1 (``go.Image`` convention), so the
field of a unit, ``(top, left, bottom, right)`` inclusive, is the rectangle ``left − ½ … right + ½``.
Gotcha: a field that reaches outside the image is drawn to its full analytic size over a grey frame that
stands for the zero padding; the solid box is the part made of real pixels.
"""
from __future__ import annotations

import csv
import io
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from core.feature_maps import FeatureMaps
from core.receptive_field.analytic import FieldTable, LayerField, UnitField
from core.receptive_field.effective import ERF

__all__ = ["growth_points", "growth_figure", "field_figure", "erf_figure", "feature_grid", "size_label", "table_rows",
           "rows_csv"]

_SPATIAL = {"Conv2d", "MaxPool2d", "AvgPool2d", "Conv2dSame", "Conv2dNormActivation"}


def growth_points(table: FieldTable) -> list[dict]:
    """Largest local field (px, height axis) per depth — convolutions on the longest path from the input —
    over the convolution and pooling layers; global layers are left out (they have no size)."""
    best: dict[int, dict] = {}
    for row in table.layers:
        if row.type not in _SPATIAL or row.is_global:
            continue
        d, size = row.field.depth, row.field.h.size
        if d not in best or size > best[d]["size"]:
            best[d] = {"arch": table.arch, "depth": d, "size": size, "jump": row.jump[0], "layer": row.layer}
    return [best[d] for d in sorted(best)]


def growth_figure(tables: Sequence[FieldTable]) -> go.Figure:
    """Receptive field size against depth, one line per architecture, with the input size for reference."""
    fig = go.Figure()
    for t in tables:
        pts = growth_points(t)
        if not pts:
            continue
        fig.add_trace(go.Scatter(
            x=[p["depth"] for p in pts], y=[p["size"] for p in pts], mode="lines+markers", name=t.arch,
            customdata=[[p["layer"], p["jump"]] for p in pts],
            hovertemplate="%{fullData.name}<br>depth %{x}: %{y} px<br>%{customdata[0]} (jump %{customdata[1]})"
                          "<extra></extra>",
        ))
    if tables:  # a trace, not add_hline: on a log axis a shape's y is in log10 units
        depth = max([p["depth"] for t in tables for p in growth_points(t)] or [1])
        size = tables[0].input_size[0]
        fig.add_trace(go.Scatter(x=[0, depth], y=[size, size], mode="lines", name=f"input {size} px",
                                 line=dict(dash="dot", color="grey"), hoverinfo="skip"))
    fig.update_layout(xaxis_title="depth (convolutions on the longest path)", yaxis_title="receptive field (px)",
                      yaxis_type="log", height=420, margin=dict(l=10, r=10, t=30, b=10), legend_title="")
    return fig


def _rect(fig: go.Figure, box, **line) -> None:
    t, l, b, r = box
    fig.add_shape(type="rect", x0=l - 0.5, x1=r + 0.5, y0=t - 0.5, y1=b + 0.5, line=line)


def field_figure(image: Image.Image, unit: UnitField, title: str = "") -> go.Figure:
    """``image`` (the S×S view the network gets) with the unit's field: dashed = analytic box (padding
    included), solid = the real pixels, grey frame = zero padding."""
    arr = np.asarray(image.convert("RGB"))
    H, W = arr.shape[:2]
    t, l, b, r = unit.box
    lo_x, hi_x = min(-0.5, l - 0.5), max(W - 0.5, r + 0.5)
    lo_y, hi_y = min(-0.5, t - 0.5), max(H - 0.5, b + 0.5)
    margin = 0.02 * max(hi_x - lo_x, hi_y - lo_y)
    fig = go.Figure(go.Image(z=arr, hoverinfo="skip"))
    if unit.padding_share > 0:  # the zero padding: everything outside the image inside the field's frame
        fig.add_shape(type="rect", x0=lo_x, x1=hi_x, y0=lo_y, y1=hi_y, fillcolor="rgba(128,128,128,0.45)",
                      line_width=0, layer="below")
    _rect(fig, unit.box, color="#ffb000", width=2, dash="dash")
    _rect(fig, unit.clipped_box, color="#ff3d00", width=3)
    fig.update_xaxes(range=[lo_x - margin, hi_x + margin], showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(range=[hi_y + margin, lo_y - margin], showticklabels=False, showgrid=False, zeroline=False,
                     scaleanchor="x")
    fig.update_layout(title=title or None, height=460, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


def erf_figure(erf: ERF, title: str = "") -> go.Figure:
    """The ERF heatmap (gradient mass per pixel, square-root colour scale so the tail shows) with the
    theoretical field of the same unit."""
    g = erf.grad.numpy()
    fig = go.Figure(go.Heatmap(z=np.sqrt(g / max(float(g.max()), 1e-30)), colorscale="Inferno", showscale=False,
                               hovertemplate="(%{y}, %{x})<extra></extra>"))
    _rect(fig, erf.theoretical.clipped_box, color="#00e5ff", width=2)
    H, W = g.shape
    fig.update_xaxes(range=[-0.5, W - 0.5], showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(range=[H - 0.5, -0.5], showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(title=title or None, height=360, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def feature_grid(fm: FeatureMaps, cols: int = 4, unit: tuple[int, int] | None = None) -> go.Figure:
    """The top channels as small heatmaps (each on its own colour scale), titled with index and mean;
    ``unit`` marks the selected unit on every map."""
    n = len(fm.channels)
    rows = max(1, -(-n // cols))
    titles = [f"ch {c.channel} · mean {c.mean:.2g}" for c in fm.channels]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.06)
    for k, c in enumerate(fm.channels):
        r, q = k // cols + 1, k % cols + 1
        fig.add_trace(go.Heatmap(z=c.map.numpy(), colorscale="Viridis", showscale=False,
                                 hovertemplate=f"ch {c.channel}<br>(%{{y}}, %{{x}}): %{{z:.3g}}<extra></extra>"),
                      row=r, col=q)
        if unit is not None:
            fig.add_trace(go.Scatter(x=[unit[1]], y=[unit[0]], mode="markers", showlegend=False, hoverinfo="skip",
                                     marker=dict(symbol="square-open", size=10, color="#ff3d00", line_width=2)),
                          row=r, col=q)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    fig.update_annotations(font_size=11)
    fig.update_layout(height=170 * rows + 40, margin=dict(l=0, r=0, t=30, b=0))
    return fig


# ------------------------------------------------------------------------------------------ numbers as shown
def size_label(row: LayerField) -> str:
    """The field's size as the page shows it: ``"global"``, ``"435 px"`` (square) or ``"35×51 px"``."""
    if row.is_global:
        return "global"
    h, w = row.size
    return f"{h} px" if h == w else f"{h}×{w} px"


def _x(v) -> str:
    return "×".join(map(str, v))


def table_rows(table: FieldTable) -> list[dict]:
    """One flat row per layer (strings like ``"56×56"``), for the page's table and its CSV download."""
    return [{"layer": r["layer"], "type": r["type"], "map": _x(r["shape"]),
             "size": "global" if r["size"] is None else _x(r["size"]),
             "in image": _x(r["clipped"]), "jump": r["jump"][0], "start": r["start"][0],
             "depth": r["depth"], "aligned": r["aligned"]} for r in table.to_rows()]


def rows_csv(rows: list[dict]) -> str:
    """``rows`` (same keys each) as CSV text with a header line."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
