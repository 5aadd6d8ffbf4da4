"""Turn an image into the tensor a model expects: ``[3, S, S]`` float, normalised like its weights.

Pretrained torchvision weights carry their own evaluation transform (``weights.transforms()``: resize the
short side, centre-crop, scale to [0, 1], normalise with the ImageNet mean/std). timm weights describe
theirs in ``pretrained_cfg`` (size, ``crop_pct``, interpolation, mean, std). Untrained models get the same
recipe at the architecture's input size: resize to S/0.875, centre-crop S, ImageNet normalisation.

Gotcha: feeding a pretrained network unnormalised [0, 1] pixels (or [0, 255]) does not crash, it just
silently ruins the predictions. Always go through :func:`preprocess`.
"""
from __future__ import annotations

import os

import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import v2

from core.models.registry import get_spec

__all__ = ["preprocess", "IMAGENET_MEAN", "IMAGENET_STD", "DEFAULT_CROP_PCT"]

# The per-channel statistics of ImageNet's training set, used by (almost) every pretrained CNN.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_CROP_PCT = 0.875  # 224 / 256: the classic "resize 256, crop 224"


def _pipeline(size: int, crop_pct: float, interpolation: InterpolationMode, mean, std) -> v2.Compose:
    """PIL image, ndarray or uint8/float tensor ``[3, H, W]`` -> float tensor ``[3, size, size]``.

    Picklable (plain v2 transforms), so it can run in DataLoader worker processes.
    """
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize(int(size / crop_pct), interpolation=interpolation, antialias=True),
            v2.CenterCrop(size),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(list(mean), list(std)),
            v2.ToPureTensor(),
        ]
    )


def preprocess(name: str, weights: str | os.PathLike | None = "none"):
    """Callable mapping a PIL image (or ``[3, H, W]`` tensor) to a normalised ``[3, S, S]`` float tensor.

    ``weights="default"``: the pretrained weights' own transform. Anything else: the generic ImageNet recipe
    at the architecture's default input size.
    """
    spec = get_spec(name)
    if weights == "default" and spec.has_pretrained:
        if spec.source == "torchvision":
            from core.models.weights import tv_weights

            return tv_weights(spec).transforms()
        import timm.data
        import timm.models

        cfg = timm.data.resolve_data_config(
            pretrained_cfg=timm.models.get_pretrained_cfg(spec.timm_pretrained_name).to_dict()
        )
        return _pipeline(
            int(cfg["input_size"][-1]),
            float(cfg["crop_pct"]),
            InterpolationMode(cfg.get("interpolation", "bilinear")),
            cfg["mean"],
            cfg["std"],
        )
    return _pipeline(spec.input_size, DEFAULT_CROP_PCT, InterpolationMode.BILINEAR, IMAGENET_MEAN, IMAGENET_STD)
