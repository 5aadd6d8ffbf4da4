"""Every page listed in the navigation renders in real Chromium without an exception (page tests take screenshots)."""
from __future__ import annotations

from tests.browser.conftest import open_page, screenshot, streamlit_server, wait_for_script


def _nav_paths(page) -> list[str]:
    links = page.locator('[data-testid="stSidebarNav"] a')
    paths = []
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href") or ""
        path = href.split("://", 1)[-1].split("/", 1)[-1] if "://" in href else href.lstrip("/")
        paths.append(path)
    return paths


def test_every_listed_page_renders(app_server, page):
    open_page(page, app_server, "")
    assert page.get_by_text("CNN Playground").first.is_visible()
    screenshot(page, "home")
    paths = _nav_paths(page)
    assert paths, "navigation lists no pages"
    for path in paths:
        open_page(page, app_server, path)
        wait_for_script(page)
        assert page.locator('[data-testid="stMain"]').inner_text().strip(), f"/{path} rendered nothing"


def test_deep_link_as_first_request_gets_the_app_navigation(browser, tmp_path):
    """A fresh server whose first request is a page URL still runs app.py (grouped navigation, wide layout)."""
    with streamlit_server(tmp_path) as base:
        page = browser.new_page()
        try:
            open_page(page, base, "augmentation")
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "Home" in nav and "Models" in nav and "Augmentation lab" in nav, nav
            assert "widgets" not in nav.lower()
        finally:
            page.close()
