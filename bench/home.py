"""First Home load: the facts Home computes in a fresh process (what a newly started server pays), before / after.

Each measurement is a fresh ``python -c`` (imports are per process) run by this one script, alternating:
- before: the old way, ``{name: core.models.weights_status(name)}`` over the registry (imports torchvision + timm);
- after: ``core.overview.overview()`` with its weights index on disk (imports neither), the path every Home
  load after the first one on a machine takes; ``after, no index`` is the very first load (it writes the index).
Both include ``import torch`` and the device query, which Home needs either way. Printed: medians and the ratio.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = ("import torch; from core.device import device_info; from core.models import ARCHITECTURES, weights_status; "
          "device_info(); {n: weights_status(n) for n in ARCHITECTURES}")
AFTER = "from core.overview import overview; overview()"


def _run(code: str, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=600)
    return time.perf_counter() - start


def main(repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CNNPG_HOME": tmp, "OMP_NUM_THREADS": "1"}
        cold = _run(AFTER, env)  # writes the index, like the first Home load on this machine
        before, after = [], []
        for _ in range(repeats):
            before.append(_run(BEFORE, env))
            after.append(_run(AFTER, env))
    b, a = statistics.median(before), statistics.median(after)
    print(f"Home facts in a fresh process: before {b:.2f} s, after {a:.2f} s (index on disk), "
          f"after with no index yet {cold:.2f} s")
    print(f"ratio after / before: {a / b:.2f}  (medians of {repeats}, alternating; 2 shared cores: compare ratios)")


if __name__ == "__main__":
    main()
