"""Receptive fields page in real Chromium: a unit's field drawn on the image, moved to the corner (padding),
and the growth chart comparing architectures. Expected values come from core.receptive_field."""
from __future__ import annotations

import pytest

from core.receptive_field import receptive_fields, unit_field
from tests.browser.conftest import open_page, screenshot, wait_for_script


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.mark.browser
def test_unit_field_and_growth_chart(app_server, page):
    open_page(page, app_server, "")  # a fresh server knows the st.navigation pages once app.py has run
    open_page(page, app_server, "receptive_fields")
    assert page.get_by_role("heading", name="Receptive fields").first.is_visible()

    row = receptive_fields("resnet18", 224).get("layer4")
    assert _metric(page, "Receptive field") == f"{row.size[0]} px"  # square: one number
    # the field drawn on the image: a Plotly image with the analytic (dashed) and real-pixel (solid) boxes
    # Plotly draws the SVG frame first and the image layer a moment later: wait for the image itself
    first = page.locator('[data-testid="stPlotlyChart"]').first
    first.locator("image").first.wait_for(state="attached", timeout=60_000)
    assert first.locator("path[style*='dash']").count() + first.locator(".shapelayer path").count() >= 2

    # move the unit to row 0 with the keyboard: its field now reaches into the padding
    page.get_by_role("slider").first.press("Home")  # the first slider is "Unit row"
    wait_for_script(page)
    u = unit_field(row, 0, row.shape[1] // 2, 224)
    assert u.padding_share > 0
    page.wait_for_function(
        """(want) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(
              m => m.innerText.includes('In padding') && m.innerText.includes(want))""",
        arg=f"{u.padding_share:.0%}", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "receptive-fields")

    # the growth chart: one line per default architecture
    growth = page.locator('[data-testid="stPlotlyChart"]').nth(1)
    growth.scroll_into_view_if_needed()
    for arch in ("alexnet", "vgg16", "resnet50", "googlenet", "densenet121"):
        assert growth.locator(".legendtext", has_text=arch).count() == 1, arch
    screenshot(page, "receptive-fields-growth")
