"""Augmentation lab: build a torchvision v2 pipeline, see N seeded draws with what was drawn, CutMix / MixUp,
the RandAugment explorer, and export the pipeline as Python and JSON (the JSON is what training takes).

The page is layout: the editor's state and callbacks are in ``views/_augment_state.py``, its widgets in
``views/_augment_editor.py``, the draws in ``views/_augment_tabs.py``; every computation and figure is in
``core.augment`` (the step widgets are generated from the registry specs).
"""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from views import _augment_cache as cache
from views import _augment_editor as editor
from views import _augment_state as state
from views import _augment_tabs as tabs
from views._widgets import image_input, show_error

st.title("Augmentation lab")
st.markdown(
    "A training set is a sparse, biased sample of the world; **augmentation** fills part of the gap by showing "
    "the network plausible variations of every image (moved, recoloured, cut, mixed) so it learns what does "
    "*not* change the class. Build a pipeline below: every tile is one random draw, and its caption says exactly "
    "what was drawn. Same seed, same tiles: in the exported code too."
)
state.init()

# --------------------------------------------------------------------------------------------------- images
col_a, col_b = st.columns(2)
with col_a:
    got_a = image_input("aug_a", "Image A", default_sample=0)
    # the key follows the image, so the class name defaults to the new image's name when it changes
    class_a = st.text_input("Class of image A", value=got_a[1] if got_a else "A",
                            key=f"aug_class_a::{got_a[1] if got_a else ''}")
with col_b:
    got_b = image_input("aug_b", "Image B", default_sample=1)
    class_b = st.text_input("Class of image B", value=got_b[1] if got_b else "B",
                            key=f"aug_class_b::{got_b[1] if got_b else ''}")
max_side = st.select_slider("Preview size (longer side, px)", [96, 128, 192, 256, 384, 512], value=256,
                            key="aug_max_side", help="Images are shrunk to this size first; the export does the same.")
chosen = [got_a, got_b] if got_a and got_b else [got_a] if got_a else []  # B alone is not enough
arrays = cache.prepared_images([g[0] for g in chosen], max_side)

tab_pipe, tab_mix, tab_ra, tab_export = st.tabs(["Pipeline", "CutMix & MixUp", "RandAugment explorer", "Export"])
with tab_pipe:
    left, right = st.columns([2, 3])
    with left:
        editor.steps_editor()
    try:
        spec = state.validated_spec()
    except PAGE_ERRORS as err:
        spec = None
        with right:
            show_error(err)
    with right:
        tabs.random_draws(spec, arrays, [class_a, class_b])
with tab_mix:
    tabs.mixing_tab(arrays, class_a, class_b)
with tab_ra:
    tabs.randaugment_tab(arrays)
with tab_export:
    editor.export_tab(spec, max_side)
