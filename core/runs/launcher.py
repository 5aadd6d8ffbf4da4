"""Start, cancel, resume and delete runs; each run executes in its own worker subprocess.

The worker is ``python -m core.runs.worker DIR`` in a new session (``start_new_session=True``): it is not in
the app's process group, so a browser refresh, a Streamlit rerun or even stopping the app with Ctrl-C does not
touch it. Its stdout/stderr go to the run's ``train.log``. Queueing needs no daemon: every worker waits for the
device lock itself (see :mod:`core.runs.worker`), showing ``queued`` meanwhile.

Gotcha: a child that exits stays a zombie until its parent calls ``wait()``; a zombie's pid still "exists", so
liveness checks would call a dead run alive. A daemon thread waits for each worker we start.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from core import budget
from core.paths import ROOT
from core.runs import store
from core.errors import RunError, WeightsMissing  # noqa: F401 - WeightsMissing: raised here, caught by the worker


def check_start_weights(config) -> None:
    """Pretrained starting weights must be on disk before a run starts: download them now if needed.

    Checked here (and again by the worker before it prepares any data) so that an offline machine says so at
    once, with advice that helps (train from scratch, or fetch the file), instead of failing after drawing the
    data set. Raises :class:`WeightsMissing`.
    """
    if config.weights != "pretrained":
        return
    from core.models import weights  # here: the model registry imports torch and torchvision
    from core.models.registry import get_spec

    if weights.weights_status(config.arch) == "cached":
        return
    try:
        weights.download_weights(config.arch)
    except weights.WeightsError as err:
        spec = get_spec(config.arch)
        path = weights.weights_cache_path(spec.name) or weights.manual_weights_path(spec.name)
        raise WeightsMissing(
            f"{spec.title}'s ImageNet weights are not on this machine and cannot be downloaded now "
            f"({type(err).__name__}; offline?). Choose random weights (from scratch): Starting weights "
            f"\"Random (from scratch)\" with mode \"From scratch\". Or download them once while online (Architectures "
            f"page), or copy the weights file to {path}."
        ) from None


def start(config, runs_dir: str | os.PathLike | None = None, *, owner: str | None = None) -> Path:
    """Validate ``config``, make sure its starting weights are here, check the server's budgets, create its run
    folder and start a worker. Returns the run folder at once (after a download of pretrained weights, if they
    were missing).

    Budgets (:mod:`core.budget`): the global and per-``owner`` caps on queued + running runs
    (:class:`~core.budget.QueueFull`) and the disk budget of ``var/`` (:class:`~core.budget.DiskBudgetExceeded`);
    an unwritable runs folder raises :class:`~core.budget.StorageError` naming it. The count and the new folder
    are made under one lock, so two students clicking at once cannot both take the last place.
    """
    if owner is None:  # a caller inside store.owned_by(...): the run is that session's
        owner = store.current_owner()
    config.validate()
    check_start_weights(config)
    with budget.writing(runs_dir or budget.app_folders()[1]):
        root = store.runs_root(runs_dir)
        locks = root / ".locks"
        locks.mkdir(exist_ok=True)
    with budget.writing(root), store.file_lock(locks / "launch.lock"):
        budget.check_queue(owner, root)
        budget.check_disk(what="a run")
        run_dir = store.create_run(config, root, owner=owner)
        spawn(run_dir)
    return run_dir


def spawn(run_dir: str | os.PathLike) -> subprocess.Popen:
    """Start the worker process for ``run_dir`` (detached into its own session)."""
    run_dir = Path(run_dir)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # the worker must import *this* checkout's core/, whatever the caller's working directory
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    with open(run_dir / store.LOG_FILE, "ab") as log:
        proc = subprocess.Popen(
            # not via `python -m core train`: the CLI imports torch at once, and a queued worker should wait
            # as a small process (core.runs.worker imports the training code once it holds the device)
            [sys.executable, "-m", "core.runs.worker", str(run_dir)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    # only pid fields: the worker may already have written its state, which must not go back to "queued"
    store.write_status(run_dir, pid=proc.pid, pid_start=store.process_start_time(proc.pid), host=socket.gethostname())
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return proc


def resume(run_dir: str | os.PathLike, *, start_worker: bool = True) -> Path:
    """Start a worker that continues an interrupted, cancelled or failed run from its last checkpoint.

    Holds the run's launch lock, as :func:`delete` does: a delete and a resume of one run never interleave (a
    resume after the delete finds the folder gone and says so; a delete after the resume finds the run active).
    ``start_worker=False`` makes the same checks and marks the run queued, for a caller that executes it in its
    own process (``python -m core runs resume RUN`` in the foreground).
    """
    run_dir = store.run_path(run_dir)
    try:
        with budget.writing(run_dir), store.file_lock(run_dir / ".launch.lock"):  # two clicks: one worker
            if not (run_dir / store.CONFIG_FILE).is_file():
                raise RunError(f"run {run_dir.name} has just been deleted")
            st = store.effective_status(run_dir)
            state = st.get("state")
            if state in store.ACTIVE_STATES:
                raise RunError(f"run {run_dir.name} is already {state}")
            if state == "completed":
                raise RunError(f"run {run_dir.name} has already completed; start a new run to train more")
            (run_dir.parent / ".locks").mkdir(exist_ok=True)
            with store.file_lock(run_dir.parent / ".locks" / "launch.lock"):  # a resume takes a queue place too
                budget.check_queue(budget.run_owner(run_dir, st), run_dir.parent)
                budget.check_disk(what="resuming a run")
                (run_dir / store.CANCEL_FILE).unlink(missing_ok=True)
                store.write_status(run_dir, state="queued", pid=None, pid_start=None, created=time.time(),
                                   ended=None, resumable=None,  # this attempt is judged afresh
                                   message=("resuming" if store.has_checkpoint(run_dir)
                                            else "restarting (no checkpoint yet)")
                                   + ("" if start_worker else " (foreground)"))
                if start_worker:
                    spawn(run_dir)
    except FileNotFoundError:  # the folder went away between the look-up and the lock
        raise RunError(f"run {run_dir.name} has just been deleted") from None
    return run_dir


def cancel(run_dir: str | os.PathLike) -> dict:
    """Ask a queued or running run to stop (cancel file + SIGTERM to its worker). Returns the status."""
    run_dir = store.run_path(run_dir)
    st = store.effective_status(run_dir)
    if st.get("state") not in store.ACTIVE_STATES:
        return st
    store.atomic_write_bytes(run_dir / store.CANCEL_FILE, b"cancel\n")
    pid = st.get("pid")
    # SIGTERM only once the worker says "running": by then its handler is installed (before that the default
    # action would kill it without a checkpoint). A queued worker polls the cancel file instead.
    if (st.get("state") == "running" and pid and st.get("host") in (None, socket.gethostname())
            and store.pid_alive(pid, st.get("pid_start"))):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(pid), signal.SIGTERM)  # the worker only, not its DataLoader workers (they'd die mid-batch)
    return store.effective_status(run_dir)


def wait(run_dir: str | os.PathLike, timeout: float = 600.0, poll: float = 0.2) -> dict:
    """Block until the run is no longer queued/running (for scripts and tests). Returns the final status."""
    deadline = time.time() + timeout
    while True:
        st = store.effective_status(run_dir)
        if st.get("state") not in store.ACTIVE_STATES:
            return st
        if time.time() > deadline:
            raise TimeoutError(f"run {Path(run_dir).name} still {st.get('state')} after {timeout:.0f} s")
        time.sleep(poll)


def delete(run_dir: str | os.PathLike) -> None:
    """Delete a finished run's folder, under the run's launch lock (see :func:`resume`)."""
    run_dir = store.run_path(run_dir)
    try:
        with store.file_lock(run_dir / ".launch.lock"):
            if not (run_dir / store.CONFIG_FILE).is_file():
                return  # deleted meanwhile (another tab): what was asked is done
            with budget.writing(run_dir):
                store.delete_run(run_dir)
    except FileNotFoundError:
        return
