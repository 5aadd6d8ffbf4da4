"""AppTest for the entry file: navigation builds and the home page renders computed facts."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_home_renders_device_and_samples():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert at.title[0].value.endswith("CNN Playground")
    labels = [m.label for m in at.metric]
    assert "Compute device" in labels
    assert at.metric[0].value in {"CPU", "CUDA", "MPS"}
    text = " ".join(m.value for m in at.markdown)
    assert "Pretrained ImageNet weights" in text
