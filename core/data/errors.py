"""Typed errors of ``core.data`` (defined with the others in :mod:`core.errors`)."""
from core.errors import DataError, DatasetNotFound, DatasetUnavailable

__all__ = ["DataError", "DatasetUnavailable", "DatasetNotFound"]
