"""Data sets: look at what a network will learn from before training it."""
from __future__ import annotations

import html
from pathlib import Path

import plotly.express as px
import streamlit as st

from core.data import (
    DATASETS, class_counts, open_dataset, preview_grid, size_warnings, train_val_split,
)
from core.budget import app_folders, dataset_cache
from core.data.builtin import download_dataset, is_downloaded
from core.data.folders import DatasetLayoutError, delete_imported, list_imported
from core.data.roots import check_server_folder  # a typed folder only inside the allowed data roots
from core.data.zipimport import import_zip
from core.errors import PAGE_ERRORS
from core.data.options import dataset_params
from views._storage import clear_storage_usage, storage_panel
from views._params import param_widget
from views._widgets import show_error

st.title("Data sets")
st.markdown(
    "A classifier only learns what its data shows it. Before training, look at the pictures, count the "
    "classes (a class with few images will be learned badly) and check that nothing *other* than the object "
    "gives the answer away: with **Shapes** you can build such a shortcut on purpose with the `bias` knob "
    "(background colour tied to the class in the training split only) and watch a network fall for it."
)


@st.cache_resource(max_entries=6, show_spinner="Opening the data set…")
def _open_light(name: str, split: str, image_size: int, options: tuple) -> object:
    return open_dataset(name, split, image_size=image_size, **dict(options), **DATASETS[name].preview_options)


def _open(name: str, split: str, image_size: int, options: tuple) -> object:
    """Shapes (lazy) and downloaded sets are light; a folder holds every image decoded (up to 4 GiB): those are
    kept in core.budget's cache bounded by bytes (CNNPG_DATASET_CACHE_MB, all sessions together)."""
    if DATASETS[name].kind != "folder":
        return _open_light(name, split, image_size, options)
    key = (str(app_folders()[2]), split, image_size, options)  # an imported name is relative to the data folder
    ds = dataset_cache().get(key)
    if ds is None:
        with st.spinner("Opening the data set…"):
            ds = open_dataset(name, split, image_size=image_size, **dict(options))
        dataset_cache().put(key, ds)
    return ds


def _forget_open() -> None:
    _open_light.clear()
    dataset_cache().clear()


def _option_widgets(spec) -> dict:
    """One widget per option of the data set's entry (core.data.options.dataset_params: its kind, limits and help)."""
    params = dataset_params(spec)
    cols = st.columns(max(1, len(params)))
    values = {}
    for col, param in zip(cols, params):
        with col:
            values[param.name] = param_widget(param, key=f"data_{spec.name}_{param.name}")
    return values


def _show_report(report) -> None:
    if report.ok:
        st.success(f"**{report.name}**: {report.summary()}.")
    else:
        st.error("; ".join(report.problems))
    if report.counts:
        st.dataframe({"class": list(report.counts), "images": list(report.counts.values())}, hide_index=True)
    if report.skipped:
        with st.expander(f"{len(report.skipped)} files skipped"):
            st.dataframe({"file": [f for f, _ in report.skipped], "why": [w for _, w in report.skipped]},
                         hide_index=True)


def _plain(text: str) -> str:
    """Text that may hold user folder names, shown inside markdown as typed (no markup, no links)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in str(text))


def _import_zip(up, name: str) -> None:
    """Import the upload; the outcome (success report or error) REPLACES the previous one, tied to this file."""
    ss = st.session_state
    ss.pop("data_import_result", None)
    ss.pop("data_imported_choice", None)  # nothing of an earlier import stays on screen after this one fails
    file_id = getattr(up, "file_id", None) or up.name
    try:
        with st.spinner("Checking and unpacking the archive…"):
            report = import_zip(up, name)
    except DatasetLayoutError as err:
        ss["data_import_result"] = (file_id, "layout", err.report)
    except PAGE_ERRORS as err:  # a bad archive, the disk budget, unwritable storage: one clear message
        ss["data_import_result"] = (file_id, "error", err)
    else:
        _forget_open()  # a name deleted and imported again must not reopen the old images
        clear_storage_usage()
        ss["data_import_result"] = (file_id, "ok", report)
        ss["data_imported_choice"] = report.name


def _delete_control(chosen: str) -> None:
    """Delete one imported data set: a confirmation that belongs to that data set and to one click."""
    ss = st.session_state
    confirm_key = f"data_delete_confirm::{chosen}"  # keyed by name: ticking it for A never arms B
    with st.expander(f"Delete the data set {chosen}"):
        st.caption("Removes its folder and images from the server. Runs trained on it keep their results.")
        sure = st.checkbox(f"Yes, delete {chosen}", key=confirm_key)
        if st.button("Delete data set", key="data_delete", disabled=not sure, type="primary"):
            ss.pop(confirm_key, None)  # one confirmation, one click
            try:
                delete_imported(chosen)
            except PAGE_ERRORS as err:
                show_error(err)
                return
            _forget_open()
            clear_storage_usage()
            ss.pop("data_imported_choice", None)
            ss.pop("data_import_result", None)
            ss["data_flash"] = f"Deleted the data set {chosen}."
            st.rerun()


def _folder_source() -> str | None:
    """Upload a zip, pick an imported data set, or type a server path; returns the folder option."""
    ss = st.session_state
    source = st.radio("Images from", ["Imported data set", "Upload a zip", "Folder on the server"], horizontal=True,
                      key="data_folder_source")
    if source == "Upload a zip":
        st.markdown("One sub-folder per class, e.g. `cat/1.jpg`, `dog/7.png` (a zip of a folder works too).")
        up = st.file_uploader("Zip archive", type=["zip"], key="data_zip")
        default_name = Path(up.name).stem if up is not None and up.name else ""
        name = st.text_input("Name for the data set", placeholder=default_name or "my-photos", key="data_zip_name",
                             help="letters, digits, '-' and '_'; the zip's file name when left empty")
        if up is not None and st.button("Import", key="data_import", type="primary"):
            _import_zip(up, name or default_name)
        result = ss.get("data_import_result")
        current = (getattr(up, "file_id", None) or up.name) if up is not None else None
        if result is None or result[0] != current:
            return None  # no import of the file now in the uploader: show nothing of an older one
        _, outcome, value = result
        if outcome == "error":
            show_error(value)
            return None
        _show_report(value)
        return value.name if outcome == "ok" else None
    if source == "Imported data set":
        if "data_flash" in ss:
            st.success(ss.pop("data_flash"))
        names = list_imported()
        if not names:
            st.info("No data set imported yet: upload a zip of class folders.")
            return None
        chosen = ss.get("data_imported_choice")
        picked = st.selectbox("Data set", names, index=names.index(chosen) if chosen in names else 0,
                              key="data_imported")
        _delete_control(picked)
        return picked
    path = st.text_input("Folder on the server", key="data_folder_path", placeholder="/path/to/photos")
    if not path:
        return None
    try:
        return str(check_server_folder(path))
    except PAGE_ERRORS as err:
        show_error(err)
        return None


def _download(spec) -> None:
    st.info(f"{spec.title} is not downloaded yet. Source: {spec.url}")
    if st.button(f"Download {spec.title}", key="data_download", type="primary"):
        bar = st.progress(0.0, text="Connecting…")

        def progress(done: int, total: int) -> None:
            frac = min(done / total, 1.0) if total else 0.0
            text = f"Downloading: {done / 2**20:.0f} of {total / 2**20:.0f} MiB" if total else \
                f"Downloading: {done / 2**20:.0f} MiB"
            bar.progress(frac, text=text + (" (then unpacking)" if frac >= 1.0 else ""))

        try:
            download_dataset(spec.name, progress=progress)
            bar.progress(1.0, text="Done")
            clear_storage_usage()
            st.rerun()
        except PAGE_ERRORS as err:
            bar.empty()
            show_error(err)


# ---------------------------------------------------------------------------------------------- widgets
storage_slot = st.container()  # filled after the import / delete controls ran, so it shows their effect
names = list(DATASETS)
name = st.selectbox("Data set", names, index=names.index("shapes"), format_func=lambda n: DATASETS[n].title,
                    key="data_name")
spec = DATASETS[name]
st.markdown(spec.description)

options: dict = {}
if spec.kind == "folder":
    folder = _folder_source()
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
    _download(spec)
    st.stop()
try:
    ds = _open(name, split, image_size, tuple(sorted(options.items())))
except DatasetLayoutError as err:
    _show_report(err.report)
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
    # Class names may come from a user's folder names: escaped, since Plotly renders a little HTML in labels.
    fig = px.bar(x=[html.escape(c) for c in counts], y=list(counts.values()), labels={"x": "class", "y": "images"})
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10))
    st.plotly_chart(fig, width="stretch", key="data_counts_chart")
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
