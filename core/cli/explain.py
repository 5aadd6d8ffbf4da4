"""``python -m core explain`` and ``python -m core pointing-game``: the Explain page's computations on the CLI.

    python -m core explain --arch resnet50 --image cat.jpg --method gradcam --out cam.npy --json
    python -m core explain --checkpoint RUN_DIR --image shape.png --method ig --target circle --out ig.npy
    python -m core pointing-game --checkpoint RUN_DIR --method gradcam [--layer layer3] --n 200 --json

``explain`` saves the image-sized map (``float32 [S, S]``, non-negative) as .npy and prints the class, its score,
the layer and the native map shape. ``pointing-game`` scores a Shapes run: the share of test images whose map
maximum falls inside the true shape mask (``hit_rate``) next to a uniformly random point's (``random_hit_rate``).
Bad input (unknown layer, a layer without a feature map, a target out of range, an image smaller than the
model's minimum, a checkpoint of another architecture) prints one ``error:`` line and exits with status 2.
"""
from __future__ import annotations

import argparse
import json

from core.cli._common import print_json
from core.errors import InputError


def register(subparsers) -> None:
    from core.explain.registry import METHODS  # heavy: see core/cli/__init__.py

    p = subparsers.add_parser("explain", help="attribution map (Grad-CAM, IG, …) of one image, saved as .npy",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", metavar="NAME", help="zoo architecture (see `models`); or give --checkpoint")
    p.add_argument("--weights", default="default", choices=["default", "none"],
                   help="pretrained ImageNet weights (default) or random init (none: the map means nothing)")
    p.add_argument("--checkpoint", metavar="RUN_DIR", help="a training run's folder (its best/last checkpoint)")
    p.add_argument("--image", required=True, metavar="PATH", help="image file (PNG, JPEG, GIF, WebP, BMP, TIFF)")
    p.add_argument("--method", default="gradcam", choices=list(METHODS), help="attribution method")
    p.add_argument("--layer", metavar="L", help="layer for CAM methods (dotted name; default: the model's CAM layer)")
    p.add_argument("--target", metavar="CLASS", help="class index or name (default: the top-1 prediction)")
    p.add_argument("--params", metavar="JSON", help='method parameters, e.g. \'{"steps": 128}\'')
    p.add_argument("--image-size", type=int, metavar="PX", help="input size (default: the model's)")
    p.add_argument("--out", metavar="FILE.npy", help="where to save the map")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=run_explain)

    q = subparsers.add_parser("pointing-game", help="does the map point at the shape? (Shapes runs)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--checkpoint", required=True, metavar="RUN_DIR", help="a Shapes training run's folder")
    q.add_argument("--method", default="gradcam", choices=list(METHODS), help="attribution method")
    q.add_argument("--layer", metavar="L", help="layer for CAM methods (default: informative at the run's size)")
    q.add_argument("--n", type=int, default=200, help="number of test images (default 200)")
    q.add_argument("--params", metavar="JSON", help="method parameters as JSON")
    q.add_argument("--json", action="store_true", help="JSON output")
    q.set_defaults(func=run_pointing)


def _params(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"--params is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise InputError("--params must be a JSON object")
    return value


def load_model(arch: str | None, weights: str, checkpoint: str | None):
    """(model, arch, classes, image size, trained) from a zoo name or a run folder."""
    from core.models import build, get_spec  # heavy: see core/cli/__init__.py
    from core.models.predict import class_names

    if checkpoint:
        from core.models.shared import load_run_model  # heavy: see core/cli/__init__.py

        rm = load_run_model(checkpoint)
        if arch and get_spec(arch).name != get_spec(rm.arch).name:
            raise InputError(f"the checkpoint is a {rm.arch} run, not {get_spec(arch).name}")
        return rm.model, rm.arch, rm.classes, rm.image_size, True
    if not arch:
        raise InputError("give --arch (a zoo model) or --checkpoint (a run folder)")
    spec = get_spec(arch)
    model = build(spec.name, weights=weights).eval()
    n = int(next(m for m in reversed(list(model.modules())) if hasattr(m, "out_features")).out_features)
    return model, spec.name, class_names(spec.name, weights, n), spec.input_size, weights != "none"


def run_explain(args) -> int:
    import numpy as np  # heavy: see core/cli/__init__.py

    from core.explain import explain
    from core.images import load_image

    if args.out and not args.out.endswith(".npy"):
        raise InputError("--out must be a .npy file")
    params = _params(args.params)
    model, arch, classes, size, trained = load_model(args.arch, args.weights, args.checkpoint)
    image = load_image(args.image)
    e = explain(model, image, args.method, target=args.target, layer=args.layer, params=params, classes=classes,
                image_size=args.image_size or size, arch=arch)
    if args.out:
        np.save(args.out, e.map)
    out = {**e.summary(), "arch": arch, "trained": trained, "out": args.out}
    if args.json:
        print_json(out)
        return 0
    print(f"{arch} · {e.method} · class {e.target} {e.label!r} p={e.score:.3f} · layer {e.layer or '-'} · "
          f"native map {e.native.shape[0]}×{e.native.shape[1]} · {e.seconds * 1e3:.0f} ms")
    for note in e.notes:
        print(f"  note: {note}")
    if not trained:
        print("  UNTRAINED weights: the map explains a random network")
    if args.out:
        print(f"  saved {e.map.shape[0]}×{e.map.shape[1]} map to {args.out}")
    return 0


def run_pointing(args) -> int:
    from core.explain.metrics import pointing_game, shapes_test_set  # heavy: see core/cli/__init__.py
    from core.models.shared import load_run_model  # heavy: see core/cli/__init__.py
    from core.runs import store

    rm = load_run_model(args.checkpoint)
    cfg = store.load_config(rm.run_dir)
    if cfg.dataset != "shapes":
        raise InputError(f"the pointing game needs Shapes masks; run {rm.run_dir.name} trained on {cfg.dataset}")
    data = shapes_test_set(rm.image_size, cfg.dataset_options)
    res = pointing_game(rm.model, data, args.method, n=args.n, layer=args.layer, arch=rm.arch,
                        params=_params(args.params))
    if args.json:
        print_json(res.to_dict())
    else:
        print(f"{args.method} on {res.layer or 'pixels'}: hit rate {res.hit_rate:.3f} over {res.n} test images "
              f"(a random point: {res.random_hit_rate:.3f}; {res.no_signal} maps without signal)")
    return 0
