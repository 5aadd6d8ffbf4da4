"""Runs page (AppTest): table with statuses, compare curves, resume an interrupted run, delete with confirmation."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.runs import launcher, owners, store
from core.train import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
TINY = TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=1, max_steps=4)
ME = "test-browser-token-0001"  # the browser these tests drive (?u=...); its runs are its own
MINE = owners.owner_id(ME)


def _fake_run(root, state, acc=0.5, pid=None, owner=MINE):
    run_dir = store.create_run(TINY, root, owner=owner)
    store.append_metrics(run_dir, {"type": "meta", "step": 0, "total_steps": 4, "epochs": 1,
                                   "classes": ["a", "b"]})
    for step in (2, 4):
        store.append_metrics(run_dir, {"type": "train", "step": step, "epoch": step / 4, "loss": 1 / step,
                                       "acc": acc, "lr": 0.01, "img_per_s": 100, "eta_s": 0, "total_steps": 4})
    store.append_metrics(run_dir, {"type": "eval", "split": "val", "step": 4, "epoch": 1.0, "loss": 0.4, "acc": acc,
                                   "per_class_acc": [acc, acc], "confusion": [[1, 1], [1, 1]], "n": 4})
    store.write_status(run_dir, state=state, pid=pid, started=time.time() - 30, ended=time.time())
    time.sleep(1.05)  # run ids are timestamped to the second
    return run_dir


def _page(token: str = ME) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "runs.py"), default_timeout=60)
    at.query_params["u"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def test_empty_runs_folder_says_so(runs_env):
    at = _page()
    assert any("No runs yet" in i.value for i in at.info)


def test_table_compare_resume_and_delete(runs_env):
    done = _fake_run(runs_env, "completed", acc=0.9)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    interrupted = _fake_run(runs_env, "running", acc=0.4, pid=dead.pid)
    at = _page()
    table = at.dataframe[0].value
    states = dict(zip(table["run"], table["status"]))
    assert states == {done.name: "completed", interrupted.name: "interrupted"}
    assert len(at.multiselect(key="runs_compare").value) == 2
    # resume the interrupted run: a real worker starts
    at.selectbox(key="runs_selected").set_value(interrupted.name).run()
    at.button(key="runs_resume").click().run()
    assert not at.exception, at.exception
    assert store.effective_status(interrupted)["state"] in ("queued", "running", "completed")
    launcher.cancel(interrupted)
    launcher.wait(interrupted, timeout=120)
    # delete needs the confirmation box first
    at.selectbox(key="runs_selected").set_value(done.name).run()
    assert at.button(key="runs_delete").disabled
    at.checkbox(key=f"runs_confirm_delete_{done.name}").check().run()
    at.button(key="runs_delete").click().run()
    assert not at.exception, at.exception
    assert not done.exists()
    assert done.name not in at.dataframe[0].value["run"].tolist()


def test_a_finished_run_shows_its_results_and_downloads(runs_env):
    done = _fake_run(runs_env, "completed", acc=0.75)
    store.append_metrics(done, {"type": "test", "split": "test", "dataset_split": "test", "step": 4, "epoch": 1.0,
                                "loss": 0.5, "acc": 0.875, "per_class_acc": [1.0, 0.75],
                                "confusion": [[4, 0], [1, 3]], "n": 8, "misclassified": []})
    at = _page()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == "87.5 % of 8" and metrics["Best validation accuracy"] == "75.0 % of 4"
    assert len(at.get("plotly_chart")) == 4  # compare ×2, confusion matrix, per-class accuracy
    labels = [b.proto.label for b in at.get("download_button")]
    assert "config.json" in labels  # no checkpoint was written by this fake run: only the config to download


def test_a_delete_confirmation_belongs_to_one_run_and_one_click(runs_env):
    """Issue 8.1: after deleting run A the tick must not carry over to run B (which a second click deleted)."""
    older = _fake_run(runs_env, "completed", acc=0.8)
    middle = _fake_run(runs_env, "failed", acc=0.7)
    newer = _fake_run(runs_env, "completed", acc=0.9)
    at = _page()
    at.selectbox(key="runs_selected").set_value(newer.name).run()
    at.checkbox(key=f"runs_confirm_delete_{newer.name}").check().run()
    assert not at.button(key="runs_delete").disabled
    at.button(key="runs_delete").click().run()
    assert not at.exception, at.exception
    assert not newer.exists() and older.exists()
    # the selection did not silently move to the other run, and no armed Delete button is left over
    assert at.selectbox(key="runs_selected").value is None
    assert not [b for b in at.button if b.key == "runs_delete" and not b.disabled]
    # picking the other run shows an unticked confirmation of its own
    at.selectbox(key="runs_selected").set_value(older.name).run()
    assert at.checkbox(key=f"runs_confirm_delete_{older.name}").value is False
    assert at.button(key="runs_delete").disabled
    # a tick does not survive a change of selection either
    at.checkbox(key=f"runs_confirm_delete_{older.name}").check().run()
    at.selectbox(key="runs_selected").set_value(middle.name).run()
    assert at.checkbox(key=f"runs_confirm_delete_{middle.name}").value is False
    at.selectbox(key="runs_selected").set_value(older.name).run()
    assert at.checkbox(key=f"runs_confirm_delete_{older.name}").value is False
    assert older.exists() and middle.exists()


def test_compare_widget_gets_no_default_and_session_state_at_once(runs_env, monkeypatch):
    """Issue 8.1: the server log warned that runs_compare had a default and a session-state value."""
    from streamlit.elements.lib import policies

    warned = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *a, **k: warned.append(msg % a))
    _fake_run(runs_env, "completed")
    _fake_run(runs_env, "completed")
    at = _page()
    at.run()  # second run: runs_compare now has a session-state value
    assert not at.exception, at.exception
    assert not [w for w in warned if "default value" in w], warned


def test_accuracies_come_with_their_image_counts_and_tiny_splits_warn(runs_env):
    """Issue 8.5 / 8.11: "100.0 % of 2", a warning for a 2-image split and an empty class, "—" for no number."""
    tiny = _fake_run(runs_env, "completed", acc=1.0)
    store.append_metrics(tiny, {"type": "meta", "step": 0, "total_steps": 4, "epochs": 1, "classes": ["a", "b"],
                                "num_train": 8, "num_val": 2, "num_test": 0})
    store.append_metrics(tiny, {"type": "test", "split": "val", "dataset_split": "train", "step": 4, "epoch": 1.0,
                                "loss": 0.1, "acc": 1.0, "per_class_acc": [1.0, None], "confusion": [[2, 0], [0, 0]],
                                "n": 2, "misclassified": []})
    failed = _fake_run(runs_env, "failed")  # never evaluated the test split
    at = _page()
    at.selectbox(key="runs_selected").set_value(tiny.name).run()
    table = at.dataframe[0].value.set_index("run")
    assert table.loc[tiny.name, "test acc"] == "100.0 % of 2"
    assert table.loc[failed.name, "test acc"] == "—" and "None" not in table.to_string()
    assert {m.label: m.value for m in at.metric}["Validation accuracy"] == "100.0 % of 2"
    warnings = " ".join(w.value for w in at.warning)
    assert "validation split has only 2 images" in warnings and "training split has only 8 images" in warnings
    assert "No validation images of class b" in warnings


def test_compare_defaults_to_the_two_newest_finished_runs_in_distinct_colours(runs_env):
    """Issue 8.12: the default was the first two runs (one failed: a single dot), drawn in two blues."""
    older = _fake_run(runs_env, "completed", acc=0.6)
    newer = _fake_run(runs_env, "completed", acc=0.8)
    _fake_run(runs_env, "failed", acc=0.3)  # the newest run
    at = _page()
    assert at.multiselect(key="runs_compare").value == [newer.name, older.name]
    colors = [t["line"]["color"] for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert len(colors) == 2 and len(set(colors)) == 2
