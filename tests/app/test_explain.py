"""AppTest for views/explain.py: a zoo model (untrained, offline), a Shapes run with its mask, the comparison
grids, faithfulness measurements, downloads and the one-click preset button."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.models import build
from core.runs import store
from core.train.config import TrainConfig

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "explain.py")


@pytest.fixture
def shapes_run(runs_env):
    """A completed LeNet-5 Shapes run at 32 px (random weights saved as its checkpoint: no training needed)."""
    cfg = TrainConfig.from_preset("shapes-lenet5", dataset_options={"n": 60}, image_size=32)
    run_dir = store.create_run(cfg, runs_env)
    torch.manual_seed(0)
    model = build("lenet5", num_classes=6, weights="none")
    from core.data.shapes import CLASSES

    store.save_checkpoint(run_dir, model.state_dict(), {"step": 1, "classes": list(CLASSES)}, best=True)
    store.write_status(run_dir, state="completed", pid=None, message="done")
    return run_dir


def _texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
                    + [i.value for i in at.info])


@pytest.mark.slow
def test_zoo_model_untrained_is_marked_and_explained(runs_env):
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["explain_grid"] = ["gradcam", "saliency"]
    at.session_state["explain_grid_layers"] = ["features.2", "features.5"]
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="explain_arch").set_value("lenet5").run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Untrained weights" in text and "explains random weights" in text
    assert any("Grad-CAM for" in s.value for s in at.subheader)
    assert "python -m core explain" in at.code[0].value and "--arch lenet5" in at.code[0].value
    assert len(at.get("download_button")) == 3
    # the methods grid and the layers grid each drew their tiles (overlay + raw + native + grid tiles)
    assert len(at.get("image")) >= 5


@pytest.mark.slow
def test_shapes_run_with_mask_methods_and_faithfulness(shapes_run):
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["explain_source"] = "Trained run"
    at.session_state["explain_grid"] = ["gradcam", "gradcam_pp", "saliency", "guided_gradcam"]
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="explain_shape_idx").value == 0  # a Shapes test image (shown with its mask)
    assert "--checkpoint" in at.code[0].value
    at.selectbox(key="explain_method").set_value("ig").run()
    assert not at.exception, at.exception
    assert "convergence" in _texts(at)
    at.button(key="explain_di").click().run()
    assert not at.exception, at.exception
    assert at.get("plotly_chart")
    at.slider(key="explain_pg_n").set_value(10).run()
    at.button(key="explain_pg").click().run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert "Random point" in labels and labels["Images"] == "10"
    charts = len(at.get("plotly_chart"))
    at.button(key="explain_sanity").click().run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == charts + 1


@pytest.mark.slow  # trains or explains several real models
def test_bad_class_name_is_a_clear_message(shapes_run):
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["explain_source"] = "Trained run"
    at.session_state["explain_grid"] = ["gradcam"]
    at.run()
    at.text_input(key="explain_target_name").set_value("rhombus").run()
    assert not at.exception, at.exception
    assert any("unknown class name 'rhombus'" in e.value for e in at.error)
    at.text_input(key="explain_target_name").set_value("star").run()
    assert not at.exception and any("“star”" in s.value for s in at.subheader)


@pytest.mark.slow  # trains or explains several real models
def test_no_run_offers_the_one_click_preset(runs_env, monkeypatch):
    started = []
    import core.explain.quickstart as qs

    def fake_start(runs_dir=None):
        cfg = TrainConfig.from_preset(qs.PRESET)
        run_dir = store.create_run(cfg, runs_env)
        started.append(run_dir)
        return run_dir

    monkeypatch.setattr(qs, "start", fake_start)
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["explain_source"] = "Trained run"
    at.run()
    assert not at.exception, at.exception
    assert "No finished training run yet" in _texts(at) and "Not measured on this machine yet" in _texts(at)
    at.button(key="explain_quick").click().run()
    assert not at.exception, at.exception
    assert len(started) == 1 and at.session_state["explain_quick_run"] == str(started[0])


@pytest.mark.slow  # trains or explains several real models
def test_models_grid_compares_runs_and_a_zoo_model(shapes_run, runs_env):
    """The "Models" tab: one image, one method, several models side by side; a second Shapes run is offered by
    default, a zoo model (10 ImageNet-style classes, no "circle") explains its own top-1 class with a note."""
    cfg = TrainConfig.from_preset("shapes-lenet5", dataset_options={"n": 60}, image_size=40)
    second = store.create_run(cfg, runs_env)
    torch.manual_seed(1)
    from core.data.shapes import CLASSES

    store.save_checkpoint(second, build("lenet5", num_classes=6, weights="none").state_dict(),
                          {"step": 1, "classes": list(CLASSES)}, best=True)
    store.write_status(second, state="completed", pid=None, message="done")
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["explain_source"] = "Trained run"
    at.session_state["explain_grid"] = ["gradcam"]
    at.session_state["explain_grid_layers"] = []
    at.run()
    assert not at.exception, at.exception
    picked = at.multiselect(key="explain_grid_models")
    other = [o for o in picked.value if o.startswith("run:")]
    assert picked.value[0] == "current" and len(other) == 1  # the other Shapes run, by default
    picked.set_value(picked.value + ["zoo:lenet5"]).run()
    assert not at.exception, at.exception
    caps = " ".join(c.value for c in at.caption)
    assert "is not one of its 10 classes" in caps  # the zoo LeNet-5 has no class "circle"
    assert "matched by name" in caps
