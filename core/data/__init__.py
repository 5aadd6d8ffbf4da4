"""Data sets: one registry, one way to open them, one item format.

``open_dataset(name, split, image_size=...)`` returns a torch ``Dataset`` whose items are
``(image, label)`` with ``image`` a ``uint8`` tensor ``[3, S, S]`` (or ``transform`` of it) and ``label`` an
``int`` (−1 for unlabelled images). Every data set has ``.classes`` (names) and ``.targets`` (list of int).

Registry entries (``DATASETS``): "shapes" (procedural, offline, with masks), "folder" (your images in
ImageFolder layout, or an imported zip), and torchvision sets downloaded on demand: "cifar10", "stl10",
"imagenette", "oxford_pets".

Gotcha: all images are squared the same way everywhere: the shorter side is resized to S, then the
centre S×S is cropped (nothing is stretched; the edges of wide photos are lost).
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from core.data.errors import DataError, DatasetUnavailable
from core.data.folders import FolderDataset
from core.data.shapes import ShapesDataset, overlay_mask

__all__ = [
    "DATASETS", "DatasetSpec", "DataError", "DatasetUnavailable", "open_dataset", "train_val_split",
    "class_counts", "preview_grid", "preview_indices", "get_spec", "targets_of", "classes_of", "size_warnings",
]


@dataclass(frozen=True)
class DatasetSpec:
    """What the UI and the CLI need to know about a data set before opening it.

    ``options`` maps option name -> default value (the page builds one widget per option from the type of
    the default); ``splits`` lists the splits ``open_dataset`` accepts.
    """

    name: str
    title: str
    description: str
    offline: bool
    splits: tuple[str, ...]
    default_image_size: int
    options: dict[str, Any] = field(default_factory=dict)
    option_help: dict[str, str] = field(default_factory=dict)
    has_masks: bool = False
    url: str = ""


def _open_shapes(split, image_size, root, transform, download, **options):
    return ShapesDataset(split, image_size=image_size, root=root, transform=transform, **options)


def _open_folder(split, image_size, root, transform, download, **options):
    return FolderDataset(options.pop("path", ""), split=split, image_size=image_size, root=root,
                         transform=transform, **options)


def _open_builtin(name: str) -> Callable[..., Dataset]:
    def opener(split, image_size, root, transform, download, **options):
        from core.data.builtin import open_builtin  # here: builtin reads this registry (titles)

        return open_builtin(name, split, image_size=image_size, root=root, transform=transform,
                            download=download, **options)

    return opener


_OPENERS: dict[str, Callable[..., Dataset]] = {
    "shapes": _open_shapes,
    "folder": _open_folder,
    "cifar10": _open_builtin("cifar10"),
    "stl10": _open_builtin("stl10"),
    "imagenette": _open_builtin("imagenette"),
    "oxford_pets": _open_builtin("oxford_pets"),
}

DATASETS: dict[str, DatasetSpec] = {
    "shapes": DatasetSpec(
        name="shapes", title="Shapes (procedural)",
        description="Six shapes (circle, square, triangle, star, hexagon, cross) in random colours, sizes, "
                    "positions and rotations on textured, cluttered backgrounds. Made on this machine, works "
                    "offline, and knows where the shape is (ground-truth masks). `bias` ties the background "
                    "colour to the class in the training split only: a trap for shortcut learning.",
        offline=True, splits=("train", "val", "test", "unlabelled"), default_image_size=64,
        options={"n": 12_000, "seed": 0, "bias": 0.0},
        option_help={"n": "training (and unlabelled) images; val and test get n/6 each",
                     "seed": "same seed, same images", "bias": "0 = background says nothing about the class, "
                     "1 = background colour always gives the class away (training split only)"},
        has_masks=True,
    ),
    "folder": DatasetSpec(
        name="folder", title="Image folder / zip upload",
        description="Your own photos: one sub-folder per class (ImageFolder layout), on the server or "
                    "imported from a zip. Split into train/validation with a stratified split.",
        offline=True, splits=("train",), default_image_size=128, options={"path": ""},
        option_help={"path": "a server folder with one sub-folder per class, or the name of an imported zip"},
    ),
    "cifar10": DatasetSpec(
        name="cifar10", title="CIFAR-10",
        description="60,000 tiny 32×32 photos of 10 classes (airplane … truck), 50k train / 10k test. "
                    "Download: 163 MB.",
        offline=False, splits=("train", "test"), default_image_size=32,
        url="https://www.cs.toronto.edu/~kriz/cifar.html",
    ),
    "stl10": DatasetSpec(
        name="stl10", title="STL-10",
        description="96×96 photos of 10 classes: 5k labelled train, 8k test and 100k unlabelled images "
                    "(for self-training). Download: 2.6 GB.",
        offline=False, splits=("train", "test", "unlabelled"), default_image_size=96,
        url="https://cs.stanford.edu/~acoates/stl10/",
    ),
    "imagenette": DatasetSpec(
        name="imagenette", title="Imagenette (160 px)",
        description="10 easy ImageNet classes (tench, church, parachute, …), ~9.5k train / ~3.9k val. "
                    "Download: 94 MB. Its 'val' split serves as the test split.",
        offline=False, splits=("train", "val", "test"), default_image_size=128,
        url="https://github.com/fastai/imagenette",
    ),
    "oxford_pets": DatasetSpec(
        name="oxford_pets", title="Oxford-IIIT Pet",
        description="37 cat and dog breeds, ~3.7k trainval / ~3.7k test photos: fine-grained, good for "
                    "fine-tuning pretrained networks. Download: 800 MB.",
        offline=False, splits=("train", "test"), default_image_size=224,
        url="https://www.robots.ox.ac.uk/~vgg/data/pets/",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}") from None


def open_dataset(name: str, split: str = "train", *, image_size: int | None = None,
                 root: str | os.PathLike | None = None, transform: Callable | None = None,
                 download: bool = False, **options: Any) -> Dataset:
    """Open split ``split`` of data set ``name``: items ``(uint8 [3, S, S] or transform(it), int label)``.

    ``root`` overrides ``core.paths.data_dir()`` (downloads, caches); ``options`` are the spec's options
    (unknown ones raise :class:`DataError`). ``download=True`` fetches missing torchvision data sets.
    Every data set also accepts ``progress=callable(done, total)`` for long first-time work
    (rendering Shapes, decoding a folder, downloading).
    """
    spec = get_spec(name)
    if split not in spec.splits and not (name == "folder" and split in ("val", "test")):
        raise DataError(f"{spec.title} has no {split!r} split; it has: {', '.join(spec.splits)}")
    extra = {"progress"} | ({"n_eval", "lazy", "use_cache"} if name == "shapes" else set())
    unknown = set(options) - set(spec.options) - extra
    if unknown:
        raise DataError(f"unknown option(s) for {spec.title}: {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(spec.options) or 'none'}")
    size = spec.default_image_size if image_size is None else image_size
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise DataError(f"image_size must be a whole number, got {image_size!r}") from None
    if not 8 <= size <= 1024:
        raise DataError(f"image_size must be between 8 and 1024 px, got {size}")
    return _OPENERS[name](split, size, root, transform, download, **options)


def targets_of(dataset: Dataset) -> list[int]:
    """Labels of every item without loading images (follows Subsets)."""
    if isinstance(dataset, Subset):
        parent = targets_of(dataset.dataset)
        return [parent[i] for i in dataset.indices]
    targets = getattr(dataset, "targets", None)
    if targets is None:
        return [int(dataset[i][1]) for i in range(len(dataset))]
    return [int(t) for t in targets]


def classes_of(dataset: Dataset) -> list[str]:
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return list(getattr(dataset, "classes", []))


def train_val_split(dataset: Dataset, val_fraction: float = 0.1, seed: int = 0) -> tuple[Subset, Subset]:
    """Stratified, deterministic split: each class contributes ``round(val_fraction × its count)`` items
    (at least one when it has two or more) to validation. Unlabelled items (−1) all go to training."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    targets = np.asarray(targets_of(dataset))
    rng = np.random.default_rng(seed)
    train_idx: list[int] = []
    val_idx: list[int] = []
    for label in np.unique(targets):
        idx = np.flatnonzero(targets == label)
        idx = idx[rng.permutation(len(idx))]
        k = 0 if label < 0 or len(idx) < 2 else min(len(idx) - 1, max(1, round(val_fraction * len(idx))))
        val_idx.extend(idx[:k].tolist())
        train_idx.extend(idx[k:].tolist())
    return Subset(dataset, sorted(train_idx)), Subset(dataset, sorted(val_idx))


def class_counts(dataset: Dataset) -> dict[str, int]:
    """Number of items per class name, in class order (plus "unlabelled" for −1 targets)."""
    classes = classes_of(dataset)
    counts = Counter(targets_of(dataset))
    out = {name: counts.get(i, 0) for i, name in enumerate(classes)}
    if counts.get(-1):
        out["unlabelled"] = counts[-1]
    return out


# A split with fewer images per class than this is "tiny": its accuracy moves in big steps and is mostly noise.
MIN_IMAGES_PER_CLASS = 10


def size_warnings(counts: dict[str, int], *, split: str = "train", train: int | None = None,
                  val: int | None = None) -> list[str]:
    """Plain-text warnings for a data set too small to learn from or to measure on (empty list: nothing to say).

    ``counts``: images per class in ``split`` (:func:`class_counts`); ``train`` / ``val``: sizes of the
    train/validation parts carved out of it (None when there is no such split). Warns when a class has no
    image (the network can never predict it), when a part is empty, and when a part has fewer than
    :data:`MIN_IMAGES_PER_CLASS` images per class. Gotcha: on N validation images one image is worth
    100/N points of accuracy, so "100 %" on 2 images says almost nothing: the message gives that step.
    """
    out: list[str] = []
    labelled = {c: n for c, n in counts.items() if c != "unlabelled"}
    k = max(1, len(labelled))
    empty = [c for c, n in labelled.items() if n == 0]
    if empty:
        out.append(f"No image of {', '.join(empty)} in '{split}' ({len(empty)} of {len(labelled)} classes): a "
                   f"network can neither learn nor be tested on {'it' if len(empty) == 1 else 'them'}. "
                   "Use more images.")
    if train is None and val is None:
        n = sum(labelled.values())
        if labelled and 0 < n < MIN_IMAGES_PER_CLASS * k:
            out.append(f"Only {n:,} image{'s' if n != 1 else ''} in '{split}' for {len(labelled)} classes (fewer "
                       f"than {MIN_IMAGES_PER_CLASS} per class): an accuracy measured on it moves in steps of "
                       f"{100 / n:.3g} %, so it is mostly noise.")
        return out
    if train is not None:
        if train == 0:
            out.append("The training part is empty: there is nothing to learn from.")
        elif train < MIN_IMAGES_PER_CLASS * k:
            out.append(f"Only {train:,} training image{'s' if train != 1 else ''} for {len(labelled)} classes "
                       f"(fewer than {MIN_IMAGES_PER_CLASS} per class): far too few to learn from.")
    if val is not None:
        if val == 0:
            out.append("The validation part is empty (a class needs at least 2 images to give one to it): "
                       "validation accuracy cannot be measured.")
        elif val < MIN_IMAGES_PER_CLASS * k:
            out.append(f"Only {val:,} validation image{'s' if val != 1 else ''}: each one is {100 / val:.3g} % of "
                       "the validation accuracy, so \"100 %\" on it says little.")
    return out


def preview_indices(dataset: Dataset, n: int = 16, seed: int = 0) -> list[int]:
    """The (sorted) item indices ``preview_grid`` shows: ``n`` drawn without replacement with ``seed``."""
    total = len(dataset)
    if total == 0:
        return []
    return sorted(np.random.default_rng(seed).choice(total, size=min(n, total), replace=False).tolist())


def preview_grid(dataset: Dataset, n: int = 16, seed: int = 0, *, masks: bool = False) -> list[tuple[np.ndarray, str]]:
    """``n`` random items (seeded) as ``(uint8 [H, W, 3] array, label name)`` for display.

    ``masks=True`` tints the ground-truth shape mask red on data sets that have masks (Shapes).
    """
    classes = classes_of(dataset)
    out = []
    for i in preview_indices(dataset, n, seed):
        image, label = dataset[i]
        img = _to_hwc(image)
        if masks and hasattr(dataset, "mask"):
            img = overlay_mask(img, dataset.mask(i))
        out.append((img, classes[label] if 0 <= label < len(classes) else "unlabelled"))
    return out


def _to_hwc(image: Any) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        t = image.detach().cpu()
        if t.dtype != torch.uint8:
            t = (t.float().clamp(0, 1) * 255).round().to(torch.uint8)
        return t.permute(1, 2, 0).numpy()
    return np.asarray(image.convert("RGB"))
