"""How many CPU threads PyTorch may use in each process of the app: the server and the training workers.

Why a policy: PyTorch's default is one intra-op thread per core *in every process*. A class on one server has
one server process (every browser session is a thread in it, all sharing one setting: ``torch.set_num_threads``
is process-wide, not per Python thread) and a training worker process per active run. With the default, S
sessions classifying at once plus a run start S·C + C threads on C cores; they preempt each other, OpenMP
workers spin while waiting, and every page slows down together. The policy gives each process a share:

- ``server``: ``max(1, cores // 4)`` threads (1 on machines up to 7 cores). A page's forward is small (a fraction of a
  CPU-second for ResNet-18 at 224 px); with many sessions, parallelism *between* requests (one core each) beats
  parallelism within one. A lone user on a big machine loses some latency, a class gains throughput.
- ``worker``: ``max(1, cores - server)``: the run gets every core the pages do not (runs queue, so one trains
  at a time). On 2 cores: server 1, worker 1.

``bench/threads.py`` measures the choices (2 concurrent inferences with 1 vs all threads, inference beside a
worker with 1 vs all threads); its figures for this machine are in the README. An instructor overrides either
number with ``CNNPG_THREADS_SERVER`` / ``CNNPG_THREADS_WORKER`` (a whole number ≥ 1).

Gotcha: call :func:`apply_thread_policy` at process start, before the first parallel op; the inter-op pool can
only be sized before any inter-op work has run, so it is set best-effort and left alone afterwards.
"""
from __future__ import annotations

import os

from core.errors import InputError

__all__ = ["ROLES", "ENV_VARS", "available_cores", "thread_policy", "apply_thread_policy"]

ROLES = ("server", "worker")
ENV_VARS = {"server": "CNNPG_THREADS_SERVER", "worker": "CNNPG_THREADS_WORKER"}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. under ``taskset`` or a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _override(role: str) -> int | None:
    raw = os.environ.get(ENV_VARS[role], "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"{ENV_VARS[role]} must be a whole number of threads (1 or more), got {raw!r}")
    return n


def thread_policy(role: str, cores: int | None = None) -> int:
    """Intra-op threads for a process of ``role`` ("server" or "worker") on ``cores`` cores (default: this
    process's). An environment override wins (:data:`ENV_VARS`); a bad value raises :class:`InputError`."""
    if role not in ROLES:
        raise InputError(f"thread policy role must be one of {', '.join(ROLES)}, got {role!r}")
    override = _override(role)
    if override is not None:
        return override
    cores = available_cores() if cores is None else max(1, int(cores))
    server = max(1, cores // 4)
    return server if role == "server" else max(1, cores - server)


def apply_thread_policy(role: str) -> int:
    """Set this process's PyTorch threads by :func:`thread_policy` and return the number set."""
    # torch here: core.runs.worker imports this module while it is a small queued process (~20 MB); torch loads
    # only once the run starts
    import torch

    n = thread_policy(role)
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # inter-op work already ran in this process: the pool's size is fixed by now
        pass
    return n
