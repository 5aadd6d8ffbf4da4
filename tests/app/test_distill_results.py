"""views/_distill_results.render_run_extras (AppTest through a small script): a distillation run's and a
self-training run's extra views on the Runs page, checked against numbers computed here from the run folders."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.runs import store, worker
from core.train import TrainConfig

TEACHER = dict(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=1, max_steps=4,
               augmentation="none", log_every=1)
SELF = dict(arch="lenet5", dataset_options={"n": 240}, image_size=32, batch_size=16, epochs=2, max_steps=6,
            augmentation="none", log_every=2, objective="self_train", iterations=1, labelled_per_class=8,
            threshold=0.2, student_augmentation="flip-crop")


def _script(run_dir: str) -> None:
    from core.runs import results
    from views._distill_results import render_run_extras

    render_run_extras(results.load_view(run_dir), "runs")


def _render(run_dir: Path) -> AppTest:
    at = AppTest.from_function(_script, args=(str(run_dir),), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    teacher = store.create_run(TrainConfig(**TEACHER), root)
    worker.execute(teacher)
    kd = store.create_run(TrainConfig(**TEACHER, objective="distill", teacher=str(teacher)), root)
    worker.execute(kd)
    st_run = store.create_run(TrainConfig(**SELF), root)
    worker.execute(st_run)
    for r in (teacher, kd, st_run):
        assert store.read_status(r)["state"] == "completed"
    return {"teacher": teacher, "kd": kd, "self": st_run}


def _predictions(run_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The run's test predictions and labels, computed here (not through core.runs.distill_figures)."""
    from core.data import open_dataset
    from core.models.shared import load_run_model
    from core.train.loop import IMAGENET_MEAN, IMAGENET_STD

    rm = load_run_model(run_dir)
    ds = open_dataset("shapes", "test", image_size=32, n=120)
    x = torch.stack([ds[i][0] for i in range(len(ds))]).float() / 255
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        return rm.model.eval()(x).argmax(1), torch.tensor([ds[i][1] for i in range(len(ds))])


@pytest.mark.slow
def test_a_plain_run_gets_no_extras(runs):
    at = _render(runs["teacher"])
    assert not at.subheader and not at.metric


@pytest.mark.slow
def test_distillation_run_shows_parts_teacher_curves_and_agreement(runs):
    at = _render(runs["kd"])
    assert [h.value for h in at.subheader] == ["Distillation"]
    pt, y = _predictions(runs["teacher"])
    ps, _ = _predictions(runs["kd"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Agreement with the teacher"] == f"{100 * float((pt == ps).float().mean()):.1f} %"
    assert metrics["Teacher test accuracy"] == f"{100 * float((pt == y).float().mean()):.1f} %"
    assert metrics["Student test accuracy"] == f"{100 * float((ps == y).float().mean()):.1f} %"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert titles == ["Training loss and its parts", "Accuracy", "Per-class test accuracy"]
    parts = {t["name"]: t["y"] for t in charts[0]["data"]}
    logged = [json.loads(line) for line in (runs["kd"] / store.METRICS_FILE).read_text().splitlines()]
    assert parts["KD term (teacher)"] == [r["loss_kd"] for r in logged if r.get("type") == "train"]
    assert {t["name"] for t in charts[1]["data"]} >= {"teacher · validation", "student · validation"}


@pytest.mark.slow
def test_self_training_run_shows_stages_rounds_and_the_histogram(runs):
    at = _render(runs["self"])
    assert [h.value for h in at.subheader] == ["Self-training stages"]
    sdir = runs["self"] / "stages"
    acc = [json.loads((sdir / str(i) / "stage.json").read_text())["test"]["acc"] for i in (0, 1)]
    assert any(f"**{100 * (acc[1] - acc[0]):+.1f} points**" in md.value for md in at.markdown)
    pseudo = json.loads((sdir / "1" / "pseudo.json").read_text())
    charts = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
              for c in at.get("plotly_chart")}
    assert set(charts) == {"Test accuracy per self-training stage", "Pseudo-labels per round",
                           f"Teacher confidence on {pseudo['n_pool']} unlabelled images (stage 1)",
                           f"Kept per class (stage 1: {pseudo['n_kept']} of {pseudo['n_pool']})"}
    rounds = {t["name"]: t["y"] for t in charts["Pseudo-labels per round"]["data"]}
    assert rounds["share of the pool kept"] == [pseudo["n_kept"] / pseudo["n_pool"]]
    assert rounds["pseudo-label accuracy, kept"] == [pseudo["acc_kept"]]
    assert at.selectbox(key="runs_st_stage").options == ["1"]
