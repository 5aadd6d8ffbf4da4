"""Typed errors of ``core.data``: every message is shown to the user as is."""
from __future__ import annotations

from core.errors import PlaygroundError


class DataError(PlaygroundError):
    """A data set cannot be used as asked: bad option, bad folder layout, hostile or broken archive, ..."""


class DatasetUnavailable(DataError):
    """A downloadable data set is not on disk (and download was not asked for) or could not be downloaded."""


class DatasetNotFound(DataError):
    """An imported data set that does not exist (any more): deleted in another tab, or a mistyped name."""
