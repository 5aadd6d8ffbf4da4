"""Our Grad-CAM against a bare Captum ``LayerGradCam`` call and pytorch-grad-cam's ``GradCAM``, same model, layer,
image and class, in one process (so machine load hits all three alike).

    .venv/bin/python -m bench.explain_gradcam [--archs resnet18 resnet50 vgg16] [--size 224] [--repeats 5]
    .venv/bin/python -m bench.explain_gradcam --grid       # also: the Explain page's warm 4-method grid (ResNet-18)

Printed per architecture: the median milliseconds of each (timed round-robin, so load changes hit all three), ``ours / captum`` (target ≤ 1.2: the lock, the
hook guard, the top-k forward and the bilinear upsampling are our overhead) and ``ours / pytorch-grad-cam``
(target ≤ 0.5), and the largest difference between our map and bare Captum's (bilinear-upsampled, ReLU on: 0).
pytorch-grad-cam (PyPI ``grad-cam``, a dev dependency) is skipped with a note when it is not installed.

Gotcha: untrained weights (offline machine): timing does not depend on the values, and the check compares the
same computation. Our call includes one extra no-grad forward (the top-k list and the class's probability).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def _interleaved_ms(fns: dict, repeats: int) -> dict:
    """Median milliseconds of each function, timed round-robin (a, b, c, a, b, c, …) so that a change in machine
    load during the measurement hits all of them alike (the ratios are what is compared)."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append((time.perf_counter() - t) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def bench_arch(arch: str, size: int, repeats: int) -> dict:
    from captum.attr import LayerGradCam

    from core.explain import explain
    from core.explain.base import LogitsModel
    from core.models import build, get_spec

    torch.manual_seed(0)
    model = build(arch, weights="none").eval()
    layer_name = get_spec(arch).default_cam_layer
    layer = model.get_submodule(layer_name)
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    target = 1

    def ours():
        return explain(model, x, "gradcam", target=target, layer=layer_name, arch=arch).map

    def bare():
        a = LayerGradCam(LogitsModel(model), layer).attribute(x, target=target, relu_attributions=True)
        return F.interpolate(a, size=(size, size), mode="bilinear", align_corners=False)[0, 0].detach().numpy()

    fns = {"ours": ours, "captum": bare}
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        tgt = [ClassifierOutputTarget(target)]

        def pgc():  # its hooks only for its own call (they would otherwise also run in ours and Captum's forwards)
            with GradCAM(model=model, target_layers=[layer]) as cam:
                return cam(input_tensor=x, targets=tgt)

        fns["pgc"] = pgc
    except ImportError:
        pass
    ms = _interleaved_ms(fns, repeats)
    return {"arch": arch, "layer": layer_name, "ours_ms": ms["ours"], "captum_ms": ms["captum"],
            "pgc_ms": ms.get("pgc"), "max_abs_diff": float(np.abs(ours() - bare()).max())}


def bench_grid(repeats: int) -> dict:
    """The Explain page itself (AppTest, ResNet-18 at 224 px, its default 4-method grid and 4-layer grid): the first
    run computes everything; a rerun with unchanged settings (e.g. moving the opacity slider) and a new session with
    the same settings (a reload) take the explanations from the shared cache and only redraw."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    page = str(Path(__file__).resolve().parents[1] / "views" / "explain.py")
    at = AppTest.from_file(page, default_timeout=600)
    t = time.perf_counter()
    at.run()
    cold = (time.perf_counter() - t) * 1e3
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception}")
    times = []
    for i in range(repeats):
        at.slider(key="explain_opacity").set_value(0.3 + 0.1 * (i % 3))
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1e3)
    # a page reload or a second student: a new session, same settings; the explanations come from the shared LRU
    # (core.explain.cache), the models from the app's model cache, so only the page itself runs again
    fresh = []
    for _ in range(repeats):
        other = AppTest.from_file(page, default_timeout=600)
        t = time.perf_counter()
        other.run()
        fresh.append((time.perf_counter() - t) * 1e3)
        if other.exception:
            raise SystemExit(f"the page failed: {other.exception}")
    return {"cold_ms": cold, "warm_ms": statistics.median(times), "new_session_ms": statistics.median(fresh)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", nargs="+", default=["resnet18", "resnet50", "vgg16"])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--grid", action="store_true", help="also time the page's 4-method grid")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"Grad-CAM at {args.size} px, median of {args.repeats}, {args.threads} threads")
    for arch in args.archs:
        r = bench_arch(arch, args.size, args.repeats)
        line = (f"{arch:<10} {r['layer']:<12} ours {r['ours_ms']:7.1f} ms · captum {r['captum_ms']:7.1f} ms · "
                f"ours/captum {r['ours_ms'] / r['captum_ms']:.2f} (target ≤ 1.2)")
        if r.get("pgc_ms"):
            line += f" · pytorch-grad-cam {r['pgc_ms']:7.1f} ms · ours/pgc {r['ours_ms'] / r['pgc_ms']:.2f} (target ≤ 0.5)"
        else:
            line += " · pytorch-grad-cam not installed"
        print(line + f" · max |ours − captum| {r['max_abs_diff']:.2e}")
    if args.grid:
        g = bench_grid(args.repeats)
        print(f"Explain page (ResNet-18, 224 px, 4-method + 4-layer grids): first run {g['cold_ms']:.0f} ms · warm rerun "
              f"{g['warm_ms']:.0f} ms · new session (reload), same settings {g['new_session_ms']:.0f} ms (target < 1000 ms)")


if __name__ == "__main__":
    main()
