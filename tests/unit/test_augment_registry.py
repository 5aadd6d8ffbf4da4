"""Every registry entry: complete metadata, valid defaults, and shape / dtype / value range kept on odd sizes."""
from __future__ import annotations

import pickle

import pytest
import torch
from PIL import Image

from core.augment import REGISTRY, AugmentError, build_transform, image_specs, preview_grid, validate_spec
from core.augment.specs import GROUPS

IMAGE_NAMES = [s.name for s in image_specs()]
ODD_SIZES = [(31, 45), (23, 64), (51, 27)]  # elastic's default blur (41 px) needs sides > 20 px


def _img(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)


def test_registry_covers_the_issue_list():
    wanted = {"rotation", "hflip", "vflip", "crop", "random_resized_crop", "affine", "perspective", "elastic",
              "brightness", "contrast", "saturation", "hue", "color_jitter", "grayscale", "gaussian_blur",
              "sharpness", "posterize", "solarize", "equalize", "autocontrast", "invert", "gaussian_noise",
              "random_erasing", "randaugment", "trivialaugment", "augmix", "autoaugment", "cutmix", "mixup"}
    assert wanted <= set(REGISTRY)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_spec_metadata_is_complete_and_defaults_validate(name):
    spec = REGISTRY[name]
    assert spec.title and spec.group in GROUPS and len(spec.explanation) > 30
    assert spec.paper is None or spec.paper.startswith("https://")
    assert 0.0 <= spec.default_p <= 1.0
    for p in spec.params:
        assert p.kind in {"float", "int", "bool", "choice", "range"}
        assert p.validate(p.default, name) is not None
        if p.kind in ("float", "int", "range"):
            assert p.min is not None and p.max is not None and p.min <= p.max
    key = "mixing" if spec.is_batch else "steps"
    step = {"name": name}
    validate_spec({key: step} if spec.is_batch else {key: [step]})


@pytest.mark.parametrize("name", IMAGE_NAMES)
@pytest.mark.parametrize("size", ODD_SIZES)
def test_every_entry_keeps_shape_dtype_range(name, size):
    img = _img(*size)
    tiles = preview_grid(img, {"steps": [{"name": name, "p": 1.0}]}, n=2, seed=5)
    for t in tiles:
        assert t.image.shape == img.shape and t.image.dtype == torch.uint8
        assert 0 <= int(t.image.min()) and int(t.image.max()) <= 255
        assert t.records and t.records[0].name == name and t.caption


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_every_entry_on_float_and_pil_input(name):
    tf = build_transform({"steps": [{"name": name, "p": 1.0}]})
    x = _img(21, 33).float() / 255
    torch.manual_seed(0)
    y = tf(x)
    assert y.shape == x.shape and y.dtype == torch.float32 and 0.0 <= float(y.min()) and float(y.max()) <= 1.0
    pil = Image.new("RGB", (33, 21), (200, 30, 90))
    out = tf(pil)
    assert isinstance(out, Image.Image) and out.size == pil.size and out.mode == "RGB"


def test_transform_is_picklable_and_works_after_unpickling():
    tf = build_transform("randaugment")
    img = _img(31, 45)
    tf(img)  # fills the per-size cache, which must not be pickled
    clone = pickle.loads(pickle.dumps(tf))
    torch.manual_seed(3)
    a = tf(img)
    torch.manual_seed(3)
    b = clone(img)
    assert torch.equal(a, b)


@pytest.mark.parametrize("spec, words", [
    ({"steps": [{"name": "rotaton"}]}, ["step 1", "unknown augmentation", "rotation"]),
    ({"steps": [{"name": "rotation", "params": {"degrees": 500}}]}, ["degrees", "between 0 and 180"]),
    ({"steps": [{"name": "rotation", "params": {"angle": 5}}]}, ["unknown parameter", "angle", "degrees"]),
    ({"steps": [{"name": "rotation", "p": 1.5}]}, ["probability", "0 to 1"]),
    ({"steps": [{"name": "gaussian_blur", "params": {"kernel_size": 4}}]}, ["kernel_size must be odd"]),
    ({"steps": [{"name": "randaugment", "params": {"magnitude": 40}}]}, ["magnitude 40", "bins"]),
    ({"steps": [{"name": "random_resized_crop", "params": {"scale": [0.9, 0.2]}}]}, ["low", "above high"]),
    ({"steps": [{"name": "crop", "params": {"padding": 0}}]}, ["nothing random"]),
    ({"steps": [{"name": "cutmix"}]}, ["goes under 'mixing'"]),
    ({"mixing": {"name": "rotation"}}, ["must be cutmix or mixup"]),
    ({"steps": [{"name": "posterize", "params": {"bits": 2.5}}]}, ["whole number"]),
    ({"steps": [{"name": "hflip", "params": {"x": 1}}]}, ["takes no parameters"]),
    ({"steps": [{"name": "augmix", "params": {"all_ops": "yes"}}]}, ["true or false"]),
    ({"steps": [{"name": "autoaugment", "params": {"policy": "mnist"}}]}, ["one of", "cifar10"]),
    ({"version": 2, "steps": []}, ["version 2"]),
    ({"stepz": []}, ["unknown key", "stepz"]),
    ([1, 2], ["JSON object"]),
])
def test_bad_settings_give_clear_errors(spec, words):
    with pytest.raises(AugmentError) as info:
        validate_spec(spec)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    # one short line a page can show as is: no Python internals (reprs, addresses, class names) leak into it
    assert "\n" not in msg and len(msg) < 600, msg
    assert not any(leak in msg for leak in ("object at 0x", "<class", "Error:", "Error(", "NoneType")), msg


def test_reflect_padding_larger_than_image_is_a_clear_error():
    tf = build_transform({"steps": [{"name": "crop", "params": {"padding": 20, "padding_mode": "reflect"}}]})
    with pytest.raises(AugmentError, match="needs an image larger"):
        tf(_img(9, 11))


def test_elastic_on_a_tiny_image_is_a_clear_error():
    tf = build_transform({"steps": [{"name": "elastic"}]})
    with pytest.raises(AugmentError, match="Lower sigma"):
        tf(_img(15, 40))


def test_bad_image_inputs_are_clear():
    tf = build_transform("flip-crop")
    with pytest.raises(AugmentError, match="channels"):
        tf(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(AugmentError, match="tensor or a PIL"):
        tf([1, 2, 3])
