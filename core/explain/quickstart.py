"""The Explain page's one-click model: a short Shapes preset trained by the normal engine (a worker subprocess).

Its duration is never typed anywhere: :func:`measured` reads it from the completed runs of the preset on this
machine (``bench/explain_preset.py`` creates one from a fresh home and prints it).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.errors import PlaygroundError
from core.runs import launcher, store
from core.train.config import TrainConfig

__all__ = ["PRESET", "is_preset_run", "measured", "start"]

PRESET = "shapes-explain"
_IGNORED = {"device", "num_workers", "checkpoint_every_s", "log_every"}


def is_preset_run(run_dir: str | os.PathLike) -> bool:
    """True when the run's config is the preset's (runtime-only fields aside)."""
    try:
        cfg = store.load_config(run_dir).to_dict()
    except (PlaygroundError, OSError):  # an unreadable config is simply not the preset
        return False
    want = TrainConfig.from_preset(PRESET).to_dict()
    return all(cfg.get(k) == v for k, v in want.items() if k not in _IGNORED)


def measured(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest completed preset run's ``{"id", "wall_s", "duration_s", "test_acc", "test_n"}`` (None: none yet)."""
    for r in runs:
        if r.get("state") == "completed" and is_preset_run(r["path"]):
            return {k: r.get(k) for k in ("id", "path", "wall_s", "duration_s", "test_acc", "test_n")}
    return None


def start(runs_dir: str | os.PathLike | None = None) -> Path:
    """Start the preset through :func:`core.runs.launcher.start` (validated, one worker) and return its folder."""
    return launcher.start(TrainConfig.from_preset(PRESET), runs_dir)
