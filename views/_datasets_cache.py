"""The Data sets page's opened data sets, shared by every session: opening one again on each rerun would redraw
Shapes or decode a folder's images every time a widget changes.

Two caches, by cost: Shapes (drawn lazily) and downloaded sets are light and live in ``st.cache_resource``; an
image folder holds every image decoded (up to 4 GiB), so it lives in core.budget's cache bounded by bytes
(``CNNPG_DATASET_CACHE_MB``, all sessions together). Gotcha: an imported data set is named relative to the data
folder, so the folder's key includes that folder, and :func:`forget_open` must run after an import or a delete
(a name deleted and imported again must not reopen the old images).
"""
from __future__ import annotations

import streamlit as st

from core.budget import app_folders, dataset_cache
from core.data import DATASETS, open_dataset


@st.cache_resource(max_entries=6, show_spinner="Opening the data set…")
def _open_light(name: str, split: str, image_size: int, options: tuple) -> object:
    return open_dataset(name, split, image_size=image_size, **dict(options), **DATASETS[name].preview_options)


def open_cached(name: str, split: str, image_size: int, options: tuple) -> object:
    """The data set ``name``'s ``split`` at ``image_size`` px; ``options``: its options as sorted (key, value)
    pairs (hashable). Raises what core.data raises (DatasetLayoutError with a report, PAGE_ERRORS)."""
    if DATASETS[name].kind != "folder":
        return _open_light(name, split, image_size, options)
    key = (str(app_folders()[2]), split, image_size, options)  # an imported name is relative to the data folder
    ds = dataset_cache().get(key)
    if ds is None:
        with st.spinner("Opening the data set…"):
            ds = open_dataset(name, split, image_size=image_size, **dict(options))
        dataset_cache().put(key, ds)
    return ds


def forget_open() -> None:
    """Drop every opened data set (after an import or a delete)."""
    _open_light.clear()
    dataset_cache().clear()
