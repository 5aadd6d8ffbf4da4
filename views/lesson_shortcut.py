"""Lesson: shortcut learning. Widgets -> core.lessons.shortcut.shortcut_lesson -> side-by-side accuracies, examples."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.errors import PlaygroundError
from views._widgets import show_error

st.title("Shortcut learning")
st.markdown(
    "Data sets are always biased. Here the bias is on purpose: in the **training** images of Shapes each class "
    "gets its own background colour (the `bias` option of the data set), in the **test** images the background is "
    "random. A network takes the easiest cue that works on its training data — the colour, not the shape — "
    "and it only shows on data without the bias ([Geirhos et al. 2020](https://arxiv.org/abs/2004.07780)). "
    "Two remedies are trained next to it with the same budget: random **hue rotation** of every training image, "
    "and **unbiased** training data."
)
ss = st.session_state

with st.form("shortcut_form"):
    c1, c2, c3 = st.columns(3)
    bias = c1.slider("Bias: how often the background gives the class away", 0.0, 1.0, 1.0, 0.05, key="sc_bias")
    steps = c2.number_input("Training steps per network (AdamW, 64 images)", 10, 3000, 200, step=10, key="sc_steps")
    train_size = c3.select_slider("Training images", [300, 1000, 2000, 4000], value=2000, key="sc_train")
    submitted = st.form_submit_button("Train the three networks", type="primary")

# A few biased training images next to unbiased test images: the bias made visible before anything trains.
from core.data.shapes import CLASSES  # noqa: E402


@st.cache_data(max_entries=4, show_spinner=False)
def _examples(b: float):
    from core.data.shapes import ShapesDataset

    tr = ShapesDataset("train", n=6, image_size=64, bias=b, lazy=True, use_cache=False)
    te = ShapesDataset("test", n=6, n_eval=6, image_size=64, lazy=True, use_cache=False)
    return ([(tr[i][0].permute(1, 2, 0).numpy(), CLASSES[tr[i][1]]) for i in range(6)],
            [(te[i][0].permute(1, 2, 0).numpy(), CLASSES[te[i][1]]) for i in range(6)])


train_ex, test_ex = _examples(float(bias))
for title, ex in ((f"Training images (bias {bias:.2f})", train_ex), ("Test images (no bias)", test_ex)):
    st.markdown(f"**{title}**")
    cols = st.columns(6)
    for col, (img, name) in zip(cols, ex):
        col.image(img, caption=name, width=80)

if submitted:
    from core.lessons.shortcut import shortcut_lesson

    try:
        bar = st.progress(0.0, text="starting")
        ss["sc_result"] = shortcut_lesson(bias=float(bias), steps=int(steps), train_size=int(train_size),
                                          progress=lambda f, m: bar.progress(min(1.0, f), text=m))
        bar.empty()
    except (PlaygroundError, OSError, RuntimeError) as err:
        show_error(err)

res = ss.get("sc_result")
if res is None:
    st.info("Press **Train the three networks**; the time it took is shown with the results.")
    st.stop()

st.success(res.conclusion())
st.caption(f"Measured on this server: {res.seconds:.1f} s in all ({res.data_seconds:.1f} s rendering Shapes, 0 when "
           f"cached); {res.train_size:,} training images, {res.steps} steps per network. Background colour predicts "
           f"the class in {res.shortcut_train:.0%} of the training images and {res.shortcut_test:.0%} of the test "
           f"images (chance {1 / 6:.0%}).")
fig = go.Figure()
labels = [m.label for m in res.models]
fig.add_trace(go.Bar(x=labels, y=[m.val_accuracy for m in res.models], name="held-out, own training distribution",
                     marker_color="#9ecae1", text=[f"{m.val_accuracy:.0%}" for m in res.models]))
fig.add_trace(go.Bar(x=labels, y=[m.test_accuracy for m in res.models], name="unbiased test split",
                     marker_color="#1f77b4", text=[f"{m.test_accuracy:.0%}" for m in res.models]))
fig.add_trace(go.Bar(x=labels, y=[m.colour_test_accuracy for m in res.models],
                     name="test: agrees with the background colour", marker_color="#d62728",
                     text=[f"{m.colour_test_accuracy:.0%}" for m in res.models]))
fig.add_hline(y=1 / 6, line_dash="dot", annotation_text="chance")
fig.update_layout(barmode="group", yaxis_title="accuracy", height=380, margin={"t": 20},
                  legend={"orientation": "h", "y": -0.2})
fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
st.plotly_chart(fig, width="stretch", key="sc_chart")
st.caption("Red bars: how often the prediction is the class whose colour the background has — high means the "
           "network reads the background.")
pointed = [m for m in res.models if m.pointing is not None]
if pointed:
    st.markdown("**Where does it look?** Grad-CAM on the last convolution, pointing game on the test images: "
                "does the map's peak land on the shape (ground-truth mask)?")
    cols = st.columns(len(pointed))
    for col, m in zip(cols, pointed):
        col.metric(m.label, f"{m.pointing:.0%}", help="share of test images whose Grad-CAM peak is on the shape")
    st.caption(f"A random point lands on the shape in {pointed[0].pointing_chance:.0%} of these images.")
