"""Caches bounded by bytes, shared by every session of the server: decoded uploads and open folder data sets.

A page reruns its whole script on every click, so a photo a student uploaded would be decoded again each time;
and every session holds its own copy unless the cache is shared. :class:`ByteLRU` keeps values until their total
*bytes* pass a bound, dropping the least recently used first. Two live here: :func:`upload_cache` (decoded PIL
images, ``CNNPG_UPLOAD_CACHE_MB``, filled by :func:`load_upload`) and :func:`dataset_cache` (decoded folder data
sets of the Data sets page, ``CNNPG_DATASET_CACHE_MB``). The bounds are read on every ``put``, so a changed
setting counts at once (:mod:`core.budget.settings`).

Gotcha: bounding by count would not bound anything here: a 40 MP photo is 120 MB decoded, a thumbnail 50 kB.
And the cached object is shared: :func:`load_upload` returns a copy, because a caller that draws on the image
would otherwise change it for every other student.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable

from core.budget.settings import MiB, setting


class ByteLRU:
    """A thread-safe least-recently-used cache bounded by the total bytes of its values (not their count).

    ``size_of(value)`` gives a value's bytes. A value larger than the whole bound is returned but not kept.
    """

    def __init__(self, max_bytes: int | Callable[[], int], size_of: Callable[[Any], int]):
        self._max = max_bytes
        self._size_of = size_of
        self._data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def max_bytes(self) -> int:
        return int(self._max() if callable(self._max) else self._max)

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return default
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: Any, value: Any) -> None:
        size = int(self._size_of(value))
        limit = self.max_bytes
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > limit:
                return
            self._data[key] = (value, size)
            self._bytes += size
            while self._bytes > limit and self._data:
                _, (_, s) = self._data.popitem(last=False)
                self._bytes -= s

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


def _image_bytes(img) -> int:
    w, h = img.size
    return w * h * len(img.getbands())


_UPLOADS = ByteLRU(lambda: int(setting("CNNPG_UPLOAD_CACHE_MB") * MiB), _image_bytes)


def load_upload(data: bytes, name: str):
    """``core.images.load_image(data, name=name)``, remembered across reruns and sessions in a cache bounded by
    ``CNNPG_UPLOAD_CACHE_MB`` of decoded pixels (a 40 MP photo is 120 MB decoded). Returns a copy: callers may
    change it freely."""
    from core.images import load_image  # here: PIL; this module stays light

    key = (hashlib.sha256(data).hexdigest(), name)
    img = _UPLOADS.get(key)
    if img is None:
        img = load_image(data, name=name)
        _UPLOADS.put(key, img)
    return img.copy()


def upload_cache() -> ByteLRU:
    """The decoded uploads :func:`load_upload` keeps (one cache for the whole server)."""
    return _UPLOADS


def _dataset_bytes(ds) -> int:
    images = getattr(ds, "images", None)
    return int(getattr(images, "nbytes", 0) or 0)


_DATASETS = ByteLRU(lambda: int(setting("CNNPG_DATASET_CACHE_MB") * MiB), _dataset_bytes)


def dataset_cache() -> ByteLRU:
    """Decoded folder data sets the Data sets page keeps open between reruns, bounded by their pixels' bytes
    (``CNNPG_DATASET_CACHE_MB``, default 1024): a folder holds every image decoded, up to 4 GiB each."""
    return _DATASETS
