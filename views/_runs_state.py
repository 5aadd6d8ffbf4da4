"""The Runs page's session state: table filters and page, the two run pickers, the delete confirmation and the
one-shot message a delete leaves. The only code that writes ``st.session_state`` for that page.

Keys: ``runs_filter_owner`` ("all" / "mine"), ``runs_filter_state`` (list of states), ``runs_page`` (1-based),
``runs_selected`` (a run id or None), ``runs_compare`` (run ids), ``runs_confirm_delete_<id>`` (one tick per run)
and ``runs_flash`` (``("ok", text)`` or ``("error", exception)``, shown once).

Gotcha: a run may vanish between two reruns (deleted here or in another tab), so every rerun prunes the pickers'
values against the run list before the widgets are drawn; a deleted selection becomes None, never another run
(one that slid into its place could be deleted by the next click).
"""
from __future__ import annotations

import math

import streamlit as st

from core.errors import PAGE_ERRORS
from core.runs import launcher, owners, results, store
from views._identity import Viewer
from views._storage import clear_storage_usage

PAGE_SIZE = 20  # table rows per page
CONFIRM_PREFIX = "runs_confirm_delete_"
ss = st.session_state


def filtered(runs: list[dict], viewer: Viewer) -> list[dict]:
    """The runs the filters above the table let through: mine or everyone's, and the chosen states."""
    if ss.get("runs_filter_owner") == "mine":
        runs = [r for r in runs if r.get("owner") == viewer.owner]
    states = ss.get("runs_filter_state") or []
    return [r for r in runs if r["state"] in states] if states else runs


def page_of(runs: list[dict]) -> list[dict]:
    """The rows of the table's current page."""
    page = min(int(ss.get("runs_page") or 1), max(1, math.ceil(len(runs) / PAGE_SIZE)))
    return runs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]


def clamp_page(n_pages: int) -> None:
    """Fewer pages after a filter or a delete: the page number moves inside them."""
    if int(ss.get("runs_page") or 1) > n_pages:
        ss["runs_page"] = n_pages


def prune_pickers(runs: list[dict], ids: list[str]) -> None:
    """Set up (first visit) or prune (a run deleted meanwhile) the "Manage a run" and "Runs to compare" values.
    ``ids``: the runs of the table's page, the first one selected on a first visit."""
    by_id = {r["id"] for r in runs}
    if "runs_selected" not in ss:
        ss["runs_selected"] = ids[0] if ids else None
    elif ss["runs_selected"] not in (None, *by_id):
        ss["runs_selected"] = None  # gone: select nothing rather than silently another run
    # the widget's value lives in session state only (a default as well would make Streamlit warn)
    ss["runs_compare"] = ([i for i in ss["runs_compare"] if i in by_id] if "runs_compare" in ss
                          else results.default_comparison(runs))


def compare_choices(ids: list[str]) -> list[str]:
    """The "Runs to compare" options: the runs already picked, then the table page's runs."""
    return list(dict.fromkeys([*ss["runs_compare"], *ids]))


def manage_choices(ids: list[str]) -> list[str]:
    """The "Manage a run" options: the table page's runs, plus the selected run when it is on another page."""
    selected = ss["runs_selected"]
    return [*ids, *([selected] if selected and selected not in ids else [])]


def pop_flash() -> tuple[str, object] | None:
    """The message the last delete left, once."""
    return ss.pop("runs_flash", None)


def check_owner(path: str, viewer: Viewer) -> None:
    """Raise NotYourRun unless this browser may act on the run (read afresh: the button was drawn earlier)."""
    owners.check_may_act(store.run_summary(path).get("owner"), viewer.owner, viewer.instructor,
                         run_id=path.rstrip("/").rsplit("/", 1)[-1])


def disarm_delete() -> None:
    """Clear every delete confirmation (on every delete and every change of the selected run)."""
    for key in [k for k in ss if str(k).startswith(CONFIRM_PREFIX)]:
        del ss[key]


def on_delete(rid: str, path: str, viewer: Viewer) -> None:
    """Delete button callback: it deletes the run the button was drawn for, then selects nothing (no run
    slides into the freed place) and clears every confirmation tick."""
    if not ss.get(f"{CONFIRM_PREFIX}{rid}"):
        return
    disarm_delete()
    try:
        check_owner(path, viewer)
        launcher.delete(path)
    except PAGE_ERRORS as err:
        ss["runs_flash"] = ("error", err)
        return
    clear_storage_usage()
    ss["runs_selected"] = None
    ss["runs_flash"] = ("ok", f"Deleted {rid}.")
