"""Issue 14.7: one implementation of each small rule that used to be written twice."""
from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from core.train.config import TrainConfig


def test_one_seconds_format_for_the_log_and_the_pages():
    from core.runs import results, worker

    assert results.format_seconds is worker.format_seconds
    cases = {None: "?", math.nan: "?", 0: "0s", 59.4: "59s", 60: "1m00s", 187: "3m07s", 3599: "59m59s",
             3600: "1h00m", 3900: "1h05m"}
    for s, text in cases.items():
        assert worker.format_seconds(s) == text, s
    line = worker.format_record({"type": "train", "step": 1, "total_steps": 2, "epoch": 0.5, "loss": 1.0,
                                 "acc": 0.5, "lr": 1e-3, "img_per_s": 10.0, "eta_s": 3900})
    assert line.endswith("ETA 1h05m")


def test_cli_json_and_run_files_clean_values_the_same_way(tmp_path):
    from core.cli._common import print_json
    from core.runs import store

    obj = {"a": math.nan, "b": [math.inf, -math.inf, 1.5, (1, 2)], 3: Path("/x"), "c": {"d": None}}
    expected = {"a": None, "b": [None, None, 1.5, [1, 2]], "3": "/x", "c": {"d": None}}
    buf = io.StringIO()
    with redirect_stdout(buf):
        print_json(obj)
    assert json.loads(buf.getvalue()) == expected
    store.atomic_write_json(tmp_path / "x.json", obj)
    assert json.loads((tmp_path / "x.json").read_text()) == expected


@pytest.mark.parametrize("epochs,max_steps,spe,expected", [(3, None, 10, 30), (3, 25, 10, 25), (3, 40, 10, 30),
                                                           (1, 1, 7, 1)])
def test_total_steps_one_rule_for_loop_and_estimate(epochs, max_steps, spe, expected):
    from core.train.data import epoch_steps, total_steps
    from core.train.estimate import extrapolate

    cfg = TrainConfig(epochs=epochs, max_steps=max_steps, batch_size=4)
    assert total_steps(cfg, spe) == expected
    n = spe * 4  # spe full batches of 4
    assert epoch_steps(n, 4)[0] == spe
    assert extrapolate(cfg, 100.0, n, 0, 0)[0] == expected


def test_imagenet_statistics_defined_once():
    from core.models import preprocessing
    from core.train import estimate, loop

    assert loop.IMAGENET_MEAN is preprocessing.IMAGENET_MEAN and loop.IMAGENET_STD is preprocessing.IMAGENET_STD
    assert estimate.IMAGENET_MEAN is preprocessing.IMAGENET_MEAN


def test_cli_foreground_resume_refuses_what_the_launcher_refuses(tmp_path):
    """``runs resume RUN`` in the foreground goes through launcher.resume's checks (no copy of the rules)."""
    import argparse

    from core.cli import runs as cli_runs
    from core.runs import launcher, store

    run_dir = store.create_run(TrainConfig(arch="lenet5", max_steps=1), tmp_path)
    store.write_status(run_dir, state="completed", pid=None)
    args = argparse.Namespace(runs_command="resume", run=str(run_dir), runs_dir=None, json=True, quiet=True,
                              background=False)
    with pytest.raises(store.RunError) as from_launcher:
        launcher.resume(run_dir, start_worker=False)
    with pytest.raises(store.RunError) as from_cli:
        cli_runs.run(args)
    assert str(from_cli.value) == str(from_launcher.value) and "already completed" in str(from_cli.value)
    assert store.read_status(run_dir)["state"] == "completed"  # nothing was queued
