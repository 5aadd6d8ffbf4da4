"""Issue 14.5: the Runs table's summary and a run's live view derive step, total, best validation and test from
the records one way (core.runfiles.RecordViews), so they cannot disagree."""
from __future__ import annotations

from core.runfiles import Records, append_metrics, write_status
from core.runs import results, store
from core.train.config import TrainConfig

# Two self-training stages: each stage writes a meta record whose total_steps counts the stages so far.
STAGED = [
    {"type": "meta", "step": 0, "total_steps": 100, "classes": ["a", "b"], "stage": 0},
    {"type": "train", "step": 100, "epoch": 1.0, "total_steps": 100},
    {"type": "eval", "split": "val", "step": 100, "acc": 0.60, "n": 40},
    {"type": "meta", "step": 100, "total_steps": 220, "classes": ["a", "b"], "stage": 1},
    {"type": "train", "step": 180, "epoch": 1.7, "total_steps": 220},
    {"type": "eval", "split": "val", "step": 180, "acc": 0.55, "n": 40},
    {"type": "test", "split": "test", "step": 180, "acc": 0.50, "n": 30},
    {"type": "test", "split": "test", "step": 180, "acc": 0.52, "n": 30},
]


def test_derivations_by_hand():
    r = Records(STAGED)
    assert r.meta["total_steps"] == 220 and r.meta["stage"] == 1  # the latest meta, not the first
    assert r.best_val == STAGED[2]
    assert r.test == STAGED[-1]
    assert r.step == 180
    assert r.classes == ["a", "b"]
    assert Records([]).meta == {} and Records([]).best_val == {} and Records([]).test is None


def test_runs_table_and_live_view_agree_on_a_staged_run(tmp_path):
    run = store.create_run(TrainConfig(dataset="shapes", arch="lenet5"), tmp_path)
    for rec in STAGED:
        append_metrics(run, rec)
    write_status(run, state="cancelled", pid=None, started=1.0, ended=2.0)
    summary = store.run_summary(run)
    view = results.load_view(run)
    progress = view.progress()
    assert summary["step"] == progress["step"] == 180
    assert summary["total_steps"] == progress["total"] == 220  # the table once said 180 / 100
    assert summary["best_val_acc"] == view.best_val["acc"] == 0.60
    assert summary["test_acc"] == view.test["acc"] == 0.52 and summary["test_n"] == 30
