"""core.samples: bundled photos load offline, as fresh RGB images, with honest metadata."""
from __future__ import annotations

import socket

import numpy as np
import pytest
from PIL import Image

from core.errors import InputError, PlaygroundError
from core.samples import SAMPLE_INFO, SAMPLE_NAMES, SampleInfo, _sample_array, load_sample


def test_names_are_the_contracted_ones():
    assert SAMPLE_NAMES == ("cat", "coffee", "astronaut", "rocket", "motorcycle")
    assert tuple(SAMPLE_INFO) == SAMPLE_NAMES


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_loads_as_rgb_with_metadata(name):
    im = load_sample(name)
    assert type(im) is Image.Image and im.mode == "RGB"
    assert min(im.size) >= 256
    a = np.asarray(im)
    assert a.dtype == np.uint8 and a.shape[2] == 3 and a.std() > 20  # a real photo, not blank
    info = SAMPLE_INFO[name]
    assert isinstance(info, SampleInfo) and info.name == name
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
    assert isinstance(info.value, PlaygroundError)
    assert "cat, coffee, astronaut, rocket, motorcycle" in str(info.value)
