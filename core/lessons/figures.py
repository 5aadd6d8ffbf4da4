"""What the lesson pages draw: Plotly figures and image arrays, built from a lesson's result object.

Built here, not in the pages, so a page stays widgets → one core call → render, and a notebook can draw the same
charts from ``depth_lesson()`` or ``knn_lesson()`` (as :mod:`core.runs.results` does for runs). Every builder is
a pure function of a result (:class:`~core.lessons.depth.DepthLesson`, :class:`~core.lessons.knn.KnnLesson`, ...):
it computes nothing that the lesson did not measure, except a moving average of a loss curve for display.

Shapes: lesson images are uint8 ``[3, S, S]`` tensors (torchvision's layout); what ``st.image`` gets is uint8
``[H, W, 3]`` NumPy (:func:`hwc`). Gotcha: the loss curves are *smoothed for display* (a mean of ``steps // 15``
steps, see :func:`loss_window`); the conclusion and the final losses use the raw values of the result.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
import torch

if TYPE_CHECKING:  # annotations only: a page that draws one lesson does not import the other three (and the
    # shortcut lesson's run engine)
    from core.lessons.depth import AuxGradients, DepthLesson
    from core.lessons.fc_vs_conv import FcConvLesson, LayerCounts
    from core.lessons.knn import KnnLesson
    from core.lessons.shortcut import ShortcutLesson

__all__ = [
    "RESIDUAL_COLORS", "KNN_COLORS", "loss_window", "trailing_mean", "moving_average", "hwc",
    "gradient_norms_figure", "depth_loss_figure", "paths_figure", "lesion_figure", "aux_gradients_figure",
    "param_counts_figure", "fc_conv_loss_figure", "enlarged_filters", "template_images",
    "knn_metric_figure", "knn_accuracy_figure", "knn_table_rows", "shortcut_accuracy_figure",
]

#: Plain networks red, residual ones blue, in every depth chart.
RESIDUAL_COLORS = {False: "#d62728", True: "#1f77b4"}
KNN_COLORS = {"k-NN · pixels": "#d62728", "k-NN · CNN features": "#ff7f0e", "Linear layer": "#2ca02c",
              "Small CNN": "#1f77b4"}
_OTHER_COLOR = "#9467bd"  # a method without its own colour (k-NN on a run's or a pretrained network's features)
_LEGEND_BELOW = {"orientation": "h", "y": -0.25}


# ------------------------------------------------------------------------------------------ shared helpers
def loss_window(steps: int) -> int:
    """Steps averaged per point of a displayed loss curve: about 15 windows over the run, at least 1."""
    return max(1, steps // 15)


def trailing_mean(values: Sequence[float], window: int) -> list[float]:
    """Mean of the last ``window`` values at every step, the first ``window - 1`` points averaging what exists so
    far: one point per value (``len(out) == len(values)``)."""
    v = np.asarray(values, dtype=float)
    if len(v) < window or window < 2:
        return v.tolist()
    c = np.cumsum(np.insert(v, 0, 0.0))
    head = [float(np.mean(v[: i + 1])) for i in range(window - 1)]
    return head + ((c[window:] - c[:-window]) / window).tolist()


def moving_average(values: Sequence[float], window: int) -> tuple[list[int], list[float]]:
    """Means of full windows only ("valid" convolution): ``(steps, means)``, each mean drawn at the last step
    of its window (1-based), so the curve starts at step ``window``."""
    a = np.asarray(values, dtype=float)
    sm = a.tolist() if len(a) < window or window < 2 else np.convolve(a, np.ones(window) / window,
                                                                        mode="valid").tolist()
    return list(range(len(a) - len(sm) + 1, len(a) + 1)), sm


def hwc(image: torch.Tensor) -> np.ndarray:
    """uint8 ``[3, S, S]`` tensor -> uint8 ``[S, S, 3]`` array for ``st.image``."""
    return image.permute(1, 2, 0).numpy()


# ------------------------------------------------------------------------------------------ depth lesson
def gradient_norms_figure(res: DepthLesson) -> go.Figure:
    """‖∂L/∂W‖ per weight layer (log y), input side first: each profile at initialisation (solid) and after its
    training steps (dotted)."""
    fig = go.Figure()
    for p in res.profiles:
        x = list(range(1, len(p.layers) + 1))
        color = RESIDUAL_COLORS[p.residual]
        fig.add_trace(go.Scatter(x=x, y=p.init, name=f"{p.label}: at initialisation", mode="lines+markers",
                                 line={"color": color}, text=p.layers))
        fig.add_trace(go.Scatter(x=x, y=p.after, name=f"{p.label}: after {p.steps} steps", mode="lines",
                                 line={"color": color, "dash": "dot"}, text=p.layers))
    fig.update_layout(xaxis_title="layer (1 = first, input side)", yaxis_title="‖∂L/∂W‖ (log)", height=380,
                      margin={"t": 20}, legend=_LEGEND_BELOW)
    fig.update_yaxes(type="log")
    return fig


def depth_loss_figure(res: DepthLesson) -> go.Figure:
    """Training loss of each trained network (:func:`trailing_mean` over :func:`loss_window` steps); the
    shallower plain reference is dotted."""
    window = loss_window(res.steps)
    dash = {(res.shallow_depth, False): "dot", (res.depth, False): "solid", (res.depth, True): "solid"}
    fig = go.Figure()
    for c in res.curves:
        fig.add_trace(go.Scatter(y=trailing_mean(c.losses, window), x=list(range(1, len(c.losses) + 1)),
                                 name=f"{c.label} ({c.seconds:.1f} s, test acc {c.test_accuracy:.0%})", mode="lines",
                                 line={"color": RESIDUAL_COLORS[c.residual],
                                       "dash": dash.get((c.depth, c.residual), "solid")}))
    fig.update_layout(xaxis_title="step", yaxis_title=f"training loss (mean of {window} steps)", height=360,
                      margin={"t": 20}, legend=_LEGEND_BELOW)
    return fig


def paths_figure(res: DepthLesson) -> go.Figure:
    """Bars: ``C(n, k)`` paths through exactly ``k`` of the residual network's ``n`` blocks."""
    n = res.n_blocks
    fig = go.Figure(go.Bar(x=list(range(n + 1)), y=res.paths, marker_color=RESIDUAL_COLORS[True]))
    fig.update_layout(xaxis_title="blocks on the path (k)", yaxis_title="number of paths C(n, k)", height=320,
                      margin={"t": 10})
    return fig


def lesion_figure(res: DepthLesson) -> go.Figure:
    """Test accuracy with each block dropped in turn, one line per network, its intact accuracy dotted."""
    fig = go.Figure()
    for les in res.lesions:
        color = RESIDUAL_COLORS[les.residual]
        fig.add_trace(go.Scatter(x=list(range(1, len(les.accuracy) + 1)), y=les.accuracy, mode="lines+markers",
                                 name=f"{les.label}, block dropped", line={"color": color}))
        fig.add_hline(y=les.base_accuracy, line_dash="dot", line_color=color,
                      annotation_text=f"{les.label} intact {les.base_accuracy:.0%}")
    fig.update_layout(xaxis_title="dropped block", yaxis_title="test accuracy", height=320, margin={"t": 10},
                      legend={"orientation": "h", "y": -0.3})
    fig.update_yaxes(tickformat=".0%")
    return fig


def aux_gradients_figure(aux: AuxGradients) -> go.Figure:
    """Grouped bars per GoogLeNet stage (log y): ‖∂L/∂W‖ with the main loss only and with the auxiliary losses."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=aux.stages, y=aux.main_only, name="main loss only", marker_color="#9ecae1"))
    fig.add_trace(go.Bar(x=aux.stages, y=aux.with_aux, name=f"main + {aux.aux_weight} × (aux1 + aux2)",
                         marker_color="#1f77b4"))
    fig.update_layout(barmode="group", yaxis_title="‖∂L/∂W‖ of the stage (log)", height=340, margin={"t": 20},
                      legend={"orientation": "h", "y": -0.35})
    fig.update_yaxes(type="log")
    return fig


# ------------------------------------------------------------------------------------------ FC vs conv lesson
_COUNT_SERIES = (("fully_connected", "fully connected", "#d62728"),
                 ("locally_connected", "locally connected", "#ff7f0e"),
                 ("convolution", "convolution", "#1f77b4"))


def param_counts_figure(rows: Sequence[LayerCounts]) -> go.Figure:
    """Parameters of the three layers against the input size (log-log), one line per kind of layer."""
    sizes = [r.image_size for r in rows]
    fig = go.Figure()
    for attr, name, color in _COUNT_SERIES:
        fig.add_trace(go.Scatter(x=sizes, y=[getattr(r, attr) for r in rows], name=name, mode="lines+markers",
                                 line={"color": color}))
    fig.update_layout(xaxis_title="input size S (px, log)", yaxis_title="parameters (log)", height=330,
                      margin={"t": 20}, legend={"orientation": "h", "y": -0.3})
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


def fc_conv_loss_figure(res: FcConvLesson) -> go.Figure:
    """Training loss of the FC layer and the small CNN (:func:`moving_average` over :func:`loss_window` steps)."""
    w = loss_window(res.steps)
    fig = go.Figure()
    for name, losses, color in (("fully connected", res.fc_losses, "#d62728"),
                                ("small CNN", res.conv_losses, "#1f77b4")):
        x, y = moving_average(losses, w)
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line={"color": color}))
    fig.update_layout(xaxis_title="step", yaxis_title=f"training loss (mean of {w} steps)", height=300,
                      margin={"t": 20}, legend={"orientation": "h", "y": -0.3})
    return fig


def template_images(res: FcConvLesson) -> list[np.ndarray]:
    """The FC layer's weights of each class as a uint8 ``[S, S, 3]`` picture, in the order of ``res.classes``."""
    return [t.numpy() for t in res.templates]


def enlarged_filters(res: FcConvLesson, scale: int = 12) -> list[np.ndarray]:
    """The CNN's first-layer filters as uint8 ``[k·scale, k·scale, 3]`` pictures: each weight a ``scale``-pixel
    block (nearest neighbour, so a 3×3 filter stays nine visible squares instead of a browser-blurred smear)."""
    block = np.ones((scale, scale, 1), dtype=np.uint8)
    return [np.kron(f.numpy(), block) for f in res.filters]


# ------------------------------------------------------------------------------------------ k-NN lesson
def knn_metric_figure(res: KnnLesson, metric: str, title: str, log_y: bool = False, fmt: str = "") -> go.Figure:
    """One line per method: ``metric`` (a :class:`~core.lessons.knn.MethodPoint` field) against the training-set
    size (log x)."""
    fig = go.Figure()
    for method in res.methods():
        pts = sorted((p for p in res.points if p.method == method), key=lambda p: p.train_size)
        fig.add_trace(go.Scatter(x=[p.train_size for p in pts], y=[getattr(p, metric) for p in pts], name=method,
                                 mode="lines+markers", line={"color": KNN_COLORS.get(method, _OTHER_COLOR)}))
    fig.update_layout(title=title, xaxis_title="training images (log)", height=360, margin={"t": 50, "b": 40},
                      legend=_LEGEND_BELOW)
    fig.update_xaxes(type="log")
    if log_y:
        fig.update_yaxes(type="log")
    if fmt:
        fig.update_yaxes(tickformat=fmt)
    return fig


def knn_accuracy_figure(res: KnnLesson) -> go.Figure:
    """Test accuracy of every method against the training-set size, with chance (1 / classes) dotted."""
    chance = 1 / len(res.classes)
    fig = knn_metric_figure(res, "accuracy", "Test accuracy", fmt=".0%")
    fig.add_hline(y=chance, line_dash="dot", annotation_text=f"chance {chance:.0%}")
    return fig


def knn_table_rows(res: KnnLesson) -> list[dict]:
    """Every measurement as a table row (accuracy in percent, rounded for reading)."""
    return [{"method": p.method, "training images": p.train_size, "accuracy": round(100 * p.accuracy, 1),
             "memory (bytes)": p.memory_bytes, "ms / query": round(p.ms_per_query, 4),
             "training (s)": round(p.fit_seconds, 2)} for p in res.points]


# ------------------------------------------------------------------------------------------ shortcut lesson
def shortcut_accuracy_figure(res: ShortcutLesson) -> go.Figure:
    """Grouped bars per network: held-out accuracy on its own (biased) distribution, accuracy on the unbiased
    test split, and how often it predicts the class of the background colour; chance dotted."""
    labels = [m.label for m in res.models]
    fig = go.Figure()
    for field_, name, color in (("val_accuracy", "held-out, own training distribution", "#9ecae1"),
                                ("test_accuracy", "unbiased test split", "#1f77b4"),
                                ("colour_test_accuracy", "test: agrees with the background colour", "#d62728")):
        values = [getattr(m, field_) for m in res.models]
        fig.add_trace(go.Bar(x=labels, y=values, name=name, marker_color=color, text=[f"{v:.0%}" for v in values]))
    fig.add_hline(y=res.chance, line_dash="dot", annotation_text="chance")
    fig.update_layout(barmode="group", yaxis_title="accuracy", height=380, margin={"t": 20},
                      legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig
