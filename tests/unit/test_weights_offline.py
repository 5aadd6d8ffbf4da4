"""Issue 8.8: offline, pretrained weights fail in seconds and the message names the exact file to copy in.

Nothing here touches the network: the connection test is given a socket that fails like a machine
without DNS, and the hub client is replaced by a function that records being called.
"""
from __future__ import annotations

import socket
import time

import pytest
import torch

import core.models as M
import core.models.weights as W


@pytest.fixture
def caches(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    calls = {"hub": 0, "socket": []}

    def hub(**kwargs):
        calls["hub"] += 1
        time.sleep(24)  # what huggingface_hub's retries cost offline: the test fails by timing if we get here
        raise OSError("offline")

    def no_dns(address, timeout=None, *args, **kwargs):
        calls["socket"].append((address, timeout))
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(W, "_hf_download", hub)
    monkeypatch.setattr(socket, "create_connection", no_dns)
    monkeypatch.setattr(W, "_urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("network disabled")))
    return calls


def test_timm_weights_offline_fail_fast_and_name_the_path(caches, tmp_path):
    start = time.perf_counter()
    with pytest.raises(W.WeightsUnavailable) as info:
        W.download_weights("seresnet50")
    assert time.perf_counter() - start < 5
    assert caches["hub"] == 0  # the hub client (and its retries) never ran
    (address, timeout), = caches["socket"]
    assert address == ("huggingface.co", 443) and timeout <= 3
    msg = str(info.value)
    target = tmp_path / "torch" / "hub" / "checkpoints" / "seresnet50.a1_in1k.safetensors"
    assert str(target) in msg and "Name or service not known" in msg
    assert "https://huggingface.co/timm/seresnet50.a1_in1k/resolve/main/model.safetensors" in msg


def test_hf_hub_offline_skips_even_the_connection_test(caches, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(W.WeightsUnavailable, match="HF_HUB_OFFLINE"):
        W.download_weights("seresnet50")
    assert caches["socket"] == [] and caches["hub"] == 0


def test_torchvision_offline_message_names_its_cache_file(caches, tmp_path):
    with pytest.raises(W.WeightsUnavailable) as info:
        W.download_weights("resnet18")
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in str(info.value)


def test_a_file_copied_to_the_named_path_loads_offline(caches):
    import timm
    from safetensors.torch import save_file

    target = W.manual_weights_path("seresnet50")
    assert M.weights_status("seresnet50") == "downloadable"
    sd = timm.create_model("seresnet50").state_dict()
    target.parent.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in sd.items()}, str(target))
    assert M.weights_status("seresnet50") == "cached" and W.weights_cache_path("seresnet50") == target
    model = M.build("seresnet50", weights="default", num_classes=3)
    assert torch.equal(model.layer1[0].se.fc1.weight, sd["layer1.0.se.fc1.weight"])
    assert caches["hub"] == 0 and caches["socket"] == []
