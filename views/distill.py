"""Distill & self-train: learn from a teacher instead of (only) from labels, and see whether it helped.

Knowledge distillation (Hinton et al. 2015) starts a student twice, with and without the teacher, same budget.
Self-training (Noisy Student, Xie et al. 2020) starts one run whose stages are teacher → student → student.
Runs execute in worker processes (core.runs.launcher); the page polls their folders (run ids in the URL).
"""
from __future__ import annotations

import time

import streamlit as st

from core.errors import PlaygroundError
from core.models import ARCHITECTURES
from core.runs import distill_figures as figs
from core.runs import launcher, results, store
from core.train.config import TrainConfig, field_help
from core.train.losses import KD_STUDENT_EPOCHS, kd_pair
from core.train.selftrain import SELF_TRAIN_DEFAULTS, estimate_self_train, self_train_config, stages_summary
from views._widgets import run_from_url, show_error

HELP = field_help()
POLL_S = 3
ss = st.session_state

st.title("Distill & self-train")
st.markdown(
    "Labels are expensive; a trained network is cheap to ask. **Knowledge distillation** trains a *student* to "
    "match a *teacher*'s softened probabilities (its \"dark knowledge\": which wrong classes look alike) as well "
    "as the labels. **Self-training** lets a teacher trained on a few labels label the rest, keeps its confident "
    "guesses, and trains a noised student on them, which then becomes the next teacher. Each experiment below "
    "runs its own baseline, so you see whether it helped, here, on this data."
)


def _status_line(view: results.RunView, label: str) -> None:
    state = view.status.get("state")
    prog = view.progress()
    st.progress(prog["fraction"], text=f"{label}: {state} · {prog['text']}")
    if state == "failed":
        st.error(view.status.get("message") or "the run failed")
    elif state in store.ACTIVE_STATES and view.phase and not view.train:
        st.caption(view.phase.get("message") or "")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _measured_note(m: dict, what: str) -> str:
    return (f"Measured with `python -m bench.distill` on {m.get('measured', '?')} ({len(m['seeds'])} seeds, "
            f"{m.get('cpus', '?')} CPU cores, {m.get('jobs', 1)} run(s) at a time): {what}")


def _measured(part: str) -> dict | None:
    """The bench's figures for ``part`` of bench/results/distill.json, or None (with a note saying how to get them)."""
    m = figs.measured().get(part)
    if not m:
        st.caption("Not measured over seeds yet: `python -m bench.distill` writes bench/results/distill.json.")
    return m or None


def _measured_kd() -> None:
    if not (m := _measured("kd")):
        return
    s = m["setting"]
    st.markdown(f"**Measured at these defaults** (teacher: {s['teacher']}, {_pct(s['teacher_test_acc'])} test; "
                f"student {ARCHITECTURES[s['student']].title}, {s['student_epochs']} epochs, T = {s['temperature']:g}, "
                f"α = {s['alpha']:g}): distillation **{figs.verdict(m['diff'])}** (mean ± standard deviation "
                "over seeds).")
    st.dataframe(figs.measured_kd_rows(m), hide_index=True, key="distill_measured")
    st.caption(_measured_note(m, "CPU time is the run's own process time with one thread, about its duration "
                              "on an idle machine (the teacher's forward is the difference)."))


def _measured_st() -> None:
    if not (m := _measured("self_train")):
        return
    s = m["setting"]
    st.markdown(f"**Measured at these defaults** ({s['labelled_per_class']} labelled images per class, threshold "
                f"{s['threshold']:g}, {s['iterations']} student generations, ≤ {s['max_steps']} steps per stage): "
                f"self-training **{figs.verdict(m['gain'])}** — last student minus the stage-0 teacher "
                f"{100 * m['gain']['mean']:+.1f} ± {100 * m['gain']['sd']:.1f} points.")
    st.dataframe(figs.measured_selftrain_rows(m), hide_index=True, key="st_measured")
    kept = [a for a in m.get("acc_kept", []) if a]
    if figs.verdict(m["gain"]) != "helped" and kept:
        st.markdown(f"The kept pseudo-labels were {_pct(min(a['mean'] for a in kept))}–"
                    f"{_pct(max(a['mean'] for a in kept))} right: the wrong rest are training labels too, and a "
                    "student learns the teacher's mistakes as facts (confirmation bias). A higher threshold keeps "
                    "fewer, cleaner ones; the confidence histogram of a run shows where it cuts.")
    control = figs.measured().get("self_train_control")
    effect = figs.pseudo_label_effect(m, control) if control else None
    if effect:
        c_gain = control["gain"]
        st.markdown(f"**Control**: the same first student with the same noise (RandAugment) but no pseudo-label "
                    f"(threshold 1.0) scores {100 * c_gain['mean']:+.1f} ± {100 * c_gain['sd']:.1f} points against "
                    f"the teacher. The pseudo-labels themselves add {100 * effect['mean']:+.1f} ± "
                    f"{100 * effect['sd']:.1f} points (stage 1 with them minus without, same seeds): "
                    f"they **{figs.verdict(effect)}**.")
    cpu, wall = (m.get("cpu_s") or {}).get("mean"), (m.get("wall_s") or {}).get("mean")
    st.caption(_measured_note(m, (f"a whole run took {results.format_seconds(cpu)} of CPU time (its own process "
                                  "time with one thread, about its duration on an idle machine)" if cpu else
                                  "CPU time not recorded")
                              + (f"; wall time on the busy machine {results.format_seconds(wall)}." if wall else ".")))


def _st_config() -> TrainConfig:
    return self_train_config(labelled_per_class=int(ss["st_labelled"]), dataset_options={"n": int(ss["st_n"])},
                             threshold=float(ss["st_threshold"]), class_cap=int(ss["st_cap"]) or None,
                             pseudo_labels=ss["st_mode"], iterations=int(ss["st_iterations"]),
                             epochs=int(ss["st_epochs"]), max_steps=int(ss["st_max_steps"]), seed=int(ss["st_seed"]))


@st.cache_data(max_entries=16, show_spinner="Comparing teacher and student on the test images…")
def _agreement(teacher: str, student: str, stamp: float) -> dict:  # stamp: a redone run is new
    return figs.agreement(teacher, student)


@st.cache_data(max_entries=8, show_spinner=False)
def _kept_examples(run_dir: str, stage: int) -> list[dict]:
    p = next(s for s in stages_summary(run_dir) if s["stage"] == stage)["pseudo"]
    return figs.kept_examples(run_dir, p)


tab_kd, tab_st = st.tabs(["Knowledge distillation", "Self-training (Noisy Student)"])

# ------------------------------------------------------------------ knowledge distillation
with tab_kd:
    teachers = [r for r in store.list_runs() if r["state"] == "completed" and r["has_checkpoint"]]
    if not teachers:
        st.info("Distillation needs a finished run as the teacher. Train one on the **Train** page (its default "
                "preset, LeNet-5 on Shapes, makes a good teacher) or start it here.")
        if st.button("Train the default teacher", key="distill_start_teacher"):
            try:
                st.query_params["teacher"] = launcher.start(TrainConfig.from_preset("shapes-lenet5")).name
            except PlaygroundError as err:
                show_error(err)
        t_run = run_from_url("teacher")
        if t_run is not None:
            view = results.load_view(t_run)

            @st.fragment(run_every=POLL_S if view.active else None)
            def teacher_progress() -> None:
                v = results.load_view(t_run)
                _status_line(v, "teacher")
                if view.active and not v.active:
                    st.rerun()

            teacher_progress()
    else:
        c1, c2 = st.columns(2)
        labels = {r["path"]: f"{r['id']} · {r['arch']} · {r['dataset']} · test {_pct(r['test_acc'])}"
                  for r in teachers}
        teacher = c1.selectbox("Teacher (a finished run)", list(labels), format_func=labels.get,
                               key="distill_teacher")
        t_cfg = store.load_config(teacher)
        archs = list(ARCHITECTURES)
        c1.selectbox("Student architecture", archs, index=archs.index("lenet5"), key="distill_student",
                     format_func=lambda k: ARCHITECTURES[k].title, help="LeNet-5, the zoo's smallest network, by "
                     "default; the student learns on the teacher's data set, image size and validation split")
        c1.number_input("Student epochs (both runs)", 1, 100, KD_STUDENT_EPOCHS, key="distill_epochs",
                        help="the same budget with and without distillation")
        c2.slider("Temperature T", 1.0, 10.0, 4.0, 0.5, key="distill_T", help=HELP["temperature"])
        c2.slider("alpha (weight of the KD term)", 0.0, 1.0, 0.9, 0.05, key="distill_alpha", help=HELP["alpha"])
        c2.number_input("Seed", 0, 2**31 - 1, int(t_cfg.seed), key="distill_seed", help=HELP["seed"])
        st.caption(f"Teacher: {t_cfg.arch} on {t_cfg.dataset} {t_cfg.dataset_options or ''} at {t_cfg.image_size} px. "
                   "Loss = α·T²·KL(teacher_T ‖ student_T) + (1 − α)·cross-entropy; T² keeps the KD gradient's "
                   "size independent of T.")
        if st.button("Start the student with KD and without KD", type="primary", key="distill_start"):
            try:
                kd, plain = kd_pair(teacher, arch=ss["distill_student"], temperature=float(ss["distill_T"]),
                                    alpha=float(ss["distill_alpha"]), epochs=int(ss["distill_epochs"]),
                                    seed=int(ss["distill_seed"]))
                last = ss.get("distill_last_start")
                if not (last and last[0] == kd.to_json() and time.time() - last[1] < 3):  # double click
                    kd.validate()
                    plain.validate()
                    st.query_params["kd"] = launcher.start(kd).name
                    st.query_params["plain"] = launcher.start(plain).name
                    ss["distill_last_start"] = (kd.to_json(), time.time())
            except PlaygroundError as err:
                show_error(err)

    _measured_kd()
    kd_run, plain_run = run_from_url("kd"), run_from_url("plain")
    if kd_run is not None and plain_run is not None:
        first = {"with KD": results.load_view(kd_run), "without KD": results.load_view(plain_run)}
        any_active = any(v.active for v in first.values())

        @st.fragment(run_every=POLL_S if any_active else None)
        def kd_live() -> None:
            views = {name: results.load_view(p) for name, p in (("with KD", kd_run), ("without KD", plain_run))}
            for name, v in views.items():
                _status_line(v, f"student {name}")
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
                a_kd = _agreement(teacher_dir, str(kd_run), kd_run.stat().st_mtime)
                a_plain = _agreement(teacher_dir, str(plain_run), plain_run.stat().st_mtime)
            except PlaygroundError as err:
                show_error(err)
            else:
                m = st.columns(4)
                m[0].metric("Teacher test accuracy", _pct(a_kd["teacher_acc"]))
                m[1].metric("Student with KD", _pct(a_kd["student_acc"]),
                            f"{100 * (a_kd['student_acc'] - a_plain['student_acc']):+.1f} points vs without")
                m[2].metric("Student without KD", _pct(a_plain["student_acc"]))
                m[3].metric("Agreement with the teacher (KD / no KD)",
                            f"{_pct(a_kd['agreement'])} / {_pct(a_plain['agreement'])}",
                            help="top-1 match rate on the test images, right or wrong")
                diff = a_kd["student_acc"] - a_plain["student_acc"]
                verdict = ("helped" if diff > 0 else "did not help") + f" here ({100 * diff:+.1f} points on "
                verdict += f"{a_kd['n']} test images, one seed; `python -m bench.distill` repeats it over seeds)"
                st.markdown(f"**Distillation {verdict}.**")
                st.plotly_chart(figs.per_class_pair_figure(a_kd["classes"], {
                    "teacher": a_kd["teacher_per_class"], "student with KD": a_kd["student_per_class"],
                    "student without KD": a_plain["student_per_class"]}), key="distill_fig_per_class")

# ------------------------------------------------------------------ self-training
with tab_st:
    d = SELF_TRAIN_DEFAULTS
    c1, c2, c3 = st.columns(3)
    c1.number_input("Labelled images per class", 1, 5000, d["labelled_per_class"], key="st_labelled",
                    help=HELP["labelled_per_class"])
    c1.number_input("Shapes images in the training set", 200, 100_000, d["dataset_options"]["n"], step=1000,
                    key="st_n", help="the labelled subset + the unlabelled pool + the validation share (10 %)")
    c2.slider("Confidence threshold", 0.0, 1.0, d["threshold"], 0.05, key="st_threshold", help=HELP["threshold"])
    c2.number_input("Per-class cap (0 = none)", 0, 100_000, 0, key="st_cap", help=HELP["class_cap"])
    c2.radio("Pseudo-labels", ["hard", "soft"], horizontal=True, key="st_mode", help=HELP["pseudo_labels"])
    c3.number_input("Student generations (iterations)", 1, 3, d["iterations"], key="st_iterations",
                    help=HELP["iterations"])
    c3.number_input("Epochs per stage", 1, 500, d["epochs"], key="st_epochs", help=HELP["epochs"])
    c3.number_input("Max steps per stage", 1, 100_000, d["max_steps"], key="st_max_steps", help=HELP["max_steps"])
    c3.number_input("Seed", 0, 2**31 - 1, 0, key="st_seed", help=HELP["seed"])
    st.caption(f"{ARCHITECTURES[d['arch']].title} on Shapes at {d['image_size']} px. Stage 0 trains the teacher on "
               "the labelled images only (augmentation: flip-crop); each student starts from scratch on labelled + "
               "kept pseudo-labelled images with RandAugment as its noise. A student's images come from the same "
               "training split, whose hidden labels only score the pseudo-labels.")
    _measured_st()
    b1, b2 = st.columns([1, 3])
    if b2.button("Estimate the duration on this machine", key="st_estimate"):
        try:
            with st.spinner("Timing a few steps of the teacher and of a student…"):
                est = estimate_self_train(_st_config())
        except PlaygroundError as err:
            show_error(err)
        else:
            st.markdown(f"**About {results.format_seconds(est.seconds)}** for the whole run, if nothing else runs.")
            st.caption(est.method)
    if b1.button("Start self-training", type="primary", key="st_start"):
        try:
            cfg = _st_config()
            last = ss.get("st_last_start")
            if not (last and last[0] == cfg.to_json() and time.time() - last[1] < 3):
                st.query_params["st"] = launcher.start(cfg).name
                ss["st_last_start"] = (cfg.to_json(), time.time())
        except PlaygroundError as err:
            show_error(err)

    st_run = run_from_url("st")
    if st_run is not None:
        st_active = results.load_view(st_run).active

        @st.fragment(run_every=POLL_S if st_active else None)
        def st_live() -> None:
            v = results.load_view(st_run)
            _status_line(v, f"self-training {st_run.name}")
            if v.active and v.phase:
                st.caption(v.phase.get("message") or "")
            stages = stages_summary(st_run)
            c1, c2 = st.columns(2)
            if v.train:
                fig = results.curves_figure(v, "acc")
                fig.update_layout(xaxis_title="stage (0 = labelled-only teacher)")
                c1.plotly_chart(fig, key="st_fig_curves")
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
            m[2].metric("Pseudo-label accuracy, kept", _pct(p["acc_kept"]),
                        help="measured with the pool's hidden true labels, never used for training")
            m[3].metric("Pseudo-label accuracy, whole pool", _pct(p["acc_pool"]))
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
            st.warning(f"The labelled-only teacher scores {_pct(done[0]['test_acc'])}, close to guessing "
                       f"({_pct(1 / K)} for {K} classes): most of its pseudo-labels will be wrong, and a student "
                       "cannot learn more than they say. Give it more labelled images per class (or more epochs).")
        if view.status.get("state") == "completed" and len(done) >= 2:
            gain = done[-1]["test_acc"] - done[0]["test_acc"]
            duration = store.run_summary(st_run).get("duration_s")
            kept = sum((s["pseudo"] or {}).get("n_kept", 0) for s in stages)
            verdict = ("helped" if gain > 0 else "did not help") if kept else "had nothing to learn from"
            st.markdown(f"**Self-training {verdict} here**: the last student scores {_pct(done[-1]['test_acc'])} "
                        f"on the test images, the labelled-only teacher {_pct(done[0]['test_acc'])} "
                        f"({100 * gain:+.1f} points, one seed)"
                        + (f"; the whole run took {results.format_seconds(duration)} on this machine." if duration
                           else "."))
            if not kept:
                st.caption("No pseudo-label passed the threshold, so every student trained on the labelled images "
                           "alone: the difference is a new start with more noise, not self-training.")
