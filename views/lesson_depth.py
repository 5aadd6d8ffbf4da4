"""Lesson: why deeper plain networks train worse, and how residual paths (ResNet) and auxiliary heads (GoogLeNet)
keep the gradient alive; measured gradient norms per layer, loss curves and lesions.

Page layout: widgets -> core.lessons.depth.depth_lesson -> charts (core.lessons.figures); results in session
state through views/_lesson_state.py."""
from __future__ import annotations

import streamlit as st

from core.lessons import figures
from core.lessons.depth import aux_gradients, depth_lesson
from core.lessons.fit import lesson_defaults
from views import _lesson_state as state

st.title("Depth, vanishing gradients and residual paths")
st.markdown(
    "Deeper networks see more (a larger receptive field), hold more and stack more non-linearities, but they are "
    "**harder to optimise**: the gradient that reaches the first layers is a product of one factor per layer, so "
    "it can vanish or explode, and a deeper *plain* network can reach a *higher training loss* than a shallower "
    "one ([He et al. 2015](https://arxiv.org/abs/1512.03385), Fig. 1). A skip connection `y = x + F(x)` gives the "
    "gradient a path around every block, and turns a network of n blocks into 2ⁿ paths of different lengths "
    "([Veit et al. 2016](https://arxiv.org/abs/1605.06431)). Here: small CNNs on Shapes at 32 px, trained live."
)
DEPTHS = list(range(8, 57, 6))  # 8, 14, 20, ..., 56 weight layers
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
    state.run_lesson("depth_result", "training the networks", depth_lesson, int(depth), batchnorm=bool(batchnorm),
                     steps=int(steps))

res = state.result("depth_result")
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
st.plotly_chart(figures.gradient_norms_figure(res), width="stretch", key="depth_grad_chart")
st.caption("One batch of 64 images, cross-entropy, He initialisation. Ratio first layer / last conv layer at "
           "initialisation: " + ", ".join(f"{p.label} {p.first_to_last():.3g}" for p in res.profiles) + ".")

# --- training curves ----------------------------------------------------------------------------------------------
st.subheader("Training loss (the ResNet paper's Figure 1, small)")
st.plotly_chart(figures.depth_loss_figure(res), width="stretch", key="depth_loss_chart")

# --- paths and lesions --------------------------------------------------------------------------------------------
c1, c2 = st.columns(2)
with c1:
    n = res.n_blocks
    st.subheader(f"{2 ** n:,} paths through {n} blocks")
    st.plotly_chart(figures.paths_figure(res), width="stretch", key="depth_paths_chart")
    st.caption(f"Each block is taken or skipped: C(n, k) paths go through k blocks. {res.short_path_share():.0%} "
               f"of all paths use at most half of the {n} blocks; the mean path length is {n / 2:g} blocks.")
with c2:
    st.subheader("Lesion study: drop one block at test time")
    st.plotly_chart(figures.lesion_figure(res), width="stretch", key="depth_lesion_chart")
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
    state.run_once("depth_aux", "running GoogLeNet", "one forward and two backward passes of GoogLeNet…",
                   aux_gradients)
aux = state.result("depth_aux")
if aux is not None:
    st.success(aux.conclusion())
    st.plotly_chart(figures.aux_gradients_figure(aux), width="stretch", key="depth_aux_chart")
    st.caption(f"Measured in {aux.seconds:.1f} s on this server (batch {aux.batch_size}, {aux.image_size} px).")
