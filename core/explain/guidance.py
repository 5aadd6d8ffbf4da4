"""Can guided methods be trusted on this model? Checked on the real forward, not on the class names.

Captum's Guided Backprop / Guided Grad-CAM replace the backward of ``nn.ReLU`` *modules* only. Any other
non-linearity on the path — a functional ``F.relu`` / ``torch.relu`` called in ``forward`` (GoogLeNet,
Inception-v3, DenseNet-121's last ReLU), ``ReLU6`` (MobileNet-V2), SiLU (EfficientNet), Hardswish /
Hardsigmoid (MobileNet-V3), a sigmoid gate (SE blocks) — keeps its plain gradient, so the "guided" map is partly
or wholly the ordinary gradient. :func:`guided_support` runs one small forward under a
``TorchFunctionMode`` that records every activation function called *outside* an ``nn.ReLU`` module, and
offers guidance only when there is none.
"""
from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from core.models.shared import exclusive

__all__ = ["guided_support"]

_ACTIVATIONS = {
    F.relu: "functional relu", torch.relu: "functional relu", torch.relu_: "functional relu",
    F.relu_: "functional relu", F.relu6: "ReLU6", F.hardtanh: "ReLU6/Hardtanh", torch._C._nn.hardtanh: "ReLU6/Hardtanh",
    F.silu: "SiLU", F.hardswish: "Hardswish", F.hardsigmoid: "Hardsigmoid", F.gelu: "GELU", F.elu: "ELU",
    F.leaky_relu: "LeakyReLU", F.mish: "Mish", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
    torch.tanh: "tanh", F.tanh: "tanh", torch.Tensor.relu: "functional relu", torch.Tensor.relu_: "functional relu",
    torch.Tensor.sigmoid: "sigmoid", torch.Tensor.sigmoid_: "sigmoid", torch._C._nn.silu: "SiLU",
    torch._C._nn.hardswish: "Hardswish", torch._C._nn.hardsigmoid: "Hardsigmoid",
}
_CACHE: "weakref.WeakKeyDictionary[nn.Module, tuple[bool, str]]" = weakref.WeakKeyDictionary()


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # > 0 while inside an nn.ReLU module's forward
        self.found: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = _ACTIVATIONS.get(func)
        if name is not None and self.depth == 0:
            self.found[name] = self.found.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


def guided_support(model: nn.Module, size: int = 64) -> tuple[bool, str]:
    """``(True, "")`` when every non-linearity in ``model``'s forward is an ``nn.ReLU`` module, else
    ``(False, why)``. One forward at ``size`` px under the model's lock; cached per model object."""
    if model in _CACHE:
        return _CACHE[model]
    from core.models.activations import main_output

    rec = _Recorder()
    relus = [m for m in model.modules() if type(m) is nn.ReLU]

    def enter(module, inputs):
        rec.depth += 1

    def leave(module, inputs, output):
        rec.depth -= 1

    handles = []
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    with exclusive(model), torch.no_grad():
        try:
            for m in relus:
                handles += [m.register_forward_pre_hook(enter), m.register_forward_hook(leave)]
            for probe in (size, 128, 299):  # the smallest input the model accepts (Inception-v3 needs 75 px)
                try:
                    with rec:
                        main_output(model(torch.zeros(1, 3, probe, probe, device=device)))
                    break
                except RuntimeError:
                    rec.found.clear()
                    rec.depth = 0
        finally:
            for h in handles:
                h.remove()
    if not relus and not rec.found:
        result = (False, "it has no ReLU to guide")
    elif rec.found:
        what = ", ".join(f"{k} ×{v}" for k, v in sorted(rec.found.items()))
        result = (False, f"its forward calls non-linearities that are not nn.ReLU modules ({what}); Captum guides "
                         "only nn.ReLU modules, so a 'guided' map here would be (partly) the plain gradient")
    else:
        result = (True, "")
    _CACHE[model] = result
    return result
