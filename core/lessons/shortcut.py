"""Shortcut learning: when the background colour gives the class away, a network learns the colour, not the shape.

Data sets are always biased. Shapes' ``bias`` knob makes it explicit: in the *training* split each class owns a
background hue with probability ``b`` (so colour alone predicts the label with accuracy ``b + (1 − b)/6``); in
the test split the background is random. A network trained on the biased split scores well on held-out biased
images and falls towards chance on the unbiased test split: it took the shortcut (Geirhos et al. 2020,
"Shortcut learning in deep neural networks", https://arxiv.org/abs/2004.07780).

Two remedies, measured side by side: **colour augmentation** (every training image's hue is rotated by a random
angle, so the background hue no longer predicts anything) and **unbiased data** (the same number of images with
random backgrounds).

Hue rotation here is a rotation of RGB space about the grey axis (1, 1, 1): a per-image 3×3 matrix, fast on a
whole batch; it maps the six class hues (0°, 60°, … 300°) onto each other and everything in between.
Shapes: batches ``uint8 [B, 3, S, S]`` -> normalised ``float [B, 3, S, S]``.
Gotcha: the *validation* images that show the model "works" are held out from the biased training split, so
they carry the same bias: in-distribution accuracy hides the shortcut; only the unbiased test split reveals it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from core.errors import InputError
from core.lessons.data import load_lesson_data, to_float
from core.lessons.fit import accuracy, fit, predict, small_cnn

__all__ = ["hue_rotation_matrices", "rotate_hue", "ShortcutModel", "ShortcutLesson", "shortcut_lesson"]


def hue_rotation_matrices(angles: torch.Tensor) -> torch.Tensor:
    """``float [B]`` angles (radians) -> ``float [B, 3, 3]`` rotations of RGB space about the grey axis."""
    k = torch.full((3,), 1 / math.sqrt(3.0))
    cross = torch.tensor([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    outer = torch.outer(k, k)
    c, s = torch.cos(angles).view(-1, 1, 1), torch.sin(angles).view(-1, 1, 1)
    return c * torch.eye(3) + s * cross + (1 - c) * outer  # Rodrigues' formula


def rotate_hue(x_uint8: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of each image of ``uint8 [B, 3, H, W]`` by its angle; returns ``float [B, 3, H, W]`` in [0, 1]."""
    m = hue_rotation_matrices(angles)
    x = x_uint8.float() / 255.0
    return torch.einsum("bij,bjhw->bihw", m, x).clamp_(0.0, 1.0)


def _hue_augment(batch: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    angles = torch.rand(batch.shape[0], generator=g) * (2 * math.pi)
    return to_float((rotate_hue(batch, angles) * 255.0).round())


def _plain(batch: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return to_float(batch)


@dataclass
class ShortcutModel:
    label: str
    train_bias: float
    augmented: bool
    val_accuracy: float  # held-out images of its own training distribution
    test_accuracy: float  # the unbiased test split
    colour_test_accuracy: float  # test images relabelled by background colour: how much the net follows colour
    seconds: float
    losses: list[float]
    pointing: float | None = None  # Grad-CAM's peak on the shape (pointing game), share of test images
    pointing_chance: float | None = None  # a uniformly random point's hit rate (the shapes' area share)


@dataclass
class ShortcutLesson:
    bias: float
    train_size: int
    steps: int
    shortcut_train: float  # how often background colour predicts the label in the biased training split
    shortcut_test: float  # ... and in the test split
    models: list[ShortcutModel]
    data_seconds: float
    seconds: float
    notes: list[str] = field(default_factory=list)

    def model(self, label: str) -> ShortcutModel | None:
        return next((m for m in self.models if m.label == label), None)

    def conclusion(self) -> str:
        b, a, u = self.model(BIASED), self.model(AUGMENTED), self.model(UNBIASED)
        if b is None:
            return ""
        drop = b.val_accuracy - b.test_accuracy
        text = (f"Trained on backgrounds that give the class away {self.shortcut_train:.0%} of the time, the CNN "
                f"scored {b.val_accuracy:.0%} on held-out biased images but {b.test_accuracy:.0%} on the unbiased "
                f"test split ({abs(100 * drop):.0f} percentage points {'lost' if drop >= 0 else 'gained'}; it "
                f"agrees with the background colour on {b.colour_test_accuracy:.0%} of test images). ")
        if drop < 0.05:
            return text + "At this budget the shortcut did not show: the biased model did not lose accuracy."
        fixes = []
        for m in (a, u):
            if m is not None:
                verdict = "restores most of it" if m.test_accuracy > b.test_accuracy + 0.5 * drop else (
                    "helps" if m.test_accuracy > b.test_accuracy + 0.02 else "does not help at this budget")
                fixes.append(f"{m.label.lower()} reaches {m.test_accuracy:.0%} on the test split ({verdict})")
        text += "; ".join(fixes).capitalize() + "." if fixes else ""
        pointed = [m for m in (b, a, u) if m is not None and m.pointing is not None]
        if len(pointed) > 1:
            text += (" Grad-CAM's peak lands on the shape in " + ", ".join(
                f"{m.pointing:.0%} ({m.label.lower()})" for m in pointed)
                + f" of test images; a random point would land on it in {pointed[0].pointing_chance:.0%}.")
        return text


BIASED, AUGMENTED, UNBIASED = "Biased data", "Biased data + hue augmentation", "Unbiased data"


def shortcut_lesson(*, bias: float = 1.0, train_size: int = 2000, n_val: int = 400, n_test: int = 600,
                    steps: int = 200, image_size: int = 32, seed: int = 0, remedies: bool = True,
                    n_pointing: int = 60, progress: Callable[[float, str], None] | None = None) -> ShortcutLesson:
    """Train the small CNN for ``steps`` AdamW steps on biased Shapes (background tied to the class with
    probability ``bias``), and with ``remedies`` also on the biased data with hue augmentation and on unbiased
    data; evaluate each on held-out images of its own distribution and on the unbiased test split, and (with
    ``n_pointing`` > 0) play the pointing game with Grad-CAM on the last convolution over that many test images
    (:func:`core.explain.metrics.pointing_game`, scored against Shapes' ground-truth masks)."""
    if not 0.0 <= bias <= 1.0:
        raise InputError(f"bias must be between 0 and 1, got {bias}")
    if not 1 <= steps <= 20_000:
        raise InputError(f"steps must be between 1 and 20,000, got {steps}")
    report = progress or (lambda f, m: None)
    start = time.perf_counter()
    report(0.0, "rendering Shapes (biased)")
    n = train_size + n_val
    biased = load_lesson_data("shapes", train_size=n, n_test=n_test, image_size=image_size, seed=seed, bias=bias)
    data_seconds = biased.seconds
    sets = [(BIASED, biased, bias, False)]
    if remedies:
        sets.append((AUGMENTED, biased, bias, True))
        report(0.05, "rendering Shapes (unbiased)")
        unbiased = load_lesson_data("shapes", train_size=n, n_test=n_test, image_size=image_size, seed=seed)
        data_seconds += unbiased.seconds
        sets.append((UNBIASED, unbiased, 0.0, False))
    x_test = to_float(biased.x_test)
    models = []
    for i, (label, data, b, augmented) in enumerate(sets):
        report(0.1 + 0.85 * i / len(sets), f"training: {label.lower()}")
        x_tr, y_tr = data.x_train[:train_size], data.y_train[:train_size]
        x_val, y_val = data.x_train[train_size:], data.y_train[train_size:]
        cnn = small_cnn(data.num_classes, seed=seed)
        r = fit(cnn, x_tr, y_tr, steps=steps, lr=3e-3, seed=seed, transform=_hue_augment if augmented else _plain)
        pred = predict(cnn, x_test)
        point = _pointing(cnn, image_size, n_test, seed, n_pointing) if n_pointing > 0 else (None, None)
        models.append(ShortcutModel(
            label=label, train_bias=b, augmented=augmented,
            val_accuracy=accuracy(predict(cnn, to_float(x_val)), y_val),
            test_accuracy=accuracy(pred, biased.y_test),
            colour_test_accuracy=accuracy(pred, biased.bg_test),
            seconds=r.seconds, losses=r.losses, pointing=point[0], pointing_chance=point[1]))
    report(1.0, "done")
    return ShortcutLesson(
        bias=bias, train_size=train_size, steps=steps,
        shortcut_train=accuracy(biased.bg_train[:train_size], biased.y_train[:train_size]),
        shortcut_test=accuracy(biased.bg_test, biased.y_test),
        models=models, data_seconds=data_seconds, seconds=time.perf_counter() - start)


def _pointing(model, image_size: int, n_test: int, seed: int, n: int) -> tuple[float | None, float | None]:
    """Pointing-game hit rate of Grad-CAM on the CNN's last convolution (``body.8``), or (None, None) when the
    explain package cannot score this model."""
    from core.data.shapes import ShapesDataset
    from core.explain import ExplainError
    from core.explain.metrics import pointing_game

    test = ShapesDataset("test", n=n_test, n_eval=n_test, image_size=image_size, seed=seed)
    try:
        res = pointing_game(model, test, "gradcam", n=min(n, n_test), layer="body.8")
    except ExplainError:
        return None, None
    return res.hit_rate, res.random_hit_rate
