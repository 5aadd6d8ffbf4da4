"""What the training loop eats: loaders with reproducible order and augmentation, resumable mid-epoch.

``make_data(cfg, dist)`` opens the configured data set, holds out a stratified validation share, and returns a
:class:`Data` with a training-loader factory ``(epoch, skip_batches) -> DataLoader`` plus validation / test
loaders. Batches are ``(uint8 [B, 3, S, S], int64 [B])`` for training and ``(images, labels, positions)`` for
evaluation (positions find a misclassified image again for the gallery).

Gotcha: reproducibility lives in the *keys*, not in worker RNGs. The sampler yields ``epoch × n + index`` and
:class:`KeyedImages` seeds each image's augmentation from ``(seed, key)``, so an image gets the same crop whether
the run used 0 or 8 workers, or was resumed half-way through the epoch.
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler, Subset

from core.augment import build_batch_mixer, build_transform, resolve_spec
from core.data import DATASETS, open_dataset, train_val_split
from core.train import distributed
from core.train.config import TrainConfig
from core.train.errors import TrainError


class PreparationCancelled(Exception):
    """A stop request (cancel, SIGTERM) came while the data set was being drawn, decoded or downloaded: the
    run ends "cancelled" at once instead of after the preparation (minutes for a big set or a slow download).
    Not a PlaygroundError: it is not a failure. Nothing is half-written (caches are written atomically)."""


class KeyedImages(Dataset):
    """Training images with reproducible augmentation: key = epoch × n + index.

    The augmentation of image ``index`` in ``epoch`` draws from an RNG seeded with (seed, key), so it does not
    depend on worker processes, batch order, or whether the run was resumed half-way through the epoch.
    """

    def __init__(self, base, transform, seed: int):
        self.base, self.transform, self.seed, self.n = base, transform, int(seed), len(base)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key: int):
        _, index = divmod(int(key), self.n)
        image, label = self.base[index]
        if self.transform is not None:
            torch_state, py_state = torch.get_rng_state(), random.getstate()
            s = (self.seed * 0x9E3779B97F4A7C15 + int(key) * 0xBF58476D1CE4E5B9) % 2**63
            torch.manual_seed(s)
            random.seed(s)
            try:
                image = self.transform(image)
            finally:  # leave the process RNG as it was (the model's dropout uses it)
                torch.set_rng_state(torch_state)
                random.setstate(py_state)
        return image, label


class IndexedImages(Dataset):
    """Evaluation images with their position in the underlying split (to find misclassified ones again)."""

    def __init__(self, base, positions: list[int] | None = None):
        self.base = base
        self.positions = list(range(len(base))) if positions is None else positions
        # Subset → report the index in the original split, so the page can reload the image
        self.origin = base.indices if isinstance(base, Subset) else None

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int):
        pos = self.positions[i]
        image, label = self.base[pos]
        return image, label, int(self.origin[pos]) if self.origin is not None else pos


class ResumableSampler(Sampler[int]):
    """torch's DistributedSampler (same shuffle from ``seed + epoch``, same split across ranks) that can start
    ``skip_batches`` into an epoch and yields epoch-tagged keys for :class:`KeyedImages`."""

    def __init__(self, n: int, batch_size: int, seed: int, rank: int, world_size: int):
        self.n, self.batch_size = n, batch_size
        self.inner = DistributedSampler(range(n), num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.epoch, self.skip = epoch, skip_batches
        self.inner.set_epoch(epoch)

    def __iter__(self):
        order = list(self.inner)[self.skip * self.batch_size:]
        return iter([self.epoch * self.n + i for i in order])

    def __len__(self) -> int:
        return max(0, len(self.inner) - self.skip * self.batch_size)


def epoch_steps(num_train: int, batch_size: int, world_size: int = 1) -> tuple[int, bool]:
    """(optimizer steps per epoch, drop_last): each rank gets ⌈n / world⌉ images and drops its ragged last batch
    (a batch of 1 would break BatchNorm), unless it has less than one batch, which then is the whole epoch."""
    per_rank = math.ceil(num_train / world_size)
    drop_last = per_rank >= batch_size
    return (per_rank // batch_size if drop_last else 1), drop_last


def total_steps(cfg, steps_per_epoch: int) -> int:
    """Optimizer steps of a whole run: ``epochs`` epochs, cut at ``max_steps`` when set (the loop and the
    estimate both count with this)."""
    steps = cfg.epochs * steps_per_epoch
    return min(steps, cfg.max_steps) if cfg.max_steps is not None else steps


@dataclass
class Data:
    classes: list[str]
    num_train: int
    num_val: int
    num_test: int
    steps_per_epoch: int
    train_loader: Callable[[int, int], DataLoader]  # (epoch, skip_batches) -> loader over that epoch's rest
    val_loader: DataLoader | None
    test_loader: DataLoader | None


def make_data(cfg: TrainConfig, dist: distributed.DistInfo, progress: Callable[[int, int], None] | None = None,
              select_train: Callable[[Dataset], Dataset] | None = None) -> Data:
    """Open the data set, split train/val, wrap for reproducible augmentation, and build the loaders.

    ``select_train`` replaces the training split (after the validation hold-out) by another set of
    ``(image, label)`` items, e.g. a self-training stage's labelled + pseudo-labelled images."""
    spec = DATASETS[cfg.dataset]
    opts = dict(cfg.dataset_options)
    extra: dict[str, Any] = {"progress": progress}
    if not spec.offline:  # torchvision sets are downloaded on first use (a clear error when offline)
        extra["download"] = True
    full = open_dataset(cfg.dataset, "train", image_size=cfg.image_size, **extra, **opts)
    classes = [str(c) for c in full.classes]
    if cfg.val_fraction > 0:
        train_set, val_set = train_val_split(full, val_fraction=cfg.val_fraction, seed=cfg.seed)
    else:
        train_set, val_set = full, None
    if select_train is not None:
        train_set = select_train(train_set)
    test_set = None
    if "test" in tuple(getattr(spec, "splits", ())):
        test_set = open_dataset(cfg.dataset, "test", image_size=cfg.image_size, **extra, **opts)
    if len(train_set) == 0:
        raise TrainError("the training split is empty")

    on_cuda = dist.device.type == "cuda"
    workers = cfg.num_workers
    if workers is None:  # on a CPU the workers would compete with the training threads for the same cores
        workers = min(8, max(1, (os.cpu_count() or 2) - 1)) if on_cuda else 0
    common = {"num_workers": workers, "pin_memory": on_cuda, "persistent_workers": workers > 0}
    if workers > 0:
        common["prefetch_factor"] = 4

    steps_per_epoch, drop_last = epoch_steps(len(train_set), cfg.batch_size, dist.world_size)
    sampler = ResumableSampler(len(train_set), cfg.batch_size, cfg.seed, dist.rank, dist.world_size)
    keyed = KeyedImages(train_set, make_transform(cfg), cfg.seed)
    loader = DataLoader(keyed, batch_size=cfg.batch_size, sampler=sampler, drop_last=drop_last,
                        generator=torch.Generator().manual_seed(cfg.seed), **common)

    def train_loader(epoch: int, skip: int) -> DataLoader:
        sampler.set_epoch(epoch, skip)  # the sampler lives in this process: persistent workers see the change
        return loader

    def eval_loader(ds) -> DataLoader | None:
        if ds is None or len(ds) == 0:
            return None
        shard = list(range(dist.rank, len(ds), dist.world_size))  # no padding: every image counted once
        return DataLoader(IndexedImages(ds, shard), batch_size=max(1, cfg.batch_size * 2), shuffle=False, **common)

    return Data(classes=classes, num_train=len(train_set), num_val=len(val_set) if val_set is not None else 0,
                num_test=len(test_set) if test_set is not None else 0, steps_per_epoch=steps_per_epoch,
                train_loader=train_loader, val_loader=eval_loader(val_set), test_loader=eval_loader(test_set))


def make_batch_mixer(cfg: TrainConfig, num_classes: int):
    """CutMix / MixUp on whole batches (None when the augmentation spec has no ``mixing``)."""
    return build_batch_mixer(cfg.augmentation, num_classes)


def make_transform(cfg: TrainConfig):
    """The image-level augmentation steps, or None when there are none (saves the per-image RNG bookkeeping)."""
    return build_transform(cfg.augmentation) if resolve_spec(cfg.augmentation)["steps"] else None
