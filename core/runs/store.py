"""Run folders: the one place a training run's files are written and read.

A run is a folder ``<runs_dir>/<run id>/``::

    config.json             the TrainConfig (re-runnable with ``python -m core train --config``)
    status.json             {"state", "pid", "pid_start", "host", "heartbeat", "started", "ended", "message",
                             "compute_s", "session_started", "owner", ...}: compute_s sums the worker sessions (see
                             begin_session / end_session), so a run's duration never counts its queued time;
                             owner: the id of the browser that started it (core.runs.owners), None = nobody
    metrics.jsonl           one JSON record per line, append-only ("meta", "train", "eval", "test", "resume", "end")
    last.json / best.json   checkpoint metadata; names the tensor files below (the commit point of a checkpoint)
    last.safetensors        model weights of the last / best checkpoint (a hard link to the file under
    best.safetensors          checkpoints/; loadable by core.models.build(..., weights=path))
    checkpoints/            step-numbered weights and training state (optimizer, RNG) in safetensors files
    train.log               the worker's stdout and stderr
    cancel                  present = please stop (the worker polls it)

Every write is atomic (temp file in the same folder, fsync, ``os.replace``), so a SIGKILL at any instant leaves
either the old or the new file, never half of one. A checkpoint is several files: the tensor files are written
first under new names, then ``last.json`` is replaced (that instant is the commit), then older files are removed.

Listing is cheap however long the history: :func:`list_runs` keeps each finished run's summary in memory, keyed
by the folder's and ``metrics.jsonl``'s modification stamps (every status or checkpoint write replaces a file in
the folder, which changes its stamp), so a warm call stats each folder but opens none; only active runs are read.

Gotcha: ``status.json`` says what the worker last wrote. A worker killed with SIGKILL cannot write "interrupted",
so readers use :func:`effective_status`, which checks whether the recorded pid is still alive.
"""
from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import math
import os
import secrets
import shutil
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from core.errors import InputError, RunError
from core.paths import runs_dir as default_runs_dir
from core.train.config import TrainConfig

STATES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")
ACTIVE_STATES = ("queued", "running")
RESUMABLE_STATES = ("interrupted", "cancelled", "failed")
CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"
CANCEL_FILE = "cancel"
CKPT_DIR = "checkpoints"
# A queued run whose worker never reported a pid within this time is considered dead (launcher crashed).
_NO_PID_GRACE_S = 60.0
# A run on another host (shared runs folder) counts as alive while its heartbeat is younger than this.
_HEARTBEAT_STALE_S = 120.0


# ---------------------------------------------------------------- atomic files
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
    _fsync_dir(path.parent)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(json_safe(obj), indent=2) + "\n").encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    # The rename itself lives in the directory entry; without this a power cut could forget it.
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
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return default


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


# ---------------------------------------------------------------- status
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


def process_start_time(pid: int) -> int | None:
    """Kernel start time of ``pid`` (clock ticks since boot), to tell a reused pid from ours. None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
        # the command name (field 2) may contain spaces and ')' : split after the last ')'
        return int(raw[raw.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int | None, start_time: int | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when known, started at ``start_time``."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
        fields = raw[raw.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):  # exited, waiting to be reaped by its parent
            return False
        if start_time is not None and int(fields[19]) != int(start_time):
            return False  # the pid was reused by another process
    except (OSError, ValueError, IndexError):
        pass  # no /proc (macOS): trust os.kill
    return True


def effective_status(run_dir: str | os.PathLike) -> dict:
    """status.json, with a queued/running run whose worker is gone reported as ``interrupted``."""
    st = dict(read_status(run_dir))
    if st.get("state") in ACTIVE_STATES and not _worker_alive(st):
        st["recorded_state"] = st.get("state")
        st["state"] = "interrupted"
        st["message"] = "the worker process stopped without finishing (killed, crashed or the machine restarted); " \
                        "resume continues from the last checkpoint"
    return st


def _worker_alive(st: dict) -> bool:
    pid = st.get("pid")
    if not pid:
        created = st.get("created") or st.get("updated") or 0
        return time.time() - float(created) < _NO_PID_GRACE_S
    if st.get("host") not in (None, socket.gethostname()):
        return time.time() - float(st.get("heartbeat") or 0) < _HEARTBEAT_STALE_S
    return pid_alive(pid, st.get("pid_start"))


def can_resume(st: dict) -> bool:
    """Whether offering Resume makes sense for an effective status: interrupted, cancelled or failed, unless the
    failure says resuming with the same settings cannot help (``resumable: false``, e.g. missing weights)."""
    return st.get("state") in RESUMABLE_STATES and st.get("resumable", True) is not False


def is_active(run_dir: str | os.PathLike) -> bool:
    return effective_status(run_dir).get("state") in ACTIVE_STATES


# ---------------------------------------------------------------- metrics
def append_metrics(run_dir: str | os.PathLike, record: dict) -> None:
    """Append one JSON line. A crash mid-write leaves at most a truncated last line, which readers skip."""
    line = json.dumps(json_safe(record), separators=(",", ":")) + "\n"
    path = Path(run_dir) / METRICS_FILE
    with open(path, "a", encoding="utf-8") as f:
        if f.tell() > 0:
            # a previous writer died mid-line: start on a fresh line so this record stays readable
            with open(path, "rb") as r:
                r.seek(-1, os.SEEK_END)
                if r.read(1) != b"\n":
                    f.write("\n")
        f.write(line)


def read_metrics(run_dir: str | os.PathLike, *, resolve_resumes: bool = True) -> list[dict]:
    """All readable records. Unparseable lines (e.g. a truncated last line) are skipped.

    With ``resolve_resumes``, records logged after the checkpoint a run resumed from are dropped (the resumed
    run redoes those steps), so curves show each step once.
    """
    out: list[dict] = []
    try:
        with open(Path(run_dir) / METRICS_FILE, "rb") as f:
            for raw in f:
                try:
                    rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if not isinstance(rec, dict):
                    continue
                if resolve_resumes and rec.get("type") == "resume":
                    step = rec.get("step", 0)
                    out = [r for r in out if r.get("type") in ("meta",) or r.get("step", 0) <= step
                           and r.get("type") not in ("end",)]
                out.append(rec)
    except FileNotFoundError:
        pass
    return out


STEP_RECORDS = ("train", "eval", "test", "end")


def last_step(records: list[dict]) -> int:
    """The step a run has reached: the one number the table, the progress bar and the status message show.

    Training records come every ``log_every`` steps, so a run cancelled at step 777 has its last one at 770;
    its ``end`` record (written with the final checkpoint) says 777. ``records``: :func:`read_metrics` output.
    """
    return max((int(r.get("step") or 0) for r in records if r.get("type") in STEP_RECORDS), default=0)


# ---------------------------------------------------------------- the loop's writer
class RunFolder:
    """A run folder as the training loop's writer (:class:`core.train.state.RunWriter`): metrics records and
    checkpoints go to ``path``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def append_metrics(self, record: dict) -> None:
        append_metrics(self.path, record)

    def save_checkpoint(self, model_state: dict, meta: dict, train_state: dict | None = None, *,
                        best: bool = False) -> dict:
        return save_checkpoint(self.path, model_state, meta, train_state, best=best)


# ---------------------------------------------------------------- checkpoints
def save_checkpoint(run_dir: str | os.PathLike, model_state: dict, meta: dict,
                    train_state: dict | None = None, *, best: bool = False) -> dict:
    """Write a checkpoint (``last``; also ``best`` when ``best``) and return its metadata.

    ``model_state``: a state_dict of tensors. ``train_state``: {"tensors": {name: tensor}, "json": {...}} with
    the optimizer, RNG and scaler state (see core.train.loop). ``meta``: JSON (step, epoch, metrics, ...).
    """
    from safetensors.torch import save_file  # here: imports torch; a queued worker waits as a small process

    run_dir = Path(run_dir)
    ck = run_dir / CKPT_DIR
    ck.mkdir(exist_ok=True)
    step = int(meta.get("step", 0))
    tag = f"{step:08d}-{secrets.token_hex(2)}"
    weights_name = f"{CKPT_DIR}/weights-{tag}.safetensors"
    save_file(_plain_tensors(model_state), _tmp_then(run_dir / weights_name), metadata={"step": str(step)})
    _commit_tmp(run_dir / weights_name)
    meta = dict(meta, weights=weights_name, saved=time.time())
    if train_state is not None:
        state_name = f"{CKPT_DIR}/state-{tag}.safetensors"
        save_file(_plain_tensors(train_state.get("tensors", {})), _tmp_then(run_dir / state_name),
                  metadata={"step": str(step)})
        _commit_tmp(run_dir / state_name)
        meta["state"] = state_name
        meta["train_state_json"] = train_state.get("json", {})
    atomic_write_json(run_dir / "last.json", meta)  # <- the commit point
    _alias(run_dir / weights_name, run_dir / "last.safetensors")
    if best:
        best_meta = {k: v for k, v in meta.items() if k not in ("state", "train_state_json")}
        atomic_write_json(run_dir / "best.json", best_meta)
        _alias(run_dir / weights_name, run_dir / "best.safetensors")
    _collect_garbage(run_dir)
    return meta


def _plain_tensors(tensors: dict) -> dict:
    # safetensors refuses views sharing storage and non-contiguous tensors: give it independent CPU copies
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}


def _tmp_then(final: Path) -> str:
    return str(final.with_name(f".{final.name}.tmp"))


def _commit_tmp(final: Path) -> None:
    tmp = final.with_name(f".{final.name}.tmp")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _alias(target: Path, alias: Path) -> None:
    """Atomically point ``alias`` at ``target``'s content (hard link; copy where links are not supported)."""
    tmp = alias.with_name(f".{alias.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.link(target, tmp)
    except OSError:
        shutil.copyfile(target, tmp)
    os.replace(tmp, alias)
    _fsync_dir(alias.parent)


def _collect_garbage(run_dir: Path) -> None:
    keep = set()
    for name in ("last.json", "best.json"):
        meta = read_json(run_dir / name, default={}) or {}
        keep.update(v for k, v in meta.items() if k in ("weights", "state") and isinstance(v, str))
    for p in (run_dir / CKPT_DIR).iterdir():
        rel = f"{CKPT_DIR}/{p.name}"
        if rel not in keep and (not p.name.startswith(".") or time.time() - p.stat().st_mtime > 3600):
            with contextlib.suppress(OSError):
                p.unlink()


def has_checkpoint(run_dir: str | os.PathLike, kind: str = "last") -> bool:
    meta = read_json(Path(run_dir) / f"{kind}.json", default=None)
    return isinstance(meta, dict) and (Path(run_dir) / str(meta.get("weights", ""))).is_file()


def checkpoint_meta(run_dir: str | os.PathLike, kind: str = "last") -> dict | None:
    meta = read_json(Path(run_dir) / f"{kind}.json", default=None)
    return meta if isinstance(meta, dict) else None


def load_checkpoint(run_dir: str | os.PathLike, kind: str = "last", *, with_train_state: bool = True) -> dict:
    """{"meta": {...}, "model": state_dict, "train_state": {"tensors", "json"} | None}; RunError if unusable.

    Safetensors files hold tensors only, so loading one cannot run code (unlike a pickle).
    """
    from safetensors import SafetensorError  # here: torch, as in save_checkpoint
    from safetensors.torch import load_file

    run_dir = Path(run_dir)
    meta = checkpoint_meta(run_dir, kind)
    if meta is None or "weights" not in meta:
        raise RunError(f"run {run_dir.name} has no {kind} checkpoint yet")
    try:
        model = load_file(run_dir / meta["weights"])
        train_state = None
        if with_train_state and meta.get("state"):
            train_state = {"tensors": load_file(run_dir / meta["state"]), "json": meta.get("train_state_json", {})}
    except (OSError, SafetensorError) as err:
        raise RunError(f"checkpoint of run {run_dir.name} cannot be read: {err}") from None
    return {"meta": meta, "model": model, "train_state": train_state}


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
    metrics = read_metrics(run_dir)
    meta = next((r for r in metrics if r.get("type") == "meta"), {})
    evals = [r for r in metrics if r.get("type") == "eval"]
    tests = [r for r in metrics if r.get("type") == "test"]
    started = st.get("started")
    best_val = max((r for r in evals if r.get("split") == "val" and r.get("acc") is not None),
                   key=lambda r: r["acc"], default={})
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
        "step": last_step(metrics),
        "total_steps": meta.get("total_steps"),
        "best_val_acc": best_val.get("acc"),
        "best_val_n": best_val.get("n"),  # images the accuracy was measured on (2 images: 0, 50 or 100 %)
        "test_acc": tests[-1].get("acc") if tests else None,
        "test_n": tests[-1].get("n") if tests else None,
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
