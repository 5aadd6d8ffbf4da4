"""`python -m core augment` and `python -m core cutmix`: outputs, JSON and clean errors (exit 2, one line)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.__main__ import main


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a.png", tmp_path / "b.jpg"
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(a)
    Image.fromarray(rng.integers(0, 255, (30, 30, 3), dtype=np.uint8)).save(b)
    return a, b


def test_augment_writes_tiles_and_prints_drawn_params(photos, tmp_path, capsys):
    out = tmp_path / "tiles"
    rc = main(["augment", "--image", str(photos[0]), "--pipeline", "randaugment", "--n", "3", "--seed", "5",
               "--out", str(out), "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["seed"] for t in data["tiles"]] == [5, 6, 7]
    assert "RandAugment" in data["tiles"][0]["caption"]
    assert sorted(p.name for p in out.iterdir()) == ["tile_000.png", "tile_001.png", "tile_002.png", "tiles.json"]
    assert Image.open(out / "tile_000.png").size == (60, 40)


def test_augment_with_json_file_and_mixing(photos, tmp_path, capsys):
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"steps": [{"name": "hflip"}], "mixing": {"name": "mixup"}}))
    rc = main(["augment", "--image", str(photos[0]), "--image", str(photos[1]), "--pipeline", str(spec),
               "--n", "4", "--out", str(tmp_path / "o")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "MixUp: λ =" in text and (tmp_path / "o" / "mixed_003.png").is_file()


def test_cutmix_prints_lambda_box_soft_label(photos, tmp_path, capsys):
    out = tmp_path / "mixed.png"
    rc = main(["cutmix", "--image", str(photos[0]), "--image", str(photos[1]), "--labels", "0,2",
               "--num-classes", "3", "--seed", "1", "--json", "--out", str(out)])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    x1, y1, x2, y2 = data["box"]
    assert data["lam"] == pytest.approx(1 - (x2 - x1) * (y2 - y1) / (40 * 60), abs=1e-5)
    assert data["soft_label"] == pytest.approx([data["lam"], 0.0, 1 - data["lam"]], abs=1e-5)
    assert Image.open(out).size == (60, 40)


@pytest.mark.parametrize("argv, words", [
    (["augment", "--image", "{a}", "--pipeline", "{{\"steps\": [{{\"name\": \"spin\"}}]}}"], "unknown augmentation"),
    (["augment", "--image", "{a}", "--pipeline", "nope"], "is not a preset"),
    (["augment", "--image", "{t}/missing.png"], "error:"),
    (["cutmix", "--image", "{a}", "--image", "{b}", "--labels", "0,x"], "two whole numbers"),
    (["cutmix", "--image", "{a}", "--image", "{b}", "--labels", "0,3", "--num-classes", "2"], "too small"),
    (["cutmix", "--image", "{a}"], "exactly two images"),
])
def test_cli_errors_are_one_line_exit_2(photos, tmp_path, capsys, argv, words):
    argv = [x.format(a=photos[0], b=photos[1], t=tmp_path) for x in argv]
    rc = main(argv + (["--out", str(tmp_path / "x.png")] if argv[0] == "cutmix" else []))
    err = capsys.readouterr().err
    assert rc == 2 and words in err and "Traceback" not in err and err.count("\n") == 1
