"""Run folders: atomic files, tolerant metrics, checkpoints that survive SIGKILL, liveness of workers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from core.runs import store
from core.train.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_dir(tmp_path):
    return store.create_run(TrainConfig(), tmp_path / "runs")


def test_create_run_writes_config_and_queued_status(run_dir):
    assert TrainConfig.load(run_dir / "config.json") == TrainConfig()
    st = store.read_status(run_dir)
    assert st["state"] == "queued" and st["pid"] is None
    assert store.run_path(run_dir.name, run_dir.parent) == run_dir
    with pytest.raises(store.RunError):
        store.run_path(run_dir.parent / "nope")


def test_atomic_write_leaves_no_temp_files(tmp_path):
    p = tmp_path / "x.json"
    for i in range(5):
        store.atomic_write_json(p, {"i": i, "bad": float("nan")})
    assert json.loads(p.read_text()) == {"i": 4, "bad": None}
    assert [q.name for q in tmp_path.iterdir()] == ["x.json"]


def test_truncated_metrics_line_is_skipped_and_next_append_still_readable(run_dir):
    store.append_metrics(run_dir, {"type": "train", "step": 1, "loss": 2.0})
    with open(run_dir / store.METRICS_FILE, "a") as f:
        f.write('{"type": "train", "step": 2, "lo')  # a writer died mid-line
    assert [r["step"] for r in store.read_metrics(run_dir)] == [1]
    store.append_metrics(run_dir, {"type": "train", "step": 3, "loss": 1.0})
    assert [r["step"] for r in store.read_metrics(run_dir)] == [1, 3]
    (run_dir / store.METRICS_FILE).write_bytes(b"\xff\xfe garbage\n[1]\n")
    assert store.read_metrics(run_dir) == []


def test_resume_record_drops_steps_redone_after_the_checkpoint(run_dir):
    for rec in [{"type": "meta", "step": 0}, {"type": "train", "step": 10}, {"type": "train", "step": 20},
                {"type": "eval", "step": 20}, {"type": "train", "step": 30}, {"type": "resume", "step": 20},
                {"type": "train", "step": 30}]:
        store.append_metrics(run_dir, rec)
    got = [(r["type"], r["step"]) for r in store.read_metrics(run_dir)]
    assert got == [("meta", 0), ("train", 10), ("train", 20), ("eval", 20), ("resume", 20), ("train", 30)]
    assert len(store.read_metrics(run_dir, resolve_resumes=False)) == 7


def test_checkpoint_round_trip_and_garbage_collection(run_dir):
    w1 = {"a": torch.full((3, 3), 1.0), "b": torch.arange(4)}
    store.save_checkpoint(run_dir, w1, {"step": 1}, {"tensors": {"optim.0.m": torch.ones(2)}, "json": {"k": 1}},
                          best=True)
    w2 = {"a": torch.full((3, 3), 2.0), "b": torch.arange(4)}
    store.save_checkpoint(run_dir, w2, {"step": 2}, {"tensors": {"optim.0.m": torch.zeros(2)}, "json": {"k": 2}})
    last = store.load_checkpoint(run_dir, "last")
    assert last["meta"]["step"] == 2 and torch.equal(last["model"]["a"], w2["a"])
    assert last["train_state"]["json"] == {"k": 2} and torch.equal(last["train_state"]["tensors"]["optim.0.m"],
                                                                   torch.zeros(2))
    best = store.load_checkpoint(run_dir, "best", with_train_state=False)
    assert best["meta"]["step"] == 1 and torch.equal(best["model"]["a"], w1["a"])
    # aliases for other tools: plain safetensors state dicts
    from safetensors.torch import load_file

    assert torch.equal(load_file(run_dir / "last.safetensors")["a"], w2["a"])
    assert torch.equal(load_file(run_dir / "best.safetensors")["a"], w1["a"])
    # only the files referenced by last.json / best.json remain: best weights, last weights and state
    assert len(list((run_dir / store.CKPT_DIR).iterdir())) == 3


def test_no_checkpoint_is_a_clear_error(run_dir):
    assert not store.has_checkpoint(run_dir)
    with pytest.raises(store.RunError, match="no last checkpoint"):
        store.load_checkpoint(run_dir)


_SAVER = textwrap.dedent("""
    import sys, torch
    from core.runs import store
    run_dir = sys.argv[1]
    step = 0
    while True:
        step += 1
        w = {"w": torch.full((256, 1024), float(step))}   # 1 MiB of weights
        s = {"tensors": {"optim.0.momentum_buffer": torch.full((256, 1024), float(step))}, "json": {"step": step}}
        store.save_checkpoint(run_dir, w, {"step": step}, s, best=step % 3 == 0)
        print(step, flush=True)
""")


def test_sigkill_during_checkpoint_writes_leaves_a_loadable_checkpoint(run_dir):
    script = run_dir / "saver.py"
    script.write_text(_SAVER)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for delay in (0.0, 0.017, 0.061):
        proc = subprocess.Popen([sys.executable, str(script), str(run_dir)], stdout=subprocess.PIPE, env=env)
        proc.stdout.readline()  # at least one complete save
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ck = store.load_checkpoint(run_dir, "last")
        step = ck["meta"]["step"]
        assert step >= 1
        assert torch.all(ck["model"]["w"] == step)  # weights, state and metadata belong to the same step
        assert torch.all(ck["train_state"]["tensors"]["optim.0.momentum_buffer"] == step)
        assert ck["train_state"]["json"]["step"] == step
        if store.has_checkpoint(run_dir, "best"):
            b = store.load_checkpoint(run_dir, "best", with_train_state=False)
            assert torch.all(b["model"]["w"] == b["meta"]["step"])


def test_dead_pid_reads_as_interrupted_and_zombie_counts_as_dead(run_dir):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    store.write_status(run_dir, state="running", pid=proc.pid, pid_start=store.process_start_time(proc.pid))
    assert store.effective_status(run_dir)["state"] == "running"
    assert store.is_active(run_dir)
    with pytest.raises(store.RunError, match="cancel it first"):
        store.delete_run(run_dir)
    os.kill(proc.pid, signal.SIGKILL)
    time.sleep(0.3)  # not reaped yet: a zombie
    st = store.effective_status(run_dir)
    assert st["state"] == "interrupted" and st["recorded_state"] == "running"
    proc.wait()
    assert store.effective_status(run_dir)["state"] == "interrupted"
    # a reused pid (different start time) is not our worker
    store.write_status(run_dir, state="running", pid=os.getpid(), pid_start=1)
    assert store.effective_status(run_dir)["state"] == "interrupted"


def test_list_latest_active_and_delete(tmp_path):
    root = tmp_path / "runs"
    a = store.create_run(TrainConfig(), root)
    store.write_status(a, state="completed", started=time.time() - 5, ended=time.time())
    time.sleep(1.1)
    b = store.create_run(TrainConfig(arch="alexnet"), root)
    store.write_status(b, state="running", pid=os.getpid(), pid_start=store.process_start_time(os.getpid()))
    runs = store.list_runs(root)
    assert [r["id"] for r in runs] == [b.name, a.name]
    assert runs[1]["state"] == "completed" and runs[1]["duration_s"] == pytest.approx(5, abs=0.5)
    assert store.latest_active_run(root) == b
    store.delete_run(a)
    assert not a.exists() and [r["id"] for r in store.list_runs(root)] == [b.name]


def test_run_ids_from_urls_are_checked():
    assert store.validate_run_id("20250101-120000-resnet18-shapes-1a2b")
    for bad in ("", "../etc", "a/b", "x" * 200, "a b"):
        with pytest.raises(ValueError):
            store.validate_run_id(bad)


# ---------------------------------------------------------------- owners (issue 13.2)
def test_a_run_records_its_owner_explicitly_or_from_the_enclosing_block(tmp_path):
    import threading

    from core.runs import owners

    token = owners.new_token()
    me = owners.owner_id(token)
    assert owners.valid_token(token) and me != token and token not in me  # run files never hold the token
    explicit = store.create_run(TrainConfig(), tmp_path, owner=me)
    assert store.read_status(explicit)["owner"] == me
    seen = {}

    def other_session():  # a concurrent page session in another thread does not inherit this block's owner
        seen["owner"] = store.current_owner()

    with store.owned_by(me):
        scoped = store.create_run(TrainConfig(), tmp_path)
        t = threading.Thread(target=other_session)
        t.start()
        t.join()
    assert seen["owner"] is None
    assert store.read_status(scoped)["owner"] == me
    cli = store.create_run(TrainConfig(), tmp_path)  # outside any block: the CLI's runs belong to nobody
    assert store.read_status(cli)["owner"] is None and store.run_summary(cli)["owner"] is None
    store.write_status(scoped, state="running")  # later status writes keep the owner
    assert store.run_summary(scoped)["owner"] == me


def test_who_may_act_on_a_run(monkeypatch):
    from core.runs import owners

    a, b = owners.owner_id(owners.new_token()), owners.owner_id(owners.new_token())
    assert a != b
    assert owners.may_act(a, a) and not owners.may_act(a, b)
    assert not owners.may_act(None, a)  # a run from before owners: nobody's
    assert owners.may_act(a, b, instructor=True) and owners.may_act(None, b, instructor=True)
    with pytest.raises(owners.NotYourRun, match="another browser"):
        owners.check_may_act(a, b, run_id="r1")
    assert owners.owner_label(a, a) == "you" and owners.owner_label(a, b) == "someone else"
    assert owners.owner_label(None, a) == "nobody"
    for bad in ("", "short", "x" * 65, "a/b" * 8, None, 123, "../../etc/passwd0000"):
        assert not owners.valid_token(bad)


def test_the_instructor_secret(monkeypatch):
    from core.runs import owners

    monkeypatch.delenv(owners.INSTRUCTOR_ENV, raising=False)
    assert not owners.instructor_configured() and not owners.check_instructor_secret("")
    assert not owners.check_instructor_secret("anything")
    monkeypatch.setenv(owners.INSTRUCTOR_ENV, "   ")  # blank: not configured, so no empty secret ever matches
    assert not owners.instructor_configured() and not owners.check_instructor_secret("   ")
    monkeypatch.setenv(owners.INSTRUCTOR_ENV, "correct horse battery")
    assert owners.instructor_configured()
    assert owners.check_instructor_secret("correct horse battery")
    assert owners.check_instructor_secret(" correct horse battery\n")  # pasted with whitespace
    assert not owners.check_instructor_secret("correct horse")
    assert not owners.check_instructor_secret(None)


# ---------------------------------------------------------------- user text (issue 13.6)
@pytest.mark.parametrize("text", [
    "folder /data/[link](http://x) ![img](http://x/i.png) <b>bold</b> `code` *em* ~~s~~ $x^2$ :red[hi] a|b",
    "# heading\n- item\n+ item\n> quote\n12. twelve\n3) three\nwww.example.com _lead and trail_ snake_case_name",
    "/tmp/pytest-of-me/pytest-3/test_train_page_0/data",
])
def test_plain_markdown_escapes_every_construct_and_keeps_the_text(text):
    import re

    from core.runs.results import plain_markdown

    out = plain_markdown(text)
    # CommonMark: a backslash before ASCII punctuation shows that character; removing them gives the text back
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", out) == text
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", out)  # what is left unescaped
    for construct in ("[", "]", "<", ">", "`", "*", "~", "$", "|", "://", "www."):
        assert construct not in bare, (construct, out)
    for line in bare.splitlines():  # no list, heading or quote marker starts a line
        assert not re.match(r"\s*([#+>-]|\d+[.)])", line), (line, out)
    if "snake_case_name" in text:  # emphasis underscores escaped, those inside a word kept
        assert "_lead" not in bare and "trail_" not in bare and "snake_case_name" in out
    if text.startswith("/tmp"):
        assert out == text  # a plain path stays readable (and searchable) as typed
