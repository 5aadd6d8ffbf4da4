"""Classify one image: top-k classes with probabilities, and how long the forward took on this device.

``predict(model, image, arch=..., weights=...)`` works on a model you already hold (e.g. cached by the
page with ``st.cache_resource``); it never changes the model (no mode switch, no device move, no hooks).
:func:`classify` builds the model first (the CLI uses it).

Untrained weights: the output is still a probability distribution, but over random features — the
result carries ``trained=False`` and a ``note`` explaining why it means nothing, so the UI can say so
instead of showing noise.
"""
from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from PIL import Image
from torch import nn

from core.errors import InputError
from core.models.build import build, weights_label
from core.models.card import categories as pretrained_categories
from core.models.preprocessing import preprocess
from core.models.registry import get_spec
from core.models.shared import exclusive
from core.models.weights import read_state_dict

__all__ = ["Prediction", "predict", "classify", "class_names", "UNTRAINED_NOTE"]

UNTRAINED_NOTE = (
    "These weights are random: the network has never seen a labelled image, so its scores reflect only "
    "its random initialisation. Whatever class it ranks first is meaningless. Download the pretrained "
    "weights (or train the model) to get real predictions."
)


@dataclass
class Prediction:
    arch: str
    weights: str  # "none" | "default" | "file:<name>"
    trained: bool
    topk: list[dict[str, Any]]  # [{"index": int, "label": str, "prob": float}, ...] best first
    latency_ms: float  # forward pass only (median over runs), synchronised on GPUs
    preprocess_ms: float
    device: str
    input_shape: tuple[int, ...]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def class_names(name: str, weights: str | os.PathLike | None, num_classes: int) -> list[str]:
    """Names of the output units: ImageNet categories for pretrained weights, a ``classes`` list stored in a
    safetensors file's metadata (JSON), else ``class 0``, ``class 1``, …"""
    names: list[str] | None = None
    if weights == "default":
        cats = pretrained_categories(get_spec(name).name)
        names = list(cats) if cats else None
    elif weights not in (None, "none"):
        try:
            _, meta = read_state_dict(weights)
            raw = json.loads(meta.get("classes", "null"))
            if isinstance(raw, list) and all(isinstance(c, str) for c in raw):
                names = raw
        except (ValueError, TypeError):
            names = None
    if names is None or len(names) != num_classes:
        names = [f"class {i}" for i in range(num_classes)]
    return names


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def predict(
    model: nn.Module,
    image: Image.Image,
    *,
    arch: str,
    weights: str | os.PathLike | None = "none",
    topk: int = 5,
    runs: int = 1,
    labels: list[str] | None = None,
) -> Prediction:
    """Top-``topk`` classes of ``image`` (an RGB PIL image, e.g. from ``core.images.load_image``).

    ``runs`` > 1 repeats the forward and reports the median latency (the first call on a fresh model
    includes one-time set-up costs).
    """
    spec = get_spec(arch)
    if not isinstance(image, Image.Image):
        raise InputError("predict() needs a PIL image; load files with core.images.load_image")
    if not 1 <= int(topk) <= 1000:
        raise InputError(f"topk must be between 1 and 1000, got {topk}")
    runs = max(1, int(runs))
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")

    t0 = time.perf_counter()
    x = preprocess(spec.name, weights if weights == "default" else "none")(image.convert("RGB")).unsqueeze(0)
    x = x.to(device)
    pre_ms = (time.perf_counter() - t0) * 1e3

    times = []
    with exclusive(model), torch.inference_mode():
        for _ in range(runs):
            _sync(device)
            t = time.perf_counter()
            logits = model(x)
            _sync(device)
            times.append((time.perf_counter() - t) * 1e3)
    if not isinstance(logits, torch.Tensor):  # a model left in train() mode returns aux outputs
        logits = logits[0]
    probs = torch.softmax(logits.float(), dim=1)[0].cpu()
    k = min(int(topk), probs.numel())
    values, indices = probs.topk(k)
    names = labels or class_names(spec.name, weights, probs.numel())
    trained = weights not in (None, "none")
    return Prediction(
        arch=spec.name,
        weights=weights_label(weights),
        trained=trained,
        topk=[{"index": int(i), "label": names[int(i)], "prob": float(v)} for v, i in zip(values, indices)],
        latency_ms=statistics.median(times),
        preprocess_ms=pre_ms,
        device=str(device),
        input_shape=tuple(x.shape),
        note="" if trained else UNTRAINED_NOTE,
    )


def classify(
    name: str,
    image: Image.Image,
    weights: str | os.PathLike | None = "none",
    topk: int = 5,
    *,
    device: str | torch.device | None = None,
    runs: int = 1,
) -> Prediction:
    """Build ``name`` with ``weights`` (see :func:`core.models.build`) and :func:`predict` ``image``."""
    model = build(name, weights=weights, device=device)
    return predict(model, image, arch=name, weights=weights, topk=topk, runs=runs)
