"""Depth, vanishing gradients and residual paths, measured on small plain and residual CNNs.

Deeper networks see more (receptive field), hold more and compose more non-linearities, but they are harder to
optimise: the gradient reaching the first layers is a product of one factor per layer, so it can shrink or grow
exponentially with depth, and a deeper *plain* network can end up with a higher *training* loss than a shallower
one (the "degradation" of He et al. 2015, Fig. 1: https://arxiv.org/abs/1512.03385). A skip connection
``y = x + F(x)`` adds an identity term to every factor, so the gradient has a path around every block.

Veit et al. 2016 (https://arxiv.org/abs/1605.06431) read a ResNet with ``n`` blocks as an ensemble of ``2**n``
paths, ``C(n, k)`` of them through exactly ``k`` blocks; most are short, and deleting one block at test time
removes only half of the paths, so accuracy drops a little, while in a plain network it cuts the only path.

The network here: a 3×3 stem convolution (stride 2) and a 2×2 max-pool (32 px -> 8×8), ``n`` blocks of two
3×3 convolutions of ``width`` channels (optionally with BatchNorm; residual blocks add their input), global
average pooling and a linear head: ``depth = 2 + 2·n`` weight layers. Initialisation: He et al. 2015
(Kaiming normal for ReLU), as in the ResNet paper; a residual network without BatchNorm also scales the last
convolution of each branch by ``n**-0.5`` (Fixup), or its activations would grow as ``2**n``.

Shapes: images ``float [N, 3, S, S]`` (normalised), labels ``int64 [N]``.
Gotcha: gradient norms are read through tensor hooks on the weights (``gradient_hooks``), a context manager
that always removes them, even when the backward pass fails.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import nn
from torch.nn import functional as F

from core.errors import InputError
from core.lessons.data import LessonData, load_lesson_data, load_shapes_tensors, to_float
from core.lessons.fit import accuracy, fit, seeded
from core.models import build

__all__ = [
    "DeepCNN", "build_deep_cnn", "check_depth", "gradient_hooks", "gradient_norms", "GradientProfile",
    "gradient_profile", "path_counts", "LesionResult", "lesion_study", "CurveResult", "DepthLesson", "depth_lesson",
    "MIN_DEPTH", "MAX_DEPTH", "AuxGradients", "aux_gradients",
]

MIN_DEPTH, MAX_DEPTH = 4, 110
#: Loss differences below this are called "no difference" in the conclusion (step-to-step noise of a short run).
LOSS_MARGIN = 0.01


class Block(nn.Module):
    """Two 3×3 convolutions; ``residual``: ``relu(x + F(x))``, plain: ``relu(F(x))``."""

    def __init__(self, width: int, residual: bool, batchnorm: bool) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=not batchnorm)
        self.bn1 = nn.BatchNorm2d(width) if batchnorm else nn.Identity()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=not batchnorm)
        self.bn2 = nn.BatchNorm2d(width) if batchnorm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(x + out) if self.residual else F.relu(out)


class DeepCNN(nn.Module):
    """``depth`` weight layers (stem conv + 2 per block + linear head); see the module docstring.

    ``forward(x, drop=i)`` skips block ``i`` (the lesion study: the block's input goes straight on).
    """

    def __init__(self, depth: int, residual: bool, batchnorm: bool, width: int = 16, num_classes: int = 6) -> None:
        super().__init__()
        check_depth(depth)
        self.depth, self.residual, self.batchnorm = depth, residual, batchnorm
        self.stem = nn.Conv2d(3, width, 3, stride=2, padding=1, bias=not batchnorm)
        self.stem_bn = nn.BatchNorm2d(width) if batchnorm else nn.Identity()
        self.blocks = nn.ModuleList(Block(width, residual, batchnorm) for _ in range((depth - 2) // 2))
        self.fc = nn.Linear(width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        if residual and not batchnorm and self.blocks:
            # Without normalisation every block would add its branch's full variance: 2**n at the output. Fixup's
            # rule (Zhang et al. 2019, https://arxiv.org/abs/1901.09321) for two-layer branches: scale by n**-1/2.
            with torch.no_grad():
                for block in self.blocks:
                    block.conv2.weight.mul_(len(self.blocks) ** -0.5)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def forward(self, x: torch.Tensor, drop: int | None = None) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.stem_bn(self.stem(x))), 2)
        for i, block in enumerate(self.blocks):
            if i != drop:
                x = block(x)
        return self.fc(x.mean(dim=(2, 3)))

    def weight_layers(self) -> list[tuple[str, nn.Parameter]]:
        """``(name, weight)`` of every weight layer, input to output: the ``depth`` layers the name counts."""
        return [(name.removesuffix(".weight"), p) for name, p in self.named_parameters()
                if name.endswith("weight") and p.ndim > 1]


def check_depth(depth: int) -> int:
    if not isinstance(depth, int) or isinstance(depth, bool) or not MIN_DEPTH <= depth <= MAX_DEPTH or depth % 2:
        raise InputError(f"depth must be an even whole number between {MIN_DEPTH} and {MAX_DEPTH} "
                         f"(stem + 2 per block + head), got {depth!r}")
    return depth


def build_deep_cnn(depth: int, *, residual: bool, batchnorm: bool, width: int = 16, num_classes: int = 6,
                   seed: int = 0) -> DeepCNN:
    return seeded(lambda: DeepCNN(depth, residual, batchnorm, width, num_classes), seed)


# ------------------------------------------------------------------------------------------ gradients
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
