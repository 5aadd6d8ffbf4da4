"""``python -m core models [--json]``: the architectures of the zoo with counted params and measured GFLOPs.

Parameters are counted from the model; GFLOPs are measured with torch.utils.flop_counter at each model's
default input size (2 FLOPs per multiply-add; GMACs = GFLOPs / 2, which is what torchvision's docs and most
papers call "GFLOPS"); ImageNet accuracy comes from torchvision's weights metadata (null when unknown).
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.cli._table import fmt_count, fmt_opt, format_table


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list the model zoo (params, GFLOPs, ImageNet accuracy)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="one JSON object per architecture")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.models import zoo  # heavy: see core/cli/__init__.py
    from core.models.card import format_flops

    rows = zoo()
    if args.json:
        print_json(rows)
        return 0
    print(format_table(rows, [
        ("name", lambda r: r["name"], "<"),
        ("family", lambda r: r["family"], "<"),
        ("year", lambda r: r["year"], ">"),
        ("params", lambda r: fmt_count(r["params"]), ">"),
        ("FLOPs", lambda r: format_flops(r["gflops"] * 1e9), ">"),
        ("input", lambda r: f"{r['input_size']} px", ">"),
        ("top-1 %", lambda r: fmt_opt(r["acc1"], ".1f"), ">"),
        ("weights", lambda r: r["weights_status"], "<"),
    ]))
    print("\nFLOPs at the default input size, 2 FLOPs per multiply-add; top-1: ImageNet-1k, torchvision metadata.")
    return 0
