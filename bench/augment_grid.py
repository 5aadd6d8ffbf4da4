"""A 16-tile preview grid at 512 px: our recording pipeline vs the same torchvision v2 calls made directly.

Both sides run the same transforms with the same seeds (tile i: torch.manual_seed(seed + i)) in this process:
- baseline: ``v2.Compose`` of the exact ``v2`` objects the exported code builds, called on each tile;
- ours (training path): ``build_transform(spec)(img)`` — what DataLoader workers call;
- ours (preview path): ``preview_grid(...)``, which also records every drawn parameter, caption, the corners and
  affine matrix of geometric steps, and restores the caller's RNG.
The ratio ours / baseline is the price of reporting what was drawn (target ≤ 1.1). Runs alternate to share noise.
"""
from __future__ import annotations

import statistics
import time

import torch
from torchvision.transforms import v2

from core.augment import build_transform, prepare_images, preview_grid, resolve_spec
from core.augment.pipeline import step_calls

SPEC = {"steps": [
    {"name": "random_resized_crop"}, {"name": "hflip", "p": 0.5}, {"name": "affine", "p": 0.5},
    # hue=0: torchvision's hue shift on uint8 takes ~1 s per 512 px image on 2 busy cores and would drown the rest
    {"name": "color_jitter", "p": 0.8, "params": {"hue": 0.0}},
    {"name": "randaugment", "params": {"num_ops": 2, "magnitude": 9}},
    {"name": "random_erasing", "p": 0.5},
], "mixing": None}
N, SEED, SIZE = 16, 0, 512


def _image() -> torch.Tensor:
    from core.samples import load_sample

    return prepare_images([load_sample("astronaut")], SIZE)[0]


def _direct(spec: dict, h: int, w: int) -> v2.Compose:
    parts = []
    for step in spec["steps"]:
        calls, wrap = step_calls(step, h, w)
        objs = [c.make() for c in calls]
        parts.append(v2.RandomApply(objs, p=step["p"]) if wrap else v2.Compose(objs))
    return v2.Compose(parts)


def main(repeats: int = 5) -> None:
    img = _image()
    h, w = img.shape[-2:]
    spec = resolve_spec(SPEC)
    direct = _direct(spec, h, w)
    ours = build_transform(spec)

    def run_direct():
        out = []
        for i in range(N):
            torch.manual_seed(SEED + i)
            out.append(direct(img))
        return out

    def run_ours():
        out = []
        for i in range(N):
            torch.manual_seed(SEED + i)
            out.append(ours(img))
        return out

    def run_preview():
        return [t.image for t in preview_grid(img, spec, n=N, seed=SEED)]

    a, b, c = run_direct(), run_ours(), run_preview()  # warm-up, and check they are the same pixels
    same = all(torch.equal(x, y) and torch.equal(x, z) for x, y, z in zip(a, b, c))
    times = {"direct": [], "ours": [], "preview": []}
    for _ in range(repeats):
        for name, fn in (("direct", run_direct), ("ours", run_ours), ("preview", run_preview)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["direct"])
    print(f"{N} tiles at {w}x{h} px, {len(spec['steps'])} steps, {torch.get_num_threads()} threads; "
          f"identical pixels on all three paths: {same}")
    print(f"{'path':44s} {'median (ms)':>12s} {'ratio':>7s}")
    print(f"{'torchvision v2.Compose called directly':44s} {base * 1e3:12.1f} {1.0:7.3f}")
    for name, label in (("ours", "build_transform(spec) (training path)"),
                        ("preview", "preview_grid (records params, corners)")):
        t = statistics.median(times[name])
        print(f"{label:44s} {t * 1e3:12.1f} {t / base:7.3f}")


if __name__ == "__main__":
    main()
