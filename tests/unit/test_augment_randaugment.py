"""timm-style RandAugment strings both ways, and the every-op-at-magnitude-M explorer."""
from __future__ import annotations

import pytest
import torch

from core.augment import AugmentError, ops_at_magnitude, parse_timm, to_timm, validate_spec


@pytest.mark.parametrize("text", ["rand-m9-n2", "rand-m9-n2-mstd0.5", "rand-m7-n3-mstd1-inc1", "rand-m10-n1-p0.3",
                                  "rand-m0-n0", "rand-m5-n2-mstd0.5-mmax10-inc0-p1-tweights"])
def test_parse_and_format_round_trip(text):
    assert parse_timm(text).to_string() == text
    assert parse_timm(parse_timm(text).to_string()) == parse_timm(text)


def test_order_free_and_defaults():
    assert parse_timm("rand-n3-m5").to_string() == "rand-m5-n3"
    cfg = parse_timm("rand")
    assert (cfg.m, cfg.n) == (10, 2)
    assert any("p = 0.5" in n for n in cfg.notes)
    cfg = parse_timm("rand-m9-n2-mstd0.5")
    assert any("mstd0.5" in n for n in cfg.notes)


def test_settings_to_params_and_back():
    params = parse_timm("rand-m9-n2").to_params()
    assert params == {"num_ops": 2, "magnitude": 9, "num_magnitude_bins": 11}
    validate_spec({"steps": [{"name": "randaugment", "params": params}]})
    assert to_timm(2, 9, 11) == ("rand-m9-n2", True)
    assert to_timm(2, 9, 31) == ("rand-m3-n2", True)  # torchvision's default: 9 of 30 = 3 of 10
    assert to_timm(2, 10, 31) == ("rand-m3-n2", False)  # 3.33 rounds to 3


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("augmix-m5", "must start with 'rand-'"),
    ("rand-m9-n2-x3", "unknown section"),
    ("rand-mfoo", "not KEY+NUMBER"),
    ("rand-m9-m3", "given twice"),
    ("rand-m11", "outside 0..10"),
    ("rand-n99", "outside 0..10"),
    ("rand-p1.5", "bad value"),
    ("rand--m9", "empty section"),
    ("rand-m9.5", "bad value"),
])
def test_bad_strings_are_clear(text, words):
    with pytest.raises(AugmentError) as info:
        parse_timm(text)
    assert words in str(info.value)


def test_every_op_at_magnitude():
    img = torch.randint(0, 256, (3, 27, 35), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    ops = ops_at_magnitude(img, 9)
    assert len(ops) == 14 and ops[0].op == "Identity" and torch.equal(ops[0].image, img)
    rot = next(o for o in ops if o.op == "Rotate")
    assert rot.magnitude == pytest.approx(9 / 30 * 30.0) and rot.text == "Rotate(+9.0°)"
    assert all(o.image.shape == img.shape and o.image.dtype == torch.uint8 for o in ops)
    with pytest.raises(AugmentError):
        ops_at_magnitude(img, 31)
