"""Score-CAM (Wang et al. 2020, https://arxiv.org/abs/1910.01279): gradient-free channel weights.

Each channel ``A^k`` of the layer (``[h, w]``) is upsampled to the image, scaled to [0, 1] and used as a soft
mask; the weight ``w_k`` is the target's softmax probability on ``x ⊙ M_k`` (masked to black pixels, not to
the normalised zero), and ``L = ReLU(Σ_k softmax_k(w) A^k)``. One forward per channel, batched by
``batch_size``; with more than ``max_channels`` channels (ResNet-50 ``layer4`` has 2048) only the most active
ones are scored, and a note says so.
Gotcha: constant channels (dead ReLUs) give an all-zero mask; they are skipped, not divided by zero.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from core.explain.base import Context, ExplainError, black_baseline, layer_forward

DEFAULTS = {"batch_size": 32, "max_channels": 256}


def compute(ctx: Context) -> dict:
    bs, cap = int(ctx.params["batch_size"]), int(ctx.params["max_channels"])
    if bs < 1 or cap < 1:
        raise ExplainError("Score-CAM's batch_size and max_channels must be ≥ 1")
    with torch.no_grad():
        a, _ = layer_forward(ctx, ctx.x, grad=False)
        a = a[0].float()  # [K, h, w]
        notes = []
        flat = a.flatten(1)
        lo, hi = flat.min(1).values, flat.max(1).values
        live = torch.nonzero(hi - lo > 0).flatten()
        if live.numel() > cap:
            live = live[a[live].mean(dim=(1, 2)).argsort(descending=True)[:cap]]
            notes.append(f"Score-CAM scored the {cap} most active of {a.shape[0]} channels (max_channels)")
        w = torch.zeros(a.shape[0], device=a.device)
        if live.numel():
            masks = F.interpolate(a[live][:, None], size=ctx.x.shape[-2:], mode="bilinear", align_corners=False)
            m_lo = masks.flatten(1).min(1).values.view(-1, 1, 1, 1)
            m_hi = masks.flatten(1).max(1).values.view(-1, 1, 1, 1)
            masks = (masks - m_lo) / (m_hi - m_lo).clamp(min=1e-12)  # [L, 1, S, S] in [0, 1]
            black = black_baseline(ctx.x)
            scores = []
            for i in range(0, masks.shape[0], bs):
                m = masks[i:i + bs]
                xm = black + (ctx.x - black) * m  # keep the pixels under the mask, black elsewhere
                scores.append(torch.softmax(ctx.forward(xm).float(), dim=1)[:, ctx.target])
            w[live] = torch.softmax(torch.cat(scores), dim=0)
        cam = torch.relu((w[:, None, None] * a).sum(0))
    return {"native": cam, "notes": notes}
