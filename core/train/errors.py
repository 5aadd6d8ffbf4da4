"""Typed training errors (defined with the others in :mod:`core.errors`; messages are shown as they are)."""
from core.errors import TrainError

__all__ = ["TrainError", "OOM_MESSAGE"]

OOM_MESSAGE = "out of memory: try a smaller batch size or image size"
