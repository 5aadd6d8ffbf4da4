"""Cached calls into ``core.augment`` for the Augmentation lab. Streamlit caches hash their arguments, so images
travel as tuples of uint8 ``[H, W, 3]`` arrays and specs as JSON text; the conversions are core's."""
from __future__ import annotations

import json

import numpy as np
import streamlit as st

from core.augment import PrefixCache, mix_preview, ops_at_magnitude, preview_grid
from core.augment.figures import prepare_arrays, to_chw


@st.cache_data(max_entries=16, show_spinner=False)
def prepared(arrays: tuple, max_side: int) -> list[np.ndarray]:
    """The input images shrunk to ``max_side`` (as the export does), as arrays."""
    return prepare_arrays(arrays, max_side)


def prepared_images(images: list, max_side: int) -> tuple | None:
    """The chosen PIL images as hashable uint8 ``[H, W, 3]`` arrays shrunk to ``max_side``; None when none."""
    if not images:
        return None
    return tuple(prepared(tuple(np.asarray(im.convert("RGB")) for im in images), max_side))


@st.cache_resource(show_spinner=False)
def prefix_cache() -> PrefixCache:
    """Per-step results of every tile, shared by all sessions (keyed by content): an added or moved step
    recomputes only the steps from there on, not the whole grid."""
    return PrefixCache(max_bytes=256 * 2**20)


@st.cache_data(max_entries=16, show_spinner=False)
def grid(arrays: tuple, spec_json: str, n: int, seed: int):
    """``n`` seeded tiles of the pipeline, and (with mixing on) the tiles mixed as one batch (seed + n)."""
    spec = json.loads(spec_json)
    tiles = preview_grid(to_chw(arrays), spec, n=n, seed=seed, cache=prefix_cache())
    mixed = None
    if spec["mixing"] is not None:
        k = len(arrays)
        mixed = mix_preview([t.image for t in tiles], [i % k for i in range(n)], k, spec["mixing"], seed=seed + n)
    return tiles, mixed


@st.cache_data(max_entries=16, show_spinner=False)
def mix_two(arrays: tuple, labels: tuple, k: int, mixing_json: str, seed: int):
    return mix_preview(to_chw(arrays), list(labels), k, json.loads(mixing_json), seed=seed)


@st.cache_data(max_entries=8, show_spinner=False)
def ops_at(array: np.ndarray, m: int, bins: int):
    return ops_at_magnitude(to_chw([array])[0], m, bins)
