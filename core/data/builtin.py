"""Classic data sets from torchvision, downloaded on demand into ``data_dir()/<name>``.

CIFAR-10 (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html): 60k 32×32 photos, 10 classes.
STL-10 (Coates et al. 2011, https://cs.stanford.edu/~acoates/stl10/): 96×96, 5k labelled train, 8k test and
100k UNLABELLED images, made for semi-supervised learning (our "unlabelled" split, targets −1).
Imagenette (fast.ai, https://github.com/fastai/imagenette): 10 easy ImageNet classes, the 160 px version.
Oxford-IIIT Pet (Parkhi et al. 2012, https://www.robots.ox.ac.uk/~vgg/data/pets/): 37 cat and dog breeds.

Each data set is one :class:`TorchvisionSet` entry in :data:`SETS` (title, description, where torchvision keeps
its archives, the files that prove it is unpacked, our splits as constructor arguments, how to read its classes
and targets); ``core.data.DATASETS`` lists every entry as a download. Adding one is one entry here.

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


def dataset_root(name: str, root: str | os.PathLike | None = None) -> Path:
    base = Path(root) if root is not None else paths.data_dir()
    return base / name


def is_downloaded(name: str, root: str | os.PathLike | None = None) -> bool:
    """Cheap check (no checksums): are the unpacked files there?"""
    base = dataset_root(name, root)
    return all((base / m).exists() for m in _entry(name).markers)


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
    entry = _entry(name)
    title = entry.title
    base = dataset_root(name, root)
    if is_downloaded(name, root):
        return base
    for res in entry.resources(_tv()):
        dest = base / res.folder / res.filename
        if not (dest.is_file() and _md5(dest) == res.md5):
            _fetch(res, dest, title, progress)
    try:
        # torchvision finds the verified archives and unpacks them (once: the train split is enough;
        # STL-10's unlabelled split would be read whole into memory).
        entry.construct(_tv(), base, entry.splits["train"], True)
    except DatasetUnavailable:
        raise
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        raise DatasetUnavailable(f"could not unpack {title}: {err}") from None
    return base


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
        self._entry = _entry(name)
        self.classes = self._entry.classes(tv_dataset)
        self.targets = [int(t) for t in self._entry.targets(tv_dataset)]

    def __len__(self) -> int:
        return len(self.targets)

    def _pil(self, index: int) -> Image.Image:
        if self._entry.image is not None:
            return self._entry.image(self.dataset, index)
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
    entry = _entry(name)
    title = entry.title
    if split not in entry.splits:
        raise DataError(f"{title} has no {split!r} split; it has: {', '.join(entry.splits)}")
    base = dataset_root(name, root)
    if download:
        download_dataset(name, root, progress)
    elif not is_downloaded(name, root):
        raise DatasetUnavailable(f"{title} is not downloaded yet; click Download on the Data sets page, or run "
                                 f"the command again with --download (files go to {base})")
    try:
        tv = entry.construct(_tv(), base, entry.splits[split], False)
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        raise DatasetUnavailable(f"{title} is incomplete or corrupted in {base} ({err}); delete that folder and "
                                 "download it again") from None
    return BuiltinDataset(name, split, tv, image_size, transform)


# ------------------------------------------------------------------------------------------------ the entries
@dataclass(frozen=True)
class TorchvisionSet:
    """One torchvision data set: what the pages say about it and how it is fetched, found and read.

    ``resources(tvd)``: its archives, URL and MD5 read from the torchvision class (the source of truth);
    ``markers``: files that exist once it is unpacked; ``splits``: our split -> the constructor's arguments;
    ``construct(tvd, base, kwargs, download)``: the torchvision data set; ``classes`` / ``targets``: read from it;
    ``image(dataset, index)``: a PIL image without torchvision's per-item path (None: ``dataset[index][0]``).
    """

    name: str
    title: str
    description: str
    default_image_size: int
    url: str
    resources: Callable[[Any], list[Resource]]
    markers: tuple[str, ...]
    splits: dict[str, dict[str, Any]]
    construct: Callable[[Any, Path, dict[str, Any], bool], Any]
    classes: Callable[[Any], list[str]] = lambda tv: list(tv.classes)
    targets: Callable[[Any], Any] = lambda tv: tv.targets
    image: Callable[[Any, int], Image.Image] | None = None


def _stl10(tvd, base: Path, kwargs: dict[str, Any], download: bool):
    if kwargs["split"] == "unlabeled" and not download:
        return _stl10_unlabelled(base)  # memory-mapped: torchvision would read all 2.8 GB
    return tvd.STL10(str(base), download=download, **kwargs)


def _imagenette_resources(tvd) -> list[Resource]:
    url, md5 = tvd.Imagenette._ARCHIVES["160px"]
    return [Resource(url, md5, ".", os.path.basename(url))]


SETS: dict[str, TorchvisionSet] = {s.name: s for s in (
    TorchvisionSet(
        "cifar10", "CIFAR-10",
        "60,000 tiny 32×32 photos of 10 classes (airplane … truck), 50k train / 10k test. Download: 163 MB.",
        32, "https://www.cs.toronto.edu/~kriz/cifar.html",
        resources=lambda tvd: [Resource(tvd.CIFAR10.url, tvd.CIFAR10.tgz_md5, ".", tvd.CIFAR10.filename)],
        markers=("cifar-10-batches-py/batches.meta",),
        splits={"train": {"train": True}, "test": {"train": False}},
        construct=lambda tvd, base, kw, download: tvd.CIFAR10(str(base), download=download, **kw),
        image=lambda ds, i: Image.fromarray(ds.data[i]),  # [32, 32, 3] in memory: skip torchvision's path
    ),
    TorchvisionSet(
        "stl10", "STL-10",
        "96×96 photos of 10 classes: 5k labelled train, 8k test and 100k unlabelled images "
        "(for self-training). Download: 2.6 GB.",
        96, "https://cs.stanford.edu/~acoates/stl10/",
        resources=lambda tvd: [Resource(tvd.STL10.url, tvd.STL10.tgz_md5, ".", tvd.STL10.filename)],
        markers=("stl10_binary/train_X.bin", "stl10_binary/test_X.bin"),
        splits={"train": {"split": "train"}, "test": {"split": "test"}, "unlabelled": {"split": "unlabeled"}},
        construct=_stl10, targets=lambda tv: tv.labels,
        image=lambda ds, i: Image.fromarray(np.ascontiguousarray(np.asarray(ds.data[i]).transpose(1, 2, 0))),
    ),
    TorchvisionSet(
        "imagenette", "Imagenette (160 px)",
        "10 easy ImageNet classes (tench, church, parachute, …), ~9.5k train / ~3.9k val. "
        "Download: 94 MB. Its 'val' split serves as the test split.",
        128, "https://github.com/fastai/imagenette",
        resources=_imagenette_resources,
        markers=("imagenette2-160/train", "imagenette2-160/val"),
        splits={"train": {"split": "train"}, "val": {"split": "val"}, "test": {"split": "val"}},
        construct=lambda tvd, base, kw, download: tvd.Imagenette(str(base), size="160px", download=download, **kw),
        classes=lambda tv: [names[0] for names in tv.classes], targets=lambda tv: [label for _, label in tv._samples],
    ),
    TorchvisionSet(
        "oxford_pets", "Oxford-IIIT Pet",
        "37 cat and dog breeds, ~3.7k trainval / ~3.7k test photos: fine-grained, good for "
        "fine-tuning pretrained networks. Download: 800 MB.",
        224, "https://www.robots.ox.ac.uk/~vgg/data/pets/",
        resources=lambda tvd: [Resource(url, md5, "oxford-iiit-pet", os.path.basename(url))
                               for url, md5 in tvd.OxfordIIITPet._RESOURCES],
        markers=("oxford-iiit-pet/images", "oxford-iiit-pet/annotations"),
        splits={"train": {"split": "trainval"}, "test": {"split": "test"}},
        construct=lambda tvd, base, kw, download: tvd.OxfordIIITPet(str(base), target_types="category",
                                                                    download=download, **kw),
        targets=lambda tv: tv._labels,
    ),
)}


def _entry(name: str) -> TorchvisionSet:
    try:
        return SETS[name]
    except KeyError:
        raise DataError(f"unknown built-in data set {name!r}") from None


def resources(name: str) -> list[Resource]:
    """The archives of data set ``name``, with URL and MD5 taken from torchvision."""
    return _entry(name).resources(_tv())
