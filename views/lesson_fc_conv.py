"""Lesson: what convolution buys over a fully connected layer: parameter counts, accuracy on the same images
and budget, and the templates and filters each one learns.

Page layout: widgets -> core.lessons.fc_vs_conv -> counts, charts, templates, filters."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.budget import memory_guard
from core.errors import PAGE_ERRORS
from views._widgets import show_error

st.title("Fully connected vs convolution")
st.markdown(
    "A **fully connected** layer links every pixel to every output; a **convolution** looks only at a small "
    "window (*locality*) and uses the same window everywhere (*weight sharing*). Below: the parameters each needs "
    "for the same output, then both trained on Shapes with the same budget, and what they learned — one "
    "image-sized **template** per class for the fully connected layer, small **filters** for the convolution."
)
ss = st.session_state

# --- parameter counts: instant, from modules on the meta device --------------------------------------------------
from core.lessons.fc_vs_conv import fc_vs_conv_lesson, layer_counts  # noqa: E402
from core.lessons.fit import lesson_defaults  # noqa: E402

c1, c2, c3 = st.columns(3)
size = c1.select_slider("Input size S (px)", [8, 16, 32, 64, 128, 224], value=32, key="fcc_size")
out_ch = c2.select_slider("Output channels C", [4, 8, 16, 32, 64], value=16, key="fcc_out")
kernel = c3.select_slider("Kernel k", [1, 3, 5, 7], value=3, key="fcc_kernel")
counts = layer_counts(int(size), int(out_ch), int(kernel))
m1, m2, m3 = st.columns(3)
m1.metric("Fully connected", f"{counts.fully_connected:,}", help="(3·S²)·(C·S²) weights + C·S² biases")
m2.metric("Locally connected (no sharing)", f"{counts.locally_connected:,}",
          help="C·S²·3·k² weights + C·S² biases")
m3.metric("Convolution", f"{counts.convolution:,}", help="C·3·k² weights + C biases")
st.caption(f"Input 3×{size}×{size}, output {out_ch}×{size}×{size} for all three; counted from real PyTorch modules "
           f"built on the meta device. The fully connected layer needs "
           f"{counts.fully_connected / counts.convolution:,.0f}× the convolution's parameters.")
sizes = [8, 16, 32, 64, 128, 224]
rows = [layer_counts(s, int(out_ch), int(kernel)) for s in sizes]
fig = go.Figure()
for attr, name, color in (("fully_connected", "fully connected", "#d62728"),
                          ("locally_connected", "locally connected", "#ff7f0e"),
                          ("convolution", "convolution", "#1f77b4")):
    fig.add_trace(go.Scatter(x=sizes, y=[getattr(r, attr) for r in rows], name=name, mode="lines+markers",
                             line={"color": color}))
fig.update_layout(xaxis_title="input size S (px, log)", yaxis_title="parameters (log)", height=330,
                  margin={"t": 20}, legend={"orientation": "h", "y": -0.3})
fig.update_xaxes(type="log")
fig.update_yaxes(type="log")
st.plotly_chart(fig, width="stretch", key="fcc_counts_chart")

# --- the same budget on Shapes -----------------------------------------------------------------------------------
st.subheader("Same budget on Shapes (32 px)")
DEFAULTS = lesson_defaults(fc_vs_conv_lesson)  # the core function's: what bench.lessons times
with st.form("fcc_form"):
    f1, f2 = st.columns(2)
    steps = f1.number_input("Training steps (AdamW, 64 images each)", 10, 3000, DEFAULTS["steps"], step=10,
                            key="fcc_steps")
    train_size = f2.select_slider("Training images", [300, 1000, 3000, 6000], value=DEFAULTS["train_size"],
                                  key="fcc_train")
    submitted = st.form_submit_button("Train both", type="primary")
if submitted:
    try:
        bar = st.progress(0.0, text="starting")
        with memory_guard("training the networks"):
            ss["fcc_result"] = fc_vs_conv_lesson(steps=int(steps), train_size=int(train_size),
                                                 progress=lambda f, m: bar.progress(min(1.0, f), text=m))
        bar.empty()
    except PAGE_ERRORS as err:
        show_error(err)

res = ss.get("fcc_result")
if res is None:
    st.info("Press **Train both**: one fully connected layer and a small CNN, the same steps on the same images; "
            "the time it took is shown with the results.")
    st.stop()

st.success(res.conclusion())
st.caption(f"Measured on this server: {res.seconds:.1f} s in all ({res.data_seconds:.1f} s rendering Shapes, 0 when "
           f"cached; FC layer {res.fc_seconds:.1f} s, CNN {res.conv_seconds:.1f} s of training).")
a1, a2, a3, a4 = st.columns(4)
a1.metric("FC layer: test accuracy", f"{res.fc_accuracy:.1%}")
a2.metric("FC layer: training accuracy", f"{res.fc_train_accuracy:.1%}")
a3.metric("Small CNN: test accuracy", f"{res.conv_accuracy:.1%}")
a4.metric("Small CNN: training accuracy", f"{res.conv_train_accuracy:.1%}")


def _smooth(v: list[float], w: int) -> list[float]:
    a = np.asarray(v, dtype=float)
    if len(a) < w or w < 2:
        return a.tolist()
    return np.convolve(a, np.ones(w) / w, mode="valid").tolist()


w = max(1, res.steps // 15)
fig = go.Figure()
for name, losses, color in (("fully connected", res.fc_losses, "#d62728"), ("small CNN", res.conv_losses, "#1f77b4")):
    sm = _smooth(losses, w)
    fig.add_trace(go.Scatter(x=list(range(len(losses) - len(sm) + 1, len(losses) + 1)), y=sm, name=name,
                             mode="lines", line={"color": color}))
fig.update_layout(xaxis_title="step", yaxis_title=f"training loss (mean of {w} steps)", height=300, margin={"t": 20},
                  legend={"orientation": "h", "y": -0.3})
st.plotly_chart(fig, width="stretch", key="fcc_loss_chart")

st.subheader("What they learned")
st.markdown("**Fully connected layer: one template per class** (its weights for that class, as an image)")
cols = st.columns(len(res.classes))
for i, name in enumerate(res.classes):
    cols[i].image(res.templates[i].numpy(), caption=name, width=96)
n_filters = res.filters.shape[0]
k = res.filters.shape[1]
st.markdown(f"**Convolution: the first layer's {n_filters} filters** ({k}×{k}, shown enlarged)")
cols = st.columns(n_filters)
for i in range(n_filters):
    big = np.kron(res.filters[i].numpy(), np.ones((12, 12, 1), dtype=np.uint8))
    cols[i].image(big, width=48)
