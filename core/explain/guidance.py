"""Guided backpropagation that is really guided on every zoo model, not only on ``nn.ReLU`` modules.

Captum's Guided Backprop / Guided Grad-CAM replace the backward of ``nn.ReLU`` *modules* only. Any other
rectifier on the path — a functional ``F.relu`` / ``torch.relu`` called in ``forward`` (GoogLeNet, Inception-v3,
DenseNet-121's last ReLU), ``ReLU6`` (MobileNet-V2), SiLU (EfficientNet), Hardswish (MobileNet-V3) — keeps its
plain gradient there, and the "guided" map is partly or wholly the ordinary gradient.

So we guide at the level of the *function call*: :func:`guided_input_gradient` runs the forward under a
``TorchFunctionMode`` that replaces every rectifier call (module or functional, in-place or not) by the same
function with the guided backward of Springenberg et al. 2015 (https://arxiv.org/abs/1412.6806), generalised:

    ∂in = f′(x) · max(∂out, 0) · [f(x) > 0]

i.e. pass only positive gradients, and only where the unit's output was positive. For ReLU this is exactly the
paper's rule (and Captum's: the test compares them on nn.ReLU models); for ReLU6 it also blocks the clipped top;
for SiLU / GELU / Hardswish / ELU / LeakyReLU / Mish, whose output is positive exactly where the input is, it is
the same "positive input, positive gradient" rule with the function's own slope. The forward is unchanged (the
guided functions compute the same values; the logits are checked against a plain forward).

Gotcha: *gates* (the sigmoid / hard-sigmoid of squeeze-and-excitation blocks, tanh) are not rectifiers; the rule
does not apply to them and they keep their plain gradient. :func:`guided_support` lists them in its note.
"""
from __future__ import annotations

import weakref
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from core.explain.base import ExplainError
from core.models.activations import main_output
from core.models.shared import exclusive

__all__ = ["guided_support", "guided_input_gradient", "GuidedMode", "RECTIFIERS"]


def _plain(fn: Callable) -> Callable:
    """``fn`` without its in-place flag (a guided call returns a new tensor; every zoo model uses the result)."""
    def call(x, *args, **kwargs):
        kwargs.pop("inplace", None)
        return fn(x, *[a for a in args if not isinstance(a, bool)], **kwargs)
    return call


_relu = _plain(torch.relu)
#: Intercepted calls -> (name, out-of-place function of the same arguments).
RECTIFIERS: dict[Callable, tuple[str, Callable]] = {
    F.relu: ("ReLU", _relu), torch.relu: ("ReLU", _relu), torch.relu_: ("ReLU", _relu), F.relu_: ("ReLU", _relu),
    torch.Tensor.relu: ("ReLU", _relu), torch.Tensor.relu_: ("ReLU", _relu),
    F.relu6: ("ReLU6", _plain(F.relu6)), F.hardtanh: ("ReLU6/Hardtanh", _plain(F.hardtanh)),
    F.silu: ("SiLU", _plain(F.silu)), F.gelu: ("GELU", _plain(F.gelu)), F.hardswish: ("Hardswish", _plain(F.hardswish)),
    F.elu: ("ELU", _plain(F.elu)), F.leaky_relu: ("LeakyReLU", _plain(F.leaky_relu)), F.mish: ("Mish", _plain(F.mish)),
}
_GATES = {torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.Tensor.sigmoid: "sigmoid", torch.tanh: "tanh",
          F.tanh: "tanh", F.hardsigmoid: "Hardsigmoid"}
_CACHE: "weakref.WeakKeyDictionary[nn.Module, tuple[bool, str]]" = weakref.WeakKeyDictionary()


class _Guided(torch.autograd.Function):
    """``f(x, *args)`` forward; guided backward ``f′(x) · max(g, 0) · [f(x) > 0]`` (f′ by autograd on a copy)."""

    @staticmethod
    def forward(ctx, x, fn, args, kwargs):  # type: ignore[override]
        ctx.fn, ctx.args, ctx.kwargs = fn, args, kwargs
        ctx.save_for_backward(x)
        return fn(x, *args, **kwargs)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            xd = x.detach().requires_grad_(True)
            y = ctx.fn(xd, *ctx.args, **ctx.kwargs)
            (g,) = torch.autograd.grad(y, xd, grad.clamp(min=0))
        return g * (y.detach() > 0), None, None, None


class GuidedMode(TorchFunctionMode):
    """Inside: every rectifier call has the guided backward; ``seen`` counts them by name, ``gates`` the gates."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, int] = {}
        self.gates: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        hit = RECTIFIERS.get(func)
        if hit is not None and args and isinstance(args[0], torch.Tensor):
            name, plain = hit
            self.seen[name] = self.seen.get(name, 0) + 1
            return _Guided.apply(args[0], plain, tuple(args[1:]), dict(kwargs))
        gate = _GATES.get(func)
        if gate is not None:
            self.gates[gate] = self.gates.get(gate, 0) + 1
        return func(*args, **kwargs)


def guided_input_gradient(forward: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """Guided-backprop gradient of logit ``target`` w.r.t. ``x`` ``[1, 3, S, S]`` (call under the model's lock)."""
    xg = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        with GuidedMode() as mode:
            logits = forward(xg)
        if not mode.seen:
            raise ExplainError("guided backpropagation needs a rectifier (ReLU, SiLU, …) in the forward; this model "
                               "calls none")
        with torch.no_grad():
            plain = forward(x.detach())
        if not torch.allclose(logits.detach(), plain, rtol=1e-4, atol=1e-5):
            raise ExplainError("the guided forward changed the model's output (a rectifier's in-place result was "
                               "not used); guided methods cannot be trusted on this model")
        (g,) = torch.autograd.grad(logits[0, target], xg)
    return g.detach()


def guided_support(model: nn.Module, size: int = 64) -> tuple[bool, str]:
    """``(True, note)`` when the forward calls at least one rectifier (module or functional: all are guided), else
    ``(False, why)``; ``note`` names the gates that keep their plain gradient. One forward at ``size`` px under the
    model's lock; cached per model object."""
    if model in _CACHE:
        return _CACHE[model]
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    mode = GuidedMode()
    with exclusive(model), torch.no_grad():
        for probe in (size, 128, 299):  # the smallest input the model accepts (Inception-v3 needs 75 px)
            mode = GuidedMode()
            try:
                with mode:
                    main_output(model(torch.zeros(1, 3, probe, probe, device=device)))
                break
            except RuntimeError:
                continue
    if not mode.seen:
        result = (False, "it has no rectifier (ReLU, SiLU, …) to guide")
    else:
        what = ", ".join(f"{k} ×{v}" for k, v in sorted(mode.seen.items()))
        note = f"guided rectifiers: {what}"
        if mode.gates:
            note += ("; gates keep their plain gradient (" + ", ".join(f"{k} ×{v}" for k, v in sorted(mode.gates.items()))
                     + ")")
        result = (True, note)
    _CACHE[model] = result
    return result
