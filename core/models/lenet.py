"""LeNet-5, defined here because torchvision has none.

Paper: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998 — http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf

Shapes for the 32 × 32 input the paper uses (batch B):

    input            [B,   3, 32, 32]
    C1 conv 5×5      [B,   6, 28, 28]   -> ReLU -> S2 max-pool 2×2 -> [B, 6, 14, 14]
    C3 conv 5×5      [B,  16, 10, 10]   -> ReLU -> S4 max-pool 2×2 -> [B, 16, 5, 5]
    C5 conv 5×5      [B, 120,  1,  1]   -> ReLU -> global average pool (a no-op at 32 px)
    F6 linear        [B,  84]           -> ReLU
    output linear    [B, num_classes]

Deliberate deviations from the 1998 network (so it trains with today's recipes and takes colour images):
- 3 input channels (RGB) instead of 1 (grey digits).
- ReLU instead of the scaled tanh ``1.7159 * tanh(2x/3)``.
- Max-pooling instead of the trainable "subsampling" (a 2×2 average times a learned coefficient plus bias).
- C3 is fully connected to all six S2 maps (the paper used a hand-made sparse connection table).
- The output is a plain linear layer trained with cross-entropy, not Euclidean RBF units.
- A global average pool after C5 lets the network take inputs larger than 32 px (at 32 px C5 is already
  1 × 1, so the pool changes nothing there). Gotcha: below 32 px C5 has nothing left to convolve and the
  forward raises ``RuntimeError`` — 32 is the minimum input size.
"""
from __future__ import annotations

import torch
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 for ``[B, 3, H, W]`` images with H, W ≥ 32; returns logits ``[B, num_classes]``."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),  # C1
            nn.ReLU(),
            nn.MaxPool2d(2),  # S2
            nn.Conv2d(6, 16, kernel_size=5),  # C3
            nn.ReLU(),
            nn.MaxPool2d(2),  # S4
            nn.Conv2d(16, 120, kernel_size=5),  # C5: a convolution in the paper, "fully connected" only at 32 px
            nn.ReLU(),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(120, 84),  # F6
            nn.ReLU(),
            nn.Linear(84, num_classes),  # output
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def lenet5(num_classes: int = 10, **kwargs) -> LeNet5:
    return LeNet5(num_classes=num_classes, **kwargs)
