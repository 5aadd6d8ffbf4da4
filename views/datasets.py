"""Data sets: look at what a network will learn from before training it.

One data set (an entry of core.data.DATASETS) at a time: its options, split, image size and validation share,
then its size, class counts, warnings (tiny classes, the entry's own notes) and a preview grid. This file draws
that; views/_datasets_sources.py gets an image folder's images (zip import, imported sets, server folder) or a
download, views/_datasets_cache.py keeps opened data sets for every session, views/_datasets_state.py owns the
page's session state. Gotcha: class names may be a user's folder names, so they are escaped wherever they are
rendered (Markdown in warnings, a little HTML in Plotly labels).
"""
from __future__ import annotations

import streamlit as st

from core.data import DATASETS, class_counts, preview_grid, size_warnings, train_val_split
from core.data.builtin import is_downloaded
from core.data.figures import class_counts_figure
from core.data.folders import DatasetLayoutError
from core.data.options import dataset_params
from core.errors import PAGE_ERRORS
from views._datasets_cache import open_cached
from views._datasets_sources import download, folder_source, show_report
from views._params import param_widget
from views._storage import storage_panel
from views._widgets import show_error

st.title("Data sets")
st.markdown(
    "A classifier only learns what its data shows it. Before training, look at the pictures, count the "
    "classes (a class with few images will be learned badly) and check that nothing *other* than the object "
    "gives the answer away: with **Shapes** you can build such a shortcut on purpose with the `bias` knob "
    "(background colour tied to the class in the training split only) and watch a network fall for it."
)


def _option_widgets(spec) -> dict:
    """One widget per option of the data set's entry (core.data.options.dataset_params: its kind, limits and help)."""
    params = dataset_params(spec)
    cols = st.columns(max(1, len(params)))
    values = {}
    for col, param in zip(cols, params):
        with col:
            values[param.name] = param_widget(param, key=f"data_{spec.name}_{param.name}")
    return values


def _plain(text: str) -> str:
    """Text that may hold user folder names, shown inside markdown as typed (no markup, no links)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in str(text))


# ---------------------------------------------------------------------------------------------- widgets
storage_slot = st.container()  # filled after the import / delete controls ran, so it shows their effect
names = list(DATASETS)
name = st.selectbox("Data set", names, index=names.index("shapes"), format_func=lambda n: DATASETS[n].title,
                    key="data_name")
spec = DATASETS[name]
st.markdown(spec.description)

options: dict = {}
if spec.kind == "folder":
    folder = folder_source()
else:
    options = _option_widgets(spec) if spec.options else {}
with storage_slot:
    storage_panel("data")
c1, c2, c3 = st.columns(3)
split = c1.selectbox("Split", spec.splits, key=f"data_{name}_split")
image_size = int(c2.number_input("Image size (px)", min_value=8, max_value=512, value=spec.default_image_size,
                                 step=8, key=f"data_{name}_size"))
val_fraction = c3.slider("Validation fraction", 0.05, 0.5, 0.1, 0.05, key="data_val_fraction",
                         help="carved out of the training split, stratified by class")

# ---------------------------------------------------------------------------------------------- data
ds = None
if spec.kind == "folder":
    if folder:
        options = {"path": folder}
    else:
        st.stop()
if not spec.offline and not is_downloaded(name):
    download(spec)
    st.stop()
try:
    ds = open_cached(name, split, image_size, tuple(sorted(options.items())))
except DatasetLayoutError as err:
    show_report(err.report)
    st.stop()
except PAGE_ERRORS as err:  # includes unwritable storage (core.budget.StorageError: "cannot write to …")
    show_error(err)
    st.stop()

if getattr(ds, "report", None) is not None and ds.report.skipped:  # a folder's unreadable files
    st.warning(f"{len(ds.report.skipped)} files skipped (not images, or unreadable).")

counts = class_counts(ds)
m1, m2, m3 = st.columns(3)
m1.metric(f"Images in '{split}'", f"{len(ds):,}")
m2.metric("Classes", len(ds.classes))
n_train = n_val = None
if split == "train" and len(ds) > 1 and "unlabelled" not in counts:
    train_part, val_part = train_val_split(ds, val_fraction, seed=0)
    n_train, n_val = len(train_part), len(val_part)
    m3.metric("Train / validation", f"{n_train:,} / {n_val:,}")
for warning in size_warnings(counts, split=split, train=n_train, val=n_val):
    st.warning(_plain(warning), icon=":material/warning:")
for note in spec.warnings(split, options, list(ds.classes)):  # the entry's own (Shapes: what bias does here)
    st.warning(note)

left, right = st.columns([1, 2])
with left:
    st.subheader("Class counts")
    st.plotly_chart(class_counts_figure(counts), width="stretch", key="data_counts_chart")
with right:
    st.subheader("Preview")
    p1, p2 = st.columns(2)
    preview_seed = int(p1.number_input("Preview seed", 0, 10_000, 0, key="data_preview_seed"))
    show_masks = p2.toggle("Overlay ground-truth masks", key="data_masks") if spec.has_masks else False
    tiles = preview_grid(ds, n=16, seed=preview_seed, masks=show_masks)
    st.image([img for img, _ in tiles], caption=[label for _, label in tiles], width=96)
    if show_masks:
        st.caption("Red: the pixels of the shape (clutter lines drawn on top are excluded). A saliency map that "
                   "points elsewhere has found a shortcut.")
