"""Feature maps of one layer for one image: the channels that respond most, with their statistics.

A convolution layer's output ``[C, h, w]`` is C images, one per learned filter; unit ``(i, j)`` of each looks
at the receptive field of that layer (:mod:`core.receptive_field`). Showing all C (2048 for ResNet-50's
``layer4``) is noise, so channels are ranked by their **mean activation** over the map and the top k are kept
(Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014,
https://arxiv.org/abs/1311.2901, show the strongest activations the same way).

Gotcha: after a ReLU most channels of an untrained network are half zeros; ``active`` (the share of positive
units) tells a dead channel from a quiet one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from core.errors import InputError
from core.models.activations import capture_activations

__all__ = ["ChannelMap", "FeatureMaps", "top_channels"]

MAX_K = 64


@dataclass(frozen=True)
class ChannelMap:
    channel: int  # index in the layer's output
    map: torch.Tensor  # [h, w] float
    mean: float
    max: float
    min: float
    active: float  # share of units > 0

    def stats(self) -> dict[str, Any]:
        return {"channel": self.channel, "mean": self.mean, "max": self.max, "min": self.min, "active": self.active}


@dataclass(frozen=True)
class FeatureMaps:
    """The top-k channels of ``layer`` (highest mean first) for one image."""

    layer: str
    shape: tuple[int, int, int]  # (C, h, w) of the whole layer output
    channels: tuple[ChannelMap, ...]

    @property
    def vmin(self) -> float:
        return min(c.min for c in self.channels)

    @property
    def vmax(self) -> float:
        return max(c.max for c in self.channels)

    def table(self) -> list[dict[str, Any]]:
        return [c.stats() for c in self.channels]


def top_channels(model: nn.Module, x: torch.Tensor, layer: str, k: int = 16) -> FeatureMaps:
    """The ``k`` channels of ``layer``'s output with the highest mean activation for image ``x`` ``[1, 3, H, W]``.

    One forward under the model's lock (:func:`core.models.activations.capture_activations`); the layer must
    produce a ``[1, C, h, w]`` map.
    """
    if not 1 <= int(k) <= MAX_K:
        raise InputError(f"number of channels must be between 1 and {MAX_K}, got {k}")
    if x.dim() != 4 or x.shape[0] != 1:
        raise InputError(f"expected one image [1, 3, H, W], got {tuple(x.shape)}")
    maps, _ = capture_activations(model, x, [layer])
    y = maps[layer]
    if y.dim() != 4:
        raise InputError(f"layer {layer!r} gives a {tuple(y.shape)} tensor, not a feature map")
    y = y[0]
    means = y.mean(dim=(1, 2))
    top = torch.topk(means, min(int(k), y.shape[0])).indices.tolist()
    channels = tuple(
        ChannelMap(channel=c, map=y[c].clone(), mean=float(means[c]), max=float(y[c].max()), min=float(y[c].min()),
                   active=float((y[c] > 0).float().mean()))
        for c in top
    )
    return FeatureMaps(layer=layer, shape=tuple(int(s) for s in y.shape), channels=channels)
