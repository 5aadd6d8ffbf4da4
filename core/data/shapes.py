"""Shapes: a procedural, seeded image-classification data set that works offline and comes with masks.

Each image shows ONE shape (circle, square, triangle, star, hexagon, cross) of a random colour, size,
position, rotation and slight stretch, on a textured background (gradient, blobs, stripes or checks) with
clutter: thin lines and dots under the shape and a few lines across it. Because we drew it, we know exactly
which pixels belong to the shape: ``mask(i)`` is the ground truth against which a saliency map
(Grad-CAM, ...) can be scored ("does the network look at the shape?").

Shapes of a sample item: image ``uint8 [3, S, S]`` (S = ``image_size``), label ``int`` (−1 in the
"unlabelled" split), mask ``bool [S, S]``.

Shortcut learning (Geirhos et al. 2020, https://arxiv.org/abs/2004.07780): each class owns one background
hue. With ``bias=b`` a training image gets its class's hue with probability ``b`` (otherwise a uniformly
random one of the six), so background colour predicts the label in training with accuracy ``b + (1 − b)/6``;
in the val / test / unlabelled splits it is always random (accuracy 1/6). A network trained with b≈1 can score
well in training and badly on the test split: it learned the colour, not the shape.

Gotcha: difficulty is real, and it is tuned. A ResNet-18 from scratch on the 12k default training split at
64 px (batch 64, AdamW one-cycle 2e-3, label smoothing 0.1, flips) scored 39 % / 81 % / 92 % test accuracy
after epochs 1 / 2 / 3; most remaining errors are circle <-> hexagon. Fewer images learn far worse (a
similar set gave ~33 % with 3k images), so the default ``n`` is 12k. On two CPU cores that ResNet-18 needs
~8 min; the Train page's default, LeNet-5 for 15 epochs at 64 px, reaches ~90 % in ~2½ min (one ResNet-18
step costs about as much as 15 LeNet-5 steps here).

Speed: a split is rendered once (PIL drawing + numpy per image; ~17 s for 12k images at 64 px on one
core here) into one uint8 array and cached under
``data_dir()/cache/shapes-<hash>.npz``; afterwards an item is an array slice.
"""
from __future__ import annotations

import colorsys
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.utils.data import Dataset

from core.data import cache
from core.data.errors import DataError

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon", "cross")
#: Background hue (0..1) owned by each class, used by the ``bias`` knob: red, yellow, green, cyan, blue, magenta.
BACKGROUND_HUES: tuple[float, ...] = tuple(i / len(CLASSES) for i in range(len(CLASSES)))
TEXTURES: tuple[str, ...] = ("gradient", "blobs", "stripes", "checks")
SPLITS: tuple[str, ...] = ("train", "val", "test", "unlabelled")
#: Disjoint seed streams: the split code is part of every per-image seed.
_SPLIT_CODES = {"train": 1, "val": 2, "test": 3, "unlabelled": 4}
#: Bump when the renderer changes, so old caches are not reused.
GENERATOR_VERSION = 2
DEFAULT_N = 12_000
DEFAULT_IMAGE_SIZE = 64
_SUPERSAMPLE = 4  # the shape is drawn 4x larger and box-filtered down: anti-aliased edges, exact coverage


# Bytes a held Shapes image keeps besides its pixels and its bit-packed mask: labels, bg_index, texture (int64),
# colors (3 B), radius, rotation, cx, cy (float32).
SHAPES_EXTRA_PER_IMAGE = 8 + 8 + 8 + 3 + 4 * 4


def split_size(split: str, n: int, n_eval: int | None = None) -> int:
    """Number of images of ``split``: ``n`` for train and unlabelled, ``n_eval`` (default n/6) for val and test."""
    if split in ("train", "unlabelled"):
        return n
    if n_eval is not None:
        return n_eval
    return max(len(CLASSES), n // 6)


# --------------------------------------------------------------------------------------------- geometry
def _unit_polygon(name: str) -> np.ndarray:
    """Vertices [V, 2] of the shape centred at 0 with circumradius ~1 (y down, like images)."""
    def ngon(k: int, radius: float = 1.0, phase: float = -math.pi / 2) -> np.ndarray:
        a = phase + 2 * math.pi * np.arange(k) / k
        return radius * np.stack([np.cos(a), np.sin(a)], axis=1)

    if name == "circle":
        return ngon(64, 0.9)
    if name == "square":
        return ngon(4, 1.0, math.pi / 4)
    if name == "triangle":
        return ngon(3, 1.05)
    if name == "hexagon":
        return ngon(6, 1.0)
    if name == "star":
        outer, inner = ngon(5, 1.05), ngon(5, 0.45, -math.pi / 2 + math.pi / 5)
        return np.stack([outer, inner], axis=1).reshape(10, 2)
    if name == "cross":
        w = 0.32  # half width of an arm
        pts = [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w)]
        return np.asarray(pts, dtype=float) * 0.9
    raise ValueError(name)


_POLYGONS = {name: _unit_polygon(name) for name in CLASSES}


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.asarray(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


# --------------------------------------------------------------------------------------------- drawing
def _draw_params(rng: np.random.Generator, label: int, biased: bool, bias: float) -> dict[str, Any]:
    """All random choices of one image, independent of the image size (same scene at 32 or 224 px)."""
    k = len(CLASSES)
    u, other = rng.random(), int(rng.integers(k))  # always drawn, so bias only changes the background hue
    bg_index = label if (biased and u < bias) else other
    hue = BACKGROUND_HUES[bg_index] + rng.uniform(-0.03, 0.03)
    c1 = _hsv(hue, rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.9))
    c2 = _hsv(hue, rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.9))
    texture = int(rng.integers(len(TEXTURES)))
    tex = {
        "angle": rng.uniform(0, 2 * math.pi),
        "freq": rng.uniform(2.0, 6.0),
        "phase": rng.uniform(0, 2 * math.pi),
        "grid": rng.random((int(rng.integers(3, 7)),) * 2).astype(np.float32),
    }
    # Shape colour: anything, as long as it stands out from both background colours.
    for _ in range(30):
        color = _hsv(rng.random(), rng.uniform(0.3, 1.0), rng.uniform(0.15, 1.0))
        if min(np.linalg.norm(color - c1), np.linalg.norm(color - c2)) > 0.35:
            break
    else:
        color = 1.0 - (c1 + c2) / 2
    radius = rng.uniform(0.18, 0.34)
    stretch = rng.uniform(0.85, 1.15)
    reach = radius * 1.15 + 0.02
    center = rng.uniform(reach, 1 - reach, size=2)
    rotation = rng.uniform(0, 2 * math.pi)

    def line() -> tuple:
        x0, y0, x1, y1 = rng.uniform(-0.1, 1.1, size=4)
        return (x0, y0, x1, y1, rng.uniform(0.008, 0.03), _hsv(rng.random(), rng.random(), rng.random()))

    under = [line() for _ in range(int(rng.integers(2, 7)))]
    over = [line() for _ in range(int(rng.integers(0, 2)))]
    dots = [(*rng.uniform(0, 1, size=2), rng.uniform(0.015, 0.045), _hsv(rng.random(), rng.random(), rng.random()))
            for _ in range(int(rng.integers(0, 6)))]
    return {
        "label": label, "bg_index": bg_index, "c1": c1, "c2": c2, "texture": texture, "tex": tex,
        "color": color, "radius": radius, "stretch": stretch, "center": center, "rotation": rotation,
        "under": under, "over": over, "dots": dots, "noise": rng.uniform(0.0, 0.04),
    }


def _texture(kind: int, tex: dict[str, Any], size: int) -> np.ndarray:
    """Background mixing weight t in [0, 1], shape [S, S]."""
    xs = (np.arange(size, dtype=np.float32) + 0.5) / size
    x, y = np.meshgrid(xs, xs)
    proj = x * math.cos(tex["angle"]) + y * math.sin(tex["angle"])
    name = TEXTURES[kind]
    if name == "gradient":
        return (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)
    if name == "blobs":
        grid = Image.fromarray(tex["grid"], mode="F").resize((size, size), Image.BICUBIC)
        return np.clip(np.asarray(grid), 0, 1)
    if name == "stripes":
        return 0.5 + 0.5 * np.sin(2 * math.pi * tex["freq"] * proj + tex["phase"])
    ortho = -x * math.sin(tex["angle"]) + y * math.cos(tex["angle"])
    return ((np.floor(proj * tex["freq"]) + np.floor(ortho * tex["freq"])) % 2).astype(np.float32)


def _line(draw: ImageDraw.ImageDraw, spec: tuple, size: int, fill: Any) -> None:
    x0, y0, x1, y1, width, _ = spec
    draw.line([(x0 * size, y0 * size), (x1 * size, y1 * size)], fill=fill, width=max(1, round(width * size)))


def _to_u8(color: np.ndarray) -> tuple[int, int, int]:
    return tuple((np.clip(color, 0, 1) * 255 + 0.5).astype(int).tolist())  # type: ignore[return-value]


def render(p: dict[str, Any], size: int, pixel_rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One image ``uint8 [S, S, 3]`` and its shape mask ``bool [S, S]`` from drawn parameters ``p``."""
    t = _texture(p["texture"], p["tex"], size)[..., None]
    background = p["c1"] * (1 - t) + p["c2"] * t
    canvas = Image.fromarray((background * 255).round().astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas)
    for spec in p["under"]:
        _line(draw, spec, size, _to_u8(spec[5]))
    for x, y, r, color in p["dots"]:
        draw.ellipse([(x - r) * size, (y - r) * size, (x + r) * size, (y + r) * size], fill=_to_u8(color))
    img = np.asarray(canvas, dtype=np.float32) / 255

    # The shape: rotate and stretch the unit polygon, draw it supersampled, box-filter to get coverage.
    pts = _POLYGONS[CLASSES[p["label"]]] * np.array([p["stretch"], 1 / p["stretch"]])
    c, s = math.cos(p["rotation"]), math.sin(p["rotation"])
    pts = pts @ np.array([[c, s], [-s, c]]) * p["radius"] + p["center"]
    big = size * _SUPERSAMPLE
    layer = Image.new("L", (big, big), 0)
    ImageDraw.Draw(layer).polygon([tuple(v) for v in pts * big], fill=255)
    alpha = np.asarray(layer.resize((size, size), Image.BOX), dtype=np.float32)[..., None] / 255
    img = img * (1 - alpha) + p["color"] * alpha

    mask = alpha[..., 0] >= 0.5
    if p["over"]:
        # A few clutter lines across everything: they hide some shape pixels, and the mask says so.
        occluder = Image.new("L", (size, size), 0)
        over = Image.fromarray((img * 255 + 0.5).astype(np.uint8), "RGB")
        d_over, d_occ = ImageDraw.Draw(over), ImageDraw.Draw(occluder)
        for spec in p["over"]:
            _line(d_over, spec, size, _to_u8(spec[5]))
            _line(d_occ, spec, size, 255)
        img = np.asarray(over, dtype=np.float32) / 255
        mask &= np.asarray(occluder) == 0

    img = img * 255 + 0.5
    img += pixel_rng.standard_normal(size=img.shape, dtype=np.float32) * np.float32(p["noise"] * 255)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def _image_rngs(seed: int, split: str, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    code = _SPLIT_CODES[split]
    return np.random.default_rng([seed, code, index, 0]), np.random.default_rng([seed, code, index, 1])


def balanced_labels(seed: int, split: str, n: int) -> np.ndarray:
    """Exactly balanced labels (±1) in a seeded random order."""
    labels = np.arange(n) % len(CLASSES)
    return np.random.default_rng([seed, _SPLIT_CODES[split], 2**31]).permutation(labels).astype(np.int64)


def generate(split: str, n: int, *, image_size: int = DEFAULT_IMAGE_SIZE, seed: int = 0, bias: float = 0.0,
             progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Render ``n`` images of ``split``; returns the arrays stored in the cache (see ShapesDataset)."""
    labels = balanced_labels(seed, split, n)
    images = np.empty((n, 3, image_size, image_size), dtype=np.uint8)
    masks = np.empty((n, image_size, image_size), dtype=bool)
    meta = {k: np.empty(n, dtype=np.float32) for k in ("radius", "rotation", "cx", "cy")}
    bg_index = np.empty(n, dtype=np.int64)
    colors = np.empty((n, 3), dtype=np.uint8)
    texture = np.empty(n, dtype=np.int64)
    biased = split == "train"
    for i in range(n):
        p_rng, px_rng = _image_rngs(seed, split, i)
        p = _draw_params(p_rng, int(labels[i]), biased, bias)
        img, mask = render(p, image_size, px_rng)
        images[i] = img.transpose(2, 0, 1)
        masks[i] = mask
        bg_index[i], texture[i] = p["bg_index"], p["texture"]
        colors[i] = _to_u8(p["color"])
        meta["radius"][i], meta["rotation"][i] = p["radius"], p["rotation"]
        meta["cx"][i], meta["cy"][i] = p["center"]
        if progress is not None and (i % 256 == 0 or i == n - 1):
            progress(i + 1, n)
    return {
        "images": images, "labels": labels, "masks": np.packbits(masks.reshape(n, -1), axis=1),
        "bg_index": bg_index, "colors": colors, "texture": texture, **meta,
    }


_KEYS = ("images", "labels", "masks", "bg_index", "colors", "texture", "radius", "rotation", "cx", "cy")


class ShapesDataset(Dataset):
    """The Shapes data set, one split. Item ``(uint8 tensor [3, S, S], label)``; label −1 when unlabelled.

    Attributes: ``classes`` (names), ``targets`` (list of int, −1 for the unlabelled split),
    ``labels`` (true labels as ``int64 [N]``, also for the unlabelled split: handy to score pseudo-labels),
    ``images`` (``uint8 [N, 3, S, S]``), ``background_index`` (``int64 [N]``, which class's hue the background
    has), ``cache_path`` and ``generation_seconds`` (0 when loaded from the cache).

    ``lazy=True`` (for previews): when the split is not cached yet, render only the items asked for (each
    item is exactly what the full rendering would give); ``images`` / ``tensors()`` still render everything.
    """

    def __init__(self, split: str = "train", *, image_size: int = DEFAULT_IMAGE_SIZE, n: int = DEFAULT_N,
                 seed: int = 0, bias: float = 0.0, n_eval: int | None = None,
                 transform: Callable | None = None, root: str | os.PathLike | None = None, use_cache: bool = True,
                 lazy: bool = False, progress: Callable[[int, int], None] | None = None) -> None:
        if split not in SPLITS:
            raise DataError(f"Shapes has no split {split!r}; choose one of {', '.join(SPLITS)}")
        image_size, n, seed = _int("image_size", image_size, 8, 1024), _int("n", n, 1, 1_000_000), _int("seed", seed, 0, 2**32 - 1)
        if n_eval is not None:
            n_eval = _int("n_eval", n_eval, 1, 1_000_000)
        try:
            bias = float(bias)
        except (TypeError, ValueError):
            raise DataError(f"bias must be a number between 0 and 1, got {bias!r}") from None
        if not 0.0 <= bias <= 1.0:
            raise DataError(f"bias must be between 0 and 1, got {bias}")
        self.split, self.image_size, self.seed, self.transform = split, image_size, seed, transform
        self.bias = bias if split == "train" else 0.0
        self.classes = list(CLASSES)
        self._count = split_size(split, n, n_eval)
        self._progress = progress
        params = {"v": GENERATOR_VERSION, "split": split, "n": self._count, "seed": seed, "bias": self.bias,
                  "size": image_size}
        self.cache_path: Path | None = cache.cache_dir(root) / f"shapes-{cache.params_hash(params)}.npz" if use_cache else None
        self.generation_seconds = 0.0
        self._a: dict[str, np.ndarray] | None = cache.load(self.cache_path, _KEYS) if self.cache_path else None
        self._memo: dict[int, tuple[np.ndarray, np.ndarray, dict[str, Any]]] = {}
        if self._a is None and not lazy:
            self._render_all()
        self.labels: np.ndarray = self._a["labels"] if self._a is not None else balanced_labels(seed, split, self._count)
        self.targets: list[int] = [-1] * self._count if split == "unlabelled" else self.labels.tolist()

    def _render_all(self) -> dict[str, np.ndarray]:
        if self._a is None:
            start = time.perf_counter()
            arrays = generate(self.split, self._count, image_size=self.image_size, seed=self.seed, bias=self.bias,
                              progress=self._progress)
            self.generation_seconds = time.perf_counter() - start
            if self.cache_path is not None:
                cache.save(self.cache_path, arrays)
            self._a = arrays
            self._memo.clear()
        return self._a

    def _render_one(self, index: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        if index not in self._memo:
            if not -self._count <= index < self._count:
                raise IndexError(index)
            index %= self._count
            p_rng, px_rng = _image_rngs(self.seed, self.split, index)
            p = _draw_params(p_rng, int(self.labels[index]), self.split == "train", self.bias)
            img, mask = render(p, self.image_size, px_rng)
            self._memo[index] = (img.transpose(2, 0, 1).copy(), mask, p)
        return self._memo[index]

    @property
    def is_rendered(self) -> bool:
        """True when every image is in memory (rendered now or loaded from the cache)."""
        return self._a is not None

    @property
    def images(self) -> np.ndarray:
        return self._render_all()["images"]

    @property
    def background_index(self) -> np.ndarray:
        return self._render_all()["bg_index"]

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> tuple[Any, int]:
        if self._a is not None:
            # A copy: a transform working in place must not change the cached array.
            image = torch.from_numpy(self._a["images"][index].copy())
        else:
            image = torch.from_numpy(self._render_one(index)[0].copy())
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]

    def mask(self, index: int) -> np.ndarray:
        """Ground-truth mask ``bool [S, S]``: True where the shape is visible (clutter lines on top excluded)."""
        if self._a is None:
            return self._render_one(index)[1].copy()
        s = self.image_size
        return np.unpackbits(self._a["masks"][index], count=s * s).reshape(s, s).astype(bool)

    def meta(self, index: int) -> dict[str, Any]:
        """What was drawn for image ``index`` (positions and sizes as fractions of the image side)."""
        if self._a is None:
            p = self._render_one(index)[2]
            f32 = np.float32  # the cache stores float32: give the same numbers either way
            values = {"label": p["label"], "bg_index": p["bg_index"], "colors": _to_u8(p["color"]),
                      "texture": p["texture"], "radius": f32(p["radius"]), "rotation": f32(p["rotation"]),
                      "cx": f32(p["center"][0]), "cy": f32(p["center"][1])}
        else:
            values = {k: self._a[k][index] for k in _KEYS if k not in ("images", "masks", "labels")}
            values["label"] = self._a["labels"][index]
        return {
            "label": int(values["label"]), "class": CLASSES[int(values["label"])],
            "background_index": int(values["bg_index"]), "color": tuple(int(c) for c in values["colors"]),
            "texture": TEXTURES[int(values["texture"])], "radius": float(values["radius"]),
            "rotation_deg": math.degrees(float(values["rotation"])),
            "center": (float(values["cx"]), float(values["cy"])),
        }

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole split in memory: ``uint8 [N, 3, S, S]`` (shares memory, don't write to it) and ``int64 [N]``
        targets (−1 in the unlabelled split). For fast loops that skip the DataLoader."""
        return torch.from_numpy(self.images), torch.tensor(self.targets, dtype=torch.int64)

    def background_shortcut_accuracy(self) -> float:
        """How often "background hue → class" is right: 1/6 without bias, ``b + (1 − b)/6`` with bias b."""
        return float(np.mean(self.background_index == self.labels))


def overlay_mask(image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = (255, 0, 0),
                 alpha: float = 0.5) -> np.ndarray:
    """``uint8 [H, W, 3]`` image with ``mask`` (``bool [H, W]``) tinted in ``color``: to check masks by eye."""
    out = image.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(color, dtype=np.float32)
    return out.round().astype(np.uint8)


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be a whole number, got {value!r}") from None
    if v != value and not isinstance(value, str) and float(value) != v:
        raise DataError(f"{name} must be a whole number, got {value!r}")
    if not lo <= v <= hi:
        raise DataError(f"{name} must be between {lo} and {hi}, got {v}")
    return v
