"""Issue 8 (Runs/Train half): durations count computing only, one step number, estimates that add up."""
from __future__ import annotations

import os

import pytest

from core.runs import store
from core.train import TrainConfig


class Clock:
    def __init__(self, t: float = 1_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(store.time, "time", c)
    return c


def test_duration_is_compute_time_not_the_time_a_run_sat_cancelled(tmp_path, clock):
    """Issue 8.4: cancelled after 50 s, resumed 250 s later, 30 s more: 80 s computing, 330 s on the clock."""
    run = store.create_run(TrainConfig(arch="lenet5"), tmp_path)
    clock.t = 1_010.0  # 10 s queued before the worker got the device
    store.begin_session(run, state="running", started=clock.t)
    clock.t += 50
    store.end_session(run, state="cancelled")
    clock.t += 250  # sits cancelled
    store.write_status(run, state="queued")
    clock.t += 5  # queued again behind another run
    store.begin_session(run, state="running", pid=os.getpid(), pid_start=store.process_start_time(os.getpid()))
    clock.t += 12
    running = store.run_summary(run)
    assert running["duration_s"] == pytest.approx(62) and running["wall_s"] == pytest.approx(317)
    clock.t += 18
    store.end_session(run, state="completed")
    clock.t += 1_000  # long after the end: nothing changes
    summary = store.run_summary(run)
    assert summary["duration_s"] == pytest.approx(80)
    assert summary["wall_s"] == pytest.approx(335)


def test_a_killed_workers_session_ends_at_its_last_heartbeat(tmp_path, clock):
    run = store.create_run(TrainConfig(arch="lenet5"), tmp_path)
    store.begin_session(run, state="running", started=clock.t, pid=999_999_999, pid_start=1)
    clock.t += 40
    store.write_status(run, heartbeat=clock.t)
    clock.t += 3_600  # SIGKILL right after that heartbeat; an hour later someone looks
    st = store.effective_status(run)
    assert st["state"] == "interrupted"
    assert store.compute_seconds(st) == pytest.approx(40, abs=0.01)
    store.begin_session(run, state="running")  # resumed: the dead session is closed at its heartbeat
    clock.t += 10
    store.end_session(run, state="completed")
    assert store.run_summary(run)["duration_s"] == pytest.approx(50, abs=0.01)


def test_runs_from_before_sessions_keep_their_start_to_end_duration():
    assert store.compute_seconds({"state": "completed", "started": 100.0, "ended": 160.0}) == 60.0
    assert store.compute_seconds({"state": "queued"}) is None
