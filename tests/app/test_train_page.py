"""Train page (AppTest): defaults from the preset, a tiny run started from the page completes and shows results."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.runs import store
from core.train.config import DEFAULT_PRESET, PRESETS

ROOT = Path(__file__).resolve().parents[2]


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_defaults_come_from_the_default_preset(runs_env):
    at = _page()
    assert at.selectbox(key="train_preset").value == DEFAULT_PRESET
    preset = PRESETS[DEFAULT_PRESET].overrides
    assert at.selectbox(key="train_dataset").value == preset["dataset"] == "shapes"  # works offline
    assert at.selectbox(key="train_arch").value == preset["arch"]
    assert at.number_input(key="train_epochs").value == preset["epochs"]
    assert at.number_input(key="train_opt_shapes_n").value == preset["dataset_options"]["n"]
    at.selectbox(key="train_preset").set_value("shapes-tiny").run()
    assert at.select_slider(key="train_image_size").value == 32
    assert at.number_input(key="train_max_steps").value == 30


def test_bad_combination_shows_a_clear_error_not_a_traceback(runs_env):
    at = _page()
    at.radio(key="train_weights").set_value("pretrained").run()  # mode is still "scratch"
    assert not at.exception
    assert any("set weights to 'none'" in e.value for e in at.error)
    assert at.button(key="train_start").disabled


@pytest.mark.slow  # a real training run or many runs on disk
def test_start_a_tiny_run_and_see_it_complete(runs_env):
    at = _page()
    at.selectbox(key="train_preset").set_value("shapes-tiny").run()
    at.selectbox(key="train_arch").set_value("lenet5").run()
    at.number_input(key="train_opt_shapes_n").set_value(120).run()
    at.number_input(key="train_max_steps").set_value(6).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run_id = at.query_params["run"][0] if isinstance(at.query_params["run"], list) else at.query_params["run"]
    run_dir = runs_env / run_id
    assert (run_dir / "config.json").is_file()
    # AppTest has no timer for run_every fragments: rerun until the run is done
    deadline = time.time() + 300
    while store.effective_status(run_dir)["state"] in store.ACTIVE_STATES and time.time() < deadline:
        time.sleep(2)
        at.run()
        assert not at.exception, at.exception
    at.run()
    assert store.effective_status(run_dir)["state"] == "completed"
    assert any("completed" in s.value for s in at.subheader)
    # issue 8.13: the caption in words, with the step cap (it said "lenet5 · shapes · weights none · 1 epochs")
    assert any(c.value.startswith("LeNet-5 · Shapes") and "From scratch · 1 epoch, at most 6 steps"
               in c.value for c in at.caption), [c.value for c in at.caption]
    assert any(m.label.endswith("accuracy") for m in at.metric)
    assert any("python -m core train" in c.value for c in at.code)


@pytest.mark.slow  # times a fresh Python start-up and real training steps
def test_estimate_button_times_this_machine_and_says_how(runs_env):
    at = _page()
    at.selectbox(key="train_preset").set_value("shapes-tiny").run()
    at.button(key="train_estimate").click().run()
    assert not at.exception, at.exception
    shown = [i.value for i in at.info if "on this machine" in i.value]
    assert shown and "training steps of 32 random 32px images" in shown[0] and "scaled to 30 steps" in shown[0]
    at.number_input(key="train_max_steps").set_value(31).run()  # another config: the old estimate is withdrawn
    assert not [i for i in at.info if "on this machine" in i.value]


def _started_config(at, runs_env) -> dict:
    import json

    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run_id = at.query_params["run"][0] if isinstance(at.query_params["run"], list) else at.query_params["run"]
    return json.loads((runs_env / run_id / "config.json").read_text())


@pytest.mark.slow  # a real training run or many runs on disk
def test_the_augmentation_labs_pipeline_is_what_trains(runs_env):
    """Issue 8.2: the lab's Export tab promises that the training page takes exactly its pipeline."""
    from core.augment import to_json

    lab = {"version": 1, "steps": [{"name": "hflip", "p": 0.5, "params": {}}], "mixing": None}
    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=120)
    at.session_state["aug_spec_json"] = to_json(lab)  # what the lab page keeps for this browser session
    at.run()
    at.selectbox(key="train_preset").set_value("shapes-tiny").run()
    at.number_input(key="train_max_steps").set_value(1).run()
    at.selectbox(key="train_augmentation").set_value(":lab").run()
    assert not at.error, [e.value for e in at.error]
    assert any("Pipeline: Horizontal flip (p 0.5)" in c.value for c in at.caption), [c.value for c in at.caption]
    cfg = _started_config(at, runs_env)
    assert cfg["augmentation"]["steps"] == [{"name": "hflip", "p": 0.5, "params": {}}]


def test_without_a_lab_pipeline_the_page_says_where_to_build_one(runs_env):
    at = _page()
    at.selectbox(key="train_augmentation").set_value(":lab").run()
    assert any("Augmentation lab has no pipeline yet" in e.value for e in at.error)
    assert at.button(key="train_start").disabled


@pytest.mark.slow  # a real training run or many runs on disk
def test_an_uploaded_pipeline_json_is_validated_and_used(runs_env):
    at = _page()
    at.selectbox(key="train_preset").set_value("shapes-tiny").run()
    at.number_input(key="train_max_steps").set_value(1).run()
    at.selectbox(key="train_augmentation").set_value(":file").run()
    assert at.button(key="train_start").disabled  # no file yet
    bad = b'{"version": 1, "steps": [{"name": "no-such-step"}]}'
    at.file_uploader(key="train_aug_file").set_value(("bad.json", bad, "application/json")).run()
    assert not at.exception, at.exception
    assert any("bad.json" in e.value and "no-such-step" in e.value for e in at.error), [e.value for e in at.error]
    good = b'{"version": 1, "steps": [{"name": "crop", "params": {"padding": 4}}], "mixing": null}'
    at.file_uploader(key="train_aug_file").set_value(("crop.json", good, "application/json")).run()
    assert not at.error, [e.value for e in at.error]
    cfg = _started_config(at, runs_env)
    step = cfg["augmentation"]["steps"][0]
    assert step["name"] == "crop" and step["params"]["padding"] == 4


def test_a_pretrained_preset_offline_is_refused_before_it_starts(runs_env, monkeypatch):
    """Issue 8.9: no run folder (so no Resume), and the advice is to train from scratch or fetch the file."""
    from core.models import weights

    def fail(name, progress=None):
        raise weights.WeightsUnavailable("could not download (URLError: no network)")

    monkeypatch.setattr(weights, "weights_status", lambda name: "downloadable")
    monkeypatch.setattr(weights, "download_weights", fail)
    at = _page()
    at.selectbox(key="train_preset").set_value("shapes-linear-probe").run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert any("Choose random weights (from scratch)" in e.value for e in at.error), [e.value for e in at.error]
    assert "run" not in at.query_params and not list(runs_env.glob("*/config.json"))
    assert not [b for b in at.button if b.key == "train_resume"]
