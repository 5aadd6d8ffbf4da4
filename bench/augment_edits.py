"""Augmentation lab edits: the preview grid recomputed from scratch vs resumed from cached per-step results.

The page's default pipeline (preset ``randaugment-cutmix``'s image steps), 16 tiles of a 256 px photo, the two
edits the issue timed (2.4–5.3 s per click in the browser): add a step at the end, and move the last step up.
- before: ``preview_grid(images, spec)`` — every step of every tile again;
- after: ``preview_grid(images, spec, cache=PrefixCache())`` warmed by the grid shown before the edit.
Both in this process, alternating, medians; the outputs are checked identical. Printed: times and ratios.
"""
from __future__ import annotations

import statistics
import time

import torch

from core.augment import PrefixCache, prepare_images, preview_grid, resolve_spec

N, SIZE = 16, 256


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(repeats: int = 3) -> None:
    torch.set_num_threads(1)
    from core.samples import load_sample

    images = prepare_images([load_sample("astronaut")], SIZE)
    base = resolve_spec("randaugment-cutmix")
    base = dict(base, mixing=None)
    added = dict(base, steps=[*base["steps"], {"name": "random_erasing", "p": 0.5, "params": {}}])
    added = resolve_spec(added)
    moved_steps = list(added["steps"])
    moved_steps[-2], moved_steps[-1] = moved_steps[-1], moved_steps[-2]
    moved = dict(added, steps=moved_steps)
    for label, before_spec, after_spec in (("add a step", base, added), ("move the last step up", added, moved)):
        full, inc = [], []
        for r in range(repeats):
            full.append(_time(lambda: preview_grid(images, after_spec, n=N, seed=r)))
            cache = PrefixCache()
            preview_grid(images, before_spec, n=N, seed=r, cache=cache)  # the grid on screen before the click
            inc.append(_time(lambda: preview_grid(images, after_spec, n=N, seed=r, cache=cache)))
        a = preview_grid(images, after_spec, n=N, seed=0)
        cache = PrefixCache()
        preview_grid(images, before_spec, n=N, seed=0, cache=cache)
        b = preview_grid(images, after_spec, n=N, seed=0, cache=cache)
        assert all(torch.equal(x.image, y.image) for x, y in zip(a, b)), "cached grid differs"
        f, i = statistics.median(full), statistics.median(inc)
        print(f"{label:24s} {len(after_spec['steps'])} steps × {N} tiles at {SIZE} px: full {f * 1000:7.1f} ms, "
              f"cached prefix {i * 1000:7.1f} ms, ratio {i / f:.2f}")


if __name__ == "__main__":
    main()
