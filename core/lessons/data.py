"""A data set as in-memory tensors for the lessons: ``uint8 [N, 3, S, S]`` images and ``int64 [N]`` labels.

The lessons train tiny networks in-process, so they skip the DataLoader and index tensors directly.
Shapes renders (and caches on disk) exactly the images asked for; other data sets (an image folder, an
imported zip, a downloaded torchvision set) are opened through :func:`core.data.open_dataset`, and when they
have no test split a stratified part of the training split is held out.

Gotcha: ``train_size`` takes the *first* N training images. Shapes' labels come in a seeded random order, so
any prefix is close to balanced; the subsets for several training-set sizes are nested (100 ⊂ 300 ⊂ 1000),
which is what an "accuracy vs data" curve wants.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from core.data import classes_of, get_spec, open_dataset, train_val_split
from core.data.shapes import ShapesDataset
from core.errors import InputError

__all__ = ["LessonData", "load_lesson_data", "to_float", "ShapesTensors", "load_shapes_tensors"]

#: Per-channel normalisation of the lessons' own networks and of raw-pixel k-NN (ImageNet statistics, as the
#: training loop uses, so a run's network sees what it was trained on).
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@dataclass
class LessonData:
    """Train and test tensors of one data set at one image size."""

    x_train: torch.Tensor  # uint8 [N, 3, S, S]
    y_train: torch.Tensor  # int64 [N]
    x_test: torch.Tensor  # uint8 [M, 3, S, S]
    y_test: torch.Tensor  # int64 [M]
    classes: list[str]
    image_size: int
    dataset: str
    seconds: float  # time spent rendering / decoding (0 when it came from the cache)
    bg_train: torch.Tensor | None = None  # Shapes only: which class's background hue each image has
    bg_test: torch.Tensor | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """``uint8 [N, 3, S, S]`` -> normalised ``float32 [N, 3, S, S]`` (ImageNet mean/std)."""
    return (x.float() / 255.0 - MEAN) / STD


def _stack(ds, limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    n = len(ds) if limit is None else min(limit, len(ds))
    if n == 0:
        raise InputError("the data set has no images")
    xs, ys = zip(*(ds[i] for i in range(n)))
    return torch.stack(list(xs)), torch.tensor(ys, dtype=torch.int64)


def load_lesson_data(dataset: str = "shapes", *, train_size: int, n_test: int, image_size: int = 32,
                     seed: int = 0, bias: float = 0.0, path: str = "",
                     progress: Callable[[int, int], None] | None = None) -> LessonData:
    """Load ``train_size`` training and ``n_test`` test images of ``dataset`` at ``image_size`` px.

    ``dataset``: "shapes" (rendered offline; ``bias`` ties the background colour to the class in the training
    split only), "folder" (``path``: a server folder or an imported zip's name), or a torchvision set that is
    already downloaded. Raises :class:`InputError` / :class:`core.data.DataError` with a clear message.
    """
    for name, value, lo, hi in (("train_size", train_size, 1, 100_000), ("n_test", n_test, 1, 20_000),
                                ("image_size", image_size, 8, 256)):
        if not isinstance(value, int) or not lo <= value <= hi:
            raise InputError(f"{name} must be a whole number between {lo} and {hi}, got {value!r}")
    start = time.perf_counter()
    if dataset == "shapes":
        tr = ShapesDataset("train", n=train_size, image_size=image_size, seed=seed, bias=bias, progress=progress)
        te = ShapesDataset("test", n=train_size, n_eval=n_test, image_size=image_size, seed=seed, progress=progress)
        x_tr, y_tr = tr.tensors()
        x_te, y_te = te.tensors()
        seconds = tr.generation_seconds + te.generation_seconds
        return LessonData(x_tr.clone(), y_tr, x_te.clone(), y_te, list(tr.classes), image_size, dataset, seconds,
                          torch.from_numpy(tr.background_index.copy()), torch.from_numpy(te.background_index.copy()))
    spec = get_spec(dataset)
    options = {"path": path} if dataset == "folder" else {}
    train = open_dataset(dataset, "train", image_size=image_size, **options)
    if "test" in spec.splits:
        test = open_dataset(dataset, "test", image_size=image_size, **options)
    else:
        train, test = train_val_split(train, 0.2, seed=seed)
    classes = classes_of(train)
    g = torch.Generator().manual_seed(seed)
    # A seeded shuffle first: an image folder lists its classes one after the other.
    order_tr = torch.randperm(len(train), generator=g)[:train_size].tolist()
    order_te = torch.randperm(len(test), generator=g)[:n_test].tolist()
    x_tr, y_tr = _stack(torch.utils.data.Subset(train, order_tr), None)
    x_te, y_te = _stack(torch.utils.data.Subset(test, order_te), None)
    return LessonData(x_tr, y_tr, x_te, y_te, classes, image_size, dataset, time.perf_counter() - start)


@dataclass
class ShapesTensors:
    """Shapes for a lesson's own networks: the :class:`LessonData` and its images already normalised."""

    data: LessonData
    x_train: torch.Tensor  # float [N, 3, S, S], normalised (ImageNet mean/std)
    x_test: torch.Tensor  # float [M, 3, S, S]

    @property
    def y_train(self) -> torch.Tensor:
        return self.data.y_train

    @property
    def y_test(self) -> torch.Tensor:
        return self.data.y_test


def load_shapes_tensors(*, train_size: int, n_test: int, image_size: int = 32, seed: int = 0,
                        bias: float = 0.0) -> ShapesTensors:
    """Shapes (rendered once, then cached) as uint8 tensors plus their normalised float copies: the one data
    step of every lesson that trains its own networks (FC vs conv, depth, k-NN, shortcut)."""
    data = load_lesson_data("shapes", train_size=train_size, n_test=n_test, image_size=image_size, seed=seed,
                            bias=bias)
    return ShapesTensors(data, to_float(data.x_train), to_float(data.x_test))
