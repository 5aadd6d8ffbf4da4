"""Augmentation presets: named pipeline specs the Train page, the Augmentation lab and the CLI offer by name.

One :class:`AugmentPreset` per entry in :data:`AUGMENT_PRESETS` holds the steps, the batch-level mixing and the
sentence that describes it (as ``core.train.config.Preset`` does for training settings). Adding a preset is one
entry here; the pages, ``--augment NAME`` and the training engine pick it up.

Shape of a preset's spec (what :attr:`AugmentPreset.spec` returns and :data:`PRESETS` holds, unvalidated)::

    {"version": 1, "steps": [{"name": "random_resized_crop", "params": {"scale": [0.6, 1.0]}},
                             {"name": "hflip", "p": 0.5, "params": {}}],
     "mixing": None}

Steps omit what the registry defaults (``p`` = 1, unnamed params): ``core.augment.pipeline.resolve_spec`` fills
them in and checks the result. Gotcha: the entries share their step dicts (``flip-crop`` is reused by three
presets), so :func:`preset_spec` hands out a deep copy; never edit ``PRESETS[name]`` in place.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from core.augment.errors import AugmentError

__all__ = ["AUGMENT_PRESETS", "AugmentPreset", "PRESETS", "PRESET_DESCRIPTIONS", "preset_spec"]


def _step(name: str, p: float | None = None, **params: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"name": name, "params": params}
    if p is not None:
        s["p"] = p
    return s


@dataclass(frozen=True)
class AugmentPreset:
    """A named augmentation pipeline: one entry holds its spec and the sentence that describes it (as
    ``core.train.config.Preset`` does for training settings). Adding a preset is one entry in ``AUGMENT_PRESETS``."""

    description: str
    steps: list[dict[str, Any]]
    mixing: dict[str, Any] | None = None

    @property
    def spec(self) -> dict[str, Any]:
        return {"version": 1, "steps": self.steps, "mixing": self.mixing}


_FLIP_CROP = [_step("random_resized_crop", scale=[0.6, 1.0]), _step("hflip", p=0.5)]
_RANDAUGMENT = _step("randaugment", num_ops=2, magnitude=9)
AUGMENT_PRESETS: dict[str, AugmentPreset] = {
    "none": AugmentPreset("No augmentation: the network sees the same pixels every epoch.", []),
    "flip-crop": AugmentPreset(
        "Random resized crop (area 60-100 %) + horizontal flip: the cheap default for photos.", _FLIP_CROP),
    "pad-crop-flip": AugmentPreset("Pad 4 px, crop back, flip: the classic CIFAR recipe for small images.",
                                   [_step("crop", padding=4), _step("hflip", p=0.5)]),
    "randaugment": AugmentPreset("flip-crop + RandAugment(N=2, M=9).", [*_FLIP_CROP, _RANDAUGMENT]),
    "trivialaugment": AugmentPreset("flip-crop + TrivialAugmentWide (no settings).",
                                    [*_FLIP_CROP, _step("trivialaugment")]),
    "randaugment-cutmix": AugmentPreset("flip-crop + RandAugment(2, 9), then CutMix on each batch.",
                                        [*_FLIP_CROP, _RANDAUGMENT], mixing=_step("cutmix", alpha=1.0)),
}
# Views derived from the entries (the names the training engine, the pages and the CLI use).
PRESETS: dict[str, dict[str, Any]] = {name: p.spec for name, p in AUGMENT_PRESETS.items()}
PRESET_DESCRIPTIONS: dict[str, str] = {name: p.description for name, p in AUGMENT_PRESETS.items()}


def preset_spec(name: str) -> dict[str, Any]:
    """A fresh copy of preset ``name``'s spec (not yet validated); :class:`AugmentError` naming the presets when
    there is none of that name."""
    if name not in PRESETS:
        raise AugmentError(f"unknown augmentation preset '{name}'. Presets: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
