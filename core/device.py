"""Which compute device this process would use, and what it is (shown on the home page and in runs)."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from core.errors import InputError


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda" | "mps" | "cpu"
    name: str
    memory_gb: float | None  # GPU memory for CUDA, system RAM for CPU, None when unknown (MPS shares RAM)
    threads: int

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.kind)


def pick_device(preferred: str = "auto") -> torch.device:
    """CUDA -> MPS -> CPU, unless ``preferred`` names one ("cpu", "cuda", "cuda:1", "mps")."""
    if preferred and preferred != "auto":
        dev = torch.device(preferred)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise InputError("CUDA was requested but no CUDA GPU is available on this machine")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_info(preferred: str = "auto") -> DeviceInfo:
    dev = pick_device(preferred)
    threads = torch.get_num_threads()
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        return DeviceInfo("cuda", props.name, round(props.total_memory / 2**30, 1), threads)
    if dev.type == "mps":
        return DeviceInfo("mps", "Apple GPU (Metal)", None, threads)
    name = platform.processor() or platform.machine() or "CPU"
    return DeviceInfo("cpu", f"{name} ({threads} threads)", _system_ram_gb(), threads)


def _system_ram_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):  # not POSIX
        return None
