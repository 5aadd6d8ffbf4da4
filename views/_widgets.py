"""Widgets shared by several pages. UI only: every computation is in core/."""
from __future__ import annotations

import streamlit as st
from PIL import Image

from core import budget
from core.errors import PAGE_ERRORS, PlaygroundError
from core.images import ALLOWED_TEXT, UPLOAD_EXTENSIONS, ImageError, safe_display_name
from core.paths import runs_dir
from core.runs import store
from core.runs.results import plain_markdown
from core.samples import SAMPLE_NAMES, load_sample

UPLOAD_TYPES = list(UPLOAD_EXTENSIONS)  # the loader's own allowlist: the picker and the messages agree


def show_error(err: BaseException) -> None:
    """Show a user-caused error as a clear message (never a traceback)."""
    if isinstance(err, PlaygroundError):  # messages repeat what the user typed (paths, names): shown as typed
        st.error(plain_markdown(err), icon="⚠️")
    elif budget.is_storage_error(err):  # read-only or full disk: "cannot write to <dir>: disk full"
        st.error(budget.storage_message(err), icon="⚠️")
    elif budget.is_out_of_memory(err):
        st.error("out of memory on the server: try a smaller image, batch or data set", icon="⚠️")
    else:  # an environment fault: still one clear line
        st.error(plain_markdown(f"{type(err).__name__}: {err}"), icon="⚠️")


def _decode_upload(data: bytes, name: str) -> Image.Image:
    """Decoded uploads are remembered for reruns in a cache bounded by bytes (CNNPG_UPLOAD_CACHE_MB, all sessions
    together), not by count: 32 entries of a 40 MP photo were 3.8 GB."""
    return budget.load_upload(data, name)


@st.cache_data(max_entries=8, show_spinner=False)
def _sample(name: str) -> Image.Image:
    return load_sample(name)


def image_input(key_prefix: str, label: str = "Image", default_sample: int = 0) -> tuple[Image.Image, str] | None:
    """A sample photo, an upload or a camera snapshot. Returns ``(RGB image, display name)`` or ``None`` (with a message shown).

    Uploads go through ``core.images.load_image`` (format allowlist, size limit, EXIF, modes); a bad file shows
    a specific message. The file name is only ever displayed, escaped, never used as a path.
    """
    source = st.radio(
        f"{label} source", ["Sample photo", "Upload", "Camera"], horizontal=True, key=f"{key_prefix}_src"
    )
    if source == "Sample photo":
        name = st.selectbox(
            f"{label}: sample", SAMPLE_NAMES, index=default_sample % len(SAMPLE_NAMES), key=f"{key_prefix}_sample"
        )
        return _sample(name), name
    if source == "Camera":  # a webcam snapshot (live demos point the camera at an object); same safe decoder
        shot = st.camera_input(f"{label}: camera snapshot", key=f"{key_prefix}_camera")
        if shot is None:
            st.info("Allow the camera in your browser and take a snapshot.")
            return None
        try:
            return _decode_upload(shot.getvalue(), "camera snapshot"), "camera snapshot"
        except ImageError as err:
            st.error(f"camera snapshot: {err}", icon="⚠️")
            return None
    up = st.file_uploader(f"{label}: upload", type=UPLOAD_TYPES, key=f"{key_prefix}_upload")
    if up is None:
        st.info(f"Choose an image file ({ALLOWED_TEXT}).")
        return None
    display = safe_display_name(up.name or "upload")
    try:  # the raw name: load_image escapes it once itself for its messages (passing `display` escaped it twice)
        return _decode_upload(up.getvalue(), up.name or "upload"), display
    except ImageError as err:
        st.error(str(err), icon="⚠️")  # the message already starts with the file name
        return None


def run_from_url(key: str = "run"):
    """The run folder named in the address bar (``?key=ID``), or None; a stale or malformed id is dropped with
    a note (the id is validated, never used as a path before that)."""
    run_id = st.query_params.get(key)
    if not run_id:
        return None
    try:
        store.validate_run_id(run_id)
        path = runs_dir() / run_id
        if (path / store.CONFIG_FILE).is_file():
            return path
    except PAGE_ERRORS:
        pass
    st.warning("The run in the address bar does not exist (deleted?).")
    del st.query_params[key]
    return None
