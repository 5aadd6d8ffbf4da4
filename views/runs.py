"""Runs: every training run on this machine — status, duration, accuracy; compare curves; resume; delete.

Everyone sees every run; only the browser that started a run (or the instructor) may cancel, resume or delete it
(core/runs/owners.py). The table is served by the run store's index and shows one page of runs at a time, so a
long history costs a rerun nothing.
"""
from __future__ import annotations

import math

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.errors import PAGE_ERRORS
from core.runs import launcher, owners, results, store
from views import _runs_state as state
from views._identity import TOKEN_PARAM, ensure_identity, identity_sidebar
from views._distill_results import render_run_extras
from views._results import render_results
from views._storage import storage_panel
from views._widgets import show_error

st.title("Runs")
st.markdown(
    "Every training run is a folder on disk with its settings, metrics and checkpoints, so nothing is lost when "
    "you close the browser or restart the app. A run whose process died (machine restart, killed) shows as "
    "**interrupted** and continues from its last checkpoint when you resume it. Compare runs to see what a "
    "setting changed: pretrained vs. scratch, augmentation vs. none, a bigger learning rate…"
)
viewer = ensure_identity()
identity_sidebar(viewer)


def _row(r: dict) -> dict:
    return {
        "run": r["id"], "status": r["state"], "owner": owners.owner_label(r.get("owner"), viewer.owner),
        "architecture": r["arch"], "data set": r["dataset"], "mode": r["mode"],
        "progress": f"{r['step']}/{r['total_steps'] or '?'}",
        "compute time": results.format_seconds(r["duration_s"]) if r["duration_s"] else "—",
        "wall time": results.format_seconds(r["wall_s"]) if r["wall_s"] else "—",
        # text with the image count ("100.0 % of 2"): a bare 100 % on two images looks trustworthy
        "best val acc": results.format_acc(r["best_val_acc"], r["best_val_n"]),
        "test acc": results.format_acc(r["test_acc"], r["test_n"]),
    }


def _act(action, path: str, done: str) -> None:
    """Resume: on success a toast and a fresh page, on a refusal the reason (never a traceback)."""
    try:
        state.check_owner(path, viewer)
        action(path)
    except PAGE_ERRORS as err:
        show_error(err)
        return
    st.toast(done)
    st.rerun()


runs = store.list_runs()  # the index: a warm call opens no finished run's files
any_active = any(r["state"] in store.ACTIVE_STATES for r in runs)

if runs:
    f = st.columns([1.4, 2.6, 2], vertical_alignment="bottom")
    f[0].radio("Show", ["all", "mine"], key="runs_filter_owner", horizontal=True,
               format_func={"all": "Everyone's runs", "mine": "My runs"}.get)
    f[1].multiselect("State", list(store.STATES), key="runs_filter_state", placeholder="every state")
shown = state.filtered(runs, viewer)
n_pages = max(1, math.ceil(len(shown) / state.PAGE_SIZE))
state.clamp_page(n_pages)


@st.fragment(run_every=3 if any_active else None)
def table() -> None:
    current = store.list_runs()
    if not current:
        st.info("No runs yet: start one on the Train page.")
        return
    rows = state.page_of(state.filtered(current, viewer))
    if not rows:
        st.info("No run matches these filters.")
    else:
        st.dataframe([_row(r) for r in rows], hide_index=True, key="runs_table")
    if any_active and not any(r["state"] in store.ACTIVE_STATES for r in current):
        st.rerun()


table()
if not runs:
    st.markdown("[Go to the Train page](train)")
    st.stop()
if n_pages > 1:
    f[2].caption(f"{len(shown):,} runs, {state.PAGE_SIZE} a page")
    st.pagination(n_pages, key="runs_page")
storage_panel("runs")  # what uses the server's storage, next to the runs that hold most of it

by_id = {r["id"]: r for r in runs}
# The pickers offer the runs of the table's page (plus what is already picked): a long history does not make
# every rerun send thousands of options.
ids = [r["id"] for r in state.page_of(shown)]
state.prune_pickers(runs, ids)  # a run deleted meanwhile (here or in another tab) must not linger in the widgets

st.subheader("Compare")
chosen = st.multiselect("Runs to compare", state.compare_choices(ids), key="runs_compare")
if chosen:
    views = {rid: results.load_view(by_id[rid]["path"]) for rid in chosen}
    c1, c2 = st.columns(2)
    c1.plotly_chart(results.compare_figure(views, "acc", "val"), config=results.PLOTLY_CONFIG, key="runs_fig_acc")
    c2.plotly_chart(results.compare_figure(views, "loss", "train"), config=results.PLOTLY_CONFIG, key="runs_fig_loss")

st.subheader("Manage a run")
rid = st.selectbox("Run", state.manage_choices(ids), key="runs_selected", placeholder="Choose a run",
                   on_change=state.disarm_delete)
flash = state.pop_flash()
if flash:
    if flash[0] == "ok":
        st.success(results.plain_markdown(flash[1]))
    else:
        show_error(flash[1])
if rid is None:
    st.stop()
run = by_id[rid]


@st.fragment(run_every=2 if run["state"] in store.ACTIVE_STATES else None)
def status_caption() -> None:
    """Polls while the selected run is queued or running ("queued — resuming" must not stay once it runs)."""
    now = store.run_summary(run["path"])
    st.caption(f"Status: **{now['state']}** · started by {owners.owner_label(now.get('owner'), viewer.owner)}")
    if now.get("message"):  # repeats typed folder paths and file names: plain text, never Markdown
        st.text(now["message"])
    if now["state"] != run["state"]:
        st.rerun()  # another state offers other buttons (Cancel → Resume / Delete) and maybe results


status_caption()
a = st.columns([1.2, 1, 1.6, 1.6, 1.6], vertical_alignment="center")
try:  # same tab; the Train page stops polling once the run has finished
    a[0].page_link("views/train.py", label="Open in Train", icon=":material/model_training:",
                   query_params={"run": rid, TOKEN_PARAM: viewer.token})
except StreamlitAPIException:  # this page run on its own, outside app.py's navigation (AppTest)
    a[0].markdown(f"[Open in Train](train?run={rid}&{TOKEN_PARAM}={viewer.token})")
if not viewer.may_act(run.get("owner")):
    st.caption("Started by " + ("another browser" if run.get("owner") else "nobody (an older run, or the command line)")
               + ": you can open, compare and download it; only the browser that started it, or the instructor, "
               "can cancel, resume or delete it.")
else:
    if run["can_resume"]:  # not after a failure that the same settings would repeat (missing weights)
        if a[1].button("Resume", key="runs_resume", help="continue from the last checkpoint"):
            _act(launcher.resume, run["path"], f"Resuming {rid}")
    if run["state"] in store.ACTIVE_STATES:
        if a[1].button("Cancel", key="runs_cancel"):
            try:
                state.check_owner(run["path"], viewer)
                launcher.cancel(run["path"])
                st.toast("Stop requested.")
            except PAGE_ERRORS as err:
                show_error(err)
    else:
        # keyed by run id and cleared on every delete and selection change: one tick arms one click for one run
        confirm = a[2].checkbox("I want to delete it", key=f"{state.CONFIRM_PREFIX}{rid}",
                                help="removes the folder with its checkpoints and metrics")
        a[3].button("Delete run", key="runs_delete", disabled=not confirm, on_click=state.on_delete,
                    args=(rid, run["path"], viewer))

finished = results.load_view(run["path"])
if finished.test is not None and not finished.active:
    st.subheader("Results")
    render_results(finished, "runs")
render_run_extras(finished, "runs")  # distillation and self-training runs: their own views (nothing for others)
