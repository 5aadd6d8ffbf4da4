"""The run folder's file format: what a training run writes and how it is read back, with no knowledge of how
runs are launched, listed or owned (that is :mod:`core.runs`, which builds on this and on :mod:`core.train`).

A run is a folder ``<runs_dir>/<run id>/``::

    config.json             the TrainConfig (re-runnable with ``python -m core train --config``)
    status.json             state, worker pid / host / heartbeat, timings, owner    (status.py)
    metrics.jsonl           one JSON record per line, append-only                  (metrics.py)
    last.json / best.json   checkpoint metadata, the commit point of a checkpoint  (checkpoints.py)
    last.safetensors        the last / best weights (hard links into checkpoints/)
    best.safetensors
    checkpoints/            step-numbered weights and training state (optimizer, RNG)
    train.log               the worker's stdout and stderr
    cancel                  present = please stop (the worker polls it)

Modules: layout.py (these names and the run states), atomic.py (crash-safe writes, strict JSON, a process lock),
liveness.py (is a worker's pid still ours), status.py, metrics.py, checkpoints.py, folder.py (``RunFolder``: the
training loop's writer).

Both :mod:`core.train` (self-training stages, distillation teachers, starting weights from a run) and
:mod:`core.runs` import it at module level; it imports neither, so there is no cycle to dodge.

Gotcha: the checkpoint functions import torch (through safetensors) only when called: a queued worker that has
not started yet stays a small process.
"""
from __future__ import annotations

from core.runfiles.layout import (  # noqa: F401 - the package's public names
    ACTIVE_STATES, CANCEL_FILE, CKPT_DIR, CONFIG_FILE, LOG_FILE, METRICS_FILE, RESUMABLE_STATES, STATES, STATUS_FILE)
from core.runfiles.atomic import atomic_write_bytes, atomic_write_json, file_lock, json_safe, read_json  # noqa: F401
from core.runfiles.liveness import pid_alive, process_start_time  # noqa: F401
from core.runfiles.status import (  # noqa: F401
    begin_session, can_resume, compute_seconds, effective_status, end_session, is_active, read_status, wall_seconds,
    write_status)
from core.runfiles.metrics import (  # noqa: F401
    STEP_RECORDS, Records, RecordViews, append_metrics, last_step, read_metrics)
from core.runfiles.checkpoints import checkpoint_meta, has_checkpoint, load_checkpoint, save_checkpoint  # noqa: F401
from core.runfiles.folder import RunFolder  # noqa: F401
