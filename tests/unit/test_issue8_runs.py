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


def test_a_cancelled_run_shows_one_step_number_everywhere(tmp_path):
    """Issue 8.6: "stopped at step 777" in the message, 770/2520 in the table and bar (last log at 770)."""
    from core.runs import results

    run = store.create_run(TrainConfig(arch="lenet5"), tmp_path)
    store.append_metrics(run, {"type": "meta", "step": 0, "total_steps": 2520, "epochs": 3, "classes": ["a", "b"]})
    store.append_metrics(run, {"type": "train", "step": 770, "epoch": 0.9, "loss": 1.0, "acc": 0.5, "lr": 0.1,
                               "img_per_s": 100.0, "eta_s": 60.0, "total_steps": 2520})
    store.append_metrics(run, {"type": "end", "step": 777, "state": "cancelled"})
    store.write_status(run, state="cancelled", message="stopped at step 777 of 2520 (SIGTERM)")
    assert store.run_summary(run)["step"] == 777
    progress = results.load_view(run).progress()
    assert progress["step"] == 777 and progress["text"].startswith("step 777/2520")


@pytest.mark.slow
def test_short_runs_draw_visible_curves_from_their_first_and_last_step(tmp_path):
    """Issue 8.5: a run of 3 steps (log every 10) had one training record, drawn as an invisible line."""
    import torch

    from core.runs import results
    from core.train.loop import train

    torch.set_num_threads(1)
    cfg = TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=32, epochs=1,
                      max_steps=3, log_every=10, val_fraction=0.2)
    train(cfg, tmp_path)
    view = results.load_view(tmp_path)
    assert [r["step"] for r in view.train] == [1, 3]
    for metric in ("loss", "lr"):
        trace = results.curves_figure(view, metric).data[0]
        assert len(trace.x) == 2 and "markers" in trace.mode
    one = results.RunView(tmp_path, {}, {}, view.records[:1] + [view.train[-1]])
    assert "markers" in results.curves_figure(one, "loss").data[0].mode  # even a single point shows


def test_per_class_bars_say_how_many_images_each_class_had():
    from core.runs import results

    fig = results.per_class_figure([1.0, None], ["circle", "cross"], [[5, 0], [0, 0]])
    assert list(fig.data[0].text) == ["100% of 5", "n/a of 0"]
    assert results.format_acc(None) == "—" and results.format_acc(0.875, 1200) == "87.5 % of 1,200"


def _offline(monkeypatch):
    from core.models import weights

    def fail(name, progress=None):
        raise weights.WeightsUnavailable("could not download (URLError: no network)")

    monkeypatch.setattr(weights, "weights_status", lambda name: "downloadable")
    monkeypatch.setattr(weights, "download_weights", fail)


def test_pretrained_weights_offline_refuse_the_start_with_advice_that_helps(tmp_path, monkeypatch):
    """Issue 8.9: the linear-probe preset offline drew 6,000 images, then failed with the wrong advice."""
    from core.runs import launcher

    _offline(monkeypatch)
    cfg = TrainConfig.from_preset("shapes-linear-probe")
    with pytest.raises(launcher.WeightsMissing) as info:
        launcher.start(cfg, tmp_path)
    assert "Choose random weights (from scratch)" in str(info.value) and "copy the weights file to" in str(info.value)
    assert "untrained" not in str(info.value)
    assert not [p for p in tmp_path.iterdir() if (p / store.CONFIG_FILE).exists()]  # no run, nothing to resume
    launcher.check_start_weights(cfg.replace(weights="none", mode="scratch"))  # from scratch: nothing to check


def test_a_worker_fails_before_any_data_when_weights_are_missing_and_offers_no_resume(tmp_path, monkeypatch):
    from core.runs import launcher, worker

    monkeypatch.setenv("CNNPG_DEVICE_LOCK", "0")
    _offline(monkeypatch)
    run = store.create_run(TrainConfig.from_preset("shapes-linear-probe"), tmp_path)  # e.g. from the CLI
    with pytest.raises(launcher.WeightsMissing):
        worker.execute(run)
    st = store.effective_status(run)
    assert st["state"] == "failed" and "from scratch" in st["message"]
    assert not store.can_resume(st) and not store.run_summary(run)["can_resume"]
    assert not [r for r in store.read_metrics(run) if r.get("type") == "phase"]  # no data was prepared
    assert store.can_resume({"state": "failed", "message": "disk full"})  # other failures keep Resume


def test_compare_defaults_to_finished_runs_before_failed_ones():
    from core.runs.results import default_comparison

    def run(rid, state, acc=None):
        return {"id": rid, "state": state, "best_val_acc": acc}

    runs = [run("failed", "failed", 0.3), run("stopped", "cancelled", 0.5), run("running", "running", 0.2),
            run("done", "completed", 0.1), run("old", "completed", 0.9)]
    assert default_comparison(runs) == ["stopped", "done"]  # newest first; the failed run only as a filler
    assert default_comparison([run("failed", "failed"), run("done", "completed", 0.7)]) == ["done", "failed"]
