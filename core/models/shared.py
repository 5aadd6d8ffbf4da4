"""Models shared between callers (browser sessions, threads): one lock per model, and loading a run's model.

Why a lock: the app caches one model per (architecture, weights) or per run checkpoint and hands the same
object to every browser session. Anything that attaches hooks (Captum's layer attributions, activation capture,
the layer table) or changes the model's mode would otherwise see — or disturb — another session's forward at
the same moment. Every computation on a shared model therefore runs inside ``with exclusive(model):``.
The lock is re-entrant, so a function holding it may call another that takes it again.

Gotcha: the lock protects only code that takes it. A bare ``model(x)`` elsewhere in the app must go through
``exclusive`` too (``core.models.predict`` does).

Loading a run: a run folder holds ``config.json`` (architecture, image size) and safetensors checkpoints
(``best`` when it has one, else ``last``); the class names are in the checkpoint's meta. The model is
built with a head of that many classes and loaded **strictly**: a checkpoint that does not fit is an error,
never a silent partial load.
"""
from __future__ import annotations

import os
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from torch import nn

from core.data.resize import to_tensor
from core.errors import InputError
from core.models.build import build
from core.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["model_lock", "exclusive", "RunModel", "load_run_model", "run_transform"]

_LOCKS: "weakref.WeakKeyDictionary[nn.Module, threading.RLock]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()



def model_lock(model: nn.Module) -> threading.RLock:
    """The one re-entrant lock of ``model`` (created on first use, dropped with the model)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


@contextmanager
def exclusive(model: nn.Module, *, eval_mode: bool = True) -> Iterator[nn.Module]:
    """Hold ``model``'s lock for the block; with ``eval_mode`` the model is in ``eval()`` inside and its
    previous mode is restored after (a shared model must never be left in train mode)."""
    lock = model_lock(model)
    with lock:
        was_training = model.training
        if eval_mode:
            model.eval()
        try:
            yield model
        finally:
            model.train(was_training)


@dataclass
class RunModel:
    """A finished (or checkpointed) run's network, ready for inference."""

    model: nn.Module
    arch: str
    classes: list[str]
    image_size: int
    run_dir: Path
    kind: str  # "best" or "last"
    meta: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"run {self.run_dir.name} ({self.arch}, {len(self.classes)} classes, {self.kind})"


def run_transform(image_size: int):
    """PIL image -> normalised ``float [1, 3, S, S]``: exactly what the training loop fed the network
    (shorter side to S, centre crop, [0, 1], ImageNet mean/std)."""
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)

    def transform(image) -> torch.Tensor:
        x = to_tensor(image.convert("RGB"), image_size).float() / 255.0
        return ((x - mean) / std).unsqueeze(0)

    return transform


def load_run_model(run_dir: str | os.PathLike, kind: str | None = None, *,
                   device: str | torch.device | None = None) -> RunModel:
    """Build a run's architecture and load its checkpoint strictly (``kind``: "best", "last", or None =
    best when present, else last). Raises :class:`core.runs.RunError` / :class:`InputError` with a message."""
    from core.runs import store  # here: a cycle (core.runs imports core.train, which imports core.models)

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise InputError(f"{run_dir.name} is not a run folder (no config.json)")
    cfg = store.load_config(run_dir)
    if kind is None:
        kind = "best" if store.has_checkpoint(run_dir, "best") else "last"
    ck = store.load_checkpoint(run_dir, kind, with_train_state=False)
    state = ck["model"]
    classes = list(ck["meta"].get("classes") or [])
    head = _head_size(state, classes)
    model = build(cfg.arch, num_classes=head, weights="none")
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise InputError(
            f"the checkpoint of run {run_dir.name} does not fit {cfg.arch} "
            f"({len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} of other shape tensors)"
        )
    model.load_state_dict(state, strict=True)
    model.eval()
    if device is not None:
        model.to(device)
    if not classes:
        classes = [f"class {i}" for i in range(head)]
    return RunModel(model=model, arch=cfg.arch, classes=classes, image_size=int(cfg.image_size),
                    run_dir=run_dir, kind=kind, meta=ck["meta"])


def _head_size(state: dict[str, torch.Tensor], classes: list[str]) -> int:
    if classes:
        return len(classes)
    # the last 2-D weight is the classifier in every zoo architecture
    last = [v for k, v in state.items() if k.endswith("weight") and v.ndim == 2]
    if not last:
        raise InputError("cannot tell the class count of this checkpoint")
    return int(last[-1].shape[0])
