"""Grad-CAM++ (Chattopadhyay et al. 2018, https://arxiv.org/abs/1710.11063), on one forward hook.

Channel weights use positive gradients, each weighted per position (``g = ∂y_c/∂A``, ``[K, h, w]``):
``a_kij = g² / (2 g² + Σ_ab A^k_ab · g³)``, ``w_k = Σ_ij a_kij · ReLU(g_kij)``, ``L = ReLU(Σ_k w_k A^k)``.
The closed form assumes ``exp(y_c)``'s derivatives, as the paper and pytorch-grad-cam do. Captum has no
Grad-CAM++; the layer is hooked with the same temporary hook as the activation capture.
Gotcha: where ``g = 0`` the denominator is 0; those positions get weight 0, not NaN.
"""
from __future__ import annotations

import torch

from core.explain.base import Context, layer_forward

DEFAULTS: dict = {}
SHARES_FORWARD = True  # explain() hands over its first forward (ctx.first)


def compute(ctx: Context) -> dict:
    if ctx.first is not None:
        a, logits = ctx.first
    else:
        a, logits = layer_forward(ctx, ctx.x.detach().clone().requires_grad_(True), grad=True)
    (g,) = torch.autograd.grad(logits[0, ctx.target], a)
    a, g = a.detach()[0].double(), g.detach()[0].double()  # [K, h, w]
    g2, g3 = g * g, g * g * g
    denom = 2 * g2 + a.sum(dim=(1, 2), keepdim=True) * g3
    alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)),
                        torch.zeros_like(denom))
    w = (alpha * g.clamp(min=0)).sum(dim=(1, 2))  # [K]
    cam = torch.relu((w[:, None, None] * a).sum(0))
    return {"native": cam.float()}
