"""``python -m core runs``: list, show, resume, cancel and delete training runs.

    python -m core runs list [--runs-dir DIR] [--json]
    python -m core runs resume RUN            # continue an interrupted / cancelled run in the foreground
    python -m core runs resume RUN --background
    python -m core runs cancel RUN
    python -m core runs delete RUN --yes

RUN is a run folder or a run id inside the runs folder.
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.cli.train import run_in_foreground
from core.errors import InputError
from core.runs import launcher, store


def register(subparsers) -> None:
    p = subparsers.add_parser("runs", help="list, resume, cancel or delete training runs", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="runs_command", required=True, metavar="ACTION")
    for name, helptext in [("list", "every run with status, progress and accuracy"),
                           ("show", "one run's status, config and latest metrics"),
                           ("resume", "continue a run from its last checkpoint"),
                           ("cancel", "ask a queued or running run to stop"),
                           ("delete", "remove a finished run's folder")]:
        sp = sub.add_parser(name, help=helptext)
        if name != "list":
            sp.add_argument("run", metavar="RUN", help="run folder or run id")
        sp.add_argument("--runs-dir", metavar="DIR", help="runs folder (default: $CNNPG_RUNS_DIR)")
        sp.add_argument("--json", action="store_true", help="JSON output")
        if name == "resume":
            sp.add_argument("--background", action="store_true", help="start a detached worker and return")
            sp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
        if name == "delete":
            sp.add_argument("--yes", action="store_true", help="confirm the deletion")
    p.set_defaults(func=run)


def run(args) -> int:
    action = args.runs_command
    if action == "list":
        runs = store.list_runs(args.runs_dir)
        if args.json:
            print_json(runs)
        else:
            for r in runs:
                acc = f"{100 * r['best_val_acc']:.1f}%" if r["best_val_acc"] is not None else "-"
                print(f"{r['id']:<48} {r['state']:<11} step {r['step']}/{r['total_steps'] or '?'}  best val {acc}")
        return 0
    run_dir = store.run_path(args.run, args.runs_dir)
    if action == "show":
        out = {**store.run_summary(run_dir), "status": store.effective_status(run_dir),
               "config": store.read_json(run_dir / store.CONFIG_FILE)}
        print_json(out) if args.json else print(out)
        return 0
    if action == "cancel":
        st = launcher.cancel(run_dir)
        print_json(st) if args.json else print(f"{run_dir.name}: {st.get('state')} (stop requested)")
        return 0
    if action == "delete":
        if not args.yes:
            raise InputError("deleting a run removes its checkpoints and metrics: add --yes to confirm")
        launcher.delete(run_dir)
        print_json({"deleted": str(run_dir)}) if args.json else print(f"deleted {run_dir}")
        return 0
    # resume
    if args.background:
        launcher.resume(run_dir)
        print_json(store.effective_status(run_dir)) if args.json else print(f"resuming {run_dir}")
        return 0
    launcher.resume(run_dir, start_worker=False)  # the launcher's checks (state, queue places, disk)
    return run_in_foreground(run_dir, as_json=args.json, quiet=args.quiet)
