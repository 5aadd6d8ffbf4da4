"""Data sets: one registry, one way to open them, one item format.

``open_dataset(name, split, image_size=...)`` returns a torch ``Dataset`` whose items are
``(image, label)`` with ``image`` a ``uint8`` tensor ``[3, S, S]`` (or ``transform`` of it) and ``label`` an
``int`` (−1 for unlabelled images). Every data set has ``.classes`` (names) and ``.targets`` (list of int).

Registry entries (``DATASETS``): "shapes" (procedural, offline, with masks), "folder" (your images in
ImageFolder layout, or an imported zip), and torchvision sets downloaded on demand: "cifar10", "stl10",
"imagenette", "oxford_pets". Each is one :class:`DatasetSpec` in ``_ENTRIES``: how to open and count it, its
splits, its options with their help and widgets, and what the Data sets page warns about; adding a data set is
adding an entry (no name is special-cased elsewhere).

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

from core.data.builtin import SETS as TORCHVISION_SETS, TorchvisionSet, open_builtin
from core.data.errors import DataError, DatasetUnavailable
from core.data.folders import FolderDataset, count_images
from core.data.shapes import CLASSES, SHAPES_EXTRA_PER_IMAGE, ShapesDataset, generate, overlay_mask, split_size

__all__ = [
    "DATASETS", "DatasetSpec", "Drawn", "DataError", "DatasetUnavailable", "open_dataset", "train_val_split",
    "class_counts", "preview_grid", "preview_indices", "get_spec", "targets_of", "classes_of", "size_warnings",
]


Options = dict[str, Any]


@dataclass(frozen=True)
class Drawn:
    """A data set drawn on this machine before a run can use it (Shapes): what the duration and memory estimates
    need to know without opening it. ``options`` always come with the spec's defaults filled in; sizes in px.

    ``to_draw(options, S)``: images the run must draw first (its training and test splits not yet in the disk
    cache); ``draw(options, S, k)``: draw ``k`` training images (the estimate times it); ``held(options,
    unlabelled)``: sizes of the splits a run holds in memory (with the unlabelled split for self-training);
    ``bytes_per_image(S)``: what one held image keeps; ``draw_bytes_per_image(S)``: what it takes more while
    drawn; ``label``: how a message names them ("Shapes images").
    """

    to_draw: Callable[[Options, int], int]
    draw: Callable[[Options, int, int], None]
    held: Callable[[Options, bool], list[int]]
    bytes_per_image: Callable[[int], int]
    draw_bytes_per_image: Callable[[int], int]
    label: str


@dataclass(frozen=True)
class DatasetSpec:
    """One data set: what the UI and the CLI know before opening it, and how to open and count it.

    Adding a data set is one entry in ``DATASETS``. ``options`` maps option name -> default value, ``option_help``
    option name -> help text and ``option_widgets`` option name -> the widget details (``kind``, ``min``, ``max``,
    ``step``, ``widget``: :class:`core.params.Param` fields; none: guessed from the default's type);
    ``splits`` lists the splits ``open_dataset`` accepts, ``optional_splits`` those it opens when the data has
    them (a folder's ``val/`` and ``test/``); ``hidden_options`` are accepted by ``open_dataset`` but not shown;
    ``preview_options`` are added for a quick preview (Shapes: draw only the images shown).
    ``opener(split, image_size, root, transform, download, **options)`` opens a split; ``counter(split, options,
    image_size)`` counts its images without decoding any (a duration estimate runs inside the page request);
    ``notes(split, options, classes)`` are warnings the Data sets page shows (Shapes: what ``bias`` means here).
    ``kind``: "procedural" (made here), "folder" (the user's images) or "download".
    """

    name: str
    title: str
    description: str
    offline: bool
    splits: tuple[str, ...]
    default_image_size: int
    options: Options = field(default_factory=dict)
    option_help: dict[str, str] = field(default_factory=dict)
    has_masks: bool = False
    url: str = ""
    kind: str = "download"
    option_widgets: dict[str, dict[str, Any]] = field(default_factory=dict)
    hidden_options: tuple[str, ...] = ()
    optional_splits: tuple[str, ...] = ()
    preview_options: Options = field(default_factory=dict)
    opener: Callable[..., Dataset] | None = field(default=None, compare=False, repr=False)
    counter: Callable[[str, Options, int], int] | None = field(default=None, compare=False, repr=False)
    notes: Callable[[str, Options, list[str]], list[str]] | None = field(default=None, compare=False, repr=False)
    drawn: Drawn | None = field(default=None, compare=False, repr=False)  # made here before a run (Shapes)
    classes: tuple[str, ...] = ()  # class names known without opening it (Shapes); () = read from the data

    def count(self, split: str, options: Options | None = None, image_size: int | None = None) -> int:
        """Images in ``split`` with ``options`` (defaults filled in), from names or options only: nothing decoded,
        nothing downloaded (a set not on disk raises :class:`DatasetUnavailable`)."""
        opts = {**self.options, **(options or {})}
        size = self.default_image_size if image_size is None else int(image_size)
        if self.counter is None:
            return len(open_dataset(self.name, split, image_size=size, **opts))
        return int(self.counter(split, opts, size))

    def warnings(self, split: str, options: Options | None, classes: list[str]) -> list[str]:
        return list(self.notes(split, {**self.options, **(options or {})}, classes)) if self.notes else []


# ---------------------------------------------------------------------------------------------- Shapes
def _open_shapes(split, image_size, root, transform, download, **options):
    return ShapesDataset(split, image_size=image_size, root=root, transform=transform, **options)


def _count_shapes(split: str, options: Options, image_size: int) -> int:
    return split_size(split, int(options["n"]), options.get("n_eval"))


def _shapes_to_draw(options: Options, image_size: int) -> int:
    todo = 0
    for split in ("train", "test"):
        ds = ShapesDataset(split, image_size=image_size, lazy=True, **options)  # loads the cache if present
        todo += 0 if ds.is_rendered else len(ds)
    return todo


def _shapes_draw(options: Options, image_size: int, k: int) -> None:
    generate("train", k, image_size=image_size, seed=int(options.get("seed", 0)), bias=float(options.get("bias", 0)))


def _shapes_held(options: Options, unlabelled: bool) -> list[int]:
    n = int(options["n"])
    held = [split_size("train", n), split_size("test", n, options.get("n_eval"))]  # validation is carved from train
    return held + [split_size("unlabelled", n)] if unlabelled else held


_SHAPES_DRAWN = Drawn(
    to_draw=_shapes_to_draw, draw=_shapes_draw, held=_shapes_held,
    bytes_per_image=lambda s: 3 * s * s + -(-s * s // 8) + SHAPES_EXTRA_PER_IMAGE,  # pixels, bit-packed mask, labels
    draw_bytes_per_image=lambda s: s * s,  # the mask, one byte per pixel until it is packed
    label="Shapes images",
)


def _shapes_notes(split: str, options: Options, classes: list[str]) -> list[str]:
    b = float(options.get("bias") or 0)
    if split != "train" or b <= 0:
        return []
    k = max(1, len(classes))
    return [f"Bias {b:.2f}: in this split the background colour alone predicts the class "
            f"{b + (1 - b) / k:.0%} of the time (chance: {1 / k:.0%}). The test split is unbiased."]


# ---------------------------------------------------------------------------------------------- folders
def _open_folder(split, image_size, root, transform, download, **options):
    return FolderDataset(options.pop("path", ""), split=split, image_size=image_size, root=root,
                         transform=transform, **options)


def _count_folder(split: str, options: Options, image_size: int) -> int:
    return count_images(options.get("path", ""), split)


# ---------------------------------------------------------------------------------------------- downloads
def _open_builtin(name: str) -> Callable[..., Dataset]:
    def opener(split, image_size, root, transform, download, **options):
        return open_builtin(name, split, image_size=image_size, root=root, transform=transform,
                            download=download, **options)

    return opener


def _download(entry: TorchvisionSet) -> DatasetSpec:
    """A torchvision set downloaded on demand (one entry in core.data.builtin.SETS); counted by opening what is on
    disk (no download)."""
    return DatasetSpec(name=entry.name, title=entry.title, description=entry.description, offline=False,
                       splits=tuple(entry.splits), default_image_size=entry.default_image_size, url=entry.url,
                       kind="download", opener=_open_builtin(entry.name))


_ENTRIES = (
    DatasetSpec(
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
        option_widgets={"n": dict(kind="int", min=1, max=1_000_000, step=500, widget="number"),
                        "seed": dict(kind="int", min=0, max=1_000_000, step=1, widget="number"),
                        "bias": dict(kind="float", min=0.0, max=1.0, step=0.05, widget="slider")},
        has_masks=True, kind="procedural", hidden_options=("n_eval", "lazy", "use_cache"),
        preview_options={"lazy": True},  # a preview draws only the images it shows
        opener=_open_shapes, counter=_count_shapes, notes=_shapes_notes, drawn=_SHAPES_DRAWN, classes=tuple(CLASSES),
    ),
    DatasetSpec(
        name="folder", title="Image folder / zip upload",
        description="Your own photos: one sub-folder per class (ImageFolder layout), on the server or "
                    "imported from a zip. Split into train/validation with a stratified split.",
        offline=True, splits=("train",), default_image_size=128, options={"path": ""},
        option_help={"path": "a server folder with one sub-folder per class, or the name of an imported zip"},
        option_widgets={"path": dict(kind="path")},
        kind="folder", optional_splits=("val", "test"), opener=_open_folder, counter=_count_folder,
    ),
    *(_download(entry) for entry in TORCHVISION_SETS.values()),
)
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _ENTRIES}


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
    if split not in spec.splits and split not in spec.optional_splits:
        raise DataError(f"{spec.title} has no {split!r} split; it has: {', '.join(spec.splits)}")
    unknown = set(options) - set(spec.options) - set(spec.hidden_options) - {"progress"}
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
    return spec.opener(split, size, root, transform, download, **options)


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
