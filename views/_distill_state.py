"""The Distill & self-train page's session state and the runs it starts: the only code that writes
``st.session_state`` or the address bar for that page.

Keys: the knowledge-distillation widgets ``distill_teacher`` / ``distill_student`` / ``distill_epochs`` /
``distill_T`` / ``distill_alpha`` / ``distill_seed``, the self-training widgets ``st_labelled`` / ``st_n`` /
``st_threshold`` / ``st_cap`` / ``st_mode`` / ``st_iterations`` / ``st_epochs`` / ``st_max_steps`` / ``st_seed``,
and the double-click guards ``distill_last_start`` / ``st_last_start`` (settings JSON, time). The address bar
names the runs the page follows: ``?teacher=``, ``?kd=`` and ``?plain=`` (the student with and without the
teacher), ``?st=`` (a self-training run), so a refresh or a shared link shows them again.

Gotcha: a double click sends two clicks, each a rerun that would start its runs; a second start with the same
settings within 3 s is ignored (the KD pair is two runs: both or neither).
"""
from __future__ import annotations

import time

import streamlit as st

from core.runs import launcher
from core.train.config import TrainConfig
from core.train.losses import kd_pair
from core.train.selftrain import self_train_config

DEFAULT_TEACHER = "shapes-lenet5"  # the Train page's default preset: a good teacher in minutes
DOUBLE_CLICK_S = 3
ss = st.session_state


def _fresh(key: str, cfg: TrainConfig) -> bool:
    """False for the second click of a double click (same settings within DOUBLE_CLICK_S seconds)."""
    last = ss.get(key)
    return not (last and last[0] == cfg.to_json() and time.time() - last[1] < DOUBLE_CLICK_S)


def start_teacher() -> None:
    """Start the default teacher and follow it (``?teacher=``). Raises PlaygroundError."""
    st.query_params["teacher"] = launcher.start(TrainConfig.from_preset(DEFAULT_TEACHER)).name


def start_kd(teacher: str) -> None:
    """Start the student with and without distillation from ``teacher`` (a run folder), same budget and seed, and
    follow both (``?kd=``, ``?plain=``). Raises PlaygroundError (nothing started when a setting is invalid)."""
    kd, plain = kd_pair(teacher, arch=ss["distill_student"], temperature=float(ss["distill_T"]),
                        alpha=float(ss["distill_alpha"]), epochs=int(ss["distill_epochs"]),
                        seed=int(ss["distill_seed"]))
    if _fresh("distill_last_start", kd):
        kd.validate()
        plain.validate()
        st.query_params["kd"] = launcher.start(kd).name
        st.query_params["plain"] = launcher.start(plain).name
        ss["distill_last_start"] = (kd.to_json(), time.time())


def self_train_settings() -> TrainConfig:
    """The self-training run the widgets describe. Raises PlaygroundError."""
    return self_train_config(labelled_per_class=int(ss["st_labelled"]), dataset_options={"n": int(ss["st_n"])},
                             threshold=float(ss["st_threshold"]), class_cap=int(ss["st_cap"]) or None,
                             pseudo_labels=ss["st_mode"], iterations=int(ss["st_iterations"]),
                             epochs=int(ss["st_epochs"]), max_steps=int(ss["st_max_steps"]), seed=int(ss["st_seed"]))


def start_self_train() -> None:
    """Start the self-training run the widgets describe and follow it (``?st=``). Raises PlaygroundError."""
    cfg = self_train_settings()
    if _fresh("st_last_start", cfg):
        st.query_params["st"] = launcher.start(cfg).name
        ss["st_last_start"] = (cfg.to_json(), time.time())
