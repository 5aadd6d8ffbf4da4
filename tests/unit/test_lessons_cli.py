"""CLI commands of the lessons: ``knn`` (pixels and a run's features) and ``gradients``, JSON and errors."""
from __future__ import annotations

import json

import pytest
import torch

from core.__main__ import main


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: see tests/unit/test_lessons_depth.py
    yield
    torch.set_num_threads(before)


def _json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_knn_on_pixels_prints_accuracy_memory_and_time(capsys):
    out = _json(capsys, ["knn", "--dataset", "shapes", "--features", "pixels", "--train-size", "30",
                         "--test-size", "12", "--k", "3", "--image-size", "16", "--json"])
    assert out["features"] == "pixels" and out["train_size"] == 30 and out["n_test"] == 12 and out["k"] == 3
    assert out["memory_bytes"] == 30 * 3 * 16 * 16 * 4 + 30 * 8
    assert 0 <= out["accuracy"] <= 1 and out["ms_per_query"] > 0


@pytest.mark.parametrize("argv,message", [
    (["knn", "--train-size", "10", "--k", "11"], "--k must be between 1 and 10"),
    (["knn", "--train-size", "ten"], "--train-size must be a whole number"),
    (["knn", "--features", "/nonexistent/run"], "not a run folder"),
    (["gradients", "--depth", "7"], "depth must be an even whole number"),
    (["gradients", "--depth", "8", "--steps", "-1"], "--steps must be between"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_gradients_json_has_one_norm_per_layer(capsys):
    out = _json(capsys, ["gradients", "--depth", "6", "--residual", "--batchnorm", "--steps", "1", "--json"])
    assert out["label"] == "residual-6 + BN" and len(out["layers"]) == len(out["init"]) == len(out["after"]) == 6
    assert all(v > 0 for v in out["init"]) and out["first_to_last_init"] > 0


@pytest.mark.slow
def test_knn_on_the_features_of_a_trained_run(capsys, tmp_path):
    from core.runs import store, worker
    from core.train import TrainConfig

    run = store.create_run(TrainConfig(arch="lenet5", dataset_options={"n": 60}, image_size=32, batch_size=16,
                                       epochs=1, max_steps=2, augmentation="none"), tmp_path / "runs")
    worker.execute(run)
    out = _json(capsys, ["knn", "--features", str(run), "--train-size", "24", "--test-size", "12", "--k", "1",
                         "--json"])
    assert out["features"].startswith("features of run") and out["image_size"] == 32
    assert out["dims"] == 84  # LeNet-5's classifier reads 84 features
    assert out["memory_bytes"] > 24 * 84 * 4


def test_knn_on_an_image_folder_holds_out_a_test_part(capsys, tmp_path):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, base in (("dark", 40), ("light", 210)):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(6):
            pixels = np.clip(base + rng.normal(0, 15, (20, 20, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(tmp_path / "imgs" / name / f"{i}.png")
    out = _json(capsys, ["knn", "--dataset", "folder", "--path", str(tmp_path / "imgs"), "--train-size", "8",
                         "--test-size", "4", "--k", "1", "--image-size", "16", "--json"])
    # 20 % of each class is held out (1 + 1 images); dark and light images are trivially told apart.
    assert out["train_size"] == 8 and out["n_test"] == 2 and out["accuracy"] == 1.0


def test_knn_on_pretrained_features_without_the_cached_file_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import core.models.weights as W

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(W, "_urlopen", lambda *a, **k: (_ for _ in ()).throw(AssertionError("network")))
    code = main(["knn", "--features", "pretrained", "--train-size", "12", "--test-size", "6", "--k", "1"])
    err = capsys.readouterr().err
    assert code != 0 and str(W.manual_weights_path("resnet18")) in err and err.count("\n") == 1
