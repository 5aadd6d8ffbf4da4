"""Feature maps of any layer: one forward with temporary hooks, on a model that may be shared.

Used by the Explain page (Grad-CAM's layer) and the Receptive fields page (feature-map grids).
``layer`` names are dotted module names as :meth:`torch.nn.Module.get_submodule` takes them
(``"layer4"``, ``"features.denseblock2"``, ``"inception4e"``).

Shapes: input ``[N, 3, H, W]`` (already normalised) -> each captured map ``[N, C, h, w]`` (detached, CPU, float).
Gotcha: a module called several times in one forward (a shared ReLU in torchvision's ResNet blocks) is
captured at its **last** call; pick the block or the conv, not a shared activation module.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from core.errors import InputError
from core.models.shared import exclusive
from core.models.summary import forward_hooks

__all__ = ["feature_layers", "resolve_layer", "capture_activations", "main_output"]


def feature_layers(model: nn.Module) -> list[str]:
    """Dotted names of the modules that can produce a feature map: convolutions, pools and the containers
    (blocks, stages) holding at least one convolution. Order: the model's own definition order."""
    names = []
    for name, module in model.named_modules():
        if not name:
            continue
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            names.append(name)
        elif next(module.children(), None) is not None and any(
            isinstance(m, nn.Conv2d) for m in module.modules()
        ):
            names.append(name)
    return names


def resolve_layer(model: nn.Module, layer: str) -> nn.Module:
    """The module called ``layer``; an :class:`InputError` listing a few valid names when there is none."""
    try:
        return model.get_submodule(layer)
    except AttributeError:
        valid = feature_layers(model)
        hint = ", ".join(valid[:12]) + (f", … ({len(valid)} in all)" if len(valid) > 12 else "")
        raise InputError(f"unknown layer {layer!r}; layers with feature maps: {hint}") from None


def main_output(out):
    """The main logits of a model output (GoogLeNet / Inception-v3 return named tuples with aux logits)."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out:
        return main_output(out[0])
    if hasattr(out, "logits"):
        return out.logits
    raise TypeError(f"cannot find the logits in a {type(out).__name__}")


def capture_activations(model: nn.Module, x: torch.Tensor, layers: Iterable[str]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Run ``model(x)`` once (no grad, eval mode, the model's lock held) and return
    (``{layer: [N, C, h, w] float CPU tensor}``, logits)."""
    layers = list(dict.fromkeys(layers))
    modules = [(name, resolve_layer(model, name)) for name in layers]
    maps: dict[str, torch.Tensor] = {}

    def make_hook(name: str):
        def hook(module, inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(out, torch.Tensor):
                maps[name] = out.detach().float().cpu()

        return hook

    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    with exclusive(model), forward_hooks(modules, make_hook), torch.no_grad():
        logits = main_output(model(x.to(device))).detach().float().cpu()
    missing = [n for n in layers if n not in maps]
    if missing:
        raise InputError(f"layer(s) {', '.join(missing)} did not produce a feature map in this forward")
    return maps, logits
