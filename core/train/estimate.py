"""How long will a run take on *this* machine? Measured, not guessed: time a few real training steps.

``estimate_duration(config)`` builds the model (random weights: same speed as pretrained, no download), runs two
untimed warm-up steps and then times steps at the run's batch size (≤ 64) on random images of the configured size
for about 1.5 s, and scales the measured throughput to the run's number of steps plus its evaluations (a forward
pass costs about a third of a training step). On the 2-core development machine it said 122 s for the default
preset's 137 s of training + evaluation, and 458 s for ResNet-18's ~430 s (timing only 2 steps of 32 images, as
it first did, said 218 s and 727 s).

Gotcha: it cannot know how busy the machine will be later: another run in parallel halves the speed. Data
preparation on first use (drawing Shapes, downloads) is not included.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from core.train.config import TrainConfig
from core.train.data import epoch_steps
from core.train.loop import compute_loss
from core.train.model import make_model, make_optimizer, pick_amp_dtype

# Per-image cost of evaluation relative to a training step (forward only, no backward, no optimizer).
EVAL_COST = 1 / 3


@dataclass
class Estimate:
    seconds: float  # total: training + evaluation (without first-time data preparation)
    train_seconds: float
    eval_seconds: float
    img_per_s: float  # measured training throughput
    total_steps: int
    num_train: int | None
    measured_batch: int
    method: str  # one sentence saying how the number was obtained

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def split_sizes(cfg: TrainConfig) -> tuple[int | None, int, int]:
    """(train, val, test) image counts, from the data set's options when it can tell without opening files."""
    from core.data import DATASETS

    spec = DATASETS[cfg.dataset]
    opts = {**spec.options, **cfg.dataset_options}
    if cfg.dataset == "shapes":
        from core.data.shapes import split_size

        n = int(opts["n"])
        n_val = min(n - 1, max(1, round(cfg.val_fraction * n))) if cfg.val_fraction > 0 else 0
        return n - n_val, n_val, split_size("test", n, opts.get("n_eval"))
    try:  # folders and downloaded sets: count what is on disk (no download here)
        from core.data import open_dataset

        n = len(open_dataset(cfg.dataset, "train", image_size=cfg.image_size, **cfg.dataset_options))
        n_test = len(open_dataset(cfg.dataset, "test", image_size=cfg.image_size, **cfg.dataset_options)) \
            if "test" in spec.splits else 0
    except Exception:  # noqa: BLE001 - not available yet: the estimate says so
        return None, 0, 0
    n_val = round(cfg.val_fraction * n)
    return n - n_val, n_val, n_test


def measure_throughput(cfg: TrainConfig, *, max_batch: int = 64, min_steps: int = 3, max_steps: int = 30,
                       min_time_s: float = 1.5) -> tuple[float, int, int, torch.device]:
    """Training img/s of ``cfg``'s network on random images of its size: (img/s, batch, steps timed, device).

    Two untimed steps first (the first calls allocate and pick kernels and are several times slower), then steps
    until ``min_time_s`` has passed (at least ``min_steps``, at most ``max_steps``): two steps of a small network
    last a few milliseconds, too short to time on a busy machine.
    """
    from core.device import pick_device

    device = pick_device(cfg.device)
    batch = min(cfg.batch_size, max_batch)
    model, _ = make_model(cfg.replace(weights="none"), 6)  # frozen layers skip backward: keep the mode
    model.to(device).train()
    opt = make_optimizer(cfg, model)
    amp = pick_amp_dtype(cfg.amp, device)
    x = torch.randn(batch, 3, cfg.image_size, cfg.image_size, device=device)
    y = torch.randint(0, 6, (batch,), device=device)
    from core.train.losses import estimate_teacher

    teacher = estimate_teacher(cfg, 6, device)  # distillation: every step also runs the teacher's forward

    def step() -> None:
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            if teacher is not None:
                with torch.no_grad():
                    teacher(x)
            loss, _ = compute_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(2):
        step()
    sync()
    t0 = time.perf_counter()
    done = 0
    while done < min_steps or (done < max_steps and time.perf_counter() - t0 < min_time_s):
        step()
        done += 1
        sync()
    return done * batch / (time.perf_counter() - t0), batch, done, device


def extrapolate(cfg: TrainConfig, img_s: float, num_train: int | None, num_val: int, num_test: int
                ) -> tuple[int, float, float, int]:
    """(total steps, training seconds, evaluation seconds, evaluation images) of a run at ``img_s``.

    The loop drops each epoch's ragged last batch, evaluates the validation split after every epoch (also after
    a partial last one when ``max_steps`` cuts it) and the test split once at the end.
    """
    if num_train is None:  # size unknown before the download: only a step cap can be scaled
        total_steps = cfg.max_steps or 0
        return total_steps, total_steps * cfg.batch_size / img_s, 0.0, 0
    steps_per_epoch, _ = epoch_steps(num_train, cfg.batch_size)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    evals = math.ceil(total_steps / steps_per_epoch)
    eval_images = evals * num_val + num_test
    return total_steps, total_steps * cfg.batch_size / img_s, eval_images * EVAL_COST / img_s, eval_images


def estimate_duration(config: TrainConfig) -> Estimate:
    """Measure this device's training throughput for ``config`` and extrapolate to the whole run."""
    cfg = config.validate()
    num_train, num_val, num_test = split_sizes(cfg)
    img_s, batch, timed, device = measure_throughput(cfg)
    total_steps, train_s, eval_s, eval_images = extrapolate(cfg, img_s, num_train, num_val, num_test)
    method = (f"measured just now: {timed} training steps of {batch} random {cfg.image_size}px images on "
              f"{device.type.upper()} ({img_s:.0f} img/s), scaled to {total_steps} steps"
              + (f" and {eval_images} evaluation images" if eval_images else ""))
    return Estimate(seconds=train_s + eval_s, train_seconds=train_s, eval_seconds=eval_s, img_per_s=img_s,
                    total_steps=total_steps, num_train=num_train, measured_batch=batch, method=method)
