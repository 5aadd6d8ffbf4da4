"""core.lessons.figures: every chart carries the numbers of the result it is drawn from.

Results are built by hand (no training), and each expected series is read off the result object's own fields
or recomputed here in plain Python, never by calling the builder's helpers. The last test keeps the lesson
pages to layout: no Plotly / NumPy / torch in views/lesson_*.py, session state written only in
views/_lesson_state.py.
"""
from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

from core.lessons import figures as F
from core.lessons.depth import AuxGradients, CurveResult, DepthLesson, GradientProfile, LesionResult, path_counts
from core.lessons.fc_vs_conv import FcConvLesson, layer_counts
from core.lessons.knn import CNN, CNN_FEATURES, LINEAR, PIXELS, RUN_FEATURES, Gallery, KnnLesson, MethodPoint
from core.lessons.shortcut import AUGMENTED, BIASED, UNBIASED, ShortcutLesson, ShortcutModel

ROOT = Path(__file__).resolve().parents[2]


def _ys(fig) -> list[list[float]]:
    return [list(t.y) for t in fig.data]


# ------------------------------------------------------------------------------------------ depth
def _profile(residual: bool, n_layers: int, scale: float) -> GradientProfile:
    layers = ["stem", *[f"blocks.{i}.conv{j}" for i in range((n_layers - 2) // 2) for j in (1, 2)], "fc"]
    init = [scale * (i + 1) for i in range(n_layers)]
    return GradientProfile(n_layers, residual, False, layers, init, [v / 3 for v in init], 7, 1.8, 1.5, 0.2)


@pytest.fixture
def depth_res() -> DepthLesson:
    profiles = [_profile(False, 14, 1e-3), _profile(True, 14, 2e-2)]
    curves = [CurveResult("plain-8", 8, False, False, [2.0 - 0.01 * i for i in range(45)], 1.5, 0.4),
              CurveResult("plain-14", 14, False, False, [2.1 - 0.02 * (i % 5) for i in range(45)], 2.5, 0.3),
              CurveResult("residual-14", 14, True, False, [1.9 - 0.03 * i for i in range(45)], 2.7, 0.6)]
    lesions = [LesionResult("plain-14", False, 0.7, 0.9, [0.2, 0.3, 0.1, 0.4, 0.5, 0.6], [2.0] * 6),
               LesionResult("residual-14", True, 0.8, 0.6, [0.75, 0.7, 0.78, 0.79, 0.8, 0.74], [0.7] * 6)]
    return DepthLesson(14, False, 8, 45, profiles, curves, lesions, path_counts(6), 0.1, 3.0)


def test_gradient_norms_figure_draws_each_profile_at_init_and_after(depth_res):
    fig = F.gradient_norms_figure(depth_res)
    expected = [s for p in depth_res.profiles for s in (p.init, p.after)]
    assert _ys(fig) == expected
    for trace, p in zip(fig.data[::2], depth_res.profiles):
        assert list(trace.x) == list(range(1, len(p.layers) + 1)) and list(trace.text) == p.layers
        assert trace.name == f"{p.label}: at initialisation"
    assert fig.data[1].name == f"plain-14: after {depth_res.profiles[0].steps} steps"
    assert fig.layout.yaxis.type == "log"


def test_depth_loss_figure_is_the_trailing_mean_of_each_curve(depth_res):
    fig = F.depth_loss_figure(depth_res)
    window = depth_res.steps // 15  # 3
    assert f"mean of {window} steps" in fig.layout.yaxis.title.text
    for trace, c in zip(fig.data, depth_res.curves):
        want = [sum(c.losses[max(0, i - window + 1):i + 1]) / (i + 1 - max(0, i - window + 1))
                for i in range(len(c.losses))]
        assert list(trace.y) == pytest.approx(want)
        assert list(trace.x) == list(range(1, len(c.losses) + 1))
        assert f"test acc {c.test_accuracy:.0%}" in trace.name and f"{c.seconds:.1f} s" in trace.name
    assert [t.line.dash for t in fig.data] == ["dot", "solid", "solid"]  # the shallow reference is dotted


def test_a_curve_shorter_than_the_window_is_drawn_as_it_is():
    assert F.trailing_mean([3.0, 1.0], 5) == [3.0, 1.0]
    assert F.moving_average([3.0, 1.0], 5) == ([1, 2], [3.0, 1.0])


def test_paths_figure_counts_every_path_length(depth_res):
    fig = F.paths_figure(depth_res)
    assert _ys(fig) == [depth_res.paths] and list(fig.data[0].x) == list(range(7))
    assert sum(fig.data[0].y) == 2 ** 6 and depth_res.n_blocks == 6
    assert depth_res.short_path_share() == pytest.approx((1 + 6 + 15 + 20) / 64)


def test_lesion_figure_has_each_networks_accuracies_and_its_intact_line(depth_res):
    fig = F.lesion_figure(depth_res)
    assert _ys(fig) == [les.accuracy for les in depth_res.lesions]
    assert [s.y0 for s in fig.layout.shapes] == [les.base_accuracy for les in depth_res.lesions]
    assert [t.line.color for t in fig.data] == [F.RESIDUAL_COLORS[False], F.RESIDUAL_COLORS[True]]


def test_aux_gradients_figure_and_conclusion():
    aux = AuxGradients(["conv1", "conv2", "inception3a", "fc"], [1.0, 2.0, 4.0, 8.0], [1.5, 2.0, 6.0, 8.0], 0.3,
                       96, 8, 0.5)
    fig = F.aux_gradients_figure(aux)
    assert _ys(fig) == [aux.main_only, aux.with_aux] and all(list(t.x) == aux.stages for t in fig.data)
    assert fig.data[1].name == "main + 0.3 × (aux1 + aux2)"
    gain = (1.5 + 1.0 + 1.5) / 3
    assert aux.conclusion().startswith(f"With the auxiliary losses the first three stages' gradients are {gain:.2f}×")
    assert aux.conclusion().endswith("larger.")
    flat = AuxGradients(["a"], [1.0], [1.0], 0.3, 96, 8, 0.5)
    assert "the textbook boost does not show" in flat.conclusion()


# ------------------------------------------------------------------------------------------ FC vs conv
def test_param_counts_figure_has_the_three_counts_per_size():
    rows = [layer_counts(s, 8, 3) for s in (8, 16, 32)]
    fig = F.param_counts_figure(rows)
    assert [t.name for t in fig.data] == ["fully connected", "locally connected", "convolution"]
    assert _ys(fig) == [[r.fully_connected for r in rows], [r.locally_connected for r in rows],
                        [r.convolution for r in rows]]
    assert all(list(t.x) == [8, 16, 32] for t in fig.data)


def _fc_res(steps: int = 45) -> FcConvLesson:
    g = torch.Generator().manual_seed(0)
    return FcConvLesson(
        classes=["a", "b", "c"], image_size=8, train_size=100, steps=steps, fc_accuracy=0.3, conv_accuracy=0.6,
        fc_train_accuracy=0.5, conv_train_accuracy=0.7, fc_params=10, conv_params=20, fc_bytes=40, conv_bytes=80,
        fc_losses=[1.0 + 0.1 * (i % 4) for i in range(steps)], conv_losses=[1.0 - 0.01 * i for i in range(steps)],
        fc_seconds=1.0, conv_seconds=2.0,
        templates=torch.randint(0, 256, (3, 8, 8, 3), dtype=torch.uint8, generator=g),
        filters=torch.randint(0, 256, (4, 3, 3, 3), dtype=torch.uint8, generator=g), data_seconds=0.0, seconds=3.0)


def test_fc_conv_loss_figure_is_the_mean_of_full_windows_at_their_last_step():
    res = _fc_res()
    fig = F.fc_conv_loss_figure(res)
    w = 3
    for trace, losses in zip(fig.data, (res.fc_losses, res.conv_losses)):
        want = [sum(losses[i - w + 1:i + 1]) / w for i in range(w - 1, len(losses))]
        assert list(trace.y) == pytest.approx(want)
        assert list(trace.x) == list(range(w, len(losses) + 1))


def test_templates_and_enlarged_filters_are_the_results_pixels():
    res = _fc_res()
    templates = F.template_images(res)
    assert len(templates) == 3 and all((t == res.templates[i].numpy()).all() for i, t in enumerate(templates))
    big = F.enlarged_filters(res, scale=5)
    assert len(big) == 4 and big[0].shape == (15, 15, 3)
    f = res.filters[2].numpy()
    assert all((big[2][5 * r + dr, 5 * c + dc] == f[r, c]).all()
               for r in range(3) for c in range(3) for dr in (0, 4) for dc in (0, 4))


def test_hwc_moves_the_channels_last():
    t = torch.arange(3 * 2 * 4, dtype=torch.uint8).view(3, 2, 4)
    a = F.hwc(t)
    assert a.shape == (2, 4, 3) and int(a[1, 3, 2]) == int(t[2, 1, 3])


# ------------------------------------------------------------------------------------------ k-NN
@pytest.fixture
def knn_res() -> KnnLesson:
    points = []
    for n in (300, 30, 100):  # deliberately unsorted: the chart sorts by size
        for j, method in enumerate((PIXELS, LINEAR, CNN, CNN_FEATURES, RUN_FEATURES)):
            points.append(MethodPoint(method, n, accuracy=0.1 * j + n / 1000, memory_bytes=n * (j + 1) * 100,
                                      ms_per_query=0.01 * (j + 1) * n, fit_seconds=0.5 * j, steps=10 * j))
    return KnnLesson(points, ["a", "b", "c", "d"], 3, 32, 60, [30, 100, 300], 100, 0.0, 1.0)


@pytest.mark.parametrize("metric", ["accuracy", "memory_bytes", "ms_per_query"])
def test_knn_metric_figure_has_one_line_per_method_sorted_by_size(knn_res, metric):
    fig = F.knn_metric_figure(knn_res, metric, "t", log_y=True)
    assert [t.name for t in fig.data] == knn_res.methods()
    for trace in fig.data:
        mine = {p.train_size: getattr(p, metric) for p in knn_res.points if p.method == trace.name}
        assert list(trace.x) == [30, 100, 300] and list(trace.y) == [mine[n] for n in (30, 100, 300)]
    assert fig.data[-1].line.color == F._OTHER_COLOR  # a feature network without its own colour
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_knn_accuracy_figure_marks_chance(knn_res):
    fig = F.knn_accuracy_figure(knn_res)
    assert [s.y0 for s in fig.layout.shapes] == [1 / 4]
    assert fig.layout.yaxis.tickformat == ".0%"


def test_knn_table_rows_hold_every_measurement(knn_res):
    rows = F.knn_table_rows(knn_res)
    assert len(rows) == len(knn_res.points)
    p, row = knn_res.points[7], rows[7]
    assert (row["method"], row["training images"], row["memory (bytes)"]) == (p.method, p.train_size, p.memory_bytes)
    assert row["accuracy"] == round(100 * p.accuracy, 1) and row["ms / query"] == round(p.ms_per_query, 4)


def test_gallery_same_class_share_counts_neighbours_of_the_querys_class():
    img = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    g = Gallery(img, [0, 1], torch.zeros(2, 2, 3, 4, 4, dtype=torch.uint8), [[0, 1], [0, 0]],
                torch.zeros(2, 2, 3, 4, 4, dtype=torch.uint8), [[0, 0], [1, 1]])
    assert g.same_class_share("pixels") == 0.25 and g.same_class_share("features") == 1.0


# ------------------------------------------------------------------------------------------ shortcut
def test_shortcut_accuracy_figure_has_three_bars_per_network():
    models = [ShortcutModel(label, 1.0, label == AUGMENTED, val, test, colour, 10.0, [])
              for label, val, test, colour in ((BIASED, 0.99, 0.2, 0.9), (AUGMENTED, 0.9, 0.6, 0.3),
                                               (UNBIASED, 0.7, 0.65, 0.2))]
    res = ShortcutLesson(1.0, 900, 1, "lenet5", 48, 1.0, 0.17, models, 30.0, 2.0)
    fig = F.shortcut_accuracy_figure(res)
    assert _ys(fig) == [[m.val_accuracy for m in models], [m.test_accuracy for m in models],
                        [m.colour_test_accuracy for m in models]]
    assert all(list(t.x) == [BIASED, AUGMENTED, UNBIASED] for t in fig.data)
    assert list(fig.data[0].text) == ["99%", "90%", "70%"]
    assert [s.y0 for s in fig.layout.shapes] == [res.chance] and math.isclose(res.chance, 1 / 6)


# ------------------------------------------------------------------------------------------ the pages
PAGES = sorted((ROOT / "views").glob("lesson_*.py"))


def test_there_are_four_lesson_pages():
    assert [p.name for p in PAGES] == ["lesson_depth.py", "lesson_fc_conv.py", "lesson_knn.py", "lesson_shortcut.py"]


@pytest.mark.parametrize("path", [*PAGES, ROOT / "views" / "_lesson_state.py"], ids=lambda p: p.name)
def test_lesson_pages_are_layout(path):
    """Issue 14: figures come from core.lessons.figures, state is written in views/_lesson_state.py only, and
    every import is at the top of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    mods |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not mods & {"plotly", "numpy", "torch", "PIL"}, mods & {"plotly", "numpy", "torch", "PIL"}
    code = next(n.lineno for n in tree.body[1:] if not isinstance(n, (ast.Import, ast.ImportFrom)))
    late = [n.lineno for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and n.lineno > code]
    assert late == [], f"{path.name}: imports below the top of the file at lines {late}"
    if path.name != "_lesson_state.py":
        writes = [ast.unparse(t) for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign))
                  for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                  if isinstance(t, ast.Subscript) and ast.unparse(t.value) in ("ss", "st.session_state")]
        pops = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call)
                and ast.unparse(n.func) in ("ss.pop", "st.session_state.pop")]
        assert writes == [] and pops == [], (writes, pops)
