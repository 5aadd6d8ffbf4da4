"""Issue 8.15: the Augmentation lab's preview reuses per-step results (PrefixCache) and stays bit-identical."""
from __future__ import annotations

import torch

from core.augment import PRESETS, PrefixCache, preview_grid, resolve_spec, validate_spec


def _img(seed: int = 0, size: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g)


def _same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert torch.equal(x.image, y.image) and x.caption == y.caption and x.to_dict() == y.to_dict()


SPEC = validate_spec({"steps": [
    {"name": "random_resized_crop"}, {"name": "hflip", "p": 0.5}, {"name": "rotation", "p": 0.7},
    {"name": "color_jitter", "p": 0.8, "params": {"hue": 0.0}}, {"name": "randaugment"},
    {"name": "random_erasing", "p": 0.5},
], "mixing": None})


def test_adding_a_step_reuses_the_prefix_and_matches_a_full_run():
    images = [_img(0), _img(1)]
    cache = PrefixCache()
    short = dict(SPEC, steps=SPEC["steps"][:-1])
    _same(preview_grid(images, short, n=8, seed=3, cache=cache), preview_grid(images, short, n=8, seed=3))
    ran = cache.misses
    assert ran == 8 * 5
    tiles = preview_grid(images, SPEC, n=8, seed=3, cache=cache)
    assert cache.misses - ran == 8  # one new step per tile, the first five were reused
    _same(tiles, preview_grid(images, SPEC, n=8, seed=3))


def test_reordering_reruns_from_the_moved_step_only():
    images = [_img(2)]
    cache = PrefixCache()
    preview_grid(images, SPEC, n=6, seed=0, cache=cache)
    steps = list(SPEC["steps"])
    steps[3], steps[4] = steps[4], steps[3]
    moved = dict(SPEC, steps=steps)
    before = cache.misses
    tiles = preview_grid(images, moved, n=6, seed=0, cache=cache)
    assert cache.misses - before == 6 * 3  # steps 3, 4, 5 rerun; 0-2 reused
    _same(tiles, preview_grid(images, moved, n=6, seed=0))


def test_presets_identical_with_a_warm_cache_and_the_callers_rng_left_alone():
    cache = PrefixCache()
    for name in PRESETS:
        spec = resolve_spec(name)
        torch.manual_seed(123)
        expected_next = torch.rand(3)
        torch.manual_seed(123)
        preview_grid([_img(5)], spec, n=4, seed=9, cache=cache)
        cached_again = preview_grid([_img(5)], spec, n=4, seed=9, cache=cache)
        assert torch.equal(torch.rand(3), expected_next)
        _same(cached_again, preview_grid([_img(5)], spec, n=4, seed=9))


def test_cache_is_bounded_by_bytes():
    cache = PrefixCache(max_bytes=10 * 3 * 48 * 48)
    preview_grid([_img(0)], SPEC, n=8, seed=0, cache=cache)
    assert 0 < len(cache) <= 10
