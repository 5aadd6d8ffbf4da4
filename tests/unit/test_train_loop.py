"""The training loop: learns, resumes exactly, freezes what it should, explains out-of-memory. CPU, tiny."""
from __future__ import annotations

import math

import pytest
import torch

from core.runfiles import checkpoints
from core.runs import store, worker
from core.train import OOM_MESSAGE, TrainConfig, TrainError
from core.train import loop, losses
from core.train.loop import compute_loss, get_lr, train
from core.train.model import make_model

# LeNet-5 learns the background colour of biased Shapes in a few dozen steps (the shortcut is easy);
# MobileNet-V3-small at 32 px exercises BatchNorm buffers, dropout (RNG state) and momentum.
TINY = dict(arch="lenet5", dataset_options={"n": 240, "bias": 1.0}, image_size=32, batch_size=16, epochs=3,
            optimizer="adamw", lr=3e-3, weight_decay=0.0, log_every=5, augmentation="none", label_smoothing=0.0)
MOBILENET = dict(arch="mobilenet_v3_small", dataset_options={"n": 96}, image_size=32, batch_size=8, epochs=1,
                 max_steps=4, optimizer="sgd", lr=0.05, weight_decay=5e-4, log_every=1, augmentation="flip-crop")


@pytest.mark.slow  # real training (tens of steps)
def test_tiny_run_lowers_the_loss_and_reports_everything(tmp_path):
    records = []
    run_dir = store.create_run(TrainConfig(**TINY, max_steps=30), tmp_path)
    result = train(TrainConfig(**TINY, max_steps=30), run_dir, callback=records.append)
    train_losses = [r["loss"] for r in records if r["type"] == "train"]
    assert train_losses[-1] < 0.75 * train_losses[0], train_losses
    assert result.state == "completed" and result.step == 30
    types = [r["type"] for r in records]
    assert types[0] == "phase" and "meta" in types and types[-1] == "end"
    test = next(r for r in records if r["type"] == "test")
    K = len(result.classes)
    assert K == 6 and len(test["confusion"]) == K and all(len(row) == K for row in test["confusion"])
    assert sum(map(sum, test["confusion"])) == test["n"] == 40
    assert len(test["per_class_acc"]) == K and "misclassified" in test
    train_rec = next(r for r in records if r["type"] == "train")
    assert train_rec["img_per_s"] > 0 and train_rec["eta_s"] >= 0 and train_rec["lr"] > 0
    # everything the callback saw is in the run folder, and the checkpoint loads into a fresh model
    assert [r["type"] for r in store.read_metrics(run_dir)] == types
    from core.models import build

    model = build("lenet5", num_classes=K, weights=str(run_dir / "last.safetensors"))
    assert torch.equal(model.state_dict()["classifier.3.weight"], result.model.state_dict()["classifier.3.weight"])


@pytest.mark.slow  # real training (tens of steps)
def test_resume_two_plus_two_equals_four_straight(tmp_path):
    cfg = TrainConfig(**MOBILENET)
    straight = train(cfg).model.state_dict()

    run_dir = store.create_run(cfg, tmp_path)
    seen = []
    first = train(cfg, run_dir, callback=lambda r: seen.append(r["step"]) if r["type"] == "train" else None,
                  should_stop=lambda: len(seen) >= 2)
    assert first.state == "cancelled" and first.step == 2
    ck = store.load_checkpoint(run_dir)
    assert ck["meta"]["step"] == 2
    resumed = train(cfg, run_dir, resume_state=ck)
    assert resumed.state == "completed" and resumed.step == 4
    got = resumed.model.state_dict()
    assert straight.keys() == got.keys()
    for k in straight:
        assert torch.equal(straight[k], got[k]), k  # bit-identical, BatchNorm buffers included
    steps = [r["step"] for r in store.read_metrics(run_dir) if r["type"] == "train"]
    assert steps == [1, 2, 3, 4]


@pytest.mark.slow  # real training (tens of steps)
def test_linear_probe_trains_only_the_head_and_keeps_batchnorm_statistics(tmp_path):
    from core.models import build

    start = build("mobilenet_v3_small", num_classes=6).state_dict()
    ckpt = tmp_path / "start.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in start.items()}, ckpt)
    cfg = TrainConfig(**{**MOBILENET, "max_steps": 2}, weights=str(ckpt), mode="linear_probe")
    end = train(cfg).model.state_dict()
    changed = {k for k in start if not torch.equal(start[k], end[k])}
    assert changed and all(k.startswith("classifier.3.") for k in changed), changed


def test_finetune_last_k_unfreezes_k_blocks_plus_head():
    from core.models import trainable_stages

    model, frozen = make_model(TrainConfig(arch="resnet18", mode="finetune_last_k", finetune_k=2), 6)
    names = [n for n, _ in trainable_stages(model, "resnet18")]
    assert [n for n, _ in frozen] == names[:-3]
    learn = {n for n, p in model.named_parameters() if p.requires_grad}
    assert learn and all(n.startswith(("layer3.", "layer4.", "fc.")) for n in learn)


def test_out_of_memory_becomes_a_clear_error(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(losses, "classification_loss", boom)  # the plain objective's loss
    with pytest.raises(TrainError, match="out of memory: try a smaller batch size or image size"):
        train(TrainConfig(**TINY, max_steps=2))
    # through the worker: the run is marked failed with that message
    run_dir = store.create_run(TrainConfig(**TINY, max_steps=2), tmp_path)
    with pytest.raises(TrainError):
        worker.execute(run_dir)
    st = store.read_status(run_dir)
    assert st["state"] == "failed" and st["message"] == OOM_MESSAGE


def test_cpu_allocator_failure_is_explained_too(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(losses, "classification_loss", boom)  # the plain objective's loss
    with pytest.raises(TrainError, match="out of memory"):
        train(TrainConfig(**TINY, max_steps=1))


def test_mixing_augmentation_trains_on_soft_labels(monkeypatch):
    """Every training step's loss gets CutMix's soft labels (rows mixing two classes), not the integer classes."""
    seen = []
    plain_loss = losses.classification_loss

    def spy(out, target, *args, **kwargs):
        seen.append(target.detach().clone())
        return plain_loss(out, target, *args, **kwargs)

    monkeypatch.setattr(losses, "classification_loss", spy)  # the plain objective's loss
    result = train(TrainConfig(**{**TINY, "max_steps": 2, "augmentation": "randaugment-cutmix"}))
    assert result.state == "completed" and result.step == 2
    soft = [t for t in seen if t.ndim == 2]
    assert len(soft) == 2  # one per step: with the mixer ignored the loss would see class indices [B]
    for t in soft:
        assert t.shape == (TINY["batch_size"], len(result.classes)) and t.dtype.is_floating_point
        assert torch.allclose(t.sum(1), torch.ones(len(t)))  # each row is a distribution (λ, 1 − λ)
        assert ((t > 0) & (t < 1)).any(1).sum() >= len(t) // 2  # most rows mix two classes (a pair may share one)


def test_aux_losses_weigh_point_three():
    from torchvision.models import GoogLeNetOutputs

    torch.manual_seed(0)
    main, aux2, aux1 = torch.randn(3, 4, 5).unbind(0)
    y = torch.tensor([0, 1, 2, 3])
    loss, logits = compute_loss(GoogLeNetOutputs(main, aux2, aux1), y)
    ce = torch.nn.functional.cross_entropy
    assert torch.allclose(loss, ce(main, y) + 0.3 * ce(aux2, y) + 0.3 * ce(aux1, y))
    assert logits is main
    plain, _ = compute_loss(main, y)
    assert torch.allclose(plain, ce(main, y))


def test_lr_schedule_warms_up_then_follows_a_cosine():
    lrs = [get_lr(s, 100, 10, 1.0, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(lrs[:10], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[55] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 45 / 90)))
    assert get_lr(100, 100, 10, 1.0, 0.1) == pytest.approx(0.1)


def test_starting_from_a_run_folder_reuses_its_weights(tmp_path):
    run_dir = store.create_run(TrainConfig(**TINY, max_steps=3), tmp_path)
    first = train(TrainConfig(**TINY, max_steps=3), run_dir)
    model, _ = make_model(TrainConfig(**TINY, weights=str(run_dir), mode="full"), 6)
    for k, v in first.model.state_dict().items():
        assert torch.equal(model.state_dict()[k], v)
    with pytest.raises(TrainError, match="does not fit"):
        make_model(TrainConfig(arch="resnet18", weights=str(run_dir), mode="full"), 6)


@pytest.mark.slow  # real training (tens of steps)
def test_stop_during_the_epoch_evaluation_resumes_with_that_evaluation(tmp_path):
    cfg = TrainConfig(**{**TINY, "max_steps": 13, "log_every": 13})  # 216 training images / 16 = 13 steps
    run_dir = store.create_run(cfg, tmp_path)
    trained = []
    first = train(cfg, run_dir, callback=lambda r: trained.append(r) if r["type"] == "train" else None,
                  should_stop=lambda: any(r["step"] == 13 for r in trained))  # from the first evaluation batch on
    assert first.state == "cancelled" and first.step == 13
    assert not [r for r in store.read_metrics(run_dir) if r["type"] in ("eval", "test")]
    second = train(cfg, run_dir, resume_state=store.load_checkpoint(run_dir))
    assert second.state == "completed"
    evals = [(r["type"], r["step"]) for r in store.read_metrics(run_dir) if r["type"] in ("eval", "test", "train")]
    assert evals == [("train", 1), ("train", 13), ("eval", 13), ("test", 13)]  # step 1 is always logged
    assert store.has_checkpoint(run_dir, "best")


def test_disk_full_fails_loudly_and_keeps_the_earlier_checkpoint(tmp_path, monkeypatch):
    cfg = TrainConfig(**{**TINY, "max_steps": 4, "log_every": 1})
    run_dir = store.create_run(cfg, tmp_path)
    seen = []
    first = train(cfg, run_dir, callback=lambda r: seen.append(r) if r["type"] == "train" else None,
                  should_stop=lambda: len(seen) >= 2)
    assert first.state == "cancelled" and store.load_checkpoint(run_dir)["meta"]["step"] == 2

    def full(*a, **k):
        raise OSError(28, "No space left on device", str(run_dir / "checkpoints"))

    monkeypatch.setattr(checkpoints, "save_checkpoint", full)  # the writer the worker uses (RunFolder)
    with pytest.raises(OSError):
        worker.execute(run_dir)  # resumes at step 2, trains to 4, cannot save
    st = store.read_status(run_dir)
    assert st["state"] == "failed" and "No space left on device" in st["message"]
    assert store.load_checkpoint(run_dir)["meta"]["step"] == 2  # the earlier checkpoint still loads


@pytest.mark.slow  # two short trainings
def test_loop_writes_only_to_the_writer_it_is_given(tmp_path, monkeypatch):
    """Issue 14.4: metrics and checkpoints go to ``writer`` (no run store needed); a checkpoint it received
    resumes the run exactly as one from a run folder does."""
    class Memory:
        def __init__(self):
            self.records, self.checkpoints = [], []

        def append_metrics(self, record):
            self.records.append(record)

        def save_checkpoint(self, model_state, meta, train_state=None, *, best=False):
            self.checkpoints.append({"model": {k: v.clone() for k, v in model_state.items()}, "meta": dict(meta),
                                     "best": best})

    monkeypatch.chdir(tmp_path)
    seen, mem = [], Memory()
    cfg = TrainConfig(**{**TINY, "epochs": 1}, max_steps=4)
    result = train(cfg, callback=seen.append, writer=mem)
    assert [r["type"] for r in mem.records] == [r["type"] for r in seen] and mem.records[-1]["type"] == "end"
    assert mem.checkpoints and mem.checkpoints[-1]["meta"]["step"] == 4
    assert torch.equal(mem.checkpoints[-1]["model"]["classifier.3.weight"],
                       result.model.state_dict()["classifier.3.weight"])
    assert result.run_dir is None and list(tmp_path.iterdir()) == []  # nothing written to disk
    # the same run with a folder writes the same records to its metrics file (data-progress phases aside: the
    # second run finds the drawn images in the disk cache)
    run_dir = store.create_run(cfg, tmp_path / "runs")
    folder = train(cfg, run_dir, writer=store.RunFolder(run_dir))

    def steps(records):
        return [(r["type"], r.get("step")) for r in records if r["type"] != "phase"]

    assert steps(store.read_metrics(run_dir)) == steps(mem.records)
    assert folder.run_dir == str(run_dir) and store.checkpoint_meta(run_dir)["step"] == 4
