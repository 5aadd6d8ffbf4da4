"""The Train page's live view of one run: its state, progress, Cancel / Resume, the curves and, once it has
finished, its results (views/_results.py). Drawn from the run folder at every poll, so a refresh, another tab or
a restarted app shows the same thing.

Two fragments poll the folder: the status line and progress bar every 2 s, the three Plotly curves every
:data:`CURVES_EVERY_S`. Gotcha: a fragment redraws only itself, so when the run ends the status fragment reruns
the whole page (results appear, polling stops).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import PAGE_ERRORS
from core.runs import launcher, results, store
from core.train.params import describe_config
from views._identity import Viewer
from views._results import render_results
from views._widgets import show_error

CURVES_EVERY_S = 6  # seconds between two redraws of the live curves (the progress bar: every 2 s)


def live_view(run_dir: Path, viewer: Viewer) -> None:
    """The run in ``run_dir`` as it is now, polling while it is queued or running."""
    view = results.load_view(run_dir)
    active = view.active

    @st.fragment(run_every=2 if active else None)
    def live() -> None:
        v = results.load_view(run_dir)
        state = v.status.get("state")
        icon = {"running": ":material/directions_run:", "queued": ":material/hourglass_top:",
                "completed": ":material/check_circle:", "cancelled": ":material/stop_circle:",
                "failed": ":material/error:", "interrupted": ":material/warning:"}.get(state, "")
        st.subheader(f"{icon} Run `{run_dir.name}` — {state}")
        st.caption(describe_config(v.config))
        # the worker's messages repeat typed folder paths and file names: shown as plain text, never as Markdown
        message = v.status.get("message")
        if state == "failed":
            st.error("The run failed:" if message else "The run failed.", icon=":material/error:")
            if message:
                st.text(message)
        elif state == "interrupted":
            st.warning(results.plain_markdown(message or "the worker stopped"), icon=":material/warning:")
        elif message and state in store.ACTIVE_STATES and not v.train:
            st.info(results.plain_markdown(message))
        if state in store.ACTIVE_STATES:  # once finished, the results section shows them
            for warning in results.split_warnings(v):
                st.warning(warning, icon=":material/warning:")
        prog = v.progress()
        st.progress(prog["fraction"], text=prog["text"])
        cols = st.columns([1, 1, 4])
        if not viewer.may_act(v.status.get("owner")):
            st.caption("You are watching a run started by " + ("another browser" if v.status.get("owner") else
                       "nobody (an older run, or the command line)") + ": only the browser that started it, or the "
                       "instructor, can cancel or resume it.")
        elif state in store.ACTIVE_STATES:
            if cols[0].button("Cancel", key="train_cancel", help="stops within seconds and saves a checkpoint"):
                launcher.cancel(run_dir)
                st.toast("Stop requested: the run saves a checkpoint and stops.")
        elif store.can_resume(v.status):
            if cols[0].button("Resume", key="train_resume", help="continue from the last checkpoint"):
                try:
                    launcher.resume(run_dir)
                    st.rerun()
                except PAGE_ERRORS as err:
                    show_error(err)
        if active and state not in store.ACTIVE_STATES:
            st.rerun()  # the run just ended: redraw the whole page (curves, results, no more polling)

    # The curves poll less often than the progress bar: redrawing three Plotly charts costs the browser and
    # the server CPU time that, on a 2-core machine, the training run would otherwise get.
    @st.fragment(run_every=CURVES_EVERY_S if active else None)
    def curves() -> None:
        v = results.load_view(run_dir)
        if v.train:
            c1, c2, c3 = st.columns(3)
            c1.plotly_chart(results.curves_figure(v, "loss"), config=results.PLOTLY_CONFIG, key="train_fig_loss")
            c2.plotly_chart(results.curves_figure(v, "acc"), config=results.PLOTLY_CONFIG, key="train_fig_acc")
            c3.plotly_chart(results.curves_figure(v, "lr"), config=results.PLOTLY_CONFIG, key="train_fig_lr")

    live()
    curves()
    if not active:
        render_results(view, "train")
