"""The one small training loop of the lessons, and the tiny networks they compare.

Why not the training engine (``core.train``)? A lesson trains several tiny networks for a few hundred steps
on tensors already in memory, live, within a budget of seconds; a run folder, a subprocess and a DataLoader per
network would cost more than the training. The loop here is deliberately plain: seeded sampling of mini-batches
(reshuffled after each pass: a fixed number of *steps*, so networks trained on 100 or 3,000 images get the
same optimiser budget), AdamW or SGD with warm-up and cosine decay, cross-entropy, a loss per step.

Shapes: images ``float [N, 3, S, S]`` (normalised), labels ``int64 [N]``.
Gotcha: ``fit`` trains the model it is given, in place: never pass a model from the app's shared cache.
"""
from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FitResult", "fit", "accuracy", "predict", "small_cnn", "linear_classifier", "param_bytes",
           "seeded", "CNN_LR", "LINEAR_LR", "lesson_defaults"]

#: Peak AdamW learning rates of the lessons' small CNN and single linear layer. Measured on Shapes at 32 px
#: (6,000 images, width 16, one thread): 600 steps reached 39.5 % test accuracy at 1e-2 and 38 % at 3e-3 (on
#: twice the images); with BatchNorm after every convolution the larger rate is stable and learns faster in a
#: short budget. The linear layer on raw pixels has no normalisation and diverges at large rates.
CNN_LR, LINEAR_LR = 1e-2, 1e-3


@dataclass
class FitResult:
    losses: list[float]  # training loss of every step
    seconds: float  # wall time of the loop
    steps: int


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, batch_size: int = 64, lr: float = 3e-3,
        weight_decay: float = 1e-4, seed: int = 0, optimizer: str = "adamw",
        transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
        on_step: Callable[[int, float], None] | None = None) -> FitResult:
    """Train ``model`` in place for ``steps`` mini-batch steps; returns the per-step losses and the wall time.

    Batches are drawn without replacement within a pass and reshuffled after each pass (seeded by ``seed``).
    ``optimizer``: "adamw" or "sgd" (momentum 0.9). ``transform(batch, generator)``, when given, turns each
    mini-batch of ``x`` into the network's input (augmentation, normalisation), drawing from the same seeded
    generator as the sampling, so a run is reproducible.
    """
    g = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    n = len(x)
    bs = min(batch_size, n)
    order = torch.randperm(n, generator=g)
    pos = 0
    losses: list[float] = []
    model.train()
    start = time.perf_counter()
    for step in range(steps):
        if pos + bs > n:
            order, pos = torch.randperm(n, generator=g), 0
        for group in opt.param_groups:
            group["lr"] = lr * _schedule(step, steps)
        idx = order[pos:pos + bs]
        pos += bs
        xb = x[idx] if transform is None else transform(x[idx], g)
        loss = F.cross_entropy(model(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, losses[-1])
    model.eval()
    return FitResult(losses=losses, seconds=time.perf_counter() - start, steps=steps)


def _schedule(step: int, steps: int) -> float:
    """Learning-rate factor: linear warm-up over the first 5 % of the steps, then a cosine decay to zero (short
    budgets end far better with a decay than at a constant rate)."""
    warm = max(1, steps // 20)
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Predicted labels ``int64 [N]`` (eval mode, batched)."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float((pred == y).float().mean()) if len(y) else float("nan")


def param_bytes(model: nn.Module) -> int:
    """Bytes held by the parameters and buffers (BatchNorm statistics) of ``model``."""
    return sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))


class SmallCNN(nn.Module):
    """Three 3×3 conv blocks (conv, BatchNorm, ReLU, 2×2 max-pool) with ``width``, 2×, 4× channels, global average
    pooling and one linear layer. ``features(x)`` is the pooled ``[N, 4·width]`` vector the linear layer reads."""

    def __init__(self, num_classes: int, width: int = 16) -> None:
        super().__init__()
        chans = [3, width, 2 * width, 4 * width]
        layers: list[nn.Module] = []
        for i in range(3):
            layers += [nn.Conv2d(chans[i], chans[i + 1], 3, padding=1, bias=False), nn.BatchNorm2d(chans[i + 1]),
                       nn.ReLU(), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(chans[-1], num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def seeded(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """``build()`` with its initial weights drawn from ``seed`` (the global RNG state is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def small_cnn(num_classes: int, width: int = 16, seed: int = 0) -> SmallCNN:
    return seeded(lambda: SmallCNN(num_classes, width), seed)


def linear_classifier(num_classes: int, image_size: int, seed: int = 0) -> nn.Module:
    """One fully connected layer on the flattened pixels: ``[N, 3, S, S] -> [N, classes]``."""
    return seeded(lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * image_size * image_size, num_classes)), seed)


def lesson_defaults(fn: Callable) -> dict:
    """A lesson function's keyword defaults, so its page starts from exactly what ``bench.lessons`` times."""
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}
