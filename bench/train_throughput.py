"""Training throughput: our loop (``core.train.loop.train``) vs a bare PyTorch loop, same process, same everything.

Both sides train the same architecture (fresh, seeded) on the same Shapes images (uint8 tensors normalised on the
device, no augmentation) with the same batch size and SGD settings, for the same number of steps. The bare loop is
the minimum: DataLoader → float/normalise → forward → cross-entropy → zero_grad → backward → step.
Ours adds what makes it a lab: lr schedule, stop polling, per-image seeded sampler keys, on-device metric sums,
logging records and ETA. Evaluation and checkpoints are excluded on our side (the loop reports its pure training
time); the bare loop has neither. Runs alternate (bare, ours, bare, ours, …) so background load hits both.

    .venv/bin/python -m bench.train_throughput [--arch resnet18] [--steps 40] [--batch 64] [--size 64] [--rounds 3]

Target: ratio ours / bare ≥ 0.95.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from core.data import open_dataset
from core.models import build
from core.train import TrainConfig
from core.train.loop import IMAGENET_MEAN, IMAGENET_STD, train


def bare_loop(arch: str, dataset, num_classes: int, steps: int, batch: int, lr: float, seed: int) -> float:
    """img/s of the plainest correct loop."""
    torch.manual_seed(seed)
    model = build(arch, num_classes=num_classes).train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    done = 0
    t0 = time.perf_counter()
    while done < steps:
        for x, y in loader:
            x = (x.float().div_(255) - mean) / std
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    loss.item()
    return steps * batch / (time.perf_counter() - t0)


def our_loop(cfg: TrainConfig) -> float:
    """img/s as our loop measures it (training time only: no evaluation, no checkpoint)."""
    result = train(cfg)
    return result.img_per_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--n", type=int, default=3000, help="Shapes training images")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as home:
        import os

        os.environ.setdefault("CNNPG_HOME", home)
        # the bare loop's recipe: SGD + Nesterov, weight decay, plain cross-entropy, no augmentation
        cfg = TrainConfig(arch=args.arch, dataset_options={"n": args.n}, image_size=args.size, batch_size=args.batch,
                          epochs=1000, max_steps=args.steps, val_fraction=0.0, optimizer="sgd", lr=0.05,
                          weight_decay=5e-4, label_smoothing=0.0, augmentation="none", log_every=10,
                          checkpoint_every_s=1e9)
        dataset = open_dataset("shapes", "train", image_size=args.size, n=args.n)  # same cached images as ours
        K = len(dataset.classes)
        print(f"{args.arch}, {args.size}px, batch {args.batch}, {args.steps} steps, {torch.get_num_threads()} threads")
        bare, ours = [], []
        our_loop(cfg.replace(max_steps=2))  # warm-up: first-call allocations, kernel choice, lazy imports
        for r in range(args.rounds):
            # alternate who goes first, so a warm cache or a burst of background load favours neither side
            if r % 2 == 0:
                bare.append(bare_loop(args.arch, dataset, K, args.steps, args.batch, cfg.lr, cfg.seed))
                ours.append(our_loop(cfg))
            else:
                ours.append(our_loop(cfg))
                bare.append(bare_loop(args.arch, dataset, K, args.steps, args.batch, cfg.lr, cfg.seed))
            print(f"  round {r + 1}: bare {bare[-1]:7.1f} img/s · ours {ours[-1]:7.1f} img/s · "
                  f"ratio {ours[-1] / bare[-1]:.3f}", flush=True)
    b, o = statistics.median(bare), statistics.median(ours)
    ratio = statistics.median(x / y for x, y in zip(ours, bare))
    print(f"bare PyTorch loop: {b:.1f} img/s (median of {args.rounds})")
    print(f"core.train loop:   {o:.1f} img/s (median of {args.rounds})")
    print(f"ratio ours / bare: {ratio:.3f} (median of the per-round ratios; target ≥ 0.95)")


if __name__ == "__main__":
    main()
