"""``python -m core models | summary | predict`` through a real subprocess: JSON, tables, clean errors.

The environment from tests/conftest.py (temporary TORCH_HOME / HF_HOME / CNNPG_HOME, HF offline) is inherited,
so nothing is written into the repo and no weights are downloaded (only ``--weights none`` is used here).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )


class _InProcess:
    """``python -m core ARGS`` in this process (no 8 s torch import per call) with the same exit-code contract."""

    def __init__(self, capsys, *args: str):
        from core.__main__ import main

        self.returncode = main(list(args))
        captured = capsys.readouterr()
        self.stdout, self.stderr = captured.out, captured.err


def _one_clean_error_line(proc, *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0]
    return lines[0]


@pytest.mark.slow  # `python -m core` subprocesses that import torch and build models
def test_models_json_lists_the_zoo():
    proc = _run("models", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) >= 15
    for r in rows:
        for key in ("name", "family", "year", "params", "gflops", "input_size", "acc1", "acc5",
                    "default_cam_layer", "pretrained"):
            assert key in r, key
        assert isinstance(r["params"], int) and r["params"] > 0 and r["gflops"] > 0
    by_name = {r["name"]: r for r in rows}
    assert {"LeNet", "AlexNet", "VGG", "GoogLeNet", "ResNet", "DenseNet", "SENet", "EfficientNet"} <= {
        r["family"] for r in rows}
    assert by_name["resnet18"]["params"] == 11689512 and by_name["resnet18"]["acc1"] == pytest.approx(69.758)
    assert by_name["seresnet50"]["acc1"] is None and by_name["lenet5"]["pretrained"] is False


def test_models_table_shows_lenet_flops_not_zero(capsys):
    """LeNet-5 costs under a million FLOPs: printed as GFLOPs with two decimals it read "0.00"."""
    from core.models import zoo
    from core.models.card import format_flops

    out = _InProcess(capsys, "models")
    assert out.returncode == 0, out.stderr
    lenet = next(ln for ln in out.stdout.splitlines() if ln.startswith("lenet5"))
    want = next(r for r in zoo() if r["name"] == "lenet5")["gflops"] * 1e9
    assert format_flops(want) in lenet
    assert ("kFLOPs" in lenet) or ("MFLOPs" in lenet)
    assert " 0.00 " not in lenet


@pytest.mark.slow  # `python -m core` subprocesses that import torch and build models
def test_summary_json_and_table(capsys):
    proc = _run("summary", "--arch", "lenet5", "--input-size", "32", "--json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["total_params"] == sum(r["params"] for r in s["rows"]) == 62006
    assert s["rows"][0] == {"name": "features.0", "type": "Conv2d", "output_shape": [1, 6, 28, 28],
                            "params": 456, "macs": 352800, "note": ""}
    table = _InProcess(capsys, "summary", "--arch", "LeNet-5")
    assert table.returncode == 0 and "features.0" in table.stdout and "62,006 parameters" in table.stdout


@pytest.mark.slow  # `python -m core` subprocesses that import torch and build models
def test_predict_on_a_sample_image(tmp_path, capsys):
    from core.samples import load_sample

    img = tmp_path / "cat.png"
    load_sample("cat").resize((96, 64)).save(img)
    proc = _run("predict", "--arch", "lenet5", "--image", str(img), "--weights", "none", "--topk", "3",
                "--device", "cpu", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["arch"] == "lenet5" and out["trained"] is False and "meaningless" in out["note"]
    assert len(out["topk"]) == 3 and out["latency_ms"] > 0
    text = _InProcess(capsys, "predict", "--arch", "lenet5", "--image", str(img), "--weights", "none", "--device", "cpu")
    assert text.returncode == 0 and "UNTRAINED" in text.stdout and "class " in text.stdout


@pytest.mark.slow  # `python -m core` subprocesses that import torch and build models
def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    # through a real process: the contract as a shell sees it
    _one_clean_error_line(_run("summary", "--arch", "resnet19"), "unknown architecture", "resnet18")
    _one_clean_error_line(_run("summary", "--arch", "alexnet", "--input-size", "16"),
                          "input size 16 is too small for alexnet (min 63 px)")
    # the rest in-process (same main(), same exit status and stderr)
    _one_clean_error_line(_InProcess(capsys, "summary", "--arch", "alexnet", "--input-size", "big"), "whole number")
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image")
    _one_clean_error_line(_InProcess(capsys, "predict", "--arch", "lenet5", "--image", str(bad), "--weights", "none"))
    _one_clean_error_line(_InProcess(capsys, "predict", "--arch", "nope", "--image", str(bad)), "unknown architecture")
    good = tmp_path / "ok.png"
    from PIL import Image

    Image.new("RGB", (40, 40)).save(good)
    _one_clean_error_line(
        _InProcess(capsys, "predict", "--arch", "lenet5", "--image", str(good), "--weights", str(tmp_path / "w.txt")),
        ".safetensors, .pt or .pth",
    )
    _one_clean_error_line(
        _InProcess(capsys, "predict", "--arch", "lenet5", "--image", str(good), "--weights", "none", "--topk", "0"),
        "--topk",
    )
