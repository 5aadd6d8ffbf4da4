"""Build a model of the zoo: random, pretrained or from a state-dict file; new class count; stages.

``build("resnet18", num_classes=6, weights="default")`` loads ImageNet weights, then swaps the 1000-way
classifier for a freshly initialised 6-way one — the starting point of fine-tuning. GoogLeNet and
Inception-v3 have auxiliary classifiers; their heads are replaced too, and in ``train()`` mode they return
torchvision's ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`` / ``InceptionOutputs(logits, aux_logits)``
while in ``eval()`` mode they return plain logits ``[B, num_classes]``.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from core.errors import InputError
from core.models.registry import ArchSpec, get_module, get_spec
from core.models.weights import (
    ProgressFn,
    WeightsFileError,
    WeightsUnavailable,
    load_into,
    load_pretrained,
    read_state_dict,
)

__all__ = ["build", "replace_head", "trainable_stages", "weights_label", "MAX_CLASSES"]

MAX_CLASSES = 100_000


def _check_classes(num_classes) -> int:
    try:
        k = int(num_classes)
    except (TypeError, ValueError):
        raise InputError(f"number of classes must be a whole number, got {num_classes!r}") from None
    if k != num_classes or not 1 <= k <= MAX_CLASSES:
        raise InputError(f"number of classes must be between 1 and {MAX_CLASSES}, got {num_classes!r}")
    return k


def replace_head(model: nn.Module, name: str, num_classes: int) -> nn.Module:
    """Swap every classifier ``nn.Linear`` of the spec (auxiliary heads too) for a new ``num_classes`` one.

    New layers use PyTorch's default initialisation and the old layer's device and dtype. In place; returns
    ``model``. Gotcha: do this on a *copy* of a cached model — it changes the model for every user.
    """
    spec = get_spec(name)
    k = _check_classes(num_classes)
    for path in spec.head:
        parent_path, _, attr = path.rpartition(".")
        parent = get_module(model, parent_path)
        old = getattr(parent, attr) if not attr.isdigit() else parent[int(attr)]
        if not isinstance(old, nn.Linear):
            raise TypeError(f"{spec.name}: head {path!r} is {type(old).__name__}, expected nn.Linear")
        new = nn.Linear(old.in_features, k, bias=old.bias is not None, device=old.weight.device, dtype=old.weight.dtype)
        setattr(parent, attr, new)
    if hasattr(model, "num_classes"):  # timm keeps it for reset_classifier()
        model.num_classes = k
    return model


def _head_out_features(spec: ArchSpec, state_dict: dict[str, torch.Tensor]) -> int | None:
    w = state_dict.get(f"{spec.head[0]}.weight")
    return int(w.shape[0]) if isinstance(w, torch.Tensor) and w.ndim == 2 else None


def weights_label(weights: str | os.PathLike | None) -> str:
    """``"none"``, ``"default"`` or ``"file:<name>"`` (what the UI and the CLI show)."""
    if weights is None or weights == "none":
        return "none"
    if weights == "default":
        return "default"
    return f"file:{Path(weights).name}"


def build(
    name: str,
    num_classes: int | None = None,
    weights: str | os.PathLike | None = "none",
    *,
    device: str | torch.device | None = None,
    progress: ProgressFn | None = None,
) -> nn.Module:
    """Build architecture ``name`` in eval mode.

    ``weights``: ``"none"`` (random init), ``"default"`` (pretrained ImageNet weights from torchvision's /
    timm's cache, downloaded when missing, :class:`WeightsUnavailable` when impossible) or a path to a
    ``.safetensors`` / ``.pt`` / ``.pth`` state dict (read with ``weights_only=True``; ``num_classes``
    defaults to the file's head size). ``num_classes`` replaces the classifier head(s).
    """
    spec = get_spec(name)
    k = None if num_classes is None else _check_classes(num_classes)
    if weights is None or weights == "none":
        model = spec.builder(num_classes=k or spec.default_num_classes, init=True)
    elif weights == "default":
        if not spec.has_pretrained:
            raise WeightsUnavailable(f"{spec.title} has no pretrained weights; use weights='none'")
        model = spec.builder(num_classes=spec.default_num_classes, init=False)
        load_pretrained(model, spec.name, progress)
        if k is not None and k != spec.default_num_classes:
            replace_head(model, spec.name, k)
    elif isinstance(weights, (str, os.PathLike)):
        state_dict, _ = read_state_dict(weights)
        file_k = _head_out_features(spec, state_dict)
        if file_k is None:
            raise WeightsFileError(
                f"{Path(weights).name} has no '{spec.head[0]}.weight': it is not a {spec.title} state dict"
            )
        model = spec.builder(num_classes=file_k, init=False)
        load_into(model, state_dict, Path(weights).name)
        if k is not None and k != file_k:
            replace_head(model, spec.name, k)
    else:
        raise InputError(f"weights must be 'none', 'default' or a file path, got {weights!r}")
    model.eval()
    if device is not None:
        model.to(device)
    return model


def trainable_stages(model: nn.Module, name: str) -> list[tuple[str, nn.Module]]:
    """Ordered input → output groups of ``model``'s modules, e.g. ``stem, layer1, …, layer4, head``.

    The last group is the classifier head (every layer :func:`build` replaces, plus the rest of any
    auxiliary classifier). Groups of several modules come as an ``nn.ModuleList`` that *shares* them:
    ``for p in stage.parameters(): p.requires_grad_(True)`` unfreezes exactly that stage. Together the
    stages hold every parameter of the model exactly once.
    """
    spec = get_spec(name)
    stages = []
    for stage_name, paths in spec.stages:
        mods = [get_module(model, p) for p in paths]
        stages.append((stage_name, mods[0] if len(mods) == 1 else nn.ModuleList(mods)))
    return stages
