"""Sweep every entry of core.data.DATASETS: the spec is complete and opening it works or fails clearly."""
from __future__ import annotations

import inspect
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch

from core.data import DATASETS, DataError, DatasetUnavailable, open_dataset
from core.data.zipimport import import_zip

ZIPS = Path(__file__).resolve().parents[1] / "fixtures" / "zips"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError(OSError("no network in tests"))

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def test_required_entries():
    assert {"shapes", "folder", "cifar10", "stl10", "imagenette", "oxford_pets"} <= set(DATASETS)


def test_shapes_entry_advertises_what_the_data_set_uses():
    """The entry's splits and option defaults are the data set's own (read from its code, not restated)."""
    from core.data import shapes

    spec = DATASETS["shapes"]
    assert spec.splits == tuple(shapes.SPLITS)
    params = inspect.signature(shapes.ShapesDataset).parameters
    assert spec.options and spec.options == {k: params[k].default for k in spec.options}
    # opening with no options is opening with the advertised defaults
    plain = open_dataset("shapes", "val", image_size=16, lazy=True, use_cache=False)
    explicit = open_dataset("shapes", "val", image_size=16, lazy=True, use_cache=False, **spec.options)
    assert len(plain) == len(explicit) and plain.targets == explicit.targets
    assert torch.equal(plain[0][0], explicit[0][0])
    with pytest.raises(DataError, match="unknown option") as info:
        open_dataset("shapes", "val", image_size=16, colour=1)
    assert all(k in str(info.value) for k in spec.options)  # the message lists what is accepted
    with pytest.raises(DataError) as info:
        open_dataset("shapes", "validation")
    assert all(split in str(info.value) for split in spec.splits)


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_entry(name):
    spec = DATASETS[name]
    assert spec.name == name and spec.title and spec.description and spec.splits
    assert isinstance(spec.offline, bool) and 8 <= spec.default_image_size <= 512
    assert set(spec.option_help) <= set(spec.options)
    for split in spec.splits:
        if name == "shapes":
            ds = open_dataset(name, split, image_size=16, n=12)
        elif name == "folder":
            with pytest.raises(DataError, match="choose a folder"):
                open_dataset(name, split)
            import_zip(ZIPS / "good.zip", "sweep")  # then open the imported data set by name
            ds = open_dataset(name, split, image_size=16, path="sweep")
        else:
            with pytest.raises(DatasetUnavailable, match="not downloaded yet"):
                open_dataset(name, split, image_size=16)
            with pytest.raises(DatasetUnavailable, match="no network"):
                open_dataset(name, split, image_size=16, download=True)
            continue
        image, label = ds[0]
        assert image.dtype == torch.uint8 and image.shape == (3, 16, 16)
        assert len(ds.targets) == len(ds) and isinstance(ds.classes, list) and label == ds.targets[0]
