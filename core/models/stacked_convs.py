"""The AlexNet-vs-VGG lesson: a stack of small convolutions sees as far as one big one, for fewer weights.

Receptive field (RF) of a chain of layers, input → output, each with kernel k, stride s, dilation d:

    rf = 1 + Σ_i (d_i·(k_i − 1)) · Π_{j<i} s_j

so two stride-1 3×3 layers give rf = 1 + 2 + 2 = 5 (a 5×5 window), three give 7, five give 11. With C
channels in and out (no bias) one k×k layer has k²·C² weights; n stacked 3×3 layers have n·9·C²:
7×7 → 49·C² versus three 3×3 → 27·C² (VGG paper, §2.3). Everything below is computed from real
``nn.Conv2d`` / pooling modules, never typed.

Gotcha: the *theoretical* RF is an upper bound; the *effective* RF (where gradients are large) is
smaller and roughly Gaussian (Luo et al. 2016, https://arxiv.org/abs/1701.04128).
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import torch
from torch import nn

from core.errors import InputError
from core.models.registry import get_spec
from core.models.summary import _meta_model

__all__ = [
    "receptive_field",
    "KernelComparison",
    "compare_stack",
    "kernel_lessons",
    "features_receptive_field",
    "empirical_receptive_field",
]


def _pair(v) -> int:
    v = v if isinstance(v, (tuple, list)) else (v, v)
    if v[0] != v[1]:
        raise InputError("only square kernels, strides and dilations are supported here")
    return int(v[0])


def _geometry(m: nn.Module) -> tuple[int, int, int] | None:
    """(kernel, stride, dilation) of a spatial layer, None for layers that keep every position (ReLU, BN)."""
    if isinstance(m, nn.Conv2d):
        return _pair(m.kernel_size), _pair(m.stride), _pair(m.dilation)
    if isinstance(m, nn.MaxPool2d):
        return _pair(m.kernel_size), _pair(m.stride if m.stride is not None else m.kernel_size), _pair(m.dilation)
    if isinstance(m, nn.AvgPool2d):
        return _pair(m.kernel_size), _pair(m.stride if m.stride is not None else m.kernel_size), 1
    return None


def receptive_field(layers: Iterable[nn.Module]) -> int:
    """Theoretical receptive field (px, one side) of the last layer of a chain of conv / pool layers."""
    rf, jump = 1, 1
    for m in layers:
        g = _geometry(m)
        if g is None:
            continue
        k, s, d = g
        rf += d * (k - 1) * jump
        jump *= s
    return rf


@dataclass(frozen=True)
class KernelComparison:
    big_kernel: int
    small_kernel: int
    n_small: int  # how many small layers cover the same window
    channels: int
    rf_big: int
    rf_stack: int
    params_big: int
    params_stack: int
    nonlinearities_big: int
    nonlinearities_stack: int

    @property
    def params_ratio(self) -> float:
        """Stack parameters as a fraction of the big kernel's (0.55 for 7×7 vs three 3×3)."""
        return self.params_stack / self.params_big

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "params_ratio": self.params_ratio}


def _n_params(modules: Iterable[nn.Module]) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def compare_stack(big_kernel: int, small_kernel: int = 3, channels: int = 64, bias: bool = False) -> KernelComparison:
    """One ``big_kernel``² convolution versus the stack of ``small_kernel``² ones with the same receptive field.

    Both are built as real ``nn.Conv2d(channels, channels, k)`` modules (on the meta device: no memory).
    """
    if small_kernel < 2 or big_kernel <= small_kernel or channels < 1:
        raise InputError("need 2 ≤ small kernel < big kernel and at least one channel")
    n = math.ceil((big_kernel - 1) / (small_kernel - 1))
    with torch.device("meta"):
        big = [nn.Conv2d(channels, channels, big_kernel, bias=bias)]
        stack = [nn.Conv2d(channels, channels, small_kernel, bias=bias) for _ in range(n)]
    return KernelComparison(
        big_kernel=big_kernel,
        small_kernel=small_kernel,
        n_small=n,
        channels=channels,
        rf_big=receptive_field(big),
        rf_stack=receptive_field(stack),
        params_big=_n_params(big),
        params_stack=_n_params(stack),
        nonlinearities_big=1,
        nonlinearities_stack=n,  # a ReLU after each layer: more decision boundaries for the same window
    )


def kernel_lessons(channels: int = 64) -> list[KernelComparison]:
    """5×5, 7×7 and 11×11 (AlexNet's first layer) against stacked 3×3 convolutions."""
    return [compare_stack(k, 3, channels) for k in (5, 7, 11)]


def features_receptive_field(name: str) -> list[dict[str, Any]] | None:
    """Layer by layer through ``model.features`` of a plain conv/pool network (LeNet, AlexNet, VGG):
    receptive field, stride so far ("jump") and cumulative parameters. None for networks with branches."""
    spec = get_spec(name)
    model = _meta_model(spec.name)
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential) or any(
        next(m.children(), None) is not None for m in features
    ):
        return None
    rows, rf, jump, params, n_conv = [], 1, 1, 0, 0
    for idx, m in features.named_children():
        params += sum(p.numel() for p in m.parameters())
        g = _geometry(m)
        if g is None:
            continue
        k, s, d = g
        rf += d * (k - 1) * jump
        jump *= s
        n_conv += isinstance(m, nn.Conv2d)
        rows.append(
            {
                "arch": spec.name,
                "layer": f"features.{idx}",
                "type": type(m).__name__,
                "kernel": k,
                "stride": s,
                "conv_index": n_conv,
                "receptive_field": rf,
                "jump": jump,
                "cumulative_params": params,
            }
        )
    return rows


def empirical_receptive_field(layers: nn.Module, input_size: int = 32, channels: int | None = None) -> int:
    """Measure the receptive field by back-propagation: the width of the input region whose gradient
    w.r.t. the centre output pixel is non-zero. Uses a copy of ``layers`` with all weights set to 1
    (random weights could cancel by chance); meant for small conv stacks, runs on the CPU."""
    net = copy.deepcopy(layers).to("cpu").float()
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    first = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    c = channels or first.in_channels
    x = torch.zeros(1, c, input_size, input_size, requires_grad=True)
    y = net(x)
    h, w = y.shape[-2:]
    y[0, :, h // 2, w // 2].sum().backward()
    nz = (x.grad[0].abs().sum(0) > 0).nonzero()
    if nz.numel() == 0:
        return 0
    return int(nz[:, 1].max() - nz[:, 1].min() + 1)
