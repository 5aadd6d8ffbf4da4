"""torchvision data sets with tiny stand-ins written in torchvision's own on-disk formats; never the network."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import core.data.builtin as builtin
from core.data import DATASETS, DatasetUnavailable, class_counts, open_dataset, preview_grid

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError(OSError("Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", no_network)  # belt and braces: tests never go online
    return tmp_path / "data"


@pytest.fixture
def trust_checksums(monkeypatch):
    """Stand-in files cannot match the real MD5s torchvision checks after unpacking."""
    import torchvision.datasets.cifar as cifar
    import torchvision.datasets.stl10 as stl10

    def exists(fpath, md5=None):
        return os.path.isfile(fpath)

    monkeypatch.setattr(cifar, "check_integrity", exists)
    monkeypatch.setattr(stl10, "check_integrity", exists)


def write_fake_cifar(folder: Path, per_batch: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": [int(x) for x in rng.integers(0, 10, per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": CIFAR_CLASSES}))


def write_fake_stl10(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for split, n in (("train", 6), ("test", 4), ("unlabeled", 5)):
        rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8).tofile(folder / f"{split}_X.bin")
        if split != "unlabeled":
            (np.arange(n) % 10 + 1).astype(np.uint8).tofile(folder / f"{split}_y.bin")
    (folder / "class_names.txt").write_text("\n".join(["airplane", "bird", "car", "cat", "deer", "dog", "horse",
                                                       "monkey", "ship", "truck"]))


def write_fake_imagenette(folder: Path) -> None:
    for split, n in (("train", 3), ("val", 2)):
        for k, wnid in enumerate(("n01440764", "n03028079")):
            d = folder / split / wnid
            d.mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (60, 40), (k * 200, i * 60, 30)).save(d / f"{i}.JPEG")


def write_fake_pets(folder: Path) -> None:
    (folder / "images").mkdir(parents=True)
    (folder / "annotations").mkdir()
    lines = {"trainval": [], "test": []}
    for k, breed in enumerate(("Abyssinian", "beagle")):
        for i in range(4):
            Image.new("RGB", (50, 70), (k * 100, 10, i * 50)).save(folder / "images" / f"{breed}_{i}.jpg")
            lines["trainval" if i < 3 else "test"].append(f"{breed}_{i} {k + 1} {k + 1} 1")
    for split, rows in lines.items():
        (folder / "annotations" / f"{split}.txt").write_text("\n".join(rows) + "\n")


def test_registry_entries():
    for name in ("cifar10", "stl10", "imagenette", "oxford_pets"):
        spec = DATASETS[name]
        assert not spec.offline and "train" in spec.splits and spec.title and spec.description
        assert builtin.resources(name) and all(r.md5 and r.url.startswith("http") for r in builtin.resources(name))
    assert "unlabelled" in DATASETS["stl10"].splits


@pytest.mark.parametrize("name", ["cifar10", "stl10", "imagenette", "oxford_pets"])
def test_missing_without_download_says_what_to_do(name):
    with pytest.raises(DatasetUnavailable, match="not downloaded yet.*Download.*--download"):
        open_dataset(name, "train", image_size=16)
    assert not builtin.is_downloaded(name)


@pytest.mark.parametrize("name", ["cifar10", "oxford_pets"])
def test_download_offline_is_a_clear_error(name, data_dir):
    with pytest.raises(DatasetUnavailable, match="no network connection"):
        open_dataset(name, "train", image_size=16, download=True)
    leftovers = [p for p in data_dir.rglob("*") if p.is_file()]
    assert leftovers == []  # no half-written .part files


def test_cifar10_stand_in(data_dir, trust_checksums):
    write_fake_cifar(data_dir / "cifar10" / "cifar-10-batches-py")
    assert builtin.is_downloaded("cifar10")
    train = open_dataset("cifar10", "train", image_size=64)
    test = open_dataset("cifar10", "test", image_size=32)
    assert len(train) == 20 and len(test) == 4 and train.classes == CIFAR_CLASSES
    img, label = train[0]
    assert img.dtype == torch.uint8 and img.shape == (3, 64, 64) and label == train.targets[0]
    raw = torch.from_numpy(test.dataset.data[1]).permute(2, 0, 1)
    assert torch.equal(test[1][0], raw)  # native size: pixels untouched
    assert sum(class_counts(train).values()) == 20
    assert len(preview_grid(train, n=5)) == 5


def test_stl10_stand_in_with_unlabelled_split(data_dir, trust_checksums):
    write_fake_stl10(data_dir / "stl10" / "stl10_binary")
    train = open_dataset("stl10", "train", image_size=48)
    unl = open_dataset("stl10", "unlabelled", image_size=48)
    assert len(train) == 6 and train.targets == [0, 1, 2, 3, 4, 5] and train.classes[7] == "monkey"
    assert train[2][0].shape == (3, 48, 48)
    assert len(unl) == 5 and unl.targets == [-1] * 5 and unl[4][1] == -1 and unl[4][0].shape == (3, 48, 48)
    # Same orientation as torchvision's own reader.
    import torchvision

    tv = torchvision.datasets.STL10(str(data_dir / "stl10"), split="test")
    ours = open_dataset("stl10", "test", image_size=96)
    assert np.array_equal(np.asarray(tv[0][0]), ours[0][0].permute(1, 2, 0).numpy())
    tv_unl = torchvision.datasets.STL10(str(data_dir / "stl10"), split="unlabeled")
    ours_unl = open_dataset("stl10", "unlabelled", image_size=96)
    assert np.array_equal(np.asarray(tv_unl[3][0]), ours_unl[3][0].permute(1, 2, 0).numpy())


def test_imagenette_stand_in(data_dir):
    write_fake_imagenette(data_dir / "imagenette" / "imagenette2-160")
    train = open_dataset("imagenette", "train", image_size=32)
    test = open_dataset("imagenette", "test", image_size=32)
    assert train.classes == ["tench", "church"] and len(train) == 6 and len(test) == 4
    assert train[5][0].shape == (3, 32, 32) and train[5][1] == 1


def test_oxford_pets_stand_in(data_dir):
    write_fake_pets(data_dir / "oxford_pets" / "oxford-iiit-pet")
    train = open_dataset("oxford_pets", "train", image_size=40)
    test = open_dataset("oxford_pets", "test", image_size=40)
    assert train.classes == ["Abyssinian", "Beagle"] and len(train) == 6 and len(test) == 2
    assert train[0][0].shape == (3, 40, 40) and sorted(set(train.targets)) == [0, 1]


def test_corrupted_download_is_reported(data_dir):
    (data_dir / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)
    (data_dir / "cifar10" / "cifar-10-batches-py" / "batches.meta").write_bytes(b"garbage")
    with pytest.raises(DatasetUnavailable, match="incomplete or corrupted"):
        open_dataset("cifar10", "train", image_size=32)


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_streams_with_progress_verifies_and_unpacks(data_dir, tmp_path, monkeypatch, trust_checksums):
    """The whole download path against a local stand-in of the CIFAR-10 archive."""
    import torchvision.datasets as tvd

    src = tmp_path / "src"
    write_fake_cifar(src / "cifar-10-batches-py")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive = buf.getvalue()
    monkeypatch.setattr(tvd.CIFAR10, "tgz_md5", hashlib.md5(archive).hexdigest())
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: FakeResponse(archive))
    calls = []
    ds = open_dataset("cifar10", "train", image_size=32, download=True,
                      progress=lambda done, total: calls.append((done, total)))
    assert len(ds) == 20
    assert calls and calls[0][1] == len(archive) and any(c[0] == len(archive) for c in calls)
    assert builtin.is_downloaded("cifar10")


def test_download_with_wrong_checksum_keeps_nothing(data_dir, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: FakeResponse(b"not the archive"))
    with pytest.raises(DatasetUnavailable, match="checksum"):
        builtin.download_dataset("cifar10")
    assert [p for p in data_dir.rglob("*") if p.is_file()] == []


def test_http_error_is_reported(monkeypatch):
    def refuse(url, timeout=None):
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(DatasetUnavailable, match="404"):
        builtin.download_dataset("imagenette")


def test_a_torchvision_set_is_one_entry(monkeypatch):
    """Issue 14.3: a new torchvision data set is one TorchvisionSet entry; DATASETS lists every entry as a download
    with the entry's title, splits and size, and the opener reads classes and targets through the entry."""
    import core.data as data

    for name, entry in builtin.SETS.items():
        spec = DATASETS[name]
        assert (spec.title, spec.splits, spec.default_image_size, spec.kind) == \
            (entry.title, tuple(entry.splits), entry.default_image_size, "download")

    class Fake:  # what a torchvision data set offers: classes, targets, items
        classes = ["a", "b"]
        targets = [1, 0, 1]

        def __getitem__(self, i):
            return Image.new("RGB", (8, 8), (i * 40, 0, 0)), self.targets[i]

    probe = builtin.TorchvisionSet(
        "probe", "Probe", "a test entry", 16, "https://example.org", resources=lambda tvd: [],
        markers=(), splits={"train": {}}, construct=lambda tvd, base, kw, download: Fake())
    monkeypatch.setitem(builtin.SETS, "probe", probe)
    monkeypatch.setitem(data.DATASETS, "probe", data._download(probe))
    ds = open_dataset("probe", "train", image_size=16)
    assert ds.classes == ["a", "b"] and ds.targets == [1, 0, 1]
    x, y = ds[2]
    assert tuple(x.shape) == (3, 16, 16) and y == 1 and int(x[0, 0, 0]) == 80
