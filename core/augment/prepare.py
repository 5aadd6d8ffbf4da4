"""Bring photos to the preview size the way the exported code does (this module's source is copied into it).

Keep this file free of imports from ``core``: :mod:`core.augment.export` pastes ``prepare_images`` verbatim into
the generated script, which is what makes "same seed, same tiles" hold for the downloaded code too.
"""
from __future__ import annotations

import torch
from PIL import Image


def prepare_images(images: list, max_side: int = 256) -> list:
    """PIL RGB images -> uint8 tensors ``[3, H, W]``, all of the first image's size.

    The first image is shrunk (never enlarged) so its longer side is at most ``max_side`` (0 = keep the size);
    the others are resized to exactly that size (aspect ratio not kept) so they can share a batch.
    """
    first = images[0].convert("RGB")
    w, h = first.size
    if max_side and max(w, h) > max_side:
        s = max_side / max(w, h)
        w, h = max(1, round(w * s)), max(1, round(h * s))
    out = []
    for im in images:
        im = im.convert("RGB")
        if im.size != (w, h):
            im = im.resize((w, h), Image.Resampling.BICUBIC)
        out.append(torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).reshape(h, w, 3).permute(2, 0, 1)
                   .contiguous())
    return out
