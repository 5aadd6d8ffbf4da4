"""A run folder as the training loop's writer.

The loop (:func:`core.train.loop.train`) writes through a :class:`core.train.state.RunWriter` it is given, so it
never needs to know where metrics and checkpoints go: a test can give it a list in memory, the worker gives it
``RunFolder(run_dir)``.

Gotcha: the methods look :func:`core.runfiles.checkpoints.save_checkpoint` up when called (not at import), so a test
that replaces it (a full disk) reaches the writer the worker uses.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.runfiles import checkpoints, metrics


class RunFolder:
    """Metrics records and checkpoints of one run, written to ``path``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def append_metrics(self, record: dict) -> None:
        metrics.append_metrics(self.path, record)

    def save_checkpoint(self, model_state: dict, meta: dict, train_state: dict | None = None, *,
                        best: bool = False) -> dict:
        return checkpoints.save_checkpoint(self.path, model_state, meta, train_state, best=best)
