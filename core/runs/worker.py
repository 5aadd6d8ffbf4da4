"""The process that executes one run folder: ``python -m core.runs.worker DIR`` (what the launcher starts; the
CLI's ``python -m core train --run-dir DIR`` does the same in the foreground).

It records its pid, waits its turn for the device (a ``flock`` on ``<runs_dir>/.locks/<device>.lock``: the kernel
releases it when the process dies, so a crashed run never blocks the queue and no daemon is needed), resumes from
the folder's last checkpoint if there is one, runs :func:`core.train.loop.train`, and keeps ``status.json``
current (state, heartbeat every few seconds, final message).

Stopping: SIGTERM, SIGINT or a ``cancel`` file in the run folder makes the loop finish its current step, write a
checkpoint and exit with status ``cancelled`` (within a few seconds). A second SIGINT raises KeyboardInterrupt.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from core import budget
from core.errors import PlaygroundError
from core.runs import store
from core.runs.launcher import WeightsMissing, check_start_weights
from core.threads import apply_thread_policy

HEARTBEAT_S = 5.0
LOCK_POLL_S = 0.5


class StopRequest:
    """Callable polled by the loop: true after SIGTERM / SIGINT or once the run folder holds a ``cancel`` file."""

    def __init__(self, run_dir: Path, install_signals: bool = True):
        self.cancel_file = Path(run_dir) / store.CANCEL_FILE
        self.signalled: str | None = None
        self._previous: dict[int, Any] = {}
        if install_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self.signalled and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: stop now, without the final checkpoint
        self.signalled = signal.Signals(signum).name

    def __call__(self) -> bool:
        return bool(self.signalled) or self.cancel_file.exists()

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)


def device_key(preferred: str) -> str:
    """The device lock's name: "cpu", "cuda0", "mps". Decided without importing torch where the answer is sure
    (a CPU run, or "auto" on a machine without any GPU driver), so that a queued worker waits as a small
    process: importing the training code costs about 0.5 GB, times every run in the queue."""
    if preferred == "cpu" or (preferred == "auto" and not _may_have_gpu()):
        return "cpu"
    from core.device import pick_device  # here: imports torch (see above)

    dev = pick_device(preferred)
    if dev.type == "cuda":
        return f"cuda{dev.index or 0}"
    return dev.type


def _may_have_gpu() -> bool:
    """False only where torch certainly sees no GPU: Linux without NVIDIA / ROCm / WSL device nodes."""
    if sys.platform == "darwin":
        return True  # MPS
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"))


@contextlib.contextmanager
def device_lock(run_dir: Path, key: str, stop: Callable[[], bool]):
    """Hold the per-device lock while training. Yields True once acquired, False if a stop came while queued."""
    if os.environ.get("CNNPG_DEVICE_LOCK", "1") == "0":
        yield True
        return
    locks = run_dir.parent / ".locks"
    locks.mkdir(exist_ok=True)
    with open(locks / f"{key}.lock", "a+") as f:
        told = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    store.write_status(run_dir, message=f"queued: another run is using the {key}; "
                                                        "this one starts as soon as it finishes")
                    told = True
                if stop():
                    yield False
                    return
                time.sleep(LOCK_POLL_S)
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Heartbeat:
    """Background thread that stamps ``status.json`` every few seconds (liveness for other hosts, 'last seen')."""

    def __init__(self, run_dir: Path, every: float = HEARTBEAT_S):
        self.run_dir, self.every = run_dir, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(OSError):
                store.write_status(self.run_dir, heartbeat=time.time())

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 1)


def execute(run_dir: str | os.PathLike, callback: Callable[[dict], Any] | None = None,
            thread_role: str | None = None):
    """Run (or resume) the run in ``run_dir`` in this process; returns the TrainResult, or None if cancelled
    while queued. Under torchrun every rank calls this; only rank 0 touches the folder's status and lock.

    The training code (torch) is imported only once the device lock is held, and ``thread_role``'s thread
    policy (:mod:`core.threads`) applied then: a queued worker is a ~20 MB process, not ~500 MB."""
    run_dir = Path(run_dir).resolve()
    cfg = store.load_config(run_dir)
    main = int(os.environ.get("WORLD_SIZE", "1")) <= 1 or int(os.environ.get("RANK", "0")) == 0  # as torchrun sets
    stop = StopRequest(run_dir)
    stage = ["start"]  # what the worker was doing: names the stage in an out-of-memory message
    cancelled_types: tuple = ()  # (PreparationCancelled,) once the training code is imported
    try:
        if main:
            store.write_status(run_dir, pid=os.getpid(), pid_start=store.process_start_time(os.getpid()),
                               host=socket.gethostname(), heartbeat=time.time())
        lock = device_lock(run_dir, device_key(cfg.device), stop) if main else contextlib.nullcontext(True)
        with lock as acquired:
            if not acquired:
                store.end_session(run_dir, state="cancelled",
                                  message="cancelled while waiting in the queue")
                return None
            if thread_role is not None:
                apply_thread_policy(thread_role)  # before the first parallel op of this process
            # the training code (torch) only now: a queued worker is a small process (see the docstring)
            from core.train import distributed
            from core.train.data import PreparationCancelled
            from core.train.loop import train

            cancelled_types = (PreparationCancelled,)
            distributed.setup(cfg.device)  # joins the process group under torchrun (rank 0 once it holds the lock)
            check_start_weights(cfg)  # before drawing any data: offline, fail now with advice that helps
            staged = cfg.objective_spec.staged  # its stages keep their own checkpoints (core.train.selftrain)
            resume_state = (store.load_checkpoint(run_dir, "last")
                            if not staged and store.has_checkpoint(run_dir, "last") else None)
            if main:
                st = store.read_status(run_dir)
                now = time.time()
                store.begin_session(run_dir, state="running", started=st.get("started") or now, resumed=now
                                   if resume_state else None, ended=None, heartbeat=now,
                                   message="resumed from step %d" % resume_state["meta"]["step"] if resume_state
                                   else "training")
                if resume_state is None and not staged and store.read_metrics(run_dir, resolve_resumes=False):
                    store.append_metrics(run_dir, {"type": "resume", "step": 0, "time": now})  # restart at 0
            def on_record(rec: dict) -> None:  # the status message says what the worker is doing right now
                if rec.get("type") == "phase":
                    stage[0] = rec.get("phase") or stage[0]
                    store.write_status(run_dir, message=rec.get("message"))
                elif rec.get("type") == "meta":
                    stage[0] = "train"
                    store.write_status(run_dir, message="training")
                if callback is not None:
                    callback(rec)

            hb = Heartbeat(run_dir) if main else contextlib.nullcontext()
            with hb:
                result = train(cfg, run_dir, callback=on_record, should_stop=stop, resume_state=resume_state,
                               writer=store.RunFolder(run_dir))
        if main:
            msg = (f"stopped at step {result.step} of {result.total_steps} ({stop.signalled or 'cancel requested'}); "
                   "resume continues from here") if result.state == "cancelled" else "finished"
            store.end_session(run_dir, state=result.state, message=msg)
        return result
    except cancelled_types as err:  # noqa: B030 - a tuple bound once the training code is imported
        if main:
            _record_end(run_dir, state="cancelled", message=f"{err}; resume starts again from the last checkpoint")
        return None
    except PlaygroundError as err:
        if main:  # resuming with the same settings fails the same way until the weights are here
            store.end_session(run_dir, state="failed", message=str(err), resumable=not isinstance(err, WeightsMissing))
        raise
    except KeyboardInterrupt:
        if main:
            store.end_session(run_dir, state="cancelled", message="stopped by a second interrupt (no final checkpoint)")
        raise
    except OSError as err:  # disk full, read-only or vanished folder: name the cause (earlier checkpoints stay)
        if main:
            if budget.is_storage_error(err):
                folder = Path(err.filename).parent if err.filename else run_dir
                message = budget.storage_message(err, folder) + "; resume continues from the last checkpoint"
            else:
                message = f"cannot write the run's files: {err.strerror or err}" + (
                    f" ({err.filename})" if err.filename else "")
            _record_end(run_dir, state="failed", message=message)
        raise
    except BaseException as err:
        if main:
            if budget.is_out_of_memory(err):  # MemoryError / torch.OutOfMemoryError outside the training steps
                _record_end(run_dir, state="failed", message=budget.OUT_OF_MEMORY.get(stage[0], budget.OUT_OF_MEMORY["train"]))
            else:
                _record_end(run_dir, state="failed", message=f"internal error: "
                            f"{type(err).__name__}: {err} (details in {store.LOG_FILE})")
        raise
    finally:
        stop.restore()
        if main:  # a handled cancel request must not cancel the next resume
            with contextlib.suppress(OSError):
                (run_dir / store.CANCEL_FILE).unlink(missing_ok=True)


def _record_end(run_dir: Path, **fields: Any) -> None:
    """end_session; when status.json cannot be replaced (disk full: no room for the new copy) overwrite it in
    place, so the status still says why instead of a dead worker's "interrupted". A read-only folder keeps
    what it had."""
    try:
        store.end_session(run_dir, **fields)
        return
    except OSError:
        pass
    with contextlib.suppress(OSError, ValueError):
        path = run_dir / store.STATUS_FILE
        st = store.read_json(path, default={}) or {}
        now = time.time()
        if st.get("session_started"):  # as end_session: the open session's time joins the compute time
            st["compute_s"] = float(st.get("compute_s") or 0.0) + max(0.0, now - float(st["session_started"]))
        st.update(fields, ended=now, session_started=None, updated=now)
        data = json.dumps(st, default=str, separators=(",", ":")).encode()  # compact: fits the old blocks
        with open(path, "r+b") as f:
            f.write(data)
            f.truncate()


def main(run_dir: str | os.PathLike) -> int:
    """Entry of a background worker: progress lines go to stdout (= the run's log); returns the exit status."""
    def log(rec: dict) -> None:
        line = format_record(rec)
        if line:
            print(line, flush=True)

    try:
        result = execute(run_dir, callback=log, thread_role="worker")  # threads set once it holds the device
    except PlaygroundError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    except Exception:
        traceback.print_exc()
        return 1
    if result is None or result.state == "cancelled":
        return 130
    return 0


def format_record(rec: dict) -> str | None:
    """One human line per record (the log and the CLI's progress output)."""
    t = rec.get("type")
    if t == "train":
        return (f"step {rec['step']}/{rec['total_steps']} · epoch {rec['epoch']:.2f} · loss {rec['loss']:.4f} · "
                f"acc {100 * rec['acc']:.1f}% · lr {rec['lr']:.2e} · {rec['img_per_s']:.0f} img/s · "
                f"ETA {format_seconds(rec['eta_s'])}")
    if t in ("eval", "test"):
        return f"{rec['split']} @ step {rec['step']}: loss {rec['loss']:.4f} · acc {100 * rec['acc']:.2f}% ({rec['n']} images)"
    if t == "meta":
        return (f"{rec['num_train']} training / {rec['num_val']} validation / {rec['num_test']} test images · "
                f"{rec['total_steps']} steps · device {rec['device']} · amp {rec['amp']} · "
                f"{rec['trainable_params']:,} of {rec['params']:,} parameters learn")
    if t == "phase":
        return rec.get("message")
    if t == "resume":
        return f"resuming at step {rec['step']}"
    if t == "end":
        return f"{rec['state']} at step {rec['step']}"
    return None


def format_seconds(s: float | None) -> str:
    """A duration as ``42s``, ``3m07s`` or ``1h05m`` (``?`` when unknown): the log's ETA and every page's times."""
    if s is None or s != s:
        return "?"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


if __name__ == "__main__":  # python -m core.runs.worker RUN_DIR: how core.runs.launcher starts a worker
    try:
        sys.exit(main(sys.argv[1]))
    except KeyboardInterrupt:  # a second Ctrl-C: stopped without the final checkpoint (status says so)
        sys.exit(130)
