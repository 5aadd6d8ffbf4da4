"""Shared AppTest fixtures."""
from __future__ import annotations

import pytest

from core.runs import launcher, store


@pytest.fixture
def runs_env(tmp_path, monkeypatch):
    """An empty runs folder for the page under test; any run still active afterwards is cancelled and awaited."""
    root = tmp_path / "runs"
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(root))
    yield root
    for run_dir in root.glob("*/") if root.exists() else []:
        if store.is_active(run_dir):
            launcher.cancel(run_dir)
            launcher.wait(run_dir, timeout=60)
