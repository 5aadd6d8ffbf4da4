"""``python -m core gradients --depth D [--residual] [--batchnorm] [--steps N] [--json]``.

Per-layer gradient norms ‖∂L/∂W‖ of a plain or residual CNN with D weight layers (stem conv, (D − 2)/2 blocks of
two 3×3 convolutions, linear head) on one batch of Shapes at 32 px: at initialisation (He init) and again after
N AdamW steps (default 10). The ratio first layer / last conv layer says whether the gradient vanishes (≪ 1) or
explodes (≫ 1) on its way back. See ``core/lessons/depth.py``.
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.cli.knn import whole


def register(subparsers) -> None:
    p = subparsers.add_parser("gradients", help="per-layer gradient norms of a plain or residual deep CNN",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--depth", required=True, metavar="D", help="weight layers, even, 4-110 (e.g. 20, 56)")
    p.add_argument("--residual", action="store_true", help="add a skip connection around every block")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm after every convolution")
    p.add_argument("--steps", default="10", metavar="N",
                   help="training steps before the second measurement (default 10)")
    p.add_argument("--seed", default="0", help="initialisation and data seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.lessons.depth import MAX_DEPTH, MIN_DEPTH, gradient_profile  # heavy: see core/cli/__init__.py

    depth = whole(args.depth, "--depth", MIN_DEPTH, MAX_DEPTH)
    steps = whole(args.steps, "--steps", 0, 10_000)
    seed = whole(args.seed, "--seed", 0, 2**31 - 1)
    prof = gradient_profile(depth, residual=args.residual, batchnorm=args.batchnorm, steps=steps, seed=seed)
    if args.json:
        print_json(prof.to_dict())
        return 0
    print(f"{prof.label}: loss {prof.loss_init:.3f} at init, {prof.loss_after:.3f} after {steps} steps")
    print(f"{'layer':<16}{'‖grad‖ init':>14}{f'after {steps}':>14}")
    for name, a, b in zip(prof.layers, prof.init, prof.after):
        print(f"{name:<16}{a:>14.3e}{b:>14.3e}")
    print(f"first / last conv layer: {prof.first_to_last('init'):.3g} at init, {prof.first_to_last('after'):.3g} after")
    return 0
