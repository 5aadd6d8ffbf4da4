"""core.models.shared: the per-model lock, eval mode inside it, and the strict run-checkpoint loader."""
from __future__ import annotations

import threading

import pytest
import torch
from PIL import Image

from core.errors import InputError
from core.models import build
from core.models.activations import capture_activations, feature_layers, resolve_layer
from core.models.shared import exclusive, load_run_model, model_lock, run_transform
from core.runs import store
from core.train.config import TrainConfig


def test_lock_is_one_per_model_and_reentrant():
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    assert model_lock(a) is model_lock(a) and model_lock(a) is not model_lock(b)
    with exclusive(a), exclusive(a):  # re-entrant: a helper holding it may call another that takes it
        pass


def test_exclusive_evals_inside_and_restores_mode_also_on_error():
    m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()).train()
    with pytest.raises(RuntimeError):
        with exclusive(m):
            assert not m.training
            raise RuntimeError("boom")
    assert m.training


def test_exclusive_blocks_another_thread_until_released():
    m = torch.nn.Linear(2, 2)
    order = []
    with exclusive(m):
        t = threading.Thread(target=lambda: (exclusive(m).__enter__(), order.append("other")))
        t.start()
        t.join(timeout=0.2)
        order.append("holder")
    t.join(timeout=5)
    assert order == ["holder", "other"]


def _run_with_checkpoint(tmp_path, arch="lenet5", classes=("a", "b", "c")):
    cfg = TrainConfig(arch=arch, image_size=32)
    run_dir = store.create_run(cfg, tmp_path / "runs")
    model = build(arch, num_classes=len(classes), weights="none")
    store.save_checkpoint(run_dir, model.state_dict(), {"step": 1, "classes": list(classes)}, best=True)
    return run_dir, model


def test_load_run_model_restores_exact_weights_and_classes(tmp_path):
    run_dir, model = _run_with_checkpoint(tmp_path)
    rm = load_run_model(run_dir)
    assert rm.arch == "lenet5" and rm.classes == ["a", "b", "c"] and rm.kind == "best" and rm.image_size == 32
    for k, v in model.state_dict().items():
        assert torch.equal(rm.model.state_dict()[k], v)
    assert not rm.model.training


def test_load_run_model_refuses_a_checkpoint_of_another_network(tmp_path):
    run_dir, _ = _run_with_checkpoint(tmp_path)
    cfg = TrainConfig.load(run_dir / "config.json")
    cfg.arch = "resnet18"
    store.atomic_write_json(run_dir / "config.json", cfg.to_dict())
    with pytest.raises(InputError, match="does not fit resnet18"):
        load_run_model(run_dir)


def test_run_transform_matches_the_training_normalisation():
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    x = run_transform(16)(img)
    assert x.shape == (1, 3, 16, 16)
    assert torch.allclose(x[0, 0], torch.full((16, 16), (1 - 0.485) / 0.229))
    assert torch.allclose(x[0, 2], torch.full((16, 16), (0 - 0.406) / 0.225))


def test_capture_activations_matches_a_manual_forward_and_leaves_no_hooks():
    m = build("resnet18", weights="none").eval()
    x = torch.randn(1, 3, 64, 64)
    maps, logits = capture_activations(m, x, ["layer2", "layer4"])
    with torch.no_grad():
        y = m.layer2(m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x))))))
    assert torch.allclose(maps["layer2"], y, atol=1e-5) and maps["layer4"].shape == (1, 512, 2, 2)
    assert logits.shape == (1, 1000)
    assert all(not mod._forward_hooks for mod in m.modules())
    assert "layer4" in feature_layers(m) and "layer1.0.conv1" in feature_layers(m)
    with pytest.raises(InputError, match="unknown layer"):
        resolve_layer(m, "layer9")
