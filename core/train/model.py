"""The network side of a run: build it with the right head, load the starting weights, freeze per mode, and
pick the optimizer and mixed precision.

Modes (``TrainConfig.mode``) map onto the registry's stages (``core.models.trainable_stages``: stem, blocks…,
head): ``linear_probe`` learns the head only, ``finetune_last_k`` the last k blocks and the head, ``full`` and
``scratch`` everything.

Gotcha: freezing is two things. ``requires_grad=False`` stops the weights, but a frozen stage's BatchNorm layers
must also stay in ``eval()`` (:func:`set_train_mode`), or their running statistics drift towards the new data.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.train.config import TrainConfig
from core.train.errors import TrainError


def make_model(cfg: TrainConfig, num_classes: int) -> tuple[nn.Module, list[tuple[str, nn.Module]]]:
    """Build the network with a ``num_classes`` head, load the starting weights, freeze per ``cfg.mode``.

    Returns (model, frozen stages).
    """
    from core.models import build, trainable_stages

    if cfg.weights == "pretrained":
        model = build(cfg.arch, num_classes=num_classes, weights="default")
    else:
        model = build(cfg.arch, num_classes=num_classes, weights="none")
        if cfg.weights != "none":
            load_start_weights(model, cfg.weights)
    stages = trainable_stages(model, cfg.arch)
    if cfg.mode == "linear_probe":
        learn = stages[-1:]
    elif cfg.mode == "finetune_last_k":
        learn = stages[-(cfg.finetune_k + 1):]
    else:
        learn = stages
    if learn is not stages:
        for p in model.parameters():
            p.requires_grad_(False)
        for _, module in learn:
            for p in module.parameters():
                p.requires_grad_(True)
    learn_names = {n for n, _ in learn}
    frozen = [(n, m) for n, m in stages if n not in learn_names]
    return model, frozen


def set_train_mode(model: nn.Module, frozen: list[tuple[str, nn.Module]]) -> None:
    """train() for the learning part; frozen stages stay in eval() so their BatchNorm statistics stay put."""
    model.train()
    for _, module in frozen:
        module.eval()


def load_start_weights(model: nn.Module, source: str) -> None:
    """Start from a previous run (folder: its best checkpoint, else last) or a .safetensors / .pt state dict.

    Tensors whose shape differs (the classifier head when the class count changed) keep their fresh init.
    """
    from core.runs import store

    p = Path(source)
    if p.is_dir():
        kind = "best" if store.has_checkpoint(p, "best") else "last"
        state = store.load_checkpoint(p, kind, with_train_state=False)["model"]
    elif p.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(p)
    else:
        state = torch.load(p, map_location="cpu", weights_only=True)  # refuses pickles that would run code
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
    own = model.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if len(fitting) < len(own) // 2:
        raise TrainError(f"the checkpoint {p.name} does not fit this architecture "
                         f"({len(fitting)} of {len(own)} tensors match): pick a checkpoint of the same network")
    model.load_state_dict(fitting, strict=False)


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """Weight decay on weights only: decaying BatchNorm scales and biases just fights the normalisation."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0)


def pick_amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """auto: bf16 on CUDA GPUs that support it (same range as fp32: no loss scaling), else fp16 + GradScaler;
    off on CPU / MPS (CPU autocast is slower than fp32 on most CPUs)."""
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if amp == "fp16":
        return torch.float16
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
