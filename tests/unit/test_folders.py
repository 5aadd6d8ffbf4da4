"""Image folders and the safe zip import: every archive hazard of reliability.md §Archives 8–11.

Fixture archives are made by tests/fixtures/make_zip_fixtures.py (committed, tiny).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.data import DataError, class_counts, open_dataset, train_val_split
from core.data.folders import DatasetLayoutError, FolderDataset, delete_imported, list_imported, validate_folder
from core.data.zipimport import ZipLimits, import_zip, safe_name
from core.data.resize import square

ZIPS = Path(__file__).resolve().parents[1] / "fixtures" / "zips"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir())


def assert_nothing_written(tmp_path: Path) -> None:
    """After a failed import: no file anywhere, no staging folder left, no data set."""
    assert files_under(tmp_path) == []
    data = tmp_path / "data"
    assert not (data / "staging").exists() or not any((data / "staging").iterdir())
    assert not (data / "folders").exists() or not any((data / "folders").iterdir())
    assert not Path("/tmp/cnnpg-evil.png").exists()
    assert not (tmp_path / "evil.png").exists() and not (data / "evil.png").exists()


def test_fixtures_exist_and_are_small():
    assert (ZIPS / "good.zip").is_file(), "run tests/fixtures/make_zip_fixtures.py"
    assert sum(p.stat().st_size for p in ZIPS.glob("*.zip")) < 200_000


# ------------------------------------------------------------------------------------------ happy paths
def test_import_good_zip_and_open_it(data_dir):
    report = import_zip(ZIPS / "good.zip", "My Pets!")
    assert report.ok and report.name == "my-pets"
    assert report.classes == ["cat", "dog"] and report.counts == {"cat": 3, "dog": 3}
    target = data_dir / "folders" / "my-pets"
    assert Path(report.root) == target and files_under(target) == [f"{c}/{i}.png" for c in ("cat", "dog") for i in range(3)]
    assert not (data_dir / "staging").exists()
    assert list_imported() == ["my-pets"]
    ds = open_dataset("folder", "train", image_size=16, path="my-pets")
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 0, 1, 1, 1]
    img, label = ds[4]
    assert img.dtype == torch.uint8 and img.shape == (3, 16, 16) and label == 1
    tr, va = train_val_split(ds, 0.34, seed=0)
    assert class_counts(va) == {"cat": 1, "dog": 1}
    delete_imported("my-pets")
    assert list_imported() == []


@pytest.mark.parametrize("kind", ["bytes", "file"])
def test_import_from_bytes_or_file_object(kind):
    data = (ZIPS / "good.zip").read_bytes()
    src = data if kind == "bytes" else io.BytesIO(data)
    if kind == "file":
        src.read()  # a Streamlit rerun hands back an already-read upload
    assert import_zip(src, "pets").total == 6


def test_wrapper_folder_junk_and_non_images(data_dir):
    report = import_zip(ZIPS / "wrapped_with_junk.zip", "wrapped")
    assert report.classes == ["cat", "dog"] and report.counts == {"cat": 3, "dog": 3}
    skipped = dict(report.skipped)
    assert skipped["readme.txt"] == "not inside a class folder"
    assert skipped["dog/notes.txt"] == "not an image file type"
    assert "dog/broken.png" in skipped and skipped["dog/broken.png"]  # the loader's message
    assert any(i.startswith("__MACOSX") for i in report.ignored) and any(".DS_Store" in i for i in report.ignored)
    target = data_dir / "folders" / "wrapped"
    assert files_under(target) == [f"{c}/{i}.png" for c in ("cat", "dog") for i in range(3)]


def test_existing_data_set_is_never_overwritten(data_dir):
    import_zip(ZIPS / "good.zip", "pets")
    before = {p: (data_dir / "folders" / "pets" / p).read_bytes() for p in files_under(data_dir / "folders" / "pets")}
    with pytest.raises(DataError, match="already exists"):
        import_zip(ZIPS / "wrapped_with_junk.zip", "pets")
    after = {p: (data_dir / "folders" / "pets" / p).read_bytes() for p in files_under(data_dir / "folders" / "pets")}
    assert before == after
    assert not (data_dir / "staging").exists()


@pytest.mark.parametrize("name", ["", "   ", "../..", "///", "!!!"])
def test_bad_names(name):
    with pytest.raises(DataError, match="choose a name"):
        safe_name(name)


def test_safe_name_never_is_a_path():
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("Cats & Dogs 2024") == "cats-dogs-2024"
    assert len(safe_name("x" * 300)) == 48


# ------------------------------------------------------------------------------------------ hazards
HAZARDS = [
    # §8: paths that leave the folder, symlinks
    ("traversal.zip", "outside the archive", None),
    ("traversal_inner.zip", "outside the archive", None),
    ("absolute.zip", "absolute path", None),
    ("drive_letter.zip", "absolute path", None),
    ("backslash.zip", "backslash", None),
    ("symlink.zip", "symbolic link", None),
    # §9: bombs (limits are configurable so the fixtures stay tiny)
    ("bomb_ratio.zip", "zip bomb", None),
    ("bomb_ratio.zip", "entry .* unpacks to more than 1 MiB", ZipLimits(max_ratio=1e9, max_entry_bytes=2**20)),
    ("bomb_ratio.zip", "would unpack to", ZipLimits(max_total_bytes=3 * 2**20)),
    # Headers claiming 100 bytes for a 4 MiB entry: passes the declared-size check, then fails on the data.
    ("lying_sizes.zip", "bad CRC", ZipLimits(max_total_bytes=2**20)),
    ("many_entries.zip", "60 entries; the limit is 50", ZipLimits(max_entries=50)),
    ("nested_archive.zip", "archive inside the archive", None),
    # §10: duplicates, case collisions, corruption, encryption
    ("duplicate.zip", "appears twice", None),
    ("case_collision.zip", "collides with", None),
    ("case_collision_dir.zip", "collides with", None),
    ("bad_crc.zip", "bad CRC", None),
    ("encrypted.zip", "encrypted", None),
    ("truncated.zip", "not a zip archive|damaged", None),
    ("not_a_zip.zip", "not a zip archive", None),
]


@pytest.mark.parametrize("fixture,match,limits", HAZARDS, ids=[f"{h[0]}:{h[1][:20]}" for h in HAZARDS])
def test_hazardous_archive_is_rejected_and_leaves_nothing(tmp_path, fixture, match, limits):
    kwargs = {"limits": limits} if limits is not None else {}
    with pytest.raises(DataError, match=match):
        import_zip(ZIPS / fixture, "hostile", **kwargs)
    assert_nothing_written(tmp_path)


def test_rejection_leaves_other_data_sets_alone(tmp_path, data_dir):
    import_zip(ZIPS / "good.zip", "pets")
    with pytest.raises(DataError):
        import_zip(ZIPS / "traversal.zip", "other")
    assert list_imported() == ["pets"]
    assert not (data_dir / "staging").exists()


def test_limits_count_real_bytes_not_headers(tmp_path):
    """The ratio is checked on the bytes produced so far: extraction stops part-way, not after 4 MiB."""
    with pytest.raises(DataError, match="zip bomb"):
        import_zip(ZIPS / "bomb_ratio.zip", "b", limits=ZipLimits(max_ratio=100, ratio_min_bytes=64 * 1024))
    assert_nothing_written(tmp_path)


# ------------------------------------------------------------------------------------------ §11 layouts
@pytest.mark.parametrize("fixture,match", [
    ("one_class.zip", "only one class"),
    ("empty_class.zip", "without a single readable image: bird"),
    ("unreadable_class.zip", "without a single readable image: bird"),
    ("flat.zip", "no class folders"),
])
def test_bad_layouts_are_refused_with_a_report(tmp_path, fixture, match):
    with pytest.raises(DatasetLayoutError, match=match) as info:
        import_zip(ZIPS / fixture, "layout")
    report = info.value.report
    assert not report.ok and report.problems
    if fixture == "unreadable_class.zip":
        assert {r for r, _ in report.skipped} == {"bird/1.png", "bird/2.jpg"}
        assert report.counts == {"bird": 0, "cat": 3, "dog": 3}
    if fixture == "flat.zip":
        assert all(why == "not inside a class folder" for _, why in report.skipped)
    assert_nothing_written(tmp_path)


# ------------------------------------------------------------------------------------------ server folders
def make_folder(base: Path) -> Path:
    root = base / "photos"
    for k, cls in enumerate(("apple", "pear", "plum")):
        (root / cls / "more").mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (40 + 10 * i, 20), (k * 80, i * 100, 50)).save(root / cls / f"{i}.png")
        Image.new("RGB", (12, 30), (1, 2, 3)).save(root / cls / "more" / "deep.jpg")
    (root / "pear" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (root / "pear" / "list.csv").write_text("a,b")
    (root / "plum" / ".hidden.png").write_bytes(b"x")
    (root / "README.md").write_text("fruit")
    return root


def test_server_folder(tmp_path):
    root = make_folder(tmp_path / "server")
    ds = FolderDataset(str(root), image_size=24)
    assert ds.classes == ["apple", "pear", "plum"] and class_counts(ds) == {"apple": 3, "pear": 3, "plum": 3}
    assert ds[0][0].shape == (3, 24, 24)
    skipped = dict(ds.report.skipped)
    assert set(skipped) == {"README.md", "pear/list.csv", "pear/broken.jpg"}
    assert "plum/.hidden.png" in ds.report.ignored
    assert validate_folder(root).counts == {"apple": 3, "pear": 3, "plum": 3}


def test_server_folder_cache_reused_and_invalidated(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "server")
    first = FolderDataset(root, image_size=16)
    import core.data.folders

    def boom(*a, **k):
        raise AssertionError("decoded again although cached")

    monkeypatch.setattr(core.data.folders, "load_image", boom)  # the name the reader calls: must raise
    again = FolderDataset(root, image_size=16)
    assert np.array_equal(first.images, again.images) and again.report.skipped == first.report.skipped
    monkeypatch.undo()
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))
    Image.new("RGB", (20, 20), (9, 9, 9)).save(root / "plum" / "new.png")
    assert len(FolderDataset(root, image_size=16)) == len(first) + 1


def test_count_images_reads_names_only(tmp_path, monkeypatch):
    """The bounded count a duration estimate or a size warning needs: no image decoded (issue 13)."""
    import core.data.folders
    from core.data.folders import count_images

    root = make_folder(tmp_path / "server")
    decoded = FolderDataset(root, image_size=16)  # reference: decodes, drops broken.jpg
    monkeypatch.setattr(core.data.folders, "load_image", lambda *a, **k: pytest.fail("decoded an image"))
    assert count_images(root) == len(decoded) + 1 == 10  # the broken file is only found by decoding
    assert count_images(root, "test") == 0


def test_split_sub_folders(tmp_path):
    for split, n in (("train", 3), ("val", 1)):
        for cls in ("a", "b"):
            (tmp_path / "ds" / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (8, 8)).save(tmp_path / "ds" / split / cls / f"{i}.png")
    assert len(open_dataset("folder", "train", image_size=8, path=str(tmp_path / "ds"))) == 6
    assert len(open_dataset("folder", "val", image_size=8, path=str(tmp_path / "ds"))) == 2
    with pytest.raises(DataError, match="no 'test' sub-folder"):
        open_dataset("folder", "test", image_size=8, path=str(tmp_path / "ds"))


def test_plain_folder_has_only_train(tmp_path):
    root = make_folder(tmp_path)
    with pytest.raises(DataError, match="train/validation split"):
        open_dataset("folder", "test", image_size=8, path=str(root))


@pytest.mark.parametrize("path,match", [("", "choose a folder"), ("/no/such/folder", "folder not found")])
def test_missing_folder(path, match):
    with pytest.raises(DataError, match=match):
        open_dataset("folder", "train", image_size=8, path=path)


def test_one_class_server_folder_refused(tmp_path):
    (tmp_path / "x" / "only").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "x" / "only" / "1.png")
    (tmp_path / "x" / "empty").mkdir()
    with pytest.raises(DatasetLayoutError, match="only one class.*without a single readable image: empty"):
        open_dataset("folder", "train", image_size=8, path=str(tmp_path / "x"))


def test_resize_policy_is_shorter_side_and_centre_crop():
    img = Image.new("RGB", (30, 10), (255, 0, 0))
    img.paste((0, 255, 0), (10, 0, 20, 10))
    img.paste((0, 0, 255), (20, 0, 30, 10))
    out = np.asarray(square(img, 10))
    assert out.shape == (10, 10, 3)
    assert (out[:, 2:8] == (0, 255, 0)).all()  # only the green middle survives, not stretched
    tall = np.asarray(square(Image.new("RGB", (5, 20), (1, 2, 3)), 40))
    assert tall.shape == (40, 40, 3)


def test_hostile_class_names_are_escaped_in_messages(tmp_path):
    root = tmp_path / "evil"
    (root / "<img src=x onerror=alert(1)>").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(root / "<img src=x onerror=alert(1)>" / "1.png")
    with pytest.raises(DatasetLayoutError) as info:
        open_dataset("folder", "train", image_size=8, path=str(root))
    assert "<img" not in str(info.value) and "&lt;img" in str(info.value)
