"""Does it help? Knowledge distillation vs none, and self-training stages vs the labelled-only teacher, on Shapes.

KD: one teacher (the default preset: LeNet-5, 15 epochs on 10.8k Shapes images, seed 0), then for each seed the
student of ``core.train.losses.kd_pair`` (same architecture, a 3-epoch budget) trained twice, with and without
distillation, everything else equal. Printed per seed and as mean ± standard deviation (and min–max): test
accuracy of both, the difference, and the student's top-1 agreement with the teacher.

Self-training: for each seed ``core.train.selftrain.SELF_TRAIN_DEFAULTS`` (50 labelled images per class,
2 student generations): test accuracy after each stage against stage 0 (the labelled-only teacher), the
pseudo-label accuracy and the number kept, and the run's wall time.

    .venv/bin/python -m bench.distill [--seeds 0 1 2] [--threads 1] [--skip-kd] [--skip-selftrain]
    .venv/bin/python -m bench.distill --n 6000 --image-size 32 --teacher-epochs 10 --student-epochs 2 \\
        --st-max-steps 300          # the smaller setting measured on the busy 2-core development machine

Gotcha: runs execute in this process one after another (``worker.execute``, as the page's worker would), with
``--threads`` torch threads; wall times depend on how busy the machine is, accuracies do not (CPU, fixed seeds).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _ms(values: list[float]) -> str:
    m = statistics.mean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * m:.1f} ± {100 * s:.1f} % (min {100 * min(values):.1f}, max {100 * max(values):.1f})"


def _execute(cfg, runs: Path) -> tuple[Path, float]:
    from core.runs import store, worker

    run_dir = store.create_run(cfg, runs)
    t0 = time.time()
    worker.execute(run_dir)
    if store.read_status(run_dir).get("state") != "completed":
        raise SystemExit(f"run {run_dir.name} did not complete: {store.read_status(run_dir).get('message')}")
    return run_dir, time.time() - t0


def bench_kd(seeds: list[int], runs: Path, data: dict, teacher_epochs: int, student_epochs: int) -> None:
    from core.runs import store
    from core.runs.distill_figures import agreement
    from core.train.config import TrainConfig
    from core.train.losses import kd_pair

    teacher, t_s = _execute(TrainConfig.from_preset("shapes-lenet5", epochs=teacher_epochs, **data), runs)
    t_acc = store.run_summary(teacher)["test_acc"]
    print(f"teacher: LeNet-5 default preset with {data} and {teacher_epochs} epochs, test {100 * t_acc:.1f} % "
          f"({t_s:.0f} s)", flush=True)
    kd_acc, plain_acc, diffs, agree_kd, agree_plain = [], [], [], [], []
    for seed in seeds:
        kd_cfg, plain_cfg = kd_pair(str(teacher), seed=seed, epochs=student_epochs)
        kd_run, kd_s = _execute(kd_cfg, runs)
        plain_run, plain_s = _execute(plain_cfg, runs)
        a_kd, a_plain = agreement(teacher, kd_run), agreement(teacher, plain_run)
        kd_acc.append(a_kd["student_acc"])
        plain_acc.append(a_plain["student_acc"])
        diffs.append(a_kd["student_acc"] - a_plain["student_acc"])
        agree_kd.append(a_kd["agreement"])
        agree_plain.append(a_plain["agreement"])
        print(f"seed {seed}: with KD {100 * kd_acc[-1]:.1f} % ({kd_s:.0f} s, agrees {100 * agree_kd[-1]:.1f} %) · "
              f"without {100 * plain_acc[-1]:.1f} % ({plain_s:.0f} s, agrees {100 * agree_plain[-1]:.1f} %)",
              flush=True)
    print(f"KD (T={kd_cfg.temperature:g}, alpha={kd_cfg.alpha:g}, {kd_cfg.epochs} epochs, {kd_cfg.arch}) over "
          f"{len(seeds)} seeds:")
    print(f"  with KD     {_ms(kd_acc)}   agreement with the teacher {_ms(agree_kd)}")
    print(f"  without KD  {_ms(plain_acc)}   agreement with the teacher {_ms(agree_plain)}")
    print(f"  difference  {_ms(diffs)}  (ratio of means {statistics.mean(kd_acc) / statistics.mean(plain_acc):.3f})")


def bench_selftrain(seeds: list[int], runs: Path, data: dict, max_steps: int | None) -> None:
    from core.train.selftrain import self_train_config, stages_summary

    per_stage: dict[int, list[float]] = {}
    gains = []
    for seed in seeds:
        extra = {"max_steps": max_steps} if max_steps else {}
        run_dir, wall = _execute(self_train_config(seed=seed, **data, **extra), runs)
        stages = stages_summary(run_dir)
        for s in stages:
            per_stage.setdefault(s["stage"], []).append(s["test_acc"])
        gains.append(stages[-1]["test_acc"] - stages[0]["test_acc"])
        parts = [f"stage {s['stage']} {100 * s['test_acc']:.1f} %" + (
            f" (kept {s['pseudo']['n_kept']}/{s['pseudo']['n_pool']}, pseudo-label acc "
            f"{100 * s['pseudo']['acc_kept']:.1f} %)" if s["pseudo"] and s["pseudo"]["acc_kept"] is not None else "")
            for s in stages]
        print(f"seed {seed}: " + " · ".join(parts) + f" · {wall:.0f} s", flush=True)
    print(f"self-training over {len(seeds)} seeds (test accuracy):")
    for stage, accs in sorted(per_stage.items()):
        print(f"  stage {stage}{' (labelled-only teacher)' if stage == 0 else ''}: {_ms(accs)}")
    print(f"  last stage − teacher: {_ms(gains)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 leaves the other core to others)")
    ap.add_argument("--skip-kd", action="store_true")
    ap.add_argument("--skip-selftrain", action="store_true")
    ap.add_argument("--n", type=int, default=12000, help="Shapes training images (default: the page's 12k)")
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--teacher-epochs", type=int, default=15, help="KD teacher (default preset: 15)")
    ap.add_argument("--student-epochs", type=int, default=3, help="KD student budget, with and without KD")
    ap.add_argument("--st-max-steps", type=int, default=None, help="self-training steps per student stage "
                    "(default: the page's)")
    args = ap.parse_args()
    data = {"dataset_options": {"n": args.n}, "image_size": args.image_size}
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="cnnpg-bench-distill-") as tmp:
        runs = Path(tmp)
        if not args.skip_kd:
            bench_kd(args.seeds, runs, data, args.teacher_epochs, args.student_epochs)
        if not args.skip_selftrain:
            bench_selftrain(args.seeds, runs, data, args.st_max_steps)


if __name__ == "__main__":
    main()
