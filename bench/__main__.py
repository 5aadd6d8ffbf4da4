"""Run every benchmark module in bench/ in turn (each prints its own figures and ratios)."""
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
        runpy.run_module(f"bench.{info.name}", run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
