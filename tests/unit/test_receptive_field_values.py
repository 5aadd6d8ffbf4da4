"""Receptive fields: hand-checked values, merges, global fields, units and padding, ERF, feature maps, CLI.

Hand-computed with the recurrence size' = size + (k−1)·jump, jump' = jump·s, start' = start + ((k−1)/2 − p)·jump.
"""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.__main__ import main
from core.errors import InputError
from core.feature_maps import top_channels
from core.models import ARCHITECTURES
from core.models.stacked_convs import features_receptive_field
from core.receptive_field import (
    ReceptiveFieldError,
    effective_receptive_field,
    pixels_holding,
    receptive_fields,
    trace_fields,
    unit_field,
)


def _triple(row):
    return row.size, row.jump, row.start


def test_lenet5_by_hand():
    t = receptive_fields("lenet5", 32)
    # C1 5×5: 5, jump 1, centre 2 | S2 2×2/2: 6, 2, 2.5 | C3 5×5: 6+4·2=14, 2, 2.5+2·2=6.5
    # S4 2×2/2: 14+1·2=16, 4, 6.5+0.5·2=7.5 | C5 5×5: 16+4·4=32, 4, 7.5+2·4=15.5 (one unit sees all 32×32)
    assert _triple(t.get("features.0")) == ((5, 5), (1, 1), (2, 2))
    assert _triple(t.get("features.2")) == ((6, 6), (2, 2), (2.5, 2.5))
    assert _triple(t.get("features.3")) == ((14, 14), (2, 2), (6.5, 6.5))
    assert _triple(t.get("features.5")) == ((16, 16), (4, 4), (7.5, 7.5))
    assert _triple(t.get("features.6")) == ((32, 32), (4, 4), (15.5, 15.5))
    # at 32 px the global average pool sees a 1×1 map: nothing changes; at 64 px it makes the field global
    assert receptive_fields("lenet5", 32).get("avgpool").size == (32, 32)
    assert receptive_fields("lenet5", 64).get("avgpool").is_global


def test_vgg16_by_hand():
    t = receptive_fields("vgg16", 224)
    # conv5_3 (features.28): 196 px, jump 16; pool5 (features.30): 196 + 1·16 = 212 px, jump 32 (Araujo et al.)
    assert _triple(t.get("features.28")) == ((196, 196), (16, 16), (7.5, 7.5))
    assert _triple(t.get("features.30")) == ((212, 212), (32, 32), (15.5, 15.5))
    assert t.get("features.30").shape == (7, 7)


def test_plain_networks_agree_with_the_stacked_convs_lesson():
    for arch in ("lenet5", "alexnet", "vgg11", "vgg16"):
        t = receptive_fields(arch)
        for r in features_receptive_field(arch):
            assert t.get(r["layer"]).size == (r["receptive_field"],) * 2, (arch, r["layer"])
            assert t.get(r["layer"]).jump == (r["jump"],) * 2


def test_se_block_makes_every_later_field_global():
    t = receptive_fields("seresnet18", 224)
    assert not t.get("layer1.0.conv2").is_global  # before the first SE gate
    assert t.get("layer1.0.se").is_global
    after = t.names[t.names.index("layer1.0.se"):]
    assert all(t.get(n).is_global for n in after)
    assert json.loads(json.dumps(t.get("layer4").to_dict()))["size"] is None
    # jump and start still place the units
    assert t.get("layer4").jump == (32, 32)


def test_residual_and_inception_merges_take_the_union():
    r = receptive_fields("resnet18", 224)
    block = r.get("layer2.0")  # conv3×3/2 → conv3×3 (+) 1×1/2 downsample: the union is the main path
    assert block.size == r.get("layer2.0.conv2").size
    assert r.get("layer2.0.downsample.0").size == r.get("layer1").size
    g = receptive_fields("googlenet", 224)
    merged = g.get("inception3a")
    branches = [g.get(f"inception3a.branch{k}") for k in (1, 2, 3, 4)]
    assert merged.size == tuple(max(b.size[a] for b in branches) for a in (0, 1))
    assert merged.size == g.get("inception3a.branch3").size  # GoogLeNet's "5×5" branch is a 3×3 in torchvision
    assert all(row.field.aligned for row in g.layers)


class _Misaligned(nn.Module):
    """Two branches whose units are centred one pixel apart: a 3×3 conv on a top-left-padded input vs a 1×1."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 1, 1)
        self.b = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return self.a(x) + self.b(F.pad(x, (2, 0, 2, 0)))


def test_misaligned_merge_is_flagged_and_matches_the_gradient():
    m = _Misaligned()
    t = trace_fields(m, 9, in_channels=1, layers=["a", "b"])
    assert t.get("a").field.aligned and t.get("b").field.aligned
    assert t.get("b").start == (-1.0, -1.0)  # centred one pixel up-left of the 1×1 branch
    # the merged map (the model's output) is traced by wrapping the model in a container
    wrapped = nn.Sequential(m)
    t = trace_fields(wrapped, 9, in_channels=1, layers=["0"])
    row = t.get("0")
    assert not row.field.aligned
    assert row.size == (3, 3) and row.start == (-1.0, -1.0)
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(1.0)
    x = torch.rand(1, 1, 9, 9, requires_grad=True)
    y = wrapped(x)
    y[0, 0, 4, 4].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().flatten()
    u = unit_field(row, 4, 4, 9)
    assert (int(rows.min()), int(rows.max())) == (u.clipped_box[0], u.clipped_box[2]) == (2, 4)


def test_unit_field_padding_share_and_errors():
    row = receptive_fields("vgg16", 224).get("features.28")  # 196 px, jump 16, start 7.5
    u = unit_field(row, 0, 0, 224)
    assert u.box == (-90.0, -90.0, 105.0, 105.0)
    assert u.clipped_box == (0, 0, 105, 105)
    assert u.area == 196 * 196 and u.clipped_area == 106 * 106
    assert u.padding_share == pytest.approx(1 - 106 * 106 / 196 ** 2)
    centre = unit_field(row, 7, 7, 224)
    assert centre.padding_share == 0 and centre.clipped_box == (22, 22, 217, 217)
    with pytest.raises(ReceptiveFieldError, match="outside features.28's 14×14 map"):
        unit_field(row, 14, 0, 224)


def test_bad_requests_are_typed_errors():
    with pytest.raises(InputError, match="unknown architecture"):
        receptive_fields("nope")
    with pytest.raises(InputError, match=r"too small for alexnet \(min 63 px\)"):
        receptive_fields("alexnet", 40)
    with pytest.raises(InputError, match=r"too small for inception_v3"):
        receptive_fields("inception_v3", 60)
    with pytest.raises(ReceptiveFieldError, match="unknown layer 'layer9'.*layer1"):
        receptive_fields("resnet18", 64).get("layer9")


@pytest.mark.slow
def test_whole_zoo_traces_without_notes_at_its_own_size():
    for arch in ARCHITECTURES:
        t = receptive_fields(arch)
        assert t.layers and not t.notes, (arch, t.notes)


def test_pixels_holding():
    g = torch.tensor([[0.125, 0.5], [0.25, 0.125]])  # exact in binary: the sums are exact
    assert pixels_holding(g, 0.5) == 1
    assert pixels_holding(g, 0.75) == 2
    assert pixels_holding(g, 0.8) == 3
    assert pixels_holding(g, 0.95) == 4
    assert pixels_holding(torch.zeros(3, 3)) == 0


def test_effective_field_is_inside_the_theoretical_one_and_leaves_the_model_clean():
    torch.manual_seed(0)
    from core.models.lenet import LeNet5

    model = LeNet5(num_classes=4).eval()
    table = receptive_fields("lenet5", 48)
    erf = effective_receptive_field(model, "features.3", table, n_inputs=3, seed=1)
    t, l, b, r = erf.theoretical.clipped_box
    inside = erf.grad[t:b + 1, l:r + 1].sum()
    assert float(erf.grad.sum()) == pytest.approx(1.0, abs=1e-5)
    assert float(inside) == pytest.approx(1.0, abs=1e-5)  # no gradient outside the theoretical field
    assert 0 < erf.mass_share <= 1 and erf.n_inputs == 3
    assert all(p.grad is None for p in model.parameters())  # a shared model gets no .grad
    assert not model.features[3]._forward_hooks  # hooks removed
    again = effective_receptive_field(model, "features.3", table, n_inputs=3, seed=1)
    assert torch.equal(again.grad, erf.grad)  # seeded


def test_top_channels_ranks_by_mean():
    torch.manual_seed(0)
    from core.models.lenet import LeNet5

    model = LeNet5(num_classes=4).eval()
    x = torch.randn(1, 3, 40, 40)
    fm = top_channels(model, x, "features.0", k=3)
    with torch.no_grad():
        y = model.features[0](x)[0]
    expected = y.mean((1, 2)).topk(3).indices.tolist()
    assert [c.channel for c in fm.channels] == expected
    assert fm.shape == (6, 36, 36)
    assert torch.allclose(fm.channels[0].map, y[expected[0]])
    with pytest.raises(InputError):
        top_channels(model, x, "features.0", k=0)


def test_cli_rf_json(capsys):
    assert main(["rf", "--arch", "vgg16", "--input-size", "224", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by = {r["layer"]: r for r in rows}
    assert by["features.28"]["size"] == [196, 196] and by["features.28"]["jump"] == [16, 16]
    assert by["features.30"]["start"] == [15.5, 15.5]
    assert {"layer", "size", "jump", "start"} <= set(rows[0])
    assert main(["rf", "--arch", "seresnet18", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["layer"]: r for r in rows}["layer3"]["size"] is None
    assert main(["rf", "--arch", "googlenet", "--json"]) == 0
    names = {r["layer"] for r in json.loads(capsys.readouterr().out)}
    assert {"inception4e", "inception4e.branch2", "maxpool4"} <= names


@pytest.mark.parametrize("argv,message", [
    (["rf", "--arch", "nope"], "error: unknown architecture 'nope'; choose one of: lenet5"),
    (["rf", "--arch", "alexnet", "--input-size", "20"], "error: input size 20 is too small for alexnet (min 63 px)"),
    (["erf", "--arch", "lenet5", "--layer", "fc9"], "error: unknown layer 'fc9' for lenet5; layers: features.0"),
])
def test_cli_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_cli_erf_json(capsys):
    assert main(["erf", "--arch", "lenet5", "--weights", "none", "--layer", "features.3", "--input-size", "40",
                 "--n-inputs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["layer"] == "features.3" and out["unit"] == [7, 7] and out["n_inputs"] == 2
    assert 0 < out["mass_share"] <= 1 and out["theoretical"]["area"] == 14 * 14
