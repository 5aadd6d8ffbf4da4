"""The one model cache of the app, shared by every page and every browser session.

Cached models are used read-only: every computation on them goes through ``core.models.shared.exclusive``
(a per-model lock + eval mode), so hooks or a mode change in one session never reach another's forward.
Keys are (architecture, weights) for the zoo and (run folder, checkpoint kind, checkpoint file time) for runs,
so a run that saves a newer checkpoint gets a fresh entry.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.device import pick_device
from core.models import build
from core.models.shared import load_run_model
from core.runs import store


@st.cache_resource(show_spinner="Building the model…", max_entries=4)
def zoo_model(name: str, weights: str):
    """Architecture ``name`` with ``weights`` ("default" = pretrained ImageNet, "none" = untrained), in eval mode."""
    return build(name, weights=weights, device=pick_device()).eval()


@st.cache_resource(show_spinner="Loading the run's checkpoint…", max_entries=4)
def _run_model(run_dir: str, kind: str, stamp: float):
    return load_run_model(run_dir, kind)


def run_model(run_dir: str | Path, kind: str | None = None):
    """A run's :class:`core.models.shared.RunModel` (cached until the run writes a newer checkpoint)."""
    run_dir = Path(run_dir)
    if kind is None:
        kind = "best" if store.has_checkpoint(run_dir, "best") else "last"
    meta = store.checkpoint_meta(run_dir, kind) or {}
    weights = run_dir / str(meta.get("weights", ""))
    stamp = weights.stat().st_mtime if weights.is_file() else 0.0
    return _run_model(str(run_dir), kind, stamp)
