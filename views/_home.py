"""Home page body (rendered from app.py): what the app teaches, where to start, and on what hardware."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.overview import overview, page_summary
from core.samples import SAMPLE_INFO, SAMPLE_NAMES, load_sample

INTRO = """
**CNN Playground** lets you explore how convolutional image classifiers work with real models and real
experiments: every number on these pages is computed, not typed in.
"""


@st.cache_data(ttl=30, show_spinner=False)
def _overview():
    return overview()


@st.cache_data(show_spinner=False)
def _thumb(name: str):
    img = load_sample(name)
    img.thumbnail((200, 200))
    return img


def _summary(page) -> str:
    """The page file's own docstring says what it teaches (st.Page keeps its source in ``_page``)."""
    source = getattr(page, "_page", None)
    return page_summary(source, page.title) if isinstance(source, (str, Path)) else ""


def _where_to_go(nav: dict) -> None:
    """One line per page of the navigation, in its order; the first page after Home is where to start."""
    groups = [(g, [p for p in pages if _summary(p)]) for g, pages in nav.items() if g]
    groups = [(g, pages) for g, pages in groups if pages]
    if not groups:
        return
    st.subheader("Where to go")
    first = groups[0][1][0]
    st.page_link(first, label=f"Start here: {first.title}", icon=":material/flag:")
    st.caption(f"{_summary(first)} The sidebar follows the course: models, then data, then training.")
    for group, pages in groups:
        st.markdown(f"**{group}**")
        for p in pages:
            left, right = st.columns([1, 3], vertical_alignment="center")
            with left:
                st.page_link(p, label=p.title, icon=p.icon)
            right.caption(_summary(p))


def render(nav: dict) -> None:
    st.title("CNN Playground")
    st.markdown(INTRO)
    _where_to_go(nav)

    st.subheader("Sample images")
    st.caption("Available everywhere an upload is, so every page works offline.")
    cols = st.columns(len(SAMPLE_NAMES))
    for col, name in zip(cols, SAMPLE_NAMES):
        col.image(_thumb(name), caption=f"{SAMPLE_INFO[name].title}: {SAMPLE_INFO[name].description}")

    st.subheader("This machine")
    info = _overview()
    dev = info.device
    c1, c2, c3 = st.columns(3)
    c1.metric("Compute device", dev.kind.upper())
    c2.metric("Device", dev.name)
    c3.metric("GPU memory" if dev.kind == "cuda" else "System memory", f"{dev.memory_gb} GiB" if dev.memory_gb else "shared")
    counts = info.weights_counts
    cached, published = counts.get("cached", 0), counts.get("downloadable", 0)
    st.markdown(
        f"PyTorch {info.torch_version}. Pretrained ImageNet weights: **{cached}** of {len(info.weights)} "
        "architectures are cached on this machine and load offline"
        + (f"; **{published}** more are published and can be downloaded from the Architectures page, which "
           "needs an internet connection (not checked here: offline they stay untrained)" if published else "")
        + f"; **{counts.get('unavailable', 0)}** have no published weights (trainable from scratch)."
    )
    if dev.kind == "cpu":
        st.caption("No GPU found: everything works on the CPU, training presets are sized for it.")
