"""Runs: training jobs as folders on disk, executed by detached worker processes.

``store`` reads and writes run folders (atomic files, tolerant readers, checkpoints); ``launcher`` starts,
cancels, resumes and deletes runs; ``worker`` is the subprocess entry (``python -m core.runs.worker DIR``: a queued worker waits without importing torch).
Only this package knows about processes and run files.
"""
from core.runs.store import ACTIVE_STATES, STATES, RunError

__all__ = ["STATES", "ACTIVE_STATES", "RunError"]
