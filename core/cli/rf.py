"""``python -m core rf`` and ``python -m core erf``: theoretical and effective receptive fields.

``rf --arch NAME [--input-size N] [--json]``: one row per module that produces a feature map (convolutions,
pools, blocks and stages such as ``layer3``, ``inception4e``, ``features.denseblock2``, ``Mixed_6e``) with the
receptive field's ``size`` ([h, w] in input pixels, ``null`` when global), ``jump`` (distance between
neighbouring units) and ``start`` (centre of unit 0), traced through the real graph on the meta device.

``erf --arch NAME --layer L [--weights default|none | --checkpoint RUN_DIR] [--json]``: the effective
receptive field of the layer's centre unit (Luo et al. 2016): |gradient| averaged over noise inputs and the
share of the theoretical field that holds 95 % of it.
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.cli._table import format_table
from core.errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser("rf", help="theoretical receptive field of every layer of an architecture",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, metavar="NAME", help="architecture name (see `models`)")
    p.add_argument("--input-size", default=None, metavar="N", help="square input size in px (default: the model's)")
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    p.set_defaults(func=run_rf)

    e = subparsers.add_parser("erf", help="effective receptive field of a layer's centre unit (Luo et al. 2016)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("--arch", default=None, metavar="NAME", help="architecture name (optional with --checkpoint)")
    e.add_argument("--layer", required=True, metavar="L", help="dotted module name, as listed by `rf`")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--weights", default="none", choices=["default", "none"],
                     help="pretrained ImageNet weights (default) or random init (none, the default here)")
    src.add_argument("--checkpoint", default=None, metavar="RUN_DIR", help="a run folder: its best/last checkpoint")
    e.add_argument("--input-size", default=None, metavar="N", help="square input size (default: model's / run's)")
    e.add_argument("--n-inputs", default="8", metavar="N", help="noise inputs to average over (default 8)")
    e.add_argument("--seed", default="0", metavar="S", help="seed of the noise inputs (default 0)")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    e.set_defaults(func=run_erf)


def _int(value, what: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise InputError(f"{what} must be a whole number, got {value!r}") from None
    if not lo <= n <= hi:
        raise InputError(f"{what} must be between {lo} and {hi}, got {n}")
    return n


def _size(v) -> str:
    return "global" if v is None else "×".join(map(str, v))


def run_rf(args) -> int:
    from core.receptive_field import receptive_fields  # heavy: see core/cli/__init__.py

    table = receptive_fields(args.arch, args.input_size)
    rows = table.to_rows()
    if args.json:
        print_json([{k: r[k] for k in ("layer", "size", "jump", "start", "type", "shape", "clipped", "aligned",
                                        "depth")} for r in rows])
        return 0
    print(format_table(rows, [
        ("layer", lambda r: r["layer"], "<"),
        ("type", lambda r: r["type"], "<"),
        ("map", lambda r: _size(r["shape"]), ">"),
        ("RF size", lambda r: _size(r["size"]), ">"),
        ("in image", lambda r: _size(r["clipped"]), ">"),
        ("jump", lambda r: _size(r["jump"]), ">"),
        ("start", lambda r: ", ".join(f"{v:g}" for v in r["start"]), ">"),
    ]))
    h, w = table.input_size
    print(f"\n{table.arch} at {h}×{w}: {len(rows)} layers; 'RF size' is analytic (may exceed the image), "
          "'in image' is the centre unit's field clipped to it")
    for note in table.notes:
        print(f"note: {note}")
    return 0


def run_erf(args) -> int:
    from core.models import build, get_spec  # heavy: see core/cli/__init__.py
    from core.models.shared import load_run_model
    from core.receptive_field import effective_receptive_field, receptive_fields

    if args.checkpoint:
        rm = load_run_model(args.checkpoint)
        if args.arch and get_spec(args.arch).name != rm.arch:
            raise InputError(f"--arch {args.arch} does not match the run's architecture {rm.arch}")
        arch, model, source, default_size = rm.arch, rm.model, rm.label, rm.image_size
    else:
        if not args.arch:
            raise InputError("give --arch (or --checkpoint RUN_DIR)")
        spec = get_spec(args.arch)
        arch, default_size = spec.name, spec.input_size
        model = build(arch, weights=args.weights).eval()
        source = f"{arch}, weights {args.weights}"
    size = default_size if args.input_size is None else args.input_size
    table = receptive_fields(arch, size)
    table.get(args.layer)  # unknown layers fail before any forward
    erf = effective_receptive_field(model, args.layer, table, n_inputs=_int(args.n_inputs, "--n-inputs", 1, 64),
                                    seed=_int(args.seed, "--seed", 0, 2**31 - 1))
    if args.json:
        print_json({"arch": arch, "source": source, "input_size": list(table.input_size), **erf.to_dict()})
        return 0
    t = erf.theoretical
    print(f"{source} · layer {erf.layer} · centre unit {erf.unit} · {erf.n_inputs} noise inputs")
    print(f"theoretical field: {'global' if t.is_global else f'{t.area} px'} "
          f"({t.clipped_area} px inside the image, {t.padding_share:.0%} padding)")
    print(f"{erf.mass:.0%} of the gradient mass lies on {erf.mass_pixels} px = "
          f"{erf.mass_share:.1%} of the theoretical field inside the image")
    return 0
