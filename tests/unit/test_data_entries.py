"""Issue 14.3: one entry per data set (how to open and count it, its splits and options) and one augmentation
preset type; the old names (DATASETS, PRESETS, PRESET_DESCRIPTIONS) are views of those entries."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import Dataset

from core.data import DATASETS, DataError, DatasetSpec, open_dataset
from core.train.config import TrainConfig
from core.train.estimate import split_sizes

ROOT = Path(__file__).resolve().parents[2]


def test_every_entry_opens_and_counts_itself():
    for name, spec in DATASETS.items():
        assert spec.name == name and spec.opener is not None and spec.kind in ("procedural", "folder", "download")
        assert set(spec.option_help) <= set(spec.options) and set(spec.option_widgets) <= set(spec.options)
        assert not set(spec.optional_splits) & set(spec.splits)


@pytest.mark.parametrize("split", ["train", "val", "test", "unlabelled"])
def test_shapes_count_is_the_opened_length(split):
    spec = DATASETS["shapes"]
    opts = {"n": 60, "n_eval": 12} if split != "unlabelled" else {"n": 60}
    ds = open_dataset("shapes", split, image_size=16, lazy=True, use_cache=False, **opts)
    assert spec.count(split, opts, 16) == len(ds)


def test_folder_count_is_the_opened_length(tmp_path):
    root = tmp_path / "set"
    for k, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True)
        for i in range(3 + k):
            Image.new("RGB", (20, 20), (k * 90, i * 40, 10)).save(root / cls / f"{i}.png")
    spec = DATASETS["folder"]
    opened = open_dataset("folder", "train", image_size=16, path=str(root))
    assert spec.count("train", {"path": str(root)}, 16) == len(opened) == 7
    with pytest.raises(DataError):  # a split the entry does not have
        open_dataset("folder", "unlabelled", image_size=16, path=str(root))


class _Toy(Dataset):
    classes = ["x", "y"]

    def __init__(self, split: str, n: int):
        self.targets = [i % 2 for i in range(n if split == "train" else n // 2)]

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        return torch.zeros(3, 8, 8, dtype=torch.uint8), self.targets[i]


def test_a_new_data_set_is_one_entry(monkeypatch):
    """Opening, option checking, split checking and the duration estimate's sizes all come from the entry."""
    toy = DatasetSpec("toy", "Toy", "two classes", True, ("train", "test"), 8, options={"n": 40},
                      option_help={"n": "images"}, kind="procedural",
                      opener=lambda split, image_size, root, transform, download, n=40: _Toy(split, n))
    monkeypatch.setitem(DATASETS, "toy", toy)
    assert len(open_dataset("toy", "test", n=30)) == 15
    with pytest.raises(DataError, match="unknown option"):
        open_dataset("toy", "train", colour=1)
    with pytest.raises(DataError, match="no 'val' split"):
        open_dataset("toy", "val")
    # no counter: the entry counts by opening; validation as train_val_split does it (10 % of 30)
    assert split_sizes(TrainConfig(dataset="toy", dataset_options={"n": 30}, val_fraction=0.1)) == (27, 3, 15)


def test_shapes_notes_only_for_a_biased_training_split():
    spec = DATASETS["shapes"]
    classes = ["a", "b", "c", "d", "e", "f"]
    assert spec.warnings("train", {"bias": 0.0}, classes) == []
    assert spec.warnings("test", {"bias": 0.5}, classes) == []
    (note,) = spec.warnings("train", {"bias": 0.4}, classes)
    assert "50%" in note and "17%" in note  # 0.4 + 0.6 / 6 of the time; chance 1/6


def _is_a_name(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id in ("name", "dataset")) or (
        isinstance(node, ast.Attribute) and node.attr in ("name", "dataset"))


def test_no_data_set_name_special_cased_outside_its_entry():
    """No ``name == "folder"`` / ``cfg.dataset == "cifar10"`` branches: what differs is in the entry. Shapes-only
    helpers (its drawing time, its memory check) are about Shapes by name and stay."""
    offenders = []
    for rel in ("core/train/estimate.py", "core/train/data.py", "views/datasets.py", "core/data/__init__.py"):
        for node in ast.walk(ast.parse((ROOT / rel).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(_is_a_name(n) for n in [node.left, *node.comparators]):
                offenders += [(rel, node.lineno, c.value) for c in [node.left, *node.comparators]
                              if isinstance(c, ast.Constant) and c.value in DATASETS]
    assert [o for o in offenders if not (o[0] == "core/train/estimate.py" and o[2] == "shapes")] == []
    assert _is_a_name(ast.parse('cfg.dataset == "folder"').body[0].value.left)  # the walk would see one


def test_option_widgets_agree_with_the_widget_descriptions():
    from core.data.options import dataset_params

    for spec in DATASETS.values():
        for param in dataset_params(spec):
            for key, value in spec.option_widgets.get(param.name, {}).items():
                assert getattr(param, key) == value, (spec.name, param.name, key)


def test_augmentation_presets_are_one_entry_each():
    from core.augment import AUGMENT_PRESETS, PRESET_DESCRIPTIONS, PRESETS, AugmentPreset, resolve_spec

    assert list(PRESETS) == list(PRESET_DESCRIPTIONS) == list(AUGMENT_PRESETS)
    for name, preset in AUGMENT_PRESETS.items():
        assert isinstance(preset, AugmentPreset) and preset.description
        assert PRESETS[name] == preset.spec and PRESET_DESCRIPTIONS[name] == preset.description
        resolved = resolve_spec(name)
        assert [s["name"] for s in resolved["steps"]] == [s["name"] for s in preset.steps]
        assert (resolved["mixing"] or {}).get("name") == (preset.mixing or {}).get("name")
