"""Your own images: a folder in ImageFolder layout, or a zip imported safely into the data folder.

Layout (the same as ``torchvision.datasets.ImageFolder``)::

    my-pets/            <- the data set (a server path, or data_dir()/folders/<name> after a zip import)
      cat/ 001.jpg 002.png ...     <- one sub-folder per class; images may sit deeper inside it
      dog/ ...

A folder may instead hold ``train/``, ``val/`` (or ``valid/``, ``validation/``) and ``test/``, each in that
layout; then those splits open directly. Otherwise only "train" exists and ``train_val_split`` makes a
validation set.

Opening a folder decodes every image ONCE with :func:`core.images.load_image` (the app's one safe loader),
squares it (shorter side to S, centre crop: see :mod:`core.data.resize`) and caches the pixels as
``data_dir()/cache/folder-<hash>.npz`` keyed by the files' names, sizes and modification times. Images that
cannot be decoded are skipped and listed in the :class:`ValidationReport`; a data set with fewer than two
classes, or a class without a single readable image, is refused with :class:`DatasetLayoutError`.

Zip uploads are imported by :mod:`core.data.zipimport` into ``data_dir()/folders/<name>``.

"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from core import paths
from core.data import cache
from core.data.errors import DataError, DatasetNotFound
from core.data.resize import square, to_chw_uint8
from core.images import UPLOAD_EXTENSIONS, ImageError, load_image, safe_display_name

IMAGE_EXTENSIONS = frozenset("." + e for e in UPLOAD_EXTENSIONS)  # the image loader's allowlist, nothing more
ARCHIVE_EXTENSIONS = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".7z",
                                ".rar", ".zst", ".lz", ".lzma", ".cab", ".jar", ".war", ".whl", ".apk", ".z"})
JUNK_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r"})
JUNK_DIRS = frozenset({"__macosx", ".git", ".svn", "__pycache__", ".ipynb_checkpoints"})
SPLIT_DIRS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
_FOLDER_CACHE_VERSION = 1
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")


class DatasetLayoutError(DataError):
    """The folder is readable but not a usable classification data set; ``report`` says what was found."""

    def __init__(self, message: str, report: "ValidationReport"):
        super().__init__(message)
        self.report = report


@dataclass
class ValidationReport:
    """What a folder holds: shown to the student before training starts.

    ``counts``: readable images per class; ``skipped``: (relative path, reason) for files that are not used
    (not an image type, unreadable, outside any class folder); ``ignored``: system junk dropped silently
    (``__MACOSX/``, ``.DS_Store``, hidden files); ``problems``: why the data set is refused (empty when ok).
    """

    root: str
    name: str
    classes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "total": self.total}

    def summary(self) -> str:
        text = f"{len(self.classes)} classes, {self.total} images"
        if self.skipped:
            text += f", {len(self.skipped)} files skipped"
        return text


def display_name(name: str) -> str:
    """A user-supplied file or folder name made safe to show: control characters as "?", slashes as look-alikes."""
    text = "".join(ch if unicodedata.category(ch) not in {"Cc", "Cf"} else "?" for ch in name)
    return safe_display_name(text.replace("/", "∕").replace("\\", "⧵"), max_chars=120)


def check_layout(report: ValidationReport) -> None:
    """Fill ``report.problems`` and raise DatasetLayoutError when the data set cannot be trained on."""
    empty = [c for c in report.classes if report.counts.get(c, 0) == 0]
    shown = {c: display_name(c) for c in report.classes}  # folder names come from users: escaped for display
    if not report.classes:
        report.problems.append("no class folders found: put the images of each class in their own sub-folder "
                               "(e.g. cat/1.jpg, dog/2.jpg)")
    elif len(empty) == len(report.classes):  # class folders, but not one readable image in any of them
        report.problems.append(f"no images found in {display_name(report.name)} (looked in its "
                               f"{len(report.classes)} class folder(s): {', '.join(shown.values())})")
        empty = []  # said once, not again as a list of empty classes
    elif len(report.classes) - len(empty) < 2:
        report.problems.append(f"only one class with images ({', '.join(shown[c] for c in report.classes if c not in empty) or 'none'}): "
                               "a classifier needs at least two class folders")
    if empty:
        report.problems.append(f"class folder(s) without a single readable image: {', '.join(shown[c] for c in empty)}")
    if report.problems:
        raise DatasetLayoutError(f"{display_name(report.name)}: " + "; ".join(report.problems), report)


# ------------------------------------------------------------------------------------------ folder scanning
def is_junk(part: str) -> bool:
    low = part.casefold()
    return low in JUNK_FILES or low in JUNK_DIRS or part.startswith(".")


def scan_folder(root: Path) -> tuple[list[str], list[tuple[str, int]], ValidationReport]:
    """Class names, image files (relative posix path, class index) and a report without decoding anything."""
    report = ValidationReport(root=str(root), name=root.name)
    if not root.is_dir():
        raise DataError(f"folder not found: {root}")
    classes = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if is_junk(entry.name):
            report.ignored.append(entry.name + ("/" if entry.is_dir() else ""))
        elif entry.is_dir():
            classes.append(entry.name)
        else:
            report.skipped.append((entry.name, "not inside a class folder"))
    files: list[tuple[str, int]] = []
    for index, name in enumerate(classes):
        for dirpath, dirnames, filenames in os.walk(root / name):
            rel_dir = Path(dirpath).relative_to(root)
            for d in [d for d in dirnames if is_junk(d)]:
                dirnames.remove(d)
                report.ignored.append(f"{(rel_dir / d).as_posix()}/")
            dirnames.sort()
            for fname in sorted(filenames):
                rel = (rel_dir / fname).as_posix()
                if is_junk(fname):
                    report.ignored.append(rel)
                elif Path(fname).suffix.lower() not in IMAGE_EXTENSIONS:
                    report.skipped.append((rel, "not an image file type"))
                else:
                    files.append((rel, index))
    report.classes = classes
    return classes, files, report


def resolve_folder(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """A server path, or the name of a data set imported from a zip (``data_dir()/folders/<name>``)."""
    text = os.fspath(path).strip() if path is not None else ""
    if not text:
        raise DataError("choose a folder: give a server path or the name of an imported data set")
    if NAME_RE.fullmatch(text):
        imported = folders_dir(root) / text
        if imported.is_dir():
            return imported
    p = Path(text).expanduser()
    if not p.is_dir():
        raise DataError(f"folder not found: {text}")
    return p.resolve()


def folders_dir(root: str | os.PathLike | None = None) -> Path:
    base = Path(root) if root is not None else paths.data_dir()
    d = base / "folders"
    d.mkdir(parents=True, exist_ok=True)
    return d


def list_imported(root: str | os.PathLike | None = None) -> list[str]:
    """Names of the data sets imported from zips, sorted."""
    return sorted(p.name for p in folders_dir(root).iterdir() if p.is_dir() and NAME_RE.fullmatch(p.name))


def delete_imported(name: str, root: str | os.PathLike | None = None) -> None:
    """Delete the data set imported (from a zip) as ``name``: ``data_dir()/folders/<name>`` and everything in it.

    Only names :func:`list_imported` can return are accepted, so no path a user types can reach a folder
    outside ``folders/``. The folder is first renamed to a hidden ``.deleting-*`` sibling (one atomic step: a
    page opening the data set at the same moment sees it whole or not at all), then removed.
    Raises :class:`DatasetNotFound` when there is no such data set (e.g. deleted in another tab), and
    :class:`DataError` for a name that is not a data set name (``../x``, ``/etc``).
    Gotcha: runs already trained on it keep their checkpoints, but can no longer be resumed on its images.
    """
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise DataError(f"not a data set name: {display_name(str(name))!r}")
    base = folders_dir(root)
    target = base / name
    if not target.is_dir() or target.is_symlink():
        raise DatasetNotFound(f"no imported data set named {name!r} (already deleted?)")
    trash = base / f".deleting-{name}-{os.getpid()}-{id(target):x}"
    try:
        os.rename(target, trash)
    except FileNotFoundError:
        raise DatasetNotFound(f"no imported data set named {name!r} (already deleted?)") from None
    except OSError as err:
        raise DataError(f"could not delete the data set {name!r}: {err.strerror or err}") from None
    shutil.rmtree(trash, ignore_errors=True)


def count_images(path: str | os.PathLike, split: str = "train", *, root: str | os.PathLike | None = None) -> int:
    """Image files of ``split`` of a folder data set, counted from names only (nothing decoded): what a size
    check, a warning or a duration estimate needs, in milliseconds where :class:`FolderDataset` decodes every
    image (minutes for a big folder, the first time). Unreadable images are still counted here."""
    base = resolve_folder(path, root)
    folder = split_folder(base, split)
    if folder is None:
        if split != "train":
            return 0
        folder = base
    return len(scan_folder(folder)[1])


def split_folder(base: Path, split: str) -> Path | None:
    """``base/<split>`` when the folder is organised in split sub-folders, else None."""
    names = {e.name.casefold(): e.name for e in os.scandir(base) if e.is_dir()}
    has_train = "train" in names
    has_eval = any(n in names for alias in ("val", "test") for n in SPLIT_DIRS[alias])
    if not (has_train and has_eval):
        return None
    for alias in SPLIT_DIRS[split]:
        if alias in names:
            return base / names[alias]
    raise DataError(f"{base.name} has no {split!r} sub-folder (it has: {', '.join(sorted(names.values()))})")


# ------------------------------------------------------------------------------------------ decoding
def decode_folder(root: Path, image_size: int, *, max_images: int = 100_000, max_megapixels: float = 40,
                  progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, list[str], ValidationReport]:
    """Decode every image of ``root`` to ``uint8 [N, 3, S, S]``; returns (images, labels, files, report).

    Raises DatasetLayoutError (with the report) when the result is not a usable data set.
    """
    classes, files, report = scan_folder(root)
    if len(files) > max_images:
        raise DataError(f"{root.name} holds {len(files)} images; the limit is {max_images}")
    need = len(files) * 3 * image_size * image_size
    if need > 4 * 2**30:
        raise DataError(f"{len(files)} images at {image_size} px need {need / 2**30:.1f} GiB of memory; "
                        "choose a smaller image size")
    images = np.empty((len(files), 3, image_size, image_size), dtype=np.uint8)
    labels = np.empty(len(files), dtype=np.int64)
    kept: list[str] = []
    for i, (rel, label) in enumerate(files):
        try:
            img = load_image(root / rel, name=rel, max_megapixels=max_megapixels)
        except ImageError as err:
            report.skipped.append((rel, str(err)))
        else:
            images[len(kept)] = to_chw_uint8(square(img, image_size))
            labels[len(kept)] = label
            kept.append(rel)
        if progress is not None:
            progress(i + 1, len(files))
    images, labels = images[: len(kept)], labels[: len(kept)]
    report.counts = {c: int((labels == k).sum()) for k, c in enumerate(classes)}
    check_layout(report)
    return images, labels, kept, report


def validate_folder(path: str | os.PathLike, *, root: str | os.PathLike | None = None,
                    image_size: int = 32) -> ValidationReport:
    """Scan and decode a folder and return its report; raises DatasetLayoutError when it is unusable."""
    return decode_folder(resolve_folder(path, root), image_size)[3]


class FolderDataset(Dataset):
    """Images from a class-per-folder directory. Item ``(uint8 [3, S, S] or transform(it), class index)``.

    Attributes: ``classes``, ``targets``, ``files`` (relative paths of the items), ``report``
    (:class:`ValidationReport`), ``path``, ``images`` (``uint8 [N, 3, S, S]``).
    """

    def __init__(self, path: str | os.PathLike, split: str = "train", *, image_size: int = 128,
                 root: str | os.PathLike | None = None, transform: Callable | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        base = resolve_folder(path, root)
        folder = split_folder(base, split)
        if folder is None:
            if split != "train":
                raise DataError(f"{base.name} has no {split!r} split (no train/ and val/ or test/ sub-folders); "
                                "open 'train' and use a train/validation split")
            folder = base
        self.path, self.split, self.image_size, self.transform = folder, split, image_size, transform
        classes, files, report = scan_folder(folder)
        stamp = []
        for rel, _ in files:
            try:
                st = (folder / rel).stat()
                stamp.append((rel, st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append((rel, -1, 0))
        key = cache.params_hash({"v": _FOLDER_CACHE_VERSION, "path": str(folder), "size": image_size,
                                 "classes": classes, "files": stamp})
        cache_path = cache.cache_dir(root) / f"folder-{key}.npz"
        arrays = cache.load(cache_path, ("images", "labels", "files", "skipped"))
        if arrays is None:
            images, labels, kept, report = decode_folder(folder, image_size, progress=progress)
            skipped = np.array([f"{r}\t{why}" for r, why in report.skipped], dtype=str)
            arrays = {"images": images, "labels": labels, "files": np.array(kept, dtype=str),
                      "skipped": skipped.reshape(-1)}
            cache.save(cache_path, arrays)
        else:
            report.skipped = [tuple(s.split("\t", 1)) for s in arrays["skipped"].tolist()]  # type: ignore[misc]
            labels = arrays["labels"]
            report.counts = {c: int((labels == k).sum()) for k, c in enumerate(classes)}
            check_layout(report)
        self.classes = classes
        self.images: np.ndarray = arrays["images"]
        self.targets: list[int] = arrays["labels"].tolist()
        self.files: list[str] = arrays["files"].tolist()
        self.report = report

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = torch.from_numpy(self.images[index].copy())
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]
