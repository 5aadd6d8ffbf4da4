"""RandAugment, TrivialAugmentWide, AutoAugment and AugMix that also report which operations they drew.

torchvision's policies draw their operations inside ``forward`` and never say what they picked. Each function
here repeats only the *drawing* lines of the matching ``forward`` in
``torchvision/transforms/v2/_auto_augment.py`` (same random calls, same order, so the global RNG ends in the
same state and the pixels are identical to calling the transform) and leaves the image math to torchvision's
own ``_apply_image_or_video_transform``. ``tests/unit/test_augment_policies.py`` checks the equality against
the real transforms for many seeds, so a change in torchvision's drawing order shows up as a test failure.

Input: one image tensor ``[C, H, W]`` (uint8). Output: ``(image, ops)`` where ``ops`` lists
``{"op": "ShearX", "magnitude": 0.21}`` dicts (AutoAugment adds the sub-policy index, AugMix the chains and
weights).
"""
from __future__ import annotations

from typing import Any

import torch
from torchvision.transforms.v2 import AugMix, AutoAugment, RandAugment, TrivialAugmentWide
from torchvision.transforms.v2.functional import get_size


def _magnitude(fn, signed: bool, num_bins: int, index: int | None, h: int, w: int, index_fn=None) -> float:
    magnitudes = fn(num_bins, h, w)
    if magnitudes is None:
        return 0.0
    idx = index if index is not None else index_fn()
    m = float(magnitudes[idx])
    if signed and torch.rand(()) <= 0.5:
        m *= -1
    return m


def _apply(t, img, op: str, m: float):
    return t._apply_image_or_video_transform(img, op, m, interpolation=t.interpolation, fill=t._fill)


def run_randaugment(t: RandAugment, img: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    h, w = get_size(img)
    ops = []
    for _ in range(t.num_ops):
        op, (fn, signed) = t._get_random_item(t._AUGMENTATION_SPACE)
        m = _magnitude(fn, signed, t.num_magnitude_bins, t.magnitude, h, w)
        img = _apply(t, img, op, m)
        ops.append({"op": op, "magnitude": m})
    return img, ops


def run_trivialaugment(t: TrivialAugmentWide, img: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    h, w = get_size(img)
    op, (fn, signed) = t._get_random_item(t._AUGMENTATION_SPACE)
    m = _magnitude(fn, signed, t.num_magnitude_bins, None, h, w,
                   index_fn=lambda: int(torch.randint(t.num_magnitude_bins, ())))
    return _apply(t, img, op, m), [{"op": op, "magnitude": m}]


def run_autoaugment(t: AutoAugment, img: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    h, w = get_size(img)
    index = int(torch.randint(len(t._policies), ()))
    ops = []
    for op, probability, magnitude_idx in t._policies[index]:
        if not torch.rand(()) <= probability:
            ops.append({"op": op, "applied": False, "probability": probability, "sub_policy": index})
            continue
        fn, signed = t._AUGMENTATION_SPACE[op]
        m = _magnitude(fn, signed, 10, magnitude_idx, h, w)
        img = _apply(t, img, op, m)
        ops.append({"op": op, "magnitude": m, "applied": True, "probability": probability, "sub_policy": index})
    return img, ops


def run_augmix(t: AugMix, img: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """AugMix on one ``[C, H, W]`` tensor; ``ops`` holds one entry per chain with its ops and mixing weight."""
    h, w = get_size(img)
    space = t._AUGMENTATION_SPACE if t.all_ops else t._PARTIAL_AUGMENTATION_SPACE
    orig_dims = list(img.shape)
    batch = img.reshape([1] * max(4 - img.ndim, 0) + orig_dims)
    batch_dims = [batch.size(0)] + [1] * (batch.ndim - 1)
    m = t._sample_dirichlet(torch.tensor([t.alpha, t.alpha], device=batch.device).expand(batch_dims[0], -1))
    weights = t._sample_dirichlet(
        torch.tensor([t.alpha] * t.mixture_width, device=batch.device).expand(batch_dims[0], -1)
    ) * m[:, 1].reshape([batch_dims[0], -1])
    mix = m[:, 0].reshape(batch_dims) * batch
    chains = []
    for i in range(t.mixture_width):
        aug = batch
        depth = t.chain_depth if t.chain_depth > 0 else int(torch.randint(low=1, high=4, size=(1,)).item())
        chain = []
        for _ in range(depth):
            op, (fn, signed) = t._get_random_item(space)
            mag = _magnitude(fn, signed, t._PARAMETER_MAX, None, h, w,
                             index_fn=lambda: int(torch.randint(t.severity, ())))
            aug = _apply(t, aug, op, mag)
            chain.append({"op": op, "magnitude": mag})
        mix.add_(weights[:, i].reshape(batch_dims) * aug)
        chains.append({"chain": chain, "weight": float(weights[0, i])})
    mix = mix.reshape(orig_dims).to(dtype=img.dtype)
    return mix, [{"original_weight": float(m[0, 0])}, *chains]


RUNNERS = {
    "RandAugment": run_randaugment,
    "TrivialAugmentWide": run_trivialaugment,
    "AutoAugment": run_autoaugment,
    "AugMix": run_augmix,
}


def op_text(op: dict[str, Any]) -> str:
    """``Posterize(4 bits)``, ``ShearX(0.21)``, ``Rotate(-17.0°)``... for one drawn op."""
    name, m = op["op"], op.get("magnitude", 0.0)
    if op.get("applied") is False:
        return f"{name}(skipped, p={op['probability']:g})"
    if name in ("Identity", "AutoContrast", "Equalize", "Invert"):
        return name
    if name == "Posterize":
        return f"Posterize({int(m)} bits)"
    if name == "Solarize":
        return f"Solarize(≥{m * 255:.0f})"
    if name == "Rotate":
        return f"Rotate({m:+.1f}°)"
    if name.startswith("Translate"):
        return f"{name}({int(m):+d} px)"
    if name.startswith("Shear"):
        return f"{name}({m:+.2f})"
    return f"{name}(×{1 + m:.2f})"  # Brightness, Color, Contrast, Sharpness: factor 1 + magnitude


def caption(cls: str, ops: list[dict[str, Any]]) -> str:
    if cls == "AugMix":
        chains = [" → ".join(op_text(o) for o in c["chain"]) + f" (w={c['weight']:.2f})" for c in ops[1:]]
        return f"AugMix: original w={ops[0]['original_weight']:.2f}; " + "; ".join(chains)
    title = {"TrivialAugmentWide": "TrivialAugment"}.get(cls, cls)
    if cls == "AutoAugment" and ops:
        return f"AutoAugment #{ops[0]['sub_policy']}: " + ", ".join(op_text(o) for o in ops)
    return f"{title}: " + (", ".join(op_text(o) for o in ops) or "no ops")
