"""The Explain page's pictures, built from :class:`~core.explain.base.Explanation` objects. No Streamlit here.

Every builder returns :class:`Tile` values: a ``uint8 [H, W, 3]`` image plus the caption the page prints under it
(the page only places tiles in columns). The colouring itself is :mod:`core.explain.render` (colour maps,
overlays, the native grid); this module decides *which* picture each part of the page shows and what its caption
says, so the wording of a tile lives next to the numbers it reports.

    from core.explain.figures import result_tiles
    over, raw, native = result_tiles(e, opacity=0.5, cmap="inferno")   # raw / native: None when not drawable

Gotcha: a map without signal (``Explanation.normalized()`` is None: no signal, or a 1×1 map) is *not* stretched:
its overlay is the input image unchanged and its caption says "no signal"; the raw and native tiles are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image

from core.data.shapes import overlay_mask
from core.explain.base import Explanation, to_uint8_image
from core.explain.compare import ModelResult
from core.explain.render import colorize, native_image, overlay

__all__ = ["Tile", "MASK_ALPHA", "explanation_overlay", "result_tiles", "method_tile", "layer_tile", "model_tile",
           "sanity_tiles", "shapes_preview", "pil_image"]

MASK_ALPHA = 0.35  # how strongly the true shape is tinted red on a Shapes test image


@dataclass(frozen=True)
class Tile:
    image: np.ndarray  # uint8 [H, W, 3]
    caption: str


def _signal(e: Explanation) -> str:
    return "" if e.has_signal else " · no signal"


def _grid(e: Explanation) -> str:
    return f"{e.native.shape[0]}×{e.native.shape[1]}"


def explanation_overlay(e: Explanation, opacity: float, cmap: str) -> np.ndarray:
    """The map (scaled by its max) blended over the crop the network saw; the bare crop when there is no signal."""
    return overlay(e.image, e.normalized(), opacity, cmap)


def result_tiles(e: Explanation, opacity: float, cmap: str) -> tuple[Tile, Tile | None, Tile | None]:
    """The main result: the overlay, the raw map in colour (``[S, S]``) and the native map drawn as blocks
    (one block per cell of the layer's grid). Raw and native are None where the map has no signal; native also
    where it is a single cell."""
    norm = e.normalized()
    over = Tile(overlay(e.image, norm, opacity, cmap), "overlay")
    if norm is None:
        return over, None, None
    raw = Tile(colorize(norm, cmap), f"raw map (max {float(e.map.max()):.3g})")
    nat = native_image(e.native, cmap)
    return over, raw, None if nat is None else Tile(nat, f"native map {_grid(e)}")


def method_tile(title: str, e: Explanation, opacity: float, cmap: str) -> Tile:
    """One tile of the methods grid: ``"Grad-CAM · 12 ms"``."""
    return Tile(explanation_overlay(e, opacity, cmap), f"{title} · {e.seconds * 1e3:.0f} ms{_signal(e)}")


def layer_tile(layer: str, e: Explanation, opacity: float, cmap: str) -> Tile:
    """One tile of the layers grid: the layer and its native grid (``"layer3 · 14×14"``)."""
    return Tile(explanation_overlay(e, opacity, cmap), f"{layer} · {_grid(e)}{_signal(e)}")


def model_tile(row: ModelResult, opacity: float, cmap: str) -> Tile:
    """One tile of the models grid (``row.explanation`` must be set): model, class, probability, layer, grid."""
    e = row.explanation
    where = f" · {e.layer} {_grid(e)}" if e.layer else ""
    return Tile(explanation_overlay(e, opacity, cmap),
                f"{row.entry.label} · “{e.label}” p = {e.score:.3f}{where}{_signal(e)}")


def sanity_tiles(image: np.ndarray, steps: Sequence[dict[str, Any]], opacity: float, cmap: str) -> list[Tile]:
    """The sanity check's maps over ``image`` (``uint8 [S, S, 3]``), one tile per step of
    :func:`core.explain.metrics.sanity_check` (``{"stage", "spearman", "map"}``), each scaled by its own max."""
    tiles = []
    for s in steps:
        top = float(s["map"].max())
        tiles.append(Tile(overlay(image, s["map"] / top if top > 0 else None, opacity, cmap),
                          f"{s['stage']} · ρ={s['spearman']:.2f}"))
    return tiles


def shapes_preview(image: torch.Tensor, mask: np.ndarray, class_name: str) -> Tile:
    """A Shapes test image (``uint8 [3, S, S]`` tensor) with its true shape (``bool [S, S]``) tinted red."""
    return Tile(overlay_mask(image.permute(1, 2, 0).numpy(), mask, alpha=MASK_ALPHA),
                f"true class: {class_name} (true shape mask tinted red)")


def pil_image(x: Image.Image | torch.Tensor) -> Image.Image:
    """The input as a PIL image, which the models grid needs (each model resizes it to its own input size): a PIL
    image as is, a normalised ``[1, 3, S, S]`` tensor (a Shapes test image) turned back into its pixels."""
    return x if isinstance(x, Image.Image) else Image.fromarray(to_uint8_image(x))
