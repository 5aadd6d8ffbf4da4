"""Warm rerun time of every page under Streamlit's AppTest, against a trivial page as the baseline.

The baseline (a script that writes one line) measures the framework's own cost of a rerun in this same process,
so the ratio says how much work each page adds on top of Streamlit itself. Noisy machines: compare ratios,
not absolute times.
"""
from __future__ import annotations

import ast
import os
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "import streamlit as st\nst.title('baseline')\nst.write('one line')\n"


def listed_pages() -> list[str]:
    tree = ast.parse((ROOT / "app.py").read_text())
    return [
        n.args[0].value for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "Page"
        and n.args and isinstance(n.args[0], ast.Constant)
    ]


def warm_rerun_seconds(at: AppTest, repeats: int) -> float:
    at.run()  # cold: imports, model builds, caches
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value}")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(repeats: int = 5) -> None:
    os.environ.setdefault("CNNPG_HOME", tempfile.mkdtemp(prefix="cnnpg-bench-"))
    os.chdir(ROOT)
    base = warm_rerun_seconds(AppTest.from_string(BASELINE, default_timeout=300), repeats)
    print(f"{'page':32s} {'warm rerun (ms)':>16s} {'ratio vs baseline':>18s}")
    print(f"{'(baseline: one-line page)':32s} {base * 1e3:16.1f} {1.0:18.2f}")
    for path in ["app.py", *listed_pages()]:
        t = warm_rerun_seconds(AppTest.from_file(str(ROOT / path), default_timeout=300), repeats)
        print(f"{path:32s} {t * 1e3:16.1f} {t / base:18.2f}", flush=True)


if __name__ == "__main__":
    main()
