"""A class on one server: N concurrent headless-Chromium sessions walk every page and classify an image.

Run: ``.venv/bin/python -m bench.classroom --n 10`` (default ``--n 3``; ``--runs 2`` queues two tiny training
runs first, as a class would; ``--lone`` / ``--no-lone`` toggles the single-session baseline).

What happens: a real ``streamlit run app.py`` starts (``tests/browser/conftest.streamlit_server``, a fresh
``CNNPG_HOME``, ResNet-18 "pretrained" weights seeded as a random state dict under the file name torchvision
expects, so Classify shows real top-5 numbers offline). One session first walks alone (the baseline), then N
sessions walk at once, each in its own browser context: every page in app.py's NAV (home included), then
Architectures -> Classify with the sample photo. A warm-up walk (reported, not counted) fills the server's
caches first, as the instructor's own check before class would.

Reported: errors (exception boxes, timeouts), per-page p50/p95 of the time until the page's script finished
(``data-test-script-state`` back to ``notRunning``), whether every session saw the same numbers as the lone one
(every ``st.metric`` value except timings, and the top-5 chart's labels), the server's peak memory (VmHWM) and
the **server's CPU seconds per page view** (its own utime+stime from ``/proc``, children excluded: training
workers are other processes). Gotcha: the browsers run on the same cores as the server here, so wall times
overstate what a class on its own laptops sees; CPU per view is the figure that says how many students one
core serves.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pages import listed_pages  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402

TIMING = re.compile(r"\b(ms|s|seconds?|min)\b\s*$|forward pass|latency|took", re.I)
SCRIPT_DONE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    const conn = app.getAttribute('data-test-connection-state');
    return app.getAttribute('data-test-script-state') === 'notRunning' && (conn === null || conn === 'CONNECTED');
}"""
SCRIPT_BUSY = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') !== 'notRunning';
}"""


# ------------------------------------------------------------------------------------------ the server process
def _server_pid() -> int:
    """Our child ``streamlit run app.py`` (the harness starts it in a new session, still our child)."""
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ppid == me and "streamlit" in cmd and "app.py" in cmd:
            return int(proc.name)
    raise RuntimeError("server process not found")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------------------------------ one session
def _page_paths() -> list[tuple[str, str]]:
    """(label, url path) of the home page and every page in NAV (Streamlit's url path: the file's stem)."""
    return [("home", "")] + [(Path(p).stem, Path(p).stem) for p in listed_pages()]


async def _wait_script(page, timeout_ms: int, after_action: bool = False) -> None:
    if after_action:  # a click starts a rerun a moment later: wait until it has started (or briefly give up)
        try:
            await page.wait_for_function(SCRIPT_BUSY, timeout=2000)
        except Exception:  # noqa: BLE001 (a rerun that finished within the poll interval)
            pass
    await page.wait_for_function(SCRIPT_DONE, timeout=timeout_ms)


async def _numbers(page) -> list[str]:
    """The numbers a page shows that must not depend on who looks: metrics except timings. The browser may
    still be drawing when the script has finished: read until two reads 0.7 s apart agree (at most ~10 s)."""
    last = await _read_numbers(page)
    for _ in range(15):  # an empty read may be a page not drawn yet: agreeing empties only count after 5 s
        await page.wait_for_timeout(700)
        now = await _read_numbers(page)
        if now == last and (now or _ >= 6):
            break
        last = now
    return last


async def _read_numbers(page) -> list[str]:
    out = []
    metrics = page.locator('[data-testid="stMetric"]')
    for i in range(await metrics.count()):
        text = " ".join((await metrics.nth(i).inner_text()).split())
        if not TIMING.search(text):
            out.append(text)
    return out


async def _session(browser, base: str, index: int, timeout_ms: int) -> dict:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(timeout_ms)
    page.set_default_navigation_timeout(timeout_ms)
    views, errors, numbers = [], [], {}
    try:
        for label, path in _page_paths():
            t0 = time.perf_counter()
            try:
                await page.goto(f"{base}/{path}")
                await _wait_script(page, timeout_ms)
            except Exception as err:  # noqa: BLE001 (reported, the walk goes on)
                errors.append(f"{label}: {type(err).__name__}: {str(err).splitlines()[0][:160]}")
                continue
            views.append((label, time.perf_counter() - t0))
            if await page.locator('[data-testid="stException"]').count():
                text = " ".join((await page.locator('[data-testid="stException"]').first.inner_text()).split())
                errors.append(f"{label}: exception on page: {text[:300]}")
            numbers[label] = await _numbers(page)
        # Classify: Architectures page, "Classify" view, pretrained weights (seeded), the default sample photo
        t0 = time.perf_counter()
        try:
            await page.goto(f"{base}/architectures")
            await _wait_script(page, timeout_ms)
            await page.get_by_test_id("stRadioGroup").first.get_by_text("Classify", exact=True).click()
            await _wait_script(page, timeout_ms, after_action=True)
            chart = page.locator('[data-testid="stPlotlyChart"]').first
            await chart.locator("text.bartext").first.wait_for(timeout=timeout_ms)  # Plotly drew the bars
            labels = await chart.locator("text").evaluate_all("els => els.map(e => e.textContent || '')")
            views.append(("classify", time.perf_counter() - t0))
            numbers["classify"] = sorted(t.strip() for t in labels if t.strip())
            if await page.locator('[data-testid="stException"]').count():
                errors.append("classify: exception on page")
        except Exception as err:  # noqa: BLE001
            errors.append(f"classify: {type(err).__name__}: {str(err).splitlines()[0][:160]}")
    finally:
        await ctx.close()
    return {"session": index, "views": views, "errors": errors, "numbers": numbers}


async def _walk(base: str, n: int, timeout_ms: int) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            return await asyncio.gather(*[_session(browser, base, i, timeout_ms) for i in range(n)])
        finally:
            await browser.close()


# ------------------------------------------------------------------------------------------ set-up and report
def _seed_weights(torch_home: Path) -> None:
    """A random ResNet-18 saved where torchvision looks for its ImageNet weights (no network here)."""
    import torch

    os.environ["TORCH_HOME"] = str(torch_home)
    from core.models import build
    from core.models.weights import weights_cache_path

    path = weights_cache_path("resnet18")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.save(build("resnet18", weights="none").state_dict(), path)


def _queue_runs(k: int) -> list[str]:
    from core.runs import launcher
    from core.train.config import TrainConfig

    return [launcher.start(TrainConfig.from_preset("shapes-tiny")).name for _ in range(k)]


def _phase(base: str, pid: int, n: int, timeout_ms: int) -> dict:
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    sessions = asyncio.run(_walk(base, n, timeout_ms))
    cpu, wall = _cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    n_views = sum(len(s["views"]) for s in sessions)
    return {"n": n, "sessions": sessions, "wall_s": wall, "server_cpu_s": cpu, "views": n_views,
            "cpu_per_view_s": cpu / max(1, n_views), "peak_rss_mib": _peak_rss_mib(pid)}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _report(phase: dict, lone: dict | None) -> dict:
    per_page: dict[str, list[float]] = {}
    for s in phase["sessions"]:
        for label, t in s["views"]:
            per_page.setdefault(label, []).append(t)
    errors = [f"session {s['session']}: {e}" for s in phase["sessions"] for e in s["errors"]]
    reference = lone["sessions"][0]["numbers"] if lone else phase["sessions"][0]["numbers"]
    differ = [f"session {s['session']} {page}: {sorted(set(nums) - set(reference[page]))[:3]} instead of "
              f"{sorted(set(reference[page]) - set(nums))[:3]}"
              for s in phase["sessions"] for page, nums in s["numbers"].items()
              if page in reference and nums != reference[page]]
    all_times = [t for ts in per_page.values() for t in ts]
    print(f"\n--- {phase['n']} session(s) at once: {phase['views']} page views in {phase['wall_s']:.1f} s")
    print(f"{'page':28s} {'p50 (s)':>8s} {'p95 (s)':>8s} {'views':>6s}")
    for label, ts in per_page.items():
        print(f"{label:28s} {statistics.median(ts):8.2f} {_pct(ts, 0.95):8.2f} {len(ts):6d}")
    print(f"{'all pages':28s} {statistics.median(all_times):8.2f} {_pct(all_times, 0.95):8.2f} {len(all_times):6d}")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:20]))
    print(f"same numbers as {'the lone session' if lone else 'session 0'}: "
          f"{'yes' if not differ else 'NO: ' + '; '.join(differ[:6])} "
          f"({sum(len(v) for v in reference.values())} values on {len(reference)} pages compared)")
    print(f"server: {phase['server_cpu_s']:.1f} CPU-s in all, {phase['cpu_per_view_s']:.3f} CPU-s per page view; "
          f"peak memory (VmHWM, since start) {phase['peak_rss_mib']:.0f} MiB")
    return {"n": phase["n"], "views": phase["views"], "wall_s": round(phase["wall_s"], 2),
            "p50_s": round(statistics.median(all_times), 3), "p95_s": round(_pct(all_times, 0.95), 3),
            "per_page": {k: {"p50_s": round(statistics.median(v), 3), "p95_s": round(_pct(v, 0.95), 3)}
                         for k, v in per_page.items()},
            "errors": errors, "numbers_differ": differ, "server_cpu_s": round(phase["server_cpu_s"], 2),
            "cpu_per_view_s": round(phase["cpu_per_view_s"], 4), "peak_rss_mib": round(phase["peak_rss_mib"], 1)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3, help="concurrent browser sessions (default 3)")
    ap.add_argument("--runs", type=int, default=0, help="tiny training runs to queue first (the issue's set-up: 2)")
    ap.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                    help="one untimed walk first, as the instructor's own check before class fills the caches")
    ap.add_argument("--lone", action=argparse.BooleanOptionalAction, default=True,
                    help="walk once alone first: the baseline for times and numbers (default on)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds one page may take before it counts as an error")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    home = Path(tempfile.mkdtemp(prefix="cnnpg-classroom-"))
    os.environ["CNNPG_HOME"] = str(home)
    _seed_weights(home / "torch")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"classroom bench: N = {args.n}, {cores} cores shared by the server, {args.n} browser contexts and any "
          f"other load (load average {os.getloadavg()[0]:.1f}); home {home}")
    out: dict = {"cores": cores, "load_at_start": round(os.getloadavg()[0], 1)}
    timeout_ms = int(args.timeout * 1000)
    with streamlit_server(home) as base:
        pid = _server_pid()
        if args.runs:
            print(f"queued training runs: {', '.join(_queue_runs(args.runs))}")
        if args.warmup:
            print("\n(warm-up walk, one session, not counted)")
            out["warmup"] = _report(_phase(base, pid, 1, timeout_ms), None)
        if args.lone:
            lone = _phase(base, pid, 1, timeout_ms)
            out["lone"] = _report(lone, None)
        else:
            lone = None
        out["concurrent"] = _report(_phase(base, pid, args.n, timeout_ms), lone)
        if lone:
            ratio = out["concurrent"]["p95_s"] / max(1e-9, out["lone"]["p95_s"])
            out["p95_ratio"] = round(ratio, 2)
            print(f"\np95 at N = {args.n}: {ratio:.1f}x the lone session's")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
