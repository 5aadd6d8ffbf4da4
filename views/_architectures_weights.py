"""The pretrained-weights panel of the Architectures page: the cache status of one architecture's ImageNet
weights and, when they are missing, a button that downloads them with a progress bar.

Used twice (Model card and Classify, each with its own button key). Downloads go through
:func:`core.models.download_weights` (hash-checked; a failure is a :class:`core.errors.PlaygroundError` shown
as a message). Gotcha: the progress callback fires per chunk; the bar is redrawn once per percent only.
"""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from core.models import download_weights, get_spec, weights_status
from views._widgets import show_error


def _download(name: str) -> bool:
    """Download pretrained weights with a progress bar; True when they are now cached."""
    bar = st.progress(0.0, text="Starting download…")
    last = [-1]

    def on_progress(done: int, total: int | None) -> None:
        pct = int(100 * done / total) if total else 0
        if pct != last[0]:  # one UI update per percent, not per chunk
            last[0] = pct
            size = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
            bar.progress(min(pct, 100) / 100, text=f"Downloading… {size}")

    try:
        path = download_weights(name, progress=on_progress)
    except PAGE_ERRORS as err:
        bar.empty()
        show_error(err)
        return False
    bar.progress(1.0, text=f"Saved to {path.parent.name}/{path.name}")
    return True


def weights_panel(name: str, key: str) -> str:
    """Show the weights status (and a download button); returns the status now."""
    status = weights_status(name)
    spec = get_spec(name)
    if status == "unavailable":
        st.info(f"{spec.title} has no pretrained ImageNet weights: it can only be used **untrained**.")
    elif status == "cached":
        st.success("Pretrained ImageNet weights: cached on this machine (they load offline).")
    else:
        st.warning("Pretrained ImageNet weights: not downloaded yet. Until then the model is **untrained**.")
        if st.button("Download pretrained weights", key=key) and _download(name):
            status = "cached"
    return status
