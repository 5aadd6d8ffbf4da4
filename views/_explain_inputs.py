"""What the Explain page explains: the model (a zoo architecture or a finished run, with the one-click Shapes
run when there is none), the image (a photo / upload / camera, or a Shapes test image with its true mask) and
the chosen method's parameters. Widgets only: the models come from :mod:`views._models`' shared cache, the
pictures from :mod:`core.explain.figures`, the state from :mod:`views._explain_state`.

:func:`pick_model` and :func:`pick_image` stop the script (``st.stop``) when there is nothing to explain yet;
what they return is plain data (:class:`Subject`, :class:`Picture`) that the rest of the page passes around.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image
from torch import nn

from core.errors import PAGE_ERRORS
from core.explain import METHODS, quickstart
from core.explain.figures import shapes_preview
from core.explain.metrics import normalise_uint8, shapes_test_set
from core.models import ARCHITECTURES, get_spec, weights_status
from core.models.predict import class_names
from core.runs import store as run_store
from core.runs.results import format_acc, format_seconds
from core.train.config import PRESETS, TrainConfig
from views import _explain_state as state
from views._models import run_model, zoo_model
from views._widgets import image_input, show_error

key = state.key


@dataclass
class Subject:
    """The model being explained. ``weights``: the zoo weights ("default" = ImageNet, "none" = untrained; "none"
    for a run); ``checkpoint`` / ``run_id``: the run folder and its id for a trained run; ``shapes_run``: the
    run's config when it was trained on Shapes (which offers test images with true masks)."""
    model: nn.Module
    arch: str
    classes: list[str]
    size: int
    trained: bool
    weights: str = "none"
    checkpoint: str | None = None
    run_id: str | None = None
    shapes_run: TrainConfig | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)  # every run's summary (the models grid offers them)


@dataclass
class Picture:
    """The image being explained: a PIL image, or a normalised ``[1, 3, S, S]`` Shapes test image with its
    ``bool [S, S]`` mask and true class. ``name``: the file name the CLI line shows."""
    x: Image.Image | torch.Tensor
    name: str = "IMAGE.png"
    mask: np.ndarray | None = None
    true_class: int | None = None


def zoo_weights(arch: str) -> str:
    """Pretrained ImageNet weights when they are on this machine, else none (the page never downloads)."""
    return "default" if weights_status(arch) == "cached" else "none"


def zoo_classes(arch: str, weights: str) -> list[str]:
    return class_names(arch, weights, get_spec(arch).default_num_classes)


# ------------------------------------------------------------------------------------------ model
def pick_model(left) -> Subject:
    """The "Model" radio and what it offers, in the ``left`` column."""
    with left:
        source = st.radio("Model", ["Zoo architecture", "Trained run"], horizontal=True, key=key("source"))
    runs = list(run_store.list_runs())
    if source == "Zoo architecture":
        with left:
            arch = st.selectbox("Architecture", list(ARCHITECTURES), index=list(ARCHITECTURES).index("resnet18"),
                                format_func=lambda n: ARCHITECTURES[n].title, key=key("arch"))
            weights = zoo_weights(arch)
            if weights == "none":
                st.warning("**Untrained weights** (pretrained ImageNet weights are not on this machine): the maps "
                           "explain a random network and mean nothing about the image. Download them on the "
                           "Architectures page, or pick a trained run.", icon=":material/warning:")
        try:
            model = zoo_model(arch, weights)
        except PAGE_ERRORS as err:
            show_error(err)
            st.stop()
        return Subject(model, arch, zoo_classes(arch, weights), get_spec(arch).input_size, weights != "none",
                       weights=weights, runs=runs)
    finished = [r for r in runs if r["state"] == "completed" and r["has_checkpoint"]]
    with left:
        if not finished:
            st.info("No finished training run yet.")
        quick_train(runs)
    if not finished:
        st.stop()
    ids = [r["id"] for r in finished]
    state.keep_run_choice(ids)
    with left:
        rid = st.selectbox("Run", ids, key=state.RUN_CHOICE)
    run_dir = next(r["path"] for r in finished if r["id"] == rid)
    try:
        rm = run_model(run_dir)
    except PAGE_ERRORS as err:
        show_error(err)
        st.stop()
    cfg = run_store.load_config(run_dir)
    return Subject(rm.model, rm.arch, rm.classes, rm.image_size, True, checkpoint=run_dir, run_id=rid,
                   shapes_run=cfg if cfg.dataset == "shapes" else None, runs=runs)


def quick_train(runs: list[dict]) -> None:
    """One click: train the short Shapes preset with the normal engine, then explain with it."""
    preset = PRESETS[quickstart.PRESET]
    done = quickstart.measured(runs)
    if done:
        st.caption(f"Measured here: the last run of this preset took {format_seconds(done['wall_s'])} wall time and "
                   f"reached {format_acc(done['test_acc'], done['test_n'])} test accuracy (run `{done['id']}`).")
    else:
        st.caption("Not measured on this machine yet: the duration appears here after the first run "
                   "(`python -m bench.explain_preset` measures it from a fresh home).")
    active = state.quick_run()
    if active is None:
        if st.button(f"Train a short Shapes model ({preset.title})", key=key("quick"), type="primary",
                     help=preset.description):
            try:
                state.quick_run_started(str(quickstart.start()))
            except PAGE_ERRORS as err:
                show_error(err)
                return
            st.rerun()
        return
    _progress(active)


@st.fragment(run_every=2)
def _progress(active: str) -> None:
    """The one-click run's progress bar, redrawn every 2 s; when the run completes, the page switches to it."""
    summary = run_store.run_summary(active)
    run_state = summary["state"]
    total = summary["total_steps"] or 0
    frac = min(1.0, summary["step"] / total) if total else 0.0
    st.progress(frac, text=f"Training `{summary['id']}`: {run_state}, step {summary['step']}/{total or '?'}")
    if run_state == "completed":
        state.quick_run_completed(summary["id"])
        st.rerun(scope="app")
    elif run_state not in run_store.ACTIVE_STATES:
        st.error(f"The run ended {run_state}: {summary.get('message') or ''}")
        state.quick_run_ended()


# ------------------------------------------------------------------------------------------ image
def pick_image(right, subject: Subject) -> Picture:
    """A Shapes test image (for a Shapes run, shown with its mask) or a photo / upload / camera image."""
    with right:
        if subject.shapes_run is not None and st.radio(
                "Image", ["Shapes test image", "Photo / upload / camera"], horizontal=True,
                key=key("imgsrc")) == "Shapes test image":
            data = shapes_test_set(subject.size, subject.shapes_run.dataset_options)
            idx = int(st.number_input("Test image #", 0, len(data) - 1, 0, key=key("shape_idx")))
            img_u8, label = data[idx]
            mask = data.mask(idx)
            tile = shapes_preview(img_u8, mask, subject.classes[int(label)])
            st.image(tile.image, caption=tile.caption, width=160)
            return Picture(normalise_uint8(img_u8[None]), "SHAPE.png", mask, int(label))
        picked = image_input(state.P, default_sample=0)
        if picked is None:
            st.stop()
        pil, name = picked
        return Picture(pil, name)


# ------------------------------------------------------------------------------------------ method
def method_params(method: str) -> dict[str, Any]:
    """The method's parameter widgets (one per default in its ``MethodSpec``) in an expander; their values."""
    params: dict[str, Any] = {}
    defaults = METHODS[method].defaults
    if not defaults:
        return params
    with st.expander(f"{METHODS[method].title} parameters", expanded=False):
        choices_of = getattr(METHODS[method].load(), "CHOICES", {})
        cols = st.columns(min(4, len(defaults)))
        for i, (k, v) in enumerate(defaults.items()):
            col, wkey = cols[i % len(cols)], key(f"p_{method}_{k}")
            if k in choices_of:
                params[k] = col.selectbox(k, choices_of[k], index=list(choices_of[k]).index(v), key=wkey)
            elif isinstance(v, bool):
                params[k] = col.checkbox(k, v, key=wkey)
            elif isinstance(v, int) or v is None:
                val = int(col.number_input(f"{k}" + (" (0 = auto)" if v is None else ""), 0, 100_000, int(v or 0),
                                           key=wkey))
                params[k] = None if v is None and val == 0 else val
            elif isinstance(v, float):
                params[k] = float(col.number_input(k, 0.0, 10.0, float(v), key=wkey, format="%.3f"))
    return params
