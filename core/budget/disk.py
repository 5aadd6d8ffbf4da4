"""The disk budget of ``var/``: what the app's storage holds, by kind, and the check that refuses a new run or zip
import once it passes ``CNNPG_DISK_BUDGET_GB`` (:mod:`core.budget.settings`) or the disk itself is nearly full.

:func:`disk_usage` walks the app's folders (:func:`app_folders`: home, runs, data, as :mod:`core.paths` resolves
them) and sorts every byte into a kind of :data:`KIND_TITLES`: runs, imported data sets, caches, downloads,
staging, other. It counts *allocated* blocks (``st_blocks``), not file lengths, and each inode once.
:func:`check_disk` raises :class:`~core.errors.DiskBudgetExceeded` with the figures, or
:class:`~core.errors.StorageError` when fewer than :data:`MIN_FREE_BYTES` would be left free on the disk.

Gotcha: a run's ``last.safetensors`` is a hard link to one of its checkpoints; counting it again would double a
run's size, hence the ``(st_dev, st_ino)`` set shared by the whole walk. Measuring creates no folder, so it works
on a read-only disk too.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from core.budget.settings import GiB, MiB, fmt_bytes, setting
from core.errors import DiskBudgetExceeded, StorageError
from core.paths import ROOT

KIND_TITLES = {
    "runs": "Runs (checkpoints, logs)",
    "imports": "Imported data sets (zips)",
    "caches": "Caches (drawn Shapes, decoded folders)",
    "downloads": "Downloaded data sets",
    "staging": "Unfinished imports (staging)",
    "other": "Other",
}

# Minimum free space on the file system below which nothing new starts (a checkpoint must still fit).
MIN_FREE_BYTES = 256 * MiB


@dataclass
class DiskUsage:
    """Bytes ``var/`` holds, by kind. ``parts``: {kind: bytes}; ``items``: the largest entries of each kind."""

    parts: dict[str, int]
    budget_bytes: int | None
    free_bytes: int | None  # free space of the file system that holds var/
    items: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.parts.values())

    def table(self) -> list[dict[str, Any]]:
        return [{"what": KIND_TITLES[k], "size": fmt_bytes(v), "bytes": v} for k, v in self.parts.items()]


def app_folders() -> tuple[Path, Path, Path]:
    """(home, runs, data) as :mod:`core.paths` resolves them, without creating them: measuring must work on a
    read-only disk too."""
    home = Path(os.environ.get("CNNPG_HOME", ROOT / "var")).resolve()
    runs = Path(os.environ.get("CNNPG_RUNS_DIR", home / "runs")).resolve()
    data = Path(os.environ.get("CNNPG_DATA_DIR", home / "data")).resolve()
    return home, runs, data


def _children(folder: Path) -> Iterable[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder)]
    except OSError:
        return []


def _tree_bytes(path: Path, seen: set) -> int:
    """Allocated bytes under ``path`` (hard links counted once: a run's last.safetensors is a link)."""
    total = 0
    stack = [path]
    while stack:
        p = stack.pop()
        try:
            it = os.scandir(p)
        except (NotADirectoryError, FileNotFoundError, PermissionError):
            continue
        with it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
                total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total


def disk_usage(*, with_items: bool = False) -> DiskUsage:
    """What uses the app's storage: runs, imported data sets, caches, downloads, staging (see KIND_TITLES)."""
    home, runs, data = app_folders()
    seen: set = set()
    parts = dict.fromkeys(KIND_TITLES, 0)
    items: dict[str, list[tuple[str, int]]] = {k: [] for k in KIND_TITLES}

    def add(kind: str, p: Path) -> None:
        if p.is_dir():
            size = _tree_bytes(p, seen)
        else:
            try:
                st = p.stat()
            except OSError:
                return
            if (st.st_dev, st.st_ino) in seen:
                return
            seen.add((st.st_dev, st.st_ino))
            size = getattr(st, "st_blocks", 0) * 512 or st.st_size
        parts[kind] += size
        if with_items:
            items[kind].append((p.name, size))

    handled = {runs.resolve(), data.resolve()}
    for p in _children(runs):
        add("runs", p)
    for p in _children(data):
        kind = {"folders": "imports", "cache": "caches", "staging": "staging"}.get(p.name, "downloads")
        if p.name in ("folders", "cache", "staging") and with_items:
            for q in _children(p):
                add(kind, q)
        else:
            add(kind, p)
    for p in _children(home):
        if p.resolve() not in handled and not any(h.is_relative_to(p.resolve()) for h in handled):
            add("other", p)
    for k in items:
        items[k].sort(key=lambda t: -t[1])
    budget = setting("CNNPG_DISK_BUDGET_GB")
    free = None
    for p in (home, *home.parents):  # the nearest folder that exists tells the file system
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(p).free
            break
    return DiskUsage(parts=parts, budget_bytes=int(budget * GiB) if budget else None, free_bytes=free, items=items)


def check_disk(need_bytes: int = 0, what: str = "this") -> DiskUsage:
    """Raise :class:`DiskBudgetExceeded` when ``var/`` plus ``need_bytes`` passes the budget, or
    :class:`StorageError` when the disk itself is (nearly) full. Returns the usage it measured."""
    usage = disk_usage()
    if usage.budget_bytes is not None and usage.total_bytes + need_bytes > usage.budget_bytes:
        biggest = ", ".join(f"{KIND_TITLES[k].split(' (')[0].lower()} {fmt_bytes(v)}"
                            for k, v in sorted(usage.parts.items(), key=lambda kv: -kv[1]) if v)
        raise DiskBudgetExceeded(
            f"the app's storage holds {fmt_bytes(usage.total_bytes)} of its {fmt_bytes(usage.budget_bytes)} budget"
            + (f" ({biggest})" if biggest else "")
            + (f" and {what} needs about {fmt_bytes(need_bytes)} more" if need_bytes else "")
            + ": delete old runs (Runs page) or imported data sets (Data sets page) first")
    if usage.free_bytes is not None and usage.free_bytes < MIN_FREE_BYTES + need_bytes:
        raise StorageError(f"cannot write to {app_folders()[0]}: disk full ({fmt_bytes(usage.free_bytes)} free); "
                           "delete old runs or imported data sets")
    return usage
