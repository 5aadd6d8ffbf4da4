"""Distill & self-train: learn from a teacher instead of (only) from labels, and see whether it helped.

Knowledge distillation (Hinton et al. 2015) starts a student twice, with and without the teacher, same budget.
Self-training (Noisy Student, Xie et al. 2020) starts one run whose stages are teacher → student → student.
Runs execute in worker processes (core.runs.launcher); the page polls their folders (run ids in the URL).
This file draws the settings of both experiments; views/_distill_state.py starts the runs (and owns the session
state), views/_distill_live.py shows them, views/_distill_measured.py shows the bench's figures over seeds.
"""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from core.models import ARCHITECTURES
from core.runs import results, store
from core.train.config import field_help
from core.train.losses import KD_STUDENT_EPOCHS
from core.train.selftrain import SELF_TRAIN_DEFAULTS, estimate_self_train
from views import _distill_state as state
from views._distill_live import kd_pair_view, self_train_view, teacher_view
from views._distill_measured import measured_kd, measured_self_train
from views._distill_results import pct
from views._widgets import run_from_url, show_error

HELP = field_help()

st.title("Distill & self-train")
st.markdown(
    "Labels are expensive; a trained network is cheap to ask. **Knowledge distillation** trains a *student* to "
    "match a *teacher*'s softened probabilities (its \"dark knowledge\": which wrong classes look alike) as well "
    "as the labels. **Self-training** lets a teacher trained on a few labels label the rest, keeps its confident "
    "guesses, and trains a noised student on them, which then becomes the next teacher. Each experiment below "
    "runs its own baseline, so you see whether it helped, here, on this data."
)

tab_kd, tab_st = st.tabs(["Knowledge distillation", "Self-training (Noisy Student)"])

# ------------------------------------------------------------------ knowledge distillation
with tab_kd:
    teachers = [r for r in store.list_runs() if r["state"] == "completed" and r["has_checkpoint"]]
    if not teachers:
        st.info("Distillation needs a finished run as the teacher. Train one on the **Train** page (its default "
                "preset, LeNet-5 on Shapes, makes a good teacher) or start it here.")
        if st.button("Train the default teacher", key="distill_start_teacher"):
            try:
                state.start_teacher()
            except PAGE_ERRORS as err:
                show_error(err)
        t_run = run_from_url("teacher")
        if t_run is not None:
            teacher_view(t_run)
    else:
        c1, c2 = st.columns(2)
        labels = {r["path"]: f"{r['id']} · {r['arch']} · {r['dataset']} · test {pct(r['test_acc'])}"
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
                state.start_kd(teacher)
            except PAGE_ERRORS as err:
                show_error(err)

    measured_kd()
    kd_run, plain_run = run_from_url("kd"), run_from_url("plain")
    if kd_run is not None and plain_run is not None:
        kd_pair_view(kd_run, plain_run)

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
    measured_self_train()
    b1, b2 = st.columns([1, 3])
    if b2.button("Estimate the duration on this machine", key="st_estimate"):
        try:
            with st.spinner("Timing a few steps of the teacher and of a student…"):
                est = estimate_self_train(state.self_train_settings())
        except PAGE_ERRORS as err:
            show_error(err)
        else:
            st.markdown(f"**About {results.format_seconds(est.seconds)}** for the whole run, if nothing else runs.")
            st.caption(est.method)
    if b1.button("Start self-training", type="primary", key="st_start"):
        try:
            state.start_self_train()
        except PAGE_ERRORS as err:
            show_error(err)

    st_run = run_from_url("st")
    if st_run is not None:
        self_train_view(st_run)
