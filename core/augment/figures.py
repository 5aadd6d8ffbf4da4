"""What the Augmentation lab draws: arrays for ``st.image``, outlined CutMix boxes, Plotly figures, table rows.

Built here, not in the page, so the page stays widgets → one call → render and a notebook can draw the same
pictures (as :mod:`core.runs.results` does for runs). Nothing here computes an augmentation; everything reads
what :mod:`core.augment.pipeline` / :mod:`core.augment.mixing` already drew.

Shapes: tensors are uint8 ``[3, H, W]`` (torchvision's layout); arrays are uint8 ``[H, W, 3]`` (what PIL,
NumPy and Streamlit show).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw

from core.augment.mixing import MixPreview, crop_batch, shapes_batch
from core.augment.pipeline import Tile
from core.augment.prepare import prepare_images
from core.samples import SAMPLE_NAMES, load_sample

__all__ = [
    "BATCH_SOURCES", "corner_rows", "demo_batch", "geometry_figure", "geometry_latex", "geometry_ops", "outline",
    "prepare_arrays",
    "shown_image", "soft_label_chart", "soft_label_heatmap", "soft_label_pairs", "to_chw", "to_hwc",
]

OUTLINE_COLOR = (255, 230, 0)  # the CutMix box: yellow reads on photos and on the Shapes backgrounds
BATCH_SOURCES = ("Random crops of the sample photos", "Shapes data set")


def to_hwc(t: torch.Tensor) -> np.ndarray:
    """uint8 ``[3, H, W]`` tensor -> contiguous uint8 ``[H, W, 3]`` array."""
    return t.permute(1, 2, 0).contiguous().numpy()


def to_chw(arrays: Sequence[np.ndarray]) -> list[torch.Tensor]:
    """uint8 ``[H, W, 3]`` arrays -> uint8 ``[3, H, W]`` tensors (copies: the arrays may be read-only caches)."""
    return [torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).contiguous() for a in arrays]


def prepare_arrays(arrays: Sequence[np.ndarray], max_side: int) -> list[np.ndarray]:
    """:func:`~core.augment.prepare.prepare_images` for ``[H, W, 3]`` arrays (what a page caches): the first
    shrunk to ``max_side``, the others resized to its size, exactly as the exported script does."""
    return [to_hwc(t) for t in prepare_images([Image.fromarray(a) for a in arrays], max_side)]


def outline(img: np.ndarray, box, color=OUTLINE_COLOR) -> np.ndarray:
    """``img`` with the CutMix box ``(x1, y1, x2, y2)`` (end-exclusive) outlined; an empty box draws nothing."""
    pil = Image.fromarray(img)
    x1, y1, x2, y2 = box
    if x2 > x1 and y2 > y1:
        ImageDraw.Draw(pil).rectangle([x1, y1, x2 - 1, y2 - 1], outline=color, width=max(1, img.shape[1] // 120))
    return np.asarray(pil)


def shown_image(res: MixPreview, i: int) -> np.ndarray:
    """Image ``i`` of a mixed batch as an array, its pasted box outlined when CutMix was applied."""
    arr = to_hwc(res.images[i])
    if res.record.box and res.record.applied:
        arr = outline(arr, res.record.box)
    return arr


def soft_label_pairs(soft: Sequence[float], classes: Sequence[str], top_first: bool = False) -> list[tuple[str, float]]:
    """The non-zero entries of one soft label as ``(class, weight)``, in class order or largest first."""
    pairs = [(c, float(v)) for c, v in zip(classes, soft) if v > 0]
    if top_first:
        pairs.sort(key=lambda cv: (cv[1], cv[0]), reverse=True)
    return pairs


def soft_label_chart(soft: Sequence[float], classes: Sequence[str], title: str) -> go.Figure:
    """Bars of one soft label (0..1), each with its value printed."""
    fig = go.Figure(go.Bar(x=list(classes), y=list(soft), text=[f"{v:.3f}" for v in soft], textposition="auto"))
    fig.update_layout(title=title, yaxis_range=[0, 1], height=260, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def soft_label_heatmap(soft_labels: torch.Tensor, classes: Sequence[str]) -> go.Figure:
    """The ``[B, K]`` soft labels of a batch: one row per image, one column per class."""
    fig = go.Figure(go.Heatmap(z=soft_labels.numpy(), x=list(classes), y=[f"#{i}" for i in range(len(soft_labels))],
                               zmin=0, zmax=1, colorscale="Blues", texttemplate="%{z:.2f}"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), title="Soft labels of the batch")
    return fig


def geometry_ops(tile: Tile) -> list[tuple[int, dict]]:
    """``(step number, op record)`` of every geometric op a tile drew (a step may hold several ops)."""
    return [(step_no, op) for step_no, r in enumerate(tile.records) for op in r.ops if op.get("geometry")]


def geometry_latex(matrix) -> str:
    """The 2×3 affine matrix as ``x' = M · (x, y, 1)`` in LaTeX."""
    (a, b, c), (d, e, f) = matrix
    return (r"\begin{pmatrix}x'\\y'\end{pmatrix}=\begin{pmatrix}"
            f"{a:.3f} & {b:.3f} & {c:.1f}\\\\ {d:.3f} & {e:.3f} & {f:.1f}"
            r"\end{pmatrix}\begin{pmatrix}x\\y\\1\end{pmatrix}")


def corner_rows(geo: dict, w: int, h: int) -> dict[str, list[str]]:
    """A table: each corner of the ``w × h`` image and where the op moved it."""
    names = ["top-left (0, 0)", f"top-right ({w}, 0)", f"bottom-right ({w}, {h})", f"bottom-left (0, {h})"]
    return {"corner": names, "went to (x, y) px": [f"({x:.1f}, {y:.1f})" for x, y in geo["corners"]]}


def geometry_figure(geo: dict, w: int, h: int) -> go.Figure:
    """The image frame (dashed) and the quadrilateral its corners went to, y down as on screen."""
    fig = go.Figure()
    frame = [(0, 0), (w, 0), (w, h), (0, h), (0, 0)]
    fig.add_trace(go.Scatter(x=[p[0] for p in frame], y=[p[1] for p in frame], name="image frame",
                             line=dict(dash="dash", color="gray")))
    quad = geo["corners"] + [geo["corners"][0]]
    fig.add_trace(go.Scatter(x=[p[0] for p in quad], y=[p[1] for p in quad], name="where the corners went",
                             mode="lines+markers+text", text=["TL", "TR", "BR", "BL", ""],
                             textposition="top center", line=dict(color="crimson")))
    fig.update_yaxes(autorange="reversed", scaleanchor="x")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"))
    return fig


def demo_batch(source: str, n: int = 8, size: int = 96, seed: int = 0) -> tuple[list[torch.Tensor], list[int], list[str]]:
    """A batch to mix: ``n`` random crops of the sample photos, or ``n`` Shapes images (one of
    :data:`BATCH_SOURCES`). Returns ``(uint8 [3, size, size] images, labels, class names)``."""
    if source == BATCH_SOURCES[1]:
        return shapes_batch(n, size, seed)
    images, labels = crop_batch(prepare_images([load_sample(s) for s in SAMPLE_NAMES], 192), n, size, seed)
    return images, labels, list(SAMPLE_NAMES)
