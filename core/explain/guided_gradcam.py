"""Guided Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391): guided backpropagation times Grad-CAM.

Guided Backpropagation (Springenberg et al. 2015, https://arxiv.org/abs/1412.6806) passes a gradient backwards
through a rectifier only where both the unit's output and the gradient are positive; the result ``[3, S, S]`` is
multiplied by the Grad-CAM map (ReLU on, upsampled bilinearly), giving fine, class-specific detail.
Map: ``Σ_c |·|`` over colours. Numerically Captum's ``GuidedGradCam`` (``interpolate_mode="bilinear"``) on models
whose rectifiers are all ``nn.ReLU`` modules (``tests/unit/test_explain.py`` compares them).

Gotcha: Captum guides only ``nn.ReLU`` *modules*, so on GoogLeNet / Inception-v3 (functional ``F.relu``),
MobileNet-V2 (ReLU6), EfficientNet (SiLU) or MobileNet-V3 (Hardswish) its "guided" map is (partly) the plain
gradient. Ours guides every rectifier *call* (:mod:`core.explain.guidance`), so the method is offered there too.
"""
from __future__ import annotations

import torch

from core.explain.base import Context, layer_forward, pixel_map, upsample
from core.explain.guidance import guided_input_gradient

DEFAULTS: dict = {}


def compute(ctx: Context) -> dict:
    a, logits = layer_forward(ctx, ctx.x.detach().clone().requires_grad_(True), grad=True)
    (g,) = torch.autograd.grad(logits[0, ctx.target], a)  # [1, K, h, w]
    cam = torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))[0].detach()  # [h, w]
    guided = guided_input_gradient(ctx.forward, ctx.x, ctx.target)  # [1, 3, S, S]
    m, signed = pixel_map(guided * upsample(cam, ctx.size), "abs_sum")
    return {"native": m, "signed": signed}
