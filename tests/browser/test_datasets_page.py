"""Data sets page in real Chromium: Shapes preview with masks, then a zip import through the real uploader."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import open_page, screenshot, wait_for_script

ZIPS = Path(__file__).resolve().parents[1] / "fixtures" / "zips"


@pytest.mark.browser
def test_datasets_page_previews_shapes_and_imports_a_zip(app_server, page):
    # Home first: on a fresh server, a first request straight to /datasets would run the page file without
    # app.py (Streamlit only learns about st.navigation once app.py has run).
    open_page(page, app_server, "")
    open_page(page, app_server, "datasets")
    assert "Data sets" in page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert page.get_by_role("heading", name="Data sets").first.is_visible()
    # 16 preview tiles of Shapes, with class captions.
    page.wait_for_selector('[data-testid="stImage"] img')
    assert page.locator('[data-testid="stImage"] img').count() >= 16
    page.get_by_text("Overlay ground-truth masks").click()
    wait_for_script(page)
    page.get_by_text("pixels of the shape").first.wait_for()
    page.locator('[data-testid="stImage"]').last.scroll_into_view_if_needed()
    screenshot(page, "datasets")

    # Switch to "Image folder / zip upload" and import a zip through the browser's file input.
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Image folder / zip upload").click()
    wait_for_script(page)
    page.get_by_test_id("stRadioGroup").get_by_text("Upload a zip").click()
    wait_for_script(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(ZIPS / "wrapped_with_junk.zip"))
    wait_for_script(page)
    page.get_by_role("button", name="Import").click()
    wait_for_script(page)
    page.get_by_text("2 classes, 6 images").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
