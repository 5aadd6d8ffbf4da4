"""Which layer a CAM looks at: validation, feature-map sizes, and a default that is informative at small inputs.

A CAM is as coarse as its layer: ResNet-18's ``layer4`` is 7 × 7 at 224 px but 2 × 2 at 64 px, where the arg-max
of the upsampled map is always near a corner. :func:`default_layer` keeps the architecture's
``default_cam_layer`` when its map is at least ``MIN_SIDE`` cells wide and otherwise walks back to the deepest
layer of the same nesting depth that is (ResNet at 64 px: ``layer3``, 4 × 4).
"""
from __future__ import annotations

import weakref

import torch
from torch import nn

from core.explain.base import ExplainError
from core.models.activations import feature_layers, main_output
from core.models.shared import exclusive

__all__ = ["MIN_SIDE", "layer_shapes", "default_layer", "check_layer", "conv_layer_hint"]

MIN_SIDE = 4
_SHAPES: "weakref.WeakKeyDictionary[nn.Module, dict[int, dict[str, tuple[int, ...]]]]" = weakref.WeakKeyDictionary()


def layer_shapes(model: nn.Module, size: int) -> dict[str, tuple[int, ...]]:
    """``{module name: output shape}`` for every named module at a ``size`` px input, in the order the modules
    *finish* in the forward (one forward with zeros, under the model's lock; cached per model and size)."""
    per_model = _SHAPES.setdefault(model, {})
    if size in per_model:
        return per_model[size]
    names = [n for n, _ in model.named_modules() if n]
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []

    def make(name):
        def hook(module, inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(out, torch.Tensor):
                shapes[name] = tuple(out.shape)  # last call wins (a shared module)
        return hook

    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    with exclusive(model), torch.no_grad():
        try:
            for n in names:
                handles.append(model.get_submodule(n).register_forward_hook(make(n)))
            try:
                main_output(model(torch.zeros(1, 3, size, size, device=device)))
            except RuntimeError as err:
                raise ExplainError(f"a {size} px image is too small for this model: {str(err).splitlines()[0]}") from None
        finally:
            for h in handles:
                h.remove()
    per_model[size] = shapes
    return shapes


def conv_layer_hint(model: nn.Module, limit: int = 14) -> str:
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    tops = feature_layers(model)
    shown = [n for n in tops if n.count(".") <= 1][:limit]
    more = len(tops) - len(shown)
    return ", ".join(shown) + (f", … ({len(tops)} layers with feature maps, {len(names)} convolutions in all)" if more > 0 else "")


def check_layer(model: nn.Module, layer: str, size: int) -> nn.Module:
    """The module ``layer`` if it outputs a feature map ``[N, C, h, w]`` at ``size`` px, else :class:`ExplainError`
    naming the layers that do."""
    try:
        module = model.get_submodule(layer)
    except AttributeError:
        raise ExplainError(f"unknown layer {layer!r}; layers with feature maps: {conv_layer_hint(model)}") from None
    shape = layer_shapes(model, size).get(layer)
    if shape is None or len(shape) != 4:
        what = type(module).__name__
        got = f"its output is {list(shape)}" if shape else "it makes no feature map"
        raise ExplainError(f"layer {layer!r} ({what}) is not a convolutional layer ({got}, not [N, C, h, w]); "
                           f"layers with feature maps: {conv_layer_hint(model)}")
    return module


def default_layer(model: nn.Module, size: int, preferred: str | None = None) -> str:
    """The layer a CAM uses when none is given (see the module docstring). ``preferred``: the architecture's
    ``default_cam_layer``; without one, the deepest layer with a map of at least ``MIN_SIDE`` cells."""
    shapes = layer_shapes(model, size)
    allowed = set(feature_layers(model)) | {preferred}
    ordered = [n for n, s in shapes.items() if len(s) == 4 and n in allowed]
    if not ordered:
        raise ExplainError("this model has no convolutional layer to explain with a CAM")
    if preferred and preferred in shapes and min(shapes[preferred][-2:]) >= MIN_SIDE:
        return preferred
    depth = preferred.count(".") if preferred and preferred in shapes else None
    candidates = [n for n in ordered if depth is None or n.count(".") == depth]
    if preferred in ordered:  # only layers that finish before the preferred one
        candidates = [n for n in candidates if ordered.index(n) <= ordered.index(preferred)]
    good = [n for n in candidates if min(shapes[n][-2:]) >= MIN_SIDE]
    if good:
        return good[-1]
    return preferred if preferred in ordered else ordered[-1]
