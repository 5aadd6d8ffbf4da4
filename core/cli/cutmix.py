"""``python -m core cutmix``: CutMix (or MixUp) two images, print λ, the box and the soft label.

Example::

    python -m core cutmix --image cat.jpg --image dog.jpg --labels 0,1 --num-classes 2 --seed 0 --json

The result is image A with a box from image B pasted in (torchvision pairs image i with image i-1); λ is the
fraction of A that is still visible after the box is clipped to the image, and the soft label is
λ·onehot(label A) + (1-λ)·onehot(label B). Image B is resized to A's size first.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli._common import print_json


def register(subparsers) -> None:
    p = subparsers.add_parser("cutmix", help="CutMix / MixUp two images and show λ and the soft label",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", action="append", required=True, metavar="PATH", help="image A, then image B")
    p.add_argument("--labels", default="0,1", help="class indices of A and B, e.g. 0,1 (default)")
    p.add_argument("--num-classes", type=int, default=None, help="K (default: largest label + 1)")
    p.add_argument("--mode", choices=("cutmix", "mixup"), default="cutmix")
    p.add_argument("--alpha", type=float, default=1.0, help="Beta(α, α) parameter (default 1.0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-side", type=int, default=256, help="shrink A to at most this many px (0 = keep)")
    p.add_argument("--out", default="cutmix.png", metavar="FILE", help="where to write the mixed image A")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def _parse_labels(text: str) -> list[int]:
    from core.augment import AugmentError  # heavy: see core/cli/__init__.py

    try:
        labels = [int(x) for x in text.split(",")]
    except ValueError:
        raise AugmentError(f"--labels must be two whole numbers like 0,1; got '{text}'") from None
    if len(labels) != 2:
        raise AugmentError(f"--labels needs exactly two class indices (A, B); got {len(labels)}")
    if min(labels) < 0:
        raise AugmentError("--labels must not be negative")
    return labels


def run(args) -> int:
    from PIL import Image  # heavy: see core/cli/__init__.py

    from core.augment import AugmentError, mix_preview, prepare_images
    from core.images import load_image

    if len(args.image) != 2:
        raise AugmentError(f"give exactly two images (--image A --image B); got {len(args.image)}")
    labels = _parse_labels(args.labels)
    k = args.num_classes if args.num_classes is not None else max(labels) + 1
    if k <= max(labels):
        raise AugmentError(f"--num-classes {k} is too small for label {max(labels)} (classes are 0..K-1)")
    if args.max_side < 0:
        raise AugmentError("--max-side must be 0 (keep size) or a positive number of pixels")
    images = prepare_images([load_image(p) for p in args.image], args.max_side)
    mixing = {"name": args.mode, "p": 1.0, "params": {"alpha": args.alpha}}
    res = mix_preview(images, labels, k, mixing, seed=args.seed)
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise AugmentError(f"folder {out.parent} does not exist")
    Image.fromarray(res.images[0].permute(1, 2, 0).contiguous().numpy()).save(out)
    rec = res.record
    result = {
        "mode": args.mode, "alpha": args.alpha, "seed": args.seed, "size": list(images[0].shape[-2:]),
        "lam": round(rec.lam, 6), "lam_drawn": None if rec.lam_drawn is None else round(rec.lam_drawn, 6),
        "box": list(rec.box) if rec.box else None,
        "soft_label": [round(float(v), 6) for v in res.soft_labels[0]],
        "labels": labels, "num_classes": k, "out": str(out),
    }
    if args.json:
        print_json(result)
    else:
        print(rec.text)
        print("soft label of A:", ", ".join(f"class {i}: {v:.3f}" for i, v in enumerate(result["soft_label"])))
        print(f"wrote {out}")
    return 0
