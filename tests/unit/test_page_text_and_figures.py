"""Issue 14.1: the words and figures pages used to build inline now live in core; each says what its input says."""
from __future__ import annotations

from core.augment import REGISTRY, resolve_spec
from core.augment.export import describe_spec
from core.data.figures import class_counts_figure
from core.runfiles import Records
from core.runs.results import RunView, curves_figure
from core.train.params import describe_config


def test_class_counts_figure_has_one_bar_per_class_and_escapes_names():
    counts = {"cat": 3, "<b>dog</b>": 5}
    fig = class_counts_figure(counts)
    bar = fig.data[0]
    assert list(bar.y) == [3, 5]
    assert list(bar.x) == ["cat", "&lt;b&gt;dog&lt;/b&gt;"]  # shown as typed, not bold
    assert fig.layout.xaxis.title.text == "class" and fig.layout.yaxis.title.text == "images"


def test_describe_spec_names_each_step_by_its_registry_title_in_order():
    names = [n for n in REGISTRY if not REGISTRY[n].is_batch][:2]
    spec = resolve_spec({"steps": [{"name": names[0], "p": 0.5}, {"name": names[1], "p": 1.0}], "mixing": None})
    assert describe_spec(spec) == f"{REGISTRY[names[0]].title} (p 0.5) → {REGISTRY[names[1]].title}"
    assert describe_spec(resolve_spec({"steps": [], "mixing": None})) == "no image steps"


def test_describe_config_reads_the_config():
    cfg = {"arch": "lenet5", "dataset": "shapes", "mode": "finetune_last_k", "weights": "/x/runs/20260101-run/",
           "epochs": 1, "max_steps": 1200, "batch_size": 32, "image_size": 48}
    text = describe_config(cfg)
    assert text.split(" · ")[0] == "LeNet-5"
    assert "from weights of run 20260101-run" in text and "1 epoch, at most 1,200 steps" in text
    assert text.endswith("batch 32 · 48 px")


def test_curves_figure_x_title():
    recs = [{"type": "train", "step": 1, "epoch": 0.5, "acc": 0.4, "loss": 1.0, "lr": 0.1}]
    view = RunView(run_dir=None, status={}, config={}, records=recs)
    assert curves_figure(view, "acc").layout.xaxis.title.text == "epoch"
    assert curves_figure(view, "acc", x_title="stage").layout.xaxis.title.text == "stage"
    assert Records(recs).step == 1


def test_kept_per_class_axis_starts_at_zero_when_nothing_was_kept():
    from core.runs.distill_figures import kept_figure

    pseudo = {"kept_per_class": [0, 0], "kept_correct_per_class": [0, 0], "stage": 1, "n_kept": 0, "n_pool": 240}
    fig = kept_figure(pseudo, ["a", "b"])
    assert fig.layout.yaxis.rangemode == "nonnegative"
    assert [list(t.y) for t in fig.data] == [[0, 0], [0, 0]] and fig.layout.yaxis.title.text == "images"
