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

Zip import (:func:`import_zip`) treats the archive as hostile (reliability.md §Archives 8–11):
path traversal, absolute paths, drive letters, backslashes, symlinks, encrypted entries, duplicate or
case-colliding names and nested archives reject the whole archive; entry count, total size, per-entry size
and compression ratio are limited while streaming (bytes actually decompressed are counted, headers are not
trusted); everything is extracted into a fresh staging folder, validated, then renamed into place in one
step. On any failure the staging folder is removed and nothing else has been written.

Gotcha: a zip made by "Compress folder" on a Mac or Windows wraps everything in one top-level folder
(``my-pets/cat/1.jpg``) and, on a Mac, adds ``__MACOSX/`` and ``.DS_Store`` junk: both are handled.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from core import paths
from core.data import cache
from core.data.errors import DataError
from core.data.resize import square, to_chw_uint8

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".avif"})
ARCHIVE_EXTENSIONS = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".7z",
                                ".rar", ".zst", ".lz", ".lzma", ".cab", ".jar", ".war", ".whl", ".apk", ".z"})
JUNK_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r"})
JUNK_DIRS = frozenset({"__macosx", ".git", ".svn", "__pycache__", ".ipynb_checkpoints"})
SPLIT_DIRS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
_FOLDER_CACHE_VERSION = 1
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")


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


def _check_layout(report: ValidationReport) -> None:
    """Fill ``report.problems`` and raise DatasetLayoutError when the data set cannot be trained on."""
    empty = [c for c in report.classes if report.counts.get(c, 0) == 0]
    shown = {c: _display(c) for c in report.classes}  # folder names come from users: escaped for display
    if not report.classes:
        report.problems.append("no class folders found: put the images of each class in their own sub-folder "
                               "(e.g. cat/1.jpg, dog/2.jpg)")
    elif len(report.classes) - len(empty) < 2:
        report.problems.append(f"only one class with images ({', '.join(shown[c] for c in report.classes if c not in empty) or 'none'}): "
                               "a classifier needs at least two class folders")
    if empty:
        report.problems.append(f"class folder(s) without a single readable image: {', '.join(shown[c] for c in empty)}")
    if report.problems:
        raise DatasetLayoutError(f"{_display(report.name)}: " + "; ".join(report.problems), report)


# ------------------------------------------------------------------------------------------ folder scanning
def _is_junk(part: str) -> bool:
    low = part.casefold()
    return low in JUNK_FILES or low in JUNK_DIRS or part.startswith(".")


def scan_folder(root: Path) -> tuple[list[str], list[tuple[str, int]], ValidationReport]:
    """Class names, image files (relative posix path, class index) and a report without decoding anything."""
    report = ValidationReport(root=str(root), name=root.name)
    if not root.is_dir():
        raise DataError(f"folder not found: {root}")
    classes = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if _is_junk(entry.name):
            report.ignored.append(entry.name + ("/" if entry.is_dir() else ""))
        elif entry.is_dir():
            classes.append(entry.name)
        else:
            report.skipped.append((entry.name, "not inside a class folder"))
    files: list[tuple[str, int]] = []
    for index, name in enumerate(classes):
        for dirpath, dirnames, filenames in os.walk(root / name):
            rel_dir = Path(dirpath).relative_to(root)
            for d in [d for d in dirnames if _is_junk(d)]:
                dirnames.remove(d)
                report.ignored.append(f"{(rel_dir / d).as_posix()}/")
            dirnames.sort()
            for fname in sorted(filenames):
                rel = (rel_dir / fname).as_posix()
                if _is_junk(fname):
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
    if _NAME_RE.fullmatch(text):
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
    return sorted(p.name for p in folders_dir(root).iterdir() if p.is_dir() and _NAME_RE.fullmatch(p.name))


def delete_imported(name: str, root: str | os.PathLike | None = None) -> None:
    if not _NAME_RE.fullmatch(name or ""):
        raise DataError(f"not a data set name: {name!r}")
    target = folders_dir(root) / name
    if not target.is_dir():
        raise DataError(f"no imported data set named {name!r}")
    shutil.rmtree(target)


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
    from core.images import ImageError, load_image

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
    _check_layout(report)
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
            _check_layout(report)
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


# ------------------------------------------------------------------------------------------ zip import
@dataclass(frozen=True)
class ZipLimits:
    """Limits for :func:`import_zip`, enforced on the bytes actually decompressed.

    ``max_ratio`` applies to entries that decompress to more than ``ratio_min_bytes`` (small files
    legitimately compress very well); real photos compress about 1:1, zip bombs 1000:1.
    """

    max_entries: int = 20_000
    max_total_bytes: int = 2 * 2**30
    max_entry_bytes: int = 200 * 2**20
    max_ratio: float = 200.0
    ratio_min_bytes: int = 2**20
    max_depth: int = 12


def safe_name(name: str) -> str:
    """A data set name usable as a folder name: lowercase ``[a-z0-9_-]``, at most 48 characters."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9_-]+", "-", text).strip("-_")[:48].strip("-_")
    if not text or not _NAME_RE.fullmatch(text):
        raise DataError(f"choose a name made of letters, digits, '-' or '_' (got {name!r})")
    return text


def _display(name: str) -> str:
    from core.images import safe_display_name

    text = "".join(ch if unicodedata.category(ch) not in {"Cc", "Cf"} else "?" for ch in name)
    return safe_display_name(text.replace("/", "∕").replace("\\", "⧵"), max_chars=120)


class _Reject(DataError):
    pass


def _entry_parts(info: zipfile.ZipInfo, limits: ZipLimits) -> tuple[str, ...]:
    """Validated path components of one entry, or _Reject. Directory entries end with ''."""
    raw = info.orig_filename
    shown = _display(raw)
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in raw):
        raise _Reject(f"entry {shown!r} has control characters in its name")
    if "\\" in raw:
        raise _Reject(f"entry {shown!r} uses backslashes in its path")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise _Reject(f"entry {shown!r} has an absolute path")
    is_dir = raw.endswith("/")
    parts = tuple(raw[:-1].split("/") if is_dir else raw.split("/"))
    if any(p in ("..", ".") for p in parts):
        raise _Reject(f"entry {shown!r} points outside the archive ('..' in its path)")
    if any(p == "" for p in parts):
        raise _Reject(f"entry {shown!r} has an empty path component")
    if any(len(p.encode()) > 255 for p in parts) or len(parts) > limits.max_depth:
        raise _Reject(f"entry {shown!r} has a path that is too long or too deep")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _Reject(f"entry {shown!r} is a symbolic link")
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and stat.S_IFMT(mode):
        raise _Reject(f"entry {shown!r} is not a regular file")
    if info.flag_bits & 0x1:
        raise _Reject(f"entry {shown!r} is encrypted (password-protected archives are not supported)")
    return parts + ("",) if is_dir else parts


def _open_zip(src: str | os.PathLike | bytes | BinaryIO) -> zipfile.ZipFile:
    try:
        if isinstance(src, (bytes, bytearray, memoryview)):
            return zipfile.ZipFile(io.BytesIO(bytes(src)))
        if isinstance(src, (str, os.PathLike)):
            return zipfile.ZipFile(os.fspath(src))
        if hasattr(src, "seek"):
            src.seek(0)
        return zipfile.ZipFile(src)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise DataError("not a zip archive, or the archive is damaged") from None
    except FileNotFoundError:
        raise DataError(f"zip file not found: {src}") from None


def _plan(zf: zipfile.ZipFile, limits: ZipLimits) -> tuple[list[tuple[zipfile.ZipInfo, tuple[str, ...]]], list[tuple[str, ...]], list[tuple[str, str]], list[str]]:
    """Check every entry; returns (files to extract, class dirs to create, skipped, ignored)."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise _Reject(f"the archive has {len(infos)} entries; the limit is {limits.max_entries}")
    files: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    dirs: list[tuple[str, ...]] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    declared = 0
    for info in infos:
        parts = _entry_parts(info, limits)
        is_dir = parts[-1] == ""
        parts = parts[:-1] if is_dir else parts
        # Every prefix (folder) and the full name must be unique ignoring case and Unicode form,
        # or extraction would merge or overwrite entries on macOS / Windows file systems.
        for depth in range(1, len(parts) + 1):
            key = unicodedata.normalize("NFC", "/".join(parts[:depth])).casefold()
            kind = "d" if depth < len(parts) or is_dir else "f"
            original = "/".join(parts[:depth])
            previous = seen.get(key)
            if previous is not None:
                prev_kind, prev_name = previous[0], previous[1:]
                if kind == "f" or prev_kind == "f" or prev_name != original:
                    what = "appears twice" if prev_name == original else f"collides with {_display(prev_name)!r}"
                    raise _Reject(f"entry {_display(original)!r} {what} (duplicate or case-colliding names)")
            else:
                seen[key] = kind + original
        if any(_is_junk(p) for p in parts):
            ignored.append("/".join(parts) + ("/" if is_dir else ""))
            continue
        if not is_dir and Path(parts[-1]).suffix.lower() in ARCHIVE_EXTENSIONS:
            raise _Reject(f"entry {_display('/'.join(parts))!r} is an archive inside the archive "
                          "(nested archives are not supported: unpack it first)")
        if is_dir:
            dirs.append(parts)
        else:
            files.append((info, parts))
            declared += info.file_size
    if declared > limits.max_total_bytes:
        raise _Reject(f"the archive would unpack to {declared / 2**20:.0f} MiB; the limit is "
                      f"{limits.max_total_bytes / 2**20:.0f} MiB")
    # One wrapper folder ("my-pets/cat/1.jpg", as made by "compress folder") is stripped.
    tops = {p[0] for _, p in files} | {p[0] for p in dirs}
    images = [p for _, p in files if Path(p[-1]).suffix.lower() in IMAGE_EXTENSIONS]
    if len(tops) == 1 and images and all(len(p) >= 3 for p in images):
        files = [(i, p[1:]) for i, p in files]
        dirs = [p[1:] for p in dirs if len(p) > 1]
    skipped: list[tuple[str, str]] = []
    kept: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    for info, parts in files:
        rel = "/".join(parts)
        if len(parts) < 2:
            skipped.append((rel, "not inside a class folder"))
        elif Path(parts[-1]).suffix.lower() not in IMAGE_EXTENSIONS:
            skipped.append((rel, "not an image file type"))
        else:
            kept.append((info, parts))
    class_dirs = sorted({p[:1] for p in dirs if p} | {p[:1] for _, p in kept})
    return kept, class_dirs, skipped, ignored


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, limits: ZipLimits, total: list[int]) -> None:
    """Stream one entry to ``dest`` counting the bytes actually produced."""
    shown = _display(info.orig_filename)
    written = 0
    try:
        with zf.open(info) as src, open(dest, "xb") as out:
            while True:
                chunk = src.read(1 << 16)
                if not chunk:
                    break
                written += len(chunk)
                total[0] += len(chunk)
                if written > limits.max_entry_bytes:
                    raise _Reject(f"entry {shown!r} unpacks to more than {limits.max_entry_bytes / 2**20:.0f} MiB")
                if total[0] > limits.max_total_bytes:
                    raise _Reject(f"the archive unpacks to more than {limits.max_total_bytes / 2**20:.0f} MiB")
                if written > limits.ratio_min_bytes and written > limits.max_ratio * max(info.compress_size, 1):
                    raise _Reject(f"entry {shown!r} is compressed more than {limits.max_ratio:.0f}:1 "
                                  "(looks like a zip bomb)")
                out.write(chunk)
    except zipfile.BadZipFile as err:
        why = "bad CRC: the data is corrupted" if "CRC" in str(err) else "the archive is damaged"
        raise _Reject(f"entry {shown!r} cannot be read ({why})") from None
    except (zlib.error, EOFError) as err:
        raise _Reject(f"entry {shown!r} cannot be read (the archive is damaged: {err})") from None
    except NotImplementedError:
        raise _Reject(f"entry {shown!r} uses a compression method that is not supported") from None
    except RuntimeError as err:  # zipfile raises this for encrypted entries it was not warned about
        raise _Reject(f"entry {shown!r} cannot be read ({err})") from None


def import_zip(src: str | os.PathLike | bytes | BinaryIO, name: str, *, root: str | os.PathLike | None = None,
               limits: ZipLimits = ZipLimits(), image_size: int = 32, max_megapixels: float = 40,
               progress: Callable[[int, int], None] | None = None) -> ValidationReport:
    """Import a zip of class folders as data set ``name`` under ``data_dir()/folders/<safe name>``.

    Returns the :class:`ValidationReport` of the imported data set. Raises :class:`DataError` for a
    hostile or broken archive, an existing name, or (as DatasetLayoutError) an unusable layout; in every
    failure case nothing is left behind. Unreadable images are dropped and listed in the report.
    """
    from core.images import ImageError, load_image

    target_name = safe_name(name)
    base = Path(root) if root is not None else paths.data_dir()
    target = folders_dir(base) / target_name
    if target.exists():
        raise DataError(f"a data set named {target_name!r} already exists; choose another name or delete it first")
    staging_root = base / "staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target_name}-", dir=staging_root)).resolve()
    try:
        with _open_zip(src) as zf:
            kept, class_dirs, skipped, ignored = _plan(zf, limits)
            report = ValidationReport(root=str(target), name=target_name, skipped=skipped, ignored=ignored)
            for parts in class_dirs:
                (staging / parts[0]).mkdir(exist_ok=True)
            total = [0]
            for n, (info, parts) in enumerate(kept):
                dest = staging.joinpath(*parts)
                # Belt and braces: the validated components cannot leave staging, check anyway.
                if os.path.commonpath([staging, dest.resolve()]) != str(staging):
                    raise _Reject(f"entry {_display(info.orig_filename)!r} points outside the archive")
                dest.parent.mkdir(parents=True, exist_ok=True)
                _extract(zf, info, dest, limits, total)
                if progress is not None:
                    progress(n + 1, 2 * len(kept))
        # Validate: decode each image once; drop the ones that cannot be used.
        classes = sorted(p.name for p in staging.iterdir() if p.is_dir())
        counts = dict.fromkeys(classes, 0)
        for n, (info, parts) in enumerate(kept):
            rel = "/".join(parts)
            try:
                load_image(staging.joinpath(*parts), name=rel, max_megapixels=max_megapixels)
                counts[parts[0]] += 1
            except ImageError as err:
                report.skipped.append((rel, str(err)))
                staging.joinpath(*parts).unlink()
            if progress is not None:
                progress(len(kept) + n + 1, 2 * len(kept))
        report.classes, report.counts = classes, counts
        _check_layout(report)
        try:
            os.rename(staging, target)
        except OSError:
            raise DataError(f"a data set named {target_name!r} already exists; choose another name") from None
        return report
    except _Reject as err:
        raise DataError(f"archive rejected: {err}") from None
    except OSError as err:
        raise DataError(f"could not write the data set: {err.strerror or err}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(staging_root)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
