"""Queue caps: how many runs may be queued or running at once, on the whole server and per student.

A run counts while its state is one of ``core.runfiles.ACTIVE_STATES`` and its worker is alive
(``core.runfiles.effective_status`` reports a dead worker's run as interrupted, so a crashed worker frees its place). A run's
owner is the browser identity that started it (``status.json``, else ``config.json``); runs without one (the
CLI, runs from before owners existed) count only towards the global cap. The caps are ``CNNPG_MAX_QUEUED`` and
``CNNPG_MAX_QUEUED_PER_OWNER`` (:mod:`core.budget.settings`).

Gotcha: counting then starting is only safe under the launcher's lock (``core.runs.launcher.start`` calls
:func:`check_queue` while holding ``launch.lock``): two clicks at once would otherwise both see room for one.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from core import runfiles
from core.budget.settings import setting
from core.errors import QueueFull
from core.paths import runs_dir as default_runs_dir


def run_owner(run_dir: Path, status: dict) -> str | None:
    """The run's ``owner`` (status.json, else config.json), or None for runs without one."""
    owner = status.get("owner")
    if owner is None:
        cfg = runfiles.read_json(run_dir / runfiles.CONFIG_FILE, default={}) or {}
        owner = cfg.get("owner") if isinstance(cfg, dict) else None
    return str(owner) if owner else None


def active_runs(runs_dir: str | os.PathLike | None = None) -> list[tuple[Path, str | None]]:
    """(run folder, owner) of every queued or running run (a dead worker's run does not count)."""
    root = Path(runs_dir).resolve() if runs_dir is not None else default_runs_dir()
    out = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(root):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            p = Path(entry.path)
            if not (p / runfiles.CONFIG_FILE).is_file():
                continue
            st = runfiles.effective_status(p)
            if st.get("state") in runfiles.ACTIVE_STATES:
                out.append((p, run_owner(p, st)))
    return out


def check_queue(owner: str | None = None, runs_dir: str | os.PathLike | None = None) -> None:
    """Raise :class:`QueueFull` when one more run would pass the global or this owner's cap."""
    total_cap = int(setting("CNNPG_MAX_QUEUED"))
    owner_cap = int(setting("CNNPG_MAX_QUEUED_PER_OWNER"))
    active = active_runs(runs_dir)
    if owner and owner_cap and sum(1 for _, o in active if o == str(owner)) >= owner_cap:
        raise QueueFull(f"you already have {owner_cap} run{'s' if owner_cap != 1 else ''} queued or running (the "
                        "limit per student): wait until one finishes, or cancel one on the Runs page")
    if total_cap and len(active) >= total_cap:
        raise QueueFull(f"the server already has {len(active)} runs queued or running (its limit is {total_cap}): "
                        "wait until one finishes, then start again")
