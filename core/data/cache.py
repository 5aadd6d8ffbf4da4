"""Rendered / decoded data sets cached on disk as uncompressed ``.npz`` under ``data_dir()/cache``.

Writes are atomic (temp file in the same folder, fsync, ``os.replace``) so a reader never sees half a file,
and two processes rendering the same split at once just both win with identical content.
A cache file that cannot be read (truncated, wrong keys) is treated as missing and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core import budget, paths


def cache_dir(root: str | os.PathLike | None = None) -> Path:
    with budget.writing():  # read-only / full storage: a StorageError naming the folder that failed
        base = Path(root) if root is not None else paths.data_dir()
        d = base / "cache"
        d.mkdir(parents=True, exist_ok=True)
    return d


def params_hash(params: dict[str, Any]) -> str:
    """Stable short hash of JSON-able parameters (key order does not matter)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def load(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """All ``keys`` of the cached file, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomically write ``arrays`` to ``path`` (uncompressed: loading must be a memcpy, not a decode)."""
    with budget.writing(path.parent):  # read-only / full storage: a StorageError naming the folder
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        _write(fd, tmp, path, arrays)


def _write(fd: int, tmp: str, path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
