"""The network of the depth lesson: a small CNN of ``depth`` weight layers, plain or residual.

A 3×3 stem convolution (stride 2) and a 2×2 max-pool (32 px -> 8×8), ``n`` blocks of two 3×3 convolutions of
``width`` channels (optionally with BatchNorm; residual blocks add their input: ``y = relu(x + F(x))``), global
average pooling and a linear head: ``depth = 2 + 2·n`` weight layers. Initialisation: He et al. 2015 (Kaiming
normal for ReLU, https://arxiv.org/abs/1502.01852), as in the ResNet paper (https://arxiv.org/abs/1512.03385).

Shapes: ``float [N, 3, S, S]`` -> logits ``float [N, classes]``.
Gotcha: a residual network *without* BatchNorm also scales the last convolution of each branch by ``n**-0.5``
(Fixup), or every block would add its branch's full variance and the activations would grow as ``2**n``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from core.errors import InputError
from core.lessons.fit import seeded

__all__ = ["Block", "DeepCNN", "build_deep_cnn", "check_depth", "MIN_DEPTH", "MAX_DEPTH"]

MIN_DEPTH, MAX_DEPTH = 4, 110


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
    """``depth`` itself when it is a depth this network can have (even, MIN_DEPTH..MAX_DEPTH); else InputError."""
    if not isinstance(depth, int) or isinstance(depth, bool) or not MIN_DEPTH <= depth <= MAX_DEPTH or depth % 2:
        raise InputError(f"depth must be an even whole number between {MIN_DEPTH} and {MAX_DEPTH} "
                         f"(stem + 2 per block + head), got {depth!r}")
    return depth


def build_deep_cnn(depth: int, *, residual: bool, batchnorm: bool, width: int = 16, num_classes: int = 6,
                   seed: int = 0) -> DeepCNN:
    """A :class:`DeepCNN` whose initial weights are drawn from ``seed`` (the global RNG is left untouched)."""
    return seeded(lambda: DeepCNN(depth, residual, batchnorm, width, num_classes), seed)
