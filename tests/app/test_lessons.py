"""AppTest for the lesson pages: each renders, runs a small experiment from its widgets and shows computed results."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(tmp_path / "runs"))
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: see tests/unit/test_lessons_depth.py
    yield
    torch.set_num_threads(before)


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / name), default_timeout=240).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_knn_page_runs_a_small_experiment_and_shows_measurements():
    at = _page("lesson_knn.py")
    assert at.title[0].value == "k-NN vs learned classifiers"
    assert any("Run the experiment" in i.value for i in at.info)
    at.multiselect(key="knn_sizes").set_value([30, 100])
    at.slider(key="knn_k").set_value(3)
    at.number_input(key="knn_steps").set_value(10)
    at.button[0].click().run()
    assert not at.exception, at.exception
    res = at.session_state["knn_result"]
    assert res.train_sizes == [30, 100] and res.k == 3 and res.steps == 10
    # The conclusion is read off the measured numbers.
    assert at.success[0].value == res.conclusion()
    from core.lessons.knn import PIXELS

    assert f"{res.at(PIXELS).accuracy:.1%}" in [m.value for m in at.metric]
    assert any(f"{res.seconds:.1f} s" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3
    assert len(at.get("image")) >= 2 * 4 * (3 + 1)  # 4 queries × 2 spaces × (query + 3 neighbours)


@pytest.mark.slow
def test_knn_page_without_pretrained_weights_says_so_and_runs_the_rest(tmp_path, monkeypatch):
    import core.models.weights as W

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # an empty cache: nothing to take features from
    monkeypatch.setattr(W, "_urlopen", lambda *a, **k: (_ for _ in ()).throw(AssertionError("network")))
    at = _page("lesson_knn.py")
    pretrained = next(o for o in at.selectbox(key="knn_run").options if o.startswith("ImageNet-pretrained"))
    at.selectbox(key="knn_run").set_value(pretrained)
    at.multiselect(key="knn_sizes").set_value([30])
    at.number_input(key="knn_steps").set_value(10)
    at.button[0].click().run()
    assert not at.exception, at.exception
    res = at.session_state["knn_result"]
    assert [w.value for w in at.warning] == res.notes and str(W.manual_weights_path("resnet18")) in res.notes[0]
    assert at.success[0].value == res.conclusion() and "k-NN · network features" not in res.methods()


def test_knn_page_without_sizes_asks_for_one():
    at = _page("lesson_knn.py")
    at.multiselect(key="knn_sizes").set_value([])
    at.button[0].click().run()
    assert not at.exception
    assert any("at least one training-set size" in w.value for w in at.warning)
    assert "knn_result" not in at.session_state


@pytest.mark.slow
def test_depth_page_runs_a_small_experiment_and_shows_measurements(monkeypatch):
    from core.lessons import depth as dl

    real, real_aux = dl.depth_lesson, dl.aux_gradients

    @functools.wraps(real)  # the page reads its widget defaults from the lesson's signature
    def small(depth, **kw):  # the page's own call, at a test-sized data set and width
        return real(depth, **kw, train_size=32, n_test=12, width=4, grad_steps=2)

    monkeypatch.setattr(dl, "depth_lesson", small)
    at = _page("lesson_depth.py")
    assert at.title[0].value.startswith("Depth, vanishing gradients")
    at.select_slider(key="depth_depth").set_value(14)
    at.checkbox(key="depth_bn").uncheck()
    at.number_input(key="depth_steps").set_value(10)
    at.button[0].click().run()
    assert not at.exception, at.exception
    res = at.session_state["depth_result"]
    assert res.depth == 14 and not res.batchnorm and res.steps == 10
    assert res.paths == [1, 6, 15, 20, 15, 6, 1]
    assert at.success[0].value == res.conclusion()
    assert any(f"{res.seconds:.1f} s" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 4
    assert any("64 paths through 6 blocks" in h.value for h in at.subheader)
    monkeypatch.setattr(dl, "aux_gradients", lambda: real_aux(batch_size=2, image_size=64))
    at.button(key="depth_aux_go").click().run()
    assert not at.exception, at.exception
    aux = at.session_state["depth_aux"]
    assert f"{aux.early_gain():.2f}×" in at.success[1].value and len(at.get("plotly_chart")) == 5


def test_fc_conv_page_counts_parameters_without_training():
    at = _page("lesson_fc_conv.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fully connected"] == f"{(3 * 32 * 32) * (16 * 32 * 32) + 16 * 32 * 32:,}"
    assert metrics["Convolution"] == f"{16 * 27 + 16:,}"
    at.select_slider(key="fcc_size").set_value(224).run()
    assert {m.label: m.value for m in at.metric}["Fully connected"] == f"{(3 * 224**2) * (16 * 224**2) + 16 * 224**2:,}"
    assert "fcc_result" not in at.session_state


@pytest.mark.slow
def test_fc_conv_page_trains_both_and_shows_templates():
    at = _page("lesson_fc_conv.py")
    at.number_input(key="fcc_steps").set_value(10)
    at.select_slider(key="fcc_train").set_value(300)
    at.button[0].click().run()
    assert not at.exception, at.exception
    res = at.session_state["fcc_result"]
    assert res.steps == 10 and res.train_size == 300
    assert at.success[0].value == res.conclusion()
    assert f"{res.fc_accuracy:.1%}" in [m.value for m in at.metric]
    assert len(at.get("image")) == 6 + 16  # one template per class, 16 first-layer filters


@pytest.mark.slow
def test_shortcut_page_runs_three_engine_runs_and_compares_them(monkeypatch):
    from core.lessons import shortcut as sc
    from core.runs import launcher, store, worker

    real = sc.shortcut_configs
    # Two steps per run, and each worker runs in this process (the page's code path is otherwise the real one).
    monkeypatch.setattr(sc, "shortcut_configs", lambda s: {k: c.replace(max_steps=2) for k, c in real(s).items()})
    monkeypatch.setattr(launcher, "spawn", lambda run_dir: worker.execute(run_dir))
    at = _page("lesson_shortcut.py")
    assert len(at.get("image")) == 12  # six biased training and six unbiased test examples
    assert any("Start the three runs" in i.value for i in at.info)
    at.number_input(key="sc_epochs").set_value(1)
    at.select_slider(key="sc_train").set_value(1000)
    at.button[0].click().run()
    assert not at.exception, at.exception
    res = at.session_state["sc_result"]
    assert [m.label for m in res.models] == ["Biased data", "Biased data + hue augmentation", "Unbiased data"]
    assert res.shortcut_train == 1.0 and res.epochs == 1
    assert 894 <= res.train_size <= 900  # 1,000 minus a 10 % validation hold-out, rounded per class
    assert at.success[0].value == res.conclusion()
    assert len(at.get("plotly_chart")) == 1 and len(at.get("progress")) == 3
    group = sc.load_group(at.session_state["sc_group"])
    token = at.query_params["u"][0] if isinstance(at.query_params["u"], list) else at.query_params["u"]
    assert all(store.read_status(p).get("state") == "completed" for p in group.runs.values())
    assert {store.read_status(p).get("owner") for p in group.runs.values()} == {group.owner}
    # The same browser (its ?u= token) finds its runs again after a reload; another browser does not.
    again = AppTest.from_file(str(ROOT / "views" / "lesson_shortcut.py"), default_timeout=240)
    again.query_params["u"] = token
    again.run()
    assert not again.exception and again.success[0].value == res.conclusion()
    assert any(f"took {res.seconds / 60:.1f} min" in c.value for c in again.caption)  # stated before a new start
    other = _page("lesson_shortcut.py")
    assert not other.success and any("Start the three runs" in i.value for i in other.info)
