"""Pipeline specs (JSON) -> torchvision v2 transforms that also report what they drew.

Spec (the JSON the page, the CLI and the training engine share)::

    {"version": 1,
     "steps": [{"name": "random_resized_crop", "p": 1.0, "params": {"scale": [0.6, 1.0]}},
               {"name": "randaugment", "p": 1.0, "params": {"num_ops": 2, "magnitude": 9}}],
     "mixing": {"name": "cutmix", "p": 1.0, "params": {"alpha": 1.0}}}      # or null

Missing params take the registry defaults; ``validate_spec`` fills them in and rejects unknown names,
out-of-range values and impossible combinations with an :class:`AugmentError` that says which step and why.

How a step runs, exactly as the exported ``v2.Compose`` would run it (same random calls in the same order):
a step with ``p < 1`` whose torchvision class has no ``p`` of its own is ``v2.RandomApply([...], p)`` (one
``torch.rand(1)`` draw, skipped when ``>= p``); classes with their own ``p`` (flips, grayscale, erasing, ...)
draw it themselves. Then each transform's ``make_params`` draws its randomness and ``transform`` applies it:
the params we record are the params that were applied. The four policies run through
:mod:`core.augment.policies` for the same reason.

Seeding (``preview_grid``): tile ``i`` is computed after ``torch.manual_seed(seed + i)``, inside
``torch.random.fork_rng`` so the caller's random state is left alone. The exported code seeds the same way.

Shapes: images are uint8 tensors ``[C, H, W]`` (C = 1 or 3) or PIL images; output has the same type and size.
Float tensors in [0, 1] are accepted too (converted to 8 bits and back: quantised to 1/255).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import PIL.Image
import torch
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F
from torchvision.transforms.v2._transform import _RandomApplyTransform

from core.augment import describe, policies
from core.augment.errors import AugmentError
from core.augment.presets import (  # noqa: F401 (AUGMENT_PRESETS, PRESET_DESCRIPTIONS, AugmentPreset: re-exported)
    AUGMENT_PRESETS,
    PRESET_DESCRIPTIONS,
    PRESETS,
    AugmentPreset,
    preset_spec,
)
from core.augment.specs import REGISTRY, AugSpec, Call, get_spec

SPEC_VERSION = 1
_TOP_KEYS = {"version", "steps", "mixing"}
_STEP_KEYS = {"name", "p", "params"}


# ------------------------------------------------------------------------------------------------ validation
def _validate_p(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise AugmentError(f"{where}: probability 'p' must be a number from 0 to 1, got {value!r}")
    return float(value)


def _validate_step(step: Any, where: str, *, batch: bool) -> dict[str, Any]:
    if not isinstance(step, dict):
        raise AugmentError(f"{where} must be an object like {{\"name\": \"rotation\", \"params\": {{...}}}}, "
                           f"got {type(step).__name__}")
    extra = set(step) - _STEP_KEYS
    if extra:
        raise AugmentError(f"{where}: unknown key(s) {', '.join(sorted(extra))} (allowed: name, p, params)")
    name = step.get("name")
    if not isinstance(name, str):
        raise AugmentError(f"{where}: 'name' is missing or not a string")
    try:
        spec = get_spec(name)
    except AugmentError as err:
        raise AugmentError(f"{where}: {err}") from None
    where = f"{where} ({name})"
    if spec.is_batch and not batch:
        raise AugmentError(f"{where}: {name} mixes two images of a batch, so it goes under 'mixing', not 'steps'")
    if batch and not spec.is_batch:
        raise AugmentError(f"{where}: 'mixing' must be cutmix or mixup, got {name}")
    p = _validate_p(step.get("p", spec.default_p), where)
    given = step.get("params") or {}
    if not isinstance(given, dict):
        raise AugmentError(f"{where}: 'params' must be an object, got {type(given).__name__}")
    known = {q.name for q in spec.params}
    unknown = set(given) - known
    if unknown:
        hint = f"known: {', '.join(sorted(known))}" if known else "it takes no parameters"
        raise AugmentError(f"{where}: unknown parameter(s) {', '.join(sorted(unknown))} ({hint})")
    params = {q.name: q.validate(given.get(q.name, q.default), where) for q in spec.params}
    if spec.check is not None:
        spec.check(params)
    return {"name": name, "p": p, "params": params}


def validate_spec(spec: Any) -> dict[str, Any]:
    """Check a pipeline spec and return it normalised (every param present, tuples for ranges).

    Raises :class:`AugmentError` with the step number, name and reason for anything that cannot run.
    """
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise AugmentError(f"a pipeline must be a JSON object with 'steps', got {type(spec).__name__}")
    extra = set(spec) - _TOP_KEYS
    if extra:
        raise AugmentError(f"pipeline: unknown key(s) {', '.join(sorted(extra))} (allowed: version, steps, mixing)")
    version = spec.get("version", SPEC_VERSION)
    if version != SPEC_VERSION:
        raise AugmentError(f"pipeline version {version!r} is not supported (this app reads version {SPEC_VERSION})")
    steps = spec.get("steps", [])
    if not isinstance(steps, list):
        raise AugmentError("pipeline: 'steps' must be a list")
    out_steps = [_validate_step(s, f"step {i + 1}", batch=False) for i, s in enumerate(steps)]
    mixing = spec.get("mixing")
    out_mix = None if mixing is None else _validate_step(mixing, "mixing", batch=True)
    out = {"version": SPEC_VERSION, "steps": out_steps, "mixing": out_mix}
    for i, step in enumerate(out_steps):  # constructor checks torchvision does itself, at a typical size
        _make_calls(step, 224, 224, f"step {i + 1} ({step['name']})")
    return out


def to_jsonable(spec: dict[str, Any]) -> dict[str, Any]:
    """A normalised spec with tuples turned into lists (what ``json.dumps`` writes anyway)."""
    return json.loads(json.dumps(spec))


# --------------------------------------------------------------------------------------------- resolving
def resolve_spec(spec: dict | str | None) -> dict[str, Any]:
    """A spec dict, a preset name or None ("none") -> normalised spec."""
    if spec is None:
        return validate_spec(PRESETS["none"])
    if isinstance(spec, str):
        return validate_spec(preset_spec(spec))
    return validate_spec(spec)


# ----------------------------------------------------------------------------------------------- building
def _make_calls(step: dict[str, Any], h: int, w: int, where: str) -> list[Call]:
    spec: AugSpec = REGISTRY[step["name"]]
    params = dict(step["params"])
    if spec.native_p:
        params["p"] = step["p"]
    calls = spec.build(params, h, w)
    for c in calls:
        try:
            c.make()
        except (ValueError, TypeError) as err:
            raise AugmentError(f"{where}: torchvision rejects these settings: {err}") from None
    return calls


def step_calls(step: dict[str, Any], h: int, w: int) -> tuple[list[Call], bool]:
    """The v2 calls of one normalised step for an ``h x w`` image, and whether RandomApply(p) wraps them."""
    spec = REGISTRY[step["name"]]
    if spec.size_check is not None:
        spec.size_check(step["params"], h, w)
    return _make_calls(step, h, w, step["name"]), (not spec.native_p and step["p"] < 1.0)


@dataclass
class _BuiltStep:
    name: str
    p: float
    wrap: bool  # RandomApply(p) around the transforms
    transforms: list


@dataclass
class StepRecord:
    """What one step did to one image. ``ops``: one dict per torchvision call (cls, params, text, geometry)."""

    name: str
    applied: bool
    text: str
    ops: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "applied": self.applied, "text": self.text, "ops": self.ops}


class Pipeline:
    """The image-level part of a spec as one picklable callable (uint8 ``[C, H, W]`` or PIL -> same kind, size).

    ``apply(img, record=True)`` also returns one :class:`StepRecord` per step. The v2 objects are built per input
    size (crops need the output size) and cached; pickling keeps only the spec, so DataLoader workers rebuild.
    """

    def __init__(self, spec: dict | str | None = None):
        self.spec = resolve_spec(spec)
        self._built: dict[tuple[int, int], list[_BuiltStep]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.spec = state["spec"]
        self._built = {}

    def __repr__(self) -> str:
        names = " → ".join(s["name"] for s in self.spec["steps"]) or "identity"
        return f"Pipeline({names})"

    def steps_for(self, h: int, w: int) -> list[_BuiltStep]:
        key = (h, w)
        built = self._built.get(key)
        if built is None:
            built = []
            for step in self.spec["steps"]:
                calls, wrap = step_calls(step, h, w)
                built.append(_BuiltStep(step["name"], step["p"], wrap, [c.make() for c in calls]))
            if len(self._built) > 16:  # data sets of mixed sizes: keep the cache bounded
                self._built.clear()
            self._built[key] = built
        return built

    def __call__(self, img):
        return self.apply(img, record=False)[0]

    def apply(self, img, record: bool = True):
        """Run every step on one image. Returns ``(image, records)``; records is ``[]`` when ``record=False``."""
        x, restore = _to_uint8_tensor(img)
        h, w = x.shape[-2:]
        records: list[StepRecord] = []
        for step in self.steps_for(h, w):
            x, rec = _run_step(step, x, record)
            if record:
                records.append(rec)
        if x.shape[-2:] != (h, w):  # a registry bug, never the user's: every step must keep the size
            raise AssertionError(f"step changed the image size from {(h, w)} to {tuple(x.shape[-2:])}")
        return restore(x), records


def _to_uint8_tensor(img):
    if isinstance(img, PIL.Image.Image):
        mode = img.mode
        t = F.pil_to_tensor(img.convert("RGB") if mode not in ("RGB", "L") else img)
        return t, lambda x: F.to_pil_image(x)
    if not isinstance(img, torch.Tensor):
        raise AugmentError(f"augmentation needs an image tensor or a PIL image, got {type(img).__name__}")
    if img.ndim != 3 or img.shape[0] not in (1, 3):
        raise AugmentError(f"augmentation needs one image shaped [channels (1 or 3), height, width], got "
                           f"{list(img.shape)}")
    if min(img.shape[-2:]) < 2:
        raise AugmentError(f"image of {img.shape[-1]}×{img.shape[-2]} px is too small to augment")
    like = img if isinstance(img, tv_tensors.Image) else None
    x = img.as_subclass(torch.Tensor)
    if x.dtype == torch.uint8:
        return x, (lambda y: tv_tensors.wrap(y, like=like)) if like is not None else (lambda y: y)
    if not x.is_floating_point():
        raise AugmentError(f"image tensors must be uint8 (0-255) or float (0-1), got {x.dtype}")
    dtype = x.dtype
    x8 = F.to_dtype(x.clamp(0, 1), torch.uint8, scale=True)

    def back(y):
        y = F.to_dtype(y, dtype, scale=True)
        return tv_tensors.wrap(y, like=like) if like is not None else y

    return x8, back


def _run_step(step: _BuiltStep, x: torch.Tensor, record: bool) -> tuple[torch.Tensor, StepRecord | None]:
    if step.wrap and torch.rand(1) >= step.p:  # exactly v2.RandomApply's draw
        return x, (StepRecord(step.name, False, f"{step.name}: not applied (p={step.p:g})") if record else None)
    h, w = x.shape[-2:]
    ops: list[dict[str, Any]] = []
    texts: list[str] = []
    applied = False
    for t in step.transforms:
        cls = type(t).__name__
        runner = policies.RUNNERS.get(cls)
        if runner is not None:
            x, drawn = runner(t, x)
            applied = True
            if record:
                ops.append({"cls": cls, "params": describe.jsonable({"ops": drawn})})
                texts.append(policies.caption(cls, drawn))
            continue
        t.check_inputs([x])
        if isinstance(t, _RandomApplyTransform) and torch.rand(1) >= t.p:  # the class's own p, same draw
            if record:
                texts.append(f"{step.name}: not applied (p={t.p:g})")
            continue
        params = t.make_params([x])
        if record:
            op = {"cls": cls, "params": describe.jsonable(params), "text": describe.caption(cls, params, t)}
            geo = describe.geometry_record(t, params, int(x.shape[-2]), int(x.shape[-1]))
            if geo is not None:
                op["geometry"] = geo
            ops.append(op)
            texts.append(op["text"])
        x = t.transform(x, params)
        applied = True
    if not record:
        return x, None
    return x, StepRecord(step.name, applied, "; ".join(texts), ops)


def build_transform(spec: dict | str | None = None) -> Pipeline:
    """The image-level steps of ``spec`` (dict, preset name or None = identity) as a picklable callable.

    Use on uint8 ``[3, H, W]`` tensors (or PIL images) before normalisation; output has the same size and type.
    """
    return Pipeline(spec)


# ------------------------------------------------------------------------------------------------- preview
@dataclass
class Tile:
    """One preview draw: the image (uint8 ``[3, H, W]``), its seed, which input it came from, what was drawn."""

    index: int
    seed: int
    source: int
    image: torch.Tensor
    records: list[StepRecord]

    @property
    def caption(self) -> str:
        return " · ".join(r.text for r in self.records if r.text) or "no steps"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "seed": self.seed, "source": self.source, "caption": self.caption,
                "steps": [r.to_dict() for r in self.records]}


@contextlib.contextmanager
def seeded(seed: int):
    """Context: the CPU torch RNG seeded with ``seed`` (as ``torch.manual_seed`` does) and restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(seed))
        yield


class PrefixCache:
    """What each preview tile looked like after the first k steps, so an edit recomputes only what it changed.

    Key: (the source image's bytes, the tile's seed, the JSON of steps ``0..k-1``); value: the image after those
    steps, the CPU RNG state at that point and the records so far. Resuming from there with the same RNG state
    runs exactly the random calls a full run would make, so tiles are bit-identical to an uncached
    :func:`preview_grid` (tested). Adding a step at the end reruns one step per tile; moving step j reruns from
    j on; a parameter edit of the last step reruns that step only. Bounded by ``max_bytes`` of images (oldest
    dropped first); thread-safe, so one cache can serve every session of the app (keys are content, not ids).
    """

    def __init__(self, max_bytes: int = 128 * 2**20):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[tuple, tuple[torch.Tensor, torch.Tensor, list[StepRecord]]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # steps reused / steps run, for tests and the bench

    def get(self, key: tuple):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, image: torch.Tensor, rng: torch.Tensor, records: list[StepRecord]) -> None:
        size = image.numel() * image.element_size()
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (image.clone(), rng.clone(), list(records))
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (old, _, _) = self._items.popitem(last=False)
                self._bytes -= old.numel() * old.element_size()

    def __len__(self) -> int:
        return len(self._items)


def _image_key(img: torch.Tensor) -> tuple:
    t = img.as_subclass(torch.Tensor).contiguous()
    return (tuple(t.shape), str(t.dtype), hashlib.sha1(t.numpy().tobytes()).hexdigest())


def _apply_cached(pipe: Pipeline, img: torch.Tensor, tile_seed: int, cache: PrefixCache,
                  src_key: tuple) -> tuple[Any, list[StepRecord]]:
    """``pipe.apply(img, record=True)`` under ``seeded(tile_seed)``, resuming from the longest cached prefix."""
    x, restore = _to_uint8_tensor(img)
    h, w = x.shape[-2:]
    built = pipe.steps_for(h, w)
    steps = pipe.spec["steps"]
    prefix_keys = [json.dumps(steps[:k], sort_keys=True) for k in range(len(steps) + 1)]
    start, records = 0, []
    for k in range(len(steps), 0, -1):
        found = cache.get((src_key, tile_seed, prefix_keys[k]))
        if found is not None:
            x, rng, records = found[0], found[1], list(found[2])
            start = k
            break
    with seeded(tile_seed):
        if start:
            torch.random.default_generator.set_state(rng)
        cache.hits += start
        for k in range(start, len(steps)):
            x, rec = _run_step(built[k], x, True)
            records.append(rec)
            cache.misses += 1
            cache.put((src_key, tile_seed, prefix_keys[k + 1]), x, torch.random.default_generator.get_state(), records)
    if x.shape[-2:] != (h, w):
        raise AssertionError(f"step changed the image size from {(h, w)} to {tuple(x.shape[-2:])}")
    return restore(x), records


def preview_grid(images: list[torch.Tensor] | torch.Tensor, spec: dict | str | None, n: int = 16,
                 seed: int = 0, *, cache: PrefixCache | None = None) -> list[Tile]:
    """``n`` draws of the pipeline; tile ``i`` uses ``images[i % len(images)]`` and seed ``seed + i``.

    Same images, spec, n and seed -> identical tiles (and identical to the exported code's ``preview``).
    ``cache`` (a :class:`PrefixCache`): reuse the tiles' intermediate results from earlier calls; same output.
    """
    if isinstance(images, torch.Tensor):
        images = [images]
    if not images:
        raise AugmentError("no image to preview")
    if not 1 <= int(n) <= 256:
        raise AugmentError(f"number of tiles must be between 1 and 256, got {n}")
    pipe = spec if isinstance(spec, Pipeline) else Pipeline(spec)
    tiles = []
    keys = [_image_key(img) for img in images] if cache is not None and all(
        isinstance(img, torch.Tensor) for img in images) else None
    for i in range(int(n)):
        src = i % len(images)
        if keys is not None:
            out, records = _apply_cached(pipe, images[src], seed + i, cache, keys[src])
        else:
            with seeded(seed + i):
                out, records = pipe.apply(images[src], record=True)
        tiles.append(Tile(i, seed + i, src, out, records))
    return tiles
