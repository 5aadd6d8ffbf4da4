"""Augmentation lab: a registry of ``torchvision.transforms.v2`` augmentations, pipelines that report what they
drew, CutMix / MixUp with λ and soft labels, a RandAugment explorer, and export to JSON / Python.

Public API (the training engine codes against the first five)::

    from core.augment import build_transform, build_batch_mixer, PRESETS, validate_spec, AugmentError

- ``build_transform(spec | preset name | None)`` -> picklable callable on uint8 ``[3, H, W]`` (or PIL), same
  kind and size out (image-level steps only).
- ``build_batch_mixer(spec, num_classes)`` -> None or ``mixer(images float [B,3,H,W], labels int [B])``
  -> ``(images, soft labels float [B, K])``.
- ``AUGMENT_PRESETS`` (presets.py: name -> :class:`AugmentPreset`, spec + description; ``PRESETS`` and
  ``PRESET_DESCRIPTIONS`` are views of it, ``preset_spec(name)`` a fresh copy), ``REGISTRY`` (name ->
  :class:`AugSpec`), ``preview_grid``, ``mix_preview``, ``to_json`` / ``from_json`` / ``to_python``,
  ``parse_timm`` / ``to_timm``, ``ops_at_magnitude``.
"""
from core.augment.errors import AugmentError
from core.augment.export import from_json, load_spec_arg, to_json, to_python
from core.augment.mixing import BatchMixer, MixPreview, MixRecord, build_batch_mixer, mix_preview
from core.augment.pipeline import (
    Pipeline,
    PrefixCache,
    StepRecord,
    Tile,
    build_transform,
    preview_grid,
    resolve_spec,
    seeded,
    validate_spec,
)
from core.augment.prepare import prepare_images
from core.augment.presets import AUGMENT_PRESETS, PRESET_DESCRIPTIONS, PRESETS, AugmentPreset, preset_spec
from core.augment.randaugment import TimmRandAugment, ops_at_magnitude, parse_timm, to_timm
from core.augment.specs import GROUP_TITLES, GROUPS, REGISTRY, AugSpec, Param, get_spec, image_specs, mixing_specs

__all__ = [
    "AUGMENT_PRESETS", "AugmentError", "AugmentPreset", "AugSpec", "BatchMixer", "GROUPS", "GROUP_TITLES", "MixPreview", "MixRecord", "PRESETS",
    "PRESET_DESCRIPTIONS", "Param", "Pipeline", "PrefixCache", "REGISTRY", "StepRecord", "Tile", "TimmRandAugment",
    "build_batch_mixer", "build_transform", "from_json", "get_spec", "image_specs", "load_spec_arg",
    "mix_preview", "mixing_specs", "ops_at_magnitude", "parse_timm", "prepare_images", "preset_spec", "preview_grid",
    "resolve_spec", "seeded", "to_json", "to_python", "to_timm", "validate_spec",
]
