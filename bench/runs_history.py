"""Runs page warm rerun with a long run history (issue 13.7): 1 run vs 300, with and without the run index.

The page (views/runs.py) runs in AppTest against a temporary runs folder of finished runs (copies of one real run
folder); each figure is the median time of a warm rerun (the page already open once, as when a student clicks a
widget). "no index" turns the store's summary cache off in this same process (every summary read from its files,
as before the index), so the ratio compares like with like. Measured before the index (issue 13): 0.55-0.71 s
with 300 runs vs 0.07 s with 1.

    .venv/bin/python -m bench.runs_history [--runs 300] [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _history(root: Path, n: int) -> None:
    from core.runs import owners, store
    from core.train.config import TrainConfig

    root.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=3)
    tpl = store.create_run(cfg, root, owner=owners.owner_id("bench-browser-token-0001"))
    store.append_metrics(tpl, {"type": "meta", "step": 0, "total_steps": 30, "epochs": 3, "classes": ["a", "b"]})
    for step in range(1, 31):  # a realistic metrics file: a record per step, an evaluation per epoch
        store.append_metrics(tpl, {"type": "train", "step": step, "epoch": step / 10, "loss": 1 / step, "acc": 0.5,
                                   "lr": 0.01, "img_per_s": 100, "eta_s": 0, "total_steps": 30})
        if step % 10 == 0:
            store.append_metrics(tpl, {"type": "eval", "split": "val", "step": step, "epoch": step / 10,
                                       "loss": 0.4, "acc": 0.6, "n": 24})
    store.end_session(tpl, state="completed", message="done", started=time.time() - 60)
    for i in range(n - 1):
        shutil.copytree(tpl, root / f"20240101-{i:06d}-lenet5-shapes-{i % 65536:04x}")


def _warm_rerun(root: Path, repeats: int, index: bool) -> float:
    from streamlit.testing.v1 import AppTest

    from core.runs import store

    os.environ["CNNPG_RUNS_DIR"] = str(root)
    real = store._stamp
    store.clear_index()
    if not index:
        store._stamp = lambda run_dir: None  # no stamp: nothing is cached, every summary is read from its files
    try:
        at = AppTest.from_file(str(ROOT / "views" / "runs.py"), default_timeout=300)
        at.query_params["u"] = "bench-browser-token-0001"
        at.run()
        assert not at.exception, at.exception
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        store._stamp = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one", Path(tmp) / "many"
        _history(one, 1)
        _history(many, args.runs)
        t = {(n, idx): _warm_rerun(root, args.repeats, idx)
             for n, root in ((1, one), (args.runs, many)) for idx in (True, False)}
    for idx in (False, True):
        name = "with the index" if idx else "no index (before)"
        print(f"Runs page warm rerun, {name:18s}: {t[(1, idx)]:.3f} s with 1 run, {t[(args.runs, idx)]:.3f} s with "
              f"{args.runs}; ratio {t[(args.runs, idx)] / t[(1, idx)]:.2f}")
    print(f"{args.runs} runs, index vs no index: {t[(args.runs, True)] / t[(args.runs, False)]:.2f} "
          f"(medians of {args.repeats} warm reruns in AppTest; 2 shared cores: compare ratios)")


if __name__ == "__main__":
    main()
