"""Issue 14.8: a preset's description types no figure; each one is computed from the preset's settings, and here
checked against an independent computation (a real model's parameters, the split arithmetic, the layer table)."""
from __future__ import annotations

import re

import pytest
import torch

from core.data import DATASETS
from core.models import build
from core.models.summary import summary
from core.train.config import PRESETS, TrainConfig
from core.train.params import preset_description, preset_figures


@pytest.mark.parametrize("name", list(PRESETS))
def test_descriptions_type_no_figure_and_fill_every_placeholder(name):
    raw = PRESETS[name].description
    # numbers left in the raw text: only px sizes named as a comparison point, the accuracy a test checks, a year
    stripped = re.sub(r"\{\w+\}", "", raw)
    assert set(re.findall(r"\d+(?:[.,]\d+)*", stripped)) <= {"64", "32", "85", "1998", "18", "5"}, stripped
    text = preset_description(name)
    assert "{" not in text and "}" not in text


def test_the_figures_are_the_settings_and_the_models():
    f = preset_figures("shapes-lenet5")
    cfg = TrainConfig.from_preset("shapes-lenet5")
    model = build("lenet5", num_classes=len(DATASETS["shapes"].classes), weights="none")
    n = sum(p.numel() for p in model.parameters())
    assert f["params"] == f"{n:,}"
    n_train = cfg.dataset_options["n"] - round(cfg.val_fraction * cfg.dataset_options["n"])
    assert f["train_images"] == f"{n_train:,}" and f["epochs"] == str(cfg.epochs) and f["classes"] == "6"

    e = preset_figures("shapes-explain")
    with torch.no_grad():  # the last convolution's map at 48 and 32 px, from a real forward pass
        feats = build("lenet5", num_classes=6, weights="none").features
        h48 = feats(torch.zeros(1, 3, 48, 48)).shape[-1]
        h32 = feats(torch.zeros(1, 3, 32, 32)).shape[-1]
    assert e["last_map"] == f"{h48} × {h48}" and e["last_map_32"] == f"{h32} × {h32}"
    ratio = summary("lenet5", 48).flops / summary("lenet5", 64).flops
    assert e["work_vs_64"] == f"{ratio:.0%}"
    # "twice the default's images for a third of its epochs"
    d, x = TrainConfig.from_preset("shapes-lenet5"), TrainConfig.from_preset("shapes-explain")
    assert x.dataset_options["n"] == 2 * d.dataset_options["n"] and 3 * x.epochs == d.epochs
