"""Torch thread policy for a shared server: how many intra-op threads should a page's forward and a training
worker use? Measures, on this machine, the choices ``core.threads`` picks between.

Run: ``.venv/bin/python -m bench.threads [--seconds S]`` (default 6 s per scenario, about a minute in all).

Scenarios (ResNet-18 forward at 224 px, batch 1, as Classify / Grad-CAM run it):

1. ``alone``: one session classifies, with 1 and with all cores' threads.
2. ``2 sessions``: two sessions (two threads of the server process) classify at once, 1 vs all threads each.
3. ``beside training``: one session classifies while a training worker process (ResNet-18, 64 px, batch 32,
   the shape of the default runs) trains with W threads.

Reported per scenario: median and p95 wall time of a forward, forwards per second over all sessions, and the
server process's **CPU seconds per forward** (``getrusage``, every thread included): the cost one more
student's click adds, the least sensitive figure to other load on the machine. With several threads per
forward, OpenMP workers spin while waiting, so CPU per forward grows even when wall time drops.
Gotcha: ``torch.set_num_threads`` is process-wide, not per Python thread: two sessions in one server process
always share one setting, which is why the policy is per process (server vs worker), not per request.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

import torch

WORKER = r"""
import sys, time, torch
torch.set_num_threads(int(sys.argv[1])); seconds = float(sys.argv[2])
from core.models import build
m = build("resnet18", num_classes=10, weights="none").train()
opt = torch.optim.SGD(m.parameters(), lr=0.01)
x, y = torch.randn(32, 3, 64, 64), torch.randint(0, 10, (32,))
print("ready", flush=True)
steps, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step(); steps += 1
print(f"{steps / (time.perf_counter() - t0):.3f}", flush=True)
"""


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _sessions(model, n_sessions: int, seconds: float) -> dict:
    """``n_sessions`` threads forward for ``seconds``; latencies of every forward and process CPU time."""
    x = torch.zeros(1, 3, 224, 224)
    lat: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def loop() -> None:
        mine = []
        with torch.inference_mode():
            while time.perf_counter() < stop:
                t = time.perf_counter()
                model(x)
                mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    cpu0, t0 = _cpu(), time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(n_sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    lat.sort()
    return {"n": len(lat), "p50_ms": 1e3 * statistics.median(lat), "p95_ms": 1e3 * lat[int(0.95 * (len(lat) - 1))],
            "per_s": len(lat) / wall, "cpu_s_per_forward": cpu / max(1, len(lat))}


def _line(label: str, r: dict, extra: str = "") -> None:
    print(f"  {label:<34} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  {r['per_s']:6.2f} forwards/s  "
          f"{r['cpu_s_per_forward']:.3f} CPU-s/forward{extra}", flush=True)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="duration of each scenario")
    args = ap.parse_args(argv)
    from core.models import build

    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {cores} cores, load average {load:.1f} at start "
          f"(other processes on these cores inflate wall times; CPU-s/forward is the steadier figure)")
    torch.manual_seed(0)
    model = build("resnet18", weights="none").eval()
    with torch.inference_mode():
        model(torch.zeros(1, 3, 224, 224))  # one-time set-up outside the timings
    results: dict = {}
    choices = sorted({1, cores})
    for sessions in (1, 2):
        print(f"{sessions} session(s) classifying at once (ResNet-18, 224 px):")
        for n in choices:
            torch.set_num_threads(n)
            r = results[f"{sessions}x{n}"] = _sessions(model, sessions, args.seconds)
            _line(f"{n} thread(s) per forward", r)
    print(f"1 session classifying beside a training worker (ResNet-18, 64 px, batch 32):")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    for server_n, worker_n in sorted({(1, 1), (1, cores), (cores, cores)}):
        torch.set_num_threads(server_n)
        proc = subprocess.Popen([sys.executable, "-c", WORKER, str(worker_n), str(args.seconds + 2)],
                                stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # the worker is past its first steps
        r = _sessions(model, 1, args.seconds)
        r["worker_steps_s"] = float(proc.stdout.readline())
        proc.wait(timeout=60)
        results[f"train s{server_n} w{worker_n}"] = r
        _line(f"server {server_n}, worker {worker_n} thread(s)", r, f"  worker {r['worker_steps_s']:.2f} steps/s")
    return results


if __name__ == "__main__":
    main()
