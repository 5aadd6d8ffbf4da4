"""The exported script reproduces the preview tiles exactly: exec'd in-process and run as a subprocess."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from core.augment import REGISTRY, image_specs, mix_preview, prepare_images, preview_grid, to_python

ALL_STEPS = {"steps": [{"name": s.name, "p": 0.8} for s in image_specs()],
             "mixing": {"name": "cutmix", "p": 0.9, "params": {"alpha": 1.0}}}
DONE_WHEN = {"steps": [{"name": "random_resized_crop"}, {"name": "randaugment", "params": {"num_ops": 2,
                                                                                            "magnitude": 9}}],
             "mixing": {"name": "cutmix"}}


def _photo(w, h, seed):
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w * h * 3).reshape(h, w, 3)
    return Image.fromarray((base * 0.7 + rng.integers(0, 70, (h, w, 3))).astype(np.uint8))


def _exec(code: str) -> dict:
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), ns)
    return ns


@pytest.mark.parametrize("spec", [ALL_STEPS, DONE_WHEN, "trivialaugment", "none"], ids=["all", "done", "ta", "none"])
def test_exec_generated_code_reproduces_tiles(spec):
    images = prepare_images([_photo(45, 31, 0), _photo(20, 40, 1)], max_side=0)
    tiles = preview_grid(images, spec, n=5, seed=9)
    ns = _exec(to_python(spec, seed=9, n=5, max_side=0))
    got = ns["preview"](images, 9, 5)
    for t, g in zip(tiles, got):
        assert torch.equal(t.image, g), t.caption


def test_generated_mixing_matches_preview_mixing():
    images = prepare_images([_photo(40, 30, 0), _photo(40, 30, 1)], max_side=0)
    tiles = preview_grid(images, DONE_WHEN, n=6, seed=4)
    ours = mix_preview([t.image for t in tiles], [i % 2 for i in range(6)], 2, {"name": "cutmix"}, seed=4 + 6)
    ns = _exec(to_python(DONE_WHEN, seed=4, n=6))
    mixed, soft = ns["preview_mixed"]([t.image for t in tiles], 2, 4, 6)
    assert all(torch.equal(a, b) for a, b in zip(ours.images, mixed))
    assert torch.allclose(ours.soft_labels, soft)


@pytest.mark.slow  # a Python subprocess
def test_generated_script_runs_in_a_subprocess_and_writes_the_same_tiles(tmp_path):
    a, b = _photo(300, 200, 3), _photo(120, 90, 4)
    a.save(tmp_path / "a.png")
    b.save(tmp_path / "b.png")
    spec = DONE_WHEN
    script = tmp_path / "pipeline.py"
    script.write_text(to_python(spec, seed=2, n=4, max_side=64))
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                          "--out", str(tmp_path / "tiles"), "--mix"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    images = prepare_images([a, b], max_side=64)
    assert images[0].shape == (3, 43, 64)
    tiles = preview_grid(images, spec, n=4, seed=2)
    for t in tiles:
        written = torch.from_numpy(np.array(Image.open(tmp_path / "tiles" / f"tile_{t.index:03d}.png"))).permute(2, 0, 1)
        assert torch.equal(written, t.image)
    assert (tmp_path / "tiles" / "mixed_003.png").is_file() and "soft label" in out.stdout


def test_code_is_readable_torchvision():
    code = to_python(DONE_WHEN)
    assert "v2.RandomResizedCrop(size=(height, width)" in code
    assert "v2.RandAugment(num_ops=2, magnitude=9" in code
    assert "v2.CutMix(alpha=1.0, num_classes=num_classes)" in code
    assert "torch.manual_seed(seed + i)" in code
    assert "core." not in code.replace("core.augment", "")  # standalone: no import of the playground
    compile(to_python({"steps": [{"name": "rotation", "p": 0.3}]}), "x.py", "exec")
    assert "RandomApply([v2.RandomRotation" in to_python({"steps": [{"name": "rotation", "p": 0.3}]})
    assert "RandomApply" not in to_python({"steps": [{"name": "hflip", "p": 0.3}]})  # its own p
    assert len(REGISTRY) >= 29
