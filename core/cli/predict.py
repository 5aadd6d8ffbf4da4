"""``python -m core predict --arch NAME --image PATH [--weights default|none|FILE] [--topk 5] [--json]``.

Classifies one image and reports the top-k classes with probabilities and the forward latency on this device.
``--weights default`` uses pretrained ImageNet weights (downloaded into torchvision's / timm's cache when
missing); ``none`` is random init (predictions are then meaningless, and the output says so); a .safetensors /
.pt / .pth file is loaded as a state dict with weights_only=True.
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser("predict", help="top-k ImageNet classes of an image, with latency",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, metavar="NAME", help="architecture name (see `models`)")
    p.add_argument("--image", required=True, metavar="PATH", help="image file (PNG, JPEG, GIF, WebP, BMP, TIFF)")
    p.add_argument("--weights", default="default", metavar="default|none|FILE",
                   help="pretrained weights (default), random init (none) or a state-dict file")
    p.add_argument("--topk", default="5", metavar="K", help="number of classes to show (default 5)")
    p.add_argument("--device", default="auto", help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--runs", default="1", metavar="N", help="time N forwards and report the median (default 1)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def _positive_int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise InputError(f"{what} must be a whole number, got {value!r}") from None
    if n < 1:
        raise InputError(f"{what} must be at least 1, got {n}")
    return n


def run(args) -> int:
    from core.device import pick_device  # heavy: see core/cli/__init__.py
    from core.images import load_image
    from core.models import classify, get_spec

    spec = get_spec(args.arch)  # unknown names fail here, before the image is decoded
    topk = _positive_int(args.topk, "--topk")
    runs = _positive_int(args.runs, "--runs")
    image = load_image(args.image)
    result = classify(spec.name, image, weights=args.weights, topk=topk, device=pick_device(args.device), runs=runs)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"{spec.title} · weights: {result.weights} · {result.device} · forward {result.latency_ms:.1f} ms")
    if not result.trained:
        print(f"UNTRAINED: {result.note}")
    width = max(len(p["label"]) for p in result.topk)
    for p in result.topk:
        bar = "█" * round(p["prob"] * 40)
        print(f"  {p['label']:<{width}}  {p['prob'] * 100:6.2f} %  {bar}")
    return 0
