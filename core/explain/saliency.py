"""Saliency (Simonyan et al. 2014, https://arxiv.org/abs/1312.6034) through Captum's ``Saliency``.

The gradient of the target logit with respect to the input pixels, ``|∂y_c/∂x|`` (``[3, S, S]``), reduced to
``max_c`` over colours as in the paper. Fast (one backward) and noisy: SmoothGrad averages it over noise.
Gotcha: it answers "which pixels would change the score fastest", not "which pixels the score relies on".
"""
from __future__ import annotations

from captum.attr import Saliency

from core.explain.base import Context, pixel_map

DEFAULTS: dict = {}


def compute(ctx: Context) -> dict:
    attr = Saliency(ctx.forward).attribute(ctx.x.detach().clone().requires_grad_(True), target=ctx.target, abs=True)  # [1, 3, S, S]
    m, _ = pixel_map(attr, "abs_max")
    return {"native": m}
