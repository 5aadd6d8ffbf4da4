"""Lesson pages in real Chromium: each runs its experiment from the page (small budget) and shows measured results."""
from __future__ import annotations

import time

import pytest

from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_script

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait_for(page, selector: str, count: int, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        assert_no_exception(page)
        if page.locator(selector).count() >= count:
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {count} × {selector}")


def _fill(page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True).first
    box.fill(value)


def test_knn_lesson_page(app_server, page):
    open_page(page, app_server, "")
    open_page(page, app_server, "lesson_knn")
    assert "k-NN vs learned" in page.locator('[data-testid="stSidebarNav"]').inner_text()
    _fill(page, "Training steps (linear layer and CNN, 64 images each)", "20")
    page.get_by_role("button", name="Run the experiment").click()
    wait_for_script(page, timeout_ms=300_000)
    _wait_for(page, '[data-testid="stPlotlyChart"]', 3, 300)
    text = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    assert "training images, k-NN on raw pixels scored" in text
    assert page.get_by_text("Measured on this server").count() == 1
    # The galleries: 4 queries × 2 spaces × (query + 5 neighbours).
    _wait_for(page, '[data-testid="stImage"] img', 48, 60)
    page.get_by_text("Test accuracy").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let Plotly draw
    screenshot(page, "lesson-knn")


def test_depth_lesson_page(app_server, page):
    open_page(page, app_server, "")
    open_page(page, app_server, "lesson_depth")
    page.get_by_role("slider").first.press("Home")  # depth 8: the smallest network keeps the test short
    _fill(page, "Training steps per network (AdamW, 32 images)", "10")
    page.get_by_role("button", name="Run the experiment").click()
    wait_for_script(page, timeout_ms=300_000)
    _wait_for(page, '[data-testid="stPlotlyChart"]', 4, 300)
    text = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    assert "At initialisation the first layer's gradient is" in text and "plain-8" in text
    assert page.get_by_text("8 paths through 3 blocks").count() == 1
    page.get_by_text("Gradient norm of every layer").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    screenshot(page, "lesson-depth")


def test_fc_conv_lesson_page(app_server, page):
    open_page(page, app_server, "")
    open_page(page, app_server, "lesson_fc_conv")
    # The columns (sliders, metrics) can draw a moment after the script has finished: wait for the metric.
    page.get_by_text("Fully connected", exact=True).first.wait_for(timeout=60_000)
    _fill(page, "Training steps (AdamW, 64 images each)", "20")
    page.get_by_role("button", name="Train both").click()
    wait_for_script(page, timeout_ms=300_000)
    _wait_for(page, '[data-testid="stImage"] img', 6 + 16, 300)
    text = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    assert "the single fully connected layer" in text
    page.get_by_text("What they learned").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    screenshot(page, "lesson-fc-conv")


def test_shortcut_lesson_page(app_server, page):
    open_page(page, app_server, "")
    open_page(page, app_server, "lesson_shortcut")
    _wait_for(page, '[data-testid="stImage"] img', 12, 120)
    page.get_by_role("slider").nth(1).press("Home")  # 1,000 training images and one epoch keep the test short
    _fill(page, "Epochs per network (lenet5, AdamW, batch 64)", "1")
    page.get_by_role("button", name="Start the three runs").click()
    # Three engine runs (worker subprocesses, one after another), then three pointing games on the page.
    _wait_for(page, '[data-testid="stAlertContentSuccess"]', 1, 900)
    text = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    assert "on held-out biased images but" in text and "unbiased test split" in text
    assert page.get_by_text("1 epoch each").count() == 1
    page.get_by_text("Measured on this server").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    screenshot(page, "lesson-shortcut")
