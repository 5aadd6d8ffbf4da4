"""Which layer a CAM looks at: validation, feature-map sizes, and a default that is informative at small inputs.

A CAM is as coarse as its layer: ResNet-18's ``layer4`` is 7 × 7 at 224 px but 2 × 2 at 64 px, where the arg-max
of the upsampled map is always near a corner. The rule in :func:`default_layer`: **the deepest layer whose map is
at least ``MIN_SIDE`` cells wide**, among the layers at the nesting depth of the architecture's
``default_cam_layer`` (blocks for ResNet, ``features.i`` for LeNet / VGG), counting an activation module
(``nn.ReLU`` …) as a layer of its own, so a convolution followed by its ReLU gives the ReLU'd map.

Measured (pointing game on Shapes, true class, 200 test images; ``bench/explain_preset.py`` prints the table
for every layer): ResNet-18 at 64 px — ``layer4`` (2 × 2) 0.01, ``layer3`` (4 × 4) 0.40–0.45, ``layer2`` 0.22–0.26,
random point 0.13 (from the issue); LeNet-5 at 48 px (the ``shapes-explain`` preset's run, 88 % test) — S4 pool
``features.5`` (9 × 9) 0.21, C5 conv ``features.6`` (5 × 5) 0.32, C5 after its ReLU ``features.7`` 0.37, random
point 0.14 (a 78 % run of an earlier recipe ranked them the same: 0.16, 0.24, 0.29). Deeper is more about the
class, until the map gets too coarse to point; and the ReLU'd map beats the raw convolution (its negative parts,
which the network never passes on, only blur the weighted sum). LeNet-5's registry entry names the S4 pool
because at its native 32 px C5 is 1 × 1; the rule walks past it whenever C5 is wide enough.
"""
from __future__ import annotations

import weakref

import torch
from torch import nn

from core.explain.base import ExplainError
from core.models.activations import feature_layers, main_output
from core.models.shared import exclusive

__all__ = ["MIN_SIDE", "layer_shapes", "default_layer", "check_layer", "conv_layer_hint", "ACTIVATIONS"]

MIN_SIDE = 4
#: Activation modules: a candidate default layer (the map after the non-linearity), though not in ``feature_layers``.
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Hardswish, nn.LeakyReLU, nn.ELU, nn.Mish)
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
    """The layer a CAM uses when none is given (the rule and its measurements: the module docstring).
    ``preferred``: the architecture's ``default_cam_layer`` (it sets the nesting depth, and is the answer when no
    layer of that depth is ``MIN_SIDE`` cells wide); without one, the deepest layer with such a map."""
    shapes = layer_shapes(model, size)
    acts = {n for n, m in model.named_modules() if n and isinstance(m, ACTIVATIONS)}
    allowed = set(feature_layers(model)) | {preferred} | acts
    ordered = [n for n, s in shapes.items() if len(s) == 4 and n in allowed]  # in the order they finish
    if not ordered:
        raise ExplainError("this model has no convolutional layer to explain with a CAM")
    depth = preferred.count(".") if preferred and preferred in shapes else None
    candidates = [n for n in ordered if depth is None or n.count(".") == depth]
    if depth is not None:  # stay inside the preferred layer's parent (LeNet: ``features``, not ``classifier``)
        parent = preferred.rpartition(".")[0]
        candidates = [n for n in candidates if n.rpartition(".")[0] == parent]
    good = [n for n in candidates if min(shapes[n][-2:]) >= MIN_SIDE]
    if good:
        return good[-1]
    return preferred if preferred in ordered else ordered[-1]
