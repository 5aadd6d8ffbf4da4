"""AppTest for views/receptive_fields.py: the unit's field, global SE layers, bad sizes, the effective field.

Expected numbers come from core.receptive_field (itself checked against gradient supports), never typed here.
"""
from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import core.models.weights as W
from core.receptive_field import receptive_fields, unit_field

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "receptive_fields.py")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """An empty weights cache and a network that refuses: the page must work with untrained models."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(tmp_path / "runs"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(W, "_urlopen", refuse)
    monkeypatch.setattr(W, "_hf_download", refuse)


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _pick(at, arch: str, size: int, layer: str):
    at.selectbox(key="rf_arch").set_value(arch).run()
    at.number_input(key=f"rf_size_Zoo architecture_{arch}").set_value(size).run()
    at.selectbox(key=f"rf_layer_{arch}_{size}").set_value(layer).run()
    assert not at.exception, at.exception
    return at


def test_default_page_draws_the_field_of_the_centre_unit():
    at = _app()
    row = receptive_fields("resnet18", 224).get("layer4")
    assert row.size[0] == row.size[1] and _metrics(at)["Receptive field"] == f"{row.size[0]} px"
    assert _metrics(at)["Jump (stride so far)"] == f"{row.jump[0]} px"
    u = unit_field(row, row.shape[0] // 2, row.shape[1] // 2, 224)
    assert _metrics(at)["In padding"] == f"{u.padding_share:.0%}"
    assert len(at.get("plotly_chart")) >= 3  # field on the image, growth chart, feature maps
    assert not at.error


@pytest.mark.slow  # gradient fields of a real network
def test_corner_unit_reaches_into_the_padding():
    at = _pick(_app(), "vgg16", 224, "features.28")
    at.slider(key="rf_row_vgg16_224_features.28").set_value(0).run()
    at.slider(key="rf_col_vgg16_224_features.28").set_value(0).run()
    assert not at.exception, at.exception
    row = receptive_fields("vgg16", 224).get("features.28")
    u = unit_field(row, 0, 0, 224)
    assert u.padding_share > 0.5
    m = _metrics(at)
    assert m["Receptive field"] == "196 px" and m["In padding"] == f"{u.padding_share:.0%}"
    caption = " ".join(c.value for c in at.caption)
    assert f"sees rows 0–{u.clipped_box[2]}" in caption


def test_se_block_makes_the_field_global():
    at = _pick(_app(), "seresnet18", 224, "layer2")
    assert _metrics(at)["Receptive field"] == "global"


def test_too_small_input_is_a_message_not_a_traceback():
    at = _app()
    at.selectbox(key="rf_arch").set_value("alexnet").run()
    at.number_input(key="rf_size_Zoo architecture_alexnet").set_value(40).run()
    assert not at.exception, at.exception
    assert any("too small for alexnet (min 63 px)" in e.value for e in at.error)


@pytest.mark.slow  # gradient fields of a real network
def test_effective_field_of_an_untrained_network():
    at = _pick(_app(), "lenet5", 32, "features.3")
    at.slider(key="rf_erf_n").set_value(2).run()
    at.button(key="rf_erf_go").click().run()
    assert not at.exception, at.exception
    share = _metrics(at)["95 % of the gradient on"]
    assert share.endswith("% of the field") and 0 < int(share.split("%")[0]) <= 100
