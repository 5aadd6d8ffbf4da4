"""Architectures page in real Chromium: pick an architecture, read its card, open Compare (Plotly renders)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS, open_page, screenshot, wait_for_script


@pytest.mark.browser
def test_architectures_card_and_compare(app_server, page):
    # Home first: a fresh server only knows the st.navigation pages once app.py has run.
    open_page(page, app_server, "")
    open_page(page, app_server, "architectures")
    assert page.get_by_role("heading", name="Architectures").first.is_visible()

    # Pick GoogLeNet in the architecture selectbox.
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="GoogLeNet (Inception-v1) (2014)").click()
    wait_for_script(page)
    page.get_by_text("Signature block: Inception module").first.wait_for()
    page.get_by_text("6.62 M at inference, 13.00 M with the auxiliary heads").first.wait_for()  # counted
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "architectures")

    # Compare view: the zoo scatter and the receptive-field chart are drawn by Plotly.
    page.get_by_test_id("stRadioGroup").first.get_by_text("Compare").click()
    wait_for_script(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 2
    page.get_by_text("Why VGG stacks 3×3 convolutions").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
    screenshot(page, "architectures-compare")
    assert (SCREENSHOTS / "architectures.png").stat().st_size > 10_000
