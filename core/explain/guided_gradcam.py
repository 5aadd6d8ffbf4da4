"""Guided Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391) through Captum's ``GuidedGradCam``.

Guided Backpropagation (Springenberg et al. 2015, https://arxiv.org/abs/1412.6806) passes a gradient backwards
through a ReLU only where both the forward input and the gradient are positive; the result ``[3, S, S]`` is
multiplied by the upsampled Grad-CAM map, giving fine, class-specific detail. Map: ``Σ_c |·|`` over colours.

Gotcha: Captum guides only ``nn.ReLU`` *modules*. A functional ``F.relu`` (GoogLeNet, Inception-v3, DenseNet's
last ReLU), ``ReLU6`` (MobileNet-V2), SiLU (EfficientNet) or Hardswish (MobileNet-V3) is left unguided, and the
"guided" map silently becomes the plain gradient times Grad-CAM. :func:`core.explain.guidance.guided_support`
checks the real forward, and the registry offers this method only where every non-linearity is an ``nn.ReLU``.
"""
from __future__ import annotations

import warnings

from captum.attr import GuidedGradCam

from core.explain.base import Context, pixel_map

DEFAULTS: dict = {}


def compute(ctx: Context) -> dict:
    method = GuidedGradCam(ctx.forward, ctx.layer_module)
    with warnings.catch_warnings():  # "Setting backward hooks on ReLU activations": removed in Captum's finally
        warnings.simplefilter("ignore", UserWarning)
        attr = method.attribute(ctx.x, target=ctx.target, interpolate_mode="bilinear")  # [1, 3, S, S]
    m, signed = pixel_map(attr, "abs_sum")
    return {"native": m, "signed": signed}
