"""Train and Runs pages in real Chromium: start a run, reload and find it still progressing, cancel it."""
from __future__ import annotations

import re
import time

import pytest

from core.runs import launcher, store
from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_script

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


def test_run_survives_reload_and_cancels_from_the_page(app_server, page, stop_leftover_runs):
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
    _wait(lambda: "run=" in page.url, 30, "the run id in the URL")
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
    assert run_id in page.locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert "cancelled" in page.get_by_text("Status:").first.inner_text()
    page.wait_for_timeout(1000)
    screenshot(page, "runs")
