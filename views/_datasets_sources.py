"""Where the Data sets page's images come from when they are not drawn or built in: an image folder (a zip to
upload and import, an imported data set to pick or delete, or a folder on the server) and the download of a
torchvision data set not on disk yet.

:func:`folder_source` returns the folder option (an imported name or a checked server path) or None while there is
nothing to open yet; the import's outcome and the delete's message live in views/_datasets_state.py. Gotcha: a
typed server folder is accepted only inside the allowed data roots (core.data.roots), checked before anything is
listed or decoded.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data.builtin import download_dataset
from core.data.folders import list_imported
from core.data.roots import check_server_folder  # a typed folder only inside the allowed data roots
from core.errors import PAGE_ERRORS
from views import _datasets_state as state
from views._storage import clear_storage_usage
from views._widgets import show_error


def show_report(report) -> None:
    """A folder's check: its summary or its problems, the class counts and the skipped files."""
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


def _delete_control(chosen: str) -> None:
    """Delete one imported data set: a confirmation that belongs to that data set and to one click."""
    with st.expander(f"Delete the data set {chosen}"):
        st.caption("Removes its folder and images from the server. Runs trained on it keep their results.")
        sure = st.checkbox(f"Yes, delete {chosen}", key=state.confirm_key(chosen))  # keyed by name
        if st.button("Delete data set", key="data_delete", disabled=not sure, type="primary"):
            try:
                state.delete(chosen)
            except PAGE_ERRORS as err:
                show_error(err)
                return
            st.rerun()


def folder_source() -> str | None:
    """Upload a zip, pick an imported data set, or type a server path; returns the folder option."""
    source = st.radio("Images from", ["Imported data set", "Upload a zip", "Folder on the server"], horizontal=True,
                      key="data_folder_source")
    if source == "Upload a zip":
        st.markdown("One sub-folder per class, e.g. `cat/1.jpg`, `dog/7.png` (a zip of a folder works too).")
        up = st.file_uploader("Zip archive", type=["zip"], key="data_zip")
        default_name = Path(up.name).stem if up is not None and up.name else ""
        name = st.text_input("Name for the data set", placeholder=default_name or "my-photos", key="data_zip_name",
                             help="letters, digits, '-' and '_'; the zip's file name when left empty")
        if up is not None and st.button("Import", key="data_import", type="primary"):
            state.import_upload(up, name or default_name)
        result = state.import_outcome(up)
        if result is None:
            return None  # no import of the file now in the uploader: show nothing of an older one
        outcome, value = result
        if outcome == "error":
            show_error(value)
            return None
        show_report(value)
        return value.name if outcome == "ok" else None
    if source == "Imported data set":
        flash = state.pop_flash()
        if flash:
            st.success(flash)
        names = list_imported()
        if not names:
            st.info("No data set imported yet: upload a zip of class folders.")
            return None
        picked = st.selectbox("Data set", names, index=state.imported_index(names), key="data_imported")
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


def download(spec) -> None:
    """The download button of a data set not on disk yet, with a progress bar (then the page reruns)."""
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
