"""The Augmentation lab's pipeline editor: the step list with its generated widgets, the mixing step, and
import / export. Layout only: the state and its callbacks are in :mod:`views._augment_state`; every widget
of a step is generated from its registry spec (:class:`core.augment.Param`, drawn by ``views._params.param_widget``)."""
from __future__ import annotations

import streamlit as st

from core.augment import (
    GROUP_TITLES,
    PRESET_DESCRIPTIONS,
    PRESETS,
    REGISTRY,
    image_specs,
    mixing_specs,
    to_python,
)
from views import _augment_state as state
from views._params import param_widget

ss = st.session_state


def spec_link(spec) -> str:
    return f" [paper]({spec.paper})" if spec.paper else ""


def steps_editor() -> None:
    """Preset, add, and one bordered box per step (move / remove, p, its parameters), then the mixing step."""
    st.subheader("Steps")
    pc1, pc2 = st.columns([3, 1], vertical_alignment="bottom")
    pc1.selectbox("Preset", list(PRESETS), index=list(PRESETS).index(state.DEFAULT_PRESET), key="aug_preset",
                  help="\n\n".join(f"**{k}**: {v}" for k, v in PRESET_DESCRIPTIONS.items()))
    pc2.button("Load", key="aug_load_preset", on_click=state.on_preset)
    names = [s.name for s in image_specs()]
    ac1, ac2 = st.columns([3, 1], vertical_alignment="bottom")
    ac1.selectbox("Add an augmentation", names, key="aug_add_name",
                  format_func=lambda n: f"{GROUP_TITLES[REGISTRY[n].group].split(' ')[0]} · {REGISTRY[n].title}")
    ac2.button("Add", key="aug_add", on_click=state.on_add, type="primary")
    steps = ss["aug_steps"]
    if not steps:
        st.info("No steps: the pipeline is the identity. Add one above or load a preset.")
    for i, step in enumerate(steps):
        spec, uid = REGISTRY[step["name"]], step["uid"]
        with st.container(border=True):
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f"**{i + 1}. {spec.title}**")
                st.button("↑", key=f"aug_up_{uid}", on_click=state.on_move, args=(i, -1), disabled=i == 0,
                          help="Move up", type="tertiary")
                st.button("↓", key=f"aug_down_{uid}", on_click=state.on_move, args=(i, 1),
                          disabled=i == len(steps) - 1, help="Move down", type="tertiary")
                st.button("✕", key=f"aug_rm_{uid}", on_click=state.on_remove, args=(i,), help="Remove",
                          type="tertiary")
            st.caption(spec.explanation + spec_link(spec))
            state.ensure(f"aug_s{uid}_p", float(spec.default_p))
            st.slider("p: probability of applying", 0.0, 1.0, step=0.05, key=f"aug_s{uid}_p")
            for p in spec.params:
                param_widget(p, f"aug_s{uid}_{p.name}")
    with st.container(border=True):
        st.markdown("**Mixing (batch level)**")
        st.selectbox("Mix images of a batch", ["none", *[s.name for s in mixing_specs()]], key="aug_mixing",
                     format_func=lambda n: "none" if n == "none" else REGISTRY[n].title)
        if ss["aug_mixing"] != "none":
            mspec = REGISTRY[ss["aug_mixing"]]
            st.caption(mspec.explanation + spec_link(mspec))
            state.ensure("aug_mix_p", 1.0)
            st.slider("p: probability per batch", 0.0, 1.0, step=0.05, key="aug_mix_p")
            for p in mspec.params:
                param_widget(p, f"aug_mix_{mspec.name}_{p.name}")


def export_tab(spec: dict | None, max_side: int) -> None:
    """Download the pipeline as JSON (what training takes) and as Python; import a JSON pipeline."""
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
    st.button("Import pasted JSON", key="aug_import_btn", on_click=lambda: state.on_import(ss.get("aug_import_text")))
    up = st.file_uploader("…or upload a .json file", type=["json"], key="aug_import_file")
    st.button("Import uploaded file", key="aug_import_file_btn",
              on_click=lambda: state.on_import(up.getvalue() if up is not None else None))
    msg = state.pop_message("aug_import_msg")
    if msg:
        (st.error if msg[0] == "error" else st.success)(msg[1])
