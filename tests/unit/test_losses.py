"""core.train.losses: the distillation formula, checked against a hand computation, and the objective rule."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import InputError
from core.train.config import TrainConfig
from core.train.losses import (AUX_LOSS_WEIGHT, DistillObjective, PlainObjective, classification_loss,
                               distillation_loss, distillation_parts, make_objective)


def _by_hand(zs, zt, y, T, alpha):
    """α·T²·Σ_i Σ_k p_t log(p_t / p_s) / B + (1 − α)·CE, written out element by element (no kl_div)."""
    p_t = torch.softmax(zt.double() / T, 1)
    p_s = torch.softmax(zs.double() / T, 1)
    kl = (p_t * (p_t.log() - p_s.log())).sum(1).mean()
    if y.ndim == 1:
        ce = -torch.log_softmax(zs.double(), 1)[torch.arange(len(y)), y].mean()
    else:
        ce = -(y.double() * torch.log_softmax(zs.double(), 1)).sum(1).mean()
    return alpha * T * T * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T", [1.0, 2.0, 4.0, 8.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.9, 1.0])
def test_loss_equals_the_formula_on_random_logits(T, alpha):
    g = torch.Generator().manual_seed(int(T * 10 + alpha * 100))
    zs, zt = torch.randn(16, 10, generator=g) * 3, torch.randn(16, 10, generator=g) * 3
    y = torch.randint(0, 10, (16,), generator=g)
    got = distillation_loss(zs, zt, y, T, alpha)
    assert got.item() == pytest.approx(_by_hand(zs, zt, y, T, alpha).item(), rel=1e-5, abs=1e-6)


def test_soft_targets_use_the_soft_label_in_the_ce_part():
    g = torch.Generator().manual_seed(1)
    zs, zt = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    y = torch.softmax(torch.randn(8, 5, generator=g), 1)  # e.g. a CutMix pair
    got = distillation_loss(zs, zt, y, 3.0, 0.5)
    assert got.item() == pytest.approx(_by_hand(zs, zt, y, 3.0, 0.5).item(), rel=1e-5)


@pytest.mark.filterwarnings("ignore:reduction")
def test_batchmean_not_mean():
    """PyTorch's reduction="mean" divides by B × K: the KD term must be K× that."""
    g = torch.Generator().manual_seed(2)
    zs, zt = torch.randn(4, 7, generator=g), torch.randn(4, 7, generator=g)
    y = torch.zeros(4, dtype=torch.long)
    kd = distillation_loss(zs, zt, y, 1.0, 1.0)
    wrong = F.kl_div(F.log_softmax(zs, 1), F.softmax(zt, 1), reduction="mean")
    assert kd.item() == pytest.approx(7 * wrong.item(), rel=1e-5)


def test_student_equal_to_teacher_gives_zero_kd_and_alpha_zero_is_plain_ce():
    z = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    total, ce, kd = distillation_parts(z, z.clone(), y, 4.0, 0.7)
    assert kd.item() == pytest.approx(0.0, abs=1e-6)
    assert total.item() == pytest.approx(0.3 * ce.item(), rel=1e-5)
    zs, zt = torch.randn(6, 4), torch.randn(6, 4)
    assert distillation_loss(zs, zt, y, 4.0, 0.0).item() == pytest.approx(F.cross_entropy(zs, y).item(), rel=1e-6)


def test_kd_gradient_scale_stays_about_constant_over_temperature():
    """Without T² the gradient would shrink ~1/T² (64× from T=1 to 8); with it, it stays within a small factor."""
    g = torch.Generator().manual_seed(3)
    zs0, zt = torch.randn(32, 10, generator=g), torch.randn(32, 10, generator=g)
    y = torch.zeros(32, dtype=torch.long)
    norms = {}
    for T in (2.0, 4.0, 8.0, 16.0):
        zs = zs0.clone().requires_grad_(True)
        distillation_loss(zs, zt, y, T, 1.0).backward()
        norms[T] = zs.grad.norm().item()
    assert max(norms.values()) / min(norms.values()) < 1.5, norms
    # and the unscaled KL would not be: it shrinks like 1/T²
    zs = zs0.clone().requires_grad_(True)
    (distillation_loss(zs, zt, y, 16.0, 1.0) / 256).backward()
    assert zs.grad.norm().item() < norms[2.0] / 20


def test_bad_temperature_and_alpha_are_clear_errors():
    z, y = torch.randn(2, 3), torch.tensor([0, 1])
    with pytest.raises(InputError, match="temperature"):
        distillation_loss(z, z, y, 0.0, 0.5)
    with pytest.raises(InputError, match="alpha"):
        distillation_loss(z, z, y, 2.0, 1.5)


def test_plain_objective_keeps_aux_heads_and_soft_labels():
    from torchvision.models import GoogLeNetOutputs

    main, a1, a2 = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    y = torch.tensor([0, 1, 2, 0])
    loss, logits, (ce,) = PlainObjective()(GoogLeNetOutputs(main, a2, a1), y, None)
    want = F.cross_entropy(main, y) + AUX_LOSS_WEIGHT * (F.cross_entropy(a1, y) + F.cross_entropy(a2, y))
    assert loss.item() == pytest.approx(want.item(), rel=1e-6) and logits is main and ce.item() == loss.item()
    soft = F.one_hot(y, 3).float()
    assert classification_loss(main, soft)[0].item() == pytest.approx(F.cross_entropy(main, y).item(), rel=1e-6)


class _Teacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(4)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.bn(x))


def test_distill_objective_teacher_stays_frozen_and_gradients_reach_the_student_only():
    torch.manual_seed(0)
    teacher, student = _Teacher().train(), nn.Linear(4, 3)  # train(): the objective must switch it to eval
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    obj = DistillObjective(teacher, temperature=4.0, alpha=0.9)
    x, y = torch.randn(8, 4) * 5 + 2, torch.randint(0, 3, (8,))
    loss, logits, (ce, kd) = obj(student(x), y, x)
    loss.backward()
    assert not teacher.training
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())
    after = teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running mean/var and num_batches_tracked too
    assert loss.item() == pytest.approx(0.9 * kd.item() + 0.1 * ce.item(), rel=1e-6)


def test_the_rule_picks_the_objective_from_the_config():
    assert isinstance(make_objective(TrainConfig(), ["a"], torch.device("cpu")), PlainObjective)
    assert make_objective(TrainConfig(), ["a"], torch.device("cpu")).parts == ("ce",)
    with pytest.raises(InputError, match="teacher"):
        TrainConfig(objective="distill").validate(check_registries=False)
    with pytest.raises(InputError, match="no such run folder"):
        TrainConfig(objective="distill", teacher="/nonexistent/run").validate(check_registries=False)
    with pytest.raises(InputError, match="objective"):
        TrainConfig(objective="magic").validate(check_registries=False)
    with pytest.raises(InputError, match="temperature"):
        TrainConfig(objective="distill", temperature=0.0).validate(check_registries=False)
    with pytest.raises(InputError, match="alpha"):
        TrainConfig(objective="distill", alpha=-0.1).validate(check_registries=False)
    with pytest.raises(InputError, match="threshold"):
        TrainConfig(objective="self_train", threshold=1.5).validate(check_registries=False)
