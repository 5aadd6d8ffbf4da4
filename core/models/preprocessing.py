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
from core.models.sources import source_of

__all__ = ["preprocess", "pipeline", "IMAGENET_MEAN", "IMAGENET_STD", "DEFAULT_CROP_PCT"]

# The per-channel statistics of ImageNet's training set, used by (almost) every pretrained CNN.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_CROP_PCT = 0.875  # 224 / 256: the classic "resize 256, crop 224"


def pipeline(size: int, crop_pct: float, interpolation: InterpolationMode | str, mean, std) -> v2.Compose:
    """PIL image, ndarray or uint8/float tensor ``[3, H, W]`` -> float tensor ``[3, size, size]``.

    Picklable (plain v2 transforms), so it can run in DataLoader worker processes.
    """
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize(int(size / crop_pct), interpolation=InterpolationMode(interpolation), antialias=True),
            v2.CenterCrop(size),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(list(mean), list(std)),
            v2.ToPureTensor(),
        ]
    )


def preprocess(name: str, weights: str | os.PathLike | None = "none"):
    """Callable mapping a PIL image (or ``[3, H, W]`` tensor) to a normalised ``[3, S, S]`` float tensor.

    ``weights="default"``: the pretrained weights' own transform (from their source: torchvision's
    ``weights.transforms()``, timm's ``pretrained_cfg``). Anything else: the generic ImageNet recipe at the
    architecture's default input size.
    """
    spec = get_spec(name)
    if weights == "default" and spec.has_pretrained:
        return source_of(spec).eval_transform(spec, pipeline)
    return pipeline(spec.input_size, DEFAULT_CROP_PCT, InterpolationMode.BILINEAR, IMAGENET_MEAN, IMAGENET_STD)
