"""Runs as detached worker processes: start, complete, cancel, SIGKILL → interrupted → resume, queueing, CLI."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.runs import launcher, store
from core.train import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
# A LeNet-5 step takes milliseconds: these runs are about process handling, not learning.
QUICK = dict(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, optimizer="adamw", lr=3e-3,
             log_every=2)
LONG = dict(QUICK, epochs=200, max_steps=100_000)  # runs until stopped


def wait_for(cond, timeout=120.0, poll=0.1, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def trained_steps(run_dir):
    return max((r["step"] for r in store.read_metrics(run_dir) if r.get("type") == "train"), default=0)


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    yield root
    # never leave a worker behind: cancel what is still active, then kill what does not stop
    for run_dir in root.glob("*/") if root.exists() else []:
        if store.is_active(run_dir):
            launcher.cancel(run_dir)
    time.sleep(0.5)
    for run_dir in root.glob("*/") if root.exists() else []:
        st = store.read_status(run_dir)
        if st.get("pid") and store.pid_alive(st["pid"], st.get("pid_start")):
            os.kill(st["pid"], signal.SIGKILL)


def test_background_run_completes_with_checkpoint_and_log(runs):
    run_dir = launcher.start(TrainConfig(**QUICK, epochs=1, max_steps=6), runs)
    st = launcher.wait(run_dir, timeout=300)
    assert st["state"] == "completed", st
    assert store.has_checkpoint(run_dir, "last") and store.has_checkpoint(run_dir, "best")
    summary = store.run_summary(run_dir)
    assert summary["step"] == 6 and summary["test_acc"] is not None and summary["duration_s"] > 0
    assert "step 6/6" in (run_dir / store.LOG_FILE).read_text()
    with pytest.raises(store.RunError, match="already completed"):
        launcher.resume(run_dir)


def test_cancel_stops_within_seconds_with_a_checkpoint_then_cli_resume_continues(runs):
    run_dir = launcher.start(TrainConfig(**{**LONG, "max_steps": 40}), runs)
    wait_for(lambda: trained_steps(run_dir) >= 2, what="first steps")
    launcher.cancel(run_dir)
    t0 = time.time()
    st = launcher.wait(run_dir, timeout=60)
    assert st["state"] == "cancelled", st
    assert time.time() - t0 < 15
    step = store.checkpoint_meta(run_dir)["step"]
    assert step >= 2
    p = _cli("runs", "resume", str(run_dir), "--json", "--quiet")  # in the foreground, from the CLI
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["state"] == "completed" and out["step"] == 40
    assert store.effective_status(run_dir)["state"] == "completed"
    steps = [r["step"] for r in store.read_metrics(run_dir) if r["type"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == 40  # each step shown once, none lost


def test_sigkill_reads_as_interrupted_and_resumes_from_last_checkpoint(runs):
    cfg = TrainConfig(**{**LONG, "max_steps": 30, "checkpoint_every_s": 0.2})
    run_dir = launcher.start(cfg, runs)
    wait_for(lambda: store.has_checkpoint(run_dir) and trained_steps(run_dir) >= 4, what="a checkpoint")
    pid = store.read_status(run_dir)["pid"]
    os.kill(pid, signal.SIGKILL)
    st = wait_for(lambda: (s := store.effective_status(run_dir))["state"] == "interrupted" and s, timeout=10,
                  what="interrupted")
    assert st["recorded_state"] == "running" and "resume" in st["message"]
    assert store.list_runs(runs)[0]["state"] == "interrupted"
    launcher.resume(run_dir)
    assert launcher.wait(run_dir, timeout=300)["state"] == "completed"
    assert any(r["type"] == "resume" and r["step"] > 0 for r in store.read_metrics(run_dir, resolve_resumes=False))


def test_second_run_on_the_same_device_waits_in_the_queue(runs):
    first = launcher.start(TrainConfig(**LONG), runs)
    wait_for(lambda: store.read_status(first)["state"] == "running", what="first running")
    second = launcher.start(TrainConfig(**QUICK, epochs=1, max_steps=2), runs)
    time.sleep(3)
    assert store.effective_status(second)["state"] == "queued"
    assert trained_steps(second) == 0
    # a queued worker waits without the training code (torch): a small process beside the ~0.5 GB running one
    waiting_pid = wait_for(lambda: store.read_status(second).get("pid"), what="queued worker's pid")
    wait_for(lambda: "queued:" in str(store.read_status(second).get("message")), what="queued in the lock")
    queued_mb, running_mb = _rss_mb(waiting_pid), _rss_mb(store.read_status(first)["pid"])
    assert queued_mb < 120 < 300 < running_mb, (queued_mb, running_mb)
    launcher.cancel(first)
    assert launcher.wait(first, timeout=60)["state"] == "cancelled"
    assert launcher.wait(second, timeout=300)["state"] == "completed"
    # a queued run can be cancelled before it ever starts
    pair = [launcher.start(TrainConfig(**LONG), runs), launcher.start(TrainConfig(**LONG), runs)]
    running = wait_for(lambda: [r for r in pair if store.read_status(r)["state"] == "running"], what="one running")
    assert len(running) == 1  # whichever got the device first; the other waits
    waiting = next(r for r in pair if r not in running)
    time.sleep(1)
    assert store.effective_status(waiting)["state"] == "queued"
    launcher.cancel(waiting)
    st = launcher.wait(waiting, timeout=60)
    assert st["state"] == "cancelled" and "queue" in st["message"]
    launcher.cancel(running[0])
    assert launcher.wait(running[0], timeout=60)["state"] == "cancelled"


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def _cli(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_cli_train_json_then_runs_list(runs):
    p = _cli("train", "--arch", "lenet5", "--dataset", "shapes", "--dataset-options", '{"n": 120}',
             "--epochs", "1", "--max-steps", "4", "--batch-size", "16", "--image-size", "32",
             "--runs-dir", str(runs), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["state"] == "completed" and out["step"] == 4 and Path(out["run_dir"]).is_dir()
    assert 0 <= out["test"]["acc"] <= 1
    assert store.read_status(out["run_dir"])["state"] == "completed"
    p = _cli("runs", "list", "--runs-dir", str(runs), "--json")
    listed = json.loads(p.stdout)
    assert [r["path"] for r in listed] == [out["run_dir"]] and listed[0]["state"] == "completed"
    # a user error is one line on stderr with exit status 2
    p = _cli("train", "--mode", "sideways", "--runs-dir", str(runs))
    assert p.returncode == 2 and p.stderr.startswith("error: mode must be one of") and "Traceback" not in p.stderr
    p = _cli("runs", "resume", out["run_dir"])
    assert p.returncode == 2 and "already completed" in p.stderr


def test_torchrun_two_cpu_processes_end_with_identical_weights(runs):
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    p = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "core", "train",
                        "--arch", "resnet18", "--dataset-options", '{"n": 96}', "--image-size", "32",
                        "--batch-size", "8", "--max-steps", "3", "--device", "cpu", "--runs-dir", str(runs),
                        "--json", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)  # only rank 0 prints
    assert out["state"] == "completed" and out["step"] == 3
    shas = out["rank_weight_sha256"]
    assert len(shas) == 2 and shas[0] == shas[1]
    assert len([p for p in runs.iterdir() if not p.name.startswith(".")]) == 1  # one run folder, by rank 0
    meta = next(r for r in store.read_metrics(out["run_dir"]) if r["type"] == "meta")
    assert meta["world_size"] == 2
    ck = store.load_checkpoint(out["run_dir"], with_train_state=False)
    assert not any(k.startswith("module.") for k in ck["model"])  # saved without the DDP wrapper
    assert torch.isfinite(ck["model"]["fc.weight"]).all()
