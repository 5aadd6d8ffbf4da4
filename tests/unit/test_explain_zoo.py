"""Every attribution method on one untrained model of every zoo family, at a small input; guidance per family;
defaults (SmoothGrad seeds agree, IG converges) measured on ResNet-18."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.explain import METHODS, available_methods, explain
from core.models import ARCHITECTURES, build, min_input_size

torch.set_num_threads(1)
pytestmark = pytest.mark.slow

FAMILIES = {}
for _name, _spec in ARCHITECTURES.items():
    FAMILIES.setdefault(_spec.family, _name)  # the first (usually smallest) model of each family
CHEAP = {"scorecam": {"max_channels": 8}, "ig": {"steps": 8, "adaptive": False},
         "smoothgrad": {"samples": 2}, "occlusion": {"window": 32, "stride": 32}}
# Guidance is real on every family (core.explain.guidance guides every rectifier call; Captum would guide only nn.ReLU
# modules, i.e. nothing on GoogLeNet / Inception / MobileNet-V2 / EfficientNet): what each family's forward calls.
GUIDED = {"LeNet": "ReLU", "AlexNet": "ReLU", "VGG": "ReLU", "ResNet": "ReLU", "GoogLeNet": "ReLU",
          "Inception": "ReLU", "DenseNet": "ReLU", "MobileNet": "ReLU6/Hardtanh", "EfficientNet": "SiLU"}


@pytest.fixture(scope="module")
def models():
    return {}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_method_on_every_family(family, models):
    arch = FAMILIES[family]
    torch.manual_seed(0)
    model = build(arch, weights="none", num_classes=6).eval()
    size = max(32, min_input_size(arch))
    img = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    offered = available_methods(model)
    if family in GUIDED:
        from core.explain.guidance import guided_support

        assert offered["guided_gradcam"] is None
        assert f"{GUIDED[family]} ×" in guided_support(model)[1]
    for method in METHODS:
        if offered[method] is not None:
            continue
        e = explain(model, img, method, arch=arch, params=CHEAP.get(method))
        assert e.map.shape == (size, size) and np.isfinite(e.map).all() and (e.map >= 0).all(), (arch, method)
        if METHODS[method].uses_layer:
            assert e.layer and e.native.ndim == 2
        if method == "guided_gradcam":  # the test: wherever offered, the guided map is not plain Saliency
            sal = explain(model, img, "saliency", arch=arch, target=e.target)
            assert not np.allclose(e.map / max(e.map.max(), 1e-30), sal.map / max(sal.map.max(), 1e-30), atol=1e-3)
    hooks = sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    assert hooks == 0


def test_aux_output_models_in_train_mode():
    for arch in ("googlenet", "inception_v3"):
        model = build(arch, weights="none", num_classes=6)
        model.train()  # returns (logits, aux...) in train mode; explain() runs in eval and restores train
        size = max(64, min_input_size(arch))
        x = torch.randn(1, 3, size, size)
        for method in ("gradcam", "saliency", "ig"):
            e = explain(model, x, method, arch=arch, params=CHEAP.get(method))
            assert e.map.shape == (size, size)
        assert model.training


def test_default_layer_is_informative_at_small_inputs():
    model = build("resnet18", weights="none", num_classes=6).eval()
    x64, x224 = torch.randn(1, 3, 64, 64), torch.randn(1, 3, 224, 224)
    assert explain(model, x64, "gradcam", arch="resnet18").layer == "layer3"  # layer4 would be 2×2
    e = explain(model, x224, "gradcam", arch="resnet18")
    assert e.layer == "layer4" and e.native.shape == (7, 7)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_defaults_smoothgrad_seeds_agree_and_ig_converges():
    torch.manual_seed(0)
    model = build("resnet18", weights="none", num_classes=6).eval()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    a = explain(model, x, "smoothgrad", arch="resnet18", params={"seed": 0}).map
    b = explain(model, x, "smoothgrad", arch="resnet18", params={"seed": 1}).map
    assert _corr(a, b) > 0.8
    e = explain(model, x, "ig", arch="resnet18")
    assert "%" in e.notes[-1] and e.params["steps"] >= 64
    gap = float(e.signed.sum())
    assert e.delta < 0.05 * abs(gap) + 1e-6


def test_pretrained_path_with_locally_seeded_weights(tmp_path, monkeypatch, capsys):
    """The real loading code with weights planted under the file name torchvision expects (random values: this
    machine cannot download ImageNet weights, so the map cannot be checked for the cat; a user's machine can)."""
    import json

    import core.models.weights as W
    from core.__main__ import main
    from core.samples import SAMPLE_NAMES, load_sample

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = W.weights_cache_path("resnet50")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(build("resnet50", weights="none").state_dict(), path)
    cat = next(n for n in SAMPLE_NAMES if "cat" in n.lower() or "chelsea" in n.lower())
    image = tmp_path / "cat.png"
    load_sample(cat).save(image)
    rc = main(["explain", "--arch", "resnet50", "--weights", "default", "--image", str(image), "--target",
               "Tabby", "--out", str(tmp_path / "cam.npy"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["trained"] is True
    assert out["label"] == "tabby"  # an ImageNet category from the weights' metadata, matched case-insensitively
    assert out["layer"] == "layer4" and out["native_shape"] == [7, 7]
    assert np.load(tmp_path / "cam.npy").shape == (224, 224)
