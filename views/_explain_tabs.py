"""The Explain page's tabs below the main map: the comparison grids (methods, layers, models) and the faithfulness
measurements (deletion / insertion, pointing game, sanity check). Layout only: each tab is widgets, one
``core.explain`` call, and tiles from :mod:`core.explain.figures`; measurements are kept in
:mod:`views._explain_state` so they survive the reruns of other widgets.

``run(method, layer, params)`` is the page's explain call (the shared cache, the page's model, image and class):
the grids use it so a tile that equals the main map costs nothing.
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from core.errors import PAGE_ERRORS
from core.explain import METHODS, Explanation, prepare_input
from core.explain import figures as fig
from core.explain.compare import MAX_MODELS, ModelEntry, explain_models
from core.explain.metrics import deletion_insertion, pointing_game, sanity_check, shapes_test_set
from core.explain.render import curves_figure, sanity_figure
from core.models import ARCHITECTURES, get_spec, weights_status
from views import _explain_state as state
from views._explain_inputs import Picture, Subject, zoo_classes, zoo_weights
from views._models import run_model, zoo_model
from views._widgets import show_error

Run = Callable[[str, "str | None", "dict | None"], Explanation]
key = state.key
FAST_METHODS = ("gradcam", "gradcam_pp", "saliency", "smoothgrad")  # the methods grid's default


def _columns(n: int, most: int = 4):
    return st.columns(max(1, min(most, n)))


# ------------------------------------------------------------------------------------------ compare
def methods_grid(run: Run, usable: list[str], layer: str | None, opacity: float, cmap: str) -> dict[str, Explanation]:
    """Several methods on the same image and class; returns the explanations that worked (by method)."""
    grid = st.multiselect("Methods", usable, default=[m for m in FAST_METHODS if m in usable], key=key("grid"),
                          format_func=lambda m: METHODS[m].title)
    cols = _columns(len(grid))
    results = {}
    for i, m in enumerate(grid):
        try:
            r = run(m, layer if METHODS[m].uses_layer else None, None)
        except PAGE_ERRORS as err:
            cols[i % len(cols)].error(f"{METHODS[m].title}: {err}")
            continue
        results[m] = r
        tile = fig.method_tile(METHODS[m].title, r, opacity, cmap)
        cols[i % len(cols)].image(tile.image, caption=tile.caption, width="stretch")
    return results


def layers_grid(run: Run, layer_options: list[str], default: str, opacity: float, cmap: str) -> None:
    """Grad-CAM at several layers; by default the last four at the default layer's depth."""
    lay_default = [n for n in layer_options if n.count(".") == default.count(".")][-4:]
    lays = st.multiselect("Layers (Grad-CAM)", layer_options, default=lay_default, key=key("grid_layers"))
    cols = _columns(len(lays))
    for i, lay in enumerate(lays):
        try:
            r = run("gradcam", lay, None)
        except PAGE_ERRORS as err:
            cols[i % len(cols)].error(f"{lay}: {err}")
            continue
        tile = fig.layer_tile(lay, r, opacity, cmap)
        cols[i % len(cols)].image(tile.image, caption=tile.caption, width="stretch")


def models_grid(subject: Subject, picture: Picture, e: Explanation, method: str, params: dict[str, Any],
                opacity: float, cmap: str) -> None:
    """The same image and method on up to :data:`MAX_MODELS` models, the class matched by name in each."""
    current_label = f"this model ({subject.arch}" + (f", run {subject.run_id})" if subject.checkpoint is not None
                                                     else ")")
    done_runs = {r["id"]: r for r in subject.runs if r["state"] == "completed" and r["has_checkpoint"]
                 and (subject.checkpoint is None or r["id"] != subject.run_id)}
    model_options = ["current"] + [f"run:{i}" for i in done_runs] + [f"zoo:{a}" for a in ARCHITECTURES]

    def label_of(option: str) -> str:
        if option == "current":
            return current_label
        kind, _, name = option.partition(":")
        if kind == "run":
            return f"run {name} ({done_runs[name]['arch']})"
        return f"{ARCHITECTURES[name].title} (zoo, {'ImageNet' if weights_status(name) == 'cached' else 'untrained'})"

    dataset = subject.shapes_run.dataset if subject.shapes_run else None
    same = [f"run:{i}" for i, r in done_runs.items() if r.get("dataset") == dataset]
    picked = st.multiselect(f"Models (up to {MAX_MODELS}): the same image and method, each at its own input size and "
                            "default layer", model_options, default=["current"] + same[:2], key=key("grid_models"),
                            format_func=label_of, max_selections=MAX_MODELS)
    entries = []
    for option in picked:
        try:
            if option == "current":
                entries.append(ModelEntry(current_label, subject.model, subject.arch, subject.classes, subject.size))
            elif option.startswith("run:"):
                other = run_model(done_runs[option[4:]]["path"])
                entries.append(ModelEntry(label_of(option), other.model, other.arch, other.classes, other.image_size))
            else:
                name = option[4:]
                w = zoo_weights(name)
                entries.append(ModelEntry(label_of(option), zoo_model(name, w), name, zoo_classes(name, w),
                                          get_spec(name).input_size))
        except PAGE_ERRORS as err:
            st.error(f"{label_of(option)}: {err}")
    with st.spinner(f"{METHODS[method].title} on {len(entries)} models…"):
        rows = explain_models(entries, fig.pil_image(picture.x), method, target=e.label, params=params or None)
    cols = _columns(len(rows), MAX_MODELS)
    for i, row in enumerate(rows):
        col = cols[i % len(cols)]
        if row.explanation is None:
            col.error(f"{row.entry.label}: {row.error}")
            continue
        tile = fig.model_tile(row, opacity, cmap)
        col.image(tile.image, width="stretch", caption=tile.caption)
        if row.note:
            col.caption(row.note)
    st.caption("Each model's class list is its own: the class is matched by name (“" + e.label + "”).")


# ------------------------------------------------------------------------------------------ faithfulness
def deletion_insertion_tab(subject: Subject, picture: Picture, results: dict[str, Explanation]) -> None:
    st.caption("Pixels are removed (to black) or inserted (into a blurred copy) in the map's order, most important "
               "first; the curve is the class probability. A faithful map makes deletion fall fast and insertion "
               "rise fast.")
    if st.button("Measure deletion / insertion for the compared methods", key=key("di")):
        x = prepare_input(picture.x, subject.size)
        with st.spinner("Measuring…"):
            state.set_curves({METHODS[m].title: deletion_insertion(subject.model, x, r.map, r.target)
                              for m, r in results.items()})
    if state.curves():
        st.plotly_chart(curves_figure(state.curves()), width="stretch")


def pointing_game_tab(subject: Subject, method: str, layer: str | None) -> None:
    if subject.shapes_run is None:
        st.info("The pointing game needs true object masks: pick a trained **Shapes** run.")
        return
    st.caption("Share of Shapes test images whose map maximum lies inside the true shape (true class explained), "
               "next to the share a uniformly random point gets (the mean shape coverage). Tied maxima count as "
               "the share of tied pixels inside the shape, so a blank map scores like chance.")
    n = st.slider("Test images", 10, 200, 50, 10, key=key("pg_n"))
    if st.button("Play the pointing game", key=key("pg")):
        data = shapes_test_set(subject.size, subject.shapes_run.dataset_options)
        with st.spinner(f"Explaining {n} test images…"):
            try:
                state.set_pointing(pointing_game(subject.model, data, method, n=n, layer=layer,
                                                 arch=subject.arch).to_dict())
            except PAGE_ERRORS as err:
                show_error(err)
    res = state.pointing()
    if res:
        a, b, c = st.columns(3)
        a.metric(f"Hit rate ({METHODS[res['method']].title}, {res['layer'] or 'pixels'})", f"{res['hit_rate']:.3f}")
        b.metric("Random point", f"{res['random_hit_rate']:.3f}")
        c.metric("Images", res["n"], help=f"{res['no_signal']} maps had no signal")


def sanity_check_tab(subject: Subject, picture: Picture, e: Explanation, method: str, opacity: float,
                     cmap: str) -> None:
    st.caption("Adebayo et al. 2018: randomise the weights stage by stage from the output down and explain again. "
               "If the map hardly changes (rank correlation near 1), it shows the image's edges, not what the model "
               "learned.")
    if st.button("Run the sanity check", key=key("sanity")):
        with st.spinner("Randomising stage by stage…"):
            try:
                state.set_sanity(sanity_check(subject.model, prepare_input(picture.x, subject.size), method,
                                              target=e.target, layer=e.layer, arch=subject.arch))
            except PAGE_ERRORS as err:
                show_error(err)
    steps = state.sanity()
    if steps:
        st.plotly_chart(sanity_figure(steps), width="stretch")
        cols = st.columns(min(6, len(steps)))
        for col, tile in zip(cols, fig.sanity_tiles(e.image, steps[: len(cols)], opacity, cmap)):
            col.image(tile.image, caption=tile.caption, width="stretch")
