"""Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391) through Captum's ``LayerGradCam``.

For the layer's activations ``A`` (``[K, h, w]``) and the target logit ``y_c``:
``α_k = mean_ij ∂y_c/∂A^k_ij`` and ``L = ReLU(Σ_k α_k A^k)`` (``[h, w]``), then bilinear upsampling to the image.

Defaults we choose (Captum's differ): ``relu_attributions=True`` (the paper's ReLU: only evidence *for* the
class), bilinear instead of Captum's nearest upsampling. Gotcha: the map is as coarse as the layer — 7 × 7 for
ResNet ``layer4`` at 224 px, a single number at 32 px.
"""
from __future__ import annotations

from captum.attr import LayerGradCam

from core.explain.base import Context

DEFAULTS: dict = {}


def compute(ctx: Context) -> dict:
    cam = LayerGradCam(ctx.forward, ctx.layer_module)
    attr = cam.attribute(ctx.x, target=ctx.target, relu_attributions=True)  # [1, 1, h, w]
    return {"native": attr.detach()[0, 0]}
