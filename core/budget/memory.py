"""Will this run fit in memory? An estimate of a run's peak, made *before* it starts, checked against what this
machine has free now (:func:`check_run_memory`, called by ``TrainConfig.validate``).

The estimate (:class:`MemoryEstimate`, bytes) has three parts:

- ``data_bytes``: Shapes keeps every image of a split decoded: ``3·S²`` pixel bytes + ``S²/8`` (its mask,
  bit-packed) + 43 bytes of labels and drawing parameters per image, for S px images;
- ``draw_bytes``: while the largest split is drawn, its masks take one byte per pixel (``S²`` each), freed after;
- ``model_bytes``: the worker process (:data:`PROCESS_BYTES`) and, on a CPU only, one training batch's
  activations: ``batch × 3·S² × 4 B ×`` :data:`ACTIVATION_FACTOR` (on a GPU they are in the GPU's memory).

The per-image figures come from the data set's entry (``DatasetSpec.drawn``, :class:`core.data.Drawn`).
The limit is ``CNNPG_MEMORY_FRACTION`` of :func:`available_memory` (MemAvailable, capped by a container's cgroup).
Only data sets drawn here (Shapes) are estimated: a folder data set's size is not known without opening it, and
:func:`core.data.folders.decode_folder` refuses more than 4 GiB of pixels itself.

Gotcha: every figure is an estimate made before the work starts; it exists to refuse what clearly cannot fit with
a message that says the numbers, not to predict the exact peak. Running out anyway is :mod:`core.budget.oom`.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from core.budget.settings import MiB, fmt_bytes, setting
from core.errors import NotEnoughMemory

# Training activations kept for backward, per input byte (float32 input = 12 B per pixel): a rough factor that
# fits ResNet-18 at 224 px (~40 MB per image in training) within 2×; small networks need far less.
ACTIVATION_FACTOR = 64
# A worker process before any data: the interpreter with torch imported, the model and the optimizer state.
PROCESS_BYTES = 512 * MiB


def available_memory() -> int | None:
    """Bytes of memory a new process can use now: MemAvailable, capped by the cgroup's limit. None if unknown."""
    avail = None
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    if avail is None:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    with contextlib.suppress(OSError, ValueError):  # cgroup v2: a container's own limit
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            room = max(0, int(limit) - used)
            avail = room if avail is None else min(avail, room)
    return avail


@dataclass
class MemoryEstimate:
    data_bytes: int  # the splits the run holds in memory (decoded pixels, packed masks, labels)
    draw_bytes: int  # extra while drawing the largest split (its masks unpacked), freed afterwards
    model_bytes: int  # the process itself + activations of one training batch (CPU runs only: else on the GPU)
    detail: str  # how the figure was made, in words
    limit_bytes: int | None = None  # what this machine allows one run now (None: unknown)

    @property
    def total_bytes(self) -> int:
        return self.data_bytes + self.draw_bytes + self.model_bytes

    @property
    def fits(self) -> bool:
        return self.limit_bytes is None or self.total_bytes <= self.limit_bytes


def estimate_run_memory(cfg) -> MemoryEstimate | None:
    """Memory ``cfg``'s run (a ``TrainConfig``) needs at its peak, or None when the data set's size is not known
    without opening it (anything not drawn here: its ``DatasetSpec.drawn`` is None). The parts are explained in
    the module docstring."""
    from core.data import DATASETS  # here: the data sets import torch; this module stays light

    spec = DATASETS.get(cfg.dataset)
    if spec is None or spec.drawn is None:
        return None
    s = int(cfg.image_size)
    splits = spec.drawn.held({**spec.options, **cfg.dataset_options}, cfg.objective_spec.unlabelled_split)
    n = sum(splits)
    data = n * spec.drawn.bytes_per_image(s)
    draw = max(splits) * spec.drawn.draw_bytes_per_image(s)
    detail = f"{n:,} {spec.drawn.label} at {s} px"
    model = PROCESS_BYTES
    if _runs_on_cpu(cfg.device):
        model += int(cfg.batch_size) * 3 * s * s * 4 * ACTIVATION_FACTOR
        detail += f" + the training process with a batch of {cfg.batch_size}"
    else:
        detail += " + the training process"
    return MemoryEstimate(data_bytes=data, draw_bytes=draw, model_bytes=model, detail=detail)


def _runs_on_cpu(device: str) -> bool:
    if device == "cpu":
        return True
    if device != "auto":
        return False
    try:
        import torch  # here: only when "auto" must be decided; this module stays light

        return not (torch.cuda.is_available() or torch.backends.mps.is_available())
    except ImportError:  # no torch: assume the CPU
        return True


def memory_limit() -> int | None:
    """Bytes one run may plan to use now: ``CNNPG_MEMORY_FRACTION`` of :func:`available_memory` (None: unknown)."""
    avail = available_memory()
    return None if avail is None else int(avail * min(1.0, setting("CNNPG_MEMORY_FRACTION")))


def check_run_memory(cfg) -> MemoryEstimate | None:
    """Raise :class:`NotEnoughMemory` when ``cfg``'s run clearly cannot fit; returns the estimate otherwise."""
    est = estimate_run_memory(cfg)
    if est is None:
        return None
    est.limit_bytes = memory_limit()
    if not est.fits:
        frac = min(1.0, setting("CNNPG_MEMORY_FRACTION"))
        raise NotEnoughMemory(
            f"this run needs about {fmt_bytes(est.total_bytes)} of memory ({est.detail}); one run may use "
            f"{fmt_bytes(est.limit_bytes)} here ({frac:.0%} of the {fmt_bytes(est.limit_bytes / frac if frac else 0)} "
            "free now). Choose fewer images (n), a smaller image size or batch size")
    return est
