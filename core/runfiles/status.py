"""``status.json``: what state a run is in, who runs it, and how long it has computed.

Fields: ``state`` (:data:`core.runfiles.layout.STATES`), ``pid`` / ``pid_start`` / ``host`` / ``heartbeat`` (the
worker), ``created`` / ``started`` / ``ended`` / ``updated``, ``message``, ``owner`` (a hash of the browser that
started it, :mod:`core.runs.owners`), and the compute-time count: ``compute_s`` sums the closed worker sessions and
``session_started`` marks an open one (:func:`begin_session` / :func:`end_session`), so a run's duration never
counts its time queued, cancelled or interrupted.

Writes are read-modify-write under a file lock (launcher and worker both write), each an atomic replace.

Gotcha: status.json says what the worker *last wrote*. A worker killed with SIGKILL cannot write "interrupted", so
readers use :func:`effective_status`, which checks that the recorded worker is still alive.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from core.runfiles.atomic import atomic_write_json, file_lock, read_json
from core.runfiles.layout import ACTIVE_STATES, RESUMABLE_STATES, STATUS_FILE
from core.runfiles.liveness import worker_alive


def read_status(run_dir: str | os.PathLike) -> dict:
    st = read_json(Path(run_dir) / STATUS_FILE, default=None)
    return st if isinstance(st, dict) else {"state": "failed", "message": "status.json is missing or unreadable"}


def write_status(run_dir: str | os.PathLike, **fields: Any) -> dict:
    """Merge ``fields`` into status.json under a lock; returns the new status."""
    return _update_status(Path(run_dir), lambda st: st.update(fields))


def _update_status(run_dir: Path, change) -> dict:
    """Read-modify-write status.json under its lock: ``change(status)`` edits the dict in place."""
    with file_lock(run_dir / ".status.lock"):
        st = read_json(run_dir / STATUS_FILE, default=None)
        st = st if isinstance(st, dict) else {}
        change(st)
        st["updated"] = time.time()
        atomic_write_json(run_dir / STATUS_FILE, st)
    return st


def _fold_session(st: dict, until: float) -> None:
    """Add the open worker session (``session_started`` → ``until``) to ``compute_s`` and close it."""
    began = st.get("session_started")
    if began:
        st["compute_s"] = float(st.get("compute_s") or 0.0) + max(0.0, float(until) - float(began))
    st["session_started"] = None


def begin_session(run_dir: str | os.PathLike, **fields: Any) -> dict:
    """A worker starts computing (it holds the device): open a session for the compute-time count.

    A session left open by a killed worker is closed first at its last heartbeat (the last instant it was seen
    computing), so a crash neither loses that time nor counts the hours the run then sat interrupted.
    """
    now = time.time()

    def change(st: dict) -> None:
        _fold_session(st, st.get("heartbeat") or st.get("updated") or now)
        st.update(fields)
        st["session_started"] = now
    return _update_status(Path(run_dir), change)


def end_session(run_dir: str | os.PathLike, **fields: Any) -> dict:
    """A worker stops (completed, cancelled, failed): ``ended`` = now and the session's time added to
    ``compute_s``. Time spent queued or cancelled is in no session, so it is never counted."""
    now = time.time()

    def change(st: dict) -> None:
        _fold_session(st, now)
        st.update(fields)
        st["ended"] = now
    return _update_status(Path(run_dir), change)


def compute_seconds(st: dict, now: float | None = None) -> float | None:
    """Seconds the run's workers spent computing (data preparation, training, evaluation), summed over every
    start and resume; without the time it sat queued, cancelled or interrupted. ``st``: an effective status.

    Gotcha: runs written before sessions were recorded have no ``compute_s``; for them the wall time from first
    start to end is the best there is.
    """
    now = time.time() if now is None else now
    began = st.get("session_started")
    if "compute_s" not in st and not began:
        started, ended = st.get("started"), st.get("ended")
        if not started:
            return None
        end_t = now if st.get("state") in ACTIVE_STATES else (ended or st.get("heartbeat") or st.get("updated"))
        return max(0.0, float(end_t) - float(started)) if end_t else None
    total = float(st.get("compute_s") or 0.0)
    if began:  # a session is open: still computing, or its worker died (then up to its last heartbeat)
        until = now if st.get("state") in ACTIVE_STATES else (st.get("heartbeat") or st.get("updated") or now)
        total += max(0.0, float(until) - float(began))
    return total


def wall_seconds(st: dict, now: float | None = None) -> float | None:
    """Seconds from the first start to the end (or now), including any time queued, cancelled or interrupted."""
    started = st.get("started")
    if not started:
        return None
    now = time.time() if now is None else now
    end_t = now if st.get("state") in ACTIVE_STATES else (st.get("ended") or st.get("heartbeat") or st.get("updated"))
    return max(0.0, float(end_t) - float(started)) if end_t else None


def effective_status(run_dir: str | os.PathLike) -> dict:
    """status.json, with a queued/running run whose worker is gone reported as ``interrupted``."""
    st = dict(read_status(run_dir))
    if st.get("state") in ACTIVE_STATES and not worker_alive(st):
        st["recorded_state"] = st.get("state")
        st["state"] = "interrupted"
        st["message"] = "the worker process stopped without finishing (killed, crashed or the machine restarted); " \
                        "resume continues from the last checkpoint"
    return st


def can_resume(st: dict) -> bool:
    """Whether offering Resume makes sense for an effective status: interrupted, cancelled or failed, unless the
    failure says resuming with the same settings cannot help (``resumable: false``, e.g. missing weights)."""
    return st.get("state") in RESUMABLE_STATES and st.get("resumable", True) is not False


def is_active(run_dir: str | os.PathLike) -> bool:
    return effective_status(run_dir).get("state") in ACTIVE_STATES
