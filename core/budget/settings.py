"""The server's budget settings, read from its environment, and the byte units every budget message uses.

Each setting is a whole or decimal number in an environment variable of the server; a missing, unreadable or
negative value means the default in :data:`DEFAULTS`:

- ``CNNPG_MAX_QUEUED`` (default 6): queued + running runs on the whole server. A queued worker waits for the
  device as a small process that has not imported torch; once it runs, it holds torch, its model and its data.
- ``CNNPG_MAX_QUEUED_PER_OWNER`` (default 2): queued + running runs of one browser identity (the run's
  ``owner``); runs without an owner (the CLI, runs from before owners existed) count only towards the global cap.
- ``CNNPG_DISK_BUDGET_GB`` (default 10): what ``var/`` (runs, imported data sets, caches, downloads, staging) may
  hold before a new run or zip import is refused. ``0`` switches the check off.
- ``CNNPG_MEMORY_FRACTION`` (default 0.75): share of the memory available now that one run may plan to use
  (the rest is for the pages of the other students and the server itself).
- ``CNNPG_UPLOAD_CACHE_MB`` (default 256): decoded uploads kept in memory for reruns, all sessions together.
- ``CNNPG_DATASET_CACHE_MB`` (default 1024): decoded folder data sets the Data sets page keeps open.

Gotcha: :func:`setting` reads the environment on every call, never once at import, so a changed variable counts
from the next check on (tests change a budget with ``monkeypatch.setenv`` alone). For the queue caps and the disk
budget ``0`` means "no limit"; for the memory fraction and the caches it means what it says (nothing fits, nothing
is kept).
"""
from __future__ import annotations

import os

GiB = 2**30
MiB = 2**20

DEFAULTS = {
    "CNNPG_MAX_QUEUED": 6,
    "CNNPG_MAX_QUEUED_PER_OWNER": 2,
    "CNNPG_DISK_BUDGET_GB": 10.0,
    "CNNPG_MEMORY_FRACTION": 0.75,
    "CNNPG_UPLOAD_CACHE_MB": 256.0,
    "CNNPG_DATASET_CACHE_MB": 1024.0,
}


def setting(name: str) -> float:
    """The numeric setting ``name`` from the environment (see the module docstring), else its default."""
    default = DEFAULTS[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


def fmt_bytes(n: float) -> str:
    """Bytes as a person reads them in a message: "1.5 GiB", "300 MiB", "12 KiB"."""
    n = float(n)
    if n >= GiB:
        return f"{n / GiB:.1f} GiB"
    if n >= MiB:
        return f"{n / MiB:.0f} MiB"
    return f"{n / 1024:.0f} KiB"
