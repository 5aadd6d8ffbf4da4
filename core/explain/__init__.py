"""Explain a prediction: Grad-CAM and friends on any zoo model or trained run, safely on shared models.

    from core.explain import explain, METHODS
    e = explain(model, pil_image, "gradcam", arch="resnet18", classes=names)   # -> Explanation
    e.map        # float32 [S, S], non-negative, at the image size (raw units; e.normalized() for [0, 1])
    e.native     # the map at the method's own resolution, e.g. [7, 7] for ResNet layer4 at 224 px
    e.label, e.score, e.layer, e.notes, e.delta

Methods (:data:`METHODS`, one module each): Grad-CAM, Grad-CAM++, Score-CAM, Guided Grad-CAM, Integrated
Gradients, Saliency, SmoothGrad, Occlusion (Captum for Integrated Gradients, Saliency, Occlusion and Grad-CAM's
reference; our own Grad-CAM++, Score-CAM, a seeded SmoothGrad and a Guided Grad-CAM that guides every rectifier,
not only ``nn.ReLU`` modules: :mod:`core.explain.guidance`).

Shared models: the whole call runs inside ``core.models.shared.exclusive(model)`` (the model's lock, eval mode:
BatchNorm uses its running statistics and never updates them) and :func:`core.explain.base.hook_guard` (every
hook added during the call is removed, also when it raises). Two sessions on one cached model therefore get
exactly the maps they would get one after the other.
"""
from __future__ import annotations

import difflib
import time
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from core.explain.base import Context, ExplainError, Explanation, LogitsModel, hook_guard, layer_forward, \
    signal_note, to_uint8_image, upsample
from core.explain.guidance import guided_support
from core.explain.layers import check_layer, default_layer, layer_shapes
from core.explain.registry import METHODS, MethodSpec, get_method
from core.models import get_spec, min_input_size
from core.models.shared import exclusive, run_transform

__all__ = ["explain", "Explanation", "ExplainError", "METHODS", "MethodSpec", "get_method", "prepare_input",
           "resolve_target", "available_methods", "default_layer", "layer_shapes", "guided_support"]


def prepare_input(image: Image.Image | torch.Tensor, image_size: int, *, min_size: int = 1) -> torch.Tensor:
    """A PIL image -> ``[1, 3, S, S]`` exactly as the training loop feeds it (shorter side to S, centre crop,
    ImageNet normalisation); a tensor ``[3, S, S]`` / ``[1, 3, S, S]`` is taken as already normalised."""
    if isinstance(image, Image.Image):
        w, h = image.size
        if min(w, h) < min_size:
            raise ExplainError(f"the image is {w}×{h} px, smaller than this model's minimum input of {min_size} px")
        return run_transform(int(image_size))(image)
    if isinstance(image, torch.Tensor):
        x = image[None] if image.ndim == 3 else image
        if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise ExplainError(f"expected one normalised image [1, 3, S, S], got {list(image.shape)}")
        if x.shape[-1] != x.shape[-2]:
            raise ExplainError(f"expected a square image, got {x.shape[-2]}×{x.shape[-1]}")
        return x.detach().float()
    raise ExplainError(f"explain() needs a PIL image or a tensor, got {type(image).__name__}")


def resolve_target(target: int | str | None, classes: Sequence[str], probs: torch.Tensor) -> int:
    """``None`` -> the top-1 class; an index (int or digits) -> range-checked; a name -> its index
    (case-insensitive; a close match is suggested on a miss)."""
    n = int(probs.numel())
    if target is None:
        return int(probs.argmax())
    if isinstance(target, str) and target.strip().lstrip("-").isdigit():
        target = int(target.strip())
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= int(target) < n:
            raise ExplainError(f"target {int(target)} is out of range: this model has {n} classes (0–{n - 1})")
        return int(target)
    if isinstance(target, str):
        key = target.strip().lower()
        for i, c in enumerate(classes):
            if str(c).lower() == key:
                return i
        close = difflib.get_close_matches(key, [str(c).lower() for c in classes], n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ExplainError(f"unknown class name {target!r} for this model ({n} classes){hint}")
    raise ExplainError(f"target must be a class index or name, got {type(target).__name__}")


def available_methods(model: nn.Module) -> dict[str, str | None]:
    """``{method: None}`` for methods valid on ``model``, ``{method: why not}`` for the others."""
    ok, why = guided_support(model)
    return {name: (None if ok or not spec.guided else why) for name, spec in METHODS.items()}


def _merge_params(spec: MethodSpec, params: dict | None) -> dict[str, Any]:
    defaults = spec.defaults
    params = dict(params or {})
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        known = ", ".join(defaults) or "none"
        raise ExplainError(f"{spec.title} has no parameter(s) {', '.join(unknown)} (its parameters: {known})")
    return {**defaults, **params}


def explain(model: nn.Module, image: Image.Image | torch.Tensor, method: str = "gradcam", *,
            target: int | str | None = None, layer: str | None = None, params: dict | None = None,
            classes: Sequence[str] | None = None, image_size: int | None = None, arch: str | None = None,
            topk: int = 5) -> Explanation:
    """Attribute ``model``'s score for ``target`` on ``image`` with ``method`` (a key of :data:`METHODS`).

    ``image``: an RGB PIL image (resized and centre-cropped to ``image_size``, default: the architecture's
    input size) or a normalised tensor. ``layer``: a dotted module name for the CAM methods (default: the
    architecture's CAM layer, or an earlier one when its map would be smaller than 4 × 4, see
    :mod:`core.explain.layers`). ``target``: None (top-1), a class index or a class name from ``classes``.
    Raises :class:`ExplainError` for any bad request.
    """
    spec = get_method(method)
    p = _merge_params(spec, params)
    arch_spec = None
    if arch is not None:
        arch_spec = get_spec(arch)
    min_size = 1
    if arch_spec is not None:
        min_size = min_input_size(arch_spec.name)
    size = int(image_size or (arch_spec.input_size if arch_spec else 224))
    if size < min_size:
        raise ExplainError(f"image size {size} px is smaller than {arch_spec.name}'s minimum input of {min_size} px")
    x = prepare_input(image, size, min_size=min_size)
    size = int(x.shape[-1])
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    x = x.to(device)

    with exclusive(model), hook_guard(model):
        guide_note = None
        if spec.guided:
            ok, why = guided_support(model)
            if not ok:
                raise ExplainError(f"{spec.title} is not offered for this model: {why}")
            guide_note = why
        module = None
        if spec.uses_layer:
            if layer is None:
                layer = default_layer(model, size, arch_spec.default_cam_layer if arch_spec else None)
            module = check_layer(model, layer, size)
        else:
            layer = None
        forward = LogitsModel(model)
        impl = spec.load()
        shares = bool(getattr(impl, "SHARES_FORWARD", False)) and module is not None
        ctx = Context(model=model, forward=forward, x=x, target=-1, layer=layer, layer_module=module, params=p)
        start = time.perf_counter()
        try:
            if shares:  # one forward with the layer hooked and kept in the graph: top-k and attribution share it
                ctx.first = layer_forward(ctx, x.detach().clone().requires_grad_(True), grad=True)
                logits = ctx.first[1][0].detach().float()
            else:
                with torch.no_grad():
                    logits = forward(x)[0].float()
        except RuntimeError as err:
            msg = str(err).splitlines()[0] if str(err) else ""
            if any(w in msg.lower() for w in ("size", "kernel", "shape", "smaller")):
                raise ExplainError(f"a {size} px image does not fit this model: {msg}") from None
            raise
        probs = torch.softmax(logits, 0).cpu()
        names = list(classes) if classes is not None and len(classes) == probs.numel() else [
            f"class {i}" for i in range(probs.numel())]
        ctx.target = t = resolve_target(target, names, probs)
        out = impl.compute(ctx)
        ctx.first = None  # drop the graph
        seconds = time.perf_counter() - start

    native = out["native"].detach().float().cpu()
    notes = list(out.get("notes", [])) + ([guide_note] if guide_note else [])
    full = native if tuple(native.shape) == (size, size) else upsample(native, size)
    native_np = native.numpy().astype(np.float32)
    note = signal_note(native_np)
    if note and not any(n.startswith("no signal") for n in notes):
        notes.insert(0, note)
    values, idx = probs.topk(min(int(topk), probs.numel()))
    signed = out.get("signed")
    return Explanation(
        method=spec.name, target=t, label=names[t], score=float(probs[t]), logit=float(logits[t]),
        map=full.clamp(min=0).numpy().astype(np.float32), native=native_np, image=to_uint8_image(x),
        layer=layer, params={**p, **out.get("params", {})}, notes=notes, delta=out.get("delta"),
        signed=None if signed is None else signed.detach().float().cpu().numpy(), seconds=seconds,
        topk=[{"index": int(i), "label": names[int(i)], "prob": float(v)} for v, i in zip(values, idx)],
    )
