"""Fully connected vs convolution: parameters at an input size, accuracy under one budget, what each one learns.

A fully connected layer connects every input pixel to every output unit: mapping a ``3 × S × S`` image to a
``C × S × S`` feature map takes ``(3·S²)·(C·S²)`` weights, growing with ``S⁴``. A *locally connected* layer keeps
only a ``k × k`` window per output (``C·S²·3·k²``), and a convolution also *shares* that window across positions
(``C·3·k²``, independent of S). Locality and weight sharing are the two assumptions that suit images
(LeCun et al. 1989/1998, http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf).

As a classifier, a single fully connected layer ``[3·S²] -> [classes]`` computes one dot product per class with
a fixed image-sized weight pattern: it learns one *template* per class, an average of what that class looks like
at each pixel. A shape that can be anywhere, in any colour, on any background averages out to a blur, so the
templates are poor; the convolution's small filters (edges, colour blobs) work at every position.

Counts come from real modules built on PyTorch's ``meta`` device (no memory, so even the 10¹¹-weight layer of a
224 px image is "built" and counted). Shapes: images ``float [N, 3, S, S]``, templates ``float [classes, 3, S, S]``.
Gotcha: the templates live in the normalised input space (ImageNet mean/std); each is rescaled to [0, 1] on
its own for display, so compare patterns, not brightness between classes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from core.errors import InputError
from core.lessons.data import load_shapes_tensors
from core.lessons.fit import (CNN_LR, LINEAR_LR, accuracy, fit, linear_classifier, param_bytes, predict,
                              small_cnn)

__all__ = ["LayerCounts", "layer_counts", "FcConvLesson", "fc_vs_conv_lesson", "as_images"]


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: one ``k × k`` filter per output position (stride 1, same padding).
    Only its parameter count is used here, so it has no forward."""

    def __init__(self, in_channels: int, out_channels: int, size: int, kernel: int, device=None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(size * size, out_channels, in_channels * kernel * kernel, device=device))
        self.bias = nn.Parameter(torch.empty(out_channels, size, size, device=device))


@dataclass
class LayerCounts:
    """Parameters of three layers with the same input ``[3, S, S]`` and the same output ``[C, S, S]``."""

    image_size: int
    out_channels: int
    kernel: int
    fully_connected: int
    locally_connected: int
    convolution: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_counts(image_size: int, out_channels: int = 16, kernel: int = 3, in_channels: int = 3) -> LayerCounts:
    """Count the parameters of a fully connected, a locally connected and a convolutional layer mapping
    ``[in, S, S]`` to ``[out, S, S]``, from modules built on the meta device."""
    for name, value, lo, hi in (("image_size", image_size, 1, 4096), ("out_channels", out_channels, 1, 4096),
                                ("kernel", kernel, 1, 31)):
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise InputError(f"{name} must be a whole number between {lo} and {hi}, got {value!r}")
    s2 = image_size * image_size
    meta = torch.device("meta")
    fc = nn.Linear(in_channels * s2, out_channels * s2, device=meta)
    lc = LocallyConnected2d(in_channels, out_channels, image_size, kernel, device=meta)
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, device=meta)
    return LayerCounts(image_size, out_channels, kernel, _count(fc), _count(lc), _count(conv))


def as_images(weights: torch.Tensor) -> torch.Tensor:
    """``float [K, 3, h, w]`` weights -> ``uint8 [K, h, w, 3]`` pictures, each rescaled to its own min..max."""
    w = weights.detach().float()
    lo = w.flatten(1).min(1).values.view(-1, 1, 1, 1)
    hi = w.flatten(1).max(1).values.view(-1, 1, 1, 1)
    return ((w - lo) / (hi - lo).clamp_min(1e-12) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)


@dataclass
class FcConvLesson:
    classes: list[str]
    image_size: int
    train_size: int
    steps: int
    fc_accuracy: float
    conv_accuracy: float
    fc_train_accuracy: float
    conv_train_accuracy: float
    fc_params: int
    conv_params: int
    fc_bytes: int
    conv_bytes: int
    fc_losses: list[float]
    conv_losses: list[float]
    fc_seconds: float
    conv_seconds: float
    templates: torch.Tensor  # uint8 [classes, S, S, 3]: the FC layer's weights of each class as an image
    filters: torch.Tensor  # uint8 [filters, k, k, 3]: the CNN's first-layer filters
    data_seconds: float
    seconds: float
    notes: list[str] = field(default_factory=list)

    def conclusion(self) -> str:
        chance = 1 / len(self.classes)
        head = (f"Trained for the same {self.steps} steps on {self.train_size:,} images, the single fully connected "
                f"layer ({self.fc_params:,} parameters) scored {self.fc_accuracy:.0%} on the test set and the small "
                f"CNN ({self.conv_params:,} parameters) {self.conv_accuracy:.0%} (chance {chance:.0%}). ")
        if self.conv_accuracy > self.fc_accuracy + 0.02:
            tail = "Local, shared filters beat one template per class"
            if self.fc_train_accuracy > self.fc_accuracy + 0.1:
                tail += (f"; the FC layer fits its training images better ({self.fc_train_accuracy:.0%}) than new "
                         "ones: its templates memorise positions and colours")
            return head + tail + "."
        return head + ("Here the CNN did not beat the fully connected layer, so the textbook gap does not show at "
                       "this budget (try more steps).")


def fc_vs_conv_lesson(*, image_size: int = 32, train_size: int = 6000, n_test: int = 600, steps: int = 800,
                      seed: int = 0, progress: Callable[[float, str], None] | None = None) -> FcConvLesson:
    """Train one fully connected layer and the small CNN of :mod:`core.lessons.fit` for the same number of AdamW
    steps on the same Shapes images; return accuracies, losses, the FC templates and the first conv filters."""
    if not 1 <= steps <= 20_000:
        raise InputError(f"steps must be between 1 and 20,000, got {steps}")
    report = progress or (lambda f, m: None)
    start = time.perf_counter()
    report(0.0, "rendering Shapes")
    shapes = load_shapes_tensors(train_size=train_size, n_test=n_test, image_size=image_size, seed=seed)
    data, x, xt = shapes.data, shapes.x_train, shapes.x_test
    report(0.1, "training the fully connected layer")
    fc = linear_classifier(data.num_classes, image_size, seed=seed)
    fc_fit = fit(fc, x, data.y_train, steps=steps, lr=LINEAR_LR, seed=seed)
    report(0.3, "training the small CNN")
    cnn = small_cnn(data.num_classes, seed=seed)
    cnn_fit = fit(cnn, x, data.y_train, steps=steps, lr=CNN_LR, seed=seed)
    report(0.95, "testing")
    linear = fc[1]
    templates = as_images(linear.weight.view(data.num_classes, 3, image_size, image_size))
    filters = as_images(cnn.body[0].weight)
    report(1.0, "done")
    return FcConvLesson(
        classes=data.classes, image_size=image_size, train_size=len(data.y_train), steps=steps,
        fc_accuracy=accuracy(predict(fc, xt), data.y_test), conv_accuracy=accuracy(predict(cnn, xt), data.y_test),
        fc_train_accuracy=accuracy(predict(fc, x), data.y_train),
        conv_train_accuracy=accuracy(predict(cnn, x), data.y_train),
        fc_params=_count(fc), conv_params=_count(cnn), fc_bytes=param_bytes(fc), conv_bytes=param_bytes(cnn),
        fc_losses=fc_fit.losses, conv_losses=cnn_fit.losses, fc_seconds=fc_fit.seconds, conv_seconds=cnn_fit.seconds,
        templates=templates, filters=filters, data_seconds=data.seconds, seconds=time.perf_counter() - start,
    )
