"""CutMix / MixUp: λ is the kept area after clipping, labels mix as λ·a + (1-λ)·b, contract of the batch mixer."""
from __future__ import annotations

import pickle

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.augment import AugmentError, build_batch_mixer, mix_preview
from core.augment.mixing import BatchMixer
from core.augment.pipeline import seeded


def _mixer(name="cutmix", alpha=1.0, p=1.0, k=3):
    return BatchMixer({"name": name, "p": p, "params": {"alpha": alpha}}, k)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), h=st.integers(1, 61), w=st.integers(1, 61),
       alpha=st.sampled_from([0.1, 0.5, 1.0, 3.0]), batch=st.integers(2, 4))
def test_cutmix_lambda_is_the_kept_area_fraction(seed, h, w, alpha, batch):
    # image i is all i+1: after mixing, the pixels still equal to i+1 are the kept area
    images = torch.stack([torch.full((3, h, w), float(i + 1)) for i in range(batch)])
    labels = torch.arange(batch) % 3
    with seeded(seed):
        out, soft, rec = _mixer(alpha=alpha).mix(images, labels)
    x1, y1, x2, y2 = rec.box
    assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h
    kept = (out[0, 0] == 1.0).float().mean().item()
    assert rec.lam == pytest.approx(kept, abs=1e-6)
    assert rec.lam == pytest.approx(1 - (x2 - x1) * (y2 - y1) / (h * w), abs=1e-9)
    assert 0.0 <= rec.lam_drawn <= 1.0
    pasted = out[0, 0] == float(batch)  # image 0 receives its box from image B-1 (roll by one)
    assert pasted.float().mean().item() == pytest.approx(1 - kept, abs=1e-6)
    # soft label: λ·onehot(own) + (1-λ)·onehot(previous), rows sum to 1
    expected = torch.zeros(3)
    expected[labels[0]] += rec.lam
    expected[labels[-1]] += 1 - rec.lam
    assert torch.allclose(soft[0], expected, atol=1e-6)
    assert torch.allclose(soft.sum(1), torch.ones(batch), atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_mixup_label_and_pixels(seed):
    a, b = torch.rand(3, 9, 11), torch.rand(3, 9, 11)
    with seeded(seed):
        out, soft, rec = _mixer("mixup", alpha=0.4, k=4).mix(torch.stack([a, b]), torch.tensor([1, 3]))
    lam = rec.lam
    assert torch.allclose(out[0], lam * a + (1 - lam) * b, atol=1e-6)
    assert torch.allclose(soft[0], torch.tensor([0, lam, 0, 1 - lam]), atol=1e-6)
    assert torch.allclose(soft[1], torch.tensor([0, 1 - lam, 0, lam]), atol=1e-6)


def test_build_batch_mixer_contract_and_pickle():
    assert build_batch_mixer("randaugment", 5) is None
    assert build_batch_mixer(None, 5) is None
    mixer = build_batch_mixer("randaugment-cutmix", 5)
    images, labels = torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 4])
    out, soft = mixer(images, labels)
    assert out.shape == images.shape and soft.shape == (4, 5) and soft.dtype == torch.float32
    clone = pickle.loads(pickle.dumps(mixer))
    torch.manual_seed(0)
    a = mixer(images, labels)
    torch.manual_seed(0)
    b = clone(images, labels)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_p_zero_returns_one_hot_labels_untouched_images():
    images = torch.rand(2, 3, 8, 8)
    out, soft, rec = _mixer(p=0.0).mix(images, torch.tensor([0, 2]))
    assert torch.equal(out, images) and not rec.applied and "not applied" in rec.text
    assert torch.equal(soft, torch.tensor([[1.0, 0, 0], [0, 0, 1.0]]))


@pytest.mark.parametrize("images, labels, words", [
    (torch.rand(3, 8, 8), torch.tensor([0]), "[B, C, H, W]"),
    (torch.rand(2, 3, 8, 8), torch.tensor([0.0, 1.0]), "integer class labels"),
    (torch.rand(2, 3, 8, 8), torch.tensor([0, 1, 2]), "2 images but 3 labels"),
    (torch.rand(2, 3, 8, 8), torch.tensor([0, 7]), "labels must be in 0..2"),
])
def test_bad_batches_are_clear_errors(images, labels, words):
    with pytest.raises(AugmentError) as info:
        _mixer()(images, labels)
    assert words in str(info.value)


def test_bad_num_classes_and_mix_preview_checks():
    with pytest.raises(AugmentError, match="positive whole number"):
        build_batch_mixer("randaugment-cutmix", 0)
    img = torch.zeros(3, 8, 8, dtype=torch.uint8)
    with pytest.raises(AugmentError, match="same size"):
        mix_preview([img, torch.zeros(3, 9, 8, dtype=torch.uint8)], [0, 1], 2, {"name": "cutmix"})
    with pytest.raises(AugmentError, match="at least two"):
        mix_preview([img], [0], 2, {"name": "cutmix"})


def test_mix_preview_is_seeded_and_returns_uint8():
    a = torch.zeros(3, 20, 30, dtype=torch.uint8)
    b = torch.full((3, 20, 30), 255, dtype=torch.uint8)
    r1 = mix_preview([a, b], [0, 1], 2, {"name": "cutmix", "params": {"alpha": 1.0}}, seed=3)
    r2 = mix_preview([a, b], [0, 1], 2, {"name": "cutmix", "params": {"alpha": 1.0}}, seed=3)
    assert torch.equal(r1.images[0], r2.images[0]) and r1.record.box == r2.record.box
    assert r1.images[0].dtype == torch.uint8
    kept = (r1.images[0][0] == 0).float().mean().item()
    assert r1.record.lam == pytest.approx(kept) and float(r1.soft_labels[0, 0]) == pytest.approx(kept)


def test_crop_batch_is_seeded_and_labelled_by_source():
    from core.augment.mixing import crop_batch

    srcs = [torch.randint(0, 256, (3, 40, 50), dtype=torch.uint8), torch.zeros(3, 40, 50, dtype=torch.uint8)]
    a, la = crop_batch(srcs, n=5, size=24, seed=1)
    b, lb = crop_batch(srcs, n=5, size=24, seed=1)
    assert la == lb == [0, 1, 0, 1, 0]
    assert all(x.shape == (3, 24, 24) and torch.equal(x, y) for x, y in zip(a, b))
