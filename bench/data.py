"""Is data ever the bottleneck? Shapes generation speed and item throughput vs a bare tensor baseline.

Run: ``.venv/bin/python -m bench.data [N]`` (N images to render, default 2000; extrapolated to 12k).
Prints: rendering speed (img/s, seconds for the 12k default), and DataLoader throughput over the cached
data set against slicing one in-memory uint8 tensor (the fastest possible input pipeline), side by side.
Data must be well above the fastest training step: on the 2-core development machine LeNet-5 (the default
preset) trains at ~1,200 img/s at 64 px and ResNet-18 at ~80 (``bench.train_throughput`` measures yours).
"""
from __future__ import annotations

import sys
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from core.data.shapes import ShapesDataset, generate


def main() -> None:
    torch.set_num_threads(1)  # the input pipeline runs beside training: one core
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    start = time.perf_counter()
    generate("train", n, image_size=64)
    gen = time.perf_counter() - start
    print(f"Shapes rendering @64px: {n / gen:,.0f} img/s -> {12_000 * gen / n:.1f} s for the 12k default split "
          f"(once; cached afterwards)")

    with tempfile.TemporaryDirectory() as root:
        ds = ShapesDataset("train", image_size=64, n=n, root=root)
        start = time.perf_counter()
        ShapesDataset("train", image_size=64, n=n, root=root)
        print(f"Loading the cached split: {time.perf_counter() - start:.2f} s for {n} images")
        x, y = ds.tensors()

        def timed(fn, repeats: int = 3) -> float:
            best = 0.0
            for _ in range(repeats):  # best of 3: the machine is shared
                start = time.perf_counter()
                count = fn()
                best = max(best, count / (time.perf_counter() - start))
            return best

        def loader() -> int:
            count = 0
            for images, labels in DataLoader(ds, batch_size=32, shuffle=True, num_workers=0):
                count += len(images)
            return count

        def baseline() -> int:
            count = 0
            perm = torch.randperm(len(x))
            for s in range(0, len(x), 32):
                idx = perm[s:s + 32]
                images, _labels = x[idx], y[idx]  # both slices, as the loader yields both
                count += len(images)
            return count

        ours, base = timed(loader), timed(baseline)
        print(f"DataLoader over ShapesDataset: {ours:,.0f} img/s; bare tensor slicing: {base:,.0f} img/s; "
              f"ratio {ours / base:.3f}")


if __name__ == "__main__":
    main()
