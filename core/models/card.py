"""Model cards: every number comes from its source of truth, none is typed by hand.

- Parameters and FLOPs: counted / measured from the built model (:mod:`core.models.summary`).
- ImageNet acc@1 / acc@5, file size, categories: torchvision's weights enum ``meta`` (offline, shipped
  with torchvision). timm's ``pretrained_cfg`` has no accuracy, so those are ``None``; its categories
  come from timm's own ImageNet info.

Computed facts are cached in memory (``lru_cache``): a card costs one meta-device forward the first time.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from core.models.module_path import get_module
from core.models.registry import ARCHITECTURES, get_spec
from core.models.sources import source_of
from core.models.summary import _meta_model, default_summary, min_input_size
from core.models.weights import weights_status

__all__ = [
    "weights_meta", "categories", "arch_facts", "model_card", "zoo", "signature_block", "format_flops",
    "format_macs", "format_params", "params_note", "label_positions",
]


@lru_cache(maxsize=None)
def categories(name: str) -> tuple[str, ...] | None:
    """Class names of the pretrained weights (ImageNet-1k), or None for architectures without weights."""
    spec = get_spec(name)
    return source_of(spec).categories(spec)


def weights_meta(name: str) -> dict[str, Any]:
    """What the pretrained weights' metadata says (values ``None`` where the source has no such field)."""
    spec = get_spec(name)
    cats = categories(spec.name)
    out: dict[str, Any] = {
        "weights": None, "acc1": None, "acc5": None, "file_size_mb": None, "num_params_meta": None,
        "gmacs_meta": None, "recipe": None, "num_categories": len(cats) if cats else None,
    }
    out.update(source_of(spec).meta(spec))
    return out


@lru_cache(maxsize=None)
def arch_facts(name: str) -> dict[str, Any]:
    """Counted at the default input size: params (all), inference_params (without auxiliary heads),
    GFLOPs (FlopCounterMode, 2 per multiply-add) and GMACs."""
    s = default_summary(get_spec(name).name)
    return {
        "params": s.total_params,
        "inference_params": s.inference_params,
        "flops": s.flops,
        "gflops": round(s.gflops, 4),
        "gmacs": round(s.gmacs, 4),
        "flops_input_size": s.input_size,
    }


def model_card(name: str) -> dict[str, Any]:
    """Everything the page and ``models --json`` show about one architecture (JSON-friendly)."""
    spec = get_spec(name)
    meta = weights_meta(spec.name)
    card = {
        "name": spec.name,
        "title": spec.title,
        "family": spec.family,
        "year": spec.year,
        "paper": spec.paper,
        "idea": spec.idea,
        "source": spec.source,
        "input_size": spec.input_size,
        "min_input_size": min_input_size(spec.name),
        "default_cam_layer": spec.default_cam_layer,
        "aux_logits": spec.aux_logits,
        "num_classes": spec.default_num_classes,
        "pretrained": spec.has_pretrained,
        "weights_status": weights_status(spec.name),
        "signature": spec.signature,
        "notes": spec.notes,
        **arch_facts(spec.name),
        **{k: meta[k] for k in ("weights", "acc1", "acc5", "file_size_mb", "num_categories")},
    }
    return card


def zoo() -> list[dict[str, Any]]:
    """:func:`model_card` for every architecture, ordered by year."""
    return [model_card(n) for n in ARCHITECTURES]


@lru_cache(maxsize=None)
def signature_block(name: str) -> dict[str, str]:
    """The architecture's characteristic block: its module printed (as PyTorch prints it) and why it matters.

    Printed from a shapes-only (meta) build, so it costs no memory and needs no weights.
    """
    spec = get_spec(name)
    module = get_module(_meta_model(spec.name), spec.signature)
    n_params = sum(p.numel() for p in module.parameters())
    return {
        "path": spec.signature,
        "title": spec.signature_title,
        "code": str(module),
        "note": spec.signature_note,
        "params": n_params,
    }


# ------------------------------------------------------------------------------------------ how numbers are shown
def format_flops(flops: float) -> str:
    """FLOPs with the unit that keeps 3 significant digits visible: ``"846 kFLOPs"``, ``"1.82 GFLOPs"``.

    LeNet-5 costs under a million FLOPs; printed as GFLOPs with two decimals it read "0.00".
    """
    if flops is None or not math.isfinite(flops) or flops < 0:
        return "—"
    for unit, scale in (("TFLOPs", 1e12), ("GFLOPs", 1e9), ("MFLOPs", 1e6), ("kFLOPs", 1e3)):
        if flops >= scale:
            return f"{flops / scale:.3g} {unit}"
    return f"{flops:.0f} FLOPs"


def format_macs(flops: float) -> str:
    """The multiply-adds of ``flops`` (2 FLOPs each), the number papers and torchvision quote: ``"1.82 GMACs"``."""
    return format_flops(flops / 2).replace("FLOPs", "MACs")


def format_params(n: int) -> str:
    """A parameter count: millions from 100 k up (``"6.62 M"``), the exact count below (``"61,706"``)."""
    return f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n:,}"


def params_note(card: dict[str, Any]) -> str | None:
    """The plain-text sentence for models whose training graph has more parameters than inference uses.

    GoogLeNet and Inception-v3 carry auxiliary classifiers (extra losses half-way up, Szegedy et al. 2014)
    that help training and are dropped at inference: ``"6.62 M at inference, 13.00 M with the auxiliary
    heads used in training"``. None when the two counts agree.
    """
    if card["params"] == card["inference_params"]:
        return None
    return (f"{format_params(card['inference_params'])} at inference, {format_params(card['params'])} with the "
            "auxiliary heads used in training")


def label_positions(xs: list[float], ys: list[float], texts: list[str], *, x_range: tuple[float, float],
                    y_range: tuple[float, float], width_px: int = 900, height_px: int = 480, font_px: int = 11,
                    log: bool = True, first: int | None = None,
                    sizes: list[float] | None = None) -> list[str | None]:
    """Plotly ``textposition`` per point such that no two text labels (nor a label and a marker) overlap.

    Points are placed greedily, ``first`` (the selected model) before the others, the rest left to right;
    each tries "top center", "bottom center", "middle right", "middle left", and gets ``None`` (its name is
    then shown on hover only) when every position collides. Boxes are estimated in pixels of a plot of
    ``width_px`` × ``height_px`` whose axes span ``x_range`` / ``y_range`` (log10 axes when ``log``);
    ``sizes`` are the markers' diameters in px (default 12).
    Gotcha: Plotly puts a label half a marker away from the centre, so big markers push their labels out;
    and the estimate assumes ~0.6 × font size per character: pass the smallest width the chart is drawn at.
    """
    def to_px(x: float, y: float) -> tuple[float, float]:
        f = (lambda v: math.log10(v)) if log else (lambda v: v)
        px = (f(x) - f(x_range[0])) / (f(x_range[1]) - f(x_range[0])) * width_px
        py = (f(y) - f(y_range[0])) / (f(y_range[1]) - f(y_range[0])) * height_px
        return px, py

    char_w, line_h = 0.6 * font_px, 1.3 * font_px
    radii = [r / 2 for r in sizes] if sizes is not None else [6.0] * len(xs)
    centres = [to_px(x, y) for x, y in zip(xs, ys)]
    # Markers are obstacles too (a label must not hide another model's dot).
    taken = [(cx - r, cy - r, cx + r, cy + r) for (cx, cy), r in zip(centres, radii)]

    def box(i: int, where: str) -> tuple[float, float, float, float]:
        cx, cy = centres[i]
        marker = radii[i]
        w, h = char_w * len(texts[i]), line_h
        if where == "top center":
            return cx - w / 2, cy + marker + 1, cx + w / 2, cy + marker + 1 + h
        if where == "bottom center":
            return cx - w / 2, cy - marker - 1 - h, cx + w / 2, cy - marker - 1
        if where == "middle right":
            return cx + marker + 2, cy - h / 2, cx + marker + 2 + w, cy + h / 2
        return cx - marker - 2 - w, cy - h / 2, cx - marker - 2, cy + h / 2

    def free(b: tuple[float, float, float, float], own: int) -> bool:
        inside = b[0] >= 0 and b[2] <= width_px and b[1] >= 0 and b[3] <= height_px
        return inside and not any(
            j != own and b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for j, o in enumerate(taken)
        )

    order = sorted(range(len(xs)), key=lambda i: (i != first, centres[i][0]))
    out: list[str | None] = [None] * len(xs)
    positions = ("top center", "bottom center", "middle right", "middle left")
    for i in order:
        for where in positions:
            b = box(i, where)
            if free(b, i):
                out[i] = where
                taken.append(b)
                break
        if out[i] is None and i == first:  # the selected model is always named: over a neighbour's dot if need be
            def hidden(where: str) -> int:
                b = box(i, where)
                return sum(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in taken)
            out[i] = min(positions, key=hidden)
            taken.append(box(i, out[i]))
    return out
