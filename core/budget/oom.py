"""Running out of memory *during* the work: recognise it, and say which step ran out and what to choose instead.

Two uses. A page wraps heavy work (a lesson's training, an effective receptive field) in :func:`memory_guard`, so
the allocator's failure reaches the page as :class:`~core.errors.OutOfMemory`, one of the errors pages show. The
training loop and the run worker name the stage a run failed in with :data:`OUT_OF_MEMORY` ("data", "model",
"train").
(Refusing a run that clearly cannot fit, *before* it starts, is :mod:`core.budget.memory`.)

Gotcha: on the CPU PyTorch's allocator failure is a plain ``RuntimeError`` ("DefaultCPUAllocator: can't allocate
memory"), not ``MemoryError``; on a GPU it is ``torch.OutOfMemoryError``. :func:`is_out_of_memory` knows all three,
and every other RuntimeError stays what it is: a bug, not the user's input.
"""
from __future__ import annotations

import contextlib

from core.errors import OutOfMemory

OUT_OF_MEMORY = {
    "data": "out of memory while loading the data set: choose fewer images (n) or a smaller image size",
    "model": "out of memory while building the model: choose a smaller architecture or image size",
    "train": "out of memory while training: try a smaller batch size or image size",
}


def out_of_memory(stage: str) -> OutOfMemory:
    """The error for a run that ran out of memory in ``stage`` (a key of :data:`OUT_OF_MEMORY`; else "train")."""
    return OutOfMemory(OUT_OF_MEMORY.get(stage, OUT_OF_MEMORY["train"]))


@contextlib.contextmanager
def memory_guard(what: str, advice: str = "try a smaller image, batch or data set"):
    """Turn running out of memory inside the block into :class:`OutOfMemory` ("out of memory while <what>: …").

    Pages catch only ``core.errors.PAGE_ERRORS``, so heavy work is wrapped here; any other RuntimeError passes.
    """
    try:
        yield
    except (MemoryError, RuntimeError) as err:
        if is_out_of_memory(err):
            raise OutOfMemory(f"out of memory while {what}: {advice}") from None
        raise


def is_out_of_memory(err: BaseException) -> bool:
    """MemoryError, torch.OutOfMemoryError, or a RuntimeError whose text says the allocator failed."""
    if isinstance(err, MemoryError):
        return True
    try:
        import torch  # here: this module stays light (a queued worker imports it); torch is loaded by then anyway

        if isinstance(err, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):  # pragma: no cover - torch is a dependency
        pass
    msg = str(err) if isinstance(err, RuntimeError) else ""
    return "out of memory" in msg or "can't allocate memory" in msg or "DefaultCPUAllocator" in msg
