"""What the Train and Runs pages draw from a run folder: curves, confusion matrix, per-class accuracy, mistakes.

Figures are Plotly (``plotly.graph_objects.Figure``), built here so that pages stay thin and notebooks can reuse
them. Everything reads the run folder through :mod:`core.runs.store` and tolerates a run that is still writing.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from core.runfiles import RecordViews
from core.runs import store
from core.runs.worker import format_seconds  # noqa: F401 - one duration format for the log and the pages


@dataclass
class RunView(RecordViews):
    """One snapshot of a run folder (a poll of the live view). ``meta``, ``train``, ``evals``, ``test``, ``phase``,
    ``classes``, ``best_val`` and ``step`` come from :class:`core.runfiles.RecordViews`, as the Runs table's do."""

    run_dir: Path
    status: dict  # effective status
    config: dict
    records: list[dict]

    @property
    def active(self) -> bool:
        return self.status.get("state") in store.ACTIVE_STATES

    def progress(self) -> dict:
        """step, total, fraction, img/s, ETA and a one-line text for the progress bar."""
        last = self.train[-1] if self.train else {}
        total = self.meta.get("total_steps") or last.get("total_steps") or 0
        step = self.step  # the same number as the Runs table and the status message
        frac = min(1.0, step / total) if total else 0.0
        if self.status.get("state") == "completed":
            frac = 1.0
        epochs = self.meta.get("epochs")
        eta = last.get("eta_s")
        parts = [f"step {step}/{total or '?'}"]
        if last:
            parts.append(f"epoch {last.get('epoch', 0):.2f}/{epochs}")
            parts.append(f"{last.get('img_per_s', 0):.0f} img/s")
            if self.active and eta is not None:
                parts.append(f"ETA {format_seconds(eta)}")
        return {"step": step, "total": total, "fraction": frac, "img_per_s": last.get("img_per_s"),
                "eta_s": eta if self.active else 0.0, "text": " · ".join(parts)}


# Below this many images a split's accuracy moves in coarse steps (1/n): 2 images can only say 0, 50 or 100 %.
TINY_SPLIT = 50


def format_acc(acc: float | None, n: int | None = None) -> str:
    """"87.5 % of 1,200": an accuracy with the number of images it was measured on; "—" when not measured."""
    if acc is None:
        return "—"
    return f"{100 * acc:.1f} %" + (f" of {n:,}" if n is not None else "")


def size_warnings(num_train: int | None, num_val: int | None, num_test: int | None) -> list[str]:
    """Warnings for splits under TINY_SPLIT images (and a missing validation split); None = size unknown."""
    out = []
    for n, name in ((num_train, "training"), (num_val, "validation"), (num_test, "test")):
        if n is not None and 0 < n < TINY_SPLIT:
            out.append(f"The {name} split has only {n} image{'s' if n != 1 else ''}: "
                       + ("too few to learn from" if name == "training" else
                          f"its accuracy can only move in steps of {100 / n:.0f} %, so treat it as a rough hint")
                       + ". Use a bigger data set" + (" or validation fraction." if name == "validation" else "."))
    if num_val == 0:
        out.append("There is no validation split (validation fraction 0): the best checkpoint cannot be chosen "
                   "by validation accuracy.")
    return out


def split_warnings(view: RunView) -> list[str]:
    """Reasons not to trust a run's accuracies: a split under TINY_SPLIT images, or a class with no images in the
    validation / evaluated split (its per-class accuracy is undefined, and the overall one ignores it)."""
    meta = view.meta
    out = size_warnings(meta.get("num_train"), meta.get("num_val"), meta.get("num_test")) if meta else []
    classes = view.classes
    for rec, name in ((view.evals[-1] if view.evals else None, "validation"), (view.test, None)):
        if not rec or not rec.get("confusion") or not classes:
            continue
        if name is None:
            name = "test" if rec.get("dataset_split") == "test" else "validation"
        empty = [c for c, row in zip(classes, rec["confusion"]) if sum(row) == 0]
        if empty:
            out.append(f"No {name} images of class {', '.join(empty)}: "
                       f"{'its accuracy is' if len(empty) == 1 else 'their accuracies are'} unknown.")
    return list(dict.fromkeys(out))  # the final evaluation may be the validation split again


def load_view(run_dir: str | os.PathLike) -> RunView:
    run_dir = Path(run_dir)
    return RunView(run_dir=run_dir, status=store.effective_status(run_dir),
                   config=store.read_json(run_dir / store.CONFIG_FILE, default={}) or {},
                   records=store.read_metrics(run_dir))


# ------------------------------------------------------------------ user text, shown as typed
# Class names come from folder names and messages repeat typed paths: what a user typed is shown as text, never
# interpreted. Streamlit's Markdown would turn "[x](http://…)" into a link, "![i](http://…)" into an image fetched
# by every viewer's browser and "$…$" into math; Plotly's labels accept a subset of HTML (<a href>, <b>, <br>).
# Where a page can, it shows such text with st.text; inside a Markdown element (st.error, st.caption) it escapes it.
_ALWAYS_ESCAPED = frozenset("\\`*[]<>~$|{}")
_LINE_START = re.compile(r"^(\s*)(?:([#+=>-])|(\d+)([.)]))", re.MULTILINE)


def plain_markdown(text: object) -> str:
    """``text`` escaped for a Markdown context (st.error, st.caption, st.info) so it renders exactly as typed.

    Escapes what makes links, images, HTML, code, emphasis, strike-through, math, tables and Streamlit's
    ``:color[…]`` directives, plus list / heading / quote markers at a line start, and breaks bare URLs
    ("http://", "www.") so they are not auto-linked. Underscores inside a word stay as they are (Markdown never
    reads them as emphasis), so a path such as ``/data/my_set`` still reads, and searches, as typed.
    """
    text = str(text)
    out = []
    for i, ch in enumerate(text):
        if ch in _ALWAYS_ESCAPED:
            out.append("\\" + ch)
        elif ch == "_" and not (0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()):
            out.append("\\_")
        else:
            out.append(ch)
    escaped = "".join(out).replace("://", ":\\/\\/").replace("www.", "www\\.")
    return _LINE_START.sub(lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"),
                           escaped)


def plotly_text(text: object) -> str:
    """``text`` for a Plotly label (axis category, bar, hover): HTML entities, which Plotly shows literally."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------ figures
# Okabe & Ito's colour-blind-safe palette (yellow left out: too pale on white). A run keeps its colour in both
# comparison charts; Streamlit's own colorway starts with two blues that students could not tell apart.
RUN_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
FEW_POINTS = 20  # curves with fewer points also draw markers
_LAYOUT = dict(height=300, margin=dict(l=10, r=10, t=56, b=10), legend=dict(orientation="h", y=-0.25))
# Plotly's toolbar appears on hover in the top-right corner: a centred title sat under it in a third-width chart.
# Titles go top-left, just above the plot area, with the toolbar above them and trimmed to the useful buttons.
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                                                  "autoScale2d"]}


def _title(text: str) -> dict:
    return dict(text=text, x=0, xref="paper", xanchor="left", y=1, yref="paper", yanchor="bottom", pad=dict(b=8))


def curves_figure(view: RunView, metric: str, x_title: str = "epoch") -> go.Figure:
    """``metric`` ∈ {"loss", "acc", "lr"}: training (per log interval) and validation (per epoch) vs. epoch
    (``x_title`` names the x axis: a self-training run's "epochs" are its stages)."""
    fig = go.Figure()
    tr = view.train
    if tr:  # markers as well while there are few points: one point drawn as a line is invisible
        fig.add_scatter(x=[r["epoch"] for r in tr], y=[r[metric] for r in tr],
                        mode="lines" if len(tr) >= FEW_POINTS else "lines+markers",
                        name="train" if metric != "lr" else "learning rate", line=dict(color=RUN_COLORS[0]))
    if metric != "lr" and view.evals:
        ev = view.evals
        fig.add_scatter(x=[r["epoch"] for r in ev], y=[r[metric] for r in ev], mode="lines+markers",
                        name="validation", line=dict(color=RUN_COLORS[1]))  # not a second blue
    title = {"loss": "Loss (cross-entropy)", "acc": "Accuracy", "lr": "Learning rate"}[metric]
    fig.update_layout(title=_title(title), xaxis_title=x_title, **_LAYOUT)
    if metric == "acc":
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def default_comparison(runs: list[dict], k: int = 2) -> list[str]:
    """Ids of the ``k`` newest finished runs (``runs``: store.list_runs(), newest first): completed, or cancelled
    with validation results. Only when there are fewer, other runs fill up (those with validation results
    first), so a failed run's single dot is never the default while a finished one exists."""
    def finished(r: dict) -> bool:
        return r["state"] == "completed" or (r["state"] == "cancelled" and r.get("best_val_acc") is not None)

    order = ([r for r in runs if finished(r)]
             + [r for r in runs if not finished(r) and r.get("best_val_acc") is not None]
             + [r for r in runs if not finished(r) and r.get("best_val_acc") is None])
    return [r["id"] for r in order][:k]


def compare_figure(views: dict[str, RunView], metric: str = "acc", split: str = "val") -> go.Figure:
    """One line per run: validation ``metric`` per epoch (or training ``metric`` with split="train"); run i gets
    ``RUN_COLORS[i]`` in every chart, even when it has no points in this one."""
    fig = go.Figure()
    for i, (name, view) in enumerate(views.items()):
        recs = view.evals if split == "val" else view.train
        if recs:
            color = RUN_COLORS[i % len(RUN_COLORS)]
            fig.add_scatter(x=[r["epoch"] for r in recs], y=[r[metric] for r in recs], mode="lines+markers"
                            if split == "val" or len(recs) < FEW_POINTS else "lines", name=name,
                            line=dict(color=color), marker=dict(color=color))
    label = {"acc": "accuracy", "loss": "loss"}.get(metric, metric)
    fig.update_layout(title=_title(f"{'Validation' if split == 'val' else 'Training'} {label}"), xaxis_title="epoch",
                      **_LAYOUT)
    if metric == "acc":
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def confusion_figure(confusion: list[list[int]], classes: list[str]) -> go.Figure:
    """Rows: true class; columns: predicted class. The diagonal is what the network got right."""
    classes = [plotly_text(c) for c in classes]  # folder names: shown as typed, never as HTML
    fig = go.Figure(go.Heatmap(z=confusion, x=classes, y=classes, colorscale="Blues", text=confusion,
                               texttemplate="%{text}", hovertemplate="true %{y} → predicted %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=_title("Confusion matrix"), xaxis_title="predicted", yaxis_title="true", height=420,
                      margin=dict(l=10, r=10, t=56, b=10))
    fig.update_yaxes(autorange="reversed")
    return fig


def per_class_figure(per_class: list[float | None], classes: list[str],
                     confusion: list[list[int]] | None = None) -> go.Figure:
    """Bars of per-class accuracy, labelled "80% of 5" when the confusion matrix gives each class's count."""
    counts = [sum(row) for row in confusion] if confusion else [None] * len(classes)
    text = [("n/a" if v is None else f"{100 * v:.0f}%") + (f" of {n}" if n is not None else "")
            for v, n in zip(per_class, counts)]
    fig = go.Figure(go.Bar(x=[plotly_text(c) for c in classes], y=[v if v is not None else 0 for v in per_class],
                           text=text))
    fig.update_layout(title=_title("Accuracy per class"), height=420, margin=dict(l=10, r=10, t=56, b=10))
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


# ------------------------------------------------------------------ misclassified images
def misclassified_images(run_dir: str | os.PathLike, limit: int = 24) -> list[dict]:
    """The final evaluation's mistakes with their pixels: [{"image": uint8 [H,W,3], "true", "pred",
    "confidence"}]. Re-opens the evaluated split (cached on disk for Shapes) at the run's image size."""
    from core.data import open_dataset  # here: torch, needed only for the gallery's pixels

    view = load_view(run_dir)
    test = view.test
    if not test or not test.get("misclassified"):
        return []
    cfg = view.config
    ds = open_dataset(cfg["dataset"], test.get("dataset_split", "test"), image_size=cfg["image_size"],
                      **(cfg.get("dataset_options") or {}))
    classes = view.classes
    out = []
    for m in test["misclassified"][:limit]:
        image, _ = ds[m["index"]]
        out.append({"image": image.permute(1, 2, 0).numpy(), "true": classes[m["true"]],
                    "pred": classes[m["pred"]], "confidence": m["confidence"], "index": m["index"]})
    return out
