"""k-nearest neighbours vs learned classifiers: a classifier is a compressed version of its training data.

If every image in the world were stored, k-NN would classify anything by looking up its nearest stored
neighbours; it needs no training, but it holds the whole training set and compares each query with all of it.
A learned classifier squeezes the same data into a few thousand weights. This module measures both sides on
the same images: accuracy against training-set size, the bytes each method holds, milliseconds per query.
The search itself is :mod:`core.lessons.neighbours`, the network features :mod:`core.lessons.features`; their
names stay importable from here.

Shapes: Shapes images ``uint8 [N, 3, S, S]`` (pixels as k-NN features: ``float [N, 3·S·S]``), labels
``int64 [N]``; one :class:`MethodPoint` per method and training-set size.

Gotcha: in raw-pixel space "near" means "similar colours at the same positions". On Shapes the background
covers most pixels, so pixel neighbours share a background, not a shape: distance in pixel space is not
distance in meaning. Features of a trained network fix that: neighbours there share the shape.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from core.errors import InputError
from core.lessons.data import LessonData, load_lesson_data, load_shapes_tensors, to_float
from core.lessons.features import (PRETRAINED_ARCH, PRETRAINED_SIZE, FeatureNet, PretrainedMissing,
                                   network_features, pretrained_features)
from core.lessons.fit import (CNN_LR, LINEAR_LR, accuracy, fit, linear_classifier, param_bytes, predict,
                              small_cnn)
from core.lessons.neighbours import knn_neighbours, knn_predict, pixel_features, tensor_bytes

__all__ = [
    "knn_predict", "knn_neighbours", "tensor_bytes", "pixel_features", "FeatureNet", "network_features",
    "KnnScore", "knn_evaluate", "MethodPoint", "Gallery", "KnnLesson", "knn_lesson", "DEFAULT_TRAIN_SIZES",
    "PretrainedMissing", "pretrained_features", "PRETRAINED_ARCH", "PRETRAINED_SIZE", "steps_for", "MAX_EPOCHS",
]

DEFAULT_TRAIN_SIZES = (100, 1000, 6000)
#: At most this many passes over a training set: a small set is learned (or memorised) in a few passes, so its
#: networks stop early instead of costing the large set's full step budget.
MAX_EPOCHS = 10


@dataclass
class KnnScore:
    """k-NN on one feature space: what the CLI prints."""

    features: str
    train_size: int
    n_test: int
    k: int
    dims: int
    accuracy: float
    memory_bytes: int  # the stored training features + labels (+ the feature network's weights)
    ms_per_query: float  # feature extraction of the query + search, averaged over the test set
    image_size: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def knn_evaluate(data: LessonData, k: int, features: FeatureNet | None = None, *,
                 feature_data: LessonData | None = None) -> KnnScore:
    """k-NN accuracy, memory and time on ``data`` in pixel space (``features=None``) or in ``features``'s space
    (computed from ``feature_data``: the same images rendered at the network's input size; default ``data``)."""
    if features is None:
        train_f = pixel_features(data.x_train)
        start = time.perf_counter()
        pred = knn_predict(train_f, data.y_train, pixel_features(data.x_test), k, num_classes=data.num_classes)
        seconds = time.perf_counter() - start
        held, label, size = tensor_bytes(train_f, data.y_train), "pixels", data.image_size
    else:
        fd = feature_data or data
        train_f = network_features(features.model, to_float(fd.x_train))
        start = time.perf_counter()
        query_f = network_features(features.model, to_float(fd.x_test))
        pred = knn_predict(train_f, fd.y_train, query_f, k, num_classes=fd.num_classes)
        seconds = time.perf_counter() - start
        held = tensor_bytes(train_f, fd.y_train) + param_bytes(features.model)
        label, size = features.label, fd.image_size
    return KnnScore(features=label, train_size=len(data.y_train), n_test=len(data.y_test), k=k,
                    dims=int(train_f.shape[1]), accuracy=accuracy(pred, (feature_data or data).y_test),
                    memory_bytes=held, ms_per_query=1000 * seconds / max(1, len(data.y_test)), image_size=size)


# ------------------------------------------------------------------------------------------ the lesson
PIXELS, CNN_FEATURES, RUN_FEATURES, LINEAR, CNN = (
    "k-NN · pixels", "k-NN · CNN features", "k-NN · network features", "Linear layer", "Small CNN")


@dataclass
class MethodPoint:
    method: str
    train_size: int
    accuracy: float
    memory_bytes: int
    ms_per_query: float
    fit_seconds: float  # training time (0 for k-NN: it only stores the data)
    steps: int = 0  # optimiser steps of the network (0 for k-NN on pixels and for a given feature network)


@dataclass
class Gallery:
    """A few test queries and their k nearest training images in pixel space and in CNN-feature space."""

    queries: torch.Tensor  # uint8 [G, 3, S, S]
    query_labels: list[int]
    pixel_neighbours: torch.Tensor  # uint8 [G, k, 3, S, S]
    pixel_labels: list[list[int]]
    feature_neighbours: torch.Tensor  # uint8 [G, k, 3, S, S]
    feature_labels: list[list[int]]

    def same_class_share(self, space: str) -> float:
        """Share of the shown neighbours (``space``: "pixels" or "features") whose class is their query's."""
        rows = {"pixels": self.pixel_labels, "features": self.feature_labels}[space]
        hits = [lab == q for q, row in zip(self.query_labels, rows) for lab in row]
        return sum(hits) / len(hits) if hits else math.nan


@dataclass
class KnnLesson:
    """Everything the k-NN lesson measured."""

    points: list[MethodPoint]
    classes: list[str]
    k: int
    image_size: int
    n_test: int
    train_sizes: list[int]
    steps: int  # the step budget; a small training set stops after max_epochs passes (MethodPoint.steps)
    data_seconds: float
    seconds: float
    gallery: Gallery | None = None
    max_epochs: float = MAX_EPOCHS
    feature_label: str = ""
    notes: list[str] = field(default_factory=list)

    def methods(self) -> list[str]:
        return list(dict.fromkeys(p.method for p in self.points))

    def at(self, method: str, train_size: int | None = None) -> MethodPoint | None:
        n = max(self.train_sizes) if train_size is None else train_size
        return next((p for p in self.points if p.method == method and p.train_size == n), None)

    def conclusion(self) -> str:
        """One or two sentences read off the numbers (not written in advance)."""
        n = max(self.train_sizes)
        pix, cnn = self.at(PIXELS), self.at(CNN)
        if pix is None or cnn is None:
            return ""
        ratio = pix.memory_bytes / max(1, cnn.memory_bytes)
        speed = pix.ms_per_query / max(cnn.ms_per_query, 1e-9)
        if speed > 1.1:
            pace = f"{speed:,.1f}× faster per query"
        elif speed < 1 / 1.1:
            pace = f"{1 / speed:,.1f}× slower per query"
        else:
            pace = "about as fast per query"
        head = (f"With {n:,} training images, k-NN on raw pixels scored {pix.accuracy:.0%} holding "
                f"{_fmt_bytes(pix.memory_bytes)}, the small CNN {cnn.accuracy:.0%} in {_fmt_bytes(cnn.memory_bytes)} "
                f"({ratio:,.0f}× less memory, {pace}). ")
        if cnn.accuracy > pix.accuracy + 0.02:
            feat = self.at(CNN_FEATURES)
            tail = ("The learned network compresses the data and classifies better: pixel distance does not "
                    "measure what the image shows")
            if feat is not None:
                tail += (f"; k-NN in the CNN's feature space scores {feat.accuracy:.0%}, "
                         f"{'close to' if abs(feat.accuracy - cnn.accuracy) <= 0.05 else 'unlike'} the CNN itself")
            return head + tail + "."
        return head + ("Here k-NN on pixels did as well as the CNN, so the textbook gap does not show at these "
                       "settings (try more training steps or images).")


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _timed_predict(fn: Callable[[], torch.Tensor], n: int) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    pred = fn()
    return pred, 1000 * (time.perf_counter() - start) / max(1, n)


def _gallery(data: LessonData, feat_train: torch.Tensor, feat_test: torch.Tensor, k: int, n_queries: int) -> Gallery:
    q = min(n_queries, len(data.y_test))
    _, pix_idx = knn_neighbours(pixel_features(data.x_train), pixel_features(data.x_test[:q]), k)
    _, feat_idx = knn_neighbours(feat_train, feat_test[:q], k)
    return Gallery(
        queries=data.x_test[:q].clone(), query_labels=data.y_test[:q].tolist(),
        pixel_neighbours=data.x_train[pix_idx].clone(), pixel_labels=data.y_train[pix_idx].tolist(),
        feature_neighbours=data.x_train[feat_idx].clone(), feature_labels=data.y_train[feat_idx].tolist(),
    )


def knn_lesson(*, train_sizes: tuple[int, ...] | list[int] = DEFAULT_TRAIN_SIZES, k: int = 5, image_size: int = 32,
               n_test: int = 600, steps: int = 600, max_epochs: float = MAX_EPOCHS, seed: int = 0,
               gallery_queries: int = 4,
               features: FeatureNet | None = None, pretrained: str | None = None,
               progress: Callable[[float, str], None] | None = None) -> KnnLesson:
    """Run the lesson on Shapes: for each training-set size N, k-NN on pixels, a linear layer and a small CNN
    (each trained for ``steps`` AdamW steps of 64 images, or ``max_epochs`` passes over N images when that is
    fewer), k-NN on that CNN's features, and, with
    ``features``, k-NN on a given network's features (a run or a pretrained model) rendered at its input size.
    ``pretrained`` (an architecture name) takes those features from its cached ImageNet weights
    (:func:`pretrained_features`); when the file is absent the lesson runs without them and says why in
    ``notes``.

    ``progress(fraction, message)`` is called between pieces. Cost: dominated by the CNN's training, about
    ``Σ min(steps, max_epochs · N / 64)`` CNN steps over the sizes (600 + 157 + 16 steps at the defaults).
    """
    sizes = sorted({int(n) for n in train_sizes})
    if not sizes or sizes[0] < 1:
        raise InputError("give at least one training-set size ≥ 1")
    if k > sizes[0]:
        raise InputError(f"k = {k} is larger than the smallest training set ({sizes[0]} images)")
    if not 1 <= steps <= 20_000:
        raise InputError(f"steps must be between 1 and 20,000, got {steps}")
    if not 0 < max_epochs <= 1000:
        raise InputError(f"max_epochs must be above 0 and at most 1,000, got {max_epochs}")
    start = time.perf_counter()
    report = progress or (lambda f, m: None)
    notes: list[str] = []
    if pretrained is not None and features is None:
        try:
            features = pretrained_features(pretrained)
        except PretrainedMissing as err:
            notes.append(str(err))
    report(0.0, "rendering Shapes")
    shapes = load_shapes_tensors(train_size=sizes[-1], n_test=n_test, image_size=image_size, seed=seed)
    data = shapes.data
    fdata = None
    if features is not None and features.image_size != image_size:
        fdata = load_lesson_data("shapes", train_size=sizes[-1], n_test=n_test, image_size=features.image_size,
                                 seed=seed)
    data_seconds = data.seconds + (fdata.seconds if fdata else 0.0)
    x_test = shapes.x_test
    q = len(data.y_test)
    points: list[MethodPoint] = []
    gallery = None
    for i, n in enumerate(sizes):
        def frac(j: float) -> float:
            return (i + j) / len(sizes)

        x_tr_u8, y_tr = data.x_train[:n], data.y_train[:n]
        # k-NN on pixels: "training" is storing the data.
        report(frac(0.0), f"N = {n:,}: k-NN on pixels")
        pix_train = pixel_features(x_tr_u8)
        pred, ms = _timed_predict(lambda: knn_predict(pix_train, y_tr, pixel_features(data.x_test), k,
                                                      num_classes=data.num_classes), q)
        points.append(MethodPoint(PIXELS, n, accuracy(pred, data.y_test), tensor_bytes(pix_train, y_tr), ms, 0.0))

        x_tr = shapes.x_train[:n]
        report(frac(0.1), f"N = {n:,}: training the linear layer")
        lin = linear_classifier(data.num_classes, image_size, seed=seed)
        n_steps = steps_for(n, steps, max_epochs)
        fit_lin = fit(lin, x_tr, y_tr, steps=n_steps, lr=LINEAR_LR, seed=seed)
        pred, ms = _timed_predict(lambda: predict(lin, x_test), q)
        points.append(MethodPoint(LINEAR, n, accuracy(pred, data.y_test), param_bytes(lin), ms, fit_lin.seconds,
                                  n_steps))

        report(frac(0.25), f"N = {n:,}: training the small CNN")
        cnn = small_cnn(data.num_classes, seed=seed)
        fit_cnn = fit(cnn, x_tr, y_tr, steps=n_steps, lr=CNN_LR, seed=seed)
        pred, ms = _timed_predict(lambda: predict(cnn, x_test), q)
        points.append(MethodPoint(CNN, n, accuracy(pred, data.y_test), param_bytes(cnn), ms, fit_cnn.seconds,
                                  n_steps))

        report(frac(0.85), f"N = {n:,}: k-NN on the CNN's features")
        feat_train = network_features(cnn, x_tr)
        start_q = time.perf_counter()
        feat_test = network_features(cnn, x_test)
        pred = knn_predict(feat_train, y_tr, feat_test, k, num_classes=data.num_classes)
        ms = 1000 * (time.perf_counter() - start_q) / max(1, q)
        points.append(MethodPoint(CNN_FEATURES, n, accuracy(pred, data.y_test),
                                  tensor_bytes(feat_train, y_tr) + param_bytes(cnn), ms, fit_cnn.seconds, n_steps))
        if features is not None:
            sub = _prefix(fdata or data, n)
            score = knn_evaluate(sub, k, features)
            points.append(MethodPoint(RUN_FEATURES, n, score.accuracy, score.memory_bytes, score.ms_per_query, 0.0))
        if n == sizes[-1] and gallery_queries > 0:
            gallery = _gallery(data, feat_train, feat_test, k, gallery_queries)
    report(1.0, "done")
    return KnnLesson(points=points, classes=data.classes, k=k, image_size=image_size, n_test=q, train_sizes=sizes,
                     steps=steps, max_epochs=max_epochs, data_seconds=data_seconds,
                     seconds=time.perf_counter() - start, gallery=gallery,
                     feature_label=features.label if features is not None else "", notes=notes)


def steps_for(n: int, steps: int, max_epochs: float, batch_size: int = 64) -> int:
    """Optimiser steps for a training set of ``n`` images: ``steps``, or ``max_epochs`` passes when fewer."""
    return max(1, min(steps, math.ceil(max_epochs * n / batch_size)))


def _prefix(data: LessonData, n: int) -> LessonData:
    return LessonData(data.x_train[:n], data.y_train[:n], data.x_test, data.y_test, data.classes, data.image_size,
                      data.dataset, 0.0)
