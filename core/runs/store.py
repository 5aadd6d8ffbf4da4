"""The run store: where run folders live, who owns them, how they are created, listed and deleted.

The file format of one run folder (config.json, status.json, metrics.jsonl, checkpoints, atomic writes) is
:mod:`core.runfiles`; its public names are re-exported here, so ``store.read_metrics(run_dir)`` and the like keep
working for the pages, the CLI and the worker. This module adds what needs a runs folder or a TrainConfig: the
folder ids (:func:`create_run`), the owner a run records (:func:`owned_by`), the config as a TrainConfig
(:func:`load_config`), and the listing with its in-memory index.

Listing is cheap however long the history: :func:`list_runs` keeps each finished run's summary in memory, keyed
by the folder's and ``metrics.jsonl``'s modification stamps (every status or checkpoint write replaces a file in
the folder, which changes its stamp), so a warm call stats each folder but opens none; only active runs are read.

Gotcha: ``status.json`` says what the worker last wrote. A worker killed with SIGKILL cannot write "interrupted",
so readers use :func:`effective_status`, which checks whether the recorded pid is still alive.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import secrets
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

from core.errors import InputError, RunError
from core.paths import runs_dir as default_runs_dir
from core.runfiles import (  # noqa: F401 - the run-folder format, re-exported: store.X is how callers read runs
    ACTIVE_STATES, CANCEL_FILE, CKPT_DIR, CONFIG_FILE, LOG_FILE, METRICS_FILE, RESUMABLE_STATES, STATES, STATUS_FILE,
    STEP_RECORDS, Records, RecordViews, RunFolder, append_metrics, atomic_write_bytes, atomic_write_json,
    begin_session, can_resume, checkpoint_meta, compute_seconds, effective_status, end_session, file_lock, has_checkpoint, is_active, json_safe,
    last_step, load_checkpoint, pid_alive, process_start_time, read_json, read_metrics, read_status, save_checkpoint,
    wall_seconds, write_status)
from core.train.config import TrainConfig


# ---------------------------------------------------------------- run folders
def runs_root(runs_dir: str | os.PathLike | None = None) -> Path:
    if runs_dir is None:
        return default_runs_dir()
    p = Path(runs_dir).resolve()
    p.mkdir(parents=True, exist_ok=True)
    return p


_OWNER: contextvars.ContextVar[str | None] = contextvars.ContextVar("cnnpg_run_owner", default=None)


@contextlib.contextmanager
def owned_by(owner: str | None) -> Iterator[None]:
    """Runs created inside this block (by any caller, e.g. ``launcher.start``) record ``owner`` unless
    :func:`create_run` is given one. Per thread: concurrent page sessions do not see each other's owner."""
    token = _OWNER.set(owner)
    try:
        yield
    finally:
        _OWNER.reset(token)


def current_owner() -> str | None:
    """The owner set by the innermost :func:`owned_by` block, or None."""
    return _OWNER.get()


def create_run(config, runs_dir: str | os.PathLike | None = None, *, owner: str | None = None) -> Path:
    """Make a new run folder holding ``config.json`` and a ``queued`` status; return its path.

    The id sorts by creation time: ``20250101-120000-resnet18-shapes-1a2b``. ``owner``: the id of the browser
    that starts it (:func:`core.runs.owners.owner_id`; default: the enclosing :func:`owned_by`), recorded in
    status.json; None = nobody's (the CLI).
    """
    owner = owner if owner is not None else current_owner()
    root = runs_root(runs_dir)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{config.arch}-{config.dataset}")[:40]
    for _ in range(100):
        run_dir = root / f"{stamp}-{slug}-{secrets.token_hex(2)}"
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 16 random bits in one second
        raise RunError("could not create a unique run folder")
    atomic_write_json(run_dir / CONFIG_FILE, config.to_dict())
    write_status(run_dir, state="queued", pid=None, created=time.time(), message="waiting to start", owner=owner)
    return run_dir


def run_path(run: str | os.PathLike, runs_dir: str | os.PathLike | None = None) -> Path:
    """A run folder from a path or a bare run id (looked up in ``runs_dir``). Raises RunError if absent."""
    p = Path(run)
    if not p.is_absolute() and not p.exists() and os.sep not in str(run) and "/" not in str(run):
        p = runs_root(runs_dir) / str(run)
    if not (p / CONFIG_FILE).is_file():
        raise RunError(f"not a run folder (no {CONFIG_FILE}): {run}")
    return p.resolve()


def load_config(run_dir: str | os.PathLike) -> TrainConfig:
    return TrainConfig.load(Path(run_dir) / CONFIG_FILE)


# ---------------------------------------------------------------- listing and deleting
def run_summary(run_dir: str | os.PathLike) -> dict:
    """What the Runs table shows: id, config basics, effective status, owner, duration, progress and accuracies.

    Served from the in-memory index while the run folder is unchanged and finished (see :func:`list_runs`)."""
    return _indexed_summary(os.path.abspath(run_dir), require_config=False)


def _indexed_summary(path: str, require_config: bool) -> dict | None:
    """The summary of the run folder ``path`` (absolute), from the index when its stamp still matches. None if
    ``require_config`` and it is not a run folder. Plain strings and os calls: this runs once per run per
    listing, where pathlib's overhead would be most of the cost."""
    stamp = _stamp(path)
    if stamp is not None:
        with _INDEX_LOCK:
            hit = _INDEX.get(path)
        if hit is not None and hit[0] == stamp:
            return dict(hit[1])
    if require_config and not os.path.isfile(os.path.join(path, CONFIG_FILE)):
        return None
    summary, cacheable = _read_summary(Path(path))
    with _INDEX_LOCK:
        if cacheable and stamp is not None:
            if len(_INDEX) >= _INDEX_MAX:
                _INDEX.clear()  # many roots (tests) or a huge history: start over rather than grow
            _INDEX[path] = (stamp, summary)
        else:
            _INDEX.pop(path, None)
    return dict(summary)


def _read_summary(run_dir: Path) -> tuple[dict, bool]:
    """The summary from the files, and whether it may be cached (finished: nothing changes it but a file write)."""
    cfg = read_json(run_dir / CONFIG_FILE, default={}) or {}
    st = effective_status(run_dir)
    rec = Records(read_metrics(run_dir))  # the same derivations as a run's live view (core.runs.results.RunView)
    best_val, test = rec.best_val, rec.test or {}
    started = st.get("started")
    summary = {
        "id": run_dir.name,
        "path": str(run_dir),
        "state": st.get("state"),
        "message": st.get("message"),
        "owner": st.get("owner"),
        "can_resume": can_resume(st),
        "dataset": cfg.get("dataset"),
        "arch": cfg.get("arch"),
        "mode": cfg.get("mode"),
        "created": st.get("created"),
        "started": started,
        "duration_s": compute_seconds(st),  # computing only: not the time it sat queued or cancelled
        "wall_s": wall_seconds(st),
        "step": rec.step,
        "total_steps": rec.meta.get("total_steps"),
        "best_val_acc": best_val.get("acc"),
        "best_val_n": best_val.get("n"),  # images the accuracy was measured on (2 images: 0, 50 or 100 %)
        "test_acc": test.get("acc"),
        "test_n": test.get("n"),
        "has_checkpoint": has_checkpoint(run_dir),
    }
    # An active run changes with time and pid liveness, not only with its files; a run that *looks* finished only
    # because its worker is gone (recorded_state) could still be relaunched without a file write: read both again.
    cacheable = st.get("state") not in ACTIVE_STATES and "recorded_state" not in st and not st.get("session_started")
    return summary, cacheable


# The run index: resolved run folder -> (stamp, summary). Shared by every session of the server process (one
# history), guarded by a lock (sessions run in threads).
_INDEX: dict[str, tuple[tuple, dict]] = {}
_INDEX_LOCK = threading.Lock()
_INDEX_MAX = 100_000


def _stamp(path: str) -> tuple | None:
    """What changes whenever the run's summary may change: status.json (each atomic write makes a new file while
    the old one still exists, so its inode differs from the last one's even within one clock tick), the folder's
    entry list (a checkpoint renames last.json / best.json into it) and metrics.jsonl (appended in place).
    None if the folder is gone."""
    out = []
    for name in ("", STATUS_FILE, METRICS_FILE):
        try:
            s = os.stat(f"{path}{os.sep}{name}" if name else path)
        except OSError:
            if not name:
                return None
            out.append(None)
            continue
        out.append((s.st_mtime_ns, s.st_size, s.st_ino))
    return tuple(out)


def clear_index() -> None:
    """Forget every cached summary (benchmarks; tests)."""
    with _INDEX_LOCK:
        _INDEX.clear()


def _run_folders(root: Path) -> list[str]:
    """Run folders under ``root`` (absolute paths), newest first (ids sort by creation time). Folders being
    deleted (``.deleting-*``) and stray files are skipped; only directory entries are listed, no file is opened."""
    base = os.path.abspath(root)
    with os.scandir(base) as it:
        names = [e.name for e in it if not e.name.startswith(".") and e.is_dir()]
    return [os.path.join(base, n) for n in sorted(names, reverse=True)]


def list_runs(runs_dir: str | os.PathLike | None = None, *, owner: str | None = None,
              states: tuple[str, ...] | None = None) -> list[dict]:
    """Summaries of every run folder, newest first; only those owned by ``owner`` and in ``states`` if given.

    A warm call opens no file of a finished run (see the module's docstring): the cost is three ``stat`` calls
    per folder plus the reading of the active ones.
    """
    out = []
    for path in _run_folders(runs_root(runs_dir)):
        s = _indexed_summary(path, require_config=True)
        if s is None:
            continue  # not a run folder: e.g. a folder someone made by hand
        if owner is not None and s.get("owner") != owner:
            continue
        if states is not None and s.get("state") not in states:
            continue
        out.append(s)
    return out


def latest_active_run(runs_dir: str | os.PathLike | None = None, *, owner: str | None = None) -> Path | None:
    """The newest queued or running run (owned by ``owner`` if given), or None."""
    runs = list_runs(runs_dir, owner=owner, states=ACTIVE_STATES)
    return Path(runs[0]["path"]) if runs else None


def delete_run(run_dir: str | os.PathLike) -> None:
    """Remove a finished run's folder. An active run must be cancelled first."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise RunError(f"not a run folder: {run_dir}")
    if is_active(run_dir):
        raise RunError("this run is still active: cancel it first, then delete it")
    # rename first so a half-finished delete never looks like a run
    trash = run_dir.with_name(f".deleting-{run_dir.name}-{secrets.token_hex(2)}")
    os.replace(run_dir, trash)
    shutil.rmtree(trash, ignore_errors=True)


def validate_run_id(run_id: str) -> str:
    """Run ids come from URLs: allow only the characters create_run produces (no path tricks)."""
    if not run_id or len(run_id) > 120 or not all(c.isalnum() or c in "-_" for c in run_id):
        raise InputError("invalid run id")
    return run_id
