"""Knowledge distillation in the loop: a frozen, strictly loaded teacher; clear errors before training; CLI flags."""
from __future__ import annotations

import argparse

import pytest
import torch

from core.errors import InputError
from core.runs import store, worker
from core.train import TrainConfig
from core.train import losses
from core.train.loop import train

# a teacher with BatchNorm (running statistics must not move) and dropout (train mode would show)
TEACHER = dict(arch="mobilenet_v3_small", dataset_options={"n": 96}, image_size=32, batch_size=8, epochs=1,
               max_steps=3, optimizer="sgd", lr=0.05, log_every=1, augmentation="none", val_fraction=0.1)
STUDENT = dict(arch="lenet5", dataset_options={"n": 96}, image_size=32, batch_size=8, epochs=1, max_steps=4,
               optimizer="adamw", lr=3e-3, log_every=1, augmentation="none", label_smoothing=0.0)


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    run_dir = store.create_run(TrainConfig(**TEACHER), runs)
    worker.execute(run_dir)
    assert store.read_status(run_dir)["state"] == "completed"
    return run_dir


@pytest.mark.slow
def test_kd_run_keeps_the_teacher_frozen_and_out_of_the_checkpoint(teacher_run, tmp_path, monkeypatch):
    seen = {}
    real = losses.load_teacher

    def spy(teacher, classes):
        seen["model"] = real(teacher, classes)
        return seen["model"]

    monkeypatch.setattr(losses, "load_teacher", spy)
    cfg = TrainConfig(**STUDENT, objective="distill", teacher=str(teacher_run), temperature=4.0, alpha=0.9)
    run_dir = store.create_run(cfg, tmp_path)
    records = []
    result = train(cfg, run_dir, callback=records.append)
    assert result.state == "completed" and result.step == 4
    teacher = seen["model"]
    assert not teacher.training and all(not m.training for m in teacher.modules())
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())  # no gradient reached it
    on_disk = store.load_checkpoint(teacher_run, "best" if store.has_checkpoint(teacher_run, "best") else "last",
                                    with_train_state=False)["model"]
    now = teacher.state_dict()
    assert on_disk.keys() == now.keys()
    assert all(torch.equal(on_disk[k], now[k]) for k in now)  # weights AND BatchNorm buffers unchanged
    saved = store.load_checkpoint(run_dir, "last", with_train_state=False)["model"]
    assert saved.keys() == result.model.state_dict().keys()  # the student only: no teacher tensors
    logs = [r for r in records if r["type"] == "train"]
    assert logs and all("loss_ce" in r and "loss_kd" in r for r in logs)
    r = logs[-1]
    assert r["loss"] == pytest.approx(0.9 * r["loss_kd"] + 0.1 * r["loss_ce"], rel=1e-4)


@pytest.mark.slow
def test_kd_resume_two_plus_two_equals_four(teacher_run, tmp_path):
    cfg = TrainConfig(**STUDENT, objective="distill", teacher=str(teacher_run))
    straight = train(cfg).model.state_dict()
    run_dir = store.create_run(cfg, tmp_path)
    steps = []
    first = train(cfg, run_dir, callback=lambda r: steps.append(r) if r["type"] == "train" else None,
                  should_stop=lambda: len(steps) >= 2)
    assert first.state == "cancelled" and first.step == 2
    got = train(cfg, run_dir, resume_state=store.load_checkpoint(run_dir)).model.state_dict()
    assert all(torch.equal(straight[k], got[k]) for k in straight)


def test_teacher_with_other_classes_or_unfinished_is_one_clear_error(teacher_run, tmp_path):
    cfg = TrainConfig(**STUDENT, objective="distill", teacher=str(teacher_run))
    with pytest.raises(InputError, match="class lists must be equal"):
        losses.load_teacher(cfg.teacher, ["a", "b"])
    unfinished = store.create_run(TrainConfig(**TEACHER), tmp_path)  # queued, never ran
    with pytest.raises(InputError, match="not completed"):
        TrainConfig(**STUDENT, objective="distill", teacher=str(unfinished)).validate()
    with pytest.raises(InputError, match="pretrained"):
        TrainConfig(**STUDENT, objective="distill", teacher="pretrained:lenet5").validate()
    # ImageNet teacher for a 6-class data set: refused before any step (no download: the class check comes first)
    with pytest.raises(InputError, match="class lists must be equal"):
        losses.check_teacher_classes(losses.teacher_info("pretrained:resnet18"), ["circle", "square"])


def test_strict_loading_refuses_a_checkpoint_that_does_not_fit(teacher_run, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(teacher_run, bad)
    cfg = store.load_config(bad).replace(arch="resnet18")  # same classes, other network: partial match = error
    store.atomic_write_json(bad / store.CONFIG_FILE, cfg.to_dict())
    with pytest.raises(InputError, match="does not fit"):
        losses.load_teacher(str(bad), store.checkpoint_meta(bad, "last")["classes"])


def test_estimate_includes_the_teacher_forward(teacher_run):
    from core.models import build  # noqa: F401

    cfg = TrainConfig(**STUDENT, objective="distill", teacher=str(teacher_run))
    t = losses.estimate_teacher(cfg, 6, torch.device("cpu"))
    assert t is not None and not t.training and type(t).__name__ == "MobileNetV3"
    assert losses.estimate_teacher(TrainConfig(**STUDENT), 6, torch.device("cpu")) is None


def test_cli_flags_parse_every_field_type_and_the_mode_alias(tmp_path):
    teacher_run = tmp_path  # parsing only: the teacher is checked when the config is validated
    import dataclasses

    from core.cli.train import config_from_args, field_parser, register

    for f in dataclasses.fields(TrainConfig):  # every annotation has a parser (an Optional[str] raised KeyError)
        field_parser(f.type)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "--mode", "distill", "--teacher", str(teacher_run), "--arch", "lenet5",
                              "--temperature", "4", "--alpha", "0.9", "--class-cap", "none", "--dropout", "0.2",
                              "--augmentation", '{"version": 1, "steps": []}'])
    cfg = config_from_args(args)
    assert (cfg.objective, cfg.mode, cfg.teacher, cfg.temperature, cfg.alpha) == (
        "distill", "scratch", str(teacher_run), 4.0, 0.9)
    assert cfg.class_cap is None and cfg.dropout == 0.2 and cfg.augmentation == {"version": 1, "steps": []}
    args = parser.parse_args(["train", "--mode", "self-train", "--iterations", "2", "--teacher", "none"])
    cfg = config_from_args(args)
    assert cfg.objective == "self_train" and cfg.iterations == 2 and cfg.teacher is None
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--temperature", "hot"])
