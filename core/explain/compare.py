"""One image, one method, several models side by side (the Explain page's "Models" grid).

    from core.explain.compare import ModelEntry, explain_models
    rows = explain_models([ModelEntry("run A", model_a, "lenet5", classes_a, 48), ...], pil_image, "gradcam",
                          target="circle")
    rows[i].explanation   # an Explanation, or None with rows[i].error set (one model's problem never hides the rest)

Each model sees the image as its own training loop fed it (its own input size and crop) and is explained at its
own default layer (:func:`core.explain.layers.default_layer`), so the maps differ in native resolution; all are
drawn at each model's input size. ``target``: a class *name* is looked up in each model's own class list (models
trained on different data sets rarely share indices); where a model does not know it, its top-1 class is
explained instead and ``note`` says so. Results come from the shared LRU (:mod:`core.explain.cache`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PIL import Image
from torch import nn

from core.errors import PlaygroundError
from core.explain.base import ExplainError, Explanation
from core.explain.cache import cached_explain

__all__ = ["ModelEntry", "ModelResult", "explain_models", "MAX_MODELS"]

MAX_MODELS = 4


@dataclass(frozen=True)
class ModelEntry:
    label: str  # how the grid names it ("run 2026…-lenet5", "ResNet-18 (ImageNet)")
    model: nn.Module
    arch: str | None
    classes: Sequence[str]
    image_size: int


@dataclass
class ModelResult:
    entry: ModelEntry
    explanation: Explanation | None
    error: str | None = None
    note: str | None = None


def explain_models(entries: Sequence[ModelEntry], image: Image.Image, method: str = "gradcam", *,
                   target: str | None = None, params: dict | None = None) -> list[ModelResult]:
    """Explain ``image`` with ``method`` on every entry (at most :data:`MAX_MODELS`); see the module docstring."""
    if not isinstance(image, Image.Image):
        raise ExplainError("the model comparison needs a PIL image (each model resizes it to its own input size)")
    if len(entries) > MAX_MODELS:
        raise ExplainError(f"compare at most {MAX_MODELS} models at once (got {len(entries)})")
    out = []
    for entry in entries:
        names = [str(c).lower() for c in entry.classes]
        want, note = None, None
        if target is not None and str(target).strip():
            if str(target).strip().lower() in names:
                want = str(target).strip()
            else:
                note = f"“{target}” is not one of its {len(names)} classes: its top-1 class is explained"
        try:
            e = cached_explain(entry.model, image, method, target=want, params=params, classes=list(entry.classes),
                               image_size=entry.image_size, arch=entry.arch)
            out.append(ModelResult(entry, e, note=note))
        except PlaygroundError as err:
            out.append(ModelResult(entry, None, error=str(err)))
    return out
