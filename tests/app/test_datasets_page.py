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
    assert not at.exception and not any("background colour" in w.value for w in at.warning)
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


def test_missing_server_folder(tmp_path):
    at = run_page()
    at.selectbox(key="data_name").set_value("folder").run()
    at.radio(key="data_folder_source").set_value("Folder on the server").run()
    # inside the allowed data root (outside it, the page refuses first: tests/app/test_data_roots.py)
    at.text_input(key="data_folder_path").set_value(str(tmp_path / "data" / "no" / "such")).run()
    assert not at.exception
    assert any("folder not found" in e.value for e in at.error)


# ------------------------------------------------------------------------------ issue 8: imports, deletion, tiny sets
def _import(at: AppTest, fixture: str, name: str = "") -> AppTest:
    at.file_uploader(key="data_zip").upload(fixture, (ZIPS / fixture).read_bytes(), "application/zip").run()
    at.text_input(key="data_zip_name").set_value(name).run()
    return at.button(key="data_import").click().run()


def _folder_page(source: str = "Upload a zip") -> AppTest:
    at = run_page()
    at.selectbox(key="data_name").set_value("folder").run()
    return at.radio(key="data_folder_source").set_value(source).run()


def test_failed_import_clears_the_previous_data_set():
    at = _import(_folder_page(), "good.zip", "pets")
    assert any("2 classes, 6 images" in s.value for s in at.success) and at.metric
    _import(at, "one_class.zip", "solo")
    assert not at.exception
    assert any("only one class" in e.value for e in at.error)
    # Only the error: no old success, no counts, no chart, no previews of the earlier import.
    assert not at.success and not at.metric, [s.value for s in at.success]
    assert not at.get("plotly_chart") and not at.get("imgs")


def test_reimporting_a_used_name_shows_only_the_error():
    at = _import(_folder_page(), "good.zip", "pets")
    assert at.success
    at.button(key="data_import").click().run()
    assert not at.exception
    assert [e.value for e in at.error if "already exists" in e.value]
    assert not at.success and not at.metric


def test_delete_an_imported_data_set_with_a_confirmation_for_that_one(tmp_path):
    at = _import(_folder_page(), "good.zip", "alpha")
    _import(at, "good.zip", "beta")
    at.radio(key="data_folder_source").set_value("Imported data set").run()
    at.selectbox(key="data_imported").set_value("alpha").run()
    assert at.button(key="data_delete").disabled
    at.checkbox(key="data_delete_confirm::alpha").check().run()
    assert not at.button(key="data_delete").disabled
    # The confirmation belongs to alpha: picking beta shows an unticked box and a disabled button.
    at.selectbox(key="data_imported").set_value("beta").run()
    assert not at.checkbox(key="data_delete_confirm::beta").value and at.button(key="data_delete").disabled
    at.selectbox(key="data_imported").set_value("alpha").run()
    assert at.button(key="data_delete").disabled  # coming back does not re-arm it either
    at.checkbox(key="data_delete_confirm::alpha").check().run()
    at.button(key="data_delete").click().run()
    assert not at.exception, at.exception
    assert any("Deleted the data set alpha" in s.value for s in at.success)
    assert not (tmp_path / "data" / "folders" / "alpha").exists()
    assert (tmp_path / "data" / "folders" / "beta").is_dir()
    # One click: the page now shows beta, with its own confirmation unticked and the button disabled.
    assert at.selectbox(key="data_imported").value == "beta"
    assert not at.checkbox(key="data_delete_confirm::beta").value and at.button(key="data_delete").disabled


def test_tiny_shapes_warns_about_empty_class_and_empty_validation():
    at = run_page()
    at.number_input(key="data_shapes_n").set_value(5).run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "No image of cross" in text, text
    assert "validation part is empty" in text and "5 training images" in text
    at.number_input(key="data_shapes_n").set_value(12_000).run()
    assert not at.warning


def test_server_folder_without_images_says_so(tmp_path):
    for c in ("cat", "dog"):  # inside the data folder: server folders elsewhere are refused
        (tmp_path / "data" / "empty" / c).mkdir(parents=True)
    at = _folder_page("Folder on the server")
    at.text_input(key="data_folder_path").set_value(str(tmp_path / "data" / "empty")).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "no images found in empty" in errors and "(none)" not in errors, errors


# ------------------------------------------------------------------------------ issue 13: storage budget and errors
def test_storage_panel_shows_what_uses_the_space_and_the_budget_refuses_an_import(tmp_path, monkeypatch):
    from core.budget import disk_usage, fmt_bytes

    monkeypatch.delenv("CNNPG_DISK_BUDGET_GB", raising=False)
    st.cache_data.clear()  # the panel's figures are cached for a few seconds
    at = _import(_folder_page(), "good.zip", "pets")
    assert at.success and not at.exception
    usage = disk_usage(with_items=True)
    size = dict(usage.items["imports"])["pets"]
    assert size > 0
    labels = [e.label for e in at.expander if e.label.startswith("Storage on the server")]
    # drawn before this run decoded the set into the cache: the import is in it, the new cache file not yet
    assert labels == [f"Storage on the server: {fmt_bytes(usage.total_bytes - usage.parts['caches'])} of 10.0 GiB"]
    tables = [t.value for t in at.dataframe]
    imports = next(t for t in tables if "imported data set" in t.columns)
    assert list(imports["imported data set"]) == ["pets"] and list(imports["size"]) == [fmt_bytes(size)]
    kinds = next(t for t in tables if "what" in t.columns)
    assert fmt_bytes(size) in list(kinds[kinds["what"].str.startswith("Imported")]["size"])
    # over the budget: the next import is refused with the figures, and nothing is written
    monkeypatch.setenv("CNNPG_DISK_BUDGET_GB", str(size / 2 / 2**30))
    _import(at, "good.zip", "more")
    assert not at.exception
    assert any("budget" in e.value and "delete" in e.value for e in at.error), [e.value for e in at.error]
    assert sorted(p.name for p in (tmp_path / "data" / "folders").iterdir()) == ["pets"]


def test_read_only_data_folder_gives_a_clear_message(tmp_path, monkeypatch):
    """A read-only var/ (chmod has no effect for root: os.mkdir raises EROFS instead) says so, no traceback."""
    import errno
    import os

    real_mkdir = os.mkdir
    data = str(tmp_path / "data")

    def read_only(path, *args, **kwargs):
        if str(path).startswith(data):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "views" / "datasets.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert any(e.value.startswith("cannot write to " + data) and "read-only file system" in e.value
               for e in at.error), [e.value for e in at.error]


def test_open_folder_data_sets_are_bounded_by_bytes(monkeypatch):
    """Each decoded folder holds all its pixels (up to 4 GiB): the page keeps them by bytes, not by count."""
    from core.budget import dataset_cache

    per_set = 6 * 3 * 128 * 128  # good.zip: 6 images at the folder default of 128 px
    monkeypatch.setenv("CNNPG_DATASET_CACHE_MB", str(1.5 * per_set / 2**20))  # room for one, not two
    dataset_cache().clear()
    at = _import(_folder_page(), "good.zip", "alpha")
    _import(at, "good.zip", "beta")
    assert not at.exception and {m.label: m.value for m in at.metric}["Images in 'train'"] == "6"
    cache = dataset_cache()
    assert len(cache) == 1 and cache.bytes == per_set <= cache.max_bytes
    at.radio(key="data_folder_source").set_value("Imported data set").run()
    at.selectbox(key="data_imported").set_value("alpha").run()  # reopened from the disk cache, still right
    assert not at.exception and {m.label: m.value for m in at.metric}["Images in 'train'"] == "6"
    assert len(dataset_cache()) == 1
    dataset_cache().clear()
