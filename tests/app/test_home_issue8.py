"""Issue 8.6 / 8.14 / 8.15 on Home: where to go (from NAV), what the weights cache really holds, no network."""
from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))

    def no_network(*args, **kwargs):
        raise AssertionError("Home must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def _home() -> AppTest:
    import streamlit as st

    st.cache_data.clear()  # the overview of another test's caches
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def test_where_to_go_has_a_line_per_page_and_a_start_here():
    import re

    from core.overview import page_summary

    # The pages app.py lists, in its order: Home must follow NAV, so a page added there appears here.
    nav = re.findall(r'st\.Page\("(views/\w+\.py)", title="([^"]+)"', (ROOT / "app.py").read_text())
    nav = [(title, page_summary(ROOT / path, title)) for path, title in nav]
    nav = [(t, s) for t, s in nav if s]
    assert len(nav) >= 5
    at = _home()
    captions = [c.value for c in at.caption]
    for title, summary in nav:  # each with the first line of its own docstring (generated, not typed here)
        assert summary in captions, (title, summary)
    labels = [link.proto.label for link in at.get("page_link")]
    assert labels == [f"Start here: {nav[0][0]}"] + [t for t, _ in nav], labels


def test_weights_line_says_what_is_cached_and_that_downloads_need_internet(tmp_path):
    ckpt = tmp_path / "torch" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    (ckpt / "resnet18-f37072fd.pth").write_bytes(b"placeholder: only its presence is looked at")
    at = _home()
    text = " ".join(m.value for m in at.markdown)
    assert "**1** of 20 architectures are cached on this machine and load offline" in text, text
    assert "needs an internet connection" in text and "downloadable on demand" not in text


def test_statuses_from_the_index_match_weights_status(tmp_path):
    from core.models import ARCHITECTURES, weights_status
    from core.models.weights import manual_weights_path
    from core.overview import weights_statuses

    ckpt = tmp_path / "torch" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    (ckpt / "resnet18-f37072fd.pth").write_bytes(b"x")
    manual_weights_path("seresnet50").write_bytes(b"x")
    assert weights_statuses() == {n: weights_status(n) for n in ARCHITECTURES}
    assert weights_statuses()["seresnet50"] == "cached"  # second call: from the index file
    assert list((tmp_path / "home" / "cache").glob("weights-index-*.json"))


@pytest.mark.slow  # a fresh Python process
def test_indexed_home_facts_need_neither_torchvision_nor_timm(tmp_path):
    from core.overview import weights_index

    weights_index()  # writes the index, as the first Home load does
    code = ("import sys; from core.overview import overview; o = overview(); "
            "print(len(o.weights), 'torchvision' in sys.modules, 'timm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["20", "False", "False"], out.stdout
