"""Typed training errors (messages are shown to students as they are)."""
from __future__ import annotations

from core.errors import PlaygroundError

OOM_MESSAGE = "out of memory: try a smaller batch size or image size"


class TrainError(PlaygroundError):
    """A run cannot go on for a reason the user can fix (out of memory, image too small for the network, ...)."""
