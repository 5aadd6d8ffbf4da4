"""Stochastic depth (a Noisy Student's model noise): residual branches dropped per image in train(), never in
eval(); no new weights; the rate rises linearly to the last block."""
from __future__ import annotations

import copy

import pytest
import torch
from torchvision.ops import StochasticDepth

from core.models import build
from core.train import TrainConfig
from core.train.errors import TrainError
from core.train.model import make_model, residual_branches, set_stochastic_depth


def _branch_outputs(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(input, output) of every StochasticDepth module in one forward (copies: ResNet adds the identity in place)."""
    seen = []
    handles = [m.register_forward_hook(lambda _m, i, o: seen.append((i[0].detach().clone(), o.detach().clone())))
               for m in model.modules() if isinstance(m, StochasticDepth)]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def _dropped_rows(pairs) -> int:
    """Images whose branch output is all zero although the branch computed something (a drop)."""
    n = 0
    for inp, out in pairs:
        for a, b in zip(inp, out):
            n += int(bool(a.abs().sum() > 0) and bool(b.abs().sum() == 0))
    return n


@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v2", "seresnet18"])
def test_train_mode_drops_some_branches_and_eval_none(arch):
    torch.manual_seed(0)
    model = build(arch, num_classes=6, weights="none")
    for m in model.modules():  # timm zero-initialises each branch's last BatchNorm: a zero branch shows no drop
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.ones_(m.weight)
    plain = copy.deepcopy(model)
    keys = list(model.state_dict())
    n = set_stochastic_depth(model, 0.5)
    assert n == len(residual_branches(model)) > 0
    assert list(model.state_dict()) == keys  # no weights added: checkpoints load either way
    x = torch.randn(8, 3, 32, 32)
    torch.manual_seed(1)
    model.train()
    pairs = _branch_outputs(model, x)
    assert len(pairs) == n
    assert _dropped_rows(pairs) > 0
    model.eval()
    with torch.no_grad():
        pairs = _branch_outputs(model, x)
        assert _dropped_rows(pairs) == 0 and all(torch.equal(i, o) for i, o in pairs)
        plain.load_state_dict(model.state_dict())  # strict: same keys; the BatchNorm statistics moved in train()
        plain.eval()
        assert torch.allclose(model(x), plain(x), atol=1e-6)  # eval: the same function as without it


def test_rate_grows_linearly_and_zero_is_the_plain_network():
    torch.manual_seed(0)
    model = build("resnet18", num_classes=6, weights="none")
    plain = copy.deepcopy(model)
    assert set_stochastic_depth(model, 0.4) == 8  # ResNet-18: 8 basic blocks
    rates = [b.stochastic_depth.p for _, b, _ in residual_branches(model)]
    assert rates == pytest.approx([0.4 * i / 8 for i in range(1, 9)])
    assert set_stochastic_depth(model, 0.0) == 8  # again: rates change, hooks do not stack
    assert all(b.stochastic_depth.p == 0 for _, b, _ in residual_branches(model))
    x = torch.randn(4, 3, 32, 32)
    model.train(), plain.train()
    assert torch.allclose(model(x), plain(x), atol=1e-6)  # rate 0 in train(): nothing dropped


def test_networks_without_residual_blocks_are_unchanged_and_bad_rates_refused():
    assert set_stochastic_depth(build("lenet5", num_classes=6, weights="none"), 0.3) == 0
    assert set_stochastic_depth(build("vgg11", num_classes=6, weights="none"), 0.3) == 0
    with pytest.raises(TrainError):
        set_stochastic_depth(build("resnet18", num_classes=6, weights="none"), 1.0)


def test_efficientnet_keeps_its_own_module_and_a_deepcopy_drops_on_its_own():
    model = build("efficientnet_b0", num_classes=6, weights="none")
    own = [b.stochastic_depth for _, b, _ in residual_branches(model)]
    set_stochastic_depth(model, 0.3)
    assert [b.stochastic_depth for _, b, _ in residual_branches(model)] == own  # same modules, new rates
    assert own[-1].p == pytest.approx(0.3)
    r18 = build("resnet18", num_classes=6, weights="none")
    set_stochastic_depth(r18, 0.5)
    twin = copy.deepcopy(r18)
    twin.eval()  # the copy's hooks use the copy's modules: the original stays in train()
    r18.train()
    assert _dropped_rows(_branch_outputs(twin, torch.randn(8, 3, 32, 32))) == 0


def test_the_config_field_is_validated():
    from core.errors import InputError

    assert TrainConfig(stochastic_depth=0.2).validate().stochastic_depth == 0.2
    with pytest.raises(InputError, match="stochastic_depth"):
        TrainConfig(stochastic_depth=1.0).validate()


def test_make_model_applies_the_configured_rate():
    cfg = TrainConfig(arch="resnet18", weights="none", mode="scratch")
    model, _ = make_model(cfg.replace(stochastic_depth=0.2), 6)
    assert residual_branches(model)[-1][1].stochastic_depth.p == pytest.approx(0.2)
    model, _ = make_model(cfg, 6)  # stochastic_depth=None: the architecture's own (torchvision ResNet: none)
    assert not hasattr(residual_branches(model)[-1][1], "stochastic_depth")
