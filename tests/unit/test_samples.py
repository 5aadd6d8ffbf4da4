"""core.samples: bundled photos load offline, as fresh RGB images, with honest metadata."""
from __future__ import annotations

import socket

import numpy as np
import pytest
from PIL import Image

from core.errors import InputError
from core.samples import SAMPLE_INFO, SAMPLE_NAMES, _sample_array, load_sample


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_metadata_names_the_picture_that_loads(name):
    """Each entry's ``loader`` is the scikit-image picture ``load_sample`` returns, pixel for pixel."""
    import skimage.data

    info = SAMPLE_INFO[name]
    assert info.name == name and name == name.strip().lower()  # the key is what load_sample normalises to
    raw = getattr(skimage.data, info.loader)()
    raw = raw[0] if isinstance(raw, tuple) else raw  # stereo_motorcycle: (left, right, disparity)
    assert np.array_equal(np.asarray(load_sample(name)), raw)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_expected_classes_are_real_imagenet_classes(name):
    """The "what a classifier should say" text names ImageNet-1k classes (checked against torchvision's list)."""
    from torchvision.models import ResNet18_Weights

    categories = set(ResNet18_Weights.DEFAULT.meta["categories"])
    expected = SAMPLE_INFO[name].expected.split("expect ")[-1]  # the astronaut's text explains first
    classes = [c.strip() for c in expected.split("/")]
    assert classes and all(c in categories for c in classes), [c for c in classes if c not in categories]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_loads_as_rgb_with_metadata(name):
    im = load_sample(name)
    assert type(im) is Image.Image and im.mode == "RGB"
    assert min(im.size) >= 256
    a = np.asarray(im)
    assert a.dtype == np.uint8 and a.shape[2] == 3 and a.std() > 20  # a real photo, not blank
    info = SAMPLE_INFO[name]
    assert info.title and info.description and info.expected


def test_samples_load_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("samples must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    _sample_array.cache_clear()
    for name in SAMPLE_NAMES:
        assert load_sample(name).mode == "RGB"


def test_each_call_returns_a_fresh_copy():
    first = load_sample("cat")
    reference = np.asarray(first).copy()
    first.paste((0, 255, 0), (0, 0, 50, 50))  # a caller drawing on its image ...
    second = load_sample("cat")
    assert second is not first
    assert np.array_equal(np.asarray(second), reference)  # ... does not change the next one
    assert not _sample_array("cat").flags.writeable


def test_case_and_spaces_are_ignored():
    assert np.array_equal(np.asarray(load_sample(" Coffee ")), np.asarray(load_sample("coffee")))


@pytest.mark.parametrize("bad", ["dog", "", "../cat", None, 3, ["cat"]])
def test_unknown_names_are_input_errors(bad):
    with pytest.raises(InputError) as info:
        load_sample(bad)
    assert repr(bad) in str(info.value)  # says what was asked for ...
    assert ", ".join(SAMPLE_NAMES) in str(info.value)  # ... and every name that would have worked
