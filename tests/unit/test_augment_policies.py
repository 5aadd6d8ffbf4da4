"""The recording policy runners draw exactly what torchvision's own forward draws (same pixels, same RNG state)."""
from __future__ import annotations

import pytest
import torch
from torchvision.transforms import v2

from core.augment.policies import RUNNERS, caption

CASES = [
    v2.RandAugment(),
    v2.RandAugment(num_ops=4, magnitude=20, num_magnitude_bins=31, interpolation="bilinear"),
    v2.TrivialAugmentWide(),
    v2.AutoAugment(v2.AutoAugmentPolicy.IMAGENET),
    v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10),
    v2.AutoAugment(v2.AutoAugmentPolicy.SVHN),
    v2.AugMix(),
    v2.AugMix(severity=7, mixture_width=2, chain_depth=2, alpha=0.5, all_ops=False),
]


@pytest.mark.parametrize("t", CASES, ids=lambda t: repr(t)[:40])
def test_runner_equals_torchvision_forward(t):
    img = torch.randint(0, 256, (3, 29, 37), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    run = RUNNERS[type(t).__name__]
    for seed in range(12):
        torch.manual_seed(seed)
        expected = t(img)
        after_tv = torch.rand(1)
        torch.manual_seed(seed)
        got, ops = run(t, img)
        after_ours = torch.rand(1)
        assert torch.equal(got, expected), seed
        assert torch.equal(after_tv, after_ours), "different number of random draws"
        assert ops and caption(type(t).__name__, ops)
