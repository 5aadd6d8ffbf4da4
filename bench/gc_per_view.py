"""Server CPU per page view with Streamlit's forced garbage collection after every rerun, on vs off.

Run: ``.venv/bin/python -m bench.gc_per_view`` (``--rounds 3``: walks of every listed page per setting).

Why: Streamlit calls ``gc.collect(2)`` after every script run (``runner.postScriptGC``, default on). In this app's
server process torch, torchvision, Captum, timm and Plotly are loaded: a full collection walks ~500k objects
every time a student clicks a widget or changes page, whatever the page does. ``.streamlit/config.toml`` turns it
off; Python's own generational collector still runs (thresholds), so cyclic garbage is still freed.

What it does: starts two real servers one after the other (the same app, ``--runner.postScriptGC true`` and
``false``), walks every page of the navigation in one headless-Chromium session by clicking the sidebar (the way
a student moves: no page reload), once to warm caches, then ``--rounds`` times measured; reports the server
process's own CPU seconds (utime + stime from /proc) per page view for each setting and their ratio. Also prints
the cost of one ``gc.collect(2)`` in this process after importing what the server imports, for reference.
Gotcha: the walk's CPU includes each page's own work (the Explain page computes an attribution), so the ratio
understates the per-rerun saving on cheap pages; the per-page table shows both.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.classroom import _cpu_seconds, _page_paths, _server_pid  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_script  # noqa: E402


def _walk(base: str, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    pid = _server_pid()
    per_page: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(300_000)
        page.goto(base)
        wait_for_script(page, 300_000)
        for rnd in range(rounds + 1):  # round 0 warms the server's caches and is not counted
            for label, path in _page_paths():
                nav = page.locator('[data-testid="stSidebarNav"]')
                link = (nav.locator(f'a[href$="/{path}"]') if path else nav.locator("a")).first
                before = _cpu_seconds(pid)
                link.click()
                wait_for_script(page, 300_000)
                page.wait_for_timeout(300)  # trailing messages (charts, media) handled by the server
                if rnd:
                    per_page.setdefault(label, []).append(_cpu_seconds(pid) - before)
        browser.close()
    return per_page


def _gc_cost() -> tuple[float, int]:
    import captum  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import streamlit  # noqa: F401
    import timm  # noqa: F401
    import torch  # noqa: F401
    import torchvision  # noqa: F401

    import core.explain  # noqa: F401
    import core.models  # noqa: F401

    times = []
    for _ in range(3):
        t = time.process_time()
        gc.collect(2)
        times.append(time.process_time() - t)
    return statistics.median(times), len(gc.get_objects())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="measured walks of every page per setting (default 2)")
    args = ap.parse_args()

    results = {}
    for setting in ("true", "false"):
        with tempfile.TemporaryDirectory(prefix="cnnpg-gcbench-") as home:
            with streamlit_server(Path(home), ("--runner.postScriptGC", setting)) as base:
                results[setting] = _walk(base, args.rounds)

    cost, objects = _gc_cost()
    print(f"one gc.collect(2) here, after the server's imports: {cost * 1000:.0f} ms CPU ({objects:,} objects)")
    print(f"{'page':<22} {'GC on s/view':>13} {'GC off s/view':>14}")
    for label in results["true"]:
        on, off = (statistics.median(results[s][label]) for s in ("true", "false"))
        print(f"{label:<22} {on:>13.3f} {off:>14.3f}")
    mean = {s: statistics.mean(v for vals in results[s].values() for v in vals) for s in results}
    print(f"{'average page view':<22} {mean['true']:>13.3f} {mean['false']:>14.3f}")
    ratio = mean["false"] / mean["true"] if mean["true"] else float("nan")
    print(f"server CPU per view, GC off / GC on: {ratio:.2f} (config.toml uses off; goal of issue 13: <= 0.1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
