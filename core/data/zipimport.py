"""Import a zip upload as an image-folder data set, treating the archive as hostile.

``import_zip(src, name)`` treats the archive as hostile (reliability.md §Archives 8–11):
path traversal, absolute paths, drive letters, backslashes, symlinks, encrypted entries, duplicate or
case-colliding names and nested archives reject the whole archive; entry count, total size, per-entry size
and compression ratio are limited while streaming (bytes actually decompressed are counted, headers are not
trusted); everything is extracted into a fresh staging folder, validated, then renamed into place in one
step. On any failure the staging folder is removed and nothing else has been written.

The result is an ordinary folder under ``data_dir()/folders/<name>`` (see :mod:`core.data.folders`), returned
with its :class:`ValidationReport`.

Gotcha: a zip made by "Compress folder" on a Mac or Windows wraps everything in one top-level folder
(``my-pets/cat/1.jpg``) and, on a Mac, adds ``__MACOSX/`` and ``.DS_Store`` junk: both are handled.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import shutil
import stat
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from PIL import Image

from core import budget, paths
from core.data.errors import DataError
from core.data.folders import (
    ARCHIVE_EXTENSIONS, IMAGE_EXTENSIONS, NAME_RE, ValidationReport, check_layout, display_name, folders_dir, is_junk,
)
from core.images import ALLOWED_FORMATS, ImageError, load_image


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
    # Decoding is the costly part of validation, done inside the page request: the images' total size, read from
    # their headers before any pixel is decoded, bounds it. Measured on the shared 2-core development machine:
    # 36 MP/s for JPEG photos, 12 MP/s for noisy PNGs, so 500 MP is at most ~14 s (JPEG) to ~40 s (PNG) of one
    # core. An instructor changes it with CNNPG_ZIP_MAX_MEGAPIXELS.
    max_total_megapixels: float = field(default_factory=lambda: _env_megapixels())


def _env_megapixels(default: float = 500.0) -> float:
    try:
        value = float(os.environ.get("CNNPG_ZIP_MAX_MEGAPIXELS", default))
    except ValueError:
        return default
    return value if value > 0 else default


def safe_name(name: str) -> str:
    """A data set name usable as a folder name: lowercase ``[a-z0-9_-]``, at most 48 characters."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9_-]+", "-", text).strip("-_")[:48].strip("-_")
    if not text or not NAME_RE.fullmatch(text):
        raise DataError(f"choose a name made of letters, digits, '-' or '_' (got {name!r})")
    return text



class _Reject(DataError):
    pass


def _entry_parts(info: zipfile.ZipInfo, limits: ZipLimits) -> tuple[str, ...]:
    """Validated path components of one entry, or _Reject. Directory entries end with ''."""
    raw = info.orig_filename
    shown = display_name(raw)
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
                    what = "appears twice" if prev_name == original else f"collides with {display_name(prev_name)!r}"
                    raise _Reject(f"entry {display_name(original)!r} {what} (duplicate or case-colliding names)")
            else:
                seen[key] = kind + original
        if any(is_junk(p) for p in parts):
            ignored.append("/".join(parts) + ("/" if is_dir else ""))
            continue
        if not is_dir and Path(parts[-1]).suffix.lower() in ARCHIVE_EXTENSIONS:
            raise _Reject(f"entry {display_name('/'.join(parts))!r} is an archive inside the archive "
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
    shown = display_name(info.orig_filename)
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
               limits: ZipLimits | None = None, image_size: int = 32, max_megapixels: float = 40,
               progress: Callable[[int, int], None] | None = None) -> ValidationReport:
    """Import a zip of class folders as data set ``name`` under ``data_dir()/folders/<safe name>``.

    Returns the :class:`ValidationReport` of the imported data set. Raises :class:`DataError` for a
    hostile or broken archive, an existing name, or (as DatasetLayoutError) an unusable layout; in every
    failure case nothing is left behind. Unreadable images are dropped and listed in the report.
    """
    limits = limits if limits is not None else ZipLimits()
    target_name = safe_name(name)
    base = Path(root) if root is not None else paths.data_dir()
    target = folders_dir(base) / target_name
    if target.exists():
        raise DataError(f"a data set named {target_name!r} already exists; choose another name or delete it first")
    staging_root = base / "staging"
    with budget.writing(staging_root), _staging_lock(base):  # a finishing import's cleanup never removes ours
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{target_name}-", dir=staging_root)).resolve()  # unique per import
    try:
        with _open_zip(src) as zf:
            kept, class_dirs, skipped, ignored = _plan(zf, limits)
            budget.check_disk(sum(info.file_size for info, _ in kept), what="this archive")
            report = ValidationReport(root=str(target), name=target_name, skipped=skipped, ignored=ignored)
            for parts in class_dirs:
                (staging / parts[0]).mkdir(exist_ok=True)
            total = [0]
            for n, (info, parts) in enumerate(kept):
                dest = staging.joinpath(*parts)
                # Belt and braces: the validated components cannot leave staging, check anyway.
                if os.path.commonpath([staging, dest.resolve()]) != str(staging):
                    raise _Reject(f"entry {display_name(info.orig_filename)!r} points outside the archive")
                dest.parent.mkdir(parents=True, exist_ok=True)
                _extract(zf, info, dest, limits, total)
                if progress is not None:
                    progress(n + 1, 2 * len(kept))
        _check_total_pixels(staging, kept, limits)
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
        check_layout(report)
        try:
            os.rename(staging, target)
        except OSError:
            raise DataError(f"a data set named {target_name!r} already exists; choose another name") from None
        return report
    except _Reject as err:
        raise DataError(f"archive rejected: {err}") from None
    except OSError as err:
        if budget.is_storage_error(err):
            raise budget.storage_error(err, staging_root if err.filename is None or str(staging) in str(err.filename)
                                       else Path(err.filename).parent) from None
        raise DataError(f"could not write the data set: {err.strerror or err}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError), _staging_lock(base):
            _remove_if_empty(staging_root)


@contextlib.contextmanager
def _staging_lock(base: Path):
    """Across threads and processes: creating a staging folder and removing the empty staging root never
    interleave (two imports at once: the first one's cleanup used to delete the root under the second)."""
    with _STAGING_THREADS:
        fd = os.open(base, os.O_RDONLY)  # a lock on the data folder itself: no lock file is left behind
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock


_STAGING_THREADS = threading.Lock()  # flock is per open file: threads of one server also take this


def _check_total_pixels(staging: Path, kept, limits: ZipLimits) -> None:
    """Refuse an archive whose images hold more than ``limits.max_total_megapixels`` together, from the headers
    alone (no pixel decoded): this bounds the decoding work the import does inside the page request."""
    total = 0
    for _, parts in kept:
        try:
            with Image.open(staging.joinpath(*parts), formats=list(ALLOWED_FORMATS)) as im:
                w, h = im.size
        except Exception:  # noqa: BLE001 - unreadable: the decoder reports it per file below
            continue
        total += w * h
        if total > limits.max_total_megapixels * 1e6:
            raise _Reject(f"its images hold more than {limits.max_total_megapixels:,.4g} megapixels together (the "
                          "limit for one import); use fewer or smaller photos: training squares them to the run's "
                          "image size (at most 1024 px) anyway")


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
