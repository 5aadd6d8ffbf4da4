"""The names in a run folder and the states a run can be in: the one place both sides (the training code that
writes a run, the run store that lists and launches runs) take them from.

Gotcha: ``STATES`` is what ``status.json`` may *record*; a reader never trusts a recorded ``queued`` / ``running``
without checking the worker is alive (:func:`core.runfiles.status.effective_status`).
"""
from __future__ import annotations

STATES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")
ACTIVE_STATES = ("queued", "running")
RESUMABLE_STATES = ("interrupted", "cancelled", "failed")

CONFIG_FILE = "config.json"  # the TrainConfig (re-runnable with ``python -m core train --config``)
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"
CANCEL_FILE = "cancel"
CKPT_DIR = "checkpoints"
