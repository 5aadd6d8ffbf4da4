"""The lesson pages' session state: the one place that writes their results into ``st.session_state``.

Keys (one browser session each): ``depth_result`` / ``depth_aux`` (Depth), ``fcc_result`` (FC vs conv),
``knn_result`` (k-NN), and for Shortcut learning ``sc_group`` (the group file this session started) plus
``sc_result`` / ``sc_result_group`` (the evaluated group and which group it belongs to). A lesson result is a
plain dataclass from :mod:`core.lessons`; the pages read it back with :func:`result`.

Gotcha: a lesson runs inside the page's script (a click reruns it), so :func:`run_lesson` stores the result only
when the whole call finished: an error leaves the previous result on screen and says what went wrong.
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from core.budget import memory_guard
from core.errors import PAGE_ERRORS
from core.lessons import shortcut as sc
from core.runs import store
from views._widgets import show_error

ss = st.session_state


def result(key: str) -> Any:
    """The result stored under ``key``, or None before the first run."""
    return ss.get(key)


def run_lesson(key: str, step: str, lesson: Callable[..., Any], *args, **kwargs) -> None:
    """Call ``lesson(*args, **kwargs, progress=...)`` under a progress bar and store its result under ``key``.

    ``step`` names the work in an out-of-memory message (:func:`core.budget.memory_guard`). Errors the pages
    show (:data:`core.errors.PAGE_ERRORS`) are shown here; anything else is a bug and propagates."""
    try:
        bar = st.progress(0.0, text="starting")
        with memory_guard(step):
            ss[key] = lesson(*args, **kwargs, progress=lambda f, m: bar.progress(min(1.0, f), text=m))
        bar.empty()
    except PAGE_ERRORS as err:
        show_error(err)


def run_once(key: str, step: str, spinner: str, measure: Callable[[], Any]) -> None:
    """Call ``measure()`` under a spinner (no progress to report) and store its result under ``key``."""
    try:
        with st.spinner(spinner), memory_guard(step):
            ss[key] = measure()
    except PAGE_ERRORS as err:
        show_error(err)


# ------------------------------------------------------------------------------------------ shortcut learning
def start_shortcut_group(settings: sc.ShortcutSettings, owner: str | None) -> None:
    """Start the three runs owned by this browser and remember their group (the old comparison is dropped)."""
    try:
        with store.owned_by(owner):  # the runs record this browser as their owner
            ss["sc_group"] = str(sc.start_shortcut(settings).path)
        ss.pop("sc_result", None)
    except PAGE_ERRORS as err:
        show_error(err)


def shortcut_group(owner: str | None) -> sc.ShortcutGroup | None:
    """The group this session started, else this browser's latest one; None when there is none (a group file
    that cannot be read is shown as an error and forgotten, so the page offers a new start)."""
    try:
        return sc.load_group(ss["sc_group"]) if ss.get("sc_group") else sc.latest_group(owner)
    except PAGE_ERRORS as err:  # e.g. the group file was deleted
        show_error(err)
        ss.pop("sc_group", None)
        return None


def shortcut_result(group: sc.ShortcutGroup) -> sc.ShortcutLesson | None:
    """The evaluated comparison of ``group``: computed once per group and kept; None (error shown) on failure."""
    res = ss.get("sc_result")
    if res is not None and ss.get("sc_result_group") == group.id:
        return res
    try:
        with st.spinner("Testing the three networks on unbiased images (and the Grad-CAM pointing game)…"), \
                memory_guard("testing the networks"):
            res = sc.shortcut_results(group)
    except PAGE_ERRORS as err:
        show_error(err)
        return None
    ss["sc_result"], ss["sc_result_group"] = res, group.id
    return res
