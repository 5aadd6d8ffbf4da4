"""Lesson: k-nearest neighbours (store every image) against trained classifiers (compress them into weights):
accuracy, memory and time per query as the training set grows.

Page layout: widgets -> core.lessons.knn.knn_lesson -> charts, galleries, conclusion."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.budget import memory_guard
from core.errors import PAGE_ERRORS, PlaygroundError
from views._widgets import show_error

st.title("k-NN vs learned classifiers")
st.markdown(
    "*If every image in the world were stored, k-nearest neighbours would classify anything: find the stored "
    "images closest to the query and let them vote.* It needs no training, but it **holds the whole training set** "
    "and compares every query with all of it. A trained classifier is a **compressed** version of the same data: "
    "a few thousand weights. This experiment trains both kinds on the same Shapes images (32 px) and measures "
    "accuracy, memory and time per query as the training set grows."
)
ss = st.session_state
SIZES = [30, 100, 300, 1000, 3000, 6000]


def _runs() -> dict[str, str]:
    """Finished runs with a checkpoint: label -> folder."""
    from core.runs import store

    try:
        runs = store.list_runs()
    except (OSError, PlaygroundError):
        return {}
    return {f"{r['id']} ({r['arch']}, {r['dataset']})": r["path"] for r in runs
            if r.get("has_checkpoint") and r.get("state") not in ("running", "queued")}


from core.lessons.fit import lesson_defaults  # noqa: E402
from core.lessons.knn import PRETRAINED_ARCH, PRETRAINED_SIZE, knn_lesson  # noqa: E402

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
    from core.lessons.knn import FeatureNet

    if not sizes:
        st.warning("Choose at least one training-set size.")
    else:
        try:
            features, pretrained = None, None
            if run_label == PRETRAINED_LABEL:
                pretrained = PRETRAINED_ARCH
            elif run_label != "none":
                from views._models import run_model

                rm = run_model(runs[run_label])
                features = FeatureNet(rm.model, rm.image_size, f"k-NN · features of run {rm.run_dir.name}")
            bar = st.progress(0.0, text="starting")
            with memory_guard("running the experiment"):
                ss["knn_result"] = knn_lesson(train_sizes=sizes, k=int(k), steps=int(steps), features=features,
                                              pretrained=pretrained,
                                              progress=lambda f, m: bar.progress(min(1.0, f), text=m))
            bar.empty()
        except PAGE_ERRORS as err:
            show_error(err)

res = ss.get("knn_result")
if res is None:
    st.info(f"Press **Run the experiment**. With the defaults it trains {2 * len(DEFAULTS['train_sizes'])} small "
            f"networks and runs k-NN on {DEFAULTS['n_test']} test images for each size; the time it took is shown "
            "with the results.")
    st.stop()

from core.lessons.knn import CNN, PIXELS  # noqa: E402

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

COLORS = {"k-NN · pixels": "#d62728", "k-NN · CNN features": "#ff7f0e", "Linear layer": "#2ca02c",
          "Small CNN": "#1f77b4"}


def _chart(metric: str, title: str, log_y: bool = False, fmt: str = "") -> go.Figure:
    fig = go.Figure()
    for method in res.methods():
        pts = sorted((p for p in res.points if p.method == method), key=lambda p: p.train_size)
        fig.add_trace(go.Scatter(x=[p.train_size for p in pts], y=[getattr(p, metric) for p in pts], name=method,
                                 mode="lines+markers", line={"color": COLORS.get(method, "#9467bd")}))
    fig.update_layout(title=title, xaxis_title="training images (log)", height=360, margin={"t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.25})
    fig.update_xaxes(type="log")
    if log_y:
        fig.update_yaxes(type="log")
    if fmt:
        fig.update_yaxes(tickformat=fmt)
    return fig


chance = 1 / len(res.classes)
c1, c2 = st.columns(2)
acc = _chart("accuracy", "Test accuracy", fmt=".0%")
acc.add_hline(y=chance, line_dash="dot", annotation_text=f"chance {chance:.0%}")
c1.plotly_chart(acc, width="stretch", key="knn_acc_chart")
c2.plotly_chart(_chart("memory_bytes", "Memory held (bytes, log)", log_y=True), width="stretch",
                key="knn_mem_chart")
c3, c4 = st.columns(2)
c3.plotly_chart(_chart("ms_per_query", "Milliseconds per query (log)", log_y=True), width="stretch",
                key="knn_time_chart")
with c4:
    st.markdown("**All measurements**")
    st.dataframe([{"method": p.method, "training images": p.train_size, "accuracy": round(100 * p.accuracy, 1),
                   "memory (bytes)": p.memory_bytes, "ms / query": round(p.ms_per_query, 4),
                   "training (s)": round(p.fit_seconds, 2)} for p in res.points], hide_index=True, height=300)
    st.caption("k-NN memory: the stored training vectors (float32) and labels; with network features also the "
               "network. Network memory: parameters and BatchNorm statistics. Time per query: the whole test set "
               "in batches, divided by its size (feature extraction included).")

g = res.gallery
if g is not None:
    st.subheader("Nearest neighbours: pixel space vs feature space")
    st.markdown(f"Each row: a test image, then its {res.k} nearest training images (N = {largest:,}). "
                "✓ = same class as the query. In pixel space neighbours tend to share the **background**; in the "
                "CNN's feature space they share the **shape**.")
    pix_hits = np.mean([[lab == q for lab in row] for q, row in zip(g.query_labels, g.pixel_labels)])
    feat_hits = np.mean([[lab == q for lab in row] for q, row in zip(g.query_labels, g.feature_labels)])
    st.caption(f"Same-class neighbours in these rows: {pix_hits:.0%} in pixel space, {feat_hits:.0%} in feature space.")

    def _tile(t) -> np.ndarray:
        return t.permute(1, 2, 0).numpy()

    for qi in range(len(g.query_labels)):
        q_label = res.classes[g.query_labels[qi]]
        for space, imgs, labels in (("pixels", g.pixel_neighbours, g.pixel_labels),
                                    ("CNN features", g.feature_neighbours, g.feature_labels)):
            cols = st.columns(res.k + 2)
            cols[0].markdown(f"**{space}**")
            cols[1].image(_tile(g.queries[qi]), caption=f"query: {q_label}", width=72)
            for j in range(res.k):
                lab = labels[qi][j]
                mark = "✓" if lab == g.query_labels[qi] else "✗"
                cols[j + 2].image(_tile(imgs[qi, j]), caption=f"{mark} {res.classes[lab]}", width=72)
