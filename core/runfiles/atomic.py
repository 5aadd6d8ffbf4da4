"""Files that a crash never leaves half-written, strict JSON, and a lock shared between processes.

Every write goes to a temporary file in the same folder, is fsynced, then ``os.replace``-d over the target, and
the folder is fsynced too (the rename lives in the folder's entry): a SIGKILL or a power cut at any instant leaves
the old file or the new one, never a mix. Readers use :func:`read_json`, which returns ``default`` for a missing or
unreadable file rather than raising: a run folder is read while its worker writes it.

Gotcha: ``json.dumps`` writes ``NaN`` and ``Infinity``, which strict JSON readers (browsers, ``jq``) reject; write
through :func:`json_safe` (done by :func:`atomic_write_json`), which turns them into ``null``.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any, Iterator


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers (and crashes) see the old file or the new one, never a mix."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(json_safe(obj), indent=2) + "\n").encode("utf-8"))


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable: the rename itself lives in the directory entry; without this a power
    cut could forget it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN / ±inf as None, keys as strings, tuples as lists and paths as strings: what strict JSON
    (and every reader of the run files and the CLI's ``--json``) accepts."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def read_json(path: str | os.PathLike, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` if it is missing, unreadable or not JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return default


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock across processes on ``path`` (flock): status.json read-modify-writes from launcher and
    worker, and launches of one run folder."""
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
