"""The Distill page's live views of the runs it started (named in the address bar, see views/_distill_state.py):
the default teacher's progress, the student with and without KD side by side, and a self-training run stage by
stage with its pseudo-labels. Each polls its run folders in a fragment while a run is active and redraws the whole
page once the last one ends (its results appear).

Numbers come from the run folders; figures from core.runs.distill_figures. Gotcha: the KD pair is compared on
the test images by re-running both students and the teacher (figs.agreement), cached by the run folder's
modification time so a redone run is measured again.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import PAGE_ERRORS
from core.runs import distill_figures as figs
from core.runs import results, store
from core.train.selftrain import stages_summary
from views._distill_results import agreement, pct
from views._widgets import show_error

POLL_S = 3


def status_line(view: results.RunView, label: str) -> None:
    """One run's progress bar, with its failure message or its current phase."""
    state = view.status.get("state")
    prog = view.progress()
    st.progress(prog["fraction"], text=f"{label}: {state} · {prog['text']}")
    if state == "failed":
        st.error(view.status.get("message") or "the run failed")
    elif state in store.ACTIVE_STATES and view.phase and not view.train:
        st.caption(view.phase.get("message") or "")


@st.cache_data(max_entries=8, show_spinner=False)
def _kept_examples(run_dir: str, stage: int) -> list[dict]:
    p = next(s for s in stages_summary(run_dir) if s["stage"] == stage)["pseudo"]
    return figs.kept_examples(run_dir, p)


def teacher_view(t_run: Path) -> None:
    """The default teacher's progress while it trains."""
    view = results.load_view(t_run)

    @st.fragment(run_every=POLL_S if view.active else None)
    def teacher_progress() -> None:
        v = results.load_view(t_run)
        status_line(v, "teacher")
        if view.active and not v.active:
            st.rerun()

    teacher_progress()


def kd_pair_view(kd_run: Path, plain_run: Path) -> None:
    """The student with and without KD: curves while they train, then accuracy, agreement and per-class bars."""
    first = {"with KD": results.load_view(kd_run), "without KD": results.load_view(plain_run)}
    any_active = any(v.active for v in first.values())

    @st.fragment(run_every=POLL_S if any_active else None)
    def kd_live() -> None:
        views = {name: results.load_view(p) for name, p in (("with KD", kd_run), ("without KD", plain_run))}
        for name, v in views.items():
            status_line(v, f"student {name}")
        c1, c2 = st.columns(2)
        c1.plotly_chart(figs.overlay_figure(views, "acc"), key="distill_fig_acc")
        c2.plotly_chart(figs.overlay_figure(views, "loss"), key="distill_fig_loss")
        if any_active and not any(v.active for v in views.values()):
            st.rerun()

    kd_live()
    views = {name: results.load_view(p) for name, p in (("with KD", kd_run), ("without KD", plain_run))}
    if all(v.status.get("state") == "completed" for v in views.values()):
        teacher_dir = views["with KD"].config.get("teacher")
        try:
            a_kd = agreement(teacher_dir, str(kd_run), kd_run.stat().st_mtime)
            a_plain = agreement(teacher_dir, str(plain_run), plain_run.stat().st_mtime)
        except PAGE_ERRORS as err:
            show_error(err)
        else:
            m = st.columns(4)
            m[0].metric("Teacher test accuracy", pct(a_kd["teacher_acc"]))
            m[1].metric("Student with KD", pct(a_kd["student_acc"]),
                        f"{100 * (a_kd['student_acc'] - a_plain['student_acc']):+.1f} points vs without")
            m[2].metric("Student without KD", pct(a_plain["student_acc"]))
            m[3].metric("Agreement with the teacher (KD / no KD)",
                        f"{pct(a_kd['agreement'])} / {pct(a_plain['agreement'])}",
                        help="top-1 match rate on the test images, right or wrong")
            diff = a_kd["student_acc"] - a_plain["student_acc"]
            verdict = ("helped" if diff > 0 else "did not help") + f" here ({100 * diff:+.1f} points on "
            verdict += f"{a_kd['n']} test images, one seed; `python -m bench.distill` repeats it over seeds)"
            st.markdown(f"**Distillation {verdict}.**")
            st.plotly_chart(figs.per_class_pair_figure(a_kd["classes"], {
                "teacher": a_kd["teacher_per_class"], "student with KD": a_kd["student_per_class"],
                "student without KD": a_plain["student_per_class"]}), key="distill_fig_per_class")


def self_train_view(st_run: Path) -> None:
    """A self-training run: curves and test accuracy per stage, then one stage's pseudo-labels and the verdict."""
    st_active = results.load_view(st_run).active

    @st.fragment(run_every=POLL_S if st_active else None)
    def st_live() -> None:
        v = results.load_view(st_run)
        status_line(v, f"self-training {st_run.name}")
        if v.active and v.phase:
            st.caption(v.phase.get("message") or "")
        stages = stages_summary(st_run)
        c1, c2 = st.columns(2)
        if v.train:
            c1.plotly_chart(results.curves_figure(v, "acc", x_title="stage (0 = labelled-only teacher)"),
                            key="st_fig_curves")
        if any(s["test_acc"] is not None for s in stages):
            c2.plotly_chart(figs.stages_figure(stages), key="st_fig_stages")
        if st_active and not v.active:
            st.rerun()

    st_live()
    view = results.load_view(st_run)
    stages = stages_summary(st_run)
    with_pseudo = [s for s in stages if s["pseudo"]]
    if with_pseudo:
        pick = st.selectbox("Pseudo-labels of stage", [s["stage"] for s in with_pseudo],
                            index=len(with_pseudo) - 1, key="st_stage")
        p = next(s for s in with_pseudo if s["stage"] == pick)["pseudo"]
        m = st.columns(4)
        m[0].metric("Pool (unlabelled)", f"{p['n_pool']:,}")
        m[1].metric("Kept (≥ threshold)", f"{p['n_kept']:,}")
        m[2].metric("Pseudo-label accuracy, kept", pct(p["acc_kept"]),
                    help="measured with the pool's hidden true labels, never used for training")
        m[3].metric("Pseudo-label accuracy, whole pool", pct(p["acc_pool"]))
        c1, c2 = st.columns(2)
        c1.plotly_chart(figs.confidence_figure(p), key="st_fig_conf")
        c2.plotly_chart(figs.kept_figure(p, view.classes or [str(k) for k in range(len(p["kept_per_class"]))]),
                        key="st_fig_kept")
        examples = _kept_examples(str(st_run), pick)
        if examples:
            st.markdown("**Kept pool images** (the teacher's label and confidence; its mistakes say which true "
                        "class they are)")
            cols = st.columns(8)
            for i, e in enumerate(examples):
                cols[i % 8].image(e["image"], caption=e["caption"], width="stretch")
    done = [s for s in stages if s["test_acc"] is not None]
    K = len(view.classes) or 1
    if done and done[0]["stage"] == 0 and done[0]["test_acc"] < 1.5 / K:
        st.warning(f"The labelled-only teacher scores {pct(done[0]['test_acc'])}, close to guessing "
                   f"({pct(1 / K)} for {K} classes): most of its pseudo-labels will be wrong, and a student "
                   "cannot learn more than they say. Give it more labelled images per class (or more epochs).")
    if view.status.get("state") == "completed" and len(done) >= 2:
        gain = done[-1]["test_acc"] - done[0]["test_acc"]
        duration = store.run_summary(st_run).get("duration_s")
        kept = sum((s["pseudo"] or {}).get("n_kept", 0) for s in stages)
        verdict = ("helped" if gain > 0 else "did not help") if kept else "had nothing to learn from"
        st.markdown(f"**Self-training {verdict} here**: the last student scores {pct(done[-1]['test_acc'])} "
                    f"on the test images, the labelled-only teacher {pct(done[0]['test_acc'])} "
                    f"({100 * gain:+.1f} points, one seed)"
                    + (f"; the whole run took {results.format_seconds(duration)} on this machine." if duration
                       else "."))
        if not kept:
            st.caption("No pseudo-label passed the threshold, so every student trained on the labelled images "
                       "alone: the difference is a new start with more noise, not self-training.")
