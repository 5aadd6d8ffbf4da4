"""The training loop: one function that reads top to bottom (after nanoGPT's ``train.py``).

``train(config)`` = data → model (scratch / pretrained / a run's checkpoint, then freezing per mode) → optimizer →
``while`` loop (set lr, stop?, step, log, evaluate + checkpoint each epoch) → final test evaluation.
Everything around it (run folders, subprocesses, the page) only feeds it a config and reads what it writes.
Its helpers live next door: ``data.py`` (loaders, reproducible order and augmentation), ``model.py`` (build,
starting weights, freezing, optimizer, precision) and ``state.py`` (what a checkpoint needs to resume exactly).

Shapes: images arrive as ``uint8 [B, 3, S, S]`` and are normalised on the device (4× less to copy than float);
logits are ``[B, K]``. Exactness: on CPU, the same config and seed give bit-identical weights, and a run stopped and
resumed from its checkpoint ends with the same weights as one that never stopped, because (1) data order is
drawn per epoch from ``seed + epoch`` and a resumed epoch skips the batches already seen, (2) each image's
augmentation is drawn from a seed derived from ``(seed, epoch, index)``, and (3) the checkpoint holds the model,
optimizer and RNG states and the step counter (the learning rate is a pure function of the step).

Gotcha: after each evaluation the loop calls ``set_train_mode(model, frozen)``, never plain ``model.train()``: a
frozen stage's BatchNorm must stay in ``eval()`` or its running statistics drift (see ``model.py``).
"""
from __future__ import annotations

import math
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.runfiles import RunFolder
from core.train import distributed
from core.train.config import TrainConfig
from core.budget import out_of_memory
from core.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD  # noqa: F401 - re-exported (estimate, bench)
from core.train.data import PreparationCancelled, make_batch_mixer, make_data, total_steps as count_total_steps
from core.train.errors import OOM_MESSAGE, TrainError
from core.train.losses import AUX_LOSS_WEIGHT, classification_loss, make_objective  # noqa: F401 - re-exported
from core.train.model import make_model, make_optimizer, pick_amp_dtype, set_train_mode
from core.train.state import RunWriter, capture_train_state, restore_train_state, weights_sha256

MISCLASSIFIED_KEEP = 48  # misclassified test images listed in the final record (for the gallery)


@dataclass
class TrainResult:
    state: str  # "completed" | "cancelled"
    step: int
    total_steps: int
    epoch: float
    run_dir: str | None
    classes: list[str]
    val: dict | None  # last validation record
    test: dict | None  # final test record (or final validation when the data set has no test split)
    best_val_acc: float | None
    train_time_s: float  # time spent in training steps (data + forward + backward + update), without evaluation
    img_per_s: float
    duration_s: float
    rank_weight_sha256: list[str] | None = None  # torchrun: one hash per rank, all equal when in sync
    model: nn.Module | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "model"}
        return d


# ------------------------------------------------------------------ the loop
def train(config: TrainConfig, run_dir: str | Path | None = None, callback: Callable[[dict], Any] | None = None,
          should_stop: Callable[[], bool] | None = None, resume_state: dict | None = None,
          select_train: Callable | None = None, *, writer: RunWriter | None = None) -> TrainResult:
    """Train ``config``; write metrics and checkpoints to ``writer`` (a :class:`~core.train.state.RunWriter`,
    e.g. ``core.runfiles.RunFolder(run_dir)``; given only ``run_dir``, that folder's) and call
    ``callback(record)`` for every metrics record. ``should_stop()`` is polled every step (cancel): the loop then
    checkpoints and returns with state "cancelled". ``resume_state`` is :func:`core.runfiles.load_checkpoint`'s
    result. ``select_train`` swaps the training images (see ``data.make_data``); self-training stages use it.
    The objective (``cfg.objective``) is an entry of :mod:`core.train.objectives`; its loss comes from
    :mod:`core.train.losses`, and a staged one (self-training) runs its stages, each one call of this loop
    (:mod:`core.train.selftrain`).
    """
    cfg = config.validate()
    if cfg.objective_spec.staged:
        from core.train.selftrain import train_self  # here: a cycle (each self-training stage is one call of this loop)

        return train_self(cfg, run_dir if run_dir is not None else getattr(writer, "path", None),
                          callback=callback, should_stop=should_stop)
    t_start = time.time()
    dist = distributed.setup(cfg.device)
    device = dist.device
    if run_dir is None:
        run_dir = getattr(writer, "path", None)
    elif writer is None:
        writer = _folder_writer(run_dir)
    if not dist.is_main:  # rank 0 writes
        run_dir = writer = None
    should_stop = should_stop or (lambda: False)

    latest: dict[str, dict] = {}  # the newest record of each type (for the result)

    def record(rec: dict) -> None:  # rank 0 logs; every record goes to the file and the callback
        if not dist.is_main:
            return
        rec = {**rec, "time": time.time()}
        latest[rec["type"]] = rec
        if writer is not None:
            writer.append_metrics(rec)
        if callback is not None:
            callback(rec)

    # ---- data ----
    record({"type": "phase", "phase": "data", "message": f"preparing the {cfg.dataset} data set"})
    last_note = [0.0]

    def data_progress(done: int, total: int) -> None:  # drawing / downloading can take a minute the first time
        if not dist.enabled and should_stop():  # cancel seen while drawing, decoding or downloading
            raise PreparationCancelled(f"cancelled while preparing the {cfg.dataset} data set ({done}/{total})")
        if time.time() - last_note[0] > 2 or done == total:
            last_note[0] = time.time()
            record({"type": "phase", "phase": "data", "done": done, "total": total,
                    "message": f"preparing the {cfg.dataset} data set: {done}/{total}"})

    try:
        data = make_data(cfg, dist, progress=data_progress, select_train=select_train)
    except (MemoryError, torch.OutOfMemoryError):
        raise out_of_memory("data") from None
    K = len(data.classes)
    steps_per_epoch = data.steps_per_epoch
    total_steps = count_total_steps(cfg, steps_per_epoch)
    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else int(cfg.warmup_fraction * total_steps)

    # ---- model ----
    record({"type": "phase", "phase": "model", "message": f"building {cfg.arch} ({cfg.weights} weights)"})
    torch.manual_seed(cfg.seed)  # the initial weights depend on the seed only
    try:
        model, frozen = make_model(cfg, K)
    except (MemoryError, torch.OutOfMemoryError):
        raise out_of_memory("model") from None
    set_noise(model, cfg.dropout)
    channels_last = device.type == "cuda"
    model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    amp_dtype = pick_amp_dtype(cfg.amp, device)
    autocast = (torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype is not None
                else nullcontext())
    scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None
    optimizer = make_optimizer(cfg, model)
    objective = make_objective(cfg, data.classes, device)  # (out, target, x) -> loss, logits, logged parts
    mixer = make_batch_mixer(cfg, K)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)

    # ---- start fresh or resume ----
    step, best_acc, train_time, last_val = 0, None, 0.0, None
    if resume_state is not None:
        model.load_state_dict(resume_state["model"])
        step, best_acc, train_time = restore_train_state(resume_state, optimizer, scaler)
        last_val = resume_state["meta"].get("val")
        record({"type": "resume", "step": step})
    else:
        random.seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        torch.manual_seed(cfg.seed)
    raw_model = model
    if dist.enabled:  # gradients are averaged across processes during backward()
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    n_trainable = sum(p.numel() for p in raw_model.parameters() if p.requires_grad)
    record({"type": "meta", "step": step, "classes": data.classes, "num_train": data.num_train,
            "num_val": data.num_val, "num_test": data.num_test, "steps_per_epoch": steps_per_epoch,
            "total_steps": total_steps, "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "world_size": dist.world_size, "device": str(device), "amp": str(amp_dtype).replace("torch.", "")
            if amp_dtype else "off", "trainable_params": n_trainable,
            "params": sum(p.numel() for p in raw_model.parameters()), "frozen_stages": [n for n, _ in frozen]})

    def save(best: bool = False) -> None:
        if writer is None:
            return
        meta = {"step": step, "epoch": step / steps_per_epoch, "total_steps": total_steps, "arch": cfg.arch,
                "num_classes": K, "classes": data.classes, "best_val_acc": best_acc, "val": last_val,
                "train_time_s": train_time}
        writer.save_checkpoint(raw_model.state_dict(), meta,
                               capture_train_state(optimizer, scaler, step, best_acc, train_time), best=best)

    def run_eval(loader, split: str, keep_misclassified: bool = False) -> dict | None:
        distributed.sync_buffers(raw_model, dist)
        res = evaluate(raw_model, loader, K, device, mean, std, autocast, channels_last, dist, should_stop,
                       keep_misclassified)
        set_train_mode(raw_model, frozen)
        if res is None:
            return None
        return {"type": "eval" if split == "val" else "test", "split": split, "step": step,
                "epoch": step / steps_per_epoch, **res}

    # ---- the loop ----
    model.train()
    set_train_mode(raw_model, frozen)
    stopped = False
    img_s = None  # exponential moving average of training throughput
    sums = torch.zeros(3 + len(objective.parts), device=device)  # loss·n, correct, n, parts·n since the last log (no sync per step)
    t_log, last_ckpt, eval_time = time.perf_counter(), time.time(), 0.0
    # a run stopped during an end-of-epoch evaluation resumes with that evaluation
    eval_due = (resume_state is not None and 0 < step and step % steps_per_epoch == 0
                and data.val_loader is not None and (last_val or {}).get("step") != step)
    try:
        while (step < total_steps or eval_due) and not stopped:
            epoch, skip = divmod(step, steps_per_epoch)
            for x, y in ([] if eval_due else data.train_loader(epoch, skip)):
                # set the learning rate for this step (warm-up, then cosine)
                lr = get_lr(step, total_steps, warmup, cfg.lr, cfg.min_lr_fraction)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                if distributed.any_true(bool(should_stop()), dist):
                    stopped = True
                    break
                # forward, backward, update
                x = to_model_input(x, device, mean, std, channels_last)
                y = y.to(device, non_blocking=True)
                target = y
                if mixer is not None:
                    x, target = mixer(x, y)  # soft labels [B, K]
                with autocast:
                    out = model(x)
                    loss, logits, parts = objective(out, target, x)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                step += 1
                hard = target.argmax(1) if target.ndim == 2 else target
                sums[0] += loss.detach().float() * len(y)  # device-side sums: no GPU→CPU sync per step
                sums[1] += (logits.argmax(1) == hard).sum()
                sums[2] += len(y)
                sums[3:] += torch.stack(parts).float() * len(y)
                # log
                end_of_epoch = step % steps_per_epoch == 0 or step == total_steps
                if step % cfg.log_every == 0 or end_of_epoch or step == 1:  # first step too: short runs get a curve
                    loss_n, correct, n, *part_sums = distributed.all_reduce_sum_(sums, dist).tolist()  # syncs
                    now = time.perf_counter()
                    dt = now - t_log
                    train_time += dt
                    rate = n / max(dt, 1e-9)
                    img_s = rate if img_s is None else 0.7 * img_s + 0.3 * rate
                    epochs_left = math.ceil((total_steps - step) / steps_per_epoch)
                    eta = (total_steps - step) * cfg.batch_size * dist.world_size / img_s + epochs_left * eval_time
                    record({"type": "train", "step": step, "epoch": step / steps_per_epoch, "lr": lr,
                            "loss": loss_n / n, "acc": correct / n, "img_per_s": img_s, "eta_s": eta,
                            **{f"loss_{k}": v / n for k, v in zip(objective.parts, part_sums)},
                            "total_steps": total_steps, "train_time_s": train_time})
                    sums.zero_()
                    t_log = time.perf_counter()
                if end_of_epoch:
                    break
                if time.time() - last_ckpt > cfg.checkpoint_every_s:
                    t_save = time.perf_counter()
                    save()
                    last_ckpt = time.time()
                    t_log += time.perf_counter() - t_save  # saving is not training time
            if stopped:
                break
            eval_due = False
            # evaluate and checkpoint at the end of each epoch
            t_eval = time.perf_counter()
            val = run_eval(data.val_loader, "val") if data.val_loader is not None else None
            if val is None and data.val_loader is not None:  # evaluation interrupted by a stop request
                stopped = True
                break
            is_best = False
            if val is not None:
                record(val)
                last_val = {k: val[k] for k in ("step", "loss", "acc")}
                is_best = best_acc is None or val["acc"] > best_acc
                best_acc = val["acc"] if is_best else best_acc
            save(best=is_best or data.val_loader is None)
            eval_time = time.perf_counter() - t_eval
            last_ckpt, t_log = time.time(), time.perf_counter()
        if stopped:
            save()
        else:
            test = None
            final_loader = data.test_loader or data.val_loader
            if final_loader is not None:
                test = run_eval(final_loader, "test" if data.test_loader is not None else "val",
                                keep_misclassified=True)
                if test is not None:
                    test["type"] = "test"
                    test["dataset_split"] = "test" if data.test_loader is not None else "train"
                    record(test)
                else:
                    stopped = True
    except torch.OutOfMemoryError:
        raise TrainError(OOM_MESSAGE) from None
    except RuntimeError as err:
        explained = explain_runtime_error(err, cfg)
        if explained is err:
            raise
        raise explained from None

    # ---- finish ----
    distributed.sync_buffers(raw_model, dist)
    sha = weights_sha256(raw_model)
    shas = distributed.gather_objects(sha, dist) if dist.enabled else None
    val_rec = latest.get("eval") or (dict(last_val, split="val") if last_val else None)
    test_rec = latest.get("test")
    result = TrainResult(
        state="cancelled" if stopped else "completed", step=step, total_steps=total_steps,
        epoch=step / steps_per_epoch, run_dir=str(run_dir) if run_dir else None, classes=data.classes,
        val=_brief(val_rec), test=_brief(test_rec), best_val_acc=best_acc,
        train_time_s=train_time, img_per_s=(step * cfg.batch_size * dist.world_size / train_time) if train_time else 0.0,
        duration_s=time.time() - t_start, rank_weight_sha256=shas, model=raw_model.eval(),
    )
    record({"type": "end", "step": step, "state": result.state, "best_val_acc": best_acc,
            "rank_weight_sha256": shas, "train_time_s": train_time})
    return result


def _folder_writer(run_dir: str | Path) -> RunWriter:
    """The run folder's writer for callers that pass only a folder (self-training stages, notebooks, tests); the
    worker passes ``writer=`` and never reaches this."""
    return RunFolder(run_dir)


def _brief(rec: dict | None) -> dict | None:
    if rec is None:
        return None
    return {k: rec[k] for k in ("split", "step", "loss", "acc", "per_class_acc") if k in rec}


# ------------------------------------------------------------------ lr schedule
def get_lr(step: int, total_steps: int, warmup: int, peak: float, min_fraction: float = 0.0) -> float:
    """Linear warm-up from ~0 to ``peak`` over ``warmup`` steps, then cosine decay to ``peak × min_fraction``.

    Warm-up avoids huge first updates while BatchNorm statistics and Adam's moment estimates are still noise.
    """
    if warmup > 0 and step < warmup:
        return peak * (step + 1) / warmup
    span = max(1, total_steps - warmup)
    progress = min(1.0, (step - warmup) / span)
    floor = peak * min_fraction
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


# ------------------------------------------------------------------ loss and noise
compute_loss = classification_loss  # the plain objective's loss (core.train.losses), under its old name


def set_noise(model: nn.Module, dropout: float | None) -> None:
    """Set every ``nn.Dropout``'s p to ``dropout`` (None: keep the architecture's own). Noisy Student trains
    its students with dropout as model noise; LeNet-5 has no dropout layer, so there this changes nothing."""
    if dropout is None:
        return
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.p = float(dropout)


def to_model_input(x: torch.Tensor, device: torch.device, mean: torch.Tensor, std: torch.Tensor,
                   channels_last: bool = False) -> torch.Tensor:
    """uint8 [B,3,H,W] in 0..255 (or float in 0..1) → normalised float on ``device``."""
    x = x.to(device, non_blocking=True)
    x = x.float().div_(255) if x.dtype == torch.uint8 else x.float()
    x = (x - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


# ------------------------------------------------------------------ evaluation
@torch.no_grad()
def evaluate(model: nn.Module, loader, K: int, device: torch.device, mean, std, autocast, channels_last: bool,
             dist: distributed.DistInfo, should_stop: Callable[[], bool] | None = None,
             keep_misclassified: bool = False) -> dict | None:
    """Loss, accuracy, per-class accuracy and the K×K confusion matrix (rows = true class, columns = predicted).

    Returns None if ``should_stop()`` became true mid-way. Under torchrun each rank scores its shard and the sums
    are added, so every rank gets the same numbers.
    """
    model.eval()
    confusion = torch.zeros(K * K, dtype=torch.int64, device=device)
    loss_sum = torch.zeros(1, dtype=torch.float64, device=device)
    wrong: list[dict] = []
    t0 = time.perf_counter()
    seen = 0
    for x, y, index in loader:
        if should_stop is not None and distributed.any_true(bool(should_stop()), dist):
            return None
        x = to_model_input(x, device, mean, std, channels_last)
        y = y.to(device)
        with autocast:
            logits = model(x)
        logits = logits.float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
        pred = logits.argmax(1)
        confusion += torch.bincount(y * K + pred, minlength=K * K)
        seen += len(y)
        if keep_misclassified and len(wrong) < MISCLASSIFIED_KEEP:
            prob = logits.softmax(1)
            for i in (pred != y).nonzero().flatten().tolist()[: MISCLASSIFIED_KEEP - len(wrong)]:
                wrong.append({"index": int(index[i]), "true": int(y[i]), "pred": int(pred[i]),
                              "confidence": round(float(prob[i, pred[i]]), 4)})
    distributed.all_reduce_sum_(confusion, dist)
    distributed.all_reduce_sum_(loss_sum, dist)
    cm = confusion.view(K, K).cpu()
    n = int(cm.sum())
    per_class = [(float(cm[k, k]) / float(cm[k].sum())) if cm[k].sum() > 0 else None for k in range(K)]
    res = {"loss": float(loss_sum.item()) / max(n, 1), "acc": float(cm.diag().sum()) / max(n, 1), "n": n,
           "per_class_acc": per_class, "confusion": cm.tolist(), "eval_time_s": time.perf_counter() - t0}
    if keep_misclassified:
        gathered = distributed.gather_objects(wrong, dist)
        res["misclassified"] = [w for part in gathered for w in part][:MISCLASSIFIED_KEEP]
    return res


def explain_runtime_error(err: RuntimeError, cfg: TrainConfig) -> Exception:
    """Turn PyTorch's low-level messages into advice a student can act on (else keep the error)."""
    msg = str(err)
    if "out of memory" in msg or "can't allocate memory" in msg or "CUDA error: out of memory" in msg:
        return TrainError(OOM_MESSAGE)
    if "Output size is too small" in msg or "Kernel size can't be greater" in msg or "input image is smaller" in msg:
        return TrainError(f"image size {cfg.image_size} px is too small for {cfg.arch}: its downsampling shrinks "
                          "the image below one pixel; choose a larger image size")
    if "Expected more than 1 value per channel" in msg:
        return TrainError("a batch of one image reached BatchNorm, which needs at least two: use a batch size ≥ 2 "
                          "or more training images")
    return err
