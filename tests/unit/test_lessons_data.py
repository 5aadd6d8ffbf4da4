"""The lessons' one data step: Shapes as uint8 tensors plus their normalised float copies."""
from __future__ import annotations

import torch

from core.lessons.data import load_lesson_data, load_shapes_tensors


def test_shapes_tensors_are_the_lesson_data_normalised(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    got = load_shapes_tensors(train_size=18, n_test=12, image_size=8, seed=3, bias=1.0)
    ref = load_lesson_data("shapes", train_size=18, n_test=12, image_size=8, seed=3, bias=1.0)
    assert torch.equal(got.data.x_train, ref.x_train) and torch.equal(got.y_test, ref.y_test)
    assert torch.equal(got.data.bg_train, got.y_train)  # the bias reached the training split
    # Normalisation written out by hand: ImageNet mean and standard deviation per channel.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    assert torch.allclose(got.x_train, (ref.x_train.double() / 255 - mean.double()).float() / std, atol=1e-5)
    assert torch.allclose(got.x_test, (ref.x_test.double() / 255 - mean.double()).float() / std, atol=1e-5)
    assert got.x_train.dtype == torch.float32 and got.x_train.shape == (18, 3, 8, 8)
