"""Gradient norms per layer: how much of the loss's gradient reaches each weight, measured with tensor hooks.

The gradient reaching the first layers is a product of one factor per layer, so in a deep *plain* network it can
shrink or grow exponentially with depth; a skip connection adds an identity term to every factor (He et al. 2015,
https://arxiv.org/abs/1512.03385). :func:`gradient_profile` measures ``‖∂L/∂W‖₂`` of every weight layer of a
:class:`~core.lessons.deep_cnn.DeepCNN` at initialisation and after a few training steps; :func:`aux_gradients`
measures GoogLeNet's stages with and without its auxiliary losses (Szegedy et al. 2014,
https://arxiv.org/abs/1409.4842).

Shapes: images ``float [N, 3, S, S]`` (normalised), labels ``int64 [N]``; a profile holds one norm per layer,
input to output.
Gotcha: the norms are read through tensor hooks on the weights (:func:`gradient_hooks`), a context manager that
always removes them, even when the backward pass fails; the last backward inside the block wins.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
from torch.nn import functional as F

from core.errors import InputError
from core.lessons.data import LessonData, load_lesson_data, to_float
from core.lessons.deep_cnn import DeepCNN, build_deep_cnn, check_depth
from core.lessons.fit import fit, seeded
from core.models import build

__all__ = ["gradient_hooks", "gradient_norms", "GradientProfile", "gradient_profile", "AuxGradients",
           "aux_gradients"]


@contextmanager
def gradient_hooks(layers: list[tuple[str, torch.Tensor]]) -> Iterator[dict[str, float]]:
    """Record ``‖∂L/∂W‖₂`` of each named tensor during the backward passes inside the block.

    Yields a dict ``{name: norm}`` filled as gradients arrive (the last backward wins). The hooks are removed on
    exit, also after an exception.
    """
    norms: dict[str, float] = {}
    handles = []

    def make(name: str):
        def hook(grad: torch.Tensor) -> None:
            norms[name] = float(grad.detach().norm())

        return hook

    try:
        for name, tensor in layers:
            handles.append(tensor.register_hook(make(name)))
        yield norms
    finally:
        for h in handles:
            h.remove()


def gradient_norms(model: DeepCNN, x: torch.Tensor, y: torch.Tensor) -> tuple[list[str], list[float], float]:
    """One forward and backward of cross-entropy on ``(x, y)`` in train mode (BatchNorm uses batch statistics,
    as in training): ``(layer names, ‖∂L/∂W‖ per layer input->output, loss)``. Leaves no gradient behind."""
    layers = model.weight_layers()
    was_training = model.training
    model.train()
    model.zero_grad(set_to_none=True)
    try:
        with gradient_hooks(layers) as norms:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    names = [n for n, _ in layers]
    return names, [norms.get(n, math.nan) for n in names], float(loss.detach())


@dataclass
class GradientProfile:
    """Per-layer gradient norms of one network at initialisation and after ``steps`` training steps."""

    depth: int
    residual: bool
    batchnorm: bool
    layers: list[str]
    init: list[float]
    after: list[float]
    steps: int
    loss_init: float
    loss_after: float
    seconds: float

    @property
    def label(self) -> str:
        return f"{'residual' if self.residual else 'plain'}-{self.depth}{' + BN' if self.batchnorm else ''}"

    def first_to_last(self, which: str = "init") -> float:
        """‖grad‖ of the first layer / ‖grad‖ of the last conv layer: ≪ 1 means vanishing, ≫ 1 exploding."""
        g = self.init if which == "init" else self.after
        convs = [v for n, v in zip(self.layers, g) if n != "fc"]
        return convs[0] / convs[-1] if convs and convs[-1] > 0 else math.nan

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["label"] = self.label
        d["first_to_last_init"] = self.first_to_last("init")
        d["first_to_last_after"] = self.first_to_last("after")
        return d


def gradient_profile(depth: int, *, residual: bool, batchnorm: bool, steps: int = 10, batch_size: int = 64,
                     lr: float = 3e-3, optimizer: str = "adamw", seed: int = 0, data: LessonData | None = None,
                     image_size: int = 32, width: int = 16) -> GradientProfile:
    """Gradient norms of a fresh network on one fixed batch of Shapes, then again after ``steps`` training steps."""
    check_depth(depth)
    if not 0 <= steps <= 10_000:
        raise InputError(f"steps must be between 0 and 10,000, got {steps}")
    start = time.perf_counter()
    data = data or load_lesson_data("shapes", train_size=max(512, batch_size), n_test=60, image_size=image_size,
                                    seed=seed)
    x, y = to_float(data.x_train), data.y_train
    model = build_deep_cnn(depth, residual=residual, batchnorm=batchnorm, width=width,
                           num_classes=data.num_classes, seed=seed)
    xb, yb = x[:batch_size], y[:batch_size]
    names, init, loss0 = gradient_norms(model, xb, yb)
    after, loss1 = init, loss0
    if steps:
        fit(model, x, y, steps=steps, batch_size=batch_size, lr=lr, seed=seed, optimizer=optimizer, weight_decay=0.0)
        _, after, loss1 = gradient_norms(model, xb, yb)
    return GradientProfile(depth, residual, batchnorm, names, init, after, steps, loss0, loss1,
                           time.perf_counter() - start)


# ------------------------------------------------------------------------------------------ GoogLeNet's aux heads
@dataclass
class AuxGradients:
    """Gradient norm of each GoogLeNet stage (all its conv weights together), input to output, with the main
    loss only and with ``main + aux_weight · (aux1 + aux2)`` (Szegedy et al. 2014, https://arxiv.org/abs/1409.4842)."""

    stages: list[str]
    main_only: list[float]
    with_aux: list[float]
    aux_weight: float
    image_size: int
    batch_size: int
    seconds: float

    def early_gain(self, n: int = 3) -> float:
        """Mean ratio with/without the auxiliary losses over the first ``n`` stages."""
        pairs = [(w, m) for w, m in zip(self.with_aux[:n], self.main_only[:n]) if m > 0]
        return sum(w / m for w, m in pairs) / len(pairs) if pairs else math.nan

    def conclusion(self) -> str:
        """One sentence read off :meth:`early_gain` (it says so when the textbook boost does not show)."""
        gain = self.early_gain()
        effect = "larger" if gain > 1.1 else "smaller" if gain < 0.9 else "about the same"
        return (f"With the auxiliary losses the first three stages' gradients are {gain:.2f}× those of the main loss "
                f"alone: {effect}" + (" — the textbook boost does not show at initialisation here." if gain <= 1.1
                                      else "."))


def aux_gradients(*, batch_size: int = 8, image_size: int = 96, aux_weight: float = 0.3, seed: int = 0) -> AuxGradients:
    """An untrained GoogLeNet (the zoo's, 6 classes, in train mode so the auxiliary heads run) on one batch of
    Shapes: per-stage ‖∂L/∂W‖ with and without the auxiliary losses (the paper's weight: 0.3)."""
    if not 1 <= batch_size <= 256 or not 64 <= image_size <= 512:
        raise InputError("batch_size must be 1-256 and image_size 64-512 px for GoogLeNet")
    start = time.perf_counter()
    data = load_lesson_data("shapes", train_size=max(batch_size, 6), n_test=6, image_size=image_size, seed=seed)
    x, y = to_float(data.x_train[:batch_size]), data.y_train[:batch_size]
    model = seeded(lambda: build("googlenet", num_classes=data.num_classes, weights="none"), seed)
    model.train()
    convs = [(name, p) for name, p in model.named_parameters()
             if p.ndim == 4 and not name.startswith(("aux1", "aux2"))]
    stages = list(dict.fromkeys(name.split(".")[0] for name, _ in convs))

    def per_stage(use_aux: bool) -> list[float]:
        model.zero_grad(set_to_none=True)
        # Same dropout masks in both passes (GoogLeNet drops 20 %, its aux heads 70 %): only the loss differs.
        with torch.random.fork_rng(devices=[]), gradient_hooks(convs) as norms:
            torch.manual_seed(seed)
            out = model(x)
            loss = F.cross_entropy(out.logits, y)
            if use_aux:
                loss = loss + aux_weight * (F.cross_entropy(out.aux_logits1, y) + F.cross_entropy(out.aux_logits2, y))
            loss.backward()
        model.zero_grad(set_to_none=True)
        sq = {s: 0.0 for s in stages}
        for name, _ in convs:
            sq[name.split(".")[0]] += norms.get(name, 0.0) ** 2
        return [math.sqrt(sq[s]) for s in stages]

    main_only = per_stage(False)
    with_aux = per_stage(True)
    return AuxGradients(stages, main_only, with_aux, aux_weight, image_size, batch_size, time.perf_counter() - start)
