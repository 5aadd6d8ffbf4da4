"""What a finished run shows, on the Train page (after the live view) and on the Runs page (the selected run)."""
from __future__ import annotations

import json

import streamlit as st

from core.errors import PAGE_ERRORS
from core.runs import results, store
from core.train.config import TrainConfig, cli_command
from views._widgets import show_error


@st.cache_data(max_entries=8, show_spinner="Loading the misclassified images…")
def _mistakes(run_dir: str, mtime: float) -> list[dict]:
    return results.misclassified_images(run_dir)


def render_results(view: results.RunView, key: str) -> None:
    """Test (or final validation) accuracy, confusion matrix, per-class accuracy, misclassified images, downloads
    and the equivalent CLI command of a finished run. ``key`` prefixes widget keys (one page may show it once)."""
    test = view.test
    if test is None:
        return
    classes = view.classes
    split = "test" if test.get("dataset_split") == "test" else "validation"
    for warning in results.split_warnings(view):
        st.warning(warning, icon=":material/warning:")
    c = st.columns(4)
    c[0].metric(f"{split.capitalize()} accuracy", results.format_acc(test["acc"], test.get("n")),
                help="correct / images in the split: the number after 'of'")
    best = max((r for r in view.evals if r.get("acc") is not None), key=lambda r: r["acc"], default=None)
    c[1].metric("Best validation accuracy", results.format_acc(best["acc"], best.get("n")) if best else "—")
    summary = store.run_summary(view.run_dir)
    c[2].metric("Compute time", results.format_seconds(summary["duration_s"]),
                help="time the run spent computing (data, training, evaluation), summed over its starts and resumes; "
                f"wall time from first start to end, including time queued or cancelled: "
                f"{results.format_seconds(summary['wall_s'])}")
    c[3].metric("Steps", f"{summary['step']}")
    c1, c2 = st.columns(2)
    c1.plotly_chart(results.confusion_figure(test["confusion"], classes), config=results.PLOTLY_CONFIG,
                    key=f"{key}_fig_confusion")
    c2.plotly_chart(results.per_class_figure(test["per_class_acc"], classes, test.get("confusion")),
                    config=results.PLOTLY_CONFIG, key=f"{key}_fig_per_class")
    mistakes = []
    try:
        metrics_file = view.run_dir / store.METRICS_FILE
        mistakes = _mistakes(str(view.run_dir), metrics_file.stat().st_mtime)
    except PAGE_ERRORS as err:
        show_error(err)
    if mistakes:
        st.markdown(f"**Misclassified {split} images** (true → predicted, confidence)")
        cols = st.columns(8)
        for i, m in enumerate(mistakes[:16]):
            caption = results.plain_markdown(f"{m['true']} → {m['pred']} ({100 * m['confidence']:.0f}%)")
            cols[i % 8].image(m["image"], caption=caption,
                              width="stretch")
    st.markdown("**Downloads**")
    d = st.columns(3)
    for col, kind in zip(d[:2], ("best", "last")):
        path = view.run_dir / f"{kind}.safetensors"
        if path.is_file():
            col.download_button(f"{kind} checkpoint (.safetensors)", data=lambda p=path: p.read_bytes(),
                                file_name=f"{view.run_dir.name}-{kind}.safetensors", mime="application/octet-stream",
                                key=f"{key}_dl_{kind}", on_click="ignore")
    d[2].download_button("config.json", data=json.dumps(view.config, indent=2), file_name="config.json",
                         mime="application/json", key=f"{key}_dl_config", on_click="ignore")
    st.markdown("**The same run from the command line**")
    try:
        st.code(cli_command(TrainConfig.from_dict(view.config)), language="bash")
    except PAGE_ERRORS:
        pass
