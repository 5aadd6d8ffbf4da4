"""CutMix and MixUp on a batch, with the drawn λ, the box and the soft labels reported.

Built on ``torchvision.transforms.v2.CutMix`` / ``MixUp``: we call their ``make_params`` (draws λ and the box)
and ``transform`` (pastes / blends and mixes the labels) ourselves, which consumes the random numbers exactly
as calling the transform does, and lets us keep the params. The one thing torchvision does not return is the
λ drawn *before* the box was clipped to the image: a tiny wrapper around its Beta distribution notes it.

CutMix (https://arxiv.org/abs/1905.04899): λ ~ Beta(α, α); a box of area about (1-λ)·H·W centred at a uniform
random pixel is cut from image ``i-1`` of the batch (torchvision pairs each image with its neighbour: ``roll(1)``)
and pasted into image ``i``. The box is clipped at the borders, so torchvision resets
λ = 1 - box area / (H·W): exactly the fraction of image ``i`` that is still visible. Label:
``λ·onehot(y_i) + (1-λ)·onehot(y_{i-1})``.

MixUp (https://arxiv.org/abs/1710.09412): ``x = λ·x_i + (1-λ)·x_{i-1}``, same label rule, λ ~ Beta(α, α).

Gotcha: torchvision draws ONE λ (and one box) per batch, not one per image.

Shapes: images float ``[B, 3, H, W]``, labels int64 ``[B]`` in ``0..K-1`` -> images ``[B, 3, H, W]``,
soft labels float ``[B, K]`` (rows sum to 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn.functional import one_hot
from torchvision.transforms import v2

from core.augment.errors import AugmentError
from core.augment.pipeline import resolve_spec, seeded
from core.data import open_dataset
from core.errors import PlaygroundError


class _RecordingBeta:
    """Wraps torchvision's Beta distribution and remembers the last λ it sampled (same random draws)."""

    def __init__(self, dist):
        self.dist = dist
        self.last: float | None = None

    def sample(self, sample_shape=torch.Size()):
        value = self.dist.sample(sample_shape)
        self.last = float(value)
        return value


@dataclass
class MixRecord:
    name: str
    applied: bool
    lam: float  # fraction of each image that is its own (after clipping, for CutMix)
    lam_drawn: float | None  # λ as drawn from Beta(α, α), before the box was clipped
    box: tuple[int, int, int, int] | None  # CutMix: (x1, y1, x2, y2), pasted from the previous image
    alpha: float
    p: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "applied": self.applied, "lam": round(self.lam, 6),
                "lam_drawn": None if self.lam_drawn is None else round(self.lam_drawn, 6),
                "box": list(self.box) if self.box else None, "alpha": self.alpha, "p": self.p,
                "pairs": "image i is mixed with image i-1 (the batch rolled by one)"}

    @property
    def text(self) -> str:
        if not self.applied:
            return f"{self.name}: not applied (p={self.p:g})"
        if self.name == "cutmix":
            x1, y1, x2, y2 = self.box or (0, 0, 0, 0)
            return (f"CutMix: λ drawn {self.lam_drawn:.3f} → box ({x1}, {y1})–({x2}, {y2}) → "
                    f"λ = kept area {self.lam:.3f}")
        return f"MixUp: λ = {self.lam:.3f}"


class BatchMixer:
    """``mixer(images, labels) -> (images, soft_labels)``; ``mixer.mix(...)`` also returns a :class:`MixRecord`.

    Picklable (holds only settings and torchvision objects).
    """

    def __init__(self, mixing: dict[str, Any], num_classes: int):
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise AugmentError(f"number of classes must be a positive whole number, got {num_classes!r}")
        self.name = mixing["name"]
        self.p = float(mixing["p"])
        self.alpha = float(mixing["params"]["alpha"])
        self.num_classes = num_classes
        cls = {"cutmix": v2.CutMix, "mixup": v2.MixUp}[self.name]
        self._t = cls(alpha=self.alpha, num_classes=num_classes)
        self._beta = _RecordingBeta(self._t._dist)
        self._t._dist = self._beta

    def __repr__(self) -> str:
        return f"BatchMixer({self.name}, alpha={self.alpha:g}, p={self.p:g}, num_classes={self.num_classes})"

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, soft, _ = self.mix(images, labels)
        return out, soft

    def _check(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise AugmentError(f"{self.name} needs a batch of images shaped [B, C, H, W], got "
                               f"{list(getattr(images, 'shape', []))}")
        if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.dtype.is_floating_point:
            raise AugmentError(f"{self.name} needs integer class labels shaped [B], got "
                               f"{getattr(labels, 'dtype', type(labels).__name__)} {list(getattr(labels, 'shape', []))}")
        if labels.shape[0] != images.shape[0]:
            raise AugmentError(f"{self.name}: {images.shape[0]} images but {labels.shape[0]} labels")
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise AugmentError(f"{self.name}: labels must be in 0..{self.num_classes - 1}, got "
                               f"{int(labels.min())}..{int(labels.max())}")

    def mix(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, MixRecord]:
        self._check(images, labels)
        labels = labels.long()
        if self.p < 1.0 and torch.rand(1) >= self.p:  # the same draw as the exported code's `if`
            soft = one_hot(labels, self.num_classes).float()
            return images, soft, MixRecord(self.name, False, 1.0, None, None, self.alpha, self.p)
        t = self._t
        params = {"labels": labels, "batch_size": labels.shape[0], **t.make_params([images])}
        out = t.transform(images, params)
        soft = t.transform(labels, params)
        if self.name == "cutmix":
            rec = MixRecord("cutmix", True, params["lam_adjusted"], self._beta.last, tuple(params["box"]),
                            self.alpha, self.p)
        else:
            rec = MixRecord("mixup", True, params["lam"], params["lam"], None, self.alpha, self.p)
        return out, soft, rec


def build_batch_mixer(spec: dict | str | None, num_classes: int) -> BatchMixer | None:
    """The ``mixing`` part of a pipeline spec (dict or preset name) as a :class:`BatchMixer`, or None."""
    norm = resolve_spec(spec)
    if norm["mixing"] is None:
        return None
    return BatchMixer(norm["mixing"], num_classes)


@dataclass
class MixPreview:
    images: list[torch.Tensor]  # uint8 [3, H, W] each
    soft_labels: torch.Tensor  # [B, K]
    record: MixRecord


def mix_preview(images: list[torch.Tensor], labels: list[int], num_classes: int, mixing: dict[str, Any],
                seed: int = 0) -> MixPreview:
    """Mix a list of uint8 images (all the same size) as one batch, with ``torch.manual_seed(seed)`` first.

    ``mixing``: ``{"name": "cutmix" | "mixup", "params": {...}, "p": ...}`` (validated here). For two images
    ``[A, B]``, the first result is A with B's box pasted (CutMix) or blended in (MixUp).
    """
    norm = resolve_spec({"version": 1, "steps": [], "mixing": mixing})["mixing"]
    if len(images) < 2:
        raise AugmentError("mixing needs at least two images")
    sizes = {tuple(im.shape) for im in images}
    if len(sizes) != 1:
        raise AugmentError(f"images to mix must have the same size, got {sorted(sizes)}")
    mixer = BatchMixer(norm, num_classes)
    batch = torch.stack([im.float() / 255.0 for im in images])
    with seeded(seed):
        out, soft, rec = mixer.mix(batch, torch.tensor(labels, dtype=torch.long))
    mixed = [(x * 255.0).round().clamp(0, 255).to(torch.uint8) for x in out]
    return MixPreview(mixed, soft, rec)


def crop_batch(images: list[torch.Tensor], n: int = 8, size: int = 96, seed: int = 0) -> tuple[list[torch.Tensor], list[int]]:
    """A batch for the mixing view: ``n`` random resized crops (size × size) of the given uint8 images.

    Item ``i`` is a crop of ``images[i % len(images)]`` and its label is that index.
    """
    if not images:
        raise AugmentError("no images to build a batch from")
    crop = v2.RandomResizedCrop((size, size), scale=(0.35, 1.0), antialias=True)
    out, labels = [], []
    with seeded(seed):
        for i in range(n):
            src = i % len(images)
            out.append(crop(images[src]))
            labels.append(src)
    return out, labels


def shapes_batch(n: int = 8, size: int = 96, seed: int = 0) -> tuple[list[torch.Tensor], list[int], list[str]]:
    """``n`` images of the procedural Shapes data set and their classes."""
    try:
        ds = open_dataset("shapes", "train", image_size=size, n=max(n, 8), seed=seed, lazy=True, use_cache=False)
    except (PlaygroundError, TypeError) as err:
        raise AugmentError(f"could not open the Shapes data set: {err}") from None
    items = [ds[i] for i in range(n)]
    return [im for im, _ in items], [int(y) for _, y in items], list(ds.classes)
