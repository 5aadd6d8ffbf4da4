"""Turn what a torchvision transform drew (its ``make_params`` dict) into JSON-able numbers and a short caption.

Also: where the image corners went under a geometric step, computed by torchvision itself (the same params
applied to ``tv_tensors.KeyPoints``), and the 2x3 affine matrix that maps pixel coordinates ``(x, y, 1)`` of
the input to the output, solved from those corner correspondences (exact whenever the step is affine).

Coordinates: x to the right, y down, in pixels, the image spans ``[0, W] x [0, H]`` (corner points, not pixel
centres). Gotcha: torchvision's ``affine`` angle is clockwise on screen while ``rotate`` is counter-clockwise.
"""
from __future__ import annotations

from typing import Any

import torch
from torchvision import tv_tensors

_GEOMETRIC = {
    "RandomRotation", "RandomAffine", "RandomPerspective", "RandomResizedCrop", "RandomCrop",
    "RandomHorizontalFlip", "RandomVerticalFlip", "Resize",
}
_AFFINE = {"RandomRotation", "RandomAffine", "RandomResizedCrop", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "Resize"}


def jsonable(params: dict[str, Any]) -> dict[str, Any]:
    """Numbers, lists and strings only: tensors become lists (big ones a summary), floats are rounded."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        out[k] = _plain(v)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        if v.numel() <= 16:
            return _plain(v.tolist())
        return {"shape": list(v.shape), "abs_max": round(float(v.abs().max()), 4)}
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if v is None or isinstance(v, (int, str, bool)):
        return v
    return str(v)


def caption(cls: str, params: dict[str, Any], t: Any = None) -> str:
    """One line saying what was drawn, e.g. ``rotate 17.3°`` (``params`` as returned by make_params)."""
    fn = _CAPTIONS.get(cls)
    if fn is None:
        return cls
    return fn(params, t)


def _f(x: Any, nd: int = 2) -> str:
    return f"{float(x):.{nd}f}"


def _jitter(p: dict, t: Any) -> str:
    parts = []
    order = [int(i) for i in p["fn_idx"]]
    names = ["brightness", "contrast", "saturation", "hue"]
    for i in order:
        v = p.get(f"{names[i]}_factor")
        if v is None:
            continue
        parts.append(f"hue {float(v):+.3f}" if names[i] == "hue" else f"{names[i]} ×{_f(v)}")
    return ", ".join(parts) or "colour jitter (nothing)"


def _affine(p: dict, t: Any) -> str:
    tx, ty = p["translate"]
    sx, sy = p["shear"]
    s = f"rotate {float(p['angle']):.1f}° cw, shift ({tx}, {ty}) px, scale {_f(p['scale'])}"
    if sx or sy:
        s += f", shear ({float(sx):.1f}°, {float(sy):.1f}°)"
    return s


def _erase(p: dict, t: Any) -> str:
    if p["v"] is None:
        return "erase: nothing (no box fitted)"
    return f"erase {p['w']}×{p['h']} px at x={p['j']}, y={p['i']}"


def _crop(p: dict, t: Any) -> str:
    if not p.get("needs_crop", True):
        return "crop: whole image"
    s = f"crop {p['width']}×{p['height']} at x={p['left']}, y={p['top']}"
    if p.get("needs_pad"):
        s += " (after padding)"
    return s


def _elastic_shift(d: torch.Tensor) -> float:
    # displacement [1, H, W, 2] is in grid_sample units, where the image spans [-1, 1]: one unit = size / 2 px
    h, w = d.shape[1], d.shape[2]
    return float(torch.hypot(d[..., 0] * w / 2, d[..., 1] * h / 2).max())


_CAPTIONS = {
    "RandomRotation": lambda p, t: f"rotate {float(p['angle']):.1f}° ccw",
    "RandomAffine": _affine,
    "RandomHorizontalFlip": lambda p, t: "flip left-right",
    "RandomVerticalFlip": lambda p, t: "flip top-bottom",
    "RandomCrop": _crop,
    "Resize": lambda p, t: f"resize to {t.size[1]}×{t.size[0]}" if t is not None else "resize",
    "RandomResizedCrop": lambda p, t: f"crop {p['width']}×{p['height']} at x={p['left']}, y={p['top']} → resize",
    "RandomPerspective": lambda p, t: f"perspective (distortion ≤ {t.distortion_scale:g})" if t else "perspective",
    "ElasticTransform": lambda p, t: f"elastic: largest shift {_elastic_shift(p['displacement']):.1f} px",
    "ColorJitter": _jitter,
    "RandomGrayscale": lambda p, t: "grayscale",
    "GaussianBlur": lambda p, t: f"blur σ={_f(p['sigma'][0] if isinstance(p['sigma'], (list, tuple)) else p['sigma'])}",
    "RandomAdjustSharpness": lambda p, t: f"sharpness ×{t.sharpness_factor:g}" if t else "sharpness",
    "RandomPosterize": lambda p, t: f"posterize {t.bits} bits" if t else "posterize",
    "RandomSolarize": lambda p, t: f"solarize ≥ {t.threshold:g}" if t else "solarize",
    "RandomEqualize": lambda p, t: "equalize",
    "RandomAutocontrast": lambda p, t: "autocontrast",
    "RandomInvert": lambda p, t: "invert",
    "GaussianNoise": lambda p, t: f"noise σ={t.sigma:g}" if t else "noise",
    "RandomErasing": _erase,
}


def corners_after(t: Any, params: dict[str, Any], height: int, width: int) -> list[list[float]] | None:
    """Where the corners (TL, TR, BR, BL) of an ``height x width`` image go under ``t`` with ``params``.

    Uses torchvision's own keypoint kernels (``t.transform(KeyPoints, params)``), so it is the math that moved
    the pixels. ``None`` for steps that do not move pixels.
    """
    name = type(t).__name__
    if name not in _GEOMETRIC:
        return None
    pts = torch.tensor([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]])
    # torchvision's keypoint flips use pixel indices (x' = W - 1 - x) while its affine / resize kernels use
    # continuous coordinates; we report everything in continuous coordinates, where a flip is x' = W - x
    if name == "RandomHorizontalFlip":
        return [[round(width - x, 2), round(y, 2)] for x, y in pts.tolist()]
    if name == "RandomVerticalFlip":
        return [[round(x, 2), round(height - y, 2)] for x, y in pts.tolist()]
    kp = tv_tensors.KeyPoints(pts, canvas_size=(height, width))
    out = t.transform(kp, params)
    return [[round(float(x), 2), round(float(y), 2)] for x, y in out.as_subclass(torch.Tensor).tolist()]


def affine_matrix(before: list[list[float]], after: list[list[float]]) -> list[list[float]] | None:
    """The 2x3 matrix ``A`` with ``A @ [x, y, 1] = [x', y']`` fitted to four corner pairs; None if not affine."""
    src = torch.tensor([[x, y, 1.0] for x, y in before], dtype=torch.float64)
    dst = torch.tensor(after, dtype=torch.float64)
    sol = torch.linalg.lstsq(src, dst).solution  # [3, 2]
    resid = (src @ sol - dst).abs().max().item()
    if resid > 1e-2 * max(1.0, float(dst.abs().max())):
        return None  # perspective: four corners do not fit one affine map
    return [[round(v, 4) for v in row] for row in sol.T.tolist()]


def geometry_record(t: Any, params: dict[str, Any], height: int, width: int) -> dict[str, Any] | None:
    """``{"corners": [...4 points...], "matrix": 2x3 or None}`` for geometric steps, else None."""
    after = corners_after(t, params, height, width)
    if after is None:
        return None
    before = [[0.0, 0.0], [float(width), 0.0], [float(width), float(height)], [0.0, float(height)]]
    name = type(t).__name__
    matrix = affine_matrix(before, after) if name in _AFFINE else None
    return {"corners": after, "matrix": matrix}
