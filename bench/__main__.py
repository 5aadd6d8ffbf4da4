"""Run every benchmark module in bench/ in turn (each prints its own figures and ratios), with default flags.

    .venv/bin/python -m bench                      # all of them
    .venv/bin/python -m bench default_preset pages # only these
    .venv/bin/python -m bench.default_preset --preset shapes-resnet18   # one, with its own flags
"""
from __future__ import annotations

import pkgutil
import runpy
import sys

import bench


def main() -> int:
    only = set(sys.argv[1:])
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or (only and info.name not in only):
            continue
        print(f"\n=== bench.{info.name}", flush=True)
        sys.argv = [f"bench.{info.name}"]  # each module parses its own flags: give it none of ours
        runpy.run_module(f"bench.{info.name}", run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
