"""The Augmentation lab's views of what was drawn: the tile grid (with geometry and the mixed batch), the
CutMix & MixUp tab and the RandAugment explorer. Layout only: the draws come from :mod:`views._augment_cache`
(cached ``core.augment`` calls), the pictures and figures from :mod:`core.augment.figures`."""
from __future__ import annotations

import json

import streamlit as st

from core.augment import REGISTRY, mix_preview, to_timm, validate_spec
from core.augment import figures as fig
from core.errors import PAGE_ERRORS
from views import _augment_cache as cache
from views import _augment_state as state
from views._widgets import show_error

ss = st.session_state


def _md(text: str) -> str:
    """User-typed text (class names) shown inside markdown: escape the characters markdown would interpret."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in str(text))[:80]


# ------------------------------------------------------------------------------------------ pipeline tab
def random_draws(spec: dict | None, arrays: tuple | None, classes: list[str]) -> None:
    """Seeded tiles with what each drew; the geometry of geometric ops; the tiles mixed as one batch."""
    st.subheader("Random draws")
    r1, r2 = st.columns(2)
    seed = int(r1.number_input("Seed", 0, 2**31 - 1, value=0, step=1, key="aug_seed",
                               help="Tile i is drawn with seed + i."))
    n_tiles = int(r2.select_slider("Tiles", [4, 8, 12, 16, 24, 32], value=16, key="aug_n"))
    if arrays is None:
        st.info("Choose image A to see the draws.")
        return
    if spec is None:
        return
    sources = arrays if spec["mixing"] is not None else arrays[:1]
    classes = classes[: len(sources)]
    try:
        tiles, mixed = cache.grid(sources, ss["aug_spec_json"], n_tiles, seed)
    except PAGE_ERRORS as err:
        show_error(err)
        tiles, mixed = [], None
    if len(sources) > 1:
        st.caption("With mixing on, tiles alternate between image A and image B (tile i uses image i mod 2).")
    cols = st.columns(4)
    for t in tiles:
        with cols[t.index % 4]:
            st.image(fig.to_hwc(t.image), width="stretch")
            st.caption(f"**#{t.index}** (seed {t.seed}): {t.caption}")
    geo_tiles = [t for t in tiles if fig.geometry_ops(t)]
    if geo_tiles:
        with st.expander("Geometry: the 2×3 matrix and where the corners went", expanded=False):
            _geometry(geo_tiles)
    if mixed is not None:
        st.subheader(f"After {REGISTRY[spec['mixing']['name']].title} (the {n_tiles} tiles as one batch)")
        st.caption(mixed.record.text + " — torchvision draws one λ per batch; tile i takes its box from "
                   "tile i−1. Seed: seed + number of tiles.")
        mcols = st.columns(4)
        for i in range(len(mixed.images)):
            label = " · ".join(f"{_md(c)} {v:.2f}" for c, v in fig.soft_label_pairs(mixed.soft_labels[i].tolist(),
                                                                                        classes))
            with mcols[i % 4]:
                st.image(fig.shown_image(mixed, i), width="stretch")
                st.caption(f"**#{i}** soft label: {label}")


def _geometry(geo_tiles: list) -> None:
    pick = st.selectbox("Tile", [t.index for t in geo_tiles], key="aug_geo_tile")
    tile = next(t for t in geo_tiles if t.index == pick)
    h, w = tile.image.shape[-2:]
    for step_no, op in fig.geometry_ops(tile):
        geo = op["geometry"]
        st.markdown(f"**{op['text']}**")
        if geo["matrix"]:
            st.latex(fig.geometry_latex(geo["matrix"]))
        else:
            st.caption("Not affine (a perspective warp): no single 2×3 matrix, only the corners.")
        st.table(fig.corner_rows(geo, w, h))
        st.plotly_chart(fig.geometry_figure(geo, w, h),  # a step may appear twice: key by its place
                        key=f"aug_geo_fig_{pick}_{step_no}_{op['cls']}")
    st.caption("Coordinates in pixels, x to the right, y down; the image spans [0, W] × [0, H]. "
               "Torchvision's affine angle is clockwise on screen, rotate's is counter-clockwise.")


# ------------------------------------------------------------------------------------------ CutMix tab
def mixing_tab(arrays: tuple | None, class_a: str, class_b: str) -> None:
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
        _mix_two(arrays, class_a, class_b, mixing, mseed)
    st.subheader("A batch of 8")
    b1, b2 = st.columns(2)
    source = b1.radio("Batch", list(fig.BATCH_SOURCES), key="aug_mx_batch_src")
    bseed = int(b2.number_input("Batch seed", 0, 2**31 - 1, value=0, key="aug_mx_batch_seed"))
    try:
        bimgs, blabels, bclasses = fig.demo_batch(source, 8, 96, bseed)
        bres = mix_preview(bimgs, blabels, len(bclasses), mixing, seed=bseed)
    except PAGE_ERRORS as err:
        show_error(err)
        return
    st.caption(bres.record.text + ". Image i gets its box / blend from image i−1 (the batch rolled by one).")
    bcols = st.columns(8)
    for i in range(len(bres.images)):
        top = fig.soft_label_pairs(bres.soft_labels[i].tolist(), bclasses, top_first=True)
        with bcols[i]:
            st.image(fig.shown_image(bres, i), width="stretch")
            st.caption("<br>".join(f"{c}: {v:.2f}" for c, v in top), unsafe_allow_html=True)
    st.plotly_chart(fig.soft_label_heatmap(bres.soft_labels, bclasses), key="aug_mx_heat")


def _mix_two(arrays: tuple, class_a: str, class_b: str, mixing: dict, seed: int) -> None:
    """Image A mixed with image B: the three images, λ (drawn and kept) or the weights, the soft label."""
    classes = [class_a] if class_a == class_b else [class_a, class_b]
    labels = (0, 0) if class_a == class_b else (0, 1)
    try:
        res = cache.mix_two(arrays, labels, len(classes), json.dumps(mixing), seed)
    except PAGE_ERRORS as err:
        show_error(err)
        return
    rec = res.record
    c1, c2, c3 = st.columns(3)
    c1.image(arrays[0], caption=f"A: {class_a}", width="stretch")
    c2.image(arrays[1], caption=f"B: {class_b} (resized to A's size)", width="stretch")
    c3.image(fig.shown_image(res, 0), caption="mixed (box outlined)" if rec.box else "mixed", width="stretch")
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
    st.plotly_chart(fig.soft_label_chart(res.soft_labels[0].tolist(), classes, "Soft label of the mixed image"),
                    key="aug_mx_chart")


# ------------------------------------------------------------------------------------------ RandAugment tab
def randaugment_tab(arrays: tuple | None) -> None:
    st.markdown(
        "**RandAugment** replaces a searched policy by two numbers: **N** operations per image, all at the same "
        "strength **M** (an index into `num_magnitude_bins` levels from 0 to each op's maximum; the sign of "
        "rotate / shear / translate / colour ops is random). Below: every operation at strength M, then draws."
    )
    e1, e2, e3 = st.columns(3)
    e3.number_input("num_magnitude_bins", 2, 101, step=1, key="aug_ra_bins",
                    help="torchvision's default is 31; timm's scale (m0..m10) is 11 bins.")
    bins = state.clamp_ra_magnitude()
    e1.slider("N (ops per image)", 0, 6, key="aug_ra_n")
    e2.slider("M (magnitude bin)", 0, bins - 1, key="aug_ra_m")
    n_ops, mag = int(ss["aug_ra_n"]), int(ss["aug_ra_m"])
    timm_str, exact = to_timm(n_ops, mag, bins)
    t1, t2, t3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    t1.markdown(f"timm string for these settings: `{timm_str}`" + ("" if exact else " (rounded: M·10/(bins−1) "
                                                                    "is not a whole number)"))
    t2.text_input("timm string → settings", key="aug_ra_timm")
    t3.button("Convert", key="aug_ra_convert", on_click=state.on_timm)
    msg = state.pop_message("aug_ra_msg")
    if msg:
        (st.error if msg[0] == "error" else st.info)(msg[1])
    st.button("Add RandAugment with these settings to the pipeline", key="aug_ra_add",
              on_click=state.on_ra_to_pipeline)
    if arrays is None:
        return
    try:
        ops = cache.ops_at(arrays[0], mag, bins)
    except PAGE_ERRORS as err:
        show_error(err)
        ops = []
    st.markdown(f"**Every operation at M = {mag} of {bins - 1}**")
    ocols = st.columns(7)
    for i, op in enumerate(ops):
        with ocols[i % 7]:
            st.image(fig.to_hwc(op.image), width="stretch")
            st.caption(op.text)
    seed = int(ss.get("aug_seed", 0))
    st.markdown(f"**Draws of RandAugment(N={n_ops}, M={mag}) (seed from the Pipeline tab: {seed})**")
    ra_spec = {"version": 1, "steps": [{"name": "randaugment", "p": 1.0, "params": {
        "num_ops": n_ops, "magnitude": mag, "num_magnitude_bins": bins}}], "mixing": None}
    try:
        ra_tiles, _ = cache.grid(arrays[:1], json.dumps(validate_spec(ra_spec)), 8, seed)
    except PAGE_ERRORS as err:
        show_error(err)
        ra_tiles = []
    dcols = st.columns(8)
    for t in ra_tiles:
        with dcols[t.index % 8]:
            st.image(fig.to_hwc(t.image), width="stretch")
            st.caption(t.caption.replace("RandAugment: ", ""))
