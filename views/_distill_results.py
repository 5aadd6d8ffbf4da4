"""A distillation or self-training run's own views, for any page that shows one run (the Runs page).

``render_run_extras(view, key)`` draws nothing for other runs. Distillation: the loss split into its CE and KD
parts, the teacher's and the student's curves on one chart and, once the student is finished, their top-1
agreement and per-class accuracy. Self-training: test accuracy per stage against the labelled-only teacher,
pseudo-label accuracy and share kept per round, and one round's confidence histogram and kept-per-class bars.
Figures come from core.runs.distill_figures; numbers from the run folders. ``pct`` and the cached ``agreement``
are shared with the Distill page's own views (views/_distill_live.py, views/_distill_measured.py).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import PAGE_ERRORS
from core.runs import distill_figures as figs
from core.runs import results, store
from core.train.selftrain import stages_summary
from views._widgets import show_error


def pct(x: float | None) -> str:
    """An accuracy in [0, 1] as "83.4 %", or "–" when there is none."""
    return "–" if x is None else f"{100 * x:.1f} %"


@st.cache_data(max_entries=16, show_spinner="Comparing teacher and student on the test images…")
def agreement(teacher: str, student: str, stamp: float) -> dict:  # stamp: a redone run is new
    """figs.agreement of two run folders, cached for all sessions (the Distill and the Runs page share it)."""
    return figs.agreement(teacher, student)


def render_run_extras(view: results.RunView, key: str = "runs") -> None:
    """The extra views of ``view``'s run when it distils or self-trains; nothing otherwise. ``key`` prefixes
    widget keys (one page may show it once)."""
    objective = view.config.get("objective")
    if objective == "distill":
        _distill(view, key)
    elif objective == "self_train":
        _self_train(view, key)


def _distill(view: results.RunView, key: str) -> None:
    st.subheader("Distillation")
    teacher = view.config.get("teacher") or ""
    t = view.config
    st.caption(f"Teacher: `{teacher}` · T = {t.get('temperature')} · α = {t.get('alpha')} "
               "(loss = α·T²·KL(teacher_T ‖ student_T) + (1 − α)·cross-entropy)")
    teacher_dir = Path(teacher)
    is_run = bool(teacher) and (teacher_dir / store.CONFIG_FILE).is_file()
    c1, c2 = st.columns(2)
    if view.train:
        c1.plotly_chart(figs.loss_parts_figure(view), config=results.PLOTLY_CONFIG, key=f"{key}_kd_fig_parts")
    if is_run:
        both = {"teacher": results.load_view(teacher_dir), "student": view}
        c2.plotly_chart(figs.overlay_figure(both, "acc"), config=results.PLOTLY_CONFIG, key=f"{key}_kd_fig_curves")
    elif teacher:
        c2.caption("The teacher is not a run folder here (a pretrained model, or its run was deleted): no teacher "
                   "curves or agreement.")
    if not (is_run and view.status.get("state") == "completed"):
        return
    try:
        a = agreement(str(teacher_dir), str(view.run_dir), (view.run_dir / store.METRICS_FILE).stat().st_mtime)
    except PAGE_ERRORS as err:
        show_error(err)
        return
    m = st.columns(3)
    m[0].metric("Teacher test accuracy", pct(a["teacher_acc"]))
    m[1].metric("Student test accuracy", pct(a["student_acc"]),
                f"{100 * (a['student_acc'] - a['teacher_acc']):+.1f} points vs the teacher")
    m[2].metric("Agreement with the teacher", pct(a["agreement"]),
                help=f"top-1 match rate on {a['n']} test images, right or wrong")
    st.plotly_chart(figs.per_class_pair_figure(a["classes"], {"teacher": a["teacher_per_class"],
                                                              "student": a["student_per_class"]}),
                    config=results.PLOTLY_CONFIG, key=f"{key}_kd_fig_per_class")


def _self_train(view: results.RunView, key: str) -> None:
    st.subheader("Self-training stages")
    stages = stages_summary(view.run_dir)
    if not stages:
        st.caption("No stage has started yet.")
        return
    done = [s for s in stages if s["test_acc"] is not None]
    c1, c2 = st.columns(2)
    if done:
        c1.plotly_chart(figs.stages_figure(stages), config=results.PLOTLY_CONFIG, key=f"{key}_st_fig_stages")
    rounds = [s for s in stages if s["pseudo"]]
    if rounds:
        c2.plotly_chart(figs.pseudo_rounds_figure(stages), config=results.PLOTLY_CONFIG, key=f"{key}_st_fig_rounds")
    if len(done) >= 2 and done[0]["stage"] == 0:
        gain = done[-1]["test_acc"] - done[0]["test_acc"]
        st.markdown(f"Stage {done[-1]['stage']} scores {pct(done[-1]['test_acc'])} on the test images, the "
                    f"labelled-only teacher {pct(done[0]['test_acc'])}: **{100 * gain:+.1f} points**.")
    if not rounds:
        return
    pick = st.selectbox("Pseudo-labels of stage", [s["stage"] for s in rounds], index=len(rounds) - 1,
                        key=f"{key}_st_stage")
    p = next(s for s in rounds if s["stage"] == pick)["pseudo"]
    classes = view.classes or [str(k) for k in range(len(p["kept_per_class"]))]
    c1, c2 = st.columns(2)
    c1.plotly_chart(figs.confidence_figure(p), config=results.PLOTLY_CONFIG, key=f"{key}_st_fig_conf")
    c2.plotly_chart(figs.kept_figure(p, classes), config=results.PLOTLY_CONFIG, key=f"{key}_st_fig_kept")
