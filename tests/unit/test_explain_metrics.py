"""Faithfulness metrics (deletion/insertion, pointing game, sanity check) and the explain / pointing-game CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.explain import explain
from core.explain.metrics import (deletion_insertion, normalise_uint8, point_hit, pointing_game, sanity_check,
                                  spearman)
from tests.unit.test_explain import Tiny, _x

torch.set_num_threads(1)


def test_point_hit_unique_max_and_fair_ties():
    mask = np.zeros((4, 4), bool)
    mask[:2, :2] = True
    m = np.zeros((4, 4))
    m[0, 0] = 1
    assert point_hit(m, mask) == 1.0
    m[0, 0], m[3, 3] = 0, 1
    assert point_hit(m, mask) == 0.0
    m[0, 1] = 1  # two tied maxima, one inside: a random tie-break hits half the time
    assert point_hit(m, mask) == 0.5
    assert point_hit(np.zeros((4, 4)), mask) == mask.mean()  # a blank map scores like a random point


def test_deletion_insertion_curves_end_where_they_must():
    model = Tiny().eval()
    x = _x(0)
    e = explain(model, x, "gradcam", layer="conv2", target=0)
    c = deletion_insertion(model, x, e.map, 0, steps=8)
    assert len(c["fractions"]) == len(c["deletion"]) == len(c["insertion"]) == 9
    p = torch.softmax(model(x), 1)[0, 0].item()
    assert c["deletion"][0] == pytest.approx(p, abs=1e-5) and c["insertion"][-1] == pytest.approx(p, abs=1e-5)
    from core.explain.base import black_baseline

    assert c["deletion"][-1] == pytest.approx(torch.softmax(model(black_baseline(x)), 1)[0, 0].item(), abs=1e-5)
    assert 0 <= c["deletion_auc"] <= 1 and 0 <= c["insertion_auc"] <= 1


class MaskSet:
    """Three 16 px images with known masks (a Shapes stand-in)."""

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.images = (torch.rand(3, 3, 16, 16, generator=g) * 255).to(torch.uint8)
        self.masks = [np.zeros((16, 16), bool) for _ in range(3)]
        for i, m in enumerate(self.masks):
            m[i * 4:i * 4 + 6, 2:10] = True

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return self.images[i], i % 3

    def mask(self, i):
        return self.masks[i]


def test_pointing_game_matches_per_image_hits():
    model, data = Tiny().eval(), MaskSet()
    res = pointing_game(model, data, "gradcam", n=3, layer="conv2")
    expected = [point_hit(explain(model, normalise_uint8(data[i][0][None]), "gradcam", layer="conv2",
                                  target=data[i][1]).map, data.mask(i)) for i in range(3)]
    assert res.hits == expected and res.hit_rate == pytest.approx(np.mean(expected))
    assert res.random_hit_rate == pytest.approx(np.mean([m.mean() for m in data.masks]))
    assert res.n == 3 and res.layer == "conv2"


def test_sanity_check_randomises_a_copy_only():
    model = Tiny().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    steps = sanity_check(model, _x(1), "gradcam", layer="conv2", target=0,
                         stages=[("conv1", ("conv1",)), ("conv2", ("conv2",)), ("fc", ("fc",))])
    assert [s["stage"] for s in steps] == ["original", "fc", "conv2", "conv1"]
    assert steps[0]["spearman"] == 1.0
    assert all(np.isnan(s["spearman"]) or -1 <= s["spearman"] <= 1 for s in steps)
    assert any(not np.isnan(s["spearman"]) and s["spearman"] < 0.9 for s in steps[1:])  # the map notices
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert np.isnan(spearman(np.zeros((2, 2)), np.ones((2, 2))))


# ------------------------------------------------------------------------------------------------ CLI
@pytest.fixture
def lenet_run(tmp_path):
    from core.data.shapes import CLASSES
    from core.models import build
    from core.runs import store
    from core.train.config import TrainConfig

    cfg = TrainConfig.from_preset("shapes-lenet5", dataset_options={"n": 60}, image_size=32)
    run_dir = store.create_run(cfg, tmp_path / "runs")
    torch.manual_seed(0)
    store.save_checkpoint(run_dir, build("lenet5", num_classes=6, weights="none").state_dict(),
                          {"step": 1, "classes": list(CLASSES)}, best=True)
    store.write_status(run_dir, state="completed", pid=None)
    return run_dir


@pytest.fixture
def photo(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray((np.random.RandomState(0).rand(48, 40, 3) * 255).astype("uint8")).save(path)
    return path


def _cli(args, capsys):
    from core.__main__ import main

    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_explain_saves_the_map(lenet_run, photo, tmp_path, capsys):
    out_file = tmp_path / "m.npy"
    rc, out, err = _cli(["explain", "--checkpoint", str(lenet_run), "--image", str(photo), "--method", "gradcam",
                         "--target", "star", "--out", str(out_file), "--json"], capsys)
    assert rc == 0, err
    info = json.loads(out)
    assert info["label"] == "star" and info["layer"] == "features.5" and info["native_shape"] == [5, 5]
    m = np.load(out_file)
    assert m.shape == (32, 32) and (m >= 0).all()


@pytest.mark.parametrize("extra, message", [
    (["--layer", "nope"], "unknown layer 'nope'; layers with feature maps: features"),
    (["--layer", "classifier.1"], "not a convolutional layer"),
    (["--target", "6"], "out of range"),
    (["--target", "rhombus"], "unknown class name 'rhombus'"),
    (["--arch", "resnet18"], "is a lenet5 run, not resnet18"),
])
def test_cli_explain_bad_input_is_one_error_line(lenet_run, photo, capsys, extra, message):
    rc, out, err = _cli(["explain", "--checkpoint", str(lenet_run), "--image", str(photo), *extra], capsys)
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_cli_explain_image_too_small(tmp_path, capsys):
    from PIL import Image

    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (20, 20)).save(tiny)
    rc, _, err = _cli(["explain", "--arch", "lenet5", "--weights", "none", "--image", str(tiny)], capsys)
    assert rc == 2 and "smaller than this model's minimum input of 32 px" in err


def test_cli_pointing_game_json(lenet_run, capsys):
    rc, out, err = _cli(["pointing-game", "--checkpoint", str(lenet_run), "--method", "gradcam", "--n", "6",
                         "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    assert set(res) >= {"hit_rate", "random_hit_rate", "layer", "n"} and res["n"] == 6
    assert 0 <= res["hit_rate"] <= 1 and 0 < res["random_hit_rate"] < 1 and res["layer"] == "features.5"
