"""Integrated Gradients (Sundararajan et al. 2017, https://arxiv.org/abs/1703.01365) via Captum.

``IG_i = (x_i − b_i) ∫₀¹ ∂y_c/∂x_i (b + α (x − b)) dα``, approximated with ``steps`` Gauss-Legendre points and
run ``internal_batch_size`` points at a time (bounded memory). Completeness says ``Σ_i IG_i = y_c(x) − y_c(b)``;
the convergence delta is the error of that sum. Map: ``Σ_c |IG|`` over colours; ``signed`` keeps the sign.

Baselines: ``black`` = black pixels (``(0 − mean)/std``; the normalised zero would be ImageNet grey),
``blurred`` = the image under a Gaussian blur (σ = S/20), ``noise`` = uniform random pixels (seeded).
Default ``steps=64``, and ``adaptive`` doubles the steps (up to ``max_steps``) until
``|δ| < 5 % of |y_c(x) − y_c(b)|``; the note states the reached ratio.
Gotcha: BatchNorm in train mode would mix the steps of one batch; the model runs in eval mode (the lock does it).
"""
from __future__ import annotations

import torch
from captum.attr import IntegratedGradients
from torchvision.transforms.v2.functional import gaussian_blur

from core.explain.base import Context, ExplainError, black_baseline
from core.models.shared import IMAGENET_MEAN, IMAGENET_STD

DEFAULTS = {"baseline": "black", "steps": 64, "internal_batch_size": 16, "adaptive": True, "max_steps": 512,
            "tolerance": 0.05, "seed": 0}
BASELINES = ("black", "blurred", "noise")
CHOICES = {"baseline": BASELINES}  # parameters with a fixed set of values (the page shows a select box)


def make_baseline(x: torch.Tensor, kind: str, seed: int = 0) -> torch.Tensor:
    """Baseline ``[1, 3, S, S]`` in the model's normalised space."""
    black = black_baseline(x)
    if kind == "black":
        return black
    if kind == "blurred":
        sigma = max(1.0, x.shape[-1] / 20)
        k = int(2 * round(3 * sigma) + 1)
        return gaussian_blur(x.detach(), kernel_size=[k, k], sigma=[sigma, sigma])
    if kind == "noise":
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        u = torch.rand(x.shape, generator=g).to(x.device)  # pixels in [0, 1]
        mean, std = _mean_std(x)
        return (u - mean) / std
    raise ExplainError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")


def _mean_std(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return mean, std


def compute(ctx: Context) -> dict:
    p = ctx.params
    steps, ibs, max_steps, tol = int(p["steps"]), int(p["internal_batch_size"]), int(p["max_steps"]), float(p["tolerance"])
    if not 2 <= steps <= 4096 or ibs < 1:
        raise ExplainError("Integrated Gradients needs 2 ≤ steps ≤ 4096 and internal_batch_size ≥ 1")
    base = make_baseline(ctx.x, str(p["baseline"]), int(p["seed"]))
    with torch.no_grad():
        gap = float(ctx.forward(ctx.x)[0, ctx.target] - ctx.forward(base)[0, ctx.target])
    ig = IntegratedGradients(ctx.forward)
    if abs(gap) < 1e-6:  # the baseline scores like the image: there is nothing to distribute
        attr = torch.zeros_like(ctx.x)
        return {"native": attr[0].sum(0), "signed": attr[0].sum(0), "delta": 0.0, "params": {"steps": 0},
                "notes": [f"no signal: f(x) − f(baseline) = {gap:.2g}, the baseline already scores like the image"]}
    while True:
        attr, delta = ig.attribute(ctx.x, baselines=base, target=ctx.target, n_steps=steps,
                                   internal_batch_size=ibs, return_convergence_delta=True)
        delta = float(delta.abs().max())
        ratio = delta / abs(gap)
        if not p["adaptive"] or ratio < tol or steps * 2 > max_steps:
            break
        steps *= 2
    a = attr.detach()[0]
    note = f"convergence |δ| = {delta:.3g} = {100 * ratio:.1f} % of |f(x) − f(baseline)| = {abs(gap):.3g} with {steps} steps"
    if ratio >= tol:
        note += f" (above the {100 * tol:.0f} % target: raise max_steps)"
    return {"native": a.abs().sum(0), "signed": a.sum(0), "delta": delta, "notes": [note],
            "params": {"steps": steps}}
