"""CNN Playground: navigation and home page. Every page lives in views/, every computation in core/."""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="CNN Playground", page_icon=":material/neurology:", layout="wide")

# One PyTorch thread policy for the server (core/threads.py: measured by bench/threads.py).
from core.threads import apply_thread_policy  # noqa: E402
from views._home import render as render_home  # noqa: E402

apply_thread_policy("server")


def home() -> None:
    render_home(NAV)


# Only working pages are listed. Groups follow the curriculum.
NAV: dict[str, list[st.Page]] = {
    "": [st.Page(home, title="Home", icon=":material/home:", default=True)],
    "Models": [
        st.Page("views/architectures.py", title="Architectures", icon=":material/account_tree:"),
    ],
    "Data": [
        st.Page("views/datasets.py", title="Data sets", icon=":material/dataset:"),
        st.Page("views/augmentation.py", title="Augmentation lab", icon=":material/auto_awesome_mosaic:"),
    ],
    "Inside the network": [
        st.Page("views/explain.py", title="Explain", icon=":material/visibility:"),
        st.Page("views/receptive_fields.py", title="Receptive fields", icon=":material/filter_center_focus:"),
    ],
    "Training": [
        st.Page("views/train.py", title="Train", icon=":material/model_training:"),
        st.Page("views/runs.py", title="Runs", icon=":material/history:"),
        st.Page("views/distill.py", title="Distill & self-train", icon=":material/school:"),
    ],
    "Lessons": [
        st.Page("views/lesson_knn.py", title="k-NN vs learned", icon=":material/scatter_plot:"),
        st.Page("views/lesson_fc_conv.py", title="Fully connected vs conv", icon=":material/grid_on:"),
        st.Page("views/lesson_depth.py", title="Depth and residual paths", icon=":material/stacks:"),
        st.Page("views/lesson_shortcut.py", title="Shortcut learning", icon=":material/alt_route:"),
    ],
}

from views._identity import ensure_identity  # noqa: E402

ensure_identity()  # this browser's ?u= token stays in the address bar on every page (views/_identity.py)
st.navigation({group: pages for group, pages in NAV.items() if pages}).run()
