"""The effective receptive field: where a unit's gradient really goes, measured.

Luo, Li, Urtasun, Zemel, "Understanding the Effective Receptive Field in Deep Convolutional Neural Networks",
NeurIPS 2016 (https://arxiv.org/abs/1701.04128): ``|∂ y_centre / ∂ x|`` averaged over several inputs. It is
roughly Gaussian and much smaller than the theoretical box of :mod:`core.receptive_field.analytic`.

Shapes: inputs ``[N, 3, H, W]`` (``H, W`` = the field table's input size); the result's ``grad`` is ``[H, W]``,
summed over colour channels, averaged over the ``N`` inputs and normalised to sum 1.

Gotcha: the model may be the one every session shares, so the forward runs under its lock
(:func:`core.models.shared.exclusive`) and the gradient is taken w.r.t. the input only
(``torch.autograd.grad``): its parameters never get a ``.grad``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from core.models.activations import resolve_layer
from core.models.shared import exclusive
from core.models.summary import forward_hooks
from core.receptive_field.analytic import FieldTable, ReceptiveFieldError, UnitField, unit_field

__all__ = ["ERF", "effective_receptive_field", "pixels_holding"]


@dataclass(frozen=True)
class ERF:
    """Effective receptive field of the centre unit of ``layer`` (Luo et al. 2016).

    ``grad`` is ``[H, W]``: ``|∂ Σ_c y[c, i, j] / ∂ x|`` summed over colour channels and averaged over
    ``n_inputs`` inputs, normalised to sum 1. ``mass_share``: the share of the theoretical field's (clipped)
    area that holds ``mass`` of the gradient — small means the unit effectively looks at a small core.
    """

    layer: str
    unit: tuple[int, int]
    grad: torch.Tensor
    theoretical: UnitField
    mass: float
    mass_pixels: int
    n_inputs: int

    @property
    def mass_share(self) -> float:
        return self.mass_pixels / max(1, self.theoretical.clipped_area)

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "unit": list(self.unit), "mass": self.mass, "mass_pixels": self.mass_pixels,
                "mass_share": self.mass_share, "n_inputs": self.n_inputs, "theoretical": self.theoretical.to_dict()}


class _Stop(Exception):
    pass


def pixels_holding(grad: torch.Tensor, mass: float = 0.95) -> int:
    """Fewest pixels of ``grad`` (non-negative) whose sum reaches ``mass`` of the total."""
    v = grad.flatten().double().sort(descending=True).values
    total = float(v.sum())
    if total <= 0:
        return 0
    target = mass * total * (1 - 1e-9)  # rounding must not push an exact hit to the next pixel
    return int(torch.searchsorted(v.cumsum(0), torch.tensor([target], dtype=v.dtype)).item()) + 1


def effective_receptive_field(model: nn.Module, layer: str, table: FieldTable, *, inputs: torch.Tensor | None = None,
                              n_inputs: int = 8, seed: int = 0, mass: float = 0.95) -> ERF:
    """ERF of the centre unit of ``layer`` at ``table``'s input size.

    ``inputs``: ``[N, 3, H, W]`` normalised images; default ``n_inputs`` standard-normal images drawn with
    ``seed`` (the noise inputs of Luo et al.). Runs under the model's lock in eval mode and stops the forward
    at ``layer``. Gotcha: gradients are taken with ``torch.autograd.grad`` w.r.t. the input only, so a shared
    model's parameters never get a ``.grad``.
    """
    row = table.get(layer)
    module = resolve_layer(model, layer)
    H, W = table.input_size
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    if inputs is None:
        g = torch.Generator().manual_seed(seed)
        inputs = torch.randn(n_inputs, 3, H, W, generator=g)
    if tuple(inputs.shape[-2:]) != (H, W):
        raise ReceptiveFieldError(f"inputs are {tuple(inputs.shape[-2:])}, the field table is for {(H, W)}")
    x = inputs.to(device=device, dtype=torch.float32).clone().requires_grad_(True)
    captured: dict[str, torch.Tensor] = {}

    def make_hook(name: str):
        def hook(mod, args, output):
            captured["y"] = output[0] if isinstance(output, (tuple, list)) else output
            raise _Stop

        return hook

    with exclusive(model), torch.enable_grad():
        with forward_hooks([(layer, module)], make_hook):
            try:
                model(x)
            except _Stop:
                pass
        if "y" not in captured:
            raise ReceptiveFieldError(f"layer {layer!r} did not run in this forward")
        y = captured["y"]
        i, j = y.shape[-2] // 2, y.shape[-1] // 2
        (grad,) = torch.autograd.grad(y[:, :, i, j].sum(), x)
    erf = grad.detach().abs().sum(1).mean(0).double().cpu()
    total = float(erf.sum())
    if total > 0:
        erf = erf / total
    theo = unit_field(row, i, j, (H, W))
    return ERF(layer=layer, unit=(int(i), int(j)), grad=erf.float(), theoretical=theo, mass=mass,
               mass_pixels=pixels_holding(erf, mass), n_inputs=int(x.shape[0]))
