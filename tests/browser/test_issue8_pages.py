"""Issue 8 in real Chromium (Home, Data sets, Architectures): what a student saw wrong, seen fixed.

Screenshots (docs/screenshots/): home-where-to-go, datasets-import-error, datasets-delete, datasets-tiny,
architectures-compare-labels.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_script

ZIPS = Path(__file__).resolve().parents[1] / "fixtures" / "zips"


def _upload_and_import(page, fixture: str, name: str) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(ZIPS / fixture))
    wait_for_script(page)
    box = page.get_by_role("textbox", name="Name for the data set")
    box.fill(name)
    box.press("Enter")
    wait_for_script(page)
    page.get_by_role("button", name="Import").click()
    wait_for_script(page)


@pytest.mark.browser
def test_home_where_to_go(app_server, page):
    open_page(page, app_server, "")
    page.get_by_text("Start here: Architectures").first.wait_for()
    page.get_by_text("The model zoo. A card per model").first.wait_for()
    assert "needs an internet connection" in page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("heading", name="Where to go").scroll_into_view_if_needed()
    screenshot(page, "home-where-to-go")


@pytest.mark.browser
def test_datasets_failed_import_delete_and_tiny_shapes(app_server, page):
    open_page(page, app_server, "")
    open_page(page, app_server, "datasets")
    # Shapes with n = 5: the empty class and the empty validation part are called out.
    n_box = page.get_by_role("spinbutton", name="n", exact=True)
    n_box.fill("5")
    n_box.press("Enter")
    wait_for_script(page)
    page.get_by_text("No image of cross").first.wait_for()
    page.get_by_text("validation part is empty").first.wait_for()
    page.get_by_text("No image of cross").first.scroll_into_view_if_needed()
    screenshot(page, "datasets-tiny")

    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Image folder / zip upload").click()
    wait_for_script(page)
    page.get_by_test_id("stRadioGroup").get_by_text("Upload a zip").click()
    wait_for_script(page)
    _upload_and_import(page, "good.zip", "pets")
    page.get_by_text("2 classes, 6 images").first.wait_for()
    # A one-class zip next: only its error remains, nothing of "pets".
    _upload_and_import(page, "one_class.zip", "solo")
    page.get_by_text("only one class").first.wait_for()
    wait_for_script(page)
    # Elements of the previous run fade out when the new one ends: wait for that, then nothing of "pets" is left.
    page.locator('[data-testid="stMetric"]').first.wait_for(state="detached", timeout=30_000)
    page.get_by_text("only one class").first.scroll_into_view_if_needed()
    screenshot(page, "datasets-import-error")
    main = page.locator('[data-testid="stMain"]')
    assert "2 classes, 6 images" not in main.inner_text()
    assert page.locator('[data-testid="stMetric"]').count() == 0, main.inner_text()
    assert page.locator('[data-testid="stImage"]').count() == 0

    # Delete "pets" from the imported list: tick its own confirmation, one click.
    page.get_by_test_id("stRadioGroup").get_by_text("Imported data set").click()
    wait_for_script(page)
    page.get_by_text("Delete the data set pets").click()
    page.get_by_text("Yes, delete pets").click()
    wait_for_script(page)
    page.get_by_text("Yes, delete pets").scroll_into_view_if_needed()
    screenshot(page, "datasets-delete")
    page.get_by_role("button", name="Delete data set").click()
    wait_for_script(page)
    page.get_by_text("Deleted the data set pets.").first.wait_for()
    # Other tests on the shared server may have imported data sets of their own: "pets" alone must be gone.
    wait_for_script(page)
    assert page.get_by_text("Delete the data set pets").count() == 0
    assert_no_exception(page)


@pytest.mark.browser
def test_architectures_compare_labels(app_server, page):
    open_page(page, app_server, "")
    open_page(page, app_server, "architectures")
    page.get_by_test_id("stRadioGroup").first.get_by_text("Compare").click()
    wait_for_script(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
    page.get_by_text("selected: ResNet-18").first.wait_for()
    assert_no_exception(page)
    page.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
    screenshot(page, "architectures-compare-labels")
    # Overlap check on the rendered SVG: the text labels' boxes are disjoint.
    boxes = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .textpoint text')]
        .filter(t => t.textContent).map(t => { const b = t.getBoundingClientRect();
        return [b.left, b.top, b.right, b.bottom, t.textContent]; })""")
    assert len(boxes) >= 8
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1), (a, b)
