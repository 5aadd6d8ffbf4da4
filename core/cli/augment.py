"""``python -m core augment``: run a pipeline on an image N times with a seed, write the tiles, report the draws.

Example::

    python -m core augment --image cat.jpg --pipeline randaugment --n 8 --seed 0 --out tiles/ --json
    python -m core augment --image a.png --image b.png --pipeline my_pipeline.json --out tiles/

Tile i uses image i % (number of images) and seed + i: the same tiles as the page and the exported code.
With a mixing step, the tiles are also mixed as one batch (seed + n) and written as mixed_XXX.png.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli._common import print_json


def register(subparsers) -> None:
    p = subparsers.add_parser("augment", help="preview an augmentation pipeline on an image",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", action="append", required=True, metavar="PATH",
                   help="image file (repeat for several; tile i uses image i %% count)")
    p.add_argument("--pipeline", default="flip-crop", metavar="JSON_OR_FILE",
                   help="a preset name, a JSON object, or a .json file (default: flip-crop)")
    p.add_argument("--n", type=int, default=8, help="number of tiles (default 8)")
    p.add_argument("--seed", type=int, default=0, help="tile i is drawn with seed + i (default 0)")
    p.add_argument("--max-side", type=int, default=256,
                   help="shrink so the longer side is at most this many px first (0 = keep size; default 256)")
    p.add_argument("--out", metavar="DIR", help="write tile_XXX.png (and mixed_XXX.png) here")
    p.add_argument("--json", action="store_true", help="print the drawn parameters as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.augment import AugmentError, load_spec_arg, mix_preview, prepare_images, preview_grid  # heavy: see core/cli/__init__.py
    from core.images import load_image

    if args.max_side < 0:
        raise AugmentError("--max-side must be 0 (keep size) or a positive number of pixels")
    spec = load_spec_arg(args.pipeline)
    pil = [load_image(path) for path in args.image]
    images = prepare_images(pil, args.max_side)
    tiles = preview_grid(images, spec, n=args.n, seed=args.seed)
    result = {"pipeline": spec, "seed": args.seed, "n": args.n, "size": list(images[0].shape[-2:]),
              "tiles": [t.to_dict() for t in tiles]}
    mixed = None
    if spec["mixing"] is not None:
        k = len(images)
        mixed = mix_preview([t.image for t in tiles], [i % k for i in range(len(tiles))], k, spec["mixing"],
                            seed=args.seed + args.n)
        result["mixing"] = {**mixed.record.to_dict(), "text": mixed.record.text,
                            "soft_labels": [[round(float(v), 6) for v in row] for row in mixed.soft_labels]}
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for t in tiles:
            _save(t.image, out / f"tile_{t.index:03d}.png")
        if mixed is not None:
            for i, im in enumerate(mixed.images):
                _save(im, out / f"mixed_{i:03d}.png")
        (out / "tiles.json").write_text(json.dumps(result, indent=2, default=str))
        result["out"] = str(out)
    if args.json:
        print_json(result)
    else:
        for t in tiles:
            print(f"tile {t.index} (seed {t.seed}): {t.caption}")
        if mixed is not None:
            print(mixed.record.text)
        if args.out:
            print(f"wrote {len(tiles)} tiles to {args.out}")
    return 0


def _save(tensor, path: Path) -> None:
    from PIL import Image  # heavy: see core/cli/__init__.py

    Image.fromarray(tensor.permute(1, 2, 0).contiguous().numpy()).save(path)
