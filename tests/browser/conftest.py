"""Real-browser harness: a real ``streamlit run app.py`` server and headless Chromium through Playwright.

Fixtures: ``app_server`` (base URL, one server per session), ``browser`` (session), ``page`` (fresh context each
test). Helper: ``open_page(page, base_url, url_path)`` navigates, waits until the script has finished and
asserts that no exception box is on the page. In CI (``CI=true``) a browser test that cannot run fails instead
of being skipped.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
]


def _cannot_run(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(home: Path, extra_args: tuple[str, ...] = ()):
    """Start ``streamlit run app.py`` on a free port with ``CNNPG_HOME=home``; yield its base URL.

    ``extra_args`` are more ``streamlit run`` flags (e.g. ``("--runner.postScriptGC", "true")`` for a bench)."""
    port = _free_port()
    env = dict(os.environ, CNNPG_HOME=str(home), PYTHONUNBUFFERED="1")
    log_path = home / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", *extra_args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("streamlit server did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.3)
        try:
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("app-home")) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        _cannot_run(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover
        _cannot_run(f"playwright not installed: {err}")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def wait_for_script(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app is connected and its script has stopped running (a rerun may follow an interaction)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_timeout(300)  # let a rerun triggered by the last action start
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            const state = app.getAttribute('data-test-script-state');
            const conn = app.getAttribute('data-test-connection-state');
            return state === 'notRunning' && (conn === null || conn === 'CONNECTED');
        }""",
        timeout=timeout_ms,
    )


def assert_no_exception(page) -> None:
    errs = page.locator('[data-testid="stException"]')
    if errs.count():
        raise AssertionError("exception on page: " + errs.first.inner_text()[:2000])


def open_page(page, base_url: str, url_path: str = "", timeout_ms: int = 120_000):
    """Open ``base_url/url_path``, wait for the script to finish, assert no exception is shown."""
    page.goto(f"{base_url}/{url_path.lstrip('/')}")
    wait_for_script(page, timeout_ms)
    assert_no_exception(page)
    return page


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
