"""The augmentation lab in real Chromium: tiles with captions, seed change, CutMix tab, export tab, screenshot."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_script

pytestmark = pytest.mark.browser


def _captions(page) -> list[str]:
    texts = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    return [t for t in texts if t.startswith("#") and "(seed" in t]


def test_augmentation_lab_end_to_end(app_server, page):
    open_page(page, app_server, "augmentation")
    page.get_by_text("Random draws").first.wait_for()
    first = _captions(page)
    assert len(first) == 16 and "RandAugment" in first[0]
    # Streamlit scrolls its main block, not the window: bring the pipeline editor and the grid into view
    page.get_by_text("Random draws").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    screenshot(page, "augmentation")

    seed = page.get_by_role("spinbutton", name="Seed", exact=True).first
    seed.fill("3")
    seed.press("Enter")
    wait_for_script(page)
    assert_no_exception(page)
    changed = _captions(page)
    assert changed != first and "(seed 3)" in changed[0]

    page.get_by_role("tab", name="CutMix & MixUp").click()
    wait_for_script(page)
    assert page.get_by_text("λ = kept area of A").first.is_visible()
    assert_no_exception(page)

    page.get_by_role("tab", name="RandAugment explorer").click()
    assert page.get_by_text("Every operation at M = 9").first.is_visible()

    page.get_by_role("tab", name="Export").click()
    wait_for_script(page)
    button = page.get_by_role("button", name="Download augment_pipeline.py")
    assert button.is_visible()
    with page.expect_download() as dl:
        button.click()
    path = dl.value.path()
    code = open(path, encoding="utf-8").read()
    assert "def make_pipeline(height: int, width: int)" in code and "v2.RandAugment" in code
    assert_no_exception(page)
