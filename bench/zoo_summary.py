"""``summary`` for the whole zoo at default input sizes vs the bare way of getting the same two numbers.

Side by side, in this process, per architecture:
- baseline: build the real model (random init, CPU), ``sum(p.numel())``, one plain forward of a
  ``[1, 3, S, S]`` zero image under ``FlopCounterMode`` — params and FLOPs, nothing else;
- ours: ``core.models.summary(name)`` — a shapes-only (meta-device) build, forward hooks on every leaf module,
  the per-layer table (output shapes, params, MACs) plus the same totals.
Both must agree on params and FLOPs (checked). Ratio ours / baseline < 1 means the full table costs less than
the bare count, because meta tensors skip the arithmetic and the 100+ M random numbers of VGG's init.
A second ``summary`` pass shows the cost without one-time imports / warm-up.

Run: ``.venv/bin/python -m bench.zoo_summary`` (optionally architecture names to restrict it).
"""
from __future__ import annotations

import gc
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from core.models import ARCHITECTURES, get_spec, summary


def baseline(name: str) -> tuple[int, int]:
    spec = get_spec(name)
    model = spec.builder(num_classes=spec.default_num_classes).eval()
    params = sum(p.numel() for p in model.parameters())
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, spec.input_size, spec.input_size))
    return params, counter.get_total_flops()


def main(names: list[str]) -> int:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; times in seconds")
    print(f"{'architecture':20s} {'px':>4s} {'params':>12s} {'GFLOPs':>8s} {'rows':>5s} "
          f"{'baseline':>9s} {'summary':>8s} {'warm':>7s} {'ratio':>6s}")
    tot_base = tot_ours = tot_warm = 0.0
    for name in names:
        spec = get_spec(name)
        gc.collect()
        t = time.perf_counter()
        b_params, b_flops = baseline(name)
        t_base = time.perf_counter() - t
        gc.collect()
        t = time.perf_counter()
        s = summary(name)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        summary(name)
        t_warm = time.perf_counter() - t
        assert (s.total_params, s.flops) == (b_params, b_flops), (name, s.total_params, b_params, s.flops, b_flops)
        tot_base, tot_ours, tot_warm = tot_base + t_base, tot_ours + t_ours, tot_warm + t_warm
        print(f"{name:20s} {spec.input_size:4d} {s.total_params:12,d} {s.gflops:8.3f} {len(s.rows):5d} "
              f"{t_base:9.3f} {t_ours:8.3f} {t_warm:7.3f} {t_ours / t_base:6.2f}", flush=True)
    print(f"{'zoo total':20s} {'':4s} {'':12s} {'':8s} {'':5s} {tot_base:9.3f} {tot_ours:8.3f} {tot_warm:7.3f} "
          f"{tot_ours / tot_base:6.2f}")
    print(f"ratio summary / baseline (first pass): {tot_ours / tot_base:.2f}; warm pass: {tot_warm / tot_base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main([get_spec(n).name for n in sys.argv[1:]] or list(ARCHITECTURES)))
