"""Occlusion (Zeiler & Fergus 2014, https://arxiv.org/abs/1311.2901) through Captum's ``Occlusion``.

A ``window × window`` patch of black pixels slides over the image with ``stride``; each pixel's attribution is
the mean drop of the target logit over the patches covering it (``[3, S, S]`` summed over colours; positive =
hiding it hurts the class). Model-agnostic and slow: ``((S − window) / stride + 1)²`` forwards, batched by
``batch_size``. Defaults scale with the image: window S/8, stride S/16 (28 / 14 px at 224).
Gotcha: the patch is black *pixels*; Captum's default baseline 0 would be the ImageNet mean grey.
"""
from __future__ import annotations

from captum.attr import Occlusion

from core.explain.base import Context, ExplainError, black_baseline, pixel_map

DEFAULTS = {"window": None, "stride": None, "batch_size": 32}


def resolved(params: dict, size: int) -> tuple[int, int]:
    window = int(params.get("window") or max(2, size // 8))
    stride = int(params.get("stride") or max(1, window // 2))
    if not 1 <= window <= size or not 1 <= stride <= size:
        raise ExplainError(f"occlusion window and stride must be between 1 and the image size ({size} px)")
    return window, stride


def compute(ctx: Context) -> dict:
    window, stride = resolved(ctx.params, ctx.size)
    attr = Occlusion(ctx.forward).attribute(
        ctx.x, target=ctx.target, sliding_window_shapes=(3, window, window), strides=(3, stride, stride),
        baselines=black_baseline(ctx.x), perturbations_per_eval=max(1, int(ctx.params["batch_size"])))
    m, signed = pixel_map(attr, "relu_sum")
    return {"native": m, "signed": signed, "params": {"window": window, "stride": stride}}
