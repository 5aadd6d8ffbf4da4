"""Lesson: why deeper plain networks train worse, and how residual paths (ResNet) and auxiliary heads (GoogLeNet)
keep the gradient alive; measured gradient norms per layer, loss curves and lesions.

Page layout: widgets -> core.lessons.depth.depth_lesson -> charts."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.budget import memory_guard
from core.errors import PAGE_ERRORS
from views._widgets import show_error

st.title("Depth, vanishing gradients and residual paths")
st.markdown(
    "Deeper networks see more (a larger receptive field), hold more and stack more non-linearities, but they are "
    "**harder to optimise**: the gradient that reaches the first layers is a product of one factor per layer, so "
    "it can vanish or explode, and a deeper *plain* network can reach a *higher training loss* than a shallower "
    "one ([He et al. 2015](https://arxiv.org/abs/1512.03385), Fig. 1). A skip connection `y = x + F(x)` gives the "
    "gradient a path around every block, and turns a network of n blocks into 2ⁿ paths of different lengths "
    "([Veit et al. 2016](https://arxiv.org/abs/1605.06431)). Here: small CNNs on Shapes at 32 px, trained live."
)
ss = st.session_state
DEPTHS = list(range(8, 57, 6))  # 8, 14, 20, ..., 56 weight layers
from core.lessons.depth import depth_lesson  # noqa: E402
from core.lessons.fit import lesson_defaults  # noqa: E402

DEFAULTS = lesson_defaults(depth_lesson)  # the core function's: what bench.lessons times

with st.form("depth_form"):
    c1, c2, c3 = st.columns(3)
    depth = c1.select_slider("Depth (weight layers)", DEPTHS, value=DEFAULTS["depth"], key="depth_depth",
                             help="stem conv + 2 convolutions per block + linear head")
    batchnorm = c2.checkbox("BatchNorm after every convolution", value=DEFAULTS["batchnorm"], key="depth_bn")
    steps = c3.number_input(f"Training steps per network (AdamW, {DEFAULTS['batch_size']} images)", 10, 2000,
                            DEFAULTS["steps"], step=10, key="depth_steps")
    submitted = st.form_submit_button("Run the experiment", type="primary")

if submitted:
    try:
        bar = st.progress(0.0, text="starting")
        with memory_guard("training the networks"):
            ss["depth_result"] = depth_lesson(int(depth), batchnorm=bool(batchnorm), steps=int(steps),
                                              progress=lambda f, m: bar.progress(min(1.0, f), text=m))
        bar.empty()
    except PAGE_ERRORS as err:
        show_error(err)

res = ss.get("depth_result")
if res is None:
    st.info("Press **Run the experiment**: it measures gradient norms of a plain and a residual network, trains "
            "three networks for a few steps each and runs a lesion study; the time it took is shown with the results.")
    st.stop()

st.success(res.conclusion())
st.caption(f"Measured on this server: {res.seconds:.1f} s in all ({res.data_seconds:.1f} s of it rendering Shapes; "
           f"0 when cached); {'with' if res.batchnorm else 'without'} BatchNorm, depth {res.depth}, "
           f"{res.steps} AdamW steps per network (warm-up, cosine decay).")

# --- gradient norms per layer -------------------------------------------------------------------------------------
st.subheader("Gradient norm of every layer")
fig = go.Figure()
colors = {False: "#d62728", True: "#1f77b4"}
for p in res.profiles:
    x = list(range(1, len(p.layers) + 1))
    fig.add_trace(go.Scatter(x=x, y=p.init, name=f"{p.label}: at initialisation", mode="lines+markers",
                             line={"color": colors[p.residual]}, text=p.layers))
    fig.add_trace(go.Scatter(x=x, y=p.after, name=f"{p.label}: after {p.steps} steps", mode="lines",
                             line={"color": colors[p.residual], "dash": "dot"}, text=p.layers))
fig.update_layout(xaxis_title="layer (1 = first, input side)", yaxis_title="‖∂L/∂W‖ (log)", height=380,
                  margin={"t": 20}, legend={"orientation": "h", "y": -0.25})
fig.update_yaxes(type="log")
st.plotly_chart(fig, width="stretch", key="depth_grad_chart")
st.caption("One batch of 64 images, cross-entropy, He initialisation. Ratio first layer / last conv layer at "
           "initialisation: " + ", ".join(f"{p.label} {p.first_to_last():.3g}" for p in res.profiles) + ".")

# --- training curves ----------------------------------------------------------------------------------------------
st.subheader("Training loss (the ResNet paper's Figure 1, small)")


def _smooth(values: list[float], window: int) -> list[float]:
    v = np.asarray(values, dtype=float)
    if len(v) < window or window < 2:
        return v.tolist()
    c = np.cumsum(np.insert(v, 0, 0.0))
    head = [float(np.mean(v[: i + 1])) for i in range(window - 1)]
    return head + ((c[window:] - c[:-window]) / window).tolist()


window = max(1, res.steps // 15)
fig = go.Figure()
dash = {(res.shallow_depth, False): "dot", (res.depth, False): "solid", (res.depth, True): "solid"}
for c in res.curves:
    fig.add_trace(go.Scatter(y=_smooth(c.losses, window), x=list(range(1, len(c.losses) + 1)),
                             name=f"{c.label} ({c.seconds:.1f} s, test acc {c.test_accuracy:.0%})", mode="lines",
                             line={"color": colors[c.residual], "dash": dash.get((c.depth, c.residual), "solid")}))
fig.update_layout(xaxis_title="step", yaxis_title=f"training loss (mean of {window} steps)", height=360,
                  margin={"t": 20}, legend={"orientation": "h", "y": -0.25})
st.plotly_chart(fig, width="stretch", key="depth_loss_chart")

# --- paths and lesions --------------------------------------------------------------------------------------------
c1, c2 = st.columns(2)
with c1:
    n = len(res.paths) - 1
    st.subheader(f"{2 ** n:,} paths through {n} blocks")
    fig = go.Figure(go.Bar(x=list(range(n + 1)), y=res.paths, marker_color="#1f77b4"))
    fig.update_layout(xaxis_title="blocks on the path (k)", yaxis_title="number of paths C(n, k)", height=320,
                      margin={"t": 10})
    st.plotly_chart(fig, width="stretch", key="depth_paths_chart")
    short = sum(res.paths[: n // 2 + 1]) / 2**n
    st.caption(f"Each block is taken or skipped: C(n, k) paths go through k blocks. {short:.0%} of all paths use "
               f"at most half of the {n} blocks; the mean path length is {n / 2:g} blocks.")
with c2:
    st.subheader("Lesion study: drop one block at test time")
    fig = go.Figure()
    for les in res.lesions:
        color = colors[les.residual]
        fig.add_trace(go.Scatter(x=list(range(1, len(les.accuracy) + 1)), y=les.accuracy, mode="lines+markers",
                                 name=f"{les.label}, block dropped", line={"color": color}))
        fig.add_hline(y=les.base_accuracy, line_dash="dot", line_color=color,
                      annotation_text=f"{les.label} intact {les.base_accuracy:.0%}")
    fig.update_layout(xaxis_title="dropped block", yaxis_title="test accuracy", height=320, margin={"t": 10},
                      legend={"orientation": "h", "y": -0.3})
    fig.update_yaxes(tickformat=".0%")
    st.plotly_chart(fig, width="stretch", key="depth_lesion_chart")
    st.caption("Mean change when one block is dropped: " + "; ".join(
        f"{les.label}: accuracy {-les.mean_drop():+.1%}, test loss {les.mean_loss_increase():+.3f}"
        for les in res.lesions) + ".")

# --- GoogLeNet's auxiliary classifiers ----------------------------------------------------------------------------
st.subheader("GoogLeNet's auxiliary classifiers")
st.markdown("GoogLeNet ([Szegedy et al. 2014](https://arxiv.org/abs/1409.4842)) adds two small classifiers half-way "
            "up, with 0.3 × their losses, to push gradient into the early layers. The Inception-v3 paper "
            "([2015](https://arxiv.org/abs/1512.00567)) later found they act more as regularisers. Measured here: "
            "an untrained GoogLeNet (torchvision's, with BatchNorm) on one batch of 8 Shapes images at 96 px.")
if st.button("Measure gradients with and without the auxiliary losses", key="depth_aux_go"):
    from core.lessons.depth import aux_gradients

    try:
        with st.spinner("one forward and two backward passes of GoogLeNet…"), memory_guard("running GoogLeNet"):
            ss["depth_aux"] = aux_gradients()
    except PAGE_ERRORS as err:
        show_error(err)
aux = ss.get("depth_aux")
if aux is not None:
    gain = aux.early_gain()
    effect = ("larger" if gain > 1.1 else "smaller" if gain < 0.9 else "about the same")
    st.success(f"With the auxiliary losses the first three stages' gradients are {gain:.2f}× those of the main loss "
               f"alone: {effect}" + (" — the textbook boost does not show at initialisation here." if gain <= 1.1
                                     else "."))
    fig = go.Figure()
    fig.add_trace(go.Bar(x=aux.stages, y=aux.main_only, name="main loss only", marker_color="#9ecae1"))
    fig.add_trace(go.Bar(x=aux.stages, y=aux.with_aux, name=f"main + {aux.aux_weight} × (aux1 + aux2)",
                         marker_color="#1f77b4"))
    fig.update_layout(barmode="group", yaxis_title="‖∂L/∂W‖ of the stage (log)", height=340, margin={"t": 20},
                      legend={"orientation": "h", "y": -0.35})
    fig.update_yaxes(type="log")
    st.plotly_chart(fig, width="stretch", key="depth_aux_chart")
    st.caption(f"Measured in {aux.seconds:.1f} s on this server (batch {aux.batch_size}, {aux.image_size} px).")
