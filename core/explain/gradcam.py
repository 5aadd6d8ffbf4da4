"""Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391), numerically Captum's ``LayerGradCam``.

For the layer's activations ``A`` (``[K, h, w]``) and the target logit ``y_c``:
``α_k = mean_ij ∂y_c/∂A^k_ij`` and ``L = ReLU(Σ_k α_k A^k)`` (``[h, w]``), then bilinear upsampling to the image.

Defaults we choose (Captum's differ): the paper's ReLU on (Captum: ``relu_attributions=False``) and bilinear
instead of Captum's nearest upsampling. The formula is evaluated on the activation captured by the call's one
forward (the same forward gives the top-k list and the class probability); called on its own it falls back to
``captum.attr.LayerGradCam``. Both give the same map (``tests/unit/test_explain.py``, and
``bench/explain_gradcam.py`` prints the largest difference): sharing the forward halves the cost, since the
backward from the logits to a late layer is cheap and the forward is most of the work.
Gotcha: the map is as coarse as the layer — 7 × 7 for ResNet ``layer4`` at 224 px, a single number at 32 px.
"""
from __future__ import annotations

import torch
from captum.attr import LayerGradCam

from core.explain.base import Context

DEFAULTS: dict = {}
SHARES_FORWARD = True  # explain() hands over its first forward (ctx.first)


def compute(ctx: Context) -> dict:
    if ctx.first is None:
        cam = LayerGradCam(ctx.forward, ctx.layer_module)
        attr = cam.attribute(ctx.x, target=ctx.target, relu_attributions=True)  # [1, 1, h, w]
        return {"native": attr.detach()[0, 0]}
    a, logits = ctx.first
    (g,) = torch.autograd.grad(logits[0, ctx.target], a)  # [1, K, h, w]
    alpha = g.mean(dim=(2, 3), keepdim=True)  # [1, K, 1, 1]
    return {"native": torch.relu((alpha * a).sum(dim=1))[0].detach()}
