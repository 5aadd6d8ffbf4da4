"""Pipeline -> JSON (what training reads) and -> a runnable ``torchvision.transforms.v2`` script; JSON -> pipeline.

The script is written from the same :class:`core.augment.specs.Call` objects the preview runs, seeds tile ``i``
with ``torch.manual_seed(seed + i)`` like :func:`core.augment.pipeline.preview_grid`, and prepares images with
the verbatim source of :func:`core.augment.prepare.prepare_images`; run with the same images and seed it
writes the same tiles, pixel for pixel (``tests/unit/test_augment_export.py`` runs it in a subprocess).
"""
from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import torchvision

from core.augment import prepare
from core.augment.errors import AugmentError
from core.augment.pipeline import resolve_spec, step_calls, to_jsonable, validate_spec
from core.augment.specs import REGISTRY
from core.augment.presets import PRESETS

MAX_JSON_BYTES = 1_000_000


def to_json(spec: dict | str | None) -> str:
    """Normalised spec as JSON, one step per line (every parameter written out, so it keeps its meaning)."""
    norm = to_jsonable(resolve_spec(spec))
    steps = [json.dumps(s, ensure_ascii=False) for s in norm["steps"]]
    lines = ["{", f'  "version": {norm["version"]},']
    if steps:
        lines.append('  "steps": [')
        lines += [f"    {s}," for s in steps[:-1]] + [f"    {steps[-1]}", "  ],"]
    else:
        lines.append('  "steps": [],')
    lines += [f'  "mixing": {json.dumps(norm["mixing"], ensure_ascii=False)}', "}"]
    return "\n".join(lines)


def from_json(text: str | bytes) -> dict[str, Any]:
    """Parse and validate a pipeline JSON text. Bad JSON or settings -> AugmentError saying where."""
    if isinstance(text, bytes):
        if len(text) > MAX_JSON_BYTES:
            raise AugmentError(f"pipeline JSON is too large ({len(text)} bytes; max {MAX_JSON_BYTES})")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise AugmentError("pipeline file is not UTF-8 text (is it really a .json file?)") from None
    if not isinstance(text, str) or not text.strip():
        raise AugmentError("pipeline JSON is empty")
    if len(text) > MAX_JSON_BYTES:
        raise AugmentError(f"pipeline JSON is too large ({len(text)} characters; max {MAX_JSON_BYTES})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise AugmentError(f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    return validate_spec(data)


def load_spec_arg(value: str) -> dict[str, Any]:
    """CLI helper: a preset name, a JSON text, or the path of a .json file -> normalised spec."""
    v = value.strip()
    if v in PRESETS:
        return resolve_spec(v)
    if v.startswith("{"):
        return from_json(v)
    path = Path(os.path.expanduser(v))
    if not path.is_file():
        raise AugmentError(f"'{value}' is not a preset ({', '.join(PRESETS)}), a JSON object or an existing file")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise AugmentError(f"{path.name} is too large for a pipeline file")
    return from_json(path.read_bytes())


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line else line for line in text.splitlines())


def pipeline_code_lines(spec: dict[str, Any]) -> list[str]:
    """One source line per Compose entry (steps with p < 1 wrapped in RandomApply unless the class has p)."""
    lines = []
    for step in spec["steps"]:
        calls, wrap = step_calls(step, 224, 224)  # sizes appear as the expressions (height, width)
        codes = [c.code() for c in calls]
        if wrap:
            lines.append(f"v2.RandomApply([{', '.join(codes)}], p={step['p']!r}),  # {step['name']}")
        else:
            lines.extend(f"{code},  # {step['name']}" for code in codes)
    return lines


def to_python(spec: dict | str | None, *, seed: int = 0, n: int = 16, max_side: int = 256) -> str:
    """A standalone script (torch, torchvision, Pillow) that rebuilds the pipeline and the preview tiles."""
    norm = resolve_spec(spec)
    names = " → ".join(
        s["name"] + (f" (p={s['p']:g})" if s["p"] < 1 else "") for s in norm["steps"]
    ) or "no steps (identity)"
    mixing = norm["mixing"]
    body = "\n".join(pipeline_code_lines(norm))
    # v2.Compose refuses an empty list: an empty pipeline is the identity
    compose = "v2.Compose([\n" + _indent(body, 8) + "\n    ])" if body else "v2.Identity()"
    spec_json = to_json(norm)
    prep_src = inspect.getsource(prepare.prepare_images)

    mix_src = ""
    mix_main = ""
    if mixing is not None:
        cls = {"cutmix": "CutMix", "mixup": "MixUp"}[mixing["name"]]
        gate = ""
        if mixing["p"] < 1:
            gate = (f"    if torch.rand(1) >= {mixing['p']!r}:  # mixing skipped for this batch\n"
                    "        return images, one_hot(labels, num_classes).float()\n")
        mix_src = f'''

def mix_batch(images: torch.Tensor, labels: torch.Tensor, num_classes: int):
    """{cls} on a float batch [B, 3, H, W] with int labels [B] -> (images, soft labels [B, num_classes]).

    Image i is mixed with image i-1 (torchvision pairs neighbours); one λ per batch.
    """
{gate}    return v2.{cls}(alpha={mixing["params"]["alpha"]!r}, num_classes=num_classes)(images, labels)


def preview_mixed(tiles, num_sources: int, seed: int = SEED, n: int = N_TILES):
    """The preview's mixing: tiles as one batch, label = index of the source image, seed + n."""
    labels = torch.tensor([i % num_sources for i in range(len(tiles))])
    torch.manual_seed(seed + n)
    mixed, soft = mix_batch(torch.stack([t.float() / 255.0 for t in tiles]), labels, num_classes=num_sources)
    return [(x * 255.0).round().clamp(0, 255).to(torch.uint8) for x in mixed], soft
'''
        mix_main = '''
    if args.mix:
        mixed, soft = preview_mixed(tiles, len(images), args.seed, args.n)
        for i, tile in enumerate(mixed):
            save_png(tile, out / f"mixed_{i:03d}.png")
            print(f"mixed {i}: soft label", [round(float(v), 4) for v in soft[i]])
'''

    mix_arg = ('    parser.add_argument("--mix", action="store_true", help="also mix the tiles as one batch")\n'
               if mixing is not None else "")
    mix_imports = "from torch.nn.functional import one_hot\n" if mixing is not None and mixing["p"] < 1 else ""
    return f'''"""Augmentation pipeline exported from CNN Playground (torchvision.transforms.v2).

Pipeline: {names}{"; mixing: " + mixing["name"] if mixing else ""}
Written for torchvision {torchvision.__version__}; needs torch, torchvision and Pillow.

    python this_file.py IMAGE [IMAGE ...] --seed {seed} --n {n} --out tiles/

Tile i uses image i % (number of images) and is drawn after torch.manual_seed(seed + i), so with the same images
and seed it writes the same tiles as the playground's preview. Images are first shrunk so the longer side of the
first is at most --max-side px (the others are resized to its size), exactly like the preview.
In training, apply make_pipeline(height, width) to each uint8 image tensor [3, H, W] before normalising.
"""
import argparse
import json
from pathlib import Path

import torch
{mix_imports}from PIL import Image, ImageOps
from torchvision.transforms import v2

SEED = {seed}
N_TILES = {n}
MAX_SIDE = {max_side}
PIPELINE_JSON = json.loads(r"""
{spec_json}
""")  # the same settings as JSON: the playground and its training engine read this


def make_pipeline(height: int, width: int) -> v2.Transform:
    """Image-level steps for uint8 tensors [3, height, width]; every step keeps the size."""
    return {compose}
{mix_src}

{prep_src}

def preview(images, seed: int = SEED, n: int = N_TILES):
    """Tile i: torch.manual_seed(seed + i), then the pipeline on images[i % len(images)]."""
    pipeline = make_pipeline(*images[0].shape[-2:])
    tiles = []
    for i in range(n):
        torch.manual_seed(seed + i)
        tiles.append(pipeline(images[i % len(images)]))
    return tiles


def save_png(tile: torch.Tensor, path: Path) -> None:
    Image.fromarray(tile.permute(1, 2, 0).contiguous().numpy()).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", help="image files")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n", type=int, default=N_TILES)
    parser.add_argument("--max-side", type=int, default=MAX_SIDE, help="0 = keep the image size")
    parser.add_argument("--out", default="tiles")
{mix_arg}    args = parser.parse_args()
    images = prepare_images([ImageOps.exif_transpose(Image.open(p)) for p in args.images], args.max_side)
    tiles = preview(images, args.seed, args.n)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, tile in enumerate(tiles):
        save_png(tile, out / f"tile_{{i:03d}}.png")
{mix_main}    print(f"wrote {{len(tiles)}} tiles to {{out}}")


if __name__ == "__main__":
    main()
'''


def describe_spec(spec: dict) -> str:
    """A validated pipeline spec in one line of words, for a caption: "Horizontal flip → Rotation (p 0.5); then
    CutMix on each batch (p 0.5)". The steps are the registry's titles, in order; ``p`` shows only below 1."""
    steps = [f"{REGISTRY[s['name']].title}" + (f" (p {s['p']:g})" if s.get("p", 1) < 1 else "") for s in spec["steps"]]
    mix = spec.get("mixing")
    text = " → ".join(steps) if steps else "no image steps"
    return text + (f"; then {REGISTRY[mix['name']].title} on each batch (p {mix['p']:g})" if mix else "")
