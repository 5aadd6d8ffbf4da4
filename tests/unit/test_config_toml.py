""".streamlit/config.toml: the security settings a classroom server relies on (reliability.md, Settings;
issue 13, finding 8). A deleted line, a typo in a key (Streamlit ignores unknown keys with a log line) or a
relaxed value fails here."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit import config as st_config

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"

REQUIRED = {
    "server.enableXsrfProtection": True,  # cross-site request forgery protection on uploads and widget messages
    "server.enableCORS": True,  # CORS protection on (Streamlit's flag means "enforce", not "allow")
    "server.corsAllowedOrigins": [],  # and no origin exempted from it
    "server.enableStaticServing": False,  # no folder published as static files
    "server.headless": True,  # never tries to open a browser on the server
    "server.runOnSave": False,
    "server.fileWatcherType": "none",  # no "source changed, rerun?" prompts for students, no polling CPU
    "browser.gatherUsageStats": False,  # nothing phones home
    "client.showErrorDetails": "none",  # no traceback reaches a browser
    "client.toolbarMode": "minimal",  # no developer menu
    "runner.magicEnabled": False,  # a bare expression in a page never renders by accident
    "runner.postScriptGC": False,  # a full gc.collect(2) per rerun was most of the server's CPU per page view
}
MAX_UPLOAD_MB = 50  # a photo or a small data-set zip; Streamlit's default is 200


def _flat() -> dict:
    flat = {}
    for section, values in tomllib.loads(CONFIG.read_text(encoding="utf-8")).items():
        for key, value in values.items():
            flat[f"{section}.{key}"] = value
    return flat


def test_every_key_is_a_real_streamlit_option():
    known = set(st_config.get_config_options())
    unknown = sorted(k for k in _flat() if k not in known)
    assert not unknown, f"not Streamlit options (typos are silently ignored): {unknown}"


@pytest.mark.parametrize("key,value", sorted(REQUIRED.items()))
def test_security_setting(key, value):
    flat = _flat()
    assert key in flat, f"{key} missing from {CONFIG.name}"
    assert flat[key] == value


def test_upload_size_is_bounded():
    size = _flat().get("server.maxUploadSize")
    assert isinstance(size, int) and 1 <= size <= MAX_UPLOAD_MB


def test_no_secret_is_committed():
    """A cookie secret in the repository would let anyone forge this server's XSRF cookies: Streamlit makes a
    random one per start when none is set."""
    assert "server.cookieSecret" not in _flat()


def test_streamlit_reads_the_file_as_written(monkeypatch):
    """Parsed by Streamlit itself (not only by tomllib): the values are what a running server uses."""
    monkeypatch.chdir(CONFIG.parent.parent)
    st_config.get_config_options(force_reparse=True)
    try:
        for key, value in REQUIRED.items():
            assert st_config.get_option(key) == value, key
        assert st_config.get_option("server.maxUploadSize") == _flat()["server.maxUploadSize"]
    finally:
        st_config.get_config_options(force_reparse=True)
