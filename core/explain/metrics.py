"""Is the map faithful? Three measurements instead of a pretty picture.

- **Deletion / insertion** (Petsiuk et al. 2018, RISE, https://arxiv.org/abs/1806.07421): remove pixels in
  the map's order (most important first) and watch the class probability fall — a faithful map makes it fall
  fast (small deletion area); insert them into a blurred copy and watch it rise (large insertion area).
  Curves: ``steps + 1`` points at fractions ``0, 1/steps, …, 1``; areas by the trapezoid rule.
- **Pointing game** (Zhang et al. 2016, https://arxiv.org/abs/1608.00507) on Shapes, whose true masks we drew:
  the share of images whose map maximum lies inside the shape, next to the share a uniformly random point gets
  (the mean mask coverage). Ties at the maximum (a plateau after upsampling, a blank map) count as the share of
  tied pixels inside the mask — what a random tie-break scores on average, so a blank map scores like chance.
- **Sanity check** (Adebayo et al. 2018, https://arxiv.org/abs/1810.03292): randomise the weights stage by stage
  from the top (a deep copy: the shared model is never touched) and measure how much the map changes (Spearman
  rank correlation with the original map). A method whose map survives randomisation explains the image, not
  the model.

Gotcha: all three depend on the *layer* as much as on the method: at 64 px ResNet-18's ``layer4`` map is 2 × 2,
and its upsampled arg-max sits near a corner whatever the network learned.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from core.data.shapes import ShapesDataset
from core.explain import explain
from core.explain.base import ExplainError, LogitsModel, black_baseline
from core.models import get_spec
from core.models.registry import get_module
from core.models.shared import IMAGENET_MEAN, IMAGENET_STD, exclusive

__all__ = ["deletion_insertion", "pointing_game", "point_hit", "sanity_check", "spearman", "shapes_test_set",
           "PointingResult"]


def _blurred(x: torch.Tensor) -> torch.Tensor:
    # captum (~0.4 s) here: core.explain.ig imports it, and the registry loads a method's module only when it runs
    from core.explain.ig import make_baseline

    return make_baseline(x, "blurred")


def deletion_insertion(model: nn.Module, x: torch.Tensor, saliency: np.ndarray, target: int, *, steps: int = 20,
                       batch_size: int = 21) -> dict[str, Any]:
    """Deletion (to black pixels) and insertion (into a blurred copy) curves of ``target``'s probability.

    ``x``: ``[1, 3, S, S]`` normalised; ``saliency``: ``[S, S]``. Ties in the map are broken by pixel index
    (a stable sort), so a blank map deletes row by row from the top."""
    s = x.shape[-1]
    if saliency.shape != (s, s):
        raise ExplainError(f"the map is {saliency.shape}, the image {s}×{s}")
    order = torch.from_numpy(np.argsort(-saliency.ravel(), kind="stable").copy())
    counts = [round(i * s * s / steps) for i in range(steps + 1)]
    black, blur = black_baseline(x), _blurred(x)
    dev = x.device
    order = order.to(dev)

    def curve(start: torch.Tensor, end: torch.Tensor) -> list[float]:
        imgs = []
        for c in counts:
            keep = torch.zeros(s * s, dtype=torch.bool, device=dev)
            keep[order[:c]] = True
            m = keep.view(1, 1, s, s)
            imgs.append(torch.where(m, end, start))
        out = []
        with torch.no_grad():
            for i in range(0, len(imgs), batch_size):
                logits = forward(torch.cat(imgs[i:i + batch_size]))
                out += torch.softmax(logits.float(), 1)[:, target].cpu().tolist()
        return out

    with exclusive(model):
        forward = LogitsModel(model)
        deletion = curve(x, black)  # pixels switch from the image to black, most important first
        insertion = curve(blur, x)  # pixels switch from the blurred copy to the image
    fr = [c / (s * s) for c in counts]
    return {"fractions": fr, "deletion": deletion, "insertion": insertion,
            "deletion_auc": float(np.trapezoid(deletion, fr)), "insertion_auc": float(np.trapezoid(insertion, fr))}


def point_hit(saliency: np.ndarray, mask: np.ndarray, rtol: float = 1e-6) -> float:
    """Share of the map's maximal pixels that lie in ``mask`` (1.0 / 0.0 for a unique maximum)."""
    top = float(saliency.max())
    ties = saliency >= top - rtol * max(abs(top), 1e-30)
    return float(mask[ties].mean())


@dataclass
class PointingResult:
    hit_rate: float
    random_hit_rate: float
    n: int
    layer: str | None
    method: str
    no_signal: int  # maps with no signal (scored as the tie share, i.e. like chance)
    hits: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"hit_rate": self.hit_rate, "random_hit_rate": self.random_hit_rate, "n": self.n, "layer": self.layer,
                "method": self.method, "no_signal": self.no_signal}


def shapes_test_set(image_size: int, dataset_options: dict | None = None):
    """The Shapes test split a run was evaluated on (same size, seed and n), with masks."""
    opts = {k: v for k, v in (dataset_options or {}).items() if k in ("n", "seed", "n_eval")}
    return ShapesDataset("test", image_size=image_size, **opts)


def normalise_uint8(images: torch.Tensor) -> torch.Tensor:
    """``uint8 [N, 3, S, S]`` -> normalised float, as the training loop feeds the network."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


def pointing_game(model: nn.Module, dataset, method: str = "gradcam", *, n: int = 200, layer: str | None = None,
                  arch: str | None = None, params: dict | None = None, target: str = "true") -> PointingResult:
    """Pointing game over the first ``n`` items of a Shapes split (``dataset.mask(i)``), explaining the true
    class (``target="true"``) or the predicted one (``"predicted"``)."""
    if n < 1:
        raise ExplainError("the pointing game needs n ≥ 1 images")
    n = min(int(n), len(dataset))
    hits, chance, blank, used_layer = [], [], 0, None
    for i in range(n):
        img, label = dataset[i]
        x = normalise_uint8(img[None])
        e = explain(model, x, method, target=int(label) if target == "true" else None, layer=layer, arch=arch,
                    params=params)
        used_layer = e.layer
        mask = dataset.mask(i)
        blank += 0 if e.has_signal else 1
        hits.append(point_hit(e.map, mask))
        chance.append(float(mask.mean()))
    return PointingResult(hit_rate=float(np.mean(hits)), random_hit_rate=float(np.mean(chance)), n=n,
                          layer=used_layer, method=method, no_signal=blank, hits=hits)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (NaN when one is constant)."""
    from scipy.stats import spearmanr  # heavy (~1 s): scipy.stats, only for the sanity check's rank correlation

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def _randomise(module: nn.Module, g: torch.Generator) -> None:
    """New random parameters (Kaiming-uniform-like for weights, small uniform for biases, norms near 1)."""
    with torch.no_grad():
        for m in module.modules():
            for name, p in m.named_parameters(recurse=False):
                if p.ndim > 1:
                    fan_in = p[0].numel()
                    bound = math.sqrt(6.0 / fan_in)
                    p.copy_(torch.rand(p.shape, generator=g) * 2 * bound - bound)
                elif isinstance(m, (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)) and name == "weight":
                    p.copy_(torch.rand(p.shape, generator=g) + 0.5)
                else:
                    p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * 0.1)


def sanity_check(model: nn.Module, x: torch.Tensor, method: str = "gradcam", *, target: int | None = None,
                 layer: str | None = None, arch: str | None = None, stages: Sequence[tuple[str, Sequence[str]]] | None = None,
                 params: dict | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Cascading randomisation: ``[{"stage": "original"|name, "spearman": ρ, "map": [S, S]}, …]``, top stage first.

    ``stages``: ``(name, module paths)`` input → output (default: the architecture's ``stages``, else the
    model's top-level children). Each step randomises one more stage of a deep copy and explains again."""
    if stages is None:
        if arch is not None:
            stages = get_spec(arch).stages
        else:
            stages = [(n, (n,)) for n, c in model.named_children() if any(True for _ in c.parameters())]
    with exclusive(model):
        clone = copy.deepcopy(model).eval()
    base = explain(model, x, method, target=target, layer=layer, arch=arch, params=params)
    out = [{"stage": "original", "spearman": 1.0, "map": base.map}]
    g = torch.Generator().manual_seed(int(seed))
    for name, paths in reversed(list(stages)):
        for path in paths:
            _randomise(get_module(clone, path), g)
        e = explain(clone, x, method, target=base.target, layer=base.layer, arch=arch, params=params)
        out.append({"stage": name, "spearman": spearman(base.map, e.map), "map": e.map})
    return out
