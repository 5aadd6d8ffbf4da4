"""Explain: why did the network say *this*? Grad-CAM and other attributions, compared and checked for faithfulness.

The page is layout: the model and image pickers (and the one-click Shapes run) are in ``views/_explain_inputs.py``,
the comparison and faithfulness tabs in ``views/_explain_tabs.py``, the session state in
``views/_explain_state.py``; every map comes from the shared cache (:mod:`core.explain.cache`: a rerun or reload
is free) and every picture from :mod:`core.explain.figures` / :mod:`core.explain.render`.
"""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from core.explain import METHODS, available_methods, default_layer, layer_shapes
from core.explain.cache import cached_explain
from core.explain.figures import result_tiles
from core.explain.render import COLORMAPS, cli_command, npy_bytes, png_bytes, settings_json, stride_sentence
from core.models import get_spec
from core.models.activations import feature_layers
from views import _explain_inputs as inputs
from views import _explain_state as state
from views import _explain_tabs as tabs
from views._widgets import show_error

key = state.key

st.title("Explain")
st.markdown(
    "Which pixels made the network choose its class? **Grad-CAM** weights a layer's feature maps by the class "
    "score's gradient; **Integrated Gradients**, **Saliency**, **SmoothGrad** and **Occlusion** score single pixels. "
    "Maps are only as good as their *faithfulness*: below, remove the top pixels and watch the score fall, point "
    "at the true shape on Shapes, and randomise the weights to see whether the map notices."
)

# ------------------------------------------------------------------------------------------------ model, image
left, right = st.columns([1, 1])
subject = inputs.pick_model(left)
picture = inputs.pick_image(right, subject)
model, size, arch, classes = subject.model, subject.size, subject.arch, subject.classes

# ------------------------------------------------------------------------------------------------ method
offered = available_methods(model)
usable = [m for m, why in offered.items() if why is None]
c1, c2, c3 = st.columns(3)
method = c1.selectbox("Method", usable, format_func=lambda m: METHODS[m].title, key=key("method"))
for m, why in offered.items():
    if why:
        c1.caption(f"{METHODS[m].title} is not offered: {why}.")
try:
    shapes = layer_shapes(model, size)
except PAGE_ERRORS as err:
    show_error(err)
    st.stop()
default = default_layer(model, size, get_spec(arch).default_cam_layer)
offered_layers = set(feature_layers(model)) | {default}
layer_options = [n for n in shapes if n in offered_layers and len(shapes[n]) == 4]  # in forward order
layer = None
if METHODS[method].uses_layer:
    layer = c2.selectbox("Layer", layer_options, index=layer_options.index(default), key=key("layer"),
                         format_func=lambda n: f"{n}  ({shapes[n][-2]}×{shapes[n][-1]})")
    c2.caption(f"Default `{default}`: the deepest layer whose map is at least 4×4 cells at {size} px, after its "
               "ReLU (measured on Shapes: deeper points at the object better until the map is too coarse to point; "
               "the ReLU'd map beats the raw convolution).")

try:
    top = cached_explain(model, picture.x, "saliency", classes=classes, image_size=size, arch=arch)
except PAGE_ERRORS as err:
    show_error(err)
    st.stop()
choices = [t["index"] for t in top.topk]
if picture.mask is not None and picture.true_class not in choices:
    choices.append(picture.true_class)
prob_of = {t["index"]: t["prob"] for t in top.topk}
target = c3.selectbox("Class to explain", choices, key=key("target"),
                      format_func=lambda i: f"{classes[i]}" + (f" (p = {prob_of[i]:.3f})" if i in prob_of else " (true)"))
name = c3.text_input("… or a class by name", key=key("target_name"), placeholder="e.g. tabby cat")
if name.strip():
    target = name.strip()

params = inputs.method_params(method)
o1, o2 = st.columns(2)
opacity = o1.slider("Overlay opacity", 0.0, 1.0, 0.5, 0.05, key=key("opacity"))
cmap = o2.selectbox("Colour map", COLORMAPS, key=key("cmap"))


def run(m: str, lay: str | None, prm: dict | None):
    """The page's one explain call: this model, image and class (shared cache: the grids reuse the main map)."""
    return cached_explain(model, picture.x, m, target=target, layer=lay, params=prm, classes=classes, image_size=size,
                          arch=arch)


try:
    with st.spinner(f"Computing {METHODS[method].title}…"):
        e = run(method, layer, params)
except PAGE_ERRORS as err:
    show_error(err)
    st.stop()

# ------------------------------------------------------------------------------------------------ result
st.subheader(f"{METHODS[method].title} for “{e.label}” (p = {e.score:.3f})")
if not subject.trained:
    st.warning("Untrained model: this map explains random weights, not a learned concept.", icon=":material/warning:")
for note in e.notes:
    (st.warning if note.startswith(("no signal", "map is 1×1")) else st.caption)(note)
r1, r2, r3 = st.columns(3)
over, raw, native = result_tiles(e, opacity, cmap)
for col, tile in ((r1, over), (r2, raw), (r3, native)):
    if tile is not None:
        col.image(tile.image, caption=tile.caption, width="stretch")
r3.caption(stride_sentence(e.layer, e.native.shape, size))
st.caption(f"Computed in {e.seconds * 1e3:.0f} ms on {str(e.image.shape[0])} px input.")

d1, d2, d3 = st.columns(3)
d1.download_button("Overlay PNG", png_bytes(over.image), f"{e.method}-overlay.png", "image/png", key=key("dl_png"))
d2.download_button("Raw map (.npy)", npy_bytes(e.map), f"{e.method}.npy", "application/octet-stream",
                   key=key("dl_npy"))
d3.download_button("Settings JSON", settings_json(e, arch=arch, weights=subject.weights,
                                                  checkpoint=subject.checkpoint, image_size=size),
                   f"{e.method}-settings.json", "application/json", key=key("dl_json"))
defaults = METHODS[method].defaults
st.code(cli_command(method=e.method, arch=arch, weights=subject.weights, checkpoint=subject.checkpoint, layer=e.layer,
                    target=e.target, params={k: v for k, v in params.items() if defaults.get(k) != v} or None,
                    image=picture.name), language="bash")

# ------------------------------------------------------------------------------------------------ grids
st.subheader("Compare")
tab_methods, tab_layers, tab_models = st.tabs(["Methods", "Layers", "Models"])
with tab_methods:
    results = tabs.methods_grid(run, usable, layer, opacity, cmap)
with tab_layers:
    tabs.layers_grid(run, layer_options, default, opacity, cmap)
with tab_models:
    tabs.models_grid(subject, picture, e, method, params, opacity, cmap)

# ------------------------------------------------------------------------------------------------ faithfulness
st.subheader("Faithfulness")
f1, f2, f3 = st.tabs(["Deletion / insertion", "Pointing game", "Sanity check"])
with f1:
    tabs.deletion_insertion_tab(subject, picture, results)
with f2:
    tabs.pointing_game_tab(subject, method, layer)
with f3:
    tabs.sanity_check_tab(subject, picture, e, method, opacity, cmap)
