"""Lesson: shortcut learning: a network trained where the background gives the class away aces validation and
fails on fair test images; compare colour augmentation and unbiased data, and see with Grad-CAM where each looked.

Page layout: widgets -> core.lessons.shortcut (three engine runs) -> live progress -> results (the chart from
core.lessons.figures); the group and its results in session state through views/_lesson_state.py."""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from core.lessons import figures
from core.lessons import shortcut as sc
from views import _lesson_state as state
from views._identity import ensure_identity
from views._widgets import show_error

st.title("Shortcut learning")
st.markdown(
    "Data sets are always biased. Here the bias is on purpose: in the **training** images of Shapes each class "
    "gets its own background colour (the `bias` option of the data set), in the **test** images the background is "
    "random. A network takes the easiest cue that works on its training data — the colour, not the shape — "
    "and it only shows on data without the bias ([Geirhos et al. 2020](https://arxiv.org/abs/2004.07780)). "
    "Two remedies are trained next to it with the same budget: random **hue rotation** of every training image "
    "(the `hue` augmentation at full strength), and **unbiased** training data. The three networks are runs of "
    "the training engine: they keep training when you leave or reload this page, and appear on the Runs page."
)
viewer = ensure_identity()

DEFAULTS = sc.ShortcutSettings()
with st.form("shortcut_form"):
    c1, c2, c3 = st.columns(3)
    bias = c1.slider("Bias: how often the background gives the class away", 0.0, 1.0, DEFAULTS.bias, 0.05,
                     key="sc_bias")
    epochs = c2.number_input(f"Epochs per network ({DEFAULTS.arch}, AdamW, batch 64)", 1, 60, DEFAULTS.epochs,
                             key="sc_epochs")
    n = c3.select_slider("Training images (10 % held out for validation)", [1000, 2000, 4000, 6000, 8000],
                         value=DEFAULTS.n, key="sc_train")
    submitted = st.form_submit_button("Start the three runs", type="primary")
last = sc.last_duration()
if last is not None:
    seconds, was = last
    st.caption(f"Last time on this server the three runs took {seconds / 60:.1f} min from the first start to the "
               f"last end ({was.n:,} images, {was.epochs} epochs, {was.arch} at {was.image_size} px; other runs "
               "in the queue make it longer).")


@st.cache_data(max_entries=4, show_spinner=False)
def _examples(b: float):
    """A few biased training images next to unbiased test images: the bias made visible before anything trains."""
    return sc.example_images(b)


train_ex, test_ex = _examples(float(bias))
for title, ex in ((f"Training images (bias {bias:.2f})", train_ex), ("Test images (no bias)", test_ex)):
    st.markdown(f"**{title}**")
    cols = st.columns(6)
    for col, (img, name) in zip(cols, ex):
        col.image(img, caption=name, width=80)

if submitted:
    state.start_shortcut_group(sc.ShortcutSettings(bias=float(bias), n=int(n), epochs=int(epochs),
                                                   image_size=DEFAULTS.image_size), viewer.owner)
group = state.shortcut_group(viewer.owner)
if group is None:
    st.info("Press **Start the three runs**: the engine trains them one after another; progress, each run's "
            "measured duration and the results appear here.")
    st.stop()


def _advance(g):
    """Start the group's next run when the previous one has completed (the page's polls drive the lesson)."""
    try:
        return sc.advance(g)
    except PAGE_ERRORS as err:  # e.g. the queue is full: say so, try again at the next poll
        show_error(err)
        return g


group = _advance(group)
progress = sc.group_progress(group)


@st.fragment(run_every=2 if any(p.active for p in progress) else None)
def _live() -> None:
    now = sc.group_progress(_advance(group))
    st.subheader("The three runs")
    for p in now:
        took = f" · {p.wall_seconds:.0f} s" if p.wall_seconds is not None else ""
        st.progress(p.fraction, text=f"{p.label}: {p.state}{took} · {p.text or p.message}")
        if p.stopped and p.message:
            st.text(p.message)  # worker messages are plain text, never Markdown
    started = [p.run_dir.name for p in now if p.run_dir is not None]
    st.caption("Run folders: " + ", ".join(started) + " (open them on the Runs page). The runs start one after "
               "another while this page is open; closing it pauses the lesson between two runs.")
    if [p.state for p in now] != [p.state for p in progress] and not any(p.active for p in now):
        st.rerun()  # all finished: draw the results


_live()
if any(p.active for p in progress):
    st.stop()
if any(p.stopped for p in progress):
    st.error("Not every run completed, so there is nothing to compare: start the three runs again.")
    st.stop()

res = state.shortcut_result(group)
if res is None:
    st.stop()

st.success(res.conclusion())
st.caption(f"Measured on this server: the three runs took {res.seconds:.0f} s from the first start to the last end "
           f"(training {' / '.join(f'{m.seconds:.0f}' for m in res.models)} s; testing here "
           f"{res.eval_seconds:.1f} s); {res.arch} at {res.image_size} px, {res.train_size:,} training images, "
           f"{res.epochs} epoch{'s' if res.epochs != 1 else ''} each. Background colour predicts the class in "
           f"{res.shortcut_train:.0%} of the training images and {res.shortcut_test:.0%} of the test images "
           f"(chance {res.chance:.0%}).")
st.plotly_chart(figures.shortcut_accuracy_figure(res), width="stretch", key="sc_chart")
st.caption("Red bars: how often the prediction is the class whose colour the background has — high means the "
           "network reads the background.")
pointed = [m for m in res.models if m.pointing is not None]
if pointed:
    st.markdown("**Where does it look?** Grad-CAM on the architecture's CAM layer, pointing game on the test "
                "images: does the map's peak land on the shape (ground-truth mask)?")
    cols = st.columns(len(pointed))
    for col, m in zip(cols, pointed):
        col.metric(m.label, f"{m.pointing:.0%}", help="share of test images whose Grad-CAM peak is on the shape")
    st.caption(f"A random point lands on the shape in {pointed[0].pointing_chance:.0%} of these images.")
