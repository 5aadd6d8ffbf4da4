"""Issue 13.2 / 13.6 / 13.7 (AppTest): sessions own their runs, the instructor may act on all, user text is shown as
typed, and the Runs table is filtered and paginated."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.runs import owners, results, store
from core.train import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
TINY = TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=1, max_steps=4)
A, B, C = "browser-a-token-00000001", "browser-b-token-00000002", "browser-c-token-00000003"
HOSTILE = "folder /data/[link](http://x) ![img](http://x/i.png) <b>bold</b> not found"
SECRET = "let the class begin 42"


def _run(root, owner: str | None, state: str = "completed", message: str = "done", pid=None, classes=("a", "b"),
         test: dict | None = None) -> Path:
    run_dir = store.create_run(TINY, root, owner=owners.owner_id(owner) if owner else None)
    store.append_metrics(run_dir, {"type": "meta", "step": 0, "total_steps": 4, "epochs": 1, "classes": list(classes)})
    store.append_metrics(run_dir, {"type": "eval", "split": "val", "step": 4, "epoch": 1.0, "loss": 0.4, "acc": 0.5,
                                   "n": 4, "per_class_acc": [0.5] * len(classes),
                                   "confusion": [[1] * len(classes)] * len(classes)})
    if test:
        store.append_metrics(run_dir, test)
    fields = dict(state=state, message=message, started=time.time() - 30)
    if pid is not None:
        fields.update(pid=pid, pid_start=store.process_start_time(pid))
    store.write_status(run_dir, **fields)
    return run_dir


@pytest.fixture
def worker():
    """A live process standing in for a training worker (its pid makes a 'running' run count as alive)."""
    proc = subprocess.Popen(["sleep", "300"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _page(token: str | None, page: str = "runs.py", **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / page), default_timeout=120)
    if token:
        at.query_params["u"] = token
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def _select(at: AppTest, run_dir: Path) -> AppTest:
    at.selectbox(key="runs_selected").set_value(run_dir.name).run()
    assert not at.exception, at.exception
    return at


def _controls(at: AppTest) -> set[str]:
    keys = {b.key for b in at.button} | {c.key for c in at.checkbox}
    return {k for k in keys if k and (k in ("runs_cancel", "runs_resume", "runs_delete")
                                      or k.startswith("runs_confirm_delete_"))}


def test_b_cannot_see_the_controls_of_a_runs_and_the_instructor_can(runs_env, worker, monkeypatch):
    monkeypatch.setenv(owners.INSTRUCTOR_ENV, SECRET)
    a_done = _run(runs_env, A)
    a_live = _run(runs_env, A, state="running", message="training", pid=worker)
    old = _run(runs_env, None, state="cancelled")  # from before owners were recorded
    a, b = _page(A), _page(B)
    table_a = a.dataframe[0].value.set_index("run")["owner"]
    table_b = b.dataframe[0].value.set_index("run")["owner"]
    assert table_a[a_done.name] == "you" and table_b[a_done.name] == "someone else"
    assert table_a[old.name] == table_b[old.name] == "nobody"
    # A may delete its finished run and cancel its live one; B sees both runs but no control at all
    assert _controls(_select(a, a_done)) == {"runs_resume", "runs_delete", f"runs_confirm_delete_{a_done.name}"} - {
        "runs_resume"}
    assert _controls(_select(a, a_live)) == {"runs_cancel"}
    for run in (a_done, a_live, old):
        assert _controls(_select(b, run)) == set(), run.name
        assert any("only the browser that started it, or the instructor" in c.value for c in b.caption)
    assert _controls(_select(a, old)) == set()  # nobody's run: not A's either
    # the instructor: a wrong secret changes nothing; the right one shows every control, on every run
    c = _page(C)
    c.text_input(key="identity_secret").set_value("guess").run()
    c.button(key="identity_enter").click().run()
    assert any("not the instructor secret" in e.value for e in c.error)
    assert _controls(_select(c, a_done)) == set()
    c.text_input(key="identity_secret").set_value(SECRET).run()
    c.button(key="identity_enter").click().run()
    assert not c.exception, c.exception
    assert c.session_state["identity_secret"] == ""  # the secret is not kept in the session
    assert _controls(_select(c, a_live)) == {"runs_cancel"}
    assert _controls(_select(c, old)) == {"runs_resume", "runs_delete", f"runs_confirm_delete_{old.name}"}
    _select(c, a_done).checkbox(key=f"runs_confirm_delete_{a_done.name}").check().run()
    c.button(key="runs_delete").click().run()
    assert not c.exception and not a_done.exists()
    # B still cannot act, and the address bar keeps each browser's token
    assert b.query_params["u"] == B and a.query_params["u"] == A


def test_a_stale_delete_click_of_another_browser_is_refused(runs_env):
    """The callback checks the owner again: a run that changed hands (here: its status rewritten) is not deleted."""
    mine = _run(runs_env, A)
    at = _select(_page(A), mine)
    at.checkbox(key=f"runs_confirm_delete_{mine.name}").check().run()
    store.write_status(mine, owner=owners.owner_id(B))
    at.button(key="runs_delete").click().run()
    assert not at.exception, at.exception
    assert mine.exists()
    assert any("belongs to another browser" in e.value for e in at.error)


def test_a_new_browser_gets_a_token_that_a_refresh_keeps(runs_env):
    at = _page(None)
    token = at.query_params["u"]
    assert owners.valid_token(token)
    at.run()
    assert at.query_params["u"] == token
    again = _page(None)
    assert again.query_params["u"] != token  # another browser, another identity
    forged = _page("../../etc/passwd")  # not a token: replaced by a fresh one
    assert owners.valid_token(forged.query_params["u"])


def test_the_train_page_attaches_only_to_the_browsers_own_active_run(runs_env, worker):
    a_live = _run(runs_env, A, state="running", message="training", pid=worker)
    b = _page(B, "train.py")
    assert "run" not in b.query_params  # not attached to A's run
    assert not [x for x in b.button if x.key == "train_cancel"]
    assert not any(a_live.name in h.value for h in b.subheader)
    a = _page(A, "train.py")
    assert a.query_params["run"] == a_live.name
    assert [x for x in a.button if x.key == "train_cancel"]
    # B may watch A's run from a link, without its Cancel button
    watch = _page(B, "train.py", run=a_live.name)
    assert any(a_live.name in h.value for h in watch.subheader)
    assert not [x for x in watch.button if x.key in ("train_cancel", "train_resume")]
    assert any("only the browser that started it" in c.value for c in watch.caption)


def test_a_failure_message_is_shown_as_typed_on_the_runs_and_train_pages(runs_env):
    failed = _run(runs_env, A, state="failed", message=HOSTILE)
    runs = _select(_page(A), failed)
    train = _page(A, "train.py", run=failed.name)
    for at in (runs, train):
        assert HOSTILE in [t.value for t in at.text]  # st.text: no Markdown, no HTML
        markdown = [m.value for m in (*at.markdown, *at.caption, *at.error, *at.warning, *at.info)]
        assert not [m for m in markdown if "](http://x" in m or "<b>" in m], markdown
    assert any(e.value.startswith("The run failed") for e in train.error)


def test_class_names_are_escaped_in_the_result_charts(runs_env):
    classes = ["<b>cat</b>", "dog & <a href='http://x'>co</a>"]
    test = {"type": "test", "split": "test", "dataset_split": "test", "step": 4, "epoch": 1.0, "loss": 0.5,
            "acc": 0.5, "per_class_acc": [0.5, 0.5], "confusion": [[1, 1], [1, 1]], "n": 4, "misclassified": []}
    done = _run(runs_env, A, classes=classes, test=test)
    at = _select(_page(A), done)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    labels = [x for spec in specs for trace in spec["data"] if trace.get("type") in ("heatmap", "bar")
              for x in trace["x"]]
    assert sorted(set(labels)) == sorted(results.plotly_text(c) for c in classes)
    assert "&lt;b&gt;cat&lt;/b&gt;" in labels
    assert not [x for x in labels if "<" in x or ">" in x]


@pytest.mark.slow  # a real training run or many runs on disk
def test_the_table_is_filtered_and_paginated(runs_env):
    mine = [_run(runs_env, A, state="failed" if i % 5 == 0 else "completed") for i in range(26)]
    theirs = [_run(runs_env, B) for _ in range(19)]
    at = _page(A)
    assert at.dataframe[0].value.shape[0] == 20 and at.pagination(key="runs_page").num_pages == 3
    at.pagination(key="runs_page").set_value(3).run()
    assert at.dataframe[0].value.shape[0] == 5
    # the pickers offer the page's runs (and what is already chosen), not the whole history
    page3 = set(at.dataframe[0].value["run"])
    options = set(at.selectbox(key="runs_selected").options)
    assert page3 <= options and len(options) <= len(page3) + 1
    at.radio(key="runs_filter_owner").set_value("mine").run()
    assert at.pagination(key="runs_page").num_pages == 2 and at.pagination(key="runs_page").value == 2
    shown = set(at.dataframe[0].value["run"])
    at.pagination(key="runs_page").set_value(1).run()
    shown |= set(at.dataframe[0].value["run"])
    assert shown == {r.name for r in mine}
    at.multiselect(key="runs_filter_state").set_value(["failed"]).run()
    table = at.dataframe[0].value
    assert set(table["run"]) == {r.name for r in mine[::5]} and set(table["status"]) == {"failed"}
    assert not at.pagination  # one page: no pager
    assert theirs[0].exists()
