"""A process-wide LRU of explanations, shared by every browser session: the same model, input pixels, method,
target, layer and parameters give the stored :class:`~core.explain.base.Explanation` instead of a new attribution.

    from core.explain.cache import cached_explain
    e = cached_explain(model, pil_image, "gradcam", arch="resnet18", classes=names)   # same arguments as explain()

Keys: the model *object* (weakly held: an entry dies with its model, so a model evicted from the app's model cache
frees its explanations too), a SHA-1 of the prepared input tensor (the exact pixels the network sees, so a sample
photo, an upload or a Shapes test image with the same pixels share entries), and the request's other arguments.
At most ``MAX_ENTRIES`` explanations are kept (least recently used dropped first; ~0.6 MB each at 224 px).

Gotchas: cached models must be read-only (the app's are: weights never change after loading; a run that writes
a newer checkpoint gets a new model object from the model cache, hence new keys). Results are shared objects:
treat them as read-only. Two sessions asking for the same missing entry at once both compute it (each under the
model's lock): correct, only not deduplicated.
"""
from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from typing import Any, Sequence

import torch
from PIL import Image
from torch import nn

import core.explain as ce  # ce.explain is looked up per call: one seam to count or replace attributions
from core.explain import prepare_input
from core.explain.base import Explanation
from core.models import get_spec

__all__ = ["cached_explain", "input_digest", "clear", "stats", "MAX_ENTRIES"]

MAX_ENTRIES = 64
_LOCK = threading.Lock()
_ENTRIES: "OrderedDict[tuple, Explanation]" = OrderedDict()
_MODEL_IDS: "weakref.WeakKeyDictionary[nn.Module, int]" = weakref.WeakKeyDictionary()
_COUNTER = [0]
_STATS = {"hits": 0, "misses": 0}


def input_digest(x: torch.Tensor) -> str:
    """SHA-1 of a prepared input ``[1, 3, S, S]`` (its shape, dtype and bytes)."""
    t = x.detach().cpu().contiguous()
    h = hashlib.sha1(f"{tuple(t.shape)}{t.dtype}".encode())
    h.update(t.numpy().tobytes())
    return h.hexdigest()


def _model_key(model: nn.Module) -> int:
    """A number unique to the model object for the process's lifetime (``id()`` is reused after garbage collection)."""
    with _LOCK:
        key = _MODEL_IDS.get(model)
        if key is None:
            _COUNTER[0] += 1
            key = _MODEL_IDS[model] = _COUNTER[0]
            weakref.finalize(model, _forget, key)
        return key


def _forget(model_key: int) -> None:
    with _LOCK:
        for k in [k for k in _ENTRIES if k[0] == model_key]:
            _ENTRIES.pop(k, None)


def cached_explain(model: nn.Module, image: Image.Image | torch.Tensor, method: str = "gradcam", *,
                   target: int | str | None = None, layer: str | None = None, params: dict | None = None,
                   classes: Sequence[str] | None = None, image_size: int | None = None, arch: str | None = None,
                   topk: int = 5) -> Explanation:
    """:func:`core.explain.explain` through the shared LRU (same arguments, same result, same errors)."""
    size = image_size
    if size is None and arch is not None:
        size = get_spec(arch).input_size
    # the key is the pixels the network sees: resize a PIL image first (cheap next to any attribution)
    x = prepare_input(image, int(size or 224)) if isinstance(image, Image.Image) else prepare_input(image, 1)
    key = (_model_key(model), input_digest(x), str(method), repr(target), layer,
           json.dumps(params or {}, sort_keys=True, default=str), tuple(classes) if classes is not None else None,
           int(x.shape[-1]), arch, int(topk))
    with _LOCK:
        hit = _ENTRIES.get(key)
        if hit is not None:
            _ENTRIES.move_to_end(key)
            _STATS["hits"] += 1
            return hit
        _STATS["misses"] += 1
    e = ce.explain(model, image, method, target=target, layer=layer, params=params, classes=classes,
                   image_size=image_size, arch=arch, topk=topk)
    with _LOCK:
        _ENTRIES[key] = e
        _ENTRIES.move_to_end(key)
        while len(_ENTRIES) > MAX_ENTRIES:
            _ENTRIES.popitem(last=False)
    return e


def clear() -> None:
    with _LOCK:
        _ENTRIES.clear()
        _STATS.update(hits=0, misses=0)


def stats() -> dict[str, Any]:
    with _LOCK:
        return {"entries": len(_ENTRIES), **_STATS}
