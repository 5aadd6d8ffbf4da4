"""How every data set turns a picture of any shape into ``uint8 [3, S, S]``: one policy, one place.

Policy: scale so the SHORTER side is S (bicubic with antialiasing), then crop the centre S×S.
Nothing is stretched (a stretched cat teaches the network stretched cats); the cost is that the edges of
wide or tall photos are cut off — keep the subject centred. Small images (CIFAR's 32 px) are upscaled the
same way, which adds no detail.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageOps


def square(image: Image.Image, size: int) -> Image.Image:
    """RGB ``image`` -> ``size``×``size`` (shorter side to ``size``, centre crop)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size == (size, size):
        return image
    return ImageOps.fit(image, (size, size), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))


def to_chw_uint8(image: Image.Image) -> np.ndarray:
    """PIL RGB -> ``uint8 [3, H, W]`` numpy array (contiguous)."""
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8).transpose(2, 0, 1))


def to_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """PIL image of any size -> ``torch.uint8 [3, size, size]`` with the policy above."""
    return torch.from_numpy(to_chw_uint8(square(image, size)))
