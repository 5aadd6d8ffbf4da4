"""Augmentation lab: build a torchvision v2 pipeline, see N seeded draws with what was drawn, CutMix / MixUp,
the RandAugment explorer, and export the pipeline as Python and JSON (the JSON is what training takes).

UI only: every computation is in ``core.augment``; the step widgets are generated from the registry specs.
"""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image, ImageDraw

from core.augment import (
    GROUP_TITLES,
    PRESET_DESCRIPTIONS,
    PRESETS,
    REGISTRY,
    Param,
    PrefixCache,
    from_json,
    image_specs,
    mix_preview,
    mixing_specs,
    ops_at_magnitude,
    parse_timm,
    prepare_images,
    preview_grid,
    to_json,
    to_python,
    to_timm,
    validate_spec,
)
from core.augment.mixing import crop_batch, shapes_batch
from core.errors import PlaygroundError
from views._widgets import image_input, show_error

ss = st.session_state
DEFAULT_PRESET = "randaugment-cutmix"

st.title("Augmentation lab")
st.markdown(
    "A training set is a sparse, biased sample of the world; **augmentation** fills part of the gap by showing "
    "the network plausible variations of every image (moved, recoloured, cut, mixed) so it learns what does "
    "*not* change the class. Build a pipeline below: every tile is one random draw, and its caption says exactly "
    "what was drawn. Same seed, same tiles: in the exported code too."
)


# --------------------------------------------------------------------------------------------- state / callbacks
def _widget_value(v):
    return tuple(v) if isinstance(v, list) else v


def _load_spec(spec: dict) -> None:
    """Put a (validated) spec into the editor's session state. Runs in callbacks, before widgets exist."""
    norm = validate_spec(spec)
    uid0 = ss.get("aug_next_uid", 0)
    steps = []
    for i, step in enumerate(norm["steps"]):
        uid = uid0 + i
        steps.append({"uid": uid, "name": step["name"]})
        ss[f"aug_s{uid}_p"] = float(step["p"])
        for k, v in step["params"].items():
            ss[f"aug_s{uid}_{k}"] = _widget_value(v)
    ss["aug_next_uid"] = uid0 + len(steps)
    ss["aug_steps"] = steps
    mix = norm["mixing"]
    ss["aug_mixing"] = mix["name"] if mix else "none"
    if mix:
        ss["aug_mix_p"] = float(mix["p"])
        for k, v in mix["params"].items():
            ss[f"aug_mix_{mix['name']}_{k}"] = _widget_value(v)


def _add_step(name: str, params: dict | None = None) -> None:
    spec = REGISTRY[name]
    uid = ss.get("aug_next_uid", 0)
    ss["aug_next_uid"] = uid + 1
    ss[f"aug_s{uid}_p"] = float(spec.default_p)
    for p in spec.params:
        ss[f"aug_s{uid}_{p.name}"] = _widget_value((params or {}).get(p.name, p.default))
    ss["aug_steps"] = [*ss["aug_steps"], {"uid": uid, "name": name}]


def _on_add() -> None:
    _add_step(ss["aug_add_name"])


def _move(i: int, d: int) -> None:
    steps = list(ss["aug_steps"])
    j = i + d
    if 0 <= j < len(steps):
        steps[i], steps[j] = steps[j], steps[i]
        ss["aug_steps"] = steps


def _remove(i: int) -> None:
    steps = list(ss["aug_steps"])
    steps.pop(i)
    ss["aug_steps"] = steps


def _on_preset() -> None:
    _load_spec(PRESETS[ss["aug_preset"]])


def _on_import(text: str | bytes | None) -> None:
    try:
        if text is None:
            raise PlaygroundError("choose a .json file first")
        _load_spec(from_json(text))
        ss["aug_import_msg"] = ("ok", "Pipeline imported.")
    except PlaygroundError as err:
        ss["aug_import_msg"] = ("error", str(err))


def _on_timm() -> None:
    try:
        cfg = parse_timm(ss["aug_ra_timm"])
    except PlaygroundError as err:
        ss["aug_ra_msg"] = ("error", str(err))
        return
    params = cfg.to_params()
    ss["aug_ra_n"], ss["aug_ra_m"], ss["aug_ra_bins"] = params["num_ops"], params["magnitude"], params[
        "num_magnitude_bins"]
    ss["aug_ra_msg"] = ("ok", "; ".join(cfg.notes) if cfg.notes else "Converted exactly.")


def _on_ra_to_pipeline() -> None:
    _add_step("randaugment", {"num_ops": ss["aug_ra_n"], "magnitude": ss["aug_ra_m"],
                              "num_magnitude_bins": ss["aug_ra_bins"]})


if "aug_steps" not in ss:
    _load_spec(PRESETS[DEFAULT_PRESET])


# -------------------------------------------------------------------------------------------------- widgets
def _param_widget(p: Param, key: str) -> None:
    if key not in ss:
        ss[key] = _widget_value(p.default)
    label, help_ = p.title, p.help or None
    if p.kind == "bool":
        st.checkbox(label, key=key, help=help_)
    elif p.kind == "choice":
        st.selectbox(label, p.choices, key=key, help=help_)
    elif p.kind == "int":
        st.slider(label, int(p.min), int(p.max), step=int(p.step or 1), key=key, help=help_)
    else:  # float or range: a range slider when the value is a (low, high) pair
        st.slider(label, float(p.min), float(p.max), step=float(p.step or 0.01), key=key, help=help_)


def _md(text: str) -> str:
    """User-typed text (class names) shown inside markdown: escape the characters markdown would interpret."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in str(text))[:80]


def _spec_link(spec) -> str:
    return f" [paper]({spec.paper})" if spec.paper else ""


def _current_spec() -> dict:
    steps = []
    for s in ss["aug_steps"]:
        spec = REGISTRY[s["name"]]
        params = {p.name: ss.get(f"aug_s{s['uid']}_{p.name}", p.default) for p in spec.params}
        steps.append({"name": s["name"], "p": float(ss.get(f"aug_s{s['uid']}_p", spec.default_p)),
                      "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}})
    mixing = None
    name = ss.get("aug_mixing", "none")
    if name != "none":
        spec = REGISTRY[name]
        mixing = {"name": name, "p": float(ss.get("aug_mix_p", 1.0)),
                  "params": {p.name: ss.get(f"aug_mix_{name}_{p.name}", p.default) for p in spec.params}}
    return {"version": 1, "steps": steps, "mixing": mixing}


def _to_np(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).contiguous().numpy()


@st.cache_data(max_entries=16, show_spinner=False)
def _prepared(arrays: tuple, max_side: int) -> list[np.ndarray]:
    images = prepare_images([Image.fromarray(a) for a in arrays], max_side)
    return [_to_np(t) for t in images]


def _tensors(arrays) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).contiguous() for a in arrays]


@st.cache_resource(show_spinner=False)
def _prefix_cache() -> PrefixCache:
    """Per-step results of every tile, shared by all sessions (keyed by content): an added or moved step
    recomputes only the steps from there on, not the whole grid."""
    return PrefixCache(max_bytes=256 * 2**20)


@st.cache_data(max_entries=16, show_spinner=False)
def _grid(arrays: tuple, spec_json: str, n: int, seed: int):
    spec = json.loads(spec_json)
    tiles = preview_grid(_tensors(arrays), spec, n=n, seed=seed, cache=_prefix_cache())
    mixed = None
    if spec["mixing"] is not None:
        k = len(arrays)
        mixed = mix_preview([t.image for t in tiles], [i % k for i in range(n)], k, spec["mixing"], seed=seed + n)
    return tiles, mixed


@st.cache_data(max_entries=16, show_spinner=False)
def _mix_two(arrays: tuple, labels: tuple, k: int, mixing_json: str, seed: int):
    return mix_preview(_tensors(arrays), list(labels), k, json.loads(mixing_json), seed=seed)


@st.cache_data(max_entries=8, show_spinner=False)
def _ops_at(array: np.ndarray, m: int, bins: int):
    return ops_at_magnitude(_tensors([array])[0], m, bins)


def _outline(img: np.ndarray, box, color=(255, 230, 0)) -> np.ndarray:
    pil = Image.fromarray(img)
    x1, y1, x2, y2 = box
    if x2 > x1 and y2 > y1:
        ImageDraw.Draw(pil).rectangle([x1, y1, x2 - 1, y2 - 1], outline=color, width=max(1, img.shape[1] // 120))
    return np.asarray(pil)


def _soft_chart(soft: list[float], classes: list[str], title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=classes, y=soft, text=[f"{v:.3f}" for v in soft], textposition="auto"))
    fig.update_layout(title=title, yaxis_range=[0, 1], height=260, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _geometry_figure(geo: dict, w: int, h: int) -> go.Figure:
    fig = go.Figure()
    frame = [(0, 0), (w, 0), (w, h), (0, h), (0, 0)]
    fig.add_trace(go.Scatter(x=[p[0] for p in frame], y=[p[1] for p in frame], name="image frame",
                             line=dict(dash="dash", color="gray")))
    quad = geo["corners"] + [geo["corners"][0]]
    fig.add_trace(go.Scatter(x=[p[0] for p in quad], y=[p[1] for p in quad], name="where the corners went",
                             mode="lines+markers+text", text=["TL", "TR", "BR", "BL", ""],
                             textposition="top center", line=dict(color="crimson")))
    fig.update_yaxes(autorange="reversed", scaleanchor="x")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"))
    return fig


# --------------------------------------------------------------------------------------------------- images
col_a, col_b = st.columns(2)
with col_a:
    got_a = image_input("aug_a", "Image A", default_sample=0)
    # the key follows the image, so the class name defaults to the new image's name when it changes
    class_a = st.text_input("Class of image A", value=got_a[1] if got_a else "A",
                            key=f"aug_class_a::{got_a[1] if got_a else ''}")
with col_b:
    got_b = image_input("aug_b", "Image B", default_sample=1)
    class_b = st.text_input("Class of image B", value=got_b[1] if got_b else "B",
                            key=f"aug_class_b::{got_b[1] if got_b else ''}")
max_side = st.select_slider("Preview size (longer side, px)", [96, 128, 192, 256, 384, 512], value=256,
                            key="aug_max_side", help="Images are shrunk to this size first; the export does the same.")

arrays = None
if got_a and got_b:
    arrays = tuple(_prepared((np.asarray(got_a[0].convert("RGB")), np.asarray(got_b[0].convert("RGB"))), max_side))
elif got_a:
    arrays = tuple(_prepared((np.asarray(got_a[0].convert("RGB")),), max_side))

tab_pipe, tab_mix, tab_ra, tab_export = st.tabs(["Pipeline", "CutMix & MixUp", "RandAugment explorer", "Export"])

# ------------------------------------------------------------------------------------------------- pipeline tab
with tab_pipe:
    left, right = st.columns([2, 3])
    with left:
        st.subheader("Steps")
        pc1, pc2 = st.columns([3, 1], vertical_alignment="bottom")
        pc1.selectbox("Preset", list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET), key="aug_preset",
                      help="\n\n".join(f"**{k}**: {v}" for k, v in PRESET_DESCRIPTIONS.items()))
        pc2.button("Load", key="aug_load_preset", on_click=_on_preset)
        names = [s.name for s in image_specs()]
        ac1, ac2 = st.columns([3, 1], vertical_alignment="bottom")
        ac1.selectbox("Add an augmentation", names, key="aug_add_name",
                      format_func=lambda n: f"{GROUP_TITLES[REGISTRY[n].group].split(' ')[0]} · {REGISTRY[n].title}")
        ac2.button("Add", key="aug_add", on_click=_on_add, type="primary")
        if not ss["aug_steps"]:
            st.info("No steps: the pipeline is the identity. Add one above or load a preset.")
        for i, step in enumerate(ss["aug_steps"]):
            spec, uid = REGISTRY[step["name"]], step["uid"]
            with st.container(border=True):
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.markdown(f"**{i + 1}. {spec.title}**")
                    st.button("↑", key=f"aug_up_{uid}", on_click=_move, args=(i, -1), disabled=i == 0,
                              help="Move up", type="tertiary")
                    st.button("↓", key=f"aug_down_{uid}", on_click=_move, args=(i, 1),
                              disabled=i == len(ss["aug_steps"]) - 1, help="Move down", type="tertiary")
                    st.button("✕", key=f"aug_rm_{uid}", on_click=_remove, args=(i,), help="Remove",
                              type="tertiary")
                st.caption(spec.explanation + _spec_link(spec))
                key_p = f"aug_s{uid}_p"
                if key_p not in ss:
                    ss[key_p] = float(spec.default_p)
                st.slider("p: probability of applying", 0.0, 1.0, step=0.05, key=key_p)
                for p in spec.params:
                    _param_widget(p, f"aug_s{uid}_{p.name}")
        with st.container(border=True):
            st.markdown("**Mixing (batch level)**")
            st.selectbox("Mix images of a batch", ["none", *[s.name for s in mixing_specs()]], key="aug_mixing",
                         format_func=lambda n: "none" if n == "none" else REGISTRY[n].title)
            if ss["aug_mixing"] != "none":
                mspec = REGISTRY[ss["aug_mixing"]]
                st.caption(mspec.explanation + _spec_link(mspec))
                if "aug_mix_p" not in ss:
                    ss["aug_mix_p"] = 1.0
                st.slider("p: probability per batch", 0.0, 1.0, step=0.05, key="aug_mix_p")
                for p in mspec.params:
                    _param_widget(p, f"aug_mix_{mspec.name}_{p.name}")

    spec_raw = _current_spec()
    try:
        spec = validate_spec(spec_raw)
        ss["aug_spec_json"] = to_json(spec)
    except PlaygroundError as err:
        spec = None
        with right:
            show_error(err)

    with right:
        st.subheader("Random draws")
        r1, r2 = st.columns(2)
        seed = int(r1.number_input("Seed", 0, 2**31 - 1, value=0, step=1, key="aug_seed",
                                   help="Tile i is drawn with seed + i."))
        n_tiles = int(r2.select_slider("Tiles", [4, 8, 12, 16, 24, 32], value=16, key="aug_n"))
        if spec is not None and arrays is not None:
            sources = arrays if spec["mixing"] is not None else arrays[:1]
            classes = [class_a, class_b][: len(sources)]
            try:
                tiles, mixed = _grid(sources, ss["aug_spec_json"], n_tiles, seed)
            except PlaygroundError as err:
                show_error(err)
                tiles, mixed = [], None
            if len(sources) > 1:
                st.caption("With mixing on, tiles alternate between image A and image B (tile i uses image i mod 2).")
            cols = st.columns(4)
            for t in tiles:
                with cols[t.index % 4]:
                    st.image(_to_np(t.image), width="stretch")
                    st.caption(f"**#{t.index}** (seed {t.seed}): {t.caption}")
            geo_tiles = [t for t in tiles if any("geometry" in op for r in t.records for op in r.ops)]
            if geo_tiles:
                with st.expander("Geometry: the 2×3 matrix and where the corners went", expanded=False):
                    pick = st.selectbox("Tile", [t.index for t in geo_tiles], key="aug_geo_tile")
                    tile = next(t for t in geo_tiles if t.index == pick)
                    h, w = tile.image.shape[-2:]
                    for step_no, r in enumerate(tile.records):
                        for op in r.ops:
                            geo = op.get("geometry")
                            if not geo:
                                continue
                            st.markdown(f"**{op['text']}**")
                            if geo["matrix"]:
                                (a, b, c), (d, e, f) = geo["matrix"]
                                st.latex(r"\begin{pmatrix}x'\\y'\end{pmatrix}=\begin{pmatrix}"
                                         f"{a:.3f} & {b:.3f} & {c:.1f}\\\\ {d:.3f} & {e:.3f} & {f:.1f}"
                                         r"\end{pmatrix}\begin{pmatrix}x\\y\\1\end{pmatrix}")
                            else:
                                st.caption("Not affine (a perspective warp): no single 2×3 matrix, only the corners.")
                            names_c = ["top-left (0, 0)", f"top-right ({w}, 0)", f"bottom-right ({w}, {h})",
                                       f"bottom-left (0, {h})"]
                            st.table({"corner": names_c,
                                      "went to (x, y) px": [f"({x:.1f}, {y:.1f})" for x, y in geo["corners"]]})
                            st.plotly_chart(_geometry_figure(geo, w, h),  # a step may appear twice: key by its place
                                            key=f"aug_geo_fig_{pick}_{step_no}_{op['cls']}")
                    st.caption("Coordinates in pixels, x to the right, y down; the image spans [0, W] × [0, H]. "
                               "Torchvision's affine angle is clockwise on screen, rotate's is counter-clockwise.")
            if mixed is not None:
                st.subheader(f"After {REGISTRY[spec['mixing']['name']].title} (the {n_tiles} tiles as one batch)")
                st.caption(mixed.record.text + " — torchvision draws one λ per batch; tile i takes its box from "
                           "tile i−1. Seed: seed + number of tiles.")
                mcols = st.columns(4)
                for i, im in enumerate(mixed.images):
                    shown = _to_np(im)
                    if mixed.record.box and mixed.record.applied:
                        shown = _outline(shown, mixed.record.box)
                    soft = mixed.soft_labels[i].tolist()
                    label = " · ".join(f"{_md(c)} {v:.2f}" for c, v in zip(classes, soft) if v > 0)
                    with mcols[i % 4]:
                        st.image(shown, width="stretch")
                        st.caption(f"**#{i}** soft label: {label}")
        elif arrays is None:
            st.info("Choose image A to see the draws.")

# ---------------------------------------------------------------------------------------------- CutMix tab
with tab_mix:
    st.markdown(
        "**CutMix** pastes a box of image B into image A; **MixUp** blends the two. The label is mixed in the same "
        "proportion λ, so the network is told *how much* of each class is in the picture. For CutMix, λ is drawn "
        "from Beta(α, α), the box is clipped at the border, and then λ is reset to the area of A that is still "
        "visible: the two numbers below differ whenever the box was clipped."
    )
    m1, m2, m3 = st.columns(3)
    mode = m1.radio("Method", ["cutmix", "mixup"], horizontal=True, key="aug_mx_mode",
                    format_func=lambda n: REGISTRY[n].title)
    alpha = m2.slider("α", 0.05, 5.0, value=1.0, step=0.05, key="aug_mx_alpha")
    mseed = int(m3.number_input("Seed", 0, 2**31 - 1, value=0, key="aug_mx_seed"))
    mixing = {"name": mode, "p": 1.0, "params": {"alpha": alpha}}
    if arrays is None or len(arrays) < 2:
        st.info("Choose both image A and image B above.")
    else:
        classes2 = [class_a] if class_a == class_b else [class_a, class_b]
        labels2 = (0, 0) if class_a == class_b else (0, 1)
        try:
            res = _mix_two(arrays, labels2, len(classes2), json.dumps(mixing), mseed)
        except PlaygroundError as err:
            show_error(err)
            res = None
        if res is not None:
            rec = res.record
            c1, c2, c3 = st.columns(3)
            c1.image(arrays[0], caption=f"A: {class_a}", width="stretch")
            c2.image(arrays[1], caption=f"B: {class_b} (resized to A's size)", width="stretch")
            mixed_a = _to_np(res.images[0])
            if rec.box:
                mixed_a = _outline(mixed_a, rec.box)
            c3.image(mixed_a, caption="mixed (box outlined)" if rec.box else "mixed", width="stretch")
            k1, k2, k3 = st.columns(3)
            if rec.name == "cutmix":
                x1, y1, x2, y2 = rec.box
                h, w = arrays[0].shape[:2]
                k1.metric("λ drawn from Beta(α, α)", f"{rec.lam_drawn:.3f}")
                k2.metric("λ = kept area of A", f"{rec.lam:.3f}",
                          help=f"1 − box area / image area = 1 − {(x2 - x1) * (y2 - y1)} / {w * h}")
                k3.metric("Box (x1, y1, x2, y2)", f"{x1}, {y1}, {x2}, {y2}")
            else:
                k1.metric("λ drawn from Beta(α, α)", f"{rec.lam:.3f}")
                k2.metric("weight of A", f"{rec.lam:.3f}")
                k3.metric("weight of B", f"{1 - rec.lam:.3f}")
            st.plotly_chart(_soft_chart(res.soft_labels[0].tolist(), classes2, "Soft label of the mixed image"),
                            key="aug_mx_chart")

    st.subheader("A batch of 8")
    b1, b2 = st.columns(2)
    batch_sources = ["Random crops of the sample photos"]
    try:
        import core.data  # noqa: F401  (optional: the Shapes data set)

        batch_sources.append("Shapes data set")
    except ImportError:
        pass
    source = b1.radio("Batch", batch_sources, key="aug_mx_batch_src")
    bseed = int(b2.number_input("Batch seed", 0, 2**31 - 1, value=0, key="aug_mx_batch_seed"))
    try:
        if source == "Shapes data set":
            bimgs, blabels, bclasses = shapes_batch(8, 96, bseed)
        else:
            from views._widgets import _sample
            from core.samples import SAMPLE_NAMES

            srcs = prepare_images([_sample(n) for n in SAMPLE_NAMES], 192)
            bimgs, blabels = crop_batch(srcs, 8, 96, bseed)
            bclasses = list(SAMPLE_NAMES)
        bres = mix_preview(bimgs, blabels, len(bclasses), mixing, seed=bseed)
    except PlaygroundError as err:
        show_error(err)
        bres = None
    if bres is not None:
        st.caption(bres.record.text + ". Image i gets its box / blend from image i−1 (the batch rolled by one).")
        bcols = st.columns(8)
        for i, im in enumerate(bres.images):
            shown = _to_np(im)
            if bres.record.box:
                shown = _outline(shown, bres.record.box)
            soft = bres.soft_labels[i].tolist()
            top = sorted(((v, c) for c, v in zip(bclasses, soft) if v > 0), reverse=True)
            with bcols[i]:
                st.image(shown, width="stretch")
                st.caption("<br>".join(f"{c}: {v:.2f}" for v, c in top), unsafe_allow_html=True)
        heat = go.Figure(go.Heatmap(z=bres.soft_labels.numpy(), x=bclasses, y=[f"#{i}" for i in range(8)],
                                    zmin=0, zmax=1, colorscale="Blues", texttemplate="%{z:.2f}"))
        heat.update_yaxes(autorange="reversed")
        heat.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), title="Soft labels of the batch")
        st.plotly_chart(heat, key="aug_mx_heat")

# ---------------------------------------------------------------------------------------- RandAugment tab
with tab_ra:
    st.markdown(
        "**RandAugment** replaces a searched policy by two numbers: **N** operations per image, all at the same "
        "strength **M** (an index into `num_magnitude_bins` levels from 0 to each op's maximum; the sign of "
        "rotate / shear / translate / colour ops is random). Below: every operation at strength M, then draws."
    )
    for key, default in (("aug_ra_n", 2), ("aug_ra_m", 9), ("aug_ra_bins", 31)):
        if key not in ss:
            ss[key] = default
    e1, e2, e3 = st.columns(3)
    e3.number_input("num_magnitude_bins", 2, 101, step=1, key="aug_ra_bins",
                    help="torchvision's default is 31; timm's scale (m0..m10) is 11 bins.")
    bins = int(ss["aug_ra_bins"])
    if ss["aug_ra_m"] >= bins:
        ss["aug_ra_m"] = bins - 1
    e1.slider("N (ops per image)", 0, 6, key="aug_ra_n")
    e2.slider("M (magnitude bin)", 0, bins - 1, key="aug_ra_m")
    n_ops, mag = int(ss["aug_ra_n"]), int(ss["aug_ra_m"])
    timm_str, exact = to_timm(n_ops, mag, bins)
    t1, t2, t3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    t1.markdown(f"timm string for these settings: `{timm_str}`" + ("" if exact else " (rounded: M·10/(bins−1) "
                                                                    "is not a whole number)"))
    if "aug_ra_timm" not in ss:
        ss["aug_ra_timm"] = "rand-m9-n2-mstd0.5"
    t2.text_input("timm string → settings", key="aug_ra_timm")
    t3.button("Convert", key="aug_ra_convert", on_click=_on_timm)
    msg = ss.pop("aug_ra_msg", None)
    if msg:
        (st.error if msg[0] == "error" else st.info)(msg[1])
    st.button("Add RandAugment with these settings to the pipeline", key="aug_ra_add", on_click=_on_ra_to_pipeline)
    if arrays is not None:
        small = arrays[0]
        try:
            ops = _ops_at(small, mag, bins)
        except PlaygroundError as err:
            show_error(err)
            ops = []
        st.markdown(f"**Every operation at M = {mag} of {bins - 1}**")
        ocols = st.columns(7)
        for i, op in enumerate(ops):
            with ocols[i % 7]:
                st.image(_to_np(op.image), width="stretch")
                st.caption(op.text)
        st.markdown(f"**Draws of RandAugment(N={n_ops}, M={mag}) (seed from the Pipeline tab: {ss.get('aug_seed', 0)})**")
        ra_spec = {"version": 1, "steps": [{"name": "randaugment", "p": 1.0, "params": {
            "num_ops": n_ops, "magnitude": mag, "num_magnitude_bins": bins}}], "mixing": None}
        try:
            ra_tiles, _ = _grid(arrays[:1], json.dumps(validate_spec(ra_spec)), 8, int(ss.get("aug_seed", 0)))
        except PlaygroundError as err:
            show_error(err)
            ra_tiles = []
        dcols = st.columns(8)
        for t in ra_tiles:
            with dcols[t.index % 8]:
                st.image(_to_np(t.image), width="stretch")
                st.caption(t.caption.replace("RandAugment: ", ""))

# -------------------------------------------------------------------------------------------------- export tab
with tab_export:
    st.markdown(
        "The **JSON** is the pipeline's settings: the training page takes exactly this, so what you preview is "
        "what trains. The **Python** file is plain `torchvision.transforms.v2` code; run with the same images "
        "and seed it writes the same tiles as the preview (`python augment_pipeline.py a.jpg b.jpg --seed 0`)."
    )
    if spec is None:
        st.warning("Fix the pipeline settings first (see the message in the Pipeline tab).")
    else:
        code = to_python(spec, seed=int(ss.get("aug_seed", 0)), n=int(ss.get("aug_n", 16)), max_side=int(max_side))
        d1, d2 = st.columns(2)
        d1.download_button("Download pipeline.json", ss["aug_spec_json"], file_name="pipeline.json",
                           mime="application/json", key="aug_dl_json", on_click="ignore")
        d2.download_button("Download augment_pipeline.py", code, file_name="augment_pipeline.py",
                           mime="text/x-python", key="aug_dl_py", on_click="ignore")
        st.code(ss["aug_spec_json"], language="json")
        with st.expander("Python code", expanded=False):
            st.code(code, language="python")
    st.subheader("Import a pipeline")
    st.text_area("Paste pipeline JSON", key="aug_import_text", height=140,
                 placeholder='{"version": 1, "steps": [{"name": "hflip", "p": 0.5}], "mixing": null}')
    st.button("Import pasted JSON", key="aug_import_btn", on_click=lambda: _on_import(ss.get("aug_import_text")))
    up = st.file_uploader("…or upload a .json file", type=["json"], key="aug_import_file")
    st.button("Import uploaded file", key="aug_import_file_btn",
              on_click=lambda: _on_import(up.getvalue() if up is not None else None))
    msg = ss.pop("aug_import_msg", None)
    if msg:
        (st.error if msg[0] == "error" else st.success)(msg[1])
