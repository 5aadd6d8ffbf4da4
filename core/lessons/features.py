"""A trained network as a feature extractor for k-NN: the input of its classifier layer is the feature vector.

:func:`network_features` reads the input of a network's last ``nn.Linear`` (the head in every zoo architecture)
with a forward pre-hook; :func:`pretrained_features` offers an ImageNet-pretrained zoo network from its cached
weights only (the lessons never download).

Shapes: normalised images ``float [N, 3, S, S]`` -> features ``float [N, D]`` (D: the head's ``in_features``).
Gotcha: ``model`` may be the app's shared cached model, so the hook lives only inside
:func:`core.models.shared.exclusive` (the model's lock): a Classify in another session never runs with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.errors import InputError, PlaygroundError
from core.models import build
from core.models import weights as W
from core.models.activations import main_output
from core.models.registry import get_spec
from core.models.shared import exclusive

__all__ = ["FeatureNet", "network_features", "PretrainedMissing", "pretrained_features", "PRETRAINED_ARCH",
           "PRETRAINED_SIZE"]


@dataclass
class FeatureNet:
    """A trained network used as a feature extractor: the input of its classifier (last ``nn.Linear``) is the
    feature vector. ``model`` may be shared (the app's cache): it is only used inside ``exclusive``."""

    model: nn.Module
    image_size: int
    label: str


def _classifier(model: nn.Module) -> nn.Linear:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InputError("this network has no linear classifier layer to read features from")
    return linears[-1]  # the head in every zoo architecture (GoogLeNet's aux heads come before it)


def network_features(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Penultimate features ``float [N, D]`` of ``model`` for normalised images ``x [N, 3, S, S]``: the input of
    its last linear layer, captured by a forward hook that is removed afterwards."""
    head = _classifier(model)
    captured: list[torch.Tensor] = []

    def hook(module, inputs):
        captured.append(inputs[0].detach().flatten(1).float().cpu())

    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    with exclusive(model), torch.no_grad():  # the hook only while this thread alone uses the (shared) model
        handle = head.register_forward_pre_hook(hook)
        try:
            for i in range(0, len(x), batch_size):
                main_output(model(x[i:i + batch_size].to(device)))
        finally:
            handle.remove()
    return torch.cat(captured) if captured else torch.empty(0, head.in_features)


class PretrainedMissing(PlaygroundError):
    """The ImageNet weights of the chosen architecture are not on this machine (the lessons never download)."""


#: The pretrained feature extractor the lesson offers, and the size Shapes is rendered at for it (ImageNet
#: networks see 224 px; 64 px keeps the lesson within its budget on a CPU and still gives useful features).
PRETRAINED_ARCH, PRETRAINED_SIZE = "resnet18", 64


def pretrained_features(arch: str = PRETRAINED_ARCH, image_size: int = PRETRAINED_SIZE) -> FeatureNet:
    """An ImageNet-pretrained zoo network as a feature extractor, from its **cached** weights file only.

    Offline-first: nothing is downloaded here (a download in the middle of a lesson would blow its budget, and a
    classroom server may have no network). When the file is absent this raises :class:`PretrainedMissing`
    naming the exact file to copy in and where to download it in the app.
    """
    spec = get_spec(arch)
    status = W.weights_status(spec.name)
    if status == "unavailable":
        raise PretrainedMissing(f"{spec.title} has no pretrained weights to take features from")
    if status != "cached":
        target = W.manual_weights_path(spec.name)
        raise PretrainedMissing(
            f"{spec.title}'s ImageNet weights are not on this machine, so k-NN on pretrained features is "
            f"skipped (lessons never download). Download them once on the Architectures page, or copy the "
            f"weights file to {target}.")
    model = build(spec.name, weights="default")
    return FeatureNet(model.eval(), image_size, f"k-NN · ImageNet {spec.title} features")
