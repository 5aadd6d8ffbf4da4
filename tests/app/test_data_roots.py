"""AppTest: "Folder on the server" on the Data sets and Train pages only opens folders inside the allowed data
roots (issue 13, finding 1). ``/``, ``~`` and ``../../..`` are refused with a message saying where folders may
live, and nothing is listed or decoded outside the roots."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.data import roots

ROOT = Path(__file__).resolve().parents[2]
REFUSED = ["/", "~", "../../.."]


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Data folder ``tmp/data`` holding a two-class folder ``mine``; every directory listing the process makes
    is recorded (and still performed), so a test can prove no folder outside the roots was looked into."""
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (data / "mine" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(data / "mine" / cls / f"{i}.png")
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(data))
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv(roots.ENV_VAR, raising=False)
    listed: list[Path] = []

    def recording(fn):
        def wrapper(top=".", *args, **kwargs):
            listed.append(Path(os.fspath(top)).expanduser().resolve())
            return fn(top, *args, **kwargs)

        return wrapper

    for name in ("walk", "scandir", "listdir"):
        monkeypatch.setattr(os, name, recording(getattr(os, name)))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield data.resolve(), listed
    st.cache_resource.clear()
    st.cache_data.clear()


def _outside(listed: list[Path], data: Path) -> list[Path]:
    home = data.parent  # tmp_path: the test's own home and runs folders are listed legitimately
    return [p for p in listed if not p.is_relative_to(home)]


def _datasets_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "datasets.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.selectbox(key="data_name").set_value("folder").run()
    return at.radio(key="data_folder_source").set_value("Folder on the server").run()


@pytest.mark.parametrize("typed", REFUSED)
def test_datasets_page_refuses_folders_outside_the_roots_before_any_scan(env, typed):
    data, listed = env
    at = _datasets_page()
    listed.clear()
    at.text_input(key="data_folder_path").set_value(typed).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("outside the allowed data folders" in e and str(data) in e and roots.ENV_VAR in e for e in errors), errors
    assert not at.metric and not at.get("imgs")  # nothing opened, nothing previewed
    assert _outside(listed, data) == [], _outside(listed, data)[:5]


def test_datasets_page_opens_a_folder_inside_the_data_root(env):
    data, listed = env
    at = _datasets_page()
    at.text_input(key="data_folder_path").set_value(str(data / "mine")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Classes"] == "2" and metrics["Images in 'train'"] == "6"


def test_datasets_page_opens_folders_under_an_instructors_extra_root(env, monkeypatch, tmp_path):
    data, _ = env
    extra = tmp_path / "class-photos"
    (data / "mine").rename(extra)
    at = _datasets_page()
    at.text_input(key="data_folder_path").set_value(str(extra)).run()
    assert any("outside the allowed data folders" in e.value for e in at.error)
    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    at.text_input(key="data_folder_path").set_value(str(extra) + "/").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert {m.label: m.value for m in at.metric}["Classes"] == "2"


@pytest.mark.parametrize("typed", REFUSED)
def test_train_page_refuses_folders_outside_the_roots(env, typed):
    data, listed = env
    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.selectbox(key="train_dataset").set_value("folder").run()
    listed.clear()
    at.text_input(key="train_opt_folder_path").set_value(typed).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("outside the allowed data folders" in e and str(data) in e for e in errors), errors
    assert at.button(key="train_start").disabled and at.button(key="train_estimate").disabled
    assert _outside(listed, data) == [], _outside(listed, data)[:5]
    at.text_input(key="train_opt_folder_path").set_value(str(data / "mine")).run()
    assert not any("outside the allowed" in e.value for e in at.error)
    assert not at.button(key="train_start").disabled
