"""Depth, vanishing gradients and residual paths: the lesson, measured on small plain and residual CNNs.

Deeper networks see more (receptive field), hold more and compose more non-linearities, but they are harder to
optimise: the gradient reaching the first layers is a product of one factor per layer, so it can shrink or grow
exponentially with depth, and a deeper *plain* network can end up with a higher *training* loss than a shallower
one (the "degradation" of He et al. 2015, Fig. 1: https://arxiv.org/abs/1512.03385). A skip connection
``y = x + F(x)`` adds an identity term to every factor, so the gradient has a path around every block.

Veit et al. 2016 (https://arxiv.org/abs/1605.06431) read a ResNet with ``n`` blocks as an ensemble of ``2**n``
paths, ``C(n, k)`` of them through exactly ``k`` blocks; most are short, and deleting one block at test time
removes only half of the paths, so accuracy drops a little, while in a plain network it cuts the only path.

The lesson's parts: the network (:mod:`core.lessons.deep_cnn`), gradient norms per layer and GoogLeNet's
auxiliary heads (:mod:`core.lessons.gradients`), and here the path counts, the training curves, the lesion study
and :func:`depth_lesson`, which runs them all. The names of those modules stay importable from here.

Shapes: images ``float [N, 3, S, S]`` (normalised), labels ``int64 [N]``; a lesion study holds one accuracy per
dropped block.
Gotcha: the lesion study drops a block at *test* time only (``DeepCNN.forward(x, drop=i)``); the network was
trained with all of them, so a plain network loses its only path while a residual one keeps half of its paths.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.nn import functional as F

from core.errors import InputError
from core.lessons.data import load_shapes_tensors
from core.lessons.deep_cnn import MAX_DEPTH, MIN_DEPTH, DeepCNN, build_deep_cnn, check_depth
from core.lessons.fit import accuracy, fit
from core.lessons.gradients import (AuxGradients, GradientProfile, aux_gradients, gradient_hooks, gradient_norms,
                                    gradient_profile)

__all__ = [
    "DeepCNN", "build_deep_cnn", "check_depth", "gradient_hooks", "gradient_norms", "GradientProfile",
    "gradient_profile", "path_counts", "LesionResult", "lesion_study", "CurveResult", "DepthLesson", "depth_lesson",
    "MIN_DEPTH", "MAX_DEPTH", "AuxGradients", "aux_gradients",
]

#: Loss differences below this are called "no difference" in the conclusion (step-to-step noise of a short run).
LOSS_MARGIN = 0.01


# ------------------------------------------------------------------------------------------ paths
def path_counts(n_blocks: int) -> list[int]:
    """Number of paths through exactly ``k`` of ``n_blocks`` residual blocks, for k = 0..n: ``C(n, k)``.

    Each block is either taken or skipped, so the counts are the binomial coefficients and sum to ``2**n``.
    """
    if not isinstance(n_blocks, int) or isinstance(n_blocks, bool) or not 0 <= n_blocks <= 1000:
        raise InputError(f"the number of blocks must be a whole number between 0 and 1000, got {n_blocks!r}")
    counts = [1]
    for k in range(n_blocks):  # C(n, k+1) = C(n, k) · (n − k) / (k + 1), exact in integers
        counts.append(counts[-1] * (n_blocks - k) // (k + 1))
    return counts


# ------------------------------------------------------------------------------------------ training + lesion
@dataclass
class CurveResult:
    label: str
    depth: int
    residual: bool
    batchnorm: bool
    losses: list[float]
    seconds: float
    test_accuracy: float


@dataclass
class LesionResult:
    """Test accuracy and loss of a trained network with each block dropped in turn (index -1: nothing dropped)."""

    label: str
    residual: bool
    base_accuracy: float
    base_loss: float
    accuracy: list[float]  # one per dropped block
    loss: list[float]

    def mean_drop(self) -> float:
        return self.base_accuracy - sum(self.accuracy) / max(1, len(self.accuracy))

    def mean_loss_increase(self) -> float:
        return sum(self.loss) / max(1, len(self.loss)) - self.base_loss


@torch.no_grad()
def _evaluate(model: DeepCNN, x: torch.Tensor, y: torch.Tensor, drop: int | None = None) -> tuple[float, float]:
    model.eval()
    logits = torch.cat([model(x[i:i + 256], drop=drop) for i in range(0, len(x), 256)])
    return accuracy(logits.argmax(1), y), float(F.cross_entropy(logits, y))


def lesion_study(model: DeepCNN, x: torch.Tensor, y: torch.Tensor, label: str = "") -> LesionResult:
    """Drop each block of a trained ``model`` at test time, one at a time (Veit et al. 2016, Fig. 3)."""
    base_acc, base_loss = _evaluate(model, x, y)
    accs, losses = [], []
    for i in range(model.n_blocks):
        a, l_ = _evaluate(model, x, y, drop=i)
        accs.append(a)
        losses.append(l_)
    return LesionResult(label or ("residual" if model.residual else "plain"), model.residual, base_acc, base_loss,
                        accs, losses)


@dataclass
class DepthLesson:
    depth: int
    batchnorm: bool
    shallow_depth: int
    steps: int
    profiles: list[GradientProfile]
    curves: list[CurveResult]
    lesions: list[LesionResult]
    paths: list[int]
    data_seconds: float
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def n_blocks(self) -> int:
        """Residual blocks of the ``depth`` network (``paths`` has one count per path length 0..n)."""
        return len(self.paths) - 1

    def short_path_share(self) -> float:
        """Share of the ``2**n`` paths that go through at most half of the ``n`` blocks."""
        n = self.n_blocks
        return sum(self.paths[: n // 2 + 1]) / 2**n

    def curve(self, depth: int, residual: bool) -> CurveResult | None:
        return next((c for c in self.curves if c.depth == depth and c.residual == residual), None)

    def conclusion(self) -> str:
        """Two sentences read off the measurements (they say so when the textbook effect does not show)."""
        parts = []
        plain = next((p for p in self.profiles if not p.residual), None)
        res = next((p for p in self.profiles if p.residual), None)
        if plain and res:
            rp, rr = plain.first_to_last(), res.first_to_last()
            parts.append(
                f"At initialisation the first layer's gradient is {rp:.2g}× the last conv layer's in the plain "
                f"{self.depth}-layer network ({_verdict(rp)}) and {rr:.2g}× in the residual one ({_verdict(rr)}).")
        pd, rd = self.final_loss(self.depth, False), self.final_loss(self.depth, True)
        ps = self.final_loss(self.shallow_depth, False) if self.shallow_depth < self.depth else math.nan
        if not (math.isfinite(pd) and math.isfinite(rd)):
            parts.append("A training loss became infinite or NaN: that network diverged at this learning rate.")
        elif not math.isfinite(ps):
            parts.append(f"After {self.steps} steps the plain-{self.depth} training loss is {pd:.3f} and the "
                         f"residual-{self.depth} reaches {rd:.3f}.")
        else:
            degraded = ("the deeper plain net trains worse: degradation" if pd > ps + LOSS_MARGIN
                        else "no degradation at this budget")
            better = " (better than plain)" if rd < pd - LOSS_MARGIN else " (not clearly better than plain here)"
            parts.append(f"After {self.steps} steps the plain-{self.depth} training loss is {pd:.3f} vs {ps:.3f} "
                         f"for plain-{self.shallow_depth} ({degraded}), and the residual-{self.depth} reaches "
                         f"{rd:.3f}{better}.")
        return " ".join(parts)

    def final_loss(self, depth: int, residual: bool) -> float:
        """Mean training loss of the last 10 % of the steps of that curve (NaN when it was not trained)."""
        c = self.curve(depth, residual)
        if c is None or not c.losses:
            return math.nan
        tail = c.losses[-max(1, len(c.losses) // 10):]
        return sum(tail) / len(tail)


def _verdict(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "not finite"
    return "it vanishes" if ratio < 0.1 else "it explodes" if ratio > 10 else "within 10× of each other"


def depth_lesson(depth: int = 20, *, batchnorm: bool = True, shallow_depth: int = 8, steps: int = 600,
                 batch_size: int = 32, lr: float = 3e-3, optimizer: str = "adamw", grad_steps: int = 10,
                 train_size: int = 2000, n_test: int = 300, image_size: int = 32, width: int = 16, seed: int = 0,
                 progress: Callable[[float, str], None] | None = None) -> DepthLesson:
    """The whole lesson: gradient profiles (plain and residual at ``depth``), short training curves of
    plain-``shallow_depth``, plain-``depth`` and residual-``depth`` (the ResNet paper's Fig. 1 and 4 in small),
    the path counts of the residual network and a lesion study of the two ``depth`` networks.

    The optimiser defaults to AdamW with warm-up and cosine decay: the paper used SGD for 64k iterations; in a
    budget of a few hundred steps adaptive steps get every network off the ground, so the curves compare
    architectures, not how well a learning rate happens to suit each depth.

    Default budget, measured (one thread, 2,000 images): 150 steps left every loss near chance (ln 6 ≈ 1.79:
    plain-20 1.788, plain-8 1.746, residual-20 1.752) in 8 s of CPU; 600 steps (32 s) separate them (plain-20
    1.386, plain-8 1.370, residual-20 1.096) and the lesion study shows the paths (dropping a block costs the
    plain-20 8.7 points of test accuracy, the residual-20 3.0)."""
    check_depth(depth)
    check_depth(shallow_depth)
    if shallow_depth >= depth:  # the reference must be shallower (depth 4 has none: only two curves then)
        shallow_depth = max(MIN_DEPTH, depth - 4)
    if not 1 <= steps <= 20_000:
        raise InputError(f"steps must be between 1 and 20,000, got {steps}")
    report = progress or (lambda f, m: None)
    start = time.perf_counter()
    report(0.0, "rendering Shapes")
    shapes = load_shapes_tensors(train_size=train_size, n_test=n_test, image_size=image_size, seed=seed)
    data, x, y, xt, yt = shapes.data, shapes.x_train, shapes.y_train, shapes.x_test, shapes.y_test
    profiles = []
    for i, residual in enumerate((False, True)):
        report(0.05 + 0.05 * i, f"gradient norms, {'residual' if residual else 'plain'}-{depth}")
        profiles.append(gradient_profile(depth, residual=residual, batchnorm=batchnorm, steps=grad_steps,
                                         batch_size=64, lr=lr, optimizer=optimizer, seed=seed, data=data,
                                         width=width))
    runs = list(dict.fromkeys([(shallow_depth, False), (depth, False), (depth, True)]))
    curves, models = [], {}
    for j, (d, residual) in enumerate(runs):
        label = f"{'residual' if residual else 'plain'}-{d}"
        report(0.15 + 0.8 * j / len(runs), f"training {label}")
        model = build_deep_cnn(d, residual=residual, batchnorm=batchnorm, width=width,
                               num_classes=data.num_classes, seed=seed)
        r = fit(model, x, y, steps=steps, batch_size=batch_size, lr=lr, seed=seed, optimizer=optimizer,
                weight_decay=0.0)
        acc, _ = _evaluate(model, xt, yt)
        curves.append(CurveResult(label, d, residual, batchnorm, r.losses, r.seconds, acc))
        models[(d, residual)] = model
    report(0.95, "lesion study")
    lesions = [lesion_study(models[(depth, False)], xt, yt, f"plain-{depth}"),
               lesion_study(models[(depth, True)], xt, yt, f"residual-{depth}")]
    report(1.0, "done")
    return DepthLesson(depth, batchnorm, shallow_depth, steps, profiles, curves, lesions,
                       path_counts((depth - 2) // 2), data.seconds, time.perf_counter() - start)
