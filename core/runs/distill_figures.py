"""What the Distill & self-train page shows, computed from run folders: teacher–student agreement, per-class
accuracy of both, overlaid curves, and a self-training run's stages (confidence histogram with the threshold,
kept per class, pseudo-label accuracy, test accuracy per stage against the labelled-only teacher).

Figures are Plotly, built here so the page stays thin and a notebook can draw the same thing.

Gotcha: agreement is the top-1 match rate of teacher and student on the *test* images, whatever the true label:
a student can agree 95 % with a teacher that is right 90 % of the time and copy its mistakes; that is what
distillation asks of it.
"""
from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import plotly.graph_objects as go
import torch
from torch.utils.data import DataLoader

from core.data import open_dataset
from core.models.shared import exclusive, load_run_model
from core.runs import store
from core.runs.results import RunView
from core.train.loop import IMAGENET_MEAN, IMAGENET_STD, to_model_input

MEASURED_FILE = Path(__file__).resolve().parents[2] / "bench" / "results" / "distill.json"  # bench.distill writes it
_LAYOUT = dict(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))


@torch.no_grad()
def agreement(teacher_run: str | os.PathLike, student_run: str | os.PathLike, split: str = "test",
              batch_size: int = 256) -> dict:
    """Top-1 agreement of two finished runs on ``split`` of the student's data set, and both accuracies
    (overall and per class): {"agreement", "n", "teacher_acc", "student_acc", "teacher_per_class",
    "student_per_class", "classes"}. Each model sees the images at its own run's image size."""

    teacher, student = load_run_model(teacher_run), load_run_model(student_run)
    cfg = store.load_config(student_run)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def predict(rm) -> tuple[torch.Tensor, torch.Tensor]:
        ds = open_dataset(cfg.dataset, split, image_size=rm.image_size, **cfg.dataset_options)
        preds, labels = [], []
        with exclusive(rm.model):
            for x, y in DataLoader(ds, batch_size=batch_size, shuffle=False):
                out = rm.model(to_model_input(x, torch.device("cpu"), mean, std))
                preds.append(out.argmax(1))
                labels.append(torch.as_tensor(y))
        return torch.cat(preds), torch.cat(labels)

    pt, y = predict(teacher)
    ps, _ = predict(student)
    K = len(student.classes)

    def per_class(p: torch.Tensor) -> list[float | None]:
        return [float((p[y == k] == k).float().mean()) if (y == k).any() else None for k in range(K)]

    return {"agreement": float((pt == ps).float().mean()), "n": int(len(y)),
            "teacher_acc": float((pt == y).float().mean()), "student_acc": float((ps == y).float().mean()),
            "teacher_per_class": per_class(pt), "student_per_class": per_class(ps), "classes": student.classes}


def overlay_figure(views: dict[str, RunView], metric: str = "acc") -> go.Figure:
    """Training (thin line) and validation (markers) ``metric`` of several runs on one chart, against epoch."""
    fig = go.Figure()
    for name, view in views.items():
        tr = view.train
        if tr:
            fig.add_scatter(x=[r["epoch"] for r in tr], y=[r[metric] for r in tr], mode="lines",
                            name=f"{name} · train", line=dict(width=1))
        if view.evals:
            fig.add_scatter(x=[r["epoch"] for r in view.evals], y=[r[metric] for r in view.evals],
                            mode="lines+markers", name=f"{name} · validation")
    fig.update_layout(title={"acc": "Accuracy", "loss": "Loss"}.get(metric, metric), xaxis_title="epoch", **_LAYOUT)
    if metric == "acc":
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def per_class_pair_figure(classes: list[str], series: dict[str, list[float | None]]) -> go.Figure:
    """Grouped bars: per-class accuracy of each named model (teacher, student with KD, without KD...)."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_bar(x=classes, y=[v if v is not None else 0 for v in values], name=name)
    fig.update_layout(title="Per-class test accuracy", barmode="group", **_LAYOUT)
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def confidence_figure(pseudo: dict) -> go.Figure:
    """The teacher's top probability over the unlabelled pool (stacked: right / wrong where true labels exist),
    with the threshold drawn: everything right of the line became a training label."""
    edges = pseudo["hist_edges"]
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    width = edges[1] - edges[0]
    right = pseudo["hist_correct"]
    wrong = [a - c for a, c in zip(pseudo["hist_all"], right)]
    fig = go.Figure()
    fig.add_bar(x=mids, y=right, width=width, name="pseudo-label right", marker_color="#2ca02c")
    fig.add_bar(x=mids, y=wrong, width=width, name="pseudo-label wrong", marker_color="#d62728")
    fig.add_vline(x=pseudo["threshold"], line_dash="dash", annotation_text=f"threshold {pseudo['threshold']:g}")
    fig.update_layout(title=f"Teacher confidence on {pseudo['n_pool']} unlabelled images (stage {pseudo['stage']})",
                      barmode="stack", xaxis_title="top probability", yaxis_title="images", **_LAYOUT)
    fig.update_xaxes(range=[0, 1])
    return fig


def kept_figure(pseudo: dict, classes: list[str]) -> go.Figure:
    """Pseudo-labelled images kept per (predicted) class, and how many of them are right."""
    kept, right = pseudo["kept_per_class"], pseudo.get("kept_correct_per_class") or [0] * len(classes)
    fig = go.Figure()
    fig.add_bar(x=classes, y=right, name="right")
    fig.add_bar(x=classes, y=[k - r for k, r in zip(kept, right)], name="wrong")
    fig.update_layout(title=f"Kept per class (stage {pseudo['stage']}: {pseudo['n_kept']} of {pseudo['n_pool']})",
                      barmode="stack", **_LAYOUT)
    fig.update_yaxes(rangemode="nonnegative", title="images")  # none kept: 0 at the bottom, not an axis from -1
    return fig


def stages_figure(stages: list[dict]) -> go.Figure:
    """Test accuracy after each stage; stage 0 is the labelled-only teacher (dashed line across)."""
    done = [s for s in stages if s.get("test_acc") is not None]
    fig = go.Figure()
    fig.add_bar(x=[f"stage {s['stage']}" + (" (teacher)" if s["stage"] == 0 else "") for s in done],
                y=[s["test_acc"] for s in done], text=[f"{100 * s['test_acc']:.1f}%" for s in done],
                name="test accuracy")
    if done and done[0]["stage"] == 0:
        fig.add_hline(y=done[0]["test_acc"], line_dash="dash", annotation_text="labelled-only teacher",
                      annotation_position="top left")
    fig.update_layout(title="Test accuracy per self-training stage", **_LAYOUT)
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def loss_parts_figure(view: RunView) -> go.Figure:
    """A distillation run's training loss and its two parts against epoch: cross-entropy on the labels and the
    KD term (T² · KL to the teacher), each as logged (unweighted); the total is α · KD + (1 − α) · CE."""
    fig = go.Figure()
    tr = view.train
    for key, name, dash in (("loss", "total (α·KD + (1−α)·CE)", None), ("loss_ce", "cross-entropy (labels)", "dot"),
                            ("loss_kd", "KD term (teacher)", "dash")):
        pts = [(r["epoch"], r[key]) for r in tr if r.get(key) is not None]
        if pts:
            fig.add_scatter(x=[e for e, _ in pts], y=[v for _, v in pts], mode="lines", name=name,
                            line=dict(dash=dash))
    fig.update_layout(title="Training loss and its parts", xaxis_title="epoch", **_LAYOUT)
    return fig


def pseudo_rounds_figure(stages: list[dict]) -> go.Figure:
    """Per self-training round (student stage): pseudo-label accuracy of the kept images and of the whole pool
    (scored with the pool's hidden labels), and the share of the pool kept."""
    rounds = [s for s in stages if s.get("pseudo")]
    x = [f"stage {s['stage']}" for s in rounds]
    fig = go.Figure()

    def series(key: str) -> list[float | None]:
        return [s["pseudo"].get(key) for s in rounds]

    fig.add_bar(x=x, y=series("acc_kept"), name="pseudo-label accuracy, kept",
                text=[f"{100 * v:.1f}%" if v is not None else "" for v in series("acc_kept")])
    fig.add_bar(x=x, y=series("acc_pool"), name="pseudo-label accuracy, whole pool",
                text=[f"{100 * v:.1f}%" if v is not None else "" for v in series("acc_pool")])
    kept = [s["pseudo"]["n_kept"] / s["pseudo"]["n_pool"] if s["pseudo"].get("n_pool") else None for s in rounds]
    fig.add_scatter(x=x, y=kept, mode="lines+markers+text", name="share of the pool kept",
                    text=[f"{s['pseudo']['n_kept']:,} kept" for s in rounds], textposition="top center")
    fig.update_layout(title="Pseudo-labels per round", barmode="group", **_LAYOUT)
    fig.update_yaxes(range=[0, 1.08], tickformat=".0%")
    return fig


def kept_examples(run_dir: str | os.PathLike, pseudo: dict, per_class: int = 4) -> list[dict]:
    """A few pool images the teacher's pseudo-labels kept, per predicted class: {"class", "image" (uint8
    ``[H, W, 3]``), "caption"} (the caption says when the hidden true label disagrees)."""
    cfg = store.load_config(run_dir)
    ds = open_dataset(cfg.dataset, "train", image_size=cfg.image_size, **cfg.dataset_options)
    classes = [str(c) for c in ds.classes]
    out = []
    for k, items in sorted(pseudo.get("examples", {}).items(), key=lambda kv: int(kv[0])):
        for e in items[:per_class]:
            image = ds[e["index"]][0]
            right = e["true"] == e["pred"]
            out.append({"class": classes[int(k)], "image": image.permute(1, 2, 0).numpy(),
                        "caption": f"{classes[e['pred']]} {100 * e['confidence']:.0f} %"
                        + ("" if right else f" (is {classes[e['true']]})")})
    return out


# ------------------------------------------------------------------ what bench.distill measured (the page's table)
def measured(path: str | os.PathLike | None = None) -> dict:
    """``bench/results/distill.json`` (written by ``python -m bench.distill``), or {} when it is missing or
    unreadable: the page then says that nothing was measured, instead of showing typed-in numbers."""
    try:
        data = json.loads(Path(path or MEASURED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def verdict(diff: dict) -> str:
    """"helped" / "hurt" when mean ± one standard deviation of the difference stays on one side of zero,
    else "made no clear difference" (``diff``: {"mean", "sd"})."""
    lo, hi = diff["mean"] - diff["sd"], diff["mean"] + diff["sd"]
    return "helped" if lo > 0 else "hurt" if hi < 0 else "made no clear difference"


def pseudo_label_effect(main: dict, control: dict) -> dict | None:
    """What the pseudo-labels add on top of the students' noise: per seed, stage 1's test accuracy of the
    self-training run minus that of the noise-only control (threshold 1.0: the same teacher, the same noise, no
    pseudo-label kept), as {"mean", "sd", "n"}; None without common seeds."""
    ctrl = {r["seed"]: r["test_acc"][1] for r in control.get("seeds", []) if len(r.get("test_acc", [])) > 1}
    diffs = [r["test_acc"][1] - ctrl[r["seed"]] for r in main.get("seeds", [])
             if r.get("seed") in ctrl and len(r.get("test_acc", [])) > 1]
    if not diffs:
        return None
    return {"mean": statistics.mean(diffs), "sd": statistics.stdev(diffs) if len(diffs) > 1 else 0.0,
            "n": len(diffs)}


def _pm(s: dict, scale: float = 100.0, unit: str = " %") -> str:
    return f"{scale * s['mean']:.1f} ± {scale * s['sd']:.1f}{unit}"


def measured_kd_rows(m: dict) -> list[dict]:
    """Table rows of a KD measurement (``measured()["kd"]``): with / without KD, mean ± sd over seeds."""
    def cpu(key: str) -> str:
        v = [r[key] for r in m.get("seeds", []) if r.get(key) is not None]
        return f"{statistics.mean(v):.0f} s" if v else ""

    return [{"student": "with KD", "test accuracy": _pm(m["kd_acc"]),
             "top-1 match with the teacher": _pm(m["kd_agreement"]), "CPU time per run": cpu("kd_cpu_s")},
            {"student": "without KD", "test accuracy": _pm(m["plain_acc"]),
             "top-1 match with the teacher": _pm(m["plain_agreement"]), "CPU time per run": cpu("plain_cpu_s")},
            {"student": "difference", "test accuracy": _pm(m["diff"], unit=" points"),
             "top-1 match with the teacher": "", "CPU time per run": ""}]


def measured_selftrain_rows(m: dict) -> list[dict]:
    """Table rows of a self-training measurement (``measured()["self_train"]``): per stage, test accuracy and
    the kept pseudo-labels' accuracy, mean ± sd over seeds."""
    rows = []
    for i, acc in enumerate(m["stage_acc"]):
        kept = m["acc_kept"][i] if i < len(m.get("acc_kept", [])) else None
        n_kept = [r["n_kept"][i] for r in m["seeds"] if r["n_kept"][i] is not None]
        rows.append({"stage": "0 (teacher, labels only)" if i == 0 else str(i), "test accuracy": _pm(acc),
                     "pseudo-labels kept": f"{sum(n_kept) / len(n_kept):,.0f}" if n_kept else "",
                     "their accuracy": _pm(kept) if kept else ""})
    return rows
