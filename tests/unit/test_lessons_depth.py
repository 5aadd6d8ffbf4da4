"""Depth lesson: path counts, gradient capture (hooks always removed), the networks, lesion study, small lessons."""
from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from core.errors import InputError
from core.lessons import depth as dl


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one intra-op thread is as fast, and on a busy shared machine OpenMP workers spinning at
    every small op's barrier made these tests ~7× slower (measured: 134 s vs 28 s for this file)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9, 27, 54, 200])
def test_path_counts_are_binomial_coefficients(n):
    counts = dl.path_counts(n)
    assert counts == [math.comb(n, k) for k in range(n + 1)]
    assert sum(counts) == 2**n


def test_path_counts_reject_bad_block_counts():
    for bad in (-1, 1.5, "3", True, 1001):
        with pytest.raises(InputError):
            dl.path_counts(bad)


@pytest.mark.parametrize("depth", [4, 8, 20, 56])
@pytest.mark.parametrize("residual", [False, True])
def test_network_has_depth_weight_layers(depth, residual):
    model = dl.build_deep_cnn(depth, residual=residual, batchnorm=True, width=4)
    assert len(model.weight_layers()) == depth
    assert model.n_blocks == (depth - 2) // 2
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 6)


@pytest.mark.parametrize("bad", [3, 7, 2, 112, 20.0, True])
def test_bad_depths_are_refused(bad):
    with pytest.raises(InputError, match="depth"):
        dl.build_deep_cnn(bad, residual=False, batchnorm=False)


def _no_hooks(model) -> bool:
    return all(not p._backward_hooks for p in model.parameters())


def test_gradient_norms_equal_autograd_and_leave_nothing_behind():
    model = dl.build_deep_cnn(8, residual=True, batchnorm=False, seed=3)
    x, y = torch.randn(5, 3, 32, 32), torch.tensor([0, 1, 2, 3, 4])
    names, norms, loss = dl.gradient_norms(model, x, y)
    assert _no_hooks(model)
    assert all(p.grad is None for p in model.parameters())
    weights = [p for _, p in model.weight_layers()]
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    assert names[0] == "stem" and names[-1] == "fc" and len(names) == 8
    assert norms == pytest.approx([float(g.norm()) for g in grads], rel=1e-5)
    with torch.no_grad():
        assert loss == pytest.approx(float(F.cross_entropy(model(x), y)), rel=1e-5)


def test_gradient_hooks_are_removed_after_an_exception():
    model = dl.build_deep_cnn(6, residual=False, batchnorm=True)
    with pytest.raises(RuntimeError, match="boom"):
        with dl.gradient_hooks(model.weight_layers()) as norms:
            assert not _no_hooks(model)
            raise RuntimeError("boom")
    assert norms == {} and _no_hooks(model)


def test_hooks_do_not_pile_up_over_many_calls():
    model = dl.build_deep_cnn(6, residual=True, batchnorm=True, width=4)
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
    first = dl.gradient_norms(model, x, y)[1]
    for _ in range(20):
        again = dl.gradient_norms(model, x, y)[1]
    assert _no_hooks(model) and again == pytest.approx(first, rel=1e-5)


def test_dropping_a_block_is_the_identity_for_that_block():
    model = dl.build_deep_cnn(10, residual=True, batchnorm=False).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        h = F.max_pool2d(F.relu(model.stem(x)), 2)
        for i, block in enumerate(model.blocks):
            h = h if i == 2 else block(h)
        expected = model.fc(h.mean(dim=(2, 3)))
        assert torch.allclose(model(x, drop=2), expected, atol=1e-6)
        assert not torch.allclose(model(x, drop=2), model(x))


def test_lesion_study_has_one_result_per_block():
    model = dl.build_deep_cnn(8, residual=True, batchnorm=True)
    x, y = torch.randn(10, 3, 32, 32), torch.arange(10) % 6
    res = dl.lesion_study(model, x, y)
    assert len(res.accuracy) == len(res.loss) == 3
    assert res.residual and 0 <= res.base_accuracy <= 1
    assert math.isfinite(res.mean_loss_increase())


@pytest.mark.slow
def test_gradient_profile_and_lesson_in_small(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    from core.lessons.data import load_lesson_data

    data = load_lesson_data("shapes", train_size=16, n_test=6, image_size=16)
    p = dl.gradient_profile(8, residual=False, batchnorm=True, steps=2, batch_size=8, data=data, width=4)
    assert len(p.init) == len(p.after) == 8 and p.init != p.after
    assert p.to_dict()["label"] == "plain-8 + BN"
    lesson = dl.depth_lesson(8, shallow_depth=4, steps=3, batch_size=8, grad_steps=1, train_size=16, n_test=6,
                             image_size=16, width=4)
    assert [c.label for c in lesson.curves] == ["plain-4", "plain-8", "residual-8"]
    assert all(len(c.losses) == 3 for c in lesson.curves)
    assert lesson.paths == [1, 3, 3, 1]
    assert [len(r.accuracy) for r in lesson.lesions] == [3, 3]
    text = lesson.conclusion()
    assert "plain-8" in text and f"{lesson.profiles[0].first_to_last():.2g}" in text


@pytest.mark.slow
def test_lesson_at_the_smallest_depth_has_no_shallower_reference(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    lesson = dl.depth_lesson(4, steps=2, batch_size=4, grad_steps=0, train_size=8, n_test=6, image_size=16, width=4)
    assert [c.label for c in lesson.curves] == ["plain-4", "residual-4"]
    assert "plain-4 training loss is" in lesson.conclusion() and "degradation" not in lesson.conclusion()
    deeper = dl.depth_lesson(8, shallow_depth=8, steps=2, batch_size=4, grad_steps=0, train_size=8, n_test=6,
                             image_size=16, width=4)
    assert [c.label for c in deeper.curves] == ["plain-4", "plain-8", "residual-8"]


@pytest.mark.slow
def test_googlenet_aux_gradients_per_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    r = dl.aux_gradients(batch_size=2, image_size=64)
    assert r.stages[0] == "conv1" and r.stages[-1] == "inception5b" and len(r.stages) == 12
    assert all(v > 0 for v in r.main_only + r.with_aux)
    # The auxiliary heads join at inception4a and 4d: stages after 4d see only the main loss, so they are equal.
    assert r.with_aux[-1] == pytest.approx(r.main_only[-1], rel=1e-5)
    assert r.with_aux[0] != pytest.approx(r.main_only[0], rel=1e-6)
    assert math.isfinite(r.early_gain())
