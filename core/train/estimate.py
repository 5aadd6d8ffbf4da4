"""How long will a run take on *this* machine? Measured, not guessed: everything a run does, timed in small doses.

``estimate_duration(config)`` adds up what the worker process really spends:

1. **start-up**: a fresh Python process importing the training code (timed once per app process);
2. **data preparation**: for Shapes, drawing the splits not yet in the disk cache (24 images drawn and timed,
   scaled to the split sizes);
3. **training**: steps at the run's batch size (≤ 64) timed for about 1.5 s after two untimed warm-up steps, each
   step as the loop does it: augment every image with the run's pipeline, stack, normalise, forward, backward,
   update; scaled to the run's number of steps;
4. **evaluation**: forward passes timed in eval mode at the loop's evaluation batch size, scaled to the validation
   split after every epoch plus the final test split;
5. **checkpoints**: one real checkpoint written to a temporary folder, times the number the run writes.

Why every part: an estimate of the steps alone (on ready-made tensors) ran well short of real runs, because start-up,
drawing the data and the per-image work of the data pipeline were missing (issue 8, item 7).

Gotcha: it cannot know how busy the machine will be later: another run in parallel halves the speed. And a
download (torchvision sets, pretrained weights) is not timed: it depends on the network.
"""
from __future__ import annotations

import functools
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import torch

from core.data import DATASETS
from core.device import pick_device
from core.errors import PlaygroundError
from core.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD
from core.paths import ROOT as _ROOT
from core.runfiles import save_checkpoint
from core.train.config import TrainConfig
from core.train.data import epoch_steps, make_batch_mixer, make_transform, total_steps as count_total_steps
from core.train.losses import estimate_teacher
from core.train.loop import compute_loss, to_model_input
from core.train.model import make_model, make_optimizer, pick_amp_dtype
from core.train.state import capture_train_state

# Per-image cost of evaluation relative to a training step (forward only, no backward, no optimizer): used only
# when no evaluation throughput was measured.
EVAL_COST = 1 / 3
DRAW_SAMPLE = 24  # images drawn to time the data preparation (a data set drawn here, e.g. Shapes)


@dataclass
class Estimate:
    seconds: float  # total: start-up + data preparation + training + evaluation + checkpoints
    train_seconds: float
    eval_seconds: float
    img_per_s: float  # measured training throughput (data pipeline included)
    total_steps: int
    num_train: int | None
    measured_batch: int
    method: str  # one sentence saying how the number was obtained
    startup_seconds: float = 0.0  # a fresh worker process importing the training code
    data_seconds: float = 0.0  # preparing the data set (Shapes: drawing the splits not cached yet)
    checkpoint_seconds: float = 0.0
    eval_img_per_s: float | None = None  # measured evaluation throughput
    images_to_draw: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def split_sizes(cfg: TrainConfig) -> tuple[int | None, int, int]:
    """(train, val, test) image counts, as the data set's entry counts them: from its options or file names,
    without decoding an image (this runs inside the page request) or downloading anything.

    The validation part follows :func:`core.data.train_val_split` (at least one image once there are two)."""
    spec = DATASETS[cfg.dataset]
    try:
        n = spec.count("train", cfg.dataset_options, cfg.image_size)
        n_test = spec.count("test", cfg.dataset_options, cfg.image_size) if "test" in spec.splits else 0
    except (PlaygroundError, OSError):  # not there (yet), not downloaded, outside the allowed roots: said so
        return None, 0, 0
    n_val = min(n - 1, max(1, round(cfg.val_fraction * n))) if cfg.val_fraction > 0 and n > 1 else 0
    return n - n_val, n_val, n_test


def images_to_draw(cfg: TrainConfig) -> int:
    """How many images the run must draw before it starts (a data set drawn here, :class:`core.data.Drawn`: its
    splits not yet in the disk cache). Other data sets: 0 (folders are read as they are; downloads are not timed)."""
    spec = DATASETS[cfg.dataset]
    if spec.drawn is None:
        return 0
    return spec.drawn.to_draw({**spec.options, **cfg.dataset_options}, cfg.image_size)


def measure_draw_rate(cfg: TrainConfig, k: int = DRAW_SAMPLE) -> float:
    """Images drawn per second at the run's image size (the first ``k`` training images, not cached)."""
    spec = DATASETS[cfg.dataset]
    t0 = time.perf_counter()
    spec.drawn.draw({**spec.options, **cfg.dataset_options}, cfg.image_size, k)
    return k / max(time.perf_counter() - t0, 1e-9)


@functools.lru_cache(maxsize=1)
def measure_startup() -> float:
    """Seconds a fresh Python process needs to import the training code (what every worker does first).
    Timed once per process: the interpreter and imports do not depend on the run."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import core.train.loop, core.runs.worker"], cwd=_ROOT, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.perf_counter() - t0


def measure_throughput(cfg: TrainConfig, *, max_batch: int = 64, min_steps: int = 3, max_steps: int = 30,
                       min_time_s: float = 1.5) -> tuple[float, int, int, torch.device]:
    """Training img/s of ``cfg`` on random images of its size: (img/s, batch, steps timed, device).

    Each timed step does what the loop does per batch: the run's augmentation on every uint8 image, stacking,
    normalising on the device, forward, backward, update (the augmentation is most of a LeNet step's time).
    Two untimed steps first (the first calls allocate and pick kernels and are several times slower), then steps
    until ``min_time_s`` has passed (at least ``min_steps``, at most ``max_steps``): two steps of a small network
    last a few milliseconds, too short to time on a busy machine.
    """
    model, opt, device, amp, batch = _model_for(cfg, max_batch)
    transform = make_transform(cfg)
    mixer = make_batch_mixer(cfg, 6)
    gen = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, cfg.image_size, cfg.image_size), dtype=torch.uint8, generator=gen)
              for _ in range(batch)]
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    y = torch.randint(0, 6, (batch,), device=device)
    teacher = estimate_teacher(cfg, 6, device)  # distillation: the teacher's forward pass is part of every step

    def step() -> None:
        x = torch.stack([transform(im) if transform is not None else im for im in images])
        x = to_model_input(x, device, mean, std)
        target = y
        if mixer is not None:
            x, target = mixer(x, y)
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            if teacher is not None:
                with torch.no_grad():
                    teacher(x)
            loss, _ = compute_loss(model(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    done, seconds = _time(step, device, min_steps, max_steps, min_time_s)
    return done * batch / seconds, batch, done, device


def measure_eval_throughput(cfg: TrainConfig, *, max_batch: int = 128, min_time_s: float = 0.5) -> float:
    """Evaluation img/s: forward passes in eval mode without gradients at the loop's batch (2 × batch_size)."""
    model, _, device, amp, batch = _model_for(cfg, max_batch, batch=max(1, 2 * cfg.batch_size))
    model.eval()
    x = torch.randn(batch, 3, cfg.image_size, cfg.image_size, device=device)

    @torch.no_grad()
    def forward() -> None:
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            model(x)

    done, seconds = _time(forward, device, 2, 20, min_time_s)
    return done * batch / seconds


def measure_checkpoint(cfg: TrainConfig) -> float:
    """Seconds to write one real checkpoint (weights + optimizer state, fsync'ed) of ``cfg``'s network."""
    model, opt, device, amp, _ = _model_for(cfg, 2)
    x = torch.randn(2, 3, cfg.image_size, cfg.image_size, device=device)
    loss, _ = compute_loss(model(x), torch.zeros(2, dtype=torch.long, device=device))
    loss.backward()
    opt.step()  # the optimizer's moments exist only after a step
    with tempfile.TemporaryDirectory(prefix="estimate-ckpt-") as tmp:
        t0 = time.perf_counter()
        save_checkpoint(tmp, model.state_dict(), {"step": 1}, capture_train_state(opt, None, 1, None, 0.0))
        return time.perf_counter() - t0


def _model_for(cfg: TrainConfig, max_batch: int, batch: int | None = None):
    device = pick_device(cfg.device)
    model, _ = make_model(cfg.replace(weights="none"), 6)  # frozen layers skip backward: keep the mode
    model.to(device).train()
    return model, make_optimizer(cfg, model), device, pick_amp_dtype(cfg.amp, device), \
        min(batch or cfg.batch_size, max_batch)


def _time(fn, device: torch.device, min_steps: int, max_steps: int, min_time_s: float) -> tuple[int, float]:
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(2):
        fn()
    sync()
    t0 = time.perf_counter()
    done = 0
    while done < min_steps or (done < max_steps and time.perf_counter() - t0 < min_time_s):
        fn()
        done += 1
        sync()
    return done, max(time.perf_counter() - t0, 1e-9)


def extrapolate(cfg: TrainConfig, img_s: float, num_train: int | None, num_val: int, num_test: int,
                eval_img_s: float | None = None) -> tuple[int, float, float, int]:
    """(total steps, training seconds, evaluation seconds, evaluation images) of a run at ``img_s``.

    The loop drops each epoch's ragged last batch, evaluates the validation split after every epoch (also after
    a partial last one when ``max_steps`` cuts it) and the test split once at the end. Without a measured
    ``eval_img_s`` an evaluated image costs EVAL_COST of a training image.
    """
    if num_train is None:  # size unknown before the download: only a step cap can be scaled
        total_steps = cfg.max_steps or 0
        return total_steps, total_steps * cfg.batch_size / img_s, 0.0, 0
    steps_per_epoch, _ = epoch_steps(num_train, cfg.batch_size)
    total_steps = count_total_steps(cfg, steps_per_epoch)
    evals = math.ceil(total_steps / steps_per_epoch)
    eval_images = evals * num_val + num_test
    eval_s = eval_images / eval_img_s if eval_img_s else eval_images * EVAL_COST / img_s
    return total_steps, total_steps * cfg.batch_size / img_s, eval_s, eval_images


def checkpoints_written(cfg: TrainConfig, total_steps: int, steps_per_epoch: int | None, train_s: float) -> int:
    """Checkpoints a run writes: one after every (possibly partial) epoch, plus, inside an epoch longer than
    ``checkpoint_every_s``, one each time that much training time has passed since the last one."""
    epochs = math.ceil(total_steps / steps_per_epoch) if steps_per_epoch else 1
    return epochs * (1 + int((train_s / epochs) // cfg.checkpoint_every_s))


def estimate_duration(config: TrainConfig) -> Estimate:
    """Measure this device's cost of every part of ``config``'s run and add them up (see the module docstring)."""
    cfg = config.validate()
    num_train, num_val, num_test = split_sizes(cfg)
    startup = measure_startup()
    to_draw = images_to_draw(cfg)
    data_s = to_draw / measure_draw_rate(cfg) if to_draw else 0.0
    img_s, batch, timed, device = measure_throughput(cfg)
    eval_img_s = measure_eval_throughput(cfg) if (num_val or num_test) else None
    total_steps, train_s, eval_s, eval_images = extrapolate(cfg, img_s, num_train, num_val, num_test, eval_img_s)
    steps_per_epoch = epoch_steps(num_train, cfg.batch_size)[0] if num_train else None
    ckpt_s = checkpoints_written(cfg, total_steps, steps_per_epoch, train_s) * measure_checkpoint(cfg)
    total = startup + data_s + train_s + eval_s + ckpt_s
    method = (f"measured just now: {timed} training steps of {batch} random {cfg.image_size}px images on "
              f"{device.type.upper()} ({img_s:.0f} img/s with the augmentation), scaled to {total_steps} steps"
              + (f" and {eval_images} evaluation images ({eval_img_s:.0f} img/s)" if eval_images and eval_img_s else "")
              + f"; plus {startup:.0f} s start-up"
              + (f", {data_s:.0f} s drawing {to_draw:,} {DATASETS[cfg.dataset].drawn.label}" if to_draw else "")
              + f" and {ckpt_s:.0f} s of checkpoints")
    return Estimate(seconds=total, train_seconds=train_s, eval_seconds=eval_s, img_per_s=img_s,
                    total_steps=total_steps, num_train=num_train, measured_batch=batch, method=method,
                    startup_seconds=startup, data_seconds=data_s, checkpoint_seconds=ckpt_s, eval_img_per_s=eval_img_s,
                    images_to_draw=to_draw)
