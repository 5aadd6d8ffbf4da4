"""Model cards: every number comes from its source of truth, none is typed by hand.

- Parameters and FLOPs: counted / measured from the built model (:mod:`core.models.summary`).
- ImageNet acc@1 / acc@5, file size, categories: torchvision's weights enum ``meta`` (offline, shipped
  with torchvision). timm's ``pretrained_cfg`` has no accuracy, so those are ``None``; its categories
  come from timm's own ImageNet info.

Computed facts are cached in memory (``lru_cache``): a card costs one meta-device forward the first time.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from core.models.registry import ARCHITECTURES, get_spec
from core.models.summary import default_summary, min_input_size
from core.models.weights import tv_weights, weights_status

__all__ = ["weights_meta", "categories", "arch_facts", "model_card", "zoo", "signature_block"]


@lru_cache(maxsize=None)
def categories(name: str) -> tuple[str, ...] | None:
    """Class names of the pretrained weights (ImageNet-1k), or None for architectures without weights."""
    spec = get_spec(name)
    if not spec.has_pretrained:
        return None
    if spec.source == "torchvision":
        return tuple(tv_weights(spec).meta["categories"])
    from timm.data import ImageNetInfo

    info = ImageNetInfo("imagenet-1k")
    # timm's descriptions read "tench, Tinca tinca"; keep the common name like torchvision does.
    return tuple(info.index_to_description(i).split(",")[0].strip() for i in range(info.num_classes()))


def weights_meta(name: str) -> dict[str, Any]:
    """What the pretrained weights' metadata says (values ``None`` where the source has no such field)."""
    spec = get_spec(name)
    out: dict[str, Any] = {
        "weights": None, "acc1": None, "acc5": None, "file_size_mb": None, "num_params_meta": None,
        "gmacs_meta": None, "recipe": None, "num_categories": None,
    }
    if not spec.has_pretrained:
        return out
    cats = categories(spec.name)
    out["num_categories"] = len(cats) if cats else None
    if spec.source == "torchvision":
        w = tv_weights(spec)
        meta = w.meta
        metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
        out.update(
            weights=f"{type(w).__name__}.{w.name}",
            acc1=metrics.get("acc@1"),
            acc5=metrics.get("acc@5"),
            file_size_mb=meta.get("_file_size"),
            num_params_meta=meta.get("num_params"),
            gmacs_meta=meta.get("_ops"),  # torchvision calls it GFLOPS; it is multiply-adds (see summary.py)
            recipe=meta.get("recipe"),
        )
    else:
        import timm.models

        cfg = timm.models.get_pretrained_cfg(spec.timm_pretrained_name)
        out.update(weights=spec.timm_pretrained_name, recipe=cfg.origin_url or None)
    return out


@lru_cache(maxsize=None)
def arch_facts(name: str) -> dict[str, Any]:
    """Counted at the default input size: params (all), inference_params (without auxiliary heads),
    GFLOPs (FlopCounterMode, 2 per multiply-add) and GMACs."""
    s = default_summary(get_spec(name).name)
    return {
        "params": s.total_params,
        "inference_params": s.inference_params,
        "gflops": round(s.gflops, 4),
        "gmacs": round(s.gmacs, 4),
        "flops_input_size": s.input_size,
    }


def model_card(name: str) -> dict[str, Any]:
    """Everything the page and ``models --json`` show about one architecture (JSON-friendly)."""
    spec = get_spec(name)
    meta = weights_meta(spec.name)
    card = {
        "name": spec.name,
        "title": spec.title,
        "family": spec.family,
        "year": spec.year,
        "paper": spec.paper,
        "idea": spec.idea,
        "source": spec.source,
        "input_size": spec.input_size,
        "min_input_size": min_input_size(spec.name),
        "default_cam_layer": spec.default_cam_layer,
        "aux_logits": spec.aux_logits,
        "num_classes": spec.default_num_classes,
        "pretrained": spec.has_pretrained,
        "weights_status": weights_status(spec.name),
        "signature": spec.signature,
        "notes": spec.notes,
        **arch_facts(spec.name),
        **{k: meta[k] for k in ("weights", "acc1", "acc5", "file_size_mb", "num_categories")},
    }
    return card


def zoo() -> list[dict[str, Any]]:
    """:func:`model_card` for every architecture, ordered by year."""
    return [model_card(n) for n in ARCHITECTURES]


@lru_cache(maxsize=None)
def signature_block(name: str) -> dict[str, str]:
    """The architecture's characteristic block: its module printed (as PyTorch prints it) and why it matters.

    Printed from a shapes-only (meta) build, so it costs no memory and needs no weights.
    """
    from core.models.registry import get_module
    from core.models.summary import _meta_model

    spec = get_spec(name)
    module = get_module(_meta_model(spec.name), spec.signature)
    n_params = sum(p.numel() for p in module.parameters())
    return {
        "path": spec.signature,
        "title": spec.signature_title,
        "code": str(module),
        "note": spec.signature_note,
        "params": n_params,
    }
