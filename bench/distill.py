"""Does it help? Knowledge distillation vs none, and self-training stages vs the labelled-only teacher, on Shapes,
at the Distill & self-train page's defaults, over seeds.

KD: one teacher (the page's "Train the default teacher": the default preset, LeNet-5, 15 epochs on 10.8k Shapes
images at 64 px, seed 0), then for each seed the page's default student (``core.train.losses.kd_pair``: LeNet-5,
3 epochs, T = 4, α = 0.9) trained twice, with and without distillation, everything else equal. Printed per seed
and as mean ± standard deviation (and min–max): test accuracy of both, the difference, and the student's top-1
agreement with the teacher.

Self-training: for each seed ``core.train.selftrain.SELF_TRAIN_DEFAULTS`` (the page's defaults): test accuracy
after each stage against stage 0 (the labelled-only teacher), the pseudo-label accuracy and the number kept, and
the run's wall and CPU time. ``--control`` adds the noise-only control: the same first student with threshold 1.0
(no pseudo-label kept), so the part of the gain that RandAugment alone brings shows.

The results also go to ``bench/results/distill.json`` (``--out``), which the page reads to show the measured table
next to its buttons: the page's numbers are this file's, not typed text. A run of only one part keeps the other
part already in the file.

    .venv/bin/python -m bench.distill [--seeds 0 1 2] [--jobs 3] [--threads 1] [--skip-kd] [--skip-selftrain]
    .venv/bin/python -m bench.distill --n 6000 --image-size 32 --teacher-epochs 10 --student-epochs 2  # smaller

Gotcha: wall times depend on how busy the machine is (``--jobs`` runs seeds side by side, each slower); CPU time
(the run's process time, ``--threads 1``) much less so, and accuracies not at all (CPU, fixed seeds).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "distill.json"
TIMES_FILE = "bench-times.json"  # a run's measured wall and CPU seconds, next to its config


def _stats(values: list[float | None]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def _ms(values: list[float]) -> str:
    s = _stats(values)
    return f"{100 * s['mean']:.1f} ± {100 * s['sd']:.1f} % (min {100 * s['min']:.1f}, max {100 * s['max']:.1f})"


def _execute(cfg_dict: dict, runs: str, threads: int) -> dict:
    """Create and run one run in this process (as the page's worker would): its folder, wall and CPU seconds."""
    import torch

    from core.runs import store, worker
    from core.train.config import TrainConfig

    torch.set_num_threads(threads)
    # a folder per run: runs in one folder share its device lock and would wait for each other (core.runs.worker)
    folder = Path(tempfile.mkdtemp(dir=runs, prefix="job-"))
    run_dir = store.create_run(TrainConfig.from_dict(cfg_dict), folder)
    t0, c0 = time.time(), time.process_time()
    worker.execute(run_dir)
    wall, cpu = time.time() - t0, time.process_time() - c0
    status = store.read_status(run_dir)
    if status.get("state") != "completed":
        raise SystemExit(f"run {run_dir.name} did not complete: {status.get('message')}")
    (run_dir / TIMES_FILE).write_text(json.dumps({"wall_s": wall, "cpu_s": cpu}))  # for --st-finished
    return {"run_dir": str(run_dir), "wall_s": wall, "cpu_s": cpu}


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))


def bench_kd(seeds: list[int], runs: Path, data: dict, teacher_epochs: int, student_epochs: int, jobs: int,
             threads: int) -> dict:
    from core.runs import store
    from core.runs.distill_figures import agreement
    from core.train.config import TrainConfig
    from core.train.losses import kd_pair

    t_cfg = TrainConfig.from_preset("shapes-lenet5", epochs=teacher_epochs, **data)
    t = _execute(t_cfg.to_dict(), str(runs), threads)
    teacher = Path(t["run_dir"])
    t_acc = store.run_summary(teacher)["test_acc"]
    print(f"teacher: LeNet-5 default preset with {data or 'its data'} and {teacher_epochs} epochs, test "
          f"{100 * t_acc:.1f} % ({t['wall_s']:.0f} s wall, {t['cpu_s']:.0f} s CPU)", flush=True)
    pairs = {seed: kd_pair(str(teacher), seed=seed, epochs=student_epochs) for seed in seeds}
    with _pool(jobs) as pool:
        futures = {(seed, which): pool.submit(_execute, cfg.to_dict(), str(runs), threads)
                   for seed, (kd_cfg, plain_cfg) in pairs.items() for which, cfg in (("kd", kd_cfg), ("plain", plain_cfg))}
        done = {k: f.result() for k, f in futures.items()}
    per_seed = []
    for seed in seeds:
        a_kd = agreement(teacher, done[seed, "kd"]["run_dir"])
        a_plain = agreement(teacher, done[seed, "plain"]["run_dir"])
        row = {"seed": seed, "kd_acc": a_kd["student_acc"], "plain_acc": a_plain["student_acc"],
               "diff": a_kd["student_acc"] - a_plain["student_acc"], "kd_agreement": a_kd["agreement"],
               "plain_agreement": a_plain["agreement"], "kd_cpu_s": done[seed, "kd"]["cpu_s"],
               "plain_cpu_s": done[seed, "plain"]["cpu_s"], "kd_wall_s": done[seed, "kd"]["wall_s"],
               "plain_wall_s": done[seed, "plain"]["wall_s"]}
        per_seed.append(row)
        print(f"seed {seed}: with KD {100 * row['kd_acc']:.1f} % (agrees {100 * row['kd_agreement']:.1f} %, "
              f"{row['kd_cpu_s']:.0f} s CPU) · without {100 * row['plain_acc']:.1f} % (agrees "
              f"{100 * row['plain_agreement']:.1f} %, {row['plain_cpu_s']:.0f} s CPU)", flush=True)
    kd_cfg = pairs[seeds[0]][0]
    col = {k: [r[k] for r in per_seed] for k in per_seed[0]}
    print(f"KD (T={kd_cfg.temperature:g}, alpha={kd_cfg.alpha:g}, {kd_cfg.epochs} epochs, {kd_cfg.arch}) over "
          f"{len(seeds)} seeds:")
    print(f"  with KD     {_ms(col['kd_acc'])}   agreement with the teacher {_ms(col['kd_agreement'])}")
    print(f"  without KD  {_ms(col['plain_acc'])}   agreement with the teacher {_ms(col['plain_agreement'])}")
    print(f"  difference  {_ms(col['diff'])}")
    return {"setting": {"teacher": f"shapes-lenet5 preset, {teacher_epochs} epochs", "teacher_test_acc": t_acc,
                        "teacher_cpu_s": t["cpu_s"], "student": kd_cfg.arch, "student_epochs": kd_cfg.epochs,
                        "temperature": kd_cfg.temperature, "alpha": kd_cfg.alpha,
                        "dataset_options": kd_cfg.dataset_options, "image_size": kd_cfg.image_size},
            "seeds": per_seed, "kd_acc": _stats(col["kd_acc"]), "plain_acc": _stats(col["plain_acc"]),
            "diff": _stats(col["diff"]), "kd_agreement": _stats(col["kd_agreement"]),
            "plain_agreement": _stats(col["plain_agreement"]), "cpu_s": _stats(col["kd_cpu_s"] + col["plain_cpu_s"])}


def bench_selftrain(seeds: list[int], runs: Path, overrides: dict, jobs: int, threads: int,
                    finished: list[Path] = ()) -> dict:
    """``finished``: completed self-training run folders of this setting to count instead of running their seeds
    again (their wall and CPU seconds from the run's bench-times.json when this bench ran it, else CPU unknown
    and left out of the CPU-time statistics)."""
    from core.runs import store
    from core.train.selftrain import SELF_TRAIN_DEFAULTS, self_train_config, stages_summary

    cfgs = {seed: self_train_config(seed=seed, **overrides) for seed in seeds}
    done: dict[int, dict] = {}
    for run_dir in finished:
        cfg = store.load_config(run_dir)
        cfgs[cfg.seed] = self_train_config(seed=cfg.seed, **overrides)
        if cfg != cfgs[cfg.seed] or store.read_status(run_dir).get("state") != "completed":
            raise SystemExit(f"{run_dir}: not a completed run of this setting")
        times = store.read_json(run_dir / TIMES_FILE, default=None) or {}
        done[cfg.seed] = {"run_dir": str(run_dir), "wall_s": times.get("wall_s", store.run_summary(run_dir).get("wall_s")),
                          "cpu_s": times.get("cpu_s")}
    seeds = sorted(set(seeds) | set(done))
    with _pool(jobs) as pool:
        futures = {seed: pool.submit(_execute, cfgs[seed].to_dict(), str(runs), threads)
                   for seed in seeds if seed not in done}
        done.update({seed: f.result() for seed, f in futures.items()})
    per_seed = []
    for seed in seeds:
        stages = stages_summary(done[seed]["run_dir"])
        row = {"seed": seed, "test_acc": [s["test_acc"] for s in stages],
               "n_kept": [(s["pseudo"] or {}).get("n_kept") for s in stages],
               "n_pool": [(s["pseudo"] or {}).get("n_pool") for s in stages],
               "acc_kept": [(s["pseudo"] or {}).get("acc_kept") for s in stages],
               "gain": stages[-1]["test_acc"] - stages[0]["test_acc"],
               "wall_s": done[seed]["wall_s"], "cpu_s": done[seed]["cpu_s"]}
        per_seed.append(row)
        parts = [f"stage {i} {100 * a:.1f} %" + (f" (kept {k}/{n}, pseudo-label acc {100 * pa:.1f} %)"
                                                  if k is not None and pa is not None else "")
                 for i, (a, k, n, pa) in enumerate(zip(row["test_acc"], row["n_kept"], row["n_pool"], row["acc_kept"]))]
        print(f"seed {seed}: " + " · ".join(parts) + f" · {row['wall_s'] or 0:.0f} s wall, "
              f"{row['cpu_s'] or 0:.0f} s CPU", flush=True)
    n_stages = len(per_seed[0]["test_acc"])
    stage_acc = [_stats([r["test_acc"][i] for r in per_seed]) for i in range(n_stages)]
    print(f"self-training over {len(seeds)} seeds (test accuracy):")
    for i in range(n_stages):
        print(f"  stage {i}{' (labelled-only teacher)' if i == 0 else ''}: "
              f"{_ms([r['test_acc'][i] for r in per_seed])}")
    print(f"  last stage − teacher: {_ms([r['gain'] for r in per_seed])}")
    kept_acc = [[r["acc_kept"][i] for r in per_seed if r["acc_kept"][i] is not None] for i in range(n_stages)]
    cfg = cfgs[seeds[0]]
    return {"setting": {**{k: v for k, v in SELF_TRAIN_DEFAULTS.items()}, **overrides,
                        "dataset_options": cfg.dataset_options, "image_size": cfg.image_size},
            "seeds": per_seed, "stage_acc": stage_acc, "gain": _stats([r["gain"] for r in per_seed]),
            "acc_kept": [_stats(v) if v else None for v in kept_acc],
            "wall_s": _stats([r["wall_s"] for r in per_seed]), "cpu_s": _stats([r["cpu_s"] for r in per_seed])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=1, help="runs side by side (separate processes)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run (1 leaves the other core to others)")
    ap.add_argument("--skip-kd", action="store_true")
    ap.add_argument("--skip-selftrain", action="store_true")
    ap.add_argument("--n", type=int, default=None, help="Shapes training images (default: the page's)")
    ap.add_argument("--image-size", type=int, default=None, help="(default: the page's)")
    ap.add_argument("--teacher-epochs", type=int, default=15, help="KD teacher (default preset: 15)")
    ap.add_argument("--student-epochs", type=int, default=None, help="KD student budget, with and without KD "
                    "(default: the page's)")
    ap.add_argument("--control", action="store_true", help="also (or with --skip-selftrain: only) the noise-only "
                    "control: one student generation with threshold 1.0, so no pseudo-label is kept and the student "
                    "differs from the teacher only by its noise (RandAugment)")
    ap.add_argument("--st-finished", type=Path, nargs="*", default=[], help="completed self-training run "
                    "folders of the same setting, counted instead of running their seeds again")
    ap.add_argument("--st", type=json.loads, default={}, help="self-training overrides of the page's defaults "
                    "(JSON), e.g. '{\"max_steps\": 300}'")
    ap.add_argument("--runs", type=Path, default=None, help="keep the runs in this folder (default: a temporary "
                    "folder, deleted at the end)")
    ap.add_argument("--out", type=Path, default=OUT, help="JSON results (the page reads bench/results/distill.json)")
    args = ap.parse_args()
    data = {}
    if args.n is not None:
        data["dataset_options"] = {"n": args.n}
    if args.image_size is not None:
        data["image_size"] = args.image_size
    from core.train.losses import KD_STUDENT_EPOCHS

    def save(part: str, result: dict) -> None:  # after each part: a later failure keeps what was measured
        out = json.loads(args.out.read_text()) if args.out.is_file() else {}  # read now: another part may be new
        out[part] = {**result, "measured": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "jobs": args.jobs,
                     "threads": args.threads}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")
        print(f"written: {args.out} ({part})", flush=True)

    with tempfile.TemporaryDirectory(prefix="cnnpg-bench-distill-") as tmp:
        runs = Path(tmp) if args.runs is None else args.runs
        runs.mkdir(parents=True, exist_ok=True)
        if not args.skip_kd:
            save("kd", bench_kd(args.seeds, runs, data, args.teacher_epochs,
                                args.student_epochs or KD_STUDENT_EPOCHS, args.jobs, args.threads))
        if not args.skip_selftrain:
            save("self_train", bench_selftrain(args.seeds, runs, {**data, **args.st}, args.jobs, args.threads,
                                               args.st_finished))
        if args.control:
            print("control: the students' noise without pseudo-labels (threshold 1.0, one generation)", flush=True)
            save("self_train_control", bench_selftrain(args.seeds, runs, {**data, **args.st, "threshold": 1.0,
                                                                         "iterations": 1}, args.jobs, args.threads))


if __name__ == "__main__":
    main()
