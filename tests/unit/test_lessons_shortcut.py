"""Shortcut lesson: the bias option's stated correlation (train) and none (test), hue rotation, the lesson in small."""
from __future__ import annotations

import math

import pytest
import torch

from core.data.shapes import ShapesDataset
from core.lessons import shortcut as sc
from core.lessons.data import load_lesson_data


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: see tests/unit/test_lessons_depth.py
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.parametrize("bias", [0.6, 1.0])
def test_bias_gives_the_stated_correlation_in_train_and_none_in_test(tmp_path, bias):
    n = 600
    tr = ShapesDataset("train", n=n, image_size=8, bias=bias, root=tmp_path)
    te = ShapesDataset("test", n=n, n_eval=n, image_size=8, bias=bias, root=tmp_path)
    stated = bias + (1 - bias) / 6
    # A binomial proportion: 4 standard errors of slack.
    tol = 4 * math.sqrt(max(stated * (1 - stated), 1e-4) / n)
    assert tr.background_shortcut_accuracy() == pytest.approx(stated, abs=tol)
    assert te.background_shortcut_accuracy() == pytest.approx(1 / 6, abs=4 * math.sqrt((1 / 6) * (5 / 6) / n))
    if bias == 1.0:
        assert tr.background_shortcut_accuracy() == 1.0


def test_lesson_data_carries_the_background_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    d = load_lesson_data("shapes", train_size=60, n_test=30, image_size=8, bias=1.0)
    assert torch.equal(d.bg_train, d.y_train)
    assert not torch.equal(d.bg_test, d.y_test)


def test_hue_rotation_keeps_grey_and_cycles_primaries():
    assert torch.allclose(sc.hue_rotation_matrices(torch.tensor([0.0]))[0], torch.eye(3), atol=1e-6)
    x = torch.zeros(3, 3, 1, 1, dtype=torch.uint8)
    x[0, 0], x[1, :] = 255, 128  # pure red; mid grey
    x[2, 2] = 255  # pure blue
    out = sc.rotate_hue(x, torch.tensor([2 * math.pi / 3, 1.234, 2 * math.pi / 3]))
    # 120° about the grey axis maps R -> G -> B -> R exactly; grey stays grey.
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([0.0, 1.0, 0.0]), atol=1e-5)
    assert torch.allclose(out[1, :, 0, 0], torch.full((3,), 128 / 255), atol=1e-5)
    assert torch.allclose(out[2, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5)
    # Rotations are orthogonal: no colour gains energy.
    m = sc.hue_rotation_matrices(torch.rand(5) * 6.3)
    assert torch.allclose(m @ m.transpose(1, 2), torch.eye(3).expand(5, 3, 3), atol=1e-5)


@pytest.mark.slow
def test_lesson_in_small(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    res = sc.shortcut_lesson(bias=1.0, train_size=24, n_val=12, n_test=12, steps=3, image_size=16)
    assert [m.label for m in res.models] == [sc.BIASED, sc.AUGMENTED, sc.UNBIASED]
    assert res.shortcut_train == 1.0 and res.models[1].augmented and res.models[2].train_bias == 0.0
    assert all(len(m.losses) == 3 for m in res.models)
    b = res.model(sc.BIASED)
    assert f"{b.val_accuracy:.0%}" in res.conclusion() and f"{b.test_accuracy:.0%}" in res.conclusion()
    # The pointing game ran on the 12 test images: hit rates are shares of them, chance is the shapes' area share.
    assert all(m.pointing is not None and 0 <= m.pointing <= 1 for m in res.models)
    assert 0 < b.pointing_chance < 0.5
