"""Lessons at their pages' default settings: wall time of each experiment, and the numbers its page reports.

Each lesson runs twice in this process: first with an empty data cache (rendering Shapes included, what a fresh
server does), then again with the cache warm (what every later click costs). The issue asks for under a minute on
a 2-core CPU; the printed ratios are the warm wall and CPU times against that 60 s budget. ``--threads N`` sets
torch's intra-op threads (default 1: on a machine shared by several processes, OpenMP workers spinning at every
small op's barrier made the lessons several times slower with 2). The load average is printed: compare runs only at similar load.
With one thread the CPU time is what the wall time would be on an idle core, so it is printed too.

    .venv/bin/python -m bench.lessons [--only knn,fc_conv,depth,shortcut] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

BUDGET_S = 60.0


def _lessons():
    from core.lessons.depth import depth_lesson
    from core.lessons.fc_vs_conv import fc_vs_conv_lesson
    from core.lessons.knn import knn_lesson
    from core.lessons.shortcut import shortcut_lesson

    # The pages' defaults (views/lesson_*.py): k-NN sizes 100/1000/3000, k 5, 200 steps; FC vs conv 300 steps on
    # 3000 images; depth 20 with BatchNorm, 150 steps; shortcut bias 1.0, 200 steps, 2000 images.
    return {
        "knn": lambda: knn_lesson(train_sizes=(100, 1000, 3000), k=5, steps=200),
        "fc_conv": lambda: fc_vs_conv_lesson(steps=300, train_size=3000),
        "depth": lambda: depth_lesson(20, batchnorm=True, steps=150),
        "shortcut": lambda: shortcut_lesson(bias=1.0, steps=200, train_size=2000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated: knn, fc_conv, depth, shortcut")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["CNNPG_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-lessons-")
    lessons = _lessons()
    chosen = [n for n in (args.only.split(",") if args.only else lessons) if n]
    print(f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    for name in chosen:
        times, cpus = [], []
        for phase in ("cold", "warm"):
            start, cpu = time.perf_counter(), time.process_time()
            res = lessons[name]()
            times.append(time.perf_counter() - start)
            cpu = time.process_time() - cpu
            cpus.append(cpu)
            print(f"{name:9s} {phase}: wall {times[-1]:6.1f} s, CPU {cpu:6.1f} s (rendering {res.data_seconds:.1f} s "
                  f"wall) · load {os.getloadavg()[0]:.1f}", flush=True)
        print(f"{name:9s} warm / {BUDGET_S:.0f} s budget: wall {times[1] / BUDGET_S:.2f}, CPU {cpus[1] / BUDGET_S:.2f}")
        print(f"          {res.conclusion()}", flush=True)


if __name__ == "__main__":
    main()
