"""Lesson: k-nearest neighbours (store every image) against trained classifiers (compress them into weights):
accuracy, memory and time per query as the training set grows.

Page layout: widgets -> core.lessons.knn.knn_lesson -> charts (core.lessons.figures), galleries, conclusion;
results in session state through views/_lesson_state.py."""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from core.lessons import figures
from core.lessons.fit import lesson_defaults
from core.lessons.knn import CNN, PIXELS, PRETRAINED_ARCH, PRETRAINED_SIZE, FeatureNet, knn_lesson
from core.runs import store
from views import _lesson_state as state
from views._models import run_model
from views._widgets import show_error

st.title("k-NN vs learned classifiers")
st.markdown(
    "*If every image in the world were stored, k-nearest neighbours would classify anything: find the stored "
    "images closest to the query and let them vote.* It needs no training, but it **holds the whole training set** "
    "and compares every query with all of it. A trained classifier is a **compressed** version of the same data: "
    "a few thousand weights. This experiment trains both kinds on the same Shapes images (32 px) and measures "
    "accuracy, memory and time per query as the training set grows."
)
SIZES = [30, 100, 300, 1000, 3000, 6000]


def _runs() -> dict[str, str]:
    """Finished runs with a checkpoint: label -> folder."""
    try:
        runs = store.list_runs()
    except PAGE_ERRORS:
        return {}
    return {f"{r['id']} ({r['arch']}, {r['dataset']})": r["path"] for r in runs
            if r.get("has_checkpoint") and r.get("state") not in ("running", "queued")}


DEFAULTS = lesson_defaults(knn_lesson)  # the core function's: what bench.lessons times

PRETRAINED_LABEL = f"ImageNet-pretrained {PRETRAINED_ARCH} ({PRETRAINED_SIZE} px)"

with st.form("knn_form"):
    c1, c2, c3 = st.columns(3)
    sizes = c1.multiselect("Training-set sizes", SIZES, default=list(DEFAULTS["train_sizes"]), key="knn_sizes",
                           help="the first N images of one rendered training split (the sets are nested)")
    k = c2.slider("k (neighbours that vote)", 1, 15, DEFAULTS["k"], key="knn_k")
    steps = c3.number_input("Training steps (linear layer and CNN, 64 images each)", 10, 3000, DEFAULTS["steps"],
                            step=10, key="knn_steps",
                            help=f"the same step budget for every training-set size, except that a small set "
                            f"stops after {DEFAULTS['max_epochs']} passes over its images (it has learned all it "
                            "can by then)")
    runs = _runs()
    run_label = st.selectbox("Also k-NN on the features of", ["none", PRETRAINED_LABEL, *runs], key="knn_run",
                             help="the input of the network's classifier layer. A trained run: Shapes is rendered "
                             "at the run's size. The ImageNet network: its cached weights (never downloaded "
                             "here), Shapes at 64 px.")
    submitted = st.form_submit_button("Run the experiment", type="primary")

if submitted:
    if not sizes:
        st.warning("Choose at least one training-set size.")
    else:
        try:
            features, pretrained = None, None
            if run_label == PRETRAINED_LABEL:
                pretrained = PRETRAINED_ARCH
            elif run_label != "none":
                rm = run_model(runs[run_label])
                features = FeatureNet(rm.model, rm.image_size, f"k-NN · features of run {rm.run_dir.name}")
        except PAGE_ERRORS as err:
            show_error(err)
        else:
            state.run_lesson("knn_result", "running the experiment", knn_lesson, train_sizes=sizes, k=int(k),
                             steps=int(steps), features=features, pretrained=pretrained)

res = state.result("knn_result")
if res is None:
    st.info(f"Press **Run the experiment**. With the defaults it trains {2 * len(DEFAULTS['train_sizes'])} small "
            f"networks and runs k-NN on {DEFAULTS['n_test']} test images for each size; the time it took is shown "
            "with the results.")
    st.stop()

for note in res.notes:  # e.g. the pretrained weights are not on this machine: the lesson ran without them
    st.warning(note, icon=":material/info:")
st.success(res.conclusion())
st.caption(f"Measured on this server: the experiment took {res.seconds:.1f} s "
           f"({res.data_seconds:.1f} s of it rendering Shapes; 0 when cached), k = {res.k}, {res.n_test} test images, "
           f"{res.steps} training steps per network, or {res.max_epochs:g} passes over a smaller set ("
           + ", ".join(f"{p.steps} at N = {p.train_size:,}" for p in res.points if p.method == CNN) + ").")

largest = max(res.train_sizes)
m1, m2, m3 = st.columns(3)
pix, cnn = res.at(PIXELS), res.at(CNN)
m1.metric(f"k-NN on pixels, N = {largest:,}", f"{pix.accuracy:.1%}",
          help=f"holds {pix.memory_bytes:,} bytes: the training images as float32 vectors and their labels")
m2.metric(f"Small CNN, N = {largest:,}", f"{cnn.accuracy:.1%}",
          help=f"holds {cnn.memory_bytes:,} bytes: weights and BatchNorm statistics")
m3.metric("Memory k-NN / CNN", f"{pix.memory_bytes / cnn.memory_bytes:,.0f}×",
          help=f"{pix.memory_bytes / 1e6:,.2f} MB vs {cnn.memory_bytes / 1e6:,.3f} MB")

c1, c2 = st.columns(2)
c1.plotly_chart(figures.knn_accuracy_figure(res), width="stretch", key="knn_acc_chart")
c2.plotly_chart(figures.knn_metric_figure(res, "memory_bytes", "Memory held (bytes, log)", log_y=True),
                width="stretch", key="knn_mem_chart")
c3, c4 = st.columns(2)
c3.plotly_chart(figures.knn_metric_figure(res, "ms_per_query", "Milliseconds per query (log)", log_y=True),
                width="stretch", key="knn_time_chart")
with c4:
    st.markdown("**All measurements**")
    st.dataframe(figures.knn_table_rows(res), hide_index=True, height=300)
    st.caption("k-NN memory: the stored training vectors (float32) and labels; with network features also the "
               "network. Network memory: parameters and BatchNorm statistics. Time per query: the whole test set "
               "in batches, divided by its size (feature extraction included).")

g = res.gallery
if g is not None:
    st.subheader("Nearest neighbours: pixel space vs feature space")
    st.markdown(f"Each row: a test image, then its {res.k} nearest training images (N = {largest:,}). "
                "✓ = same class as the query. In pixel space neighbours tend to share the **background**; in the "
                "CNN's feature space they share the **shape**.")
    st.caption(f"Same-class neighbours in these rows: {g.same_class_share('pixels'):.0%} in pixel space, "
               f"{g.same_class_share('features'):.0%} in feature space.")
    for qi in range(len(g.query_labels)):
        q_label = res.classes[g.query_labels[qi]]
        for space, imgs, labels in (("pixels", g.pixel_neighbours, g.pixel_labels),
                                    ("CNN features", g.feature_neighbours, g.feature_labels)):
            cols = st.columns(res.k + 2)
            cols[0].markdown(f"**{space}**")
            cols[1].image(figures.hwc(g.queries[qi]), caption=f"query: {q_label}", width=72)
            for j in range(res.k):
                lab = labels[qi][j]
                mark = "✓" if lab == g.query_labels[qi] else "✗"
                cols[j + 2].image(figures.hwc(imgs[qi, j]), caption=f"{mark} {res.classes[lab]}", width=72)
