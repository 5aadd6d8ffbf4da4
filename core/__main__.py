"""``python -m core <command> ...``: the command-line face of the playground.

Each subcommand lives in its own module under ``core/cli/`` and exposes ``register(subparsers)``;
modules are discovered automatically, so adding a command touches no shared file.
Errors the user caused (:class:`core.errors.PlaygroundError`) exit with status 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import core.cli
from core.errors import PlaygroundError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="CNN Playground command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(core.cli.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"core.cli.{info.name}")
        module.register(sub)
    return parser



def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PlaygroundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (OSError, RuntimeError, ValueError) as err:  # environment faults: one clear line, no traceback
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
