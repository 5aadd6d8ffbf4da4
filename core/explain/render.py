"""Pictures of explanations: colour maps, overlays, the native grid, comparison figures, downloads. No Streamlit.

Arrays in, arrays / Plotly figures / bytes out: ``uint8 [H, W, 3]`` images, maps ``float [H, W]`` already
scaled to [0, 1] (``Explanation.normalized()``; ``None`` means "no signal": the image is shown unchanged and
the caller prints the note instead of a stretched picture). Which tile the Explain page shows with which caption
is :mod:`core.explain.figures`.
"""
from __future__ import annotations

import io
import json
import math
import shlex
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import hex_to_rgb, sequential, unlabel_rgb
from plotly.subplots import make_subplots

from core.explain.base import Explanation

__all__ = ["COLORMAPS", "colorize", "overlay", "native_image", "png_bytes", "npy_bytes", "settings_json",
           "stride_sentence", "curves_figure", "sanity_figure", "cli_command"]

COLORMAPS = ("inferno", "viridis", "jet", "turbo", "gray")


def _lut(name: str) -> np.ndarray:
    """256 × 3 uint8 lookup table from Plotly's colour scales."""
    if name == "gray":
        v = np.arange(256, dtype=np.uint8)
        return np.stack([v, v, v], 1)
    scale = {"inferno": sequential.Inferno, "viridis": sequential.Viridis, "jet": sequential.Jet,
             "turbo": sequential.Turbo}[name]
    rgb = np.array([hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c) for c in scale], dtype=np.float64)
    pos = np.linspace(0, 1, len(rgb))
    t = np.linspace(0, 1, 256)
    return np.stack([np.interp(t, pos, rgb[:, i]) for i in range(3)], 1).round().astype(np.uint8)


def colorize(norm: np.ndarray, cmap: str = "inferno") -> np.ndarray:
    """``[H, W]`` in [0, 1] -> ``uint8 [H, W, 3]``."""
    if cmap not in COLORMAPS:
        raise ValueError(f"unknown colour map {cmap!r}")
    idx = np.clip(np.nan_to_num(norm) * 255, 0, 255).round().astype(np.int64)
    return _lut(cmap)[idx]


def overlay(image: np.ndarray, norm: np.ndarray | None, opacity: float = 0.5, cmap: str = "inferno") -> np.ndarray:
    """Blend the coloured map over ``image`` with ``opacity`` (0 = image only). ``norm=None``: the image as is."""
    if norm is None:
        return image.copy()
    heat = colorize(norm, cmap).astype(np.float32)
    out = (1 - opacity) * image.astype(np.float32) + opacity * heat
    return out.round().clip(0, 255).astype(np.uint8)


def native_image(native: np.ndarray, cmap: str = "inferno", size: int = 224) -> np.ndarray | None:
    """The native map drawn as blocks (nearest neighbour, one block per cell), scaled to [0, 1] by its max."""
    top = float(native.max()) if native.size else 0.0
    if native.size <= 1 or not np.isfinite(native).all() or top <= 0:
        return None
    k = max(1, size // max(native.shape))
    return colorize(np.kron(native / top, np.ones((k, k))), cmap)


def png_bytes(image: np.ndarray) -> bytes:
    """``uint8 [H, W, 3]`` -> the bytes of a PNG file."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    """The bytes of a ``.npy`` file holding ``array`` (``np.load`` gives it back, dtype and shape included)."""
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def settings_json(e: Explanation, *, arch: str | None, weights: str, checkpoint: str | None, image_size: int) -> str:
    """What reproduces ``e``: method, model (zoo ``weights``, or the run folder ``checkpoint``), layer, class,
    parameters, input size and notes, as indented JSON (``weights`` is null for a run)."""
    settings = {"method": e.method, "arch": arch, "weights": weights if checkpoint is None else None,
                "checkpoint": checkpoint, "layer": e.layer, "target": e.target, "label": e.label, "score": e.score,
                "params": e.params, "image_size": image_size, "notes": e.notes}
    return json.dumps(settings, indent=2, default=str)


def stride_sentence(layer: str | None, native_shape: Sequence[int], size: int) -> str:
    """Why the native map is that coarse, from the measured shapes (not from a table)."""
    if layer is None or tuple(native_shape) == (size, size):
        return f"Pixel method: one value per input pixel ({size}×{size})."
    h, w = native_shape
    stride = size / max(h, 1)
    return (f"`{layer}` outputs a {h}×{w} grid for a {size}×{size} image: each cell stands for about "
            f"{stride:.0f}×{stride:.0f} pixels (the layer's total stride), so the map cannot be sharper than that; "
            "an earlier layer is finer but less class-specific.")


def curves_figure(curves: dict[str, dict[str, Any]]):
    """Deletion (left) and insertion (right) curves of several methods, with their areas in the legend."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Deletion (lower area = more faithful)",
                                                        "Insertion (higher area = more faithful)"))
    palette = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]
    for i, (name, c) in enumerate(curves.items()):
        color = palette[i % len(palette)]
        fig.add_trace(go.Scatter(x=c["fractions"], y=c["deletion"], name=f"{name} · AUC {c['deletion_auc']:.3f}",
                                 line={"color": color}, legendgroup=name), row=1, col=1)
        fig.add_trace(go.Scatter(x=c["fractions"], y=c["insertion"], name=f"{name} · AUC {c['insertion_auc']:.3f}",
                                 line={"color": color, "dash": "dot"}, legendgroup=name), row=1, col=2)
    fig.update_xaxes(title_text="fraction of pixels removed", row=1, col=1)
    fig.update_xaxes(title_text="fraction of pixels inserted", row=1, col=2)
    fig.update_yaxes(title_text="class probability", range=[0, 1])
    fig.update_layout(height=360, margin={"t": 40, "b": 40, "l": 40, "r": 10})
    return fig


def sanity_figure(steps: list[dict[str, Any]]):
    """Spearman correlation with the original map as more stages are randomised (top first)."""
    names = [s["stage"] for s in steps]
    rho = [None if (s["spearman"] is None or math.isnan(s["spearman"])) else s["spearman"] for s in steps]
    fig = go.Figure(go.Scatter(x=names, y=rho, mode="lines+markers"))
    fig.update_layout(height=300, margin={"t": 30, "b": 40, "l": 40, "r": 10},
                      xaxis_title="randomised down to (from the top)", yaxis_title="Spearman ρ with original map",
                      yaxis_range=[-0.2, 1.05])
    return fig


def cli_command(*, method: str, arch: str | None = None, weights: str = "default", checkpoint: str | None = None,
                layer: str | None = None, target: int | str | None = None, params: dict | None = None,
                image: str = "IMAGE.png", out: str = "map.npy") -> str:
    """The ``python -m core explain`` command that computes the same map."""
    parts = ["python -m core explain"]
    if checkpoint:
        parts.append(f"--checkpoint {shlex.quote(str(checkpoint))}")
    else:
        parts.append(f"--arch {arch} --weights {weights}")
    parts.append(f"--image {shlex.quote(image)} --method {method}")
    if layer:
        parts.append(f"--layer {shlex.quote(layer)}")
    if target is not None:
        parts.append(f"--target {shlex.quote(str(target))}")
    if params:
        parts.append(f"--params {shlex.quote(json.dumps(params))}")
    parts.append(f"--out {shlex.quote(out)} --json")
    return " \\\n    ".join(parts)
