"""Distill & self-train page (AppTest): start a KD pair and a one-iteration self-training run, see their results."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
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


MEASURED = {
    "kd": {"setting": {"teacher": "shapes-lenet5 preset, 15 epochs", "teacher_test_acc": 0.9, "student": "lenet5",
                       "student_epochs": 3, "temperature": 4.0, "alpha": 0.9},
           "seeds": [{}, {}, {}], "kd_acc": {"mean": 0.5, "sd": 0.02}, "plain_acc": {"mean": 0.45, "sd": 0.03},
           "diff": {"mean": 0.05, "sd": 0.01}, "kd_agreement": {"mean": 0.6, "sd": 0.01},
           "plain_agreement": {"mean": 0.5, "sd": 0.02}, "cpu_s": {"mean": 61.0}, "measured": "2026-12-02",
           "cpus": 2, "jobs": 3},
    "self_train": {"setting": {"labelled_per_class": 300, "threshold": 0.7, "iterations": 2, "max_steps": 800},
                   "seeds": [{"seed": 0, "n_kept": [None, 4000, 5000], "test_acc": [0.4, 0.45, 0.40]},
                             {"seed": 1, "n_kept": [None, 3000, 6000], "test_acc": [0.4, 0.41, 0.38]}],
                   "stage_acc": [{"mean": 0.4, "sd": 0.02}, {"mean": 0.43, "sd": 0.03}, {"mean": 0.39, "sd": 0.01}],
                   "acc_kept": [None, {"mean": 0.7, "sd": 0.05}, {"mean": 0.72, "sd": 0.04}],
                   "gain": {"mean": -0.01, "sd": 0.02}, "cpu_s": {"mean": 200.0}, "wall_s": {"mean": 500.0},
                   "measured": "2026-12-02", "cpus": 2, "jobs": 3},
    "self_train_control": {"seeds": [{"seed": 0, "test_acc": [0.4, 0.42]}, {"seed": 1, "test_acc": [0.4, 0.40]}],
                           "gain": {"mean": 0.01, "sd": 0.014}},
}


def test_measured_tables_come_from_the_bench_file(runs_env, tmp_path, monkeypatch):
    import json

    from core.runs import distill_figures

    monkeypatch.setattr(distill_figures, "MEASURED_FILE", tmp_path / "missing.json")
    at = _page()
    assert sum("Not measured over seeds yet" in c.value for c in at.caption) == 2
    path = tmp_path / "distill.json"
    path.write_text(json.dumps(MEASURED))
    monkeypatch.setattr(distill_figures, "MEASURED_FILE", path)
    at = _page()
    assert len(at.dataframe) == 2  # the KD tab's table, then the self-training tab's
    kd = at.dataframe[0].value
    assert list(kd["test accuracy"]) == ["50.0 ± 2.0 %", "45.0 ± 3.0 %", "5.0 ± 1.0 points"]
    st_rows = at.dataframe[1].value
    assert list(st_rows["test accuracy"]) == ["40.0 ± 2.0 %", "43.0 ± 3.0 %", "39.0 ± 1.0 %"]
    assert list(st_rows["pseudo-labels kept"]) == ["", "3,500", "5,500"]  # mean over seeds
    text = " ".join(md.value for md in at.markdown)
    assert "distillation **helped**" in text  # 5 ± 1 points: above zero by more than one sd
    assert "self-training **made no clear difference**" in text and "-1.0 ± 2.0 points" in text
    assert "pseudo-labels were 70.0 %–72.0 % right" in text  # not helped: the kept labels' accuracy is named
    # control: per seed 0.45 − 0.42 and 0.41 − 0.40 → +2.0 ± 1.4 points, more than one sd above zero
    assert "+1.0 ± 1.4 points against the teacher" in text
    assert "add +2.0 ± 1.4 points" in text and "they **helped**" in text


def test_estimate_button_prices_the_stages(runs_env, monkeypatch):
    from core.runs.results import format_seconds
    from core.train import estimate as est
    from core.train.selftrain import estimate_self_train, self_train_config

    monkeypatch.setattr(est, "measure_startup", lambda: 3.0)
    monkeypatch.setattr(est, "images_to_draw", lambda cfg: 0)
    monkeypatch.setattr(est, "measure_eval_throughput", lambda cfg: 500.0)
    monkeypatch.setattr(est, "measure_checkpoint", lambda cfg: 0.2)
    monkeypatch.setattr(est, "measure_throughput", lambda cfg: (200.0, 64, 3, torch.device("cpu")))
    at = _page()
    at.number_input(key="st_iterations").set_value(1).run()
    at.button(key="st_estimate").click().run()
    assert not at.exception, at.exception
    expected = estimate_self_train(self_train_config(iterations=1)).seconds
    assert any(f"About {format_seconds(expected)}" in md.value for md in at.markdown)
    assert any("stage 0:" in c.value and "stage 1:" in c.value for c in at.caption)
