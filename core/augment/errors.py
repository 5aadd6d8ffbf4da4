"""The one error type of ``core.augment`` (defined with the others in :mod:`core.errors`)."""
from core.errors import AugmentError

__all__ = ["AugmentError"]
