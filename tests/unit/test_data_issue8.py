"""Issue 8 (data half): deleting an imported data set, warnings for tiny splits, a folder with no images."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.data import DataError, size_warnings
from core.data.errors import DatasetNotFound
from core.data.folders import DatasetLayoutError, delete_imported, folders_dir, list_imported, validate_folder
from core.data.zipimport import import_zip

ZIPS = Path(__file__).resolve().parents[1] / "fixtures" / "zips"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_delete_imported_removes_only_that_data_set(data_dir):
    import_zip(ZIPS / "good.zip", "alpha")
    import_zip(ZIPS / "good.zip", "beta")
    delete_imported("alpha")
    assert list_imported() == ["beta"]
    assert not (data_dir / "folders" / "alpha").exists()
    assert sorted(p.name for p in (data_dir / "folders").iterdir()) == ["beta"]  # no .deleting-* left behind


def test_delete_missing_data_set_is_a_typed_error():
    with pytest.raises(DatasetNotFound, match="no imported data set named 'ghost'"):
        delete_imported("ghost")
    import_zip(ZIPS / "good.zip", "once")
    delete_imported("once")
    with pytest.raises(DatasetNotFound):  # a second delete (another tab) is told, not crashed
        delete_imported("once")


@pytest.mark.parametrize("name", ["../data", "/etc", "", "a/b", ".hidden", "UPPER", None])
def test_delete_refuses_names_that_are_not_data_set_names(tmp_path, name):
    victim = tmp_path / "data"
    folders_dir()  # creates data/folders
    with pytest.raises(DataError) as info:
        delete_imported(name)
    assert not isinstance(info.value, DatasetNotFound)
    assert victim.is_dir() and (victim / "folders").is_dir()


def test_delete_does_not_follow_a_symlinked_data_set(tmp_path, data_dir):
    outside = tmp_path / "precious"
    (outside / "cat").mkdir(parents=True)
    (outside / "cat" / "1.png").write_bytes(b"x")
    (folders_dir() / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DatasetNotFound):
        delete_imported("linked")
    assert (outside / "cat" / "1.png").is_file()


def test_size_warnings_for_tiny_shapes():
    counts = {"circle": 1, "square": 1, "triangle": 1, "star": 1, "hexagon": 1, "cross": 0}
    w = size_warnings(counts, train=5, val=0)
    assert len(w) == 3
    assert w[0].startswith("No image of cross in 'train' (1 of 6 classes)")
    assert "Only 5 training images for 6 classes" in w[1]
    assert "validation part is empty" in w[2]


def test_size_warnings_validation_step_and_quiet_for_healthy_sets():
    assert size_warnings({"a": 500, "b": 500}, train=900, val=100) == []
    assert size_warnings({"a": 5000, "b": 5000}, split="test") == []
    (w,) = size_warnings({"a": 40, "b": 40}, train=78, val=2)
    assert w.startswith("Only 2 validation images: each one is 50 % of")
    (w,) = size_warnings({"a": 4, "b": 4}, split="test")
    assert "Only 8 images in 'test'" in w and "steps of 12.5 %" in w
    assert size_warnings({"unlabelled": 3}, split="unlabelled") == []


def test_folder_without_any_image_says_no_images_found(tmp_path):
    for c in ("cat", "dog"):
        (tmp_path / "empty" / c).mkdir(parents=True)
    (tmp_path / "empty" / "dog" / "notes.txt").write_text("hi")
    with pytest.raises(DatasetLayoutError) as info:
        validate_folder(tmp_path / "empty")
    msg = str(info.value)
    assert msg.startswith("empty: no images found in empty (looked in its 2 class folder(s): cat, dog)"), msg
    assert "only one class" not in msg and "(none)" not in msg
