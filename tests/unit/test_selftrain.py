"""Self-training (Noisy Student): the labelled split, threshold and class cap, stages, exact resume mid-stage."""
from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from core.models.shared import load_run_model
from core.runs import store, worker
from core.train import TrainConfig
from core.train.loop import train
from core.train.selftrain import (PSEUDO_FILE, STAGES_DIR, labelled_split, pseudo_stats, select_pseudo,
                                  stages_summary)

TINY = dict(arch="lenet5", dataset_options={"n": 240}, image_size=32, batch_size=16, epochs=2, max_steps=6,
            optimizer="adamw", lr=3e-3, weight_decay=0.0, log_every=2, augmentation="none", label_smoothing=0.0,
            objective="self_train", iterations=1, labelled_per_class=8, threshold=0.2,
            student_augmentation="flip-crop")


def test_labelled_split_takes_per_class_and_leaves_the_rest_as_pool():
    targets = [i % 3 for i in range(30)]
    lab, pool = labelled_split(targets, 4, seed=0)
    assert sorted(lab + pool) == list(range(30)) and not set(lab) & set(pool)
    assert [sum(targets[i] == k for i in lab) for k in range(3)] == [4, 4, 4]
    assert labelled_split(targets, 4, seed=0) == (lab, pool) and labelled_split(targets, 4, seed=1) != (lab, pool)
    assert labelled_split(targets, 100, seed=0)[1] == []  # fewer than asked: all labelled, empty pool


def test_threshold_and_class_cap():
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.95, 0.05], [0.5, 0.5], [0.2, 0.8]])
    assert select_pseudo(probs, 0.7, None).tolist() == [0, 2, 3, 5]
    assert select_pseudo(probs, 0.0, None).tolist() == [0, 1, 2, 3, 4, 5]
    assert select_pseudo(probs, 1.0, None).tolist() == []
    # cap 1 per class: the most confident of each predicted class (0.95 → row 3, 0.8 → row 5)
    assert select_pseudo(probs, 0.7, 1).tolist() == [3, 5]
    assert select_pseudo(probs, 0.0, 2).tolist() == [0, 2, 3, 5]  # class 0 keeps 0.95 and 0.9, not 0.6 / 0.5
    ties = torch.tensor([[0.8, 0.2]] * 4)
    assert select_pseudo(ties, 0.5, 2).tolist() == [0, 1]  # equal confidence: lower positions first


def test_pseudo_stats_count_everything_once():
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.95, 0.05]])
    true = torch.tensor([0, 1, 1, -1])  # the last one has no true label
    kept = select_pseudo(probs, 0.7, None)
    s = pseudo_stats(probs, true, kept, 0.7)
    assert sum(s["hist_all"]) == 4 and s["n_kept"] == 3 and s["n_pool"] == 4
    assert s["kept_per_class"] == [2, 1] and s["acc_kept"] == 1.0 and s["acc_pool"] == pytest.approx(2 / 3)
    assert sum(s["hist_correct"]) == 2 and len(s["hist_edges"]) == len(s["hist_all"]) + 1


@pytest.mark.slow
def test_tiny_self_training_run_writes_stages_and_a_usable_final_model(tmp_path):
    cfg = TrainConfig(**TINY)
    run_dir = store.create_run(cfg, tmp_path)
    worker.execute(run_dir)
    assert store.read_status(run_dir)["state"] == "completed"
    stages = stages_summary(run_dir)
    assert [s["stage"] for s in stages] == [0, 1] and all(s["state"] == "completed" for s in stages)
    assert all(s["test_acc"] is not None for s in stages)
    p = stages[1]["pseudo"]
    assert p["n_labelled"] == 48 and p["n_pool"] + 48 == 216  # 240 − 24 validation images
    assert p["n_kept"] == sum(p["kept_per_class"]) and sum(p["hist_all"]) == p["n_pool"]
    recs = store.read_metrics(run_dir)
    assert [r["stage"] for r in recs if r["type"] == "test"] == [0, 1]
    train_steps = [r["step"] for r in recs if r["type"] == "train"]
    assert train_steps == sorted(train_steps) and len(set(train_steps)) == len(train_steps)
    assert all(r["stage"] <= r["epoch"] <= r["stage"] + 1 for r in recs if r["type"] in ("train", "eval", "test"))
    assert any(r["type"] == "pseudo" for r in recs) and recs[-1]["type"] == "end"
    final = load_run_model(run_dir)  # the run folder's own checkpoint is the last student
    student = load_run_model(run_dir / STAGES_DIR / "1", "last")
    assert all(torch.equal(v, student.model.state_dict()[k]) for k, v in final.model.state_dict().items())


@pytest.mark.slow
def test_resume_in_the_middle_of_a_stage_equals_no_stop(tmp_path):
    cfg = TrainConfig(**{**TINY, "pseudo_labels": "soft", "class_cap": 20})
    straight = train(cfg).model.state_dict()

    run_dir = store.create_run(cfg, tmp_path)
    seen = []

    def stop() -> bool:  # stop in stage 1 at its first logged step (local step 2 of 6)
        return sum(1 for r in seen if r.get("type") == "train" and r.get("stage") == 1) >= 1

    first = train(cfg, run_dir, callback=seen.append, should_stop=stop)
    assert first.state == "cancelled"
    assert (run_dir / STAGES_DIR / "1" / PSEUDO_FILE).is_file() and store.has_checkpoint(run_dir / STAGES_DIR / "1")
    resumed = train(cfg, run_dir)
    assert resumed.state == "completed"
    got = resumed.model.state_dict()
    assert all(torch.equal(straight[k], got[k]) for k in straight)  # bit-identical


@pytest.mark.slow
def test_torchrun_two_processes_train_the_same_stages(tmp_path):
    """Rank 0 pseudo-labels and broadcasts; both ranks train each stage on the same images: equal weights."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS="1")
    p = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "core", "train",
                        "--mode", "self-train", "--iterations", "1", "--labelled-per-class", "8",
                        "--threshold", "0.2", "--arch", "lenet5", "--dataset-options", '{"n": 240}',
                        "--image-size", "32", "--batch-size", "8", "--epochs", "1", "--max-steps", "3",
                        "--augmentation", "none", "--device", "cpu", "--runs-dir", str(tmp_path), "--json", "--quiet"],
                       cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    assert out["state"] == "completed"
    shas = out["rank_weight_sha256"]
    assert len(shas) == 2 and shas[0] == shas[1]
    assert [s["state"] for s in stages_summary(out["run_dir"])] == ["completed", "completed"]


def test_estimate_prices_the_teacher_and_each_student_stage(monkeypatch):
    """Every measurement pinned: the stage sums must equal the hand count (TINY: 240 Shapes images, 10 % val)."""
    from core.train import estimate as est
    from core.train.selftrain import estimate_self_train

    speed = {"'none'": 100.0, "'flip-crop'": 50.0}  # teacher's augmentation vs the students' noise
    monkeypatch.setattr(est, "measure_startup", lambda: 2.0)
    monkeypatch.setattr(est, "images_to_draw", lambda cfg: 0)
    monkeypatch.setattr(est, "measure_eval_throughput", lambda cfg: 400.0)
    monkeypatch.setattr(est, "measure_checkpoint", lambda cfg: 0.5)
    monkeypatch.setattr(est, "measure_throughput",
                        lambda cfg: (speed[repr(cfg.augmentation)], 16, 3, torch.device("cpu")))
    e = estimate_self_train(TrainConfig(**TINY))
    # 216 training images (24 validation, 40 test); 6 classes × 8 labelled = 48, pool 168; batch 16, ≤ 6 steps
    teacher = 6 * 16 / 100 + (2 * 24 + 40) / 400 + 2 * 0.5  # 3 steps/epoch × 2 = 6 steps, 2 evals, 2 checkpoints
    student = 6 * 16 / 50 + (24 + 40) / 400 + 168 / 400 + 0.5  # 13 steps/epoch: capped at 6, 1 eval, 1 checkpoint
    assert [s["steps"] for s in e.stages] == [6, 6] and e.total_steps == 12
    assert [s["train_images"] for s in e.stages] == [48, 216] and e.stages[1]["pseudo_images"] == 168
    assert e.stages[0]["seconds"] == pytest.approx(teacher) and e.stages[1]["seconds"] == pytest.approx(student)
    assert e.seconds == pytest.approx(2.0 + teacher + student)
    two = estimate_self_train(TrainConfig(**{**TINY, "iterations": 2}))
    assert two.seconds == pytest.approx(2.0 + teacher + 2 * student)  # one more student, same price
    with pytest.raises(InputError):
        estimate_self_train(TrainConfig(**{**TINY, "objective": "plain"}))
