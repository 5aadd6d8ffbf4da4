"""Lesson: what convolution buys over a fully connected layer: parameter counts, accuracy on the same images
and budget, and the templates and filters each one learns.

Page layout: widgets -> core.lessons.fc_vs_conv -> counts, charts, templates, filters (core.lessons.figures);
results in session state through views/_lesson_state.py."""
from __future__ import annotations

import streamlit as st

from core.lessons import figures
from core.lessons.fc_vs_conv import fc_vs_conv_lesson, layer_counts
from core.lessons.fit import lesson_defaults
from views import _lesson_state as state

st.title("Fully connected vs convolution")
st.markdown(
    "A **fully connected** layer links every pixel to every output; a **convolution** looks only at a small "
    "window (*locality*) and uses the same window everywhere (*weight sharing*). Below: the parameters each needs "
    "for the same output, then both trained on Shapes with the same budget, and what they learned — one "
    "image-sized **template** per class for the fully connected layer, small **filters** for the convolution."
)
SIZES = [8, 16, 32, 64, 128, 224]

# --- parameter counts: instant, from modules on the meta device --------------------------------------------------
c1, c2, c3 = st.columns(3)
size = c1.select_slider("Input size S (px)", SIZES, value=32, key="fcc_size")
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
rows = [layer_counts(s, int(out_ch), int(kernel)) for s in SIZES]
st.plotly_chart(figures.param_counts_figure(rows), width="stretch", key="fcc_counts_chart")

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
    state.run_lesson("fcc_result", "training the networks", fc_vs_conv_lesson, steps=int(steps),
                     train_size=int(train_size))

res = state.result("fcc_result")
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

st.plotly_chart(figures.fc_conv_loss_figure(res), width="stretch", key="fcc_loss_chart")

st.subheader("What they learned")
st.markdown("**Fully connected layer: one template per class** (its weights for that class, as an image)")
cols = st.columns(len(res.classes))
for col, name, image in zip(cols, res.classes, figures.template_images(res)):
    col.image(image, caption=name, width=96)
n_filters, k = res.filters.shape[0], res.filters.shape[1]
st.markdown(f"**Convolution: the first layer's {n_filters} filters** ({k}×{k}, shown enlarged)")
for col, image in zip(st.columns(n_filters), figures.enlarged_filters(res)):
    col.image(image, width=48)
