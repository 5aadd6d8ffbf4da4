"""``python -m core summary --arch NAME [--input-size N] [--json]``: the per-layer table of an architecture.

One row per leaf-module call for a single [1, 3, N, N] image: output shape, parameters (counted at a module's
first call), MACs. Runs on PyTorch's meta device: no weights, no memory, milliseconds even for VGG-16.
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.cli._table import fmt_count, format_table


def register(subparsers) -> None:
    p = subparsers.add_parser("summary", help="per-layer shapes, parameters and MACs of an architecture",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, metavar="NAME", help="architecture name (see `models`)")
    # A string, validated by core (argparse's int errors print usage on two lines).
    p.add_argument("--input-size", default=None, metavar="N", help="square input size in px (default: the model's)")
    p.add_argument("--json", action="store_true", help="print the rows and totals as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.models import summary  # heavy: see core/cli/__init__.py

    s = summary(args.arch, args.input_size)
    if args.json:
        print_json(s.to_dict())
        return 0
    rows = [r.__dict__ for r in s.rows]
    print(format_table(rows, [
        ("layer", lambda r: r["name"], "<"),
        ("type", lambda r: r["type"], "<"),
        ("output shape", lambda r: "not run" if r["output_shape"] is None else "×".join(map(str, r["output_shape"])), ">"),
        ("params", lambda r: f"{r['params']:,}", ">"),
        ("MACs", lambda r: fmt_count(r["macs"]), ">"),
    ]))
    print(
        f"\n{s.arch} at {s.input_size}×{s.input_size}: {s.total_params:,} parameters"
        + (f" ({s.params_not_run:,} in modules that do not run in eval mode)" if s.params_not_run else "")
        + f", {s.gflops:.3f} GFLOPs = {s.gmacs:.3f} GMACs, output {tuple(s.output_shape or ())}"
    )
    return 0
