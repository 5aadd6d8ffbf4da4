"""Distill & self-train page (AppTest): start a KD pair and a one-iteration self-training run, see their results."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.runs import store, worker
from core.train import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
TEACHER = dict(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=1, max_steps=4,
               augmentation="none")


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "distill.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _param(at: AppTest, key: str) -> str:
    v = at.query_params[key]
    return v[0] if isinstance(v, list) else v


def _wait(at: AppTest, run_dirs: list[Path], timeout: float = 300) -> None:
    """AppTest has no timer for run_every fragments: rerun until the runs are done."""
    deadline = time.time() + timeout
    while any(store.effective_status(r)["state"] in store.ACTIVE_STATES for r in run_dirs):
        assert time.time() < deadline, [store.effective_status(r) for r in run_dirs]
        time.sleep(2)
        at.run()
        assert not at.exception, at.exception
    at.run()
    assert not at.exception, at.exception


def test_without_a_teacher_the_page_says_what_to_do(runs_env):
    at = _page()
    assert any("needs a finished run as the teacher" in i.value for i in at.info)
    assert at.button(key="distill_start_teacher")
    assert at.button(key="st_start")


@pytest.mark.slow
def test_start_kd_and_its_baseline_and_see_the_comparison(runs_env):
    runs_env.mkdir(parents=True, exist_ok=True)
    teacher = store.create_run(TrainConfig(**TEACHER), runs_env)
    worker.execute(teacher)
    at = _page()
    assert at.selectbox(key="distill_teacher").value == str(teacher)
    assert at.selectbox(key="distill_student").value == "lenet5"
    at.number_input(key="distill_epochs").set_value(1).run()
    at.button(key="distill_start").click().run()
    assert not at.exception, at.exception
    kd, plain = runs_env / _param(at, "kd"), runs_env / _param(at, "plain")
    assert store.load_config(kd).objective == "distill" and store.load_config(plain).objective == "plain"
    assert store.load_config(kd).replace(objective="plain", teacher=None) == store.load_config(plain)
    _wait(at, [kd, plain])
    labels = [m.label for m in at.metric]
    assert "Student with KD" in labels and "Student without KD" in labels
    assert any(m.label.startswith("Agreement with the teacher") for m in at.metric)
    assert any("Distillation" in md.value for md in at.markdown)


@pytest.mark.slow
def test_start_one_iteration_of_self_training_and_see_the_stages(runs_env):
    at = _page()
    at.number_input(key="st_n").set_value(300).run()
    at.number_input(key="st_labelled").set_value(5).run()
    at.number_input(key="st_iterations").set_value(1).run()
    at.slider(key="st_threshold").set_value(0.3).run()
    at.number_input(key="st_epochs").set_value(2).run()
    at.number_input(key="st_max_steps").set_value(4).run()
    at.button(key="st_start").click().run()
    assert not at.exception, at.exception
    run_dir = runs_env / _param(at, "st")
    cfg = store.load_config(run_dir)
    assert (cfg.objective, cfg.iterations, cfg.labelled_per_class) == ("self_train", 1, 5)
    _wait(at, [run_dir])
    assert store.effective_status(run_dir)["state"] == "completed"
    labels = [m.label for m in at.metric]
    assert "Pool (unlabelled)" in labels and "Pseudo-label accuracy, kept" in labels
    assert any("Self-training" in md.value and "labelled-only teacher" in md.value for md in at.markdown)
    from core.train.selftrain import stages_summary

    near_chance = stages_summary(run_dir)[0]["test_acc"] < 1.5 / 6
    assert near_chance == any("close to guessing" in w.value for w in at.warning)
