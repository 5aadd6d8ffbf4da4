"""``python -m core train``: train in the foreground, or execute a prepared run folder (``--run-dir``).

    python -m core train --preset shapes-lenet5 --json
    python -m core train --dataset shapes --arch resnet18 --epochs 1 --max-steps 20 --batch-size 32 \\
        --image-size 64 --runs-dir /tmp/runs --json
    python -m core train --config var/runs/<id>/config.json        # re-run a run's exact settings
    python -m core train --objective distill --teacher var/runs/<teacher-id> --arch lenet5 --temperature 4 \\
        --alpha 0.9                                                 # knowledge distillation
    python -m core train --objective self_train --iterations 2 --labelled-per-class 50 --threshold 0.7
    torchrun --standalone --nproc_per_node 2 -m core train --max-steps 20 ...   # DDP (gloo on CPU)

Every ``TrainConfig`` field is a flag (``max_steps`` → ``--max-steps``); precedence: preset < --config < flags.
``--mode distill`` and ``--mode self-train`` are accepted as ``--objective`` (``mode`` itself says which layers learn).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from core.cli._common import print_json
from core.errors import InputError
from core.runs import store, worker
from core.train.config import PRESETS, TrainConfig, field_help
from core.train.objectives import OBJECTIVES


def _json_obj(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object like '{\"n\": 6000}'")
    return value


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


_BASE = {"str": str, "int": int, "float": float, "bool": _bool, "dict": _json_obj}


def field_parser(annotation: str):
    """The argparse ``type`` for a TrainConfig annotation such as ``"int | None"`` or ``"str | dict"``.

    Annotations are strings here (``from __future__ import annotations``), so the union is read from the text:
    ``None`` accepts "none" / "null" / "", ``dict`` accepts text starting with "{", and the other member
    (str, int, float or bool) parses the rest. A new field type needs one entry in ``_BASE``.
    """
    members = [m.strip() for m in str(annotation).split("|")]
    unknown = [m for m in members if m != "None" and m not in _BASE]
    if unknown:
        raise TypeError(f"no command-line parser for the config field type {annotation!r}")
    optional = "None" in members
    scalars = [m for m in members if m not in ("None", "dict")]

    def parse(text: str):
        if optional and text.strip().lower() in ("", "none", "null"):
            return None
        if "dict" in members and (not scalars or text.lstrip().startswith("{")):
            return _json_obj(text)
        try:
            return _BASE[scalars[0]](text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {' or '.join(members)}, got {text!r}") from None

    parse.__name__ = str(annotation)  # argparse names the type in its error messages
    return parse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a network (foreground; prints the run folder and final metrics)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="JSON file of TrainConfig fields (e.g. a run's config.json)")
    p.add_argument("--preset", choices=list(PRESETS), help="start from a preset (default: TrainConfig's defaults)")
    p.add_argument("--runs-dir", metavar="DIR", help="where the run folder is created (default: $CNNPG_RUNS_DIR)")
    p.add_argument("--run-dir", metavar="DIR", help="execute this prepared run folder (the launcher's worker mode)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    helps = field_help()
    group = p.add_argument_group("training settings (TrainConfig fields)")
    for f in dataclasses.fields(TrainConfig):
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", type=field_parser(f.type),
                           default=argparse.SUPPRESS, metavar=f.name.upper(),
                           help=f"{helps.get(f.name, '')} (default: {json.dumps(default)})".replace("%", "%%"))
    p.set_defaults(func=run)


def config_from_args(args) -> TrainConfig:
    data: dict = {}
    if args.preset:
        data.update(TrainConfig.from_preset(args.preset).to_dict())
    if args.config:
        data.update(json.loads(TrainConfig.load(args.config).to_json()))
    flags = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_")}
    # `--mode distill` / `--mode self-train` name the objective (TrainConfig.mode says which layers learn)
    if isinstance(flags.get("mode"), str) and flags["mode"].replace("-", "_") in set(OBJECTIVES) - {"plain"}:
        flags["objective"] = flags.pop("mode")
    if isinstance(flags.get("objective"), str):
        flags["objective"] = flags["objective"].replace("-", "_")
    data.update(flags)
    return TrainConfig.from_dict(data)


def run(args) -> int:
    from core.train import distributed  # heavy: see core/cli/__init__.py

    if args.run_dir:
        if any(k.startswith("cfg_") for k in vars(args)) or args.config or args.preset:
            raise InputError("--run-dir executes a prepared run folder: its settings come from its config.json")
        if distributed.launched_by_torchrun():
            return run_in_foreground(store.run_path(args.run_dir), as_json=args.json, quiet=args.quiet)
        return worker.main(store.run_path(args.run_dir))
    cfg = config_from_args(args).validate()
    return run_in_foreground(None, cfg, as_json=args.json, quiet=args.quiet, runs_dir=args.runs_dir)


def run_in_foreground(run_dir, cfg=None, *, as_json: bool = False, quiet: bool = False, runs_dir=None) -> int:
    """Execute the run folder ``run_dir`` (or a new one for ``cfg`` in ``runs_dir``) in this process, progress
    lines on stderr unless ``quiet``; print the result (JSON with ``as_json``). Returns the exit status."""
    from core.train import distributed  # heavy: see core/cli/__init__.py

    dist = distributed.setup(cfg.device if cfg is not None else store.load_config(run_dir).device)
    try:
        if run_dir is None:
            run_dir = store.create_run(cfg, runs_dir) if dist.is_main else None
            run_dir = distributed.broadcast_object(str(run_dir) if run_dir else None, dist)
        if dist.is_main and not quiet:
            print(f"run folder: {run_dir}", file=sys.stderr, flush=True)

        def progress(rec: dict) -> None:
            line = worker.format_record(rec)
            if line and not quiet:
                print(line, file=sys.stderr, flush=True)

        result = worker.execute(run_dir, callback=progress)
    finally:
        distributed.cleanup()
    if not dist.is_main:
        return 0
    out = {"run_dir": str(run_dir), **(result.to_dict() if result is not None else {"state": "cancelled"})}
    if as_json:
        print_json(out)
    else:
        test = out.get("test") or {}
        print(f"{out['state']}: {run_dir}" + (f" · {test.get('split')} accuracy {100 * test['acc']:.2f}%"
                                               if test.get("acc") is not None else ""))
    return 0 if out["state"] == "completed" else 130
