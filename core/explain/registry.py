"""The attribution methods: one module each, one entry here (pytorch-grad-cam's dict of methods).

Adding a method: write ``core/explain/<name>.py`` with ``DEFAULTS`` (its parameters) and
``compute(ctx) -> {"native": [h, w] tensor, ...}``, then add one :class:`MethodSpec` below. The page, the CLI
and the registry-sweeping tests pick it up.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from core.explain.base import ExplainError

__all__ = ["MethodSpec", "METHODS", "get_method"]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    title: str
    module: str  # core.explain.<module>
    uses_layer: bool  # needs a conv layer (the CAM family)
    guided: bool  # guided backprop (core.explain.guidance): offered where the forward calls a rectifier
    paper: str
    summary: str

    def load(self) -> ModuleType:
        return importlib.import_module(f"core.explain.{self.module}")

    @property
    def defaults(self) -> dict:
        return dict(self.load().DEFAULTS)


METHODS: dict[str, MethodSpec] = {s.name: s for s in [
    MethodSpec("gradcam", "Grad-CAM", "gradcam", True, False, "https://arxiv.org/abs/1610.02391",
               "Channel weights = mean gradient; ReLU of the weighted sum of the layer's maps."),
    MethodSpec("gradcam_pp", "Grad-CAM++", "gradcam_pp", True, False, "https://arxiv.org/abs/1710.11063",
               "Like Grad-CAM, with positive gradients weighted per position: better for several objects."),
    MethodSpec("scorecam", "Score-CAM", "scorecam", True, False, "https://arxiv.org/abs/1910.01279",
               "No gradients: each channel masks the image and is weighted by the class score it keeps."),
    MethodSpec("guided_gradcam", "Guided Grad-CAM", "guided_gradcam", True, True, "https://arxiv.org/abs/1610.02391",
               "Guided backprop (fine detail) times Grad-CAM (class-specific location)."),
    MethodSpec("ig", "Integrated Gradients", "ig", False, False, "https://arxiv.org/abs/1703.01365",
               "Gradients integrated on the path from a baseline image; they sum to the score difference."),
    MethodSpec("saliency", "Saliency", "saliency", False, False, "https://arxiv.org/abs/1312.6034",
               "The input gradient: which pixels change the score fastest."),
    MethodSpec("smoothgrad", "SmoothGrad", "smoothgrad", False, False, "https://arxiv.org/abs/1706.03825",
               "Saliency averaged over noisy copies of the image (seeded)."),
    MethodSpec("occlusion", "Occlusion", "occlusion", False, False, "https://arxiv.org/abs/1311.2901",
               "Hide a sliding patch and measure how much the class score drops."),
]}


def get_method(name: str) -> MethodSpec:
    key = str(name).strip().lower().replace("-", "_").replace("+", "p").replace(" ", "_")
    key = {"gradcampp": "gradcam_pp", "grad_cam": "gradcam", "integrated_gradients": "ig",
           "score_cam": "scorecam", "gradcam_p_p": "gradcam_pp"}.get(key, key)
    if key not in METHODS:
        raise ExplainError(f"unknown method {name!r}; choose one of: {', '.join(METHODS)}")
    return METHODS[key]
