"""Train and Runs pages in real Chromium: start a run, reload and find it still progressing, cancel it."""
from __future__ import annotations

import re
import time

import pytest

from core.runs import launcher, store
from tests.browser.conftest import assert_no_exception, open_page, screenshot, streamlit_server, wait_for_script

pytestmark = pytest.mark.browser


def _step_shown(page) -> int:
    """The step number in the progress bar text ("step 12/400 · ..."), or -1."""
    for text in page.locator('[data-testid="stProgress"]').all_inner_texts():
        m = re.search(r"step (\d+)/", text)
        if m:
            return int(m.group(1))
    return -1


def _run_heading(page) -> str:
    """The live view's heading, e.g. "🏃 Run 2025…-1a2b — running" ('' when absent)."""
    return next((t for t in page.locator('[data-testid="stHeading"]').all_inner_texts() if "Run " in t), "")


def _wait(cond, timeout_s: float, what: str):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture
def stop_leftover_runs(tmp_path_factory):
    yield
    # whatever happens above, no worker may outlive the test
    for run_dir in tmp_path_factory.getbasetemp().glob("app-home*/runs/*/"):
        if (run_dir / store.CONFIG_FILE).is_file() and store.is_active(run_dir):
            launcher.cancel(run_dir)


def test_run_survives_reload_and_cancels_from_the_page(app_server, page, stop_leftover_runs, tmp_path_factory):
    open_page(page, app_server, "")  # a fresh server's first page must be the entry point (see the report)
    open_page(page, app_server, "train")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").first.click()
    page.get_by_role("option", name="Shapes · smoke test (seconds)").click()
    wait_for_script(page)
    for label, value in (("Epochs", "50"), ("Max steps (0 = no cap)", "400")):
        box = page.get_by_role("spinbutton", name=label, exact=True).first
        box.fill(value)
        box.press("Enter")
        wait_for_script(page)
    assert_no_exception(page)
    page.get_by_role("button", name="Start training").click()
    wait_for_script(page)
    page.wait_for_url(re.compile(r".*[?&]run="), timeout=30_000)  # sync Playwright refreshes page.url only in its own calls
    run_id = page.url.split("run=", 1)[1].split("&", 1)[0]
    assert run_id in _wait(lambda: _run_heading(page), 30, "the run's heading")
    first = _wait(lambda: max(_step_shown(page), 0), 240, "the first training steps")

    page.reload()  # a browser refresh: the page must find the same run and keep following it
    wait_for_script(page)
    assert_no_exception(page)
    assert run_id in page.url and run_id in _run_heading(page)
    _wait(lambda: _step_shown(page) > first, 120, "progress after the reload")
    page.get_by_text("Loss (cross-entropy)").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "train")

    page.get_by_role("button", name="Cancel").click()
    _wait(lambda: _run_heading(page).endswith("cancelled"), 60, "the run to show as cancelled")
    assert_no_exception(page)

    open_page(page, app_server, "runs")
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.get_by_text("Validation accuracy").first.wait_for()  # the comparison chart has drawn
    # Shown as cancelled (the shared server also holds other tests' runs, so Compare's defaults may differ).
    root = next(tmp_path_factory.getbasetemp().glob("app-home*")) / "runs"
    assert store.effective_status(root / run_id)["state"] == "cancelled"
    assert "cancelled" in page.get_by_text("Status:").first.inner_text()
    page.wait_for_timeout(1000)
    screenshot(page, "runs")


# The browser of the Runs-page test: its address bar carries this token (?u=...), and the runs it may delete
# record it as their owner (issue 13: a browser acts only on its own runs).
RUNS_TOKEN = "runs-page-browser-token-01"


def _fake_finished_run(root, acc: float):
    """A completed run folder as the worker leaves it (metrics, status), without training; owned by RUNS_TOKEN."""
    from core.runs import owners
    from core.train import TrainConfig

    run_dir = store.create_run(TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32, epochs=2), root,
                               owner=owners.owner_id(RUNS_TOKEN))
    store.append_metrics(run_dir, {"type": "meta", "step": 0, "total_steps": 8, "epochs": 2, "classes": ["a", "b"],
                                   "num_train": 108, "num_val": 12, "num_test": 20})
    for step in (1, 4, 8):
        store.append_metrics(run_dir, {"type": "train", "step": step, "epoch": step / 4, "loss": 2 / step,
                                       "acc": acc, "lr": 0.01, "img_per_s": 100, "eta_s": 0, "total_steps": 8})
        if step % 4 == 0:
            store.append_metrics(run_dir, {"type": "eval", "split": "val", "step": step, "epoch": step / 4,
                                           "loss": 1 / step, "acc": acc * step / 8, "n": 12,
                                           "per_class_acc": [acc, acc], "confusion": [[5, 1], [1, 5]]})
    store.append_metrics(run_dir, {"type": "test", "split": "test", "dataset_split": "test", "step": 8, "epoch": 2.0,
                                   "loss": 0.5, "acc": acc, "n": 20, "per_class_acc": [acc, acc],
                                   "confusion": [[9, 1], [1, 9]], "misclassified": []})
    store.write_status(run_dir, state="completed", started=time.time() - 60, ended=time.time(), message="finished")
    time.sleep(1.05)  # run ids are timestamped to the second
    return run_dir


def _pick(page, label: str, option: str, tries: int = 5) -> None:
    """Choose ``option`` in the select box labelled ``label``: type it to filter the list, then click it.

    By its exact label: has_text alone is a case-insensitive substring ("Run" would match "runs" anywhere). The
    list is opened once the script is idle and reopened if it closed meanwhile (a polling fragment reruns every
    few seconds while a run is active); typing keeps the wanted option in the (virtualised) list. The lookup that
    timed out once in a full browser run (issue 8) waited 60 s on one click, with no second chance."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True)).first
    for attempt in range(tries):
        wait_for_script(page)
        box.click()
        page.keyboard.type(option)
        item = page.get_by_role("option", name=option, exact=True)
        try:
            item.wait_for(state="visible", timeout=10_000)
            item.click(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the list closed under us; try again
            page.keyboard.press("Escape")
            if attempt == tries - 1:
                raise
    wait_for_script(page)
    assert _selected(page, label) == option, (option, _selected(page, label))


def _selected(page, label: str) -> str:
    """The value a select box shows: Streamlit's combo box keeps it in its input, not in the element's text."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("input").first.input_value()


def _hue_gap(css_a: str, css_b: str) -> float:
    """Degrees between the hues of two CSS "rgb(r, g, b)" colours (a dark and a light blue: about 0)."""
    import colorsys
    import re as _re

    def hue(css: str) -> float:
        r, g, b = (int(v) / 255 for v in _re.findall(r"\d+", css)[:3])
        return 360 * colorsys.rgb_to_hsv(r, g, b)[0]

    gap = abs(hue(css_a) - hue(css_b)) % 360
    return min(gap, 360 - gap)


def _overlap(a: dict | None, b: dict | None) -> bool:
    return bool(a and b and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
                and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_runs_page_delete_compare_live_status_and_open_in_train(page, tmp_path):
    """Issue 8.1, 8.12, 8.13 in a real browser: one tick deletes one run, distinct colours, a live status caption,
    a label that fits, a same-tab link to the Train page, chart titles clear of Plotly's toolbar.

    Its own server and home: the shared server holds other tests' runs, which change the defaults checked here."""
    home = tmp_path / "home"
    home.mkdir()
    with streamlit_server(home) as base:
        open_page(page, base, "")  # a fresh server's first page is the entry point
        _runs_page_checks(page, base, home / "runs")


def _runs_page_checks(page, app_server: str, root) -> None:
    import subprocess
    import sys

    from core.runs import owners

    a, b = _fake_finished_run(root, 0.7), _fake_finished_run(root, 0.9)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        live = store.create_run(store.load_config(a), root, owner=owners.owner_id(RUNS_TOKEN))
        store.begin_session(live, state="running", started=time.time(), pid=sleeper.pid,
                            pid_start=store.process_start_time(sleeper.pid), message="queued — resuming")
        open_page(page, app_server, f"runs?u={RUNS_TOKEN}")
        compare = page.locator('[data-testid="stMultiSelect"]').filter(
            has=page.get_by_text("Runs to compare", exact=True)).first.inner_text()
        assert a.name in compare and b.name in compare and live.name not in compare  # the two finished runs
        page.get_by_text("Validation accuracy").first.wait_for()
        strokes = page.locator(".js-plotly-plot").first.evaluate(
            "el => Array.from(el.querySelectorAll('.scatterlayer path.js-line')).map(p => p.style.stroke)")
        assert len(strokes) == 2 and _hue_gap(*strokes) > 60, strokes  # not two blues

        # the status caption follows the run without a reload
        _pick(page, "Run", live.name)
        assert "running" in page.get_by_text("Status:").first.inner_text()
        sleeper.terminate()
        store.end_session(live, state="completed", message="finished")
        _wait(lambda: "completed" in page.get_by_text("Status:").first.inner_text(), 20, "the caption to update")
        wait_for_script(page)

        # one tick arms one click for one run
        _pick(page, "Run", b.name)
        box = page.get_by_text("I want to delete it").first
        assert box.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the checkbox label is cut off"
        box.click()
        wait_for_script(page)
        page.get_by_role("button", name="Delete run").click()
        wait_for_script(page)
        assert_no_exception(page)
        assert not b.exists() and a.exists() and live.exists()
        assert page.get_by_role("button", name="Delete run").count() == 0  # nothing is selected, nothing armed
        assert _selected(page, "Run") == ""  # selection cleared, not slid to another run
        _pick(page, "Run", a.name)
        assert page.get_by_role("button", name="Delete run").is_disabled()
        page.get_by_text("Confusion matrix").first.wait_for()
        page.wait_for_timeout(800)
        screenshot(page, "runs-manage")

        # Open in Train: a link in the same tab, to the Train page showing this run, for the same browser identity
        link = page.get_by_role("link", name="Open in Train").first
        href = link.get_attribute("href") or ""
        assert f"run={a.name}" in href and f"u={RUNS_TOKEN}" in href, href
        assert link.get_attribute("target") in (None, "", "_self"), link.get_attribute("target")
        wait_for_script(page)
        # The click does navigate (issue 8's "did not navigate" was the test's doing): Streamlit switches pages in
        # the browser after click() has returned, and sync Playwright refreshes page.url only while one of its own
        # calls runs, so a loop of time.sleep reading page.url could wait forever. wait_for_url keeps listening.
        link.click()
        page.wait_for_url(lambda url: f"run={a.name}" in url and "/train" in url, timeout=90_000)
        wait_for_script(page)
        assert f"u={RUNS_TOKEN}" in page.url  # the same browser identity on the Train page
        assert len(page.context.pages) == 1 and "train" in page.url
        assert a.name in _run_heading(page) and "LeNet-5" in page.get_by_text("LeNet-5 ·").first.inner_text()
        chart = page.locator(".js-plotly-plot").first
        chart.hover()
        page.wait_for_timeout(500)
        title = chart.locator(".gtitle").first.bounding_box()
        bar = chart.locator(".modebar").first.bounding_box()
        assert title and bar and not _overlap(title, bar), (title, bar)
        screenshot(page, "train-finished-run")
    finally:
        sleeper.kill()
