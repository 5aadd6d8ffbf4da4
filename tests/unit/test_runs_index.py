"""The run index (issue 13.7): listing a long history opens no run file on a warm call, yet never shows stale data."""
from __future__ import annotations

import builtins
import io
import os
import shutil
import time
from pathlib import Path

import pytest

from core.runs import store
from core.train.config import TrainConfig

TINY = TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=1, max_steps=4)


def _finished(root: Path, name: str, owner: str | None, acc: float = 0.5) -> Path:
    run = store.create_run(TINY, root, owner=owner)
    store.append_metrics(run, {"type": "meta", "step": 0, "total_steps": 4, "epochs": 1, "classes": ["a", "b"]})
    store.append_metrics(run, {"type": "eval", "split": "val", "step": 4, "epoch": 1.0, "loss": 0.4, "acc": acc,
                               "n": 4})
    store.end_session(run, state="completed", message="done", started=time.time() - 10)
    return run.rename(root / name)


def _history(root: Path, n: int) -> list[Path]:
    """``n`` finished runs, owners alternating "a" and "b" (copies of two real run folders: fast)."""
    root.mkdir(parents=True, exist_ok=True)
    templates = [_finished(root, "20240101-000000-tpl-a", "a"), _finished(root, "20240101-000000-tpl-b", "b")]
    runs = [templates[0], templates[1]]
    for i in range(n - 2):
        dst = root / f"20250101-{i:06d}-lenet5-shapes-{i % 2:04x}"
        shutil.copytree(templates[i % 2], dst)
        runs.append(dst)
    return runs


@pytest.fixture
def opens(monkeypatch):
    """Records every file opened (builtins.open, io.open, os.open) under a folder set by the test."""
    seen: list[str] = []
    watch: dict[str, str] = {}

    def wrap(real):
        def opener(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and watch and os.fspath(file).startswith(watch["root"]):
                seen.append(os.fspath(file))
            return real(file, *args, **kwargs)
        return opener

    monkeypatch.setattr(builtins, "open", wrap(builtins.open))
    monkeypatch.setattr(io, "open", wrap(io.open))
    monkeypatch.setattr(os, "open", wrap(os.open))
    return seen, watch


def test_a_warm_listing_of_300_runs_opens_no_run_file(tmp_path, opens):
    seen, watch = opens
    root = tmp_path / "runs"
    runs = _history(root, 300)
    store.clear_index()
    watch["root"] = str(root)
    cold = store.list_runs(root)
    assert len(cold) == 300 and {r["owner"] for r in cold} == {"a", "b"}
    assert len({Path(p).parent for p in seen}) == 300  # the cold call read every folder
    seen.clear()
    warm = store.list_runs(root)
    assert warm == cold
    assert seen == []  # O(1) folders read: none
    # one run changes (resumed, then failed): the next listing reads that folder again, and only that one
    changed = runs[123]
    store.write_status(changed, state="failed", message="boom")
    seen.clear()
    again = store.list_runs(root)
    assert {Path(p).parent for p in seen} == {changed}
    assert next(r for r in again if r["id"] == changed.name)["state"] == "failed"
    assert [r for r in again if r["id"] != changed.name] == [r for r in cold if r["id"] != changed.name]


def test_the_index_follows_metrics_checkpoints_and_deletes(tmp_path):
    root = tmp_path / "runs"
    run = _finished(root, "20250101-000001-x-0001", "a", acc=0.5)
    other = _finished(root, "20250101-000002-x-0002", "b", acc=0.7)
    assert store.list_runs(root)[1]["best_val_acc"] == 0.5
    store.append_metrics(run, {"type": "eval", "split": "val", "step": 8, "epoch": 2.0, "loss": 0.1, "acc": 0.9,
                               "n": 4})
    summary = store.list_runs(root)[1]
    assert summary["best_val_acc"] == 0.9 and summary["step"] == 8
    assert not summary["has_checkpoint"]
    import torch

    store.save_checkpoint(run, {"w": torch.zeros(2)}, {"step": 8})
    assert store.list_runs(root)[1]["has_checkpoint"]
    store.delete_run(other)
    assert [r["id"] for r in store.list_runs(root)] == [run.name]


def test_an_active_run_is_read_on_every_call(tmp_path, opens):
    """A running run's effective state depends on its worker being alive, which no file records: never cached."""
    seen, watch = opens
    root = tmp_path / "runs"
    _history(root, 4)
    live = store.create_run(TINY, root, owner="a")
    store.write_status(live, state="running", pid=os.getpid(), pid_start=store.process_start_time(os.getpid()))
    store.list_runs(root)
    watch["root"] = str(root)
    seen.clear()
    runs = store.list_runs(root)
    assert runs[0]["id"] == live.name and runs[0]["state"] == "running"
    assert {Path(p).parent for p in seen} == {live}


def test_filters_by_owner_and_state_and_the_latest_active_run_of_an_owner(tmp_path):
    root = tmp_path / "runs"
    _history(root, 6)
    mine = store.create_run(TINY, root, owner="a")
    store.write_status(mine, pid=os.getpid(), pid_start=store.process_start_time(os.getpid()))
    time.sleep(1.05)  # ids are timestamped to the second: "theirs" is the newer one
    theirs = store.create_run(TINY, root, owner="b")
    store.write_status(theirs, pid=os.getpid(), pid_start=store.process_start_time(os.getpid()))
    assert len(store.list_runs(root, owner="a")) == 4
    assert [r["id"] for r in store.list_runs(root, states=store.ACTIVE_STATES)] == [theirs.name, mine.name]
    assert store.latest_active_run(root) == theirs
    assert store.latest_active_run(root, owner="a") == mine
    assert store.latest_active_run(root, owner="c") is None


def test_folders_that_are_not_runs_are_left_out(tmp_path):
    root = tmp_path / "runs"
    run = _finished(root, "20250101-000001-x-0001", "a")
    (root / "notes").mkdir()
    (root / "stray.txt").write_text("x")
    shutil.copytree(run, root / ".deleting-20250101-000000-x-0000-ab12")  # a delete in progress
    assert [r["id"] for r in store.list_runs(root)] == [run.name]
