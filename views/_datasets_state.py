"""The Data sets page's session state: a zip import's outcome, the imported data set to pick after it, the delete
confirmation and the one-shot message a delete leaves. The only code that writes ``st.session_state`` for that page.

Keys: ``data_import_result`` (``(file id, "ok" | "layout" | "error", report or error)``), ``data_imported_choice``
(the name just imported, picked next), ``data_delete_confirm::<name>`` (one tick per data set) and ``data_flash``
(text, shown once). The widgets own their keys: ``data_name``, ``data_folder_source``, ``data_zip``, ...

Gotcha: an outcome is tied to the uploaded file it came from (its file id). The uploader keeps its file across
reruns, and a new file must not show the report (or the data) of an older import: an import replaces the previous
outcome before it starts, so a failed import leaves nothing of an earlier success on screen.
"""
from __future__ import annotations

import streamlit as st

from core.data.folders import DatasetLayoutError, delete_imported
from core.data.zipimport import import_zip
from core.errors import PAGE_ERRORS
from views._datasets_cache import forget_open
from views._storage import clear_storage_usage

ss = st.session_state


def _file_id(upload) -> str:
    return getattr(upload, "file_id", None) or upload.name


def import_upload(upload, name: str) -> None:
    """Import the upload; the outcome (success report or error) REPLACES the previous one, tied to this file."""
    ss.pop("data_import_result", None)
    ss.pop("data_imported_choice", None)  # nothing of an earlier import stays on screen after this one fails
    file_id = _file_id(upload)
    try:
        with st.spinner("Checking and unpacking the archive…"):
            report = import_zip(upload, name)
    except DatasetLayoutError as err:
        ss["data_import_result"] = (file_id, "layout", err.report)
    except PAGE_ERRORS as err:  # a bad archive, the disk budget, unwritable storage: one clear message
        ss["data_import_result"] = (file_id, "error", err)
    else:
        forget_open()  # a name deleted and imported again must not reopen the old images
        clear_storage_usage()
        ss["data_import_result"] = (file_id, "ok", report)
        ss["data_imported_choice"] = report.name


def import_outcome(upload) -> tuple[str, object] | None:
    """``(outcome, report or error)`` of the import of the file now in the uploader; None when there is none
    (no file, or the outcome belongs to an earlier file)."""
    result = ss.get("data_import_result")
    current = _file_id(upload) if upload is not None else None
    if result is None or result[0] != current:
        return None
    return result[1], result[2]


def imported_index(names: list[str]) -> int:
    """Where the imported-data-set picker starts: the set just imported, else the first."""
    chosen = ss.get("data_imported_choice")
    return names.index(chosen) if chosen in names else 0


def confirm_key(name: str) -> str:
    """The delete confirmation's key, by data set: ticking it for A never arms B."""
    return f"data_delete_confirm::{name}"


def delete(name: str) -> None:
    """Delete the imported data set ``name`` (one confirmation, one click) and leave a message for the next rerun.
    Raises PAGE_ERRORS (the confirmation is used up either way)."""
    ss.pop(confirm_key(name), None)  # one confirmation, one click
    delete_imported(name)
    forget_open()
    clear_storage_usage()
    ss.pop("data_imported_choice", None)
    ss.pop("data_import_result", None)
    ss["data_flash"] = f"Deleted the data set {name}."


def pop_flash() -> str | None:
    """The message the last delete left, once."""
    return ss.pop("data_flash", None)
