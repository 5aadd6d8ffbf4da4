"""AppTest for views/datasets.py: Shapes by default, masks, bias warning, offline download, zip import."""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
ZIPS = ROOT / "tests" / "fixtures" / "zips"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError(OSError("Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    st.cache_resource.clear()  # data sets cached by an earlier test live in another tmp folder
    yield
    st.cache_resource.clear()


def run_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "datasets.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def test_shapes_by_default_with_counts_split_and_masks(tmp_path):
    at = run_page()
    assert at.selectbox(key="data_name").value == "shapes"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Images in 'train'"] == "12,000" and metrics["Classes"] == "6"
    assert metrics["Train / validation"] == "10,800 / 1,200"
    # The preview rendered 16 images lazily, not the whole split.
    assert not list((tmp_path / "data" / "cache").glob("shapes-*.npz"))
    at.number_input(key="data_shapes_n").set_value(60).run()
    at.toggle(key="data_masks").set_value(True).run()
    assert not at.exception
    assert any("pixels of the shape" in c.value for c in at.caption)


def test_bias_warning_and_test_split():
    at = run_page()
    at.number_input(key="data_shapes_n").set_value(60).run()
    at.slider(key="data_shapes_bias").set_value(0.8).run()
    assert not at.exception
    assert any("background colour alone predicts" in w.value for w in at.warning)
    at.selectbox(key="data_shapes_split").set_value("test").run()
    assert not at.exception and not at.warning
    assert {m.label: m.value for m in at.metric}["Images in 'test'"] == "10"


def test_builtin_offline_download_shows_a_clear_error():
    at = run_page()
    at.selectbox(key="data_name").set_value("cifar10").run()
    assert not at.exception
    assert any("not downloaded yet" in i.value for i in at.info)
    at.button(key="data_download").click().run()
    assert not at.exception
    assert any("no network connection" in e.value for e in at.error)


def test_zip_import_shows_report_and_opens_the_data_set(tmp_path):
    at = run_page()
    at.selectbox(key="data_name").set_value("folder").run()
    at.radio(key="data_folder_source").set_value("Upload a zip").run()
    at.file_uploader(key="data_zip").upload("wrapped pets.zip", (ZIPS / "wrapped_with_junk.zip").read_bytes(),
                                           "application/zip").run()
    assert at.text_input(key="data_zip_name").placeholder == "wrapped pets"
    at.button(key="data_import").click().run()
    assert not at.exception, at.exception
    assert any("wrapped-pets" in s.value and "2 classes, 6 images" in s.value for s in at.success)
    assert (tmp_path / "data" / "folders" / "wrapped-pets" / "cat").is_dir()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Classes"] == "2" and metrics["Images in 'train'"] == "6"
    at.radio(key="data_folder_source").set_value("Imported data set").run()
    assert at.selectbox(key="data_imported").value == "wrapped-pets" and not at.exception


@pytest.mark.parametrize("fixture,message", [
    ("traversal.zip", "archive rejected"),
    ("bomb_ratio.zip", "zip bomb"),
    ("one_class.zip", "only one class"),
])
def test_bad_zip_shows_error_not_traceback(tmp_path, fixture, message):
    at = run_page()
    at.selectbox(key="data_name").set_value("folder").run()
    at.radio(key="data_folder_source").set_value("Upload a zip").run()
    at.file_uploader(key="data_zip").upload(fixture, (ZIPS / fixture).read_bytes(), "application/zip").run()
    at.button(key="data_import").click().run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert not any((tmp_path / "data" / "folders").iterdir())


def test_missing_server_folder():
    at = run_page()
    at.selectbox(key="data_name").set_value("folder").run()
    at.radio(key="data_folder_source").set_value("Folder on the server").run()
    at.text_input(key="data_folder_path").set_value("/no/such/folder").run()
    assert not at.exception
    assert any("folder not found" in e.value for e in at.error)
