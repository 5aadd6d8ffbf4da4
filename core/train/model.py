"""The network side of a run: build it with the right head, load the starting weights, freeze per mode, and
pick the optimizer and mixed precision.

Modes (``TrainConfig.mode``) map onto the registry's stages (``core.models.trainable_stages``: stem, blocks…,
head): ``linear_probe`` learns the head only, ``finetune_last_k`` the last k blocks and the head, ``full`` and
``scratch`` everything.

Gotcha: freezing is two things. ``requires_grad=False`` stops the weights, but a frozen stage's BatchNorm layers
must also stay in ``eval()`` (:func:`set_train_mode`), or their running statistics drift towards the new data.

Stochastic depth (Huang et al. 2016, https://arxiv.org/abs/1603.09382; a Noisy Student's model noise): in
training each residual block skips its branch for a random part of the batch (identity only), in ``eval()`` never
(:func:`set_stochastic_depth`). It adds no weights, so checkpoints load into a network built without it.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torchvision.models import efficientnet, mobilenetv2, mobilenetv3, resnet
from torchvision.ops import StochasticDepth

from core.models import build, trainable_stages
from core.runfiles import has_checkpoint, load_checkpoint
from core.train.config import TrainConfig
from core.train.errors import TrainError


def make_model(cfg: TrainConfig, num_classes: int) -> tuple[nn.Module, list[tuple[str, nn.Module]]]:
    """Build the network with a ``num_classes`` head, load the starting weights, freeze per ``cfg.mode``.

    Returns (model, frozen stages).
    """
    if cfg.weights == "pretrained":
        model = build(cfg.arch, num_classes=num_classes, weights="default")
    else:
        model = build(cfg.arch, num_classes=num_classes, weights="none")
        if cfg.weights != "none":
            load_start_weights(model, cfg.weights)
    rate = getattr(cfg, "stochastic_depth", None)  # a config without the field keeps the architecture's own
    if rate is not None:
        set_stochastic_depth(model, float(rate))
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


def residual_branches(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """The residual blocks of ``model`` in forward order: (name, block, how) with ``how`` one of
    ``"attr"`` (the block applies its own ``stochastic_depth`` / ``drop_path`` module: torchvision EfficientNet,
    timm ResNets), or the name of the child whose output is the branch (torchvision ResNet ``bn2`` / ``bn3``,
    MobileNet ``conv`` / ``block``). Blocks without an identity path (a stride or a channel change in MobileNets)
    are not listed. LeNet, AlexNet, VGG, GoogLeNet, Inception, DenseNet have none."""
    out: list[tuple[str, nn.Module, str]] = []
    for name, m in model.named_modules():
        if isinstance(m, (efficientnet.MBConv, efficientnet.FusedMBConv)):
            if m.use_res_connect:
                out.append((name, m, "attr"))
        elif isinstance(m, resnet.BasicBlock):
            out.append((name, m, "bn2"))
        elif isinstance(m, resnet.Bottleneck):
            out.append((name, m, "bn3"))
        elif isinstance(m, mobilenetv2.InvertedResidual):
            if m.use_res_connect:
                out.append((name, m, "conv"))
        elif isinstance(m, mobilenetv3.InvertedResidual):
            if m.use_res_connect:
                out.append((name, m, "block"))
        elif type(m).__module__.startswith("timm.") and hasattr(m, "drop_path") and hasattr(m, "downsample"):
            out.append((name, m, "attr"))  # timm ResNet / SE-ResNet blocks: forward applies self.drop_path
    return out


def set_stochastic_depth(model: nn.Module, rate: float) -> int:
    """Give every residual block of ``model`` stochastic depth ("row" mode: per image), the last block skipping
    its branch with probability ``rate`` and the others linearly less (block i of L: rate · i / L, as in Huang
    et al. and torchvision's EfficientNet). ``rate`` 0 turns it off. Returns the number of blocks changed (0 for
    networks without residual blocks). Calling it again changes the rates; it never stacks."""
    if not 0.0 <= rate < 1.0:
        raise TrainError(f"stochastic depth must be in [0, 1), got {rate!r}")
    blocks = residual_branches(model)
    for i, (_, block, how) in enumerate(blocks, start=1):
        p = rate * i / len(blocks)
        if how == "attr":
            if isinstance(getattr(block, "stochastic_depth", None), StochasticDepth):
                block.stochastic_depth.p = p  # torchvision EfficientNet: its own module
            else:
                block.drop_path = StochasticDepth(p, "row")  # timm: forward calls self.drop_path when set
            continue
        if isinstance(getattr(block, "stochastic_depth", None), StochasticDepth):
            block.stochastic_depth.p = p  # hooked before: only the rate changes
            continue
        block.stochastic_depth = StochasticDepth(p, "row")  # a child: train()/eval() reach it; no weights
        getattr(block, how).register_forward_hook(_DropBranch(block.stochastic_depth))
    return len(blocks)


class _DropBranch:
    """Forward hook on a residual branch's last child: its output goes through the block's StochasticDepth.
    An object, not a lambda, so that ``copy.deepcopy(model)`` points the copy's hook at the copy's module."""

    def __init__(self, sd: nn.Module):
        self.sd = sd

    def __call__(self, _module: nn.Module, _inputs, out: torch.Tensor) -> torch.Tensor:
        return self.sd(out)


def load_start_weights(model: nn.Module, source: str) -> None:
    """Start from a previous run (folder: its best checkpoint, else last) or a .safetensors / .pt state dict.

    Tensors whose shape differs (the classifier head when the class count changed) keep their fresh init.
    """
    p = Path(source)
    if p.is_dir():
        kind = "best" if has_checkpoint(p, "best") else "last"
        state = load_checkpoint(p, kind, with_train_state=False)["model"]
    elif p.suffix == ".safetensors":
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
