"""The Architectures page's cached calls into core: a model card, a layer summary, the signature block, the whole
zoo and the stacked-convolution lesson. Each result is a plain dict or list, so ``st.cache_data`` can hash and
copy it; models themselves are built on the ``meta`` device inside core (no memory, no weights).

Gotcha: a card's ``weights_status`` changes when weights are downloaded, so it is dropped from the cached card
and asked fresh on every run (:mod:`views._architectures_weights`).
"""
from __future__ import annotations

import streamlit as st

from core.models import ARCHITECTURES, model_card, signature_block, summary
from core.models.stacked_convs import features_receptive_field, kernel_lessons

LESSON_ARCHS = ("alexnet", "vgg16")  # big kernels against stacked 3×3


@st.cache_data(show_spinner="Counting parameters and FLOPs…")
def card(name: str) -> dict:
    out = model_card(name)
    out.pop("weights_status")  # changes when weights are downloaded: asked fresh on every run
    return out


@st.cache_data(show_spinner="Tracing the layers…", max_entries=64)
def layer_summary(name: str, size: int) -> dict:
    return summary(name, size).to_dict()


@st.cache_data(show_spinner=False)
def signature(name: str) -> dict:
    return signature_block(name)


@st.cache_data(show_spinner="Measuring the whole zoo (once)…")
def zoo() -> list[dict]:
    return [card(n) for n in ARCHITECTURES]


@st.cache_data(show_spinner=False)
def rf_lesson(channels: int) -> tuple[list[dict], list[dict]]:
    """(one big kernel against a 3×3 stack, per kernel size; receptive field per layer of LESSON_ARCHS)."""
    kernels = [c.to_dict() for c in kernel_lessons(channels)]
    curves = [r for n in LESSON_ARCHS for r in (features_receptive_field(n) or [])]
    return kernels, curves
