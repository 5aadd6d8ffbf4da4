"""The Receptive fields page's model choice and session state; the only code that writes ``st.session_state``
for that page (widgets keep their own values under their ``rf_*`` keys).

The page looks at one model: a zoo architecture (untrained, and pretrained when its weights are cached here)
or a training run's checkpoint (and the same architecture untrained, for comparison). :class:`ModelChoice` says
which, and builds either through the one shared model cache (:mod:`views._models`).

Key: ``rf_erf`` = ``(settings, [(label, ERF), ...])``, the last computed effective fields. The computation is
slow (a backward pass per noise image), so it runs on a button and is kept; ``settings`` (source, arch, run,
size, layer, number of inputs) tells the page whether the stored fields still match the widgets.
Gotcha: the fields are kept per session, never in a shared cache: each holds a ``[H, W]`` gradient tensor.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from torch import nn

from core.models.weights import weights_status
from core.models.registry import get_spec
from core.receptive_field import ERF
from core.runs import store
from views._models import run_model, zoo_model

ss = st.session_state
ERF_KEY = "rf_erf"


@dataclass(frozen=True)
class ModelChoice:
    """The model the page looks at. ``run``: a run with a checkpoint (a row of :func:`core.runs.store.list_runs`),
    or None for a zoo architecture; ``trained_weights``: ``"default"`` when a zoo model's pretrained weights are
    cached here (they are never downloaded by this page)."""

    arch: str
    default_size: int
    run: dict | None = None
    trained_weights: str | None = None

    @property
    def has_trained(self) -> bool:
        return self.run is not None or self.trained_weights is not None

    def model(self, trained: bool) -> tuple[nn.Module, str]:
        """(model, label): the run's checkpoint or the pretrained zoo model when ``trained``, else untrained."""
        if trained and self.run is not None:
            rm = run_model(self.run["path"])
            return rm.model, rm.label
        if trained and self.trained_weights is not None:
            return zoo_model(self.arch, self.trained_weights), f"{self.arch}, pretrained (ImageNet)"
        return zoo_model(self.arch, "none"), f"{self.arch}, untrained"


def zoo_choice(arch: str) -> ModelChoice:
    return ModelChoice(arch=arch, default_size=get_spec(arch).input_size,
                       trained_weights="default" if weights_status(arch) == "cached" else None)


def run_choice(run: dict) -> ModelChoice:
    return ModelChoice(arch=run["arch"], default_size=int(store.load_config(run["path"]).image_size), run=run)


def runs_with_checkpoints() -> list[dict]:
    """Runs that saved a checkpoint (an unreadable runs folder reads as none)."""
    try:
        return [r for r in store.list_runs() if r["has_checkpoint"]]
    except OSError:
        return []


def erf_settings(source: str, choice: ModelChoice, size: int, layer: str, n_inputs: int) -> tuple:
    return source, choice.arch, choice.run["id"] if choice.run else None, int(size), layer, n_inputs


def save_erf(settings: tuple, results: list[tuple[str, ERF]]) -> None:
    ss[ERF_KEY] = (settings, results)


def stored_erf(settings: tuple) -> tuple[list[tuple[str, ERF]] | None, bool]:
    """(the stored fields if they were computed with ``settings``, whether other ones are stored)."""
    stored = ss.get(ERF_KEY)
    if stored and stored[0] == settings:
        return stored[1], False
    return None, bool(stored)
