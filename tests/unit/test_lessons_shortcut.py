"""Shortcut lesson: the bias option's stated correlation (train) and none (test), the hue augmentation, the three
engine runs (configs, group file, progress, results checked against the engine's own test record)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from core.data.shapes import ShapesDataset
from core.errors import InputError
from core.lessons import shortcut as sc
from core.lessons.data import load_lesson_data


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(tmp_path / "runs"))
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: see tests/unit/test_lessons_depth.py
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.parametrize("bias", [0.6, 1.0])
def test_bias_gives_the_stated_correlation_in_train_and_none_in_test(tmp_path, bias):
    n = 600
    tr = ShapesDataset("train", n=n, image_size=8, bias=bias, root=tmp_path)
    te = ShapesDataset("test", n=n, n_eval=n, image_size=8, bias=bias, root=tmp_path)
    stated = bias + (1 - bias) / 6
    # A binomial proportion: 4 standard errors of slack.
    tol = 4 * math.sqrt(max(stated * (1 - stated), 1e-4) / n)
    assert tr.background_shortcut_accuracy() == pytest.approx(stated, abs=tol)
    assert te.background_shortcut_accuracy() == pytest.approx(1 / 6, abs=4 * math.sqrt((1 / 6) * (5 / 6) / n))
    if bias == 1.0:
        assert tr.background_shortcut_accuracy() == 1.0


def test_lesson_data_carries_the_background_labels():
    d = load_lesson_data("shapes", train_size=60, n_test=30, image_size=8, bias=1.0)
    assert torch.equal(d.bg_train, d.y_train)
    assert not torch.equal(d.bg_test, d.y_test)


def test_hue_augmentation_moves_a_red_background_around_the_colour_wheel():
    from core.augment import build_transform

    t = build_transform(sc.HUE_AUGMENTATION)
    red = torch.zeros(3, 8, 8, dtype=torch.uint8)
    red[0] = 200
    torch.manual_seed(0)
    strongest = {int(t(red.clone()).float().mean(dim=(1, 2)).argmax()) for _ in range(40)}
    assert strongest == {0, 1, 2}  # red, green and blue each come out on top at some draws
    grey = torch.full((3, 8, 8), 120, dtype=torch.uint8)
    assert torch.equal(t(grey), grey)  # a hue shift leaves grey alone


def test_three_configs_differ_only_in_data_bias_and_augmentation():
    cfgs = sc.shortcut_configs(sc.ShortcutSettings(bias=0.8, n=1000, epochs=3))
    assert list(cfgs) == list(sc.LABELS)
    for c in cfgs.values():
        c.validate()
    dicts = {k: c.to_dict() for k, c in cfgs.items()}
    assert dicts[sc.BIASED]["dataset_options"] == {"n": 1000, "bias": 0.8}
    assert dicts[sc.UNBIASED]["dataset_options"]["bias"] == 0.0
    assert dicts[sc.AUGMENTED]["augmentation"] == sc.HUE_AUGMENTATION and dicts[sc.BIASED]["augmentation"] == "none"
    same = [k for k in dicts[sc.BIASED] if k not in ("dataset_options", "augmentation")]
    assert all(dicts[sc.BIASED][k] == dicts[other][k] for k in same for other in (sc.AUGMENTED, sc.UNBIASED))


@pytest.mark.parametrize("field,value", [("bias", 1.5), ("n", 10), ("epochs", 0), ("image_size", 16)])
def test_bad_settings_are_refused(field, value):
    with pytest.raises(InputError, match=field):
        sc.shortcut_configs(sc.ShortcutSettings(**{field: value}))


def _run_in_process(monkeypatch):
    """Workers run in this process, one after another (a subprocess per run would cost seconds of imports)."""
    from core.runs import launcher, worker

    monkeypatch.setattr(launcher, "spawn", lambda run_dir: worker.execute(run_dir))


@pytest.mark.slow
def test_the_three_runs_go_through_the_engine_and_are_evaluated(monkeypatch):
    from core.runs import store

    _run_in_process(monkeypatch)
    settings = sc.ShortcutSettings(bias=1.0, n=72, epochs=1, image_size=32)
    with store.owned_by("student-a"):
        group = sc.start_shortcut(settings)
    assert json.loads(group.path.read_text())["owner"] == "student-a"
    assert sc.latest_group("student-a").path == group.path and sc.latest_group("student-b") is None
    # One run at a time: the first ran (in this process) at the start, the others wait for advance().
    assert [p.state for p in sc.group_progress(group)] == ["completed", "waiting", "waiting"]
    group = sc.wait_for_group(group, timeout=600)
    progress = sc.group_progress(group)
    assert [p.label for p in progress] == list(sc.LABELS) and all(p.state == "completed" for p in progress)
    assert all(store.read_status(p.run_dir).get("owner") == "student-a" for p in progress)

    res = sc.shortcut_results(group, n_pointing=4)
    assert [m.label for m in res.models] == list(sc.LABELS)
    assert res.shortcut_train == 1.0 and res.train_size == 66  # stratified 10 %: 1 of each class's 12 images held out
    for m in res.models:
        # Our evaluation of the saved network and the engine's own final test saw the same 12 images (72 / 6).
        assert m.test_accuracy == pytest.approx(m.run_test_accuracy)
        assert 0 <= m.colour_test_accuracy <= 1 and m.losses and m.pointing is not None
    assert res.model(sc.AUGMENTED).augmented and res.model(sc.UNBIASED).train_bias == 0.0
    b = res.model(sc.BIASED)
    assert f"{b.val_accuracy:.0%}" in res.conclusion() and f"{b.test_accuracy:.0%}" in res.conclusion()
    assert res.seconds > 0
    seconds, settings_then = sc.last_duration()  # what the page states before the next start
    assert seconds == res.seconds and settings_then == settings


def test_runs_start_one_at_a_time_and_results_wait_for_all_three(monkeypatch):
    from core.runs import launcher

    started = []
    monkeypatch.setattr(launcher, "spawn", started.append)  # started, never picked up by a worker
    group = sc.start_shortcut(sc.ShortcutSettings(n=60, epochs=1, image_size=32))
    for _ in range(3):  # polls while the first run is queued start nothing else
        group = sc.advance(group)
    assert [p.state for p in sc.group_progress(group)] == ["queued", "waiting", "waiting"] and len(started) == 1
    with pytest.raises(sc.ShortcutError, match="biased data is queued.*unbiased data is waiting"):
        sc.shortcut_results(group)
    from core.runs import store

    store.write_status(group.runs[sc.BIASED], state="failed", message="out of memory")  # a run that stops ...
    group = sc.advance(group)
    progress = sc.group_progress(group)
    assert progress[0].stopped and progress[0].message == "out of memory"  # ... without completing ends the lesson
    assert len(started) == 1 and sc.wait_for_group(group).runs[sc.AUGMENTED] is None
    assert sc.last_duration() is None  # no lesson completed here


def test_a_full_queue_leaves_no_group_behind(monkeypatch):
    from core.runs import launcher
    from core.runs.store import RunError

    def full(*args, **kwargs):
        raise RunError("you already have 2 runs queued or running")

    monkeypatch.setattr(launcher, "start", full)
    with pytest.raises(RunError, match="2 runs"):
        sc.start_shortcut(sc.ShortcutSettings())
    assert sc.latest_group() is None and not list((sc._group_dir()).glob("*.json"))


def test_unreadable_group_files_are_refused_and_skipped(tmp_path):
    folder = tmp_path / "home" / "lessons" / "shortcut"
    folder.mkdir(parents=True)
    (folder / "99999999-bad.json").write_text("{not json")
    with pytest.raises(sc.ShortcutError, match="not a shortcut-lesson group"):
        sc.load_group(folder / "99999999-bad.json")
    assert sc.latest_group() is None
