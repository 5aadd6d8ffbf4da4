"""Receptive fields: the analytic table equals the exact gradient support, on the real zoo networks.

The gradient support of a unit is the set of input pixels whose gradient for that unit *can* be non-zero.
To see all of it (and not only where a random network happens to pass gradient) the network is made
"positive": every convolution / linear weight is 1 / fan-in (a weighted average), biases 0, batch-norm an
exact identity, max-pooling replaced by averaging over the same window (a max passes gradient to one pixel
only), and a small positive input keeps every ReLU / ReLU6 / hard-sigmoid in its sloped part.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.models import get_spec
from core.receptive_field import receptive_fields, unit_field


# ------------------------------------------------------------------------------------------ helpers
def _avg_instead_of_max(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                        return_indices=False):
    assert dilation in (1, (1, 1)), "zoo max-pools are not dilated"
    out = F.avg_pool2d(input, kernel_size, stride if stride else kernel_size, padding, ceil_mode=ceil_mode)
    return (out, None) if return_indices else out


def positive_model(arch: str) -> nn.Module:
    torch.manual_seed(0)
    model = get_spec(arch).builder(num_classes=10, init=False).eval()
    if hasattr(model, "transform_input"):  # GoogLeNet / Inception-v3: a per-channel affine that can go negative
        model.transform_input = False
    for name, m in list(model.named_modules()):  # the head never runs (the forward stops earlier): drop its
        if isinstance(m, nn.Linear):  # ~100M float64 weights in VGG / AlexNet
            parent, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent), attr, nn.Identity())
    model.double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.fill_(1.0 / fan_in)
            elif isinstance(m, nn.Linear):
                m.weight.fill_(1.0 / m.in_features)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                m.eps = 0.0
                if m.weight is not None:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
            if getattr(m, "bias", None) is not None and not isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.bias.zero_()
    return model


class _Stop(Exception):
    pass


def gradient_supports(model: nn.Module, size: int, jobs: list[tuple[str, int, int]], order: list[str],
                      chunk: int = 24):
    """``[support bool [H, W]]``, one per ``(layer, row, col)`` job.

    Speed: one forward/backward per chunk of jobs, not per job — sample ``b`` of the batch carries job ``b``'s
    unit, and in eval mode the samples do not interact, so ``∂ Σ_b y_b / ∂ x_b`` is job ``b``'s gradient."""
    g = torch.Generator().manual_seed(0)
    base = (0.5 + 0.5 * torch.rand(1, 3, size, size, generator=g, dtype=torch.float64)) * 1e-3
    layers = sorted({n for n, _, _ in jobs})
    supports = []
    for k in range(0, len(jobs), chunk):
        part = jobs[k:k + chunk]
        outputs: dict[str, torch.Tensor] = {}
        handles = [model.get_submodule(n).register_forward_hook(
            lambda m, i, o, n=n: outputs.__setitem__(n, o[0] if isinstance(o, (tuple, list)) else o))
            for n in layers]
        last = model.get_submodule(max((n for n, _, _ in part), key=order.index))
        handles.append(last.register_forward_hook(lambda *a: (_ for _ in ()).throw(_Stop())))
        x = base.repeat(len(part), 1, 1, 1).requires_grad_(True)
        try:
            model(x)
        except _Stop:  # everything needed has run
            pass
        finally:
            for h in handles:
                h.remove()
        total = sum(outputs[n][b, :, i, j].sum() for b, (n, i, j) in enumerate(part))
        (grad,) = torch.autograd.grad(total, x)
        supports.extend(grad.abs().sum(1) > 0)
    return supports


def bbox(mask: torch.Tensor) -> tuple[int, int, int, int]:
    rows = mask.any(1).nonzero().flatten()
    cols = mask.any(0).nonzero().flatten()
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def corner_centre_corner(h: int, w: int):
    return sorted({(0, 0), (h // 2, w // 2), (h - 1, w - 1)})


def check_against_gradient(arch: str, size: int, monkeypatch, max_layers: int = 40) -> int:
    table = receptive_fields(arch, size)
    # at sizes other than 224 px AlexNet's / VGG's AdaptiveAvgPool2d((6|7)) is irregular: that row is left out
    assert all("adaptive pooling" in note and "avgpool" in note for note in table.notes), table.notes
    names = table.names
    if len(names) > max_layers:  # evenly spaced, always the last one
        step = len(names) / max_layers
        names = sorted({names[int(k * step)] for k in range(max_layers)} | {names[-1]}, key=table.names.index)
    model = positive_model(arch)
    # nn.MaxPool2d.forward and torchvision's Inception-v3 both look F.max_pool2d up at call time
    monkeypatch.setattr(F, "max_pool2d", _avg_instead_of_max)
    table_rows = {n: table.get(n) for n in names}
    jobs = [(n, i, j) for n in names for i, j in corner_centre_corner(*table_rows[n].shape)]
    supports = gradient_supports(model, size, jobs, table.names)
    checked = 0
    for (n, i, j), support in zip(jobs, supports):
        u = unit_field(table_rows[n], i, j, size)
        assert bbox(support) == u.clipped_box, f"{arch} {n} ({i},{j}): {bbox(support)} != {u.clipped_box}"
        if u.is_global:  # a global unit depends on every pixel of what the reduced map saw
            assert int(support.sum()) == u.clipped_area, f"{arch} {n} ({i},{j}): global with holes"
        checked += 1
    return checked


# ------------------------------------------------------------------------------------------ vs gradient support
@pytest.mark.parametrize("arch,size", [
    ("lenet5", 41),
    ("alexnet", 95),
    pytest.param("resnet18", 75, marks=pytest.mark.slow),  # ~7 s; SE-ResNet-18 keeps a residual net in the fast run
    ("seresnet18", 45),
    ("mobilenet_v3_small", 61),
])
def test_analytic_field_equals_gradient_support(arch, size, monkeypatch):
    assert check_against_gradient(arch, size, monkeypatch) > 0


@pytest.mark.slow
@pytest.mark.parametrize("arch,size", [
    ("vgg16", 67),  # ~8 s: 13 float64 convolutions at full width
    ("googlenet", 67),
    ("inception_v3", 79),
    ("densenet121", 61),
    ("resnet50", 71),
    ("mobilenet_v2", 57),
    ("efficientnet_b0", 53),
    ("vgg11_bn", 50),
])
def test_analytic_field_equals_gradient_support_branched(arch, size, monkeypatch):
    assert check_against_gradient(arch, size, monkeypatch, max_layers=30) > 0
