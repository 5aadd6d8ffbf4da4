"""Classic data sets from torchvision, downloaded on demand into ``data_dir()/<name>``.

CIFAR-10 (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html): 60k 32×32 photos, 10 classes.
STL-10 (Coates et al. 2011, https://cs.stanford.edu/~acoates/stl10/): 96×96, 5k labelled train, 8k test and
100k UNLABELLED images, made for semi-supervised learning (our "unlabelled" split, targets −1).
Imagenette (fast.ai, https://github.com/fastai/imagenette): 10 easy ImageNet classes, the 160 px version.
Oxford-IIIT Pet (Parkhi et al. 2012, https://www.robots.ox.ac.uk/~vgg/data/pets/): 37 cat and dog breeds.

Every item is adapted to the ``core.data`` contract: ``uint8 [3, S, S]`` squared with the one resize policy
(:mod:`core.data.resize`), label ``int``. URLs and checksums are read from the torchvision classes (the
source of truth); :func:`download_dataset` streams each archive with a progress callback and verifies its MD5,
then torchvision unpacks it (it finds the verified archive and does not download again).

Gotcha: without network (this project's CI) nothing can be fetched: the error says so plainly; tests use
tiny stand-ins written in torchvision's own on-disk formats.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from core import budget, paths
from core.data.errors import DataError, DatasetUnavailable
from core.data.resize import to_tensor

#: progress(done_bytes, total_bytes_or_0, label)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Resource:
    url: str
    md5: str
    folder: str  # relative to the data set's root
    filename: str


def _tv():
    import torchvision.datasets as tvd  # here: torchvision's data set classes load only for a download

    return tvd


def _titles() -> dict[str, str]:
    from core.data import DATASETS  # here: a cycle (core.data's registry imports this module to open its sets)

    return {k: v.title for k, v in DATASETS.items()}


def resources(name: str) -> list[Resource]:
    """The archives of data set ``name``, with URL and MD5 taken from torchvision."""
    tvd = _tv()
    if name == "cifar10":
        c = tvd.CIFAR10
        return [Resource(c.url, c.tgz_md5, ".", c.filename)]
    if name == "stl10":
        c = tvd.STL10
        return [Resource(c.url, c.tgz_md5, ".", c.filename)]
    if name == "imagenette":
        url, md5 = tvd.Imagenette._ARCHIVES["160px"]
        return [Resource(url, md5, ".", os.path.basename(url))]
    if name == "oxford_pets":
        return [Resource(url, md5, "oxford-iiit-pet", os.path.basename(url)) for url, md5 in tvd.OxfordIIITPet._RESOURCES]
    raise DataError(f"unknown built-in data set {name!r}")


def dataset_root(name: str, root: str | os.PathLike | None = None) -> Path:
    base = Path(root) if root is not None else paths.data_dir()
    return base / name


_MARKERS = {
    "cifar10": ("cifar-10-batches-py/batches.meta",),
    "stl10": ("stl10_binary/train_X.bin", "stl10_binary/test_X.bin"),
    "imagenette": ("imagenette2-160/train", "imagenette2-160/val"),
    "oxford_pets": ("oxford-iiit-pet/images", "oxford-iiit-pet/annotations"),
}


def is_downloaded(name: str, root: str | os.PathLike | None = None) -> bool:
    """Cheap check (no checksums): are the unpacked files there?"""
    base = dataset_root(name, root)
    return all((base / m).exists() for m in _MARKERS[name])


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(res: Resource, dest: Path, title: str, progress: Progress | None) -> None:
    """Stream ``res.url`` to ``dest`` (temp file + rename), calling progress, verifying the MD5."""
    with budget.writing(dest.parent):  # read-only / full storage: say so, not "no network connection"
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        try:
            with urllib.request.urlopen(res.url, timeout=30) as response, os.fdopen(fd, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                done = 0
                h = hashlib.md5()
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except urllib.error.HTTPError as err:
            raise DatasetUnavailable(f"could not download {title}: the server answered {err.code} {err.reason} "
                                     f"for {res.url}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
            if budget.is_storage_error(err) and not isinstance(err, (urllib.error.URLError, ConnectionError)):
                raise budget.storage_error(err, dest.parent) from None  # the disk filled up mid-download
            reason = getattr(err, "reason", err)
            raise DatasetUnavailable(f"could not download {title}: no network connection ({reason}). Download it "
                                     f"on a machine with internet access, or copy {res.filename} into {dest.parent}") from None
        if h.hexdigest() != res.md5:
            raise DatasetUnavailable(f"could not download {title}: {res.filename} arrived corrupted (checksum "
                                     "mismatch); try again")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download_dataset(name: str, root: str | os.PathLike | None = None, progress: Progress | None = None) -> Path:
    """Download (if needed) and unpack data set ``name``; returns its folder. Raises DatasetUnavailable."""
    title = _titles().get(name, name)
    base = dataset_root(name, root)
    if is_downloaded(name, root):
        return base
    for res in resources(name):
        dest = base / res.folder / res.filename
        if not (dest.is_file() and _md5(dest) == res.md5):
            _fetch(res, dest, title, progress)
    try:
        # torchvision finds the verified archives and unpacks them (once: the train split is enough;
        # STL-10's unlabelled split would be read whole into memory).
        _construct(name, base, _SPLITS[name]["train"], download=True)
    except DatasetUnavailable:
        raise
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        raise DatasetUnavailable(f"could not unpack {title}: {err}") from None
    return base


# torchvision constructor arguments for each of our splits
_SPLITS: dict[str, dict[str, dict[str, Any]]] = {
    "cifar10": {"train": {"train": True}, "test": {"train": False}},
    "stl10": {"train": {"split": "train"}, "test": {"split": "test"}, "unlabelled": {"split": "unlabeled"}},
    "imagenette": {"train": {"split": "train"}, "val": {"split": "val"}, "test": {"split": "val"}},
    "oxford_pets": {"train": {"split": "trainval"}, "test": {"split": "test"}},
}


def _construct(name: str, base: Path, kwargs: dict[str, Any], download: bool = False):
    tvd = _tv()
    if name == "cifar10":
        return tvd.CIFAR10(str(base), download=download, **kwargs)
    if name == "stl10":
        if kwargs["split"] == "unlabeled" and not download:
            return _stl10_unlabelled(base)
        return tvd.STL10(str(base), download=download, **kwargs)
    if name == "imagenette":
        return tvd.Imagenette(str(base), size="160px", download=download, **kwargs)
    if name == "oxford_pets":
        return tvd.OxfordIIITPet(str(base), target_types="category", download=download, **kwargs)
    raise DataError(f"unknown built-in data set {name!r}")


class _STL10Unlabelled:
    """STL-10's 100k unlabelled images, memory-mapped (torchvision would read all 2.8 GB into RAM)."""

    def __init__(self, base: Path):
        folder = base / "stl10_binary"
        path = folder / "unlabeled_X.bin"
        if not path.is_file():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        # The binary is column-major: the transposed view matches torchvision's rows-first [N, 3, 96, 96].
        self.data = np.memmap(path, dtype=np.uint8, mode="r").reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2)
        self.labels = np.full(len(self.data), -1)
        names = folder / "class_names.txt"
        self.classes = names.read_text().splitlines() if names.is_file() else [str(i) for i in range(10)]

    def __len__(self) -> int:
        return len(self.data)


def _stl10_unlabelled(base: Path) -> _STL10Unlabelled:
    return _STL10Unlabelled(base)


class BuiltinDataset(Dataset):
    """A torchvision data set adapted to the contract: item ``(uint8 [3, S, S] or transform(it), int)``."""

    def __init__(self, name: str, split: str, tv_dataset: Any, image_size: int, transform: Callable | None):
        self.name, self.split, self.image_size, self.transform = name, split, image_size, transform
        self.dataset = tv_dataset
        if name == "cifar10":
            self.classes = list(tv_dataset.classes)
            self.targets = [int(t) for t in tv_dataset.targets]
        elif name == "stl10":
            self.classes = list(tv_dataset.classes)
            self.targets = [int(t) for t in tv_dataset.labels]
        elif name == "imagenette":
            self.classes = [names[0] for names in tv_dataset.classes]
            self.targets = [int(label) for _, label in tv_dataset._samples]
        else:  # oxford_pets
            self.classes = list(tv_dataset.classes)
            self.targets = [int(t) for t in tv_dataset._labels]

    def __len__(self) -> int:
        return len(self.targets)

    def _pil(self, index: int) -> Image.Image:
        if self.name == "cifar10":
            return Image.fromarray(self.dataset.data[index])  # [32, 32, 3] in memory: skip torchvision's path
        if self.name == "stl10":
            return Image.fromarray(np.ascontiguousarray(np.asarray(self.dataset.data[index]).transpose(1, 2, 0)))
        return self.dataset[index][0]

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = to_tensor(self._pil(index), self.image_size)
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]


def open_builtin(name: str, split: str, *, image_size: int, root: str | os.PathLike | None = None,
                 transform: Callable | None = None, download: bool = False,
                 progress: Progress | None = None) -> BuiltinDataset:
    """Open a torchvision data set; missing and ``download=False`` -> DatasetUnavailable with what to do."""
    title = _titles().get(name, name)
    if split not in _SPLITS.get(name, {}):
        raise DataError(f"{title} has no {split!r} split; it has: {', '.join(_SPLITS.get(name, {}))}")
    base = dataset_root(name, root)
    if download:
        download_dataset(name, root, progress)
    elif not is_downloaded(name, root):
        raise DatasetUnavailable(f"{title} is not downloaded yet; click Download on the Data sets page, or run "
                                 f"the command again with --download (files go to {base})")
    try:
        tv = _construct(name, base, _SPLITS[name][split])
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        raise DatasetUnavailable(f"{title} is incomplete or corrupted in {base} ({err}); delete that folder and "
                                 "download it again") from None
    return BuiltinDataset(name, split, tv, image_size, transform)
