"""Duration estimate: the extrapolation arithmetic against hand-computed numbers, and a real measurement."""
from __future__ import annotations

import math

import pytest

from core.train import TrainConfig
from core.train.estimate import (EVAL_COST, checkpoints_written, estimate_duration, extrapolate,
                                 measure_draw_rate, images_to_draw, split_sizes)


def test_split_sizes_of_shapes_follow_the_options():
    cfg = TrainConfig(dataset="shapes", dataset_options={"n": 12000}, val_fraction=0.1)
    assert split_sizes(cfg) == (10800, 1200, 2000)  # test split: n / 6


def test_extrapolation_counts_steps_and_evaluations_like_the_loop():
    cfg = TrainConfig(epochs=3, batch_size=64)
    steps, train_s, eval_s, eval_images = extrapolate(cfg, 100.0, 10800, 1200, 2000)
    assert steps == 3 * 168  # 10800 // 64 = 168 full batches per epoch (the ragged end is dropped)
    assert train_s == pytest.approx(504 * 64 / 100.0)
    assert eval_images == 3 * 1200 + 2000  # validation after each epoch, test once
    assert eval_s == pytest.approx(eval_images * EVAL_COST / 100.0)


def test_a_step_cap_shortens_the_run_and_its_evaluations():
    cfg = TrainConfig(epochs=3, batch_size=64, max_steps=200)
    steps, _, _, eval_images = extrapolate(cfg, 50.0, 10800, 1200, 2000)
    assert steps == 200
    assert eval_images == math.ceil(200 / 168) * 1200 + 2000  # epoch 1 full, epoch 2 cut: two evaluations


def test_unknown_size_scales_only_a_step_cap():
    assert extrapolate(TrainConfig(max_steps=10, batch_size=8), 80.0, None, 0, 0) == (10, 1.0, 0.0, 0)


@pytest.mark.slow
def test_estimate_measures_this_device_and_adds_up():
    cfg = TrainConfig(arch="lenet5", dataset_options={"n": 600}, image_size=32, batch_size=32, epochs=2)
    est = estimate_duration(cfg)
    assert est.img_per_s > 0 and est.measured_batch == 32 and est.eval_img_per_s > 0
    assert est.total_steps == 2 * (540 // 32)
    parts = (est.startup_seconds, est.data_seconds, est.train_seconds, est.eval_seconds, est.checkpoint_seconds)
    assert est.seconds == pytest.approx(sum(parts)) and est.startup_seconds > 0 and est.checkpoint_seconds > 0
    assert est.train_seconds == pytest.approx(est.total_steps * 32 / est.img_per_s)
    assert est.eval_seconds == pytest.approx((2 * 60 + 100) / est.eval_img_per_s)  # val after each epoch + test
    assert "training steps of 32 random 32px images" in est.method


def test_measured_evaluation_speed_replaces_the_rule_of_thumb():
    cfg = TrainConfig(epochs=3, batch_size=64)
    _, _, eval_s, eval_images = extrapolate(cfg, 100.0, 10800, 1200, 2000, eval_img_s=400.0)
    assert eval_s == pytest.approx((3 * 1200 + 2000) / 400.0)


def test_shapes_splits_not_in_the_cache_are_drawn_first(tmp_path, monkeypatch):
    """Issue 8.7: data preparation counts: 120 training + 20 test images (n/6) to draw, then only what is missing."""
    from core.data.shapes import ShapesDataset

    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    cfg = TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32)
    assert images_to_draw(cfg) == 120 + 20
    ShapesDataset("train", n=120, image_size=32)  # drawn and cached (as a run would)
    assert images_to_draw(cfg) == 20
    assert images_to_draw(cfg.replace(image_size=48)) == 140  # another size is another cache
    assert measure_draw_rate(cfg, k=4) > 0


def test_checkpoints_counted_like_the_loop_writes_them():
    cfg = TrainConfig(epochs=3, batch_size=64, checkpoint_every_s=120.0)
    assert checkpoints_written(cfg, 504, 168, 90.0) == 3  # 30 s epochs: one checkpoint after each
    assert checkpoints_written(cfg, 504, 168, 750.0) == 3 * 3  # 250 s epochs: two more inside each
    assert checkpoints_written(cfg, 200, 168, 10.0) == 2  # a step cap cuts the second epoch: still checkpointed


def test_epoch_steps_shared_by_loop_and_estimate():
    from core.train.data import epoch_steps

    assert epoch_steps(10800, 64) == (168, True)  # ragged last batch dropped
    assert epoch_steps(10800, 64, world_size=2) == (84, True)  # 5400 images per rank
    assert epoch_steps(40, 64) == (1, False)  # less than one batch: the whole set is one step


def test_folder_sizes_come_from_file_names_without_decoding(tmp_path, monkeypatch):
    """Issue 13.3: the estimate ran inside the page request and decoded every image of a folder (19 s for 1,000
    photos the first time); counting names gives the same sizes without opening one image."""
    from PIL import Image

    root = tmp_path / "data"
    for cls, k in (("cat", 7), ("dog", 5)):
        (root / "set" / cls).mkdir(parents=True)
        for i in range(k):
            Image.new("RGB", (8, 8), (i, 0, 0)).save(root / "set" / cls / f"{i}.png")
    monkeypatch.setenv("CNNPG_DATA_ROOTS", str(root))

    def no_decoding(*a, **k):
        raise AssertionError("an image was opened")

    monkeypatch.setattr(Image, "open", no_decoding)
    cfg = TrainConfig(dataset="folder", dataset_options={"path": str(root / "set")}, val_fraction=0.25)
    assert split_sizes(cfg) == (12 - 3, 3, 0)
    missing = cfg.replace(dataset_options={"path": str(root / "nowhere")})
    assert split_sizes(missing) == (None, 0, 0)
