"""Bundled sample photos, available offline: they ship inside scikit-image's wheel.

``load_sample("cat")`` returns a fresh ``PIL.Image.Image`` in mode ``"RGB"`` (H×W×3 uint8 as an array),
so a page can show something useful before anyone uploads a file. The decoded arrays are cached
(read-only) and every call hands out its own copy, so a caller drawing on its image cannot change
what the next caller sees.

Gotcha for Grad-CAM demos: ImageNet-1k has no "person" class, so a classifier looking at the
astronaut says "suit" or "military uniform"; that is the right answer to the question it was trained on.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from core.errors import InputError

__all__ = ["SAMPLE_INFO", "SAMPLE_NAMES", "SampleInfo", "load_sample"]


@dataclass(frozen=True)
class SampleInfo:
    """What a sample shows and what an ImageNet classifier would plausibly call it."""

    name: str
    title: str
    description: str
    expected: str  # ImageNet-1k class(es) a good pretrained model should rank high
    loader: str  # the skimage.data function it comes from


SAMPLE_INFO: dict[str, SampleInfo] = {
    "cat": SampleInfo(
        "cat", "Cat", "Chelsea, a tabby cat, looking at the camera.",
        "tabby / tiger cat / Egyptian cat", "chelsea"),
    "coffee": SampleInfo(
        "coffee", "Coffee", "A cup of coffee on a saucer, seen from above.",
        "espresso / cup / coffee mug", "coffee"),
    "astronaut": SampleInfo(
        "astronaut", "Astronaut", "NASA portrait of astronaut Eileen Collins in uniform with a flag.",
        "no 'person' class in ImageNet: expect suit / military uniform / bow tie", "astronaut"),
    "rocket": SampleInfo(
        "rocket", "Rocket", "A SpaceX Falcon 9 rocket standing on its launch pad.",
        "missile / projectile / space shuttle", "rocket"),
    "motorcycle": SampleInfo(
        "motorcycle", "Motorcycle", "A motorcycle in a workshop (left view of a stereo pair).",
        "moped / motor scooter / crash helmet", "stereo_motorcycle"),
}

SAMPLE_NAMES: tuple[str, ...] = tuple(SAMPLE_INFO)


def load_sample(name: str) -> Image.Image:
    """Return sample ``name`` (one of :data:`SAMPLE_NAMES`) as a new RGB PIL image.

    Case and surrounding spaces are ignored. Raises :class:`~core.errors.InputError` for unknown
    names. The first call per sample decodes a PNG/JPEG from scikit-image's data folder (no network).
    """
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in SAMPLE_INFO:
        raise InputError(f"unknown sample {name!r} (choose from: {', '.join(SAMPLE_NAMES)})")
    # fromarray of a copy: the PIL image owns its pixels and never aliases the cached array.
    return Image.fromarray(np.array(_sample_array(key), copy=True))


@lru_cache(maxsize=None)
def _sample_array(key: str) -> np.ndarray:
    import skimage.data  # heavy import, paid only when a sample is first used

    info = SAMPLE_INFO[key]
    if info.loader == "stereo_motorcycle":
        arr = skimage.data.stereo_motorcycle()[0]  # (left, right, disparity)
    else:
        arr = getattr(skimage.data, info.loader)()
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:  # guard against a future skimage changing a sample
        raise RuntimeError(f"sample {key!r} has unexpected shape {arr.shape}")
    arr.setflags(write=False)
    return arr
