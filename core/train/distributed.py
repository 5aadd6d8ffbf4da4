"""Multi-process training with ``torchrun``: one process per device, gradients averaged by DistributedDataParallel.

``torchrun --nproc_per_node N -m core train ...`` starts N copies of the same command and sets ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`setup` turns those into a process group (NCCL between CUDA GPUs, gloo on
CPU) and picks this process's device. Without torchrun it is a no-op that returns rank 0 of 1.

Gotcha: every rank must execute the same collective calls in the same order, or they all hang. So every rank
evaluates its shard (the confusion matrices are summed), and a stop request is agreed on by all ranks
(:func:`any_true`) before anyone leaves the loop. Only rank 0 writes files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from core.device import pick_device


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None  # None when not distributed

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(preferred_device: str = "auto") -> DistInfo:
    """Join the process group when started by torchrun (idempotent); otherwise a single-process DistInfo."""
    if not launched_by_torchrun():
        return DistInfo(0, 1, 0, pick_device(preferred_device), None)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and (preferred_device in ("auto", "cuda") or preferred_device.startswith("cuda:"))
    if use_cuda:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, device, dist.get_backend())


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum_(tensor: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (a no-op on one process)."""
    if info.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def sync_buffers(model: torch.nn.Module, info: DistInfo) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DDP broadcasts them at the start of each forward, so after the last training step each rank still holds the
    statistics of its own last batch; evaluation and the final weights must use one set.
    """
    if info.enabled:
        for buf in model.buffers():
            dist.broadcast(buf, src=0)


def any_true(flag: bool, info: DistInfo) -> bool:
    """True on every rank if ``flag`` is true on any rank (so all ranks stop at the same step)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_object(obj: Any, info: DistInfo, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (e.g. the run folder rank 0 created)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj`` as a list indexed by rank."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out
