"""AppTest for views/architectures.py: card, per-layer table, compare view, classify (sample + upload), weights.

Nothing touches the network: downloads are made to fail (or the cache is pre-seeded with a local file).
"""
from __future__ import annotations

import io
import urllib.error
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

import core.models.weights as W

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "architectures.py")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """Each test gets an empty weights cache and a network that refuses."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(W, "_urlopen", refuse)
    monkeypatch.setattr(W, "_hf_download", refuse)
    monkeypatch.setattr(W, "hub_unreachable", lambda timeout=3.0: "network disabled in tests")


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_model_card_for_chosen_architecture():
    at = _app()
    at.selectbox(key="arch_name").set_value("googlenet").run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Parameters"] == "6.62 M"  # the inference count, as on Compare
    text = " ".join(m.value for m in at.markdown)
    assert "6.62 M at inference, 13.00 M with the auxiliary heads used in training" in text  # plain text, not a tooltip
    assert labels["ImageNet top-1"] == "69.8 %"
    assert any("Inception module" in s.value for s in at.subheader)
    assert at.code and "Inception(" in at.code[0].value
    assert at.dataframe  # per-layer table
    # Change the input size: a new table, no exception
    at.number_input(key="arch_input_size_googlenet").set_value(64).run()
    assert not at.exception, at.exception
    assert any("64×64" in c.value for c in at.caption)


def test_download_offline_shows_clear_error():
    at = _app()
    at.selectbox(key="arch_name").set_value("mobilenet_v3_small").run()
    at.button(key="arch_download").click().run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "could not download" in errors and "offline" in errors


def test_card_without_pretrained_weights():
    at = _app()
    at.selectbox(key="arch_name").set_value("lenet5").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["ImageNet top-1"] == "—"
    assert any("untrained" in i.value for i in at.info)


def test_compare_view():
    at = _app()
    at.radio(key="arch_view").set_value("Compare").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 2
    table = at.dataframe[0].value  # the zoo table, then the receptive-field table
    assert len(table) == 20
    at.select_slider(key="arch_rf_channels").set_value(128).run()
    assert not at.exception, at.exception
    rf = at.dataframe[1].value
    assert list(rf["receptive field"]) == ["5 px = 5 px", "7 px = 7 px", "11 px = 11 px"]


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


def test_classify_untrained_with_upload_hides_predictions():
    at = _app()
    at.selectbox(key="arch_name").set_value("lenet5").run()
    at.radio(key="arch_view").set_value("Classify").run()
    assert not at.exception, at.exception
    at.radio(key="arch_src").set_value("Upload").run()
    at.file_uploader(key="arch_upload").set_value(("red.png", _png_bytes(), "image/png")).run()
    assert not at.exception, at.exception
    assert any("Predictions hidden" in w.value for w in at.warning)
    assert any(m.label.startswith("Forward pass on") for m in at.metric)
    assert not at.get("plotly_chart")  # no noise shown


def test_classify_bad_upload_is_a_clear_error():
    at = _app()
    at.selectbox(key="arch_name").set_value("lenet5").run()
    at.radio(key="arch_view").set_value("Classify").run()
    at.radio(key="arch_src").set_value("Upload").run()
    at.file_uploader(key="arch_upload").set_value(("x.png", b"not an image at all", "image/png")).run()
    assert not at.exception, at.exception
    assert at.error


def test_classify_pretrained_from_seeded_cache(tmp_path):
    """Pre-seed torchvision's cache with a (random) state dict under the expected file name."""
    from torchvision.models import mobilenet_v3_small

    path = W.weights_cache_path("mobilenet_v3_small")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(mobilenet_v3_small().state_dict(), path)
    at = _app()
    at.selectbox(key="arch_name").set_value("mobilenet_v3_small").run()
    at.radio(key="arch_view").set_value("Classify").run()
    assert not at.exception, at.exception
    assert at.radio(key="arch_weights").value == "Pretrained (ImageNet)"
    assert any("cached" in s.value for s in at.success)
    charts = at.get("plotly_chart")
    assert len(charts) == 1  # the top-5 bar chart


def test_lenet_flops_use_a_unit_that_shows_the_number():
    at = _app()
    at.selectbox(key="arch_name").set_value("lenet5").run()
    metrics = {m.label: m.value for m in at.metric}
    flops = metrics["FLOPs at 32 px"]
    value, unit = flops.split()
    assert unit in ("kFLOPs", "MFLOPs") and float(value) >= 1, flops  # was "GFLOPs at 32 px: 0.00"
    assert not any("0.000 GFLOPs" in c.value for c in at.caption)
    assert not any("auxiliary heads" in m.value for m in at.markdown)  # LeNet-5 has none


def test_compare_chart_rings_only_the_selected_model_and_labels_do_not_collide():
    import json

    at = _app()
    at.selectbox(key="arch_name").set_value("vgg16").run()
    at.radio(key="arch_view").set_value("Compare").run()
    assert not at.exception, at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    rings = [t for t in fig["data"] if t.get("marker", {}).get("symbol") == "circle-open"]
    assert len(rings) == 1 and len(rings[0]["x"]) == 1 and rings[0]["name"] == "selected: VGG-16"
    for t in fig["data"]:
        if t is not rings[0]:
            line = t["marker"].get("line", {})
            assert line.get("color") != "red"
    shown = [x for t in fig["data"] if t is not rings[0] for x in t["text"] if x]
    assert "VGG-16" in shown and 10 <= len(shown) <= 20
    table = at.dataframe[0].value
    assert not table.isna().any().any()
    values = {str(v) for col in ("top-1 %", "top-5 %") for v in table[col]}
    assert "None" not in values and "nan" not in values and "—" in values
    assert any("no published ImageNet accuracy" in c.value for c in at.caption)
