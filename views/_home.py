"""Home page body (rendered from app.py): what the app teaches, where, and on what hardware."""
from __future__ import annotations

import streamlit as st

INTRO = """
**CNN Playground** lets you explore how convolutional image classifiers work with real models and real
experiments: every number on these pages is computed, not typed in.
"""


@st.cache_data(ttl=30, show_spinner=False)
def _overview():
    from core.overview import overview

    return overview()


@st.cache_data(show_spinner=False)
def _thumb(name: str):
    from core.samples import load_sample

    img = load_sample(name)
    img.thumbnail((200, 200))
    return img


def render(nav: dict) -> None:
    from core.samples import SAMPLE_INFO, SAMPLE_NAMES

    st.title("CNN Playground")
    st.markdown(INTRO)

    st.subheader("Where to go")
    for group, pages in nav.items():
        if not group or not pages:
            continue
        st.markdown(f"**{group}**")
        for p in pages:
            st.page_link(p, label=p.title, icon=p.icon)

    st.subheader("This machine")
    info = _overview()
    dev = info.device
    c1, c2, c3 = st.columns(3)
    c1.metric("Compute device", dev.kind.upper())
    c2.metric("Device", dev.name)
    c3.metric("GPU memory" if dev.kind == "cuda" else "System memory", f"{dev.memory_gb} GiB" if dev.memory_gb else "shared")
    counts = info.weights_counts
    st.markdown(
        f"PyTorch {info.torch_version}. Pretrained ImageNet weights: "
        f"**{counts.get('cached', 0)}** architectures cached, **{counts.get('downloadable', 0)}** downloadable on demand, "
        f"**{counts.get('unavailable', 0)}** without published weights (trainable from scratch)."
    )
    if dev.kind == "cpu":
        st.caption("No GPU found: everything works on the CPU, training presets are sized for it.")

    st.subheader("Sample images")
    st.caption("Available everywhere an upload is, so every page works offline.")
    cols = st.columns(len(SAMPLE_NAMES))
    for col, name in zip(cols, SAMPLE_NAMES):
        col.image(_thumb(name), caption=f"{SAMPLE_INFO[name].title}: {SAMPLE_INFO[name].description}")
