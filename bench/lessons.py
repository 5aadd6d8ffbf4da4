"""Lessons at their pages' default settings: wall time of each experiment, and the numbers its page reports.

Each lesson runs twice in this process: first with an empty data cache (rendering Shapes included, what a fresh
server does), then again with the cache warm (what every later click costs). The issue asks for under a minute on
a 2-core CPU; the printed ratios are the warm wall and CPU times against that 60 s budget. ``--threads N`` sets
torch's intra-op threads (default 1: on a machine shared by several processes, OpenMP workers spinning at every
small op's barrier made the lessons several times slower with 2). The load average is printed: compare runs
only at similar load.
With one thread the CPU time is what the wall time would be on an idle core, so it is printed too.
The shortcut lesson trains three engine runs (worker subprocesses, one after another) and runs once; its CPU time
includes the workers'.

    .venv/bin/python -m bench.lessons [--only knn,fc_conv,depth,shortcut] [--threads 1]

Measured on the shared 2-core development machine (2026-12-02, one torch thread; wall times inflated by the load
of other processes, CPU time is what an idle core would take), cold / warm CPU seconds:
fc_conv 35.0 / 29.9 s (load 11; CNN 43 % vs FC 15 %), knn 33.0 / 31.9 s (load 11-33; CNN 40 % vs k-NN on pixels
23 % at 6,000 images), depth 31.2 / 25.8 s (load 5; residual-20 loss 1.096 vs plain-20 1.386), all under the
60 s budget; shortcut (three engine runs) 190.5 s wall, 138.5 s CPU at load 4 (biased 100 % validation, 19 %
test; hue augmentation 70 %, unbiased data 64 %).
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import torch

BUDGET_S = 60.0


def _shortcut():
    """The shortcut lesson at its page's defaults: three engine runs (worker subprocesses, one after another), then
    the page's evaluation. Its data_seconds is 0: the workers draw the images inside their own run time."""
    from core.lessons import shortcut as sc

    group = sc.wait_for_group(sc.start_shortcut(sc.ShortcutSettings()), timeout=3600)
    res = sc.shortcut_results(group)
    res.data_seconds = 0.0
    return res


def _lessons():
    from core.lessons.depth import depth_lesson
    from core.lessons.fc_vs_conv import fc_vs_conv_lesson
    from core.lessons.knn import knn_lesson

    # The pages' defaults (views/lesson_*.py); each function's defaults are the page's.
    return {
        "knn": lambda: knn_lesson(),
        "fc_conv": lambda: fc_vs_conv_lesson(),
        "depth": lambda: depth_lesson(),
        "shortcut": _shortcut,
    }


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the shortcut lesson's worker processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated: knn, fc_conv, depth, shortcut")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    home = tempfile.mkdtemp(prefix="bench-lessons-")
    os.environ["CNNPG_HOME"] = home  # the shortcut lesson's runs and group files land here, not in var/
    os.environ["CNNPG_DATA_DIR"] = os.path.join(home, "data")
    os.environ["CNNPG_RUNS_DIR"] = os.path.join(home, "runs")
    lessons = _lessons()
    chosen = [n for n in (args.only.split(",") if args.only else lessons) if n]
    print(f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    for name in chosen:
        times, cpus = [], []
        # The shortcut lesson's runs go through the engine (its budget is a stated duration, not 60 s): once.
        for phase in (("cold",) if name == "shortcut" else ("cold", "warm")):
            start, cpu = time.perf_counter(), _cpu()
            res = lessons[name]()
            times.append(time.perf_counter() - start)
            cpu = _cpu() - cpu
            cpus.append(cpu)
            print(f"{name:9s} {phase}: wall {times[-1]:6.1f} s, CPU {cpu:6.1f} s (rendering {res.data_seconds:.1f} s "
                  f"wall) · load {os.getloadavg()[0]:.1f}", flush=True)
        print(f"{name:9s} {phase} / {BUDGET_S:.0f} s budget: wall {times[-1] / BUDGET_S:.2f}, "
              f"CPU {cpus[-1] / BUDGET_S:.2f}")
        print(f"          {res.conclusion()}", flush=True)


if __name__ == "__main__":
    main()
