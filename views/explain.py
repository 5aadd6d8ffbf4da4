"""Explain: why did the network say *this*? Grad-CAM and other attributions, compared and checked for faithfulness."""
from __future__ import annotations

import json

import numpy as np
import streamlit as st

from core.errors import PlaygroundError
from views._models import run_model, zoo_model
from views._widgets import image_input, show_error

st.title("Explain")
st.markdown(
    "Which pixels made the network choose its class? **Grad-CAM** weights a layer's feature maps by the class "
    "score's gradient; **Integrated Gradients**, **Saliency**, **SmoothGrad** and **Occlusion** score single pixels. "
    "Maps are only as good as their *faithfulness*: below, remove the top pixels and watch the score fall, point "
    "at the true shape on Shapes, and randomise the weights to see whether the map notices."
)
ss = st.session_state
P = "explain"


# ------------------------------------------------------------------------------------------------ model
from core.explain import METHODS, available_methods  # noqa: E402
from core.explain.cache import cached_explain  # noqa: E402  (one LRU for every session: a rerun or reload is free)
from core.explain import quickstart  # noqa: E402
from core.explain.render import (COLORMAPS, cli_command, curves_figure, native_image, overlay,  # noqa: E402
                                 png_bytes, sanity_figure, stride_sentence)
from core.explain.metrics import normalise_uint8, shapes_test_set  # noqa: E402
from core.models import ARCHITECTURES, get_spec, weights_status  # noqa: E402
from core.runs import store as run_store  # noqa: E402


def _quick_train(runs: list[dict]) -> None:
    """One click: train the short Shapes preset with the normal engine, then explain with it."""
    from core.runs.results import format_acc, format_seconds
    from core.train.config import PRESETS

    preset = PRESETS[quickstart.PRESET]
    done = quickstart.measured(runs)
    if done:
        st.caption(f"Measured here: the last run of this preset took {format_seconds(done['wall_s'])} wall time and "
                   f"reached {format_acc(done['test_acc'], done['test_n'])} test accuracy (run `{done['id']}`).")
    else:
        st.caption("Not measured on this machine yet: the duration appears here after the first run "
                   "(`python -m bench.explain_preset` measures it from a fresh home).")
    active = ss.get(f"{P}_quick_run")
    if active is None:
        if st.button(f"Train a short Shapes model ({preset.title})", key=f"{P}_quick", type="primary",
                     help=preset.description):
            try:
                ss[f"{P}_quick_run"] = str(quickstart.start())
            except PlaygroundError as err:
                show_error(err)
                return
            st.rerun()
        return

    @st.fragment(run_every=2)
    def progress() -> None:
        summary = run_store.run_summary(active)
        state = summary["state"]
        total = summary["total_steps"] or 0
        frac = min(1.0, summary["step"] / total) if total else 0.0
        st.progress(frac, text=f"Training `{summary['id']}`: {state}, step {summary['step']}/{total or '?'}")
        if state == "completed":
            ss[f"{P}_run_choice"] = summary["id"]
            ss.pop(f"{P}_quick_run", None)
            st.rerun(scope="app")
        elif state not in run_store.ACTIVE_STATES:
            st.error(f"The run ended {state}: {summary.get('message') or ''}")
            ss.pop(f"{P}_quick_run", None)

    progress()


left, right = st.columns([1, 1])
with left:
    source = st.radio("Model", ["Zoo architecture", "Trained run"], horizontal=True, key=f"{P}_source")
model = arch = None
classes: list[str] = []
trained = False
size = 224
checkpoint = None
weights = "none"
runs = [r for r in run_store.list_runs()]
shapes_run = None
if source == "Zoo architecture":
    with left:
        arch = st.selectbox("Architecture", list(ARCHITECTURES), index=list(ARCHITECTURES).index("resnet18"),
                            format_func=lambda n: ARCHITECTURES[n].title, key=f"{P}_arch")
        status = weights_status(arch)
        weights = "default" if status == "cached" else "none"
        if weights == "none":
            st.warning("**Untrained weights** (pretrained ImageNet weights are not on this machine): the maps explain "
                       "a random network and mean nothing about the image. Download them on the Architectures page, "
                       "or pick a trained run.", icon=":material/warning:")
    try:
        model = zoo_model(arch, weights)
    except PlaygroundError as err:
        show_error(err)
        st.stop()
    from core.models.predict import class_names

    spec = get_spec(arch)
    classes = class_names(arch, weights, spec.default_num_classes)
    size = spec.input_size
    trained = weights != "none"
else:
    finished = [r for r in runs if r["state"] == "completed" and r["has_checkpoint"]]
    with left:
        if not finished:
            st.info("No finished training run yet.")
        _quick_train(runs)
    if not finished:
        st.stop()
    ids = [r["id"] for r in finished]
    if ss.get(f"{P}_run_choice") not in ids:
        ss[f"{P}_run_choice"] = ids[0]
    with left:
        rid = st.selectbox("Run", ids, key=f"{P}_run_choice")
    run_dir = next(r["path"] for r in finished if r["id"] == rid)
    try:
        rm = run_model(run_dir)
    except PlaygroundError as err:
        show_error(err)
        st.stop()
    model, arch, classes, size, trained, checkpoint = rm.model, rm.arch, rm.classes, rm.image_size, True, run_dir
    cfg = run_store.load_config(run_dir)
    if cfg.dataset == "shapes":
        shapes_run = cfg

# ------------------------------------------------------------------------------------------------ image
mask = None
image_label = "IMAGE.png"
with right:
    if shapes_run is not None and st.radio("Image", ["Shapes test image", "Photo / upload / camera"], horizontal=True,
                                           key=f"{P}_imgsrc") == "Shapes test image":
        data = shapes_test_set(size, shapes_run.dataset_options)
        idx = int(st.number_input("Test image #", 0, len(data) - 1, 0, key=f"{P}_shape_idx"))
        img_u8, label = data[idx]
        mask = data.mask(idx)
        from core.data.shapes import overlay_mask

        x_in = normalise_uint8(img_u8[None])
        st.image(overlay_mask(img_u8.permute(1, 2, 0).numpy(), mask, alpha=0.35),
                 caption=f"true class: {classes[int(label)]} (true shape mask tinted red)", width=160)
    else:
        picked = image_input(P, default_sample=0)
        if picked is None:
            st.stop()
        pil, image_label = picked
        x_in = pil

# ------------------------------------------------------------------------------------------------ method
offered = available_methods(model)
usable = [m for m, why in offered.items() if why is None]
c1, c2, c3 = st.columns(3)
method = c1.selectbox("Method", usable, format_func=lambda m: METHODS[m].title, key=f"{P}_method")
for m, why in offered.items():
    if why:
        c1.caption(f"{METHODS[m].title} is not offered: {why}.")
from core.explain import default_layer, layer_shapes  # noqa: E402
from core.models.activations import feature_layers  # noqa: E402

try:
    shapes = layer_shapes(model, size)
except PlaygroundError as err:
    show_error(err)
    st.stop()
default = default_layer(model, size, get_spec(arch).default_cam_layer)
offered_layers = set(feature_layers(model)) | {default}
layer_options = [n for n in shapes if n in offered_layers and len(shapes[n]) == 4]  # in forward order
layer = None
if METHODS[method].uses_layer:
    layer = c2.selectbox("Layer", layer_options, index=layer_options.index(default), key=f"{P}_layer",
                         format_func=lambda n: f"{n}  ({shapes[n][-2]}×{shapes[n][-1]})")
    c2.caption(f"Default `{default}`: the deepest layer whose map is at least 4×4 cells at {size} px, after its "
               "ReLU (measured on Shapes: deeper points at the object better until the map is too coarse to point; "
               "the ReLU'd map beats the raw convolution).")

try:
    top = cached_explain(model, x_in, "saliency", classes=classes, image_size=size, arch=arch)
except PlaygroundError as err:
    show_error(err)
    st.stop()
choices = [t["index"] for t in top.topk]
if mask is not None and int(label) not in choices:
    choices.append(int(label))
prob_of = {t["index"]: t["prob"] for t in top.topk}
target = c3.selectbox("Class to explain", choices, key=f"{P}_target",
                      format_func=lambda i: f"{classes[i]}" + (f" (p = {prob_of[i]:.3f})" if i in prob_of else " (true)"))
name = c3.text_input("… or a class by name", key=f"{P}_target_name", placeholder="e.g. tabby cat")
if name.strip():
    target = name.strip()

mod = METHODS[method].load()
params = {}
defaults = METHODS[method].defaults
if defaults:
    with st.expander(f"{METHODS[method].title} parameters", expanded=False):
        choices_of = getattr(mod, "CHOICES", {})
        cols = st.columns(min(4, len(defaults)))
        for i, (k, v) in enumerate(defaults.items()):
            col = cols[i % len(cols)]
            if k in choices_of:
                params[k] = col.selectbox(k, choices_of[k], index=list(choices_of[k]).index(v), key=f"{P}_p_{method}_{k}")
            elif isinstance(v, bool):
                params[k] = col.checkbox(k, v, key=f"{P}_p_{method}_{k}")
            elif isinstance(v, int) or v is None:
                val = int(col.number_input(f"{k}" + (" (0 = auto)" if v is None else ""), 0, 100_000,
                                           int(v or 0), key=f"{P}_p_{method}_{k}"))
                params[k] = None if v is None and val == 0 else val
            elif isinstance(v, float):
                params[k] = float(col.number_input(k, 0.0, 10.0, float(v), key=f"{P}_p_{method}_{k}", format="%.3f"))

o1, o2 = st.columns(2)
opacity = o1.slider("Overlay opacity", 0.0, 1.0, 0.5, 0.05, key=f"{P}_opacity")
cmap = o2.selectbox("Colour map", COLORMAPS, key=f"{P}_cmap")


def run(m: str, lay: str | None, prm: dict | None):
    return cached_explain(model, x_in, m, target=target, layer=lay, params=prm, classes=classes, image_size=size,
                          arch=arch)


try:
    with st.spinner(f"Computing {METHODS[method].title}…"):
        e = run(method, layer, params)
except PlaygroundError as err:
    show_error(err)
    st.stop()

# ------------------------------------------------------------------------------------------------ result
st.subheader(f"{METHODS[method].title} for “{e.label}” (p = {e.score:.3f})")
if not trained:
    st.warning("Untrained model: this map explains random weights, not a learned concept.", icon=":material/warning:")
for note in e.notes:
    (st.warning if note.startswith(("no signal", "map is 1×1")) else st.caption)(note)
norm = e.normalized()
r1, r2, r3 = st.columns(3)
over = overlay(e.image, norm, opacity, cmap)
r1.image(over, caption="overlay", width="stretch")
if norm is not None:
    from core.explain.render import colorize

    r2.image(colorize(norm, cmap), caption=f"raw map (max {float(e.map.max()):.3g})", width="stretch")
    nat = native_image(e.native, cmap)
    if nat is not None:
        r3.image(nat, caption=f"native map {e.native.shape[0]}×{e.native.shape[1]}", width="stretch")
r3.caption(stride_sentence(e.layer, e.native.shape, size))
st.caption(f"Computed in {e.seconds * 1e3:.0f} ms on {str(e.image.shape[0])} px input.")

settings = {"method": e.method, "arch": arch, "weights": weights if checkpoint is None else None,
            "checkpoint": checkpoint, "layer": e.layer, "target": e.target, "label": e.label, "score": e.score,
            "params": e.params, "image_size": size, "notes": e.notes}
d1, d2, d3 = st.columns(3)
d1.download_button("Overlay PNG", png_bytes(over), f"{e.method}-overlay.png", "image/png", key=f"{P}_dl_png")
import io  # noqa: E402

buf = io.BytesIO()
np.save(buf, e.map)
d2.download_button("Raw map (.npy)", buf.getvalue(), f"{e.method}.npy", "application/octet-stream", key=f"{P}_dl_npy")
d3.download_button("Settings JSON", json.dumps(settings, indent=2, default=str), f"{e.method}-settings.json",
                   "application/json", key=f"{P}_dl_json")
st.code(cli_command(method=e.method, arch=arch, weights=weights, checkpoint=checkpoint, layer=e.layer,
                    target=e.target, params={k: v for k, v in params.items() if defaults.get(k) != v} or None,
                    image=image_label if mask is None else "SHAPE.png"), language="bash")

# ------------------------------------------------------------------------------------------------ grids
st.subheader("Compare")
tab_methods, tab_layers, tab_models = st.tabs(["Methods", "Layers", "Models"])
with tab_methods:
    fast = [m for m in ("gradcam", "gradcam_pp", "saliency", "smoothgrad") if m in usable]
    grid = st.multiselect("Methods", usable, default=fast, key=f"{P}_grid",
                          format_func=lambda m: METHODS[m].title)
    cols = st.columns(max(1, min(4, len(grid))))
    results = {}
    for i, m in enumerate(grid):
        try:
            r = run(m, layer if METHODS[m].uses_layer else None, None)
        except PlaygroundError as err:
            cols[i % len(cols)].error(f"{METHODS[m].title}: {err}")
            continue
        results[m] = r
        cap = f"{METHODS[m].title} · {r.seconds * 1e3:.0f} ms" + ("" if r.has_signal else " · no signal")
        cols[i % len(cols)].image(overlay(r.image, r.normalized(), opacity, cmap), caption=cap,
                                  width="stretch")
with tab_layers:
    lay_default = [n for n in layer_options if n.count(".") == default.count(".")][-4:]
    lays = st.multiselect("Layers (Grad-CAM)", layer_options, default=lay_default, key=f"{P}_grid_layers")
    cols = st.columns(max(1, min(4, len(lays))))
    for i, lay in enumerate(lays):
        try:
            r = run("gradcam", lay, None)
        except PlaygroundError as err:
            cols[i % len(cols)].error(f"{lay}: {err}")
            continue
        cols[i % len(cols)].image(overlay(r.image, r.normalized(), opacity, cmap),
                                  caption=f"{lay} · {r.native.shape[0]}×{r.native.shape[1]}"
                                  + ("" if r.has_signal else " · no signal"), width="stretch")

with tab_models:
    from PIL import Image

    from core.explain.base import to_uint8_image
    from core.explain.compare import MAX_MODELS, ModelEntry, explain_models

    current_label = f"this model ({arch}" + (f", run {rid})" if checkpoint is not None else ")")
    done_runs = {r["id"]: r for r in runs if r["state"] == "completed" and r["has_checkpoint"]
                 and (checkpoint is None or r["id"] != rid)}
    model_options = ["current"] + [f"run:{i}" for i in done_runs] + [f"zoo:{a}" for a in ARCHITECTURES]

    def _model_label(key: str) -> str:
        if key == "current":
            return current_label
        kind, _, name = key.partition(":")
        if kind == "run":
            return f"run {name} ({done_runs[name]['arch']})"
        return f"{ARCHITECTURES[name].title} (zoo, {'ImageNet' if weights_status(name) == 'cached' else 'untrained'})"

    same = [f"run:{i}" for i, r in done_runs.items() if r.get("dataset") == (shapes_run.dataset if shapes_run else None)]
    picked = st.multiselect(f"Models (up to {MAX_MODELS}): the same image and method, each at its own input size and "
                            "default layer", model_options, default=["current"] + same[:2], key=f"{P}_grid_models",
                            format_func=_model_label, max_selections=MAX_MODELS)
    entries = []
    for key in picked:
        try:
            if key == "current":
                entries.append(ModelEntry(current_label, model, arch, classes, size))
            elif key.startswith("run:"):
                other = run_model(done_runs[key[4:]]["path"])
                entries.append(ModelEntry(_model_label(key), other.model, other.arch, other.classes, other.image_size))
            else:
                from core.models.predict import class_names

                name = key[4:]
                w = "default" if weights_status(name) == "cached" else "none"
                entries.append(ModelEntry(_model_label(key), zoo_model(name, w), name,
                                          class_names(name, w, get_spec(name).default_num_classes),
                                          get_spec(name).input_size))
        except PlaygroundError as err:
            st.error(f"{_model_label(key)}: {err}")
    grid_image = x_in if mask is None else Image.fromarray(to_uint8_image(x_in))
    with st.spinner(f"{METHODS[method].title} on {len(entries)} models…"):
        rows = explain_models(entries, grid_image, method, target=e.label, params=params or None)
    cols = st.columns(max(1, min(MAX_MODELS, len(rows))))
    for i, row in enumerate(rows):
        col = cols[i % len(cols)]
        if row.explanation is None:
            col.error(f"{row.entry.label}: {row.error}")
            continue
        r = row.explanation
        col.image(overlay(r.image, r.normalized(), opacity, cmap), width="stretch",
                  caption=f"{row.entry.label} · “{r.label}” p = {r.score:.3f}"
                  + (f" · {r.layer} {r.native.shape[0]}×{r.native.shape[1]}" if r.layer else "")
                  + ("" if r.has_signal else " · no signal"))
        if row.note:
            col.caption(row.note)
    st.caption("Each model's class list is its own: the class is matched by name (“" + e.label + "”).")

# ------------------------------------------------------------------------------------------------ faithfulness
st.subheader("Faithfulness")
f1, f2, f3 = st.tabs(["Deletion / insertion", "Pointing game", "Sanity check"])
with f1:
    st.caption("Pixels are removed (to black) or inserted (into a blurred copy) in the map's order, most important "
               "first; the curve is the class probability. A faithful map makes deletion fall fast and insertion "
               "rise fast.")
    if st.button("Measure deletion / insertion for the compared methods", key=f"{P}_di"):
        from core.explain.metrics import deletion_insertion
        from core.explain import prepare_input

        x = prepare_input(x_in, size)
        with st.spinner("Measuring…"):
            ss[f"{P}_curves"] = {METHODS[m].title: deletion_insertion(model, x, r.map, r.target)
                                 for m, r in results.items()}
    if ss.get(f"{P}_curves"):
        st.plotly_chart(curves_figure(ss[f"{P}_curves"]), width="stretch")
with f2:
    if shapes_run is None:
        st.info("The pointing game needs true object masks: pick a trained **Shapes** run.")
    else:
        st.caption("Share of Shapes test images whose map maximum lies inside the true shape (true class explained), "
                   "next to the share a uniformly random point gets (the mean shape coverage). Tied maxima count as "
                   "the share of tied pixels inside the shape, so a blank map scores like chance.")
        n = st.slider("Test images", 10, 200, 50, 10, key=f"{P}_pg_n")
        if st.button("Play the pointing game", key=f"{P}_pg"):
            from core.explain.metrics import pointing_game

            data = shapes_test_set(size, shapes_run.dataset_options)
            with st.spinner(f"Explaining {n} test images…"):
                try:
                    res = pointing_game(model, data, method, n=n, layer=layer, arch=arch)
                    ss[f"{P}_pg_result"] = res.to_dict()
                except PlaygroundError as err:
                    show_error(err)
        res = ss.get(f"{P}_pg_result")
        if res:
            a, b, c = st.columns(3)
            a.metric(f"Hit rate ({METHODS[res['method']].title}, {res['layer'] or 'pixels'})", f"{res['hit_rate']:.3f}")
            b.metric("Random point", f"{res['random_hit_rate']:.3f}")
            c.metric("Images", res["n"], help=f"{res['no_signal']} maps had no signal")
with f3:
    st.caption("Adebayo et al. 2018: randomise the weights stage by stage from the output down and explain again. "
               "If the map hardly changes (rank correlation near 1), it shows the image's edges, not what the model "
               "learned.")
    if st.button("Run the sanity check", key=f"{P}_sanity"):
        from core.explain import prepare_input
        from core.explain.metrics import sanity_check

        with st.spinner("Randomising stage by stage…"):
            try:
                steps = sanity_check(model, prepare_input(x_in, size), method, target=e.target, layer=e.layer,
                                     arch=arch)
                ss[f"{P}_sanity_result"] = steps
            except PlaygroundError as err:
                show_error(err)
    steps = ss.get(f"{P}_sanity_result")
    if steps:
        st.plotly_chart(sanity_figure(steps), width="stretch")
        cols = st.columns(min(6, len(steps)))
        for i, s in enumerate(steps[: len(cols)]):
            top_v = float(s["map"].max())
            cols[i].image(overlay(e.image, s["map"] / top_v if top_v > 0 else None, opacity, cmap),
                          caption=f"{s['stage']} · ρ={s['spearman']:.2f}", width="stretch")
