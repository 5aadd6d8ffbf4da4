"""What every attribution method shares: the request (:class:`Context`), the result (:class:`Explanation`),
hook hygiene, and the forward that always returns logits.

Shapes: the network sees ``x`` = ``float [1, 3, S, S]`` (normalised with the ImageNet mean/std, as both the
zoo's preprocessing and the training loop feed it). A method returns either a *layer* map ``[h, w]`` (Grad-CAM
family: ``h × w`` is the chosen layer's feature-map size, e.g. 7 × 7 for ResNet ``layer4`` at 224 px) that is
upsampled bilinearly to ``S × S``, or a *pixel* map ``[S, S]`` (gradients, Integrated Gradients, occlusion).

Gotcha: a map is a *ranking* of positions, not a calibrated quantity. Near-constant maps carry no ranking at
all; min-max scaling would stretch float noise into a confident-looking picture (or divide by zero into NaN),
so :func:`signal_note` flags them and the renderer draws a message instead.
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import InputError
from core.models.activations import main_output
from core.models.shared import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["Context", "Explanation", "ExplainError", "LogitsModel", "hook_guard", "black_baseline",
           "upsample", "signal_note", "pixel_map", "layer_forward"]

#: A map whose (max - min) is below this share of its largest magnitude is "no signal".
NO_SIGNAL_RTOL = 1e-6


class ExplainError(InputError):
    """A request the method cannot serve (bad layer, target, parameter, or a method not valid for the model)."""


class LogitsModel(nn.Module):
    """``model`` whose forward always returns the main logits ``[N, K]`` (GoogLeNet / Inception-v3 may return
    named tuples with auxiliary logits). Made per call and never cached, so the shared model is only borrowed;
    the wrapped model is a child, so hooks that Captum puts on ``self.modules()`` reach its layers."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.inner = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, 3, S, S] -> [N, K]
        return main_output(self.inner(x))


@dataclass
class Context:
    """One attribution request, resolved: everything a method module needs."""

    model: nn.Module  # the shared model, borrowed under its lock
    forward: LogitsModel  # model -> logits
    x: torch.Tensor  # [1, 3, S, S] normalised, on the model's device
    target: int
    layer: str | None
    layer_module: nn.Module | None
    params: dict[str, Any]
    # (layer output [1, K, h, w] still in the graph, logits [1, classes]) of the call's first forward, for methods
    # that need exactly that (Grad-CAM, Grad-CAM++): one forward serves the top-k list and the attribution
    first: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def size(self) -> int:
        return int(self.x.shape[-1])

    @property
    def device(self) -> torch.device:
        return self.x.device


@dataclass
class Explanation:
    """The result of :func:`core.explain.explain`.

    ``map``: ``float32 [S, S]`` at the image size, non-negative, in the method's own units (not rescaled).
    ``native``: the map at the resolution the method computed it (``[h, w]`` of the layer for CAMs, ``[S, S]``
    for pixel methods). ``signed``: pixel methods whose attributions have a sign (IG, occlusion) keep the
    channel-summed signed map here. ``image``: ``uint8 [S, S, 3]``, the crop the network saw.
    """

    method: str
    target: int
    label: str
    score: float  # softmax probability of the target class
    logit: float
    map: np.ndarray
    native: np.ndarray
    image: np.ndarray
    layer: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    delta: float | None = None  # Integrated Gradients' convergence delta
    signed: np.ndarray | None = None
    seconds: float = 0.0
    topk: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_signal(self) -> bool:
        return not any(n.startswith("no signal") or n.startswith("map is 1×1") for n in self.notes)

    def normalized(self) -> np.ndarray | None:
        """``map / max`` in [0, 1], or ``None`` when there is nothing to draw (no signal / 1×1)."""
        if not self.has_signal:
            return None
        top = float(self.map.max())
        return (self.map / top).astype(np.float32) if top > 0 else None

    def summary(self) -> dict[str, Any]:
        """JSON-ready facts (no arrays): what the CLI prints and the page's settings download holds."""
        d = {k: v for k, v in asdict(self).items() if k not in ("map", "native", "image", "signed")}
        d["map_shape"] = list(self.map.shape)
        d["native_shape"] = list(self.native.shape)
        d["has_signal"] = self.has_signal
        return d


def black_baseline(x: torch.Tensor) -> torch.Tensor:
    """Black *pixels* after normalisation: ``(0 − mean) / std`` per channel, shaped like ``x``.

    Gotcha: the normalised value 0 is the ImageNet mean colour (grey), not black."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return ((0.0 - mean) / std).expand_as(x).clone()


def to_uint8_image(x: torch.Tensor) -> np.ndarray:
    """Undo the normalisation: ``[1, 3, S, S]`` -> ``uint8 [S, S, 3]``."""
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    img = (x.detach()[0].float().cpu() * std + mean).clamp(0, 1)
    return (img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def upsample(native: torch.Tensor, size: int) -> torch.Tensor:
    """``[h, w]`` -> ``[S, S]`` bilinear (``align_corners=False``: each cell's value sits at its centre).
    Captum's ``LayerAttribution.interpolate`` defaults to nearest, which draws blocks."""
    t = native.detach().float()[None, None]
    if tuple(t.shape[-2:]) == (size, size):
        return t[0, 0]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0]


def pixel_map(attr: torch.Tensor, reduce: str = "abs_sum") -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel attributions ``[1, 3, S, S]`` -> (non-negative ``[S, S]`` map, signed channel sum ``[S, S]``).
    ``abs_sum``: Σ_c |a_c| (IG, SmoothGrad); ``abs_max``: max_c |a_c| (Simonyan et al.'s saliency);
    ``relu_sum``: max(Σ_c a_c, 0) (occlusion: where hiding the patch lowers the score)."""
    a = attr.detach().float()[0]
    signed = a.sum(0)
    if reduce == "abs_sum":
        return a.abs().sum(0), signed
    if reduce == "abs_max":
        return a.abs().amax(0), signed
    if reduce == "relu_sum":
        return signed.clamp(min=0), signed
    raise ValueError(reduce)


def signal_note(native: np.ndarray) -> str | None:
    """``"no signal …"`` for a non-finite or near-constant map, ``"map is 1×1 …"`` for a single value, else None."""
    if native.size == 1:
        return "map is 1×1: the layer's output has a single position, so it cannot say *where*; pick an earlier layer"
    if not np.isfinite(native).all():
        return "no signal: the map has non-finite values"
    lo, hi = float(native.min()), float(native.max())
    scale = max(abs(lo), abs(hi))
    if scale == 0.0 or (hi - lo) <= NO_SIGNAL_RTOL * scale:
        return ("no signal: the map is constant" + (" zero" if scale == 0.0 else "")
                + " (e.g. every channel weight ≤ 0 before the ReLU); nothing to rank, so nothing is drawn")
    return None


_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
               "_state_dict_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks_with_kwargs")


@contextlib.contextmanager
def hook_guard(model: nn.Module) -> Iterator[None]:
    """Remove every module hook added during the block, whoever added it, also when the block raises.

    Captum removes its own hooks in ``finally`` clauses; this is the belt to those braces: a hook left on a
    shared, cached model would run in every later forward of every session."""
    before = {id(m): {d: set(getattr(m, d, {}) or {}) for d in _HOOK_DICTS} for m in model.modules()}
    try:
        yield
    finally:
        for m in model.modules():
            seen = before.get(id(m), {})
            for d in _HOOK_DICTS:
                hooks = getattr(m, d, None)
                if not hooks:
                    continue
                for key in [k for k in hooks if k not in seen.get(d, set())]:
                    hooks.pop(key, None)


def layer_forward(ctx: Context, x: torch.Tensor, *, grad: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``x`` through the model once and return (the layer's output ``[N, K, h, w]``, logits ``[N, classes]``),
    with a temporary hook. With ``grad`` the activation stays in the graph, for ``torch.autograd.grad``."""
    if ctx.layer_module is None:
        raise ExplainError("this method needs a layer")
    box: dict[str, torch.Tensor] = {}

    def hook(module, inputs, output):
        out = output[0] if isinstance(output, (tuple, list)) else output
        box["a"] = out

    handle = ctx.layer_module.register_forward_hook(hook)
    try:
        with torch.set_grad_enabled(grad):
            logits = ctx.forward(x)
    finally:
        handle.remove()
    a = box.get("a")
    if not isinstance(a, torch.Tensor) or a.ndim != 4:
        shape = list(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__
        raise ExplainError(f"layer {ctx.layer!r} does not output a feature map [N, C, h, w] (got {shape})")
    return a, logits


MethodFn = Callable[[Context], dict[str, Any]]
