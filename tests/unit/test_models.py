"""The model zoo: every registry entry swept, metadata checked against its source of truth, weights offline.

Nothing here touches the network: weights tests pre-seed torchvision's / timm's caches with locally saved
(random) state dicts under the file names those libraries expect, and make every download function raise.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
from functools import lru_cache

import pytest
import torch
from PIL import Image
from torch import nn

import core.models as M
import core.models.weights as W
from core.models.sources import TORCHVISION
from core.errors import InputError, PlaygroundError
from core.models.stacked_convs import (
    compare_stack,
    empirical_receptive_field,
    features_receptive_field,
    kernel_lessons,
    receptive_field,
)
from core.models.summary import _SkipInitOnMeta, layer_table

NAMES = list(M.ARCHITECTURES)
# Whole-zoo sweeps: four small entries (one per source, plus a residual net) stay in `make test-fast`;
# the rest build big networks and run with the slow tests.
_FAST = {"lenet5", "resnet18", "mobilenet_v3_small", "seresnet18"}
ZOO = [n if n in _FAST else pytest.param(n, marks=pytest.mark.slow) for n in NAMES]
TV_NAMES = [n for n in NAMES if M.ARCHITECTURES[n].source == "torchvision"]


def _small_size(name: str) -> int:
    return max(M.min_input_size(name), 32 if name == "lenet5" else 64)


@lru_cache(maxsize=None)
def _real_model(name: str) -> nn.Module:
    """A real (random) build kept for the module (small models only); tests must not mutate it."""
    return M.build(name, weights="none")


def _meta_build(name: str, **kwargs) -> nn.Module:
    """build() with shapes only: fast for head/aux checks of every entry (VGG included)."""
    with torch.device("meta"), _SkipInitOnMeta():
        return M.build(name, **kwargs)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Empty caches in tmp_path and a network that raises if anything tries to download."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args or kwargs)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(W, "_urlopen", refuse)
    monkeypatch.setattr(W, "_hf_download", refuse)
    monkeypatch.setattr(W, "hub_unreachable", lambda timeout=3.0: None)  # no connection test: _hf_download refuses
    return calls


# ------------------------------------------------------------------------------------------ registry
def test_registry_covers_the_curriculum():
    assert len(NAMES) >= 15
    families = {s.family for s in M.ARCHITECTURES.values()}
    for fam in ("LeNet", "AlexNet", "VGG", "GoogLeNet", "Inception", "ResNet", "DenseNet", "SENet",
                "EfficientNet", "MobileNet"):
        assert fam in families
    for n in ("lenet5", "alexnet", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "googlenet", "inception_v3",
              "resnet18", "resnet34", "resnet50", "resnet101", "densenet121", "seresnet50", "efficientnet_b0",
              "efficientnet_b3", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"):
        assert n in M.ARCHITECTURES
    years = [s.year for s in M.ARCHITECTURES.values()]
    assert years == sorted(years)
    for s in M.ARCHITECTURES.values():
        assert s.paper.startswith("http") and len(s.idea) > 40 and len(s.signature_note) > 80
        assert s.source in {"torchvision", "timm", "local"}
        assert s.stages[-1][0] == "head"
    assert M.ARCHITECTURES["seresnet50"].has_pretrained and not M.ARCHITECTURES["seresnet18"].has_pretrained
    assert M.ARCHITECTURES["googlenet"].aux_logits and M.ARCHITECTURES["inception_v3"].aux_logits


def test_get_spec_is_forgiving_about_spelling_but_not_names():
    assert M.get_spec("ResNet-18").name == "resnet18"
    assert M.get_spec("VGG16-BN").name == "vgg16_bn"
    with pytest.raises(InputError, match="unknown architecture"):
        M.get_spec("resnet19")


def test_input_sizes_come_from_the_weights_transforms():
    assert M.get_spec("inception_v3").input_size == 299
    assert M.get_spec("efficientnet_b3").input_size == 300
    assert M.get_spec("lenet5").input_size == 32


# ------------------------------------------------------------------------------------------ build sweep
@pytest.mark.parametrize("name", ZOO)
def test_every_entry_builds_untrained_and_gives_the_right_shape(name):
    """One real build per entry (then dropped: holding all twenty would take ~4 GB)."""
    spec = M.get_spec(name)
    model = M.build(name, weights="none")
    assert not model.training
    size = _small_size(name)
    with torch.no_grad():
        out = model(torch.rand(2, 3, size, size))
    assert isinstance(out, torch.Tensor)
    assert out.shape == (2, spec.default_num_classes)
    assert torch.isfinite(out).all()
    # the module paths of the spec exist in the built model
    M.get_module(model, spec.default_cam_layer)
    M.get_module(model, spec.signature)
    # the meta-device summary counts the same parameters as the real model
    assert M.arch_facts(name)["params"] == sum(p.numel() for p in model.parameters())
    # stages partition the parameters and end with every replaced head
    stages = M.trainable_stages(model, name)
    ids = [id(p) for _, mod in stages for p in mod.parameters()]
    assert len(ids) == len(set(ids)), "a parameter is in two stages"
    assert set(ids) == {id(p) for p in model.parameters()}, "stages miss parameters"
    head_ids = {id(p) for p in stages[-1][1].parameters()}
    for path in spec.head:
        assert {id(p) for p in M.get_module(model, path).parameters()} <= head_ids


def test_model_is_not_shared_between_builds():
    a, b = M.build("lenet5"), M.build("lenet5")
    assert a.features[0].weight.data_ptr() != b.features[0].weight.data_ptr()


# ------------------------------------------------------------------------------------------ metadata
@pytest.mark.parametrize("name", TV_NAMES)
def test_counted_params_and_macs_match_torchvision_meta(name):
    meta = W.tv_weights(M.get_spec(name)).meta
    facts = M.arch_facts(name)
    # torchvision counts GoogLeNet without its auxiliary heads and Inception-v3 with them
    assert meta["num_params"] in (facts["params"], facts["inference_params"])
    # torchvision's "_ops" (GFLOPS in its docs) is multiply-adds: our GMACs = FlopCounterMode / 2
    assert round(facts["gmacs"], 3) == pytest.approx(meta["_ops"], abs=0.0015)
    assert facts["gflops"] == pytest.approx(2 * facts["gmacs"], rel=1e-3)


def test_card_metadata_comes_from_weights_enums_and_timm():
    card = M.model_card("resnet50")
    assert card["acc1"] == W.tv_weights(M.get_spec("resnet50")).meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert card["file_size_mb"] > 50 and card["num_categories"] == 1000 and card["pretrained"]
    se = M.model_card("seresnet50")
    assert se["acc1"] is None and se["acc5"] is None and se["pretrained"]  # timm has no accuracy in its cfg
    assert M.categories("seresnet50")[0] == "tench" and len(M.categories("seresnet50")) == 1000
    assert M.model_card("lenet5")["pretrained"] is False and M.categories("lenet5") is None
    json.dumps(M.zoo())  # JSON-friendly


# ------------------------------------------------------------------------------------------ summary
@pytest.mark.parametrize("name", ZOO)
def test_per_layer_params_sum_to_the_total(name):
    s = M.summary(name, _small_size(name))
    assert sum(r.params for r in s.rows) == s.total_params
    assert 2 * sum(r.macs for r in s.rows) == s.flops
    assert s.output_shape == (1, M.get_spec(name).default_num_classes)


def test_aux_heads_appear_as_not_run_rows():
    s = M.summary("googlenet", 64)
    not_run = [r for r in s.rows if r.output_shape is None]
    assert not_run and all(r.name.startswith(("aux1", "aux2")) for r in not_run)
    assert s.params_not_run == sum(r.params for r in not_run) > 0


@pytest.mark.parametrize("name,size", [("alexnet", 16), ("lenet5", 31), ("inception_v3", 74), ("densenet121", 28)])
def test_too_small_input_is_an_input_error_naming_the_minimum(name, size):
    with pytest.raises(InputError, match=rf"input size {size} is too small for {name} \(min \d+ px\)"):
        M.summary(name, size)


@pytest.mark.parametrize("name", [n for n in NAMES if M.min_input_size(n) > 1])
def test_min_input_size_works(name):
    m = M.min_input_size(name)
    assert M.summary(name, m).output_shape is not None


@pytest.mark.parametrize("bad", ["x", 0, -3, 5000, "12.5", 12.5])
def test_bad_input_sizes(bad):
    with pytest.raises(InputError):
        M.summary("resnet18", bad)


def test_layer_table_removes_hooks_even_when_the_forward_fails():
    model = _real_model("alexnet")
    with pytest.raises(RuntimeError):
        layer_table(model, 16)
    assert all(not m._forward_hooks for m in model.modules())
    layer_table(model, 64)
    assert all(not m._forward_hooks for m in model.modules())


def test_known_numbers_of_lenet():
    s = M.summary("lenet5")
    rows = {r.name: r for r in s.rows}
    assert rows["features.0"].output_shape == (1, 6, 28, 28)
    assert rows["features.0"].macs == 28 * 28 * 6 * 3 * 25  # H·W·C_out·C_in·k²
    assert rows["features.5"].output_shape == (1, 16, 5, 5)
    assert s.total_params == 62006


# ------------------------------------------------------------------------------------------ heads
@pytest.mark.parametrize("name", ZOO)
def test_num_classes_replaces_every_head(name):
    spec = M.get_spec(name)
    model = _meta_build(name, num_classes=7)
    for path in spec.head:
        assert M.get_module(model, path).out_features == 7
    size = 299 if spec.aux_logits else _small_size(name)  # Inception's aux head needs 299 px in train mode
    x = torch.zeros(2, 3, size, size, device="meta")
    with torch.no_grad():
        assert model(x).shape == (2, 7)
        if spec.aux_logits:
            model.train()
            out = model(x)
            assert all(t.shape == (2, 7) for t in out if t is not None)
            assert len([t for t in out if t is not None]) == len(spec.head)
            assert type(out).__name__ in ("GoogLeNetOutputs", "InceptionOutputs")


@pytest.mark.parametrize("name", ZOO)
def test_replace_head_swaps_every_head(name):
    """The path used after loading pretrained weights (1000 classes -> K), aux heads included."""
    spec = M.get_spec(name)
    model = M.replace_head(_meta_build(name), name, 3)
    for path in spec.head:
        assert M.get_module(model, path).out_features == 3
    size = 299 if spec.aux_logits else _small_size(name)
    x = torch.zeros(2, 3, size, size, device="meta")
    with torch.no_grad():
        assert model(x).shape == (2, 3)
        model.train()
        out = model(x)
        if spec.aux_logits:
            assert all(t.shape == (2, 3) for t in out)


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "mobilenet_v3_small", "seresnet18",
                                  pytest.param("googlenet", marks=pytest.mark.slow)])
def test_replace_head_on_a_real_model_keeps_the_backbone(name):
    model = M.build(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    M.replace_head(model, name, 4)
    after = model.state_dict()
    heads = tuple(h + "." for h in M.get_spec(name).head)
    for k, v in before.items():
        if not k.startswith(heads):
            assert torch.equal(after[k], v), k
    size = _small_size(name)
    model.train()
    out = model(torch.rand(2, 3, size, size))  # a training step's forward: aux outputs for GoogLeNet
    if name == "googlenet":
        assert type(out).__name__ == "GoogLeNetOutputs"
        assert out.logits.shape == out.aux_logits1.shape == out.aux_logits2.shape == (2, 4)
        out.logits.sum().backward()
    else:
        assert out.shape == (2, 4)
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, size, size)).shape == (1, 4)


def test_bad_num_classes():
    for bad in (0, -1, 2.5, "x"):
        with pytest.raises(InputError):
            M.build("lenet5", num_classes=bad)


# ------------------------------------------------------------------------------------------ weights
def _seed_tv_cache(name: str, state_dict=None) -> tuple[str, dict]:
    """Save a random state dict where torchvision expects the pretrained file (TORCH_HOME/hub/checkpoints)."""
    from torchvision.models import get_model

    spec = M.get_spec(name)
    kwargs = {"aux_logits": True, "init_weights": False} if spec.aux_logits else {}
    sd = state_dict if state_dict is not None else get_model(spec.tv_name, **kwargs).state_dict()
    path = W.weights_cache_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(sd, path)
    return str(path), sd


def test_pretrained_loads_from_a_preseeded_torchvision_cache(offline, tmp_path):
    assert M.weights_status("resnet18") == "downloadable"
    path, sd = _seed_tv_cache("resnet18")
    assert path.startswith(str(tmp_path / "torch" / "hub" / "checkpoints"))
    assert os.path.basename(path) == "resnet18-f37072fd.pth"  # the name torchvision itself looks for
    assert M.weights_status("resnet18") == "cached"
    model = M.build("resnet18", weights="default")
    assert all(torch.equal(model.state_dict()[k], v) for k, v in sd.items())
    tuned = M.build("resnet18", weights="default", num_classes=3)
    assert tuned.fc.out_features == 3 and torch.equal(tuned.conv1.weight, sd["conv1.weight"])
    assert offline == []  # no download attempted


def test_densenet_old_checkpoint_keys_are_fixed_up(offline):
    from torchvision.models import densenet121

    sd = densenet121().state_dict()
    # Old checkpoints say "norm.1.weight" and carry no num_batches_tracked (BatchNorm fills it in).
    old = {k.replace("norm1.", "norm.1.").replace("conv1.", "conv.1.") if "denselayer" in k else k: v
           for k, v in sd.items() if not ("denselayer" in k and k.endswith("num_batches_tracked"))}
    assert old != sd
    _seed_tv_cache("densenet121", old)
    model = M.build("densenet121", weights="default")
    assert torch.equal(model.features.denseblock1.denselayer1.norm1.weight,
                       sd["features.denseblock1.denselayer1.norm1.weight"])


def test_googlenet_pretrained_keeps_aux_heads(offline):
    _, sd = _seed_tv_cache("googlenet")
    model = M.build("googlenet", weights="default", num_classes=5)
    assert model.aux1.fc2.out_features == 5 and model.transform_input
    assert torch.equal(model.aux1.fc1.weight, sd["aux1.fc1.weight"])


def test_weights_unavailable_when_not_cached_and_offline(offline, tmp_path):
    with pytest.raises(M.WeightsUnavailable, match="could not download.*offline"):
        M.build("mobilenet_v3_small", weights="default")
    assert len(offline) == 1
    ckpt = tmp_path / "torch" / "hub" / "checkpoints"
    assert not ckpt.exists() or not any(ckpt.iterdir())  # no partial file left behind
    with pytest.raises(M.WeightsUnavailable, match="no pretrained weights"):
        M.build("lenet5", weights="default")
    with pytest.raises(M.WeightsUnavailable, match="no pretrained weights"):
        M.download_weights("seresnet18")
    with pytest.raises(M.WeightsUnavailable, match="Hugging Face"):
        M.build("seresnet50", weights="default")


class _FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


class _FakeWeights:
    """Stands in for a torchvision weights enum member whose URL hash matches our local bytes."""

    def __init__(self, url: str):
        self.url = url

    def get_state_dict(self, *args, **kwargs):
        from torch.hub import load_state_dict_from_url

        return load_state_dict_from_url(self.url, *args, **kwargs)


def test_download_reports_progress_checks_the_hash_and_lands_where_torchvision_looks(offline, monkeypatch, tmp_path):
    from torchvision.models import mobilenet_v3_small

    buf = io.BytesIO()
    sd = mobilenet_v3_small().state_dict()
    torch.save(sd, buf)
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    fake = _FakeWeights(f"https://download.pytorch.org/models/mobilenet_v3_small-{sha[:8]}.pth")
    monkeypatch.setattr(TORCHVISION, "enum", lambda spec: fake)  # every torchvision question now sees the fake
    monkeypatch.setattr(W, "_CHUNK", 1 << 16)
    monkeypatch.setattr(W, "_urlopen", lambda url, timeout=30: _FakeResponse(data))
    seen = []
    model = M.build("mobilenet_v3_small", weights="default", progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data)) and len(seen) > 3
    assert torch.equal(model.classifier[3].weight, sd["classifier.3.weight"])
    assert (tmp_path / "torch" / "hub" / "checkpoints" / f"mobilenet_v3_small-{sha[:8]}.pth").is_file()

    # corrupted download: refused, nothing left behind
    bad = _FakeWeights("https://download.pytorch.org/models/resnet18-00000000.pth")
    monkeypatch.setattr(TORCHVISION, "enum", lambda spec: bad)
    with pytest.raises(M.WeightsUnavailable, match="corrupted"):
        M.download_weights("resnet18")
    assert not (tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-00000000.pth").exists()
    assert not [p for p in (tmp_path / "torch" / "hub" / "checkpoints").iterdir() if p.name.endswith(".partial")]


def _seed_hf_cache(root, repo: str, filename: str, writer) -> None:
    """The Hugging Face hub cache layout: models--org--name/{refs/main, snapshots/<commit>/<file>}."""
    commit = "0" * 40
    folder = root / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    snap = folder / "snapshots" / commit
    snap.mkdir(parents=True)
    writer(snap / filename)


def test_timm_pretrained_loads_from_a_preseeded_hf_cache(offline, tmp_path):
    import timm
    from safetensors.torch import save_file

    sd = timm.create_model("seresnet50").state_dict()
    assert M.weights_status("seresnet50") == "downloadable"
    _seed_hf_cache(tmp_path / "hf", "timm/seresnet50.a1_in1k", "model.safetensors",
                   lambda p: save_file({k: v.contiguous() for k, v in sd.items()}, str(p)))
    assert M.weights_status("seresnet50") == "cached"
    model = M.build("seresnet50", weights="default", num_classes=5)
    assert model.fc.out_features == 5
    assert torch.equal(model.layer1[0].se.fc1.weight, sd["layer1.0.se.fc1.weight"])
    assert offline == []


# ------------------------------------------------------------------------------------------ files, safety
class _Evil:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_malicious_pickle_is_refused_as_a_user_file_and_in_the_cache(offline, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"fc.weight": torch.zeros(2, 2), "payload": _Evil(str(marker))}, evil)
    with pytest.raises(M.WeightsFileError, match="refused"):
        M.build("resnet18", weights=str(evil))
    assert not marker.exists()
    # the same file planted under the cache name torchvision would load
    path = W.weights_cache_path("resnet18")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(evil.read_bytes())
    with pytest.raises(M.WeightsFileError, match="refused"):
        M.build("resnet18", weights="default")
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_state_dict_files_round_trip_and_infer_the_class_count(tmp_path, suffix):
    from safetensors.torch import save_file

    src = M.build("lenet5", num_classes=4)
    path = tmp_path / f"lenet{suffix}"
    if suffix == ".pt":
        torch.save({"model": {f"module.{k}": v for k, v in src.state_dict().items()}}, path)  # wrapped, DDP
    else:
        save_file(src.state_dict(), str(path), metadata={"classes": json.dumps(["a", "b", "c", "d"])})
    model = M.build("lenet5", weights=str(path))
    assert model.classifier[3].out_features == 4
    assert all(torch.equal(model.state_dict()[k], v) for k, v in src.state_dict().items())
    pred = M.predict(model, Image.new("RGB", (40, 40), "white"), arch="lenet5", weights=str(path), topk=4)
    assert pred.trained and pred.weights == f"file:lenet{suffix}"
    labels = {p["label"] for p in pred.topk}
    assert labels == ({"a", "b", "c", "d"} if suffix == ".safetensors" else {f"class {i}" for i in range(4)})


def test_wrong_files_give_clear_errors(tmp_path):
    other = tmp_path / "resnet.pt"
    torch.save(M.build("lenet5").state_dict(), other)
    with pytest.raises(M.WeightsFileError, match="not a ResNet-18 state dict|does not fit"):
        M.build("resnet18", weights=str(other))
    with pytest.raises(M.WeightsFileError, match="not found"):
        M.build("lenet5", weights=str(tmp_path / "missing.pt"))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(M.WeightsFileError):
        M.build("lenet5", weights=str(junk))
    bad_st = tmp_path / "junk.safetensors"
    bad_st.write_bytes(b"garbage")
    with pytest.raises(M.WeightsFileError):
        M.build("lenet5", weights=str(bad_st))
    with pytest.raises(M.WeightsFileError, match=".safetensors, .pt or .pth"):
        M.build("lenet5", weights=str(tmp_path / "x.txt"))
    assert issubclass(M.WeightsFileError, PlaygroundError)


# ------------------------------------------------------------------------------------------ preprocess, predict
def test_preprocess_shapes_and_normalisation():
    img = Image.new("RGB", (123, 77), (124, 116, 104))  # ≈ the ImageNet mean colour
    x = M.preprocess("lenet5")(img)
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert x.abs().max() < 0.05  # mean colour -> ~0 after normalisation
    t = M.preprocess("efficientnet_b3", "default")(img)
    assert t.shape == (3, 300, 300)
    assert M.preprocess("seresnet50", "default")(img).shape == (3, 224, 224)
    u8 = torch.randint(0, 256, (3, 50, 60), dtype=torch.uint8)  # data sets hand out uint8 tensors
    assert M.preprocess("resnet18")(u8).shape == (3, 224, 224)
    assert M.IMAGENET_MEAN == (0.485, 0.456, 0.406) and len(M.IMAGENET_STD) == 3


def test_predict_untrained_is_flagged():
    img = Image.new("RGB", (64, 48), "red")
    pred = M.predict(_real_model("lenet5"), img, arch="lenet5", topk=5)
    assert not pred.trained and "meaningless" in pred.note
    probs = [p["prob"] for p in pred.topk]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    assert pred.latency_ms > 0 and pred.device == "cpu" and pred.input_shape == (1, 3, 32, 32)
    assert pred.topk[0]["label"].startswith("class ")
    with pytest.raises(InputError):
        M.predict(_real_model("lenet5"), img, arch="lenet5", topk=0)


def test_predict_pretrained_uses_imagenet_categories(offline):
    _seed_tv_cache("mobilenet_v3_small")
    pred = M.classify("mobilenet_v3_small", Image.new("RGB", (64, 64), "blue"), weights="default", topk=3)
    cats = set(M.categories("mobilenet_v3_small"))
    assert pred.trained and pred.note == "" and all(p["label"] in cats for p in pred.topk)


# ------------------------------------------------------------------------------------------ receptive fields
def test_stacked_3x3_lesson_is_computed_from_modules():
    lessons = {c.big_kernel: c for c in kernel_lessons(64)}
    for k, n in ((5, 2), (7, 3), (11, 5)):
        c = lessons[k]
        assert c.n_small == n and c.rf_big == c.rf_stack == k
        assert c.params_big == k * k * 64 * 64 and c.params_stack == n * 9 * 64 * 64
    assert lessons[7].params_ratio == pytest.approx(27 / 49)
    with pytest.raises(InputError):
        compare_stack(3, 3)


def test_theoretical_receptive_field_matches_backprop():
    stack = nn.Sequential(*[nn.Conv2d(2, 2, 3) for _ in range(3)])
    assert receptive_field(stack) == empirical_receptive_field(stack, 32) == 7
    strided = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, dilation=2))
    assert receptive_field(strided) == empirical_receptive_field(strided, 48) == 1 + 2 + 2 * 2 + 2 * 2 * 2


def test_alexnet_and_vgg_receptive_fields():
    alex = features_receptive_field("alexnet")
    vgg = features_receptive_field("vgg16")
    assert [r["receptive_field"] for r in alex] == sorted(r["receptive_field"] for r in alex)
    assert sum(r["type"] == "Conv2d" for r in alex) == 5 and sum(r["type"] == "Conv2d" for r in vgg) == 13
    model = _real_model("alexnet")
    assert alex[-1]["receptive_field"] == receptive_field(model.features)
    assert alex[0]["receptive_field"] == 11  # the 11×11 first layer
    assert features_receptive_field("resnet18") is None  # branches: not a plain chain
