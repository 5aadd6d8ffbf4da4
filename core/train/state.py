"""Checkpoint state besides the weights: what an exactly resumed run needs (optimizer moments, loss scaler,
every RNG, step counter, best accuracy, training time), split into tensors (for safetensors) and JSON.

Gotcha: the learning rate is *not* stored: it is a pure function of the step (``loop.get_lr``), so restoring the
step restores the schedule.
"""
from __future__ import annotations

import hashlib
import random
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from core.train.errors import TrainError


class RunWriter(Protocol):
    """Where the loop writes, given from outside as ``callback`` is (``core.runfiles.RunFolder`` writes a run
    folder): the loop never needs to know where its records go."""

    def append_metrics(self, record: dict) -> None: ...

    def save_checkpoint(self, model_state: dict, meta: dict, train_state: dict | None = None, *,
                        best: bool = False) -> Any: ...


def capture_train_state(optimizer, scaler, step: int, best_acc, train_time: float) -> dict:
    """Everything besides the weights that a resumed run needs, as tensors (safetensors) + JSON."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    scalars: dict[str, Any] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim.{pid}.{k}"] = v
            else:
                scalars[f"{pid}.{k}"] = v
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    np_state = np.random.get_state()
    py_state = random.getstate()
    return {"tensors": tensors, "json": {
        "step": step, "best_acc": best_acc, "train_time_s": train_time,
        "param_groups": sd["param_groups"], "optim_scalars": scalars,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng_numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "rng_python": [py_state[0], list(py_state[1]), py_state[2]],
    }}


def restore_train_state(ckpt: dict, optimizer, scaler) -> tuple[int, float | None, float]:
    ts = ckpt.get("train_state")
    if ts is None:
        raise TrainError("this checkpoint has no optimizer state, so the run cannot resume exactly")
    js, tensors = ts["json"], ts["tensors"]
    state: dict[int, dict] = {}
    for key, v in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = v
    for key, v in js.get("optim_scalars", {}).items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = v
    optimizer.load_state_dict({"state": state, "param_groups": js["param_groups"]})
    if scaler is not None and js.get("scaler"):
        scaler.load_state_dict(js["scaler"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])
    n = js["rng_numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    p = js["rng_python"]
    random.setstate((p[0], tuple(p[1]), p[2]))
    return int(js["step"]), js.get("best_acc"), float(js.get("train_time_s", 0.0))


def weights_sha256(model: nn.Module) -> str:
    """Hash of every parameter and buffer: equal hashes = bit-identical weights (used to check DDP ranks)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
