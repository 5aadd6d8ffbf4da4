"""FC vs conv lesson: parameter counts (meta-device modules vs the formulas), template images, the lesson in small."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from core.lessons import fc_vs_conv as fcc


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: see tests/unit/test_lessons_depth.py
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("s,c,k", [(8, 4, 3), (32, 16, 3), (224, 64, 7), (5, 1, 1)])
def test_counts_match_the_formulas(s, c, k):
    got = fcc.layer_counts(s, c, k)
    assert got.fully_connected == (3 * s * s) * (c * s * s) + c * s * s
    assert got.locally_connected == c * s * s * 3 * k * k + c * s * s
    assert got.convolution == c * 3 * k * k + c


def test_small_counts_equal_real_modules():
    s, c, k = 6, 4, 3
    got = fcc.layer_counts(s, c, k)
    assert got.fully_connected == sum(p.numel() for p in nn.Linear(3 * s * s, c * s * s).parameters())
    assert got.convolution == sum(p.numel() for p in nn.Conv2d(3, c, k, padding=1).parameters())


def test_bad_sizes_are_refused():
    with pytest.raises(InputError, match="image_size"):
        fcc.layer_counts(0)
    with pytest.raises(InputError, match="kernel"):
        fcc.layer_counts(32, 16, 40)


def test_as_images_rescales_each_pattern_on_its_own():
    w = torch.stack([torch.zeros(3, 2, 2), torch.ones(3, 2, 2)])
    w[0, 0, 0, 0], w[1, 2, 1, 1] = 5.0, -1.0
    img = fcc.as_images(w)
    assert img.shape == (2, 2, 2, 3) and img.dtype == torch.uint8
    assert img[0].max() == 255 and img[0].min() == 0 and img[0, 0, 0, 0] == 255
    assert img[1, 1, 1, 2] == 0 and img[1, 0, 0, 0] == 255


@pytest.mark.slow
def test_lesson_in_small(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    res = fcc.fc_vs_conv_lesson(image_size=16, train_size=24, n_test=12, steps=3)
    assert res.templates.shape == (6, 16, 16, 3) and res.filters.shape == (16, 3, 3, 3)
    assert res.fc_params == 3 * 16 * 16 * 6 + 6 and len(res.fc_losses) == len(res.conv_losses) == 3
    assert f"{res.fc_accuracy:.0%}" in res.conclusion() and f"{res.fc_params:,}" in res.conclusion()
