"""Receptive fields: the analytic table for the whole zoo, and one effective receptive field at 224 px.

Side by side, in this process:
- analytic, per architecture at its own input size: build on the meta device, then (a) a plain meta forward
  (baseline: what any shape walk costs) and (b) ``trace_fields`` — the same forward under the per-tensor field
  tracer plus hooks on every reported layer. Target for the whole zoo (build + trace): under 2 s on a CPU.
- effective: ``effective_receptive_field`` on ResNet-18 (untrained, CPU) at 224 px, centre unit of ``layer3``,
  8 noise inputs, against the bare forward + backward of the same batch to the same layer.

Run: ``.venv/bin/python -m bench.receptive_field`` (optionally architecture names to restrict the first part).
"""
from __future__ import annotations

import sys
import time

import torch

from core.models import ARCHITECTURES, build, get_spec
from core.models.summary import _meta_model
from core.receptive_field import effective_receptive_field, receptive_fields, trace_fields


def analytic(names: list[str]) -> None:
    import timm  # noqa: F401  one-time import, not part of any architecture's cost

    print(f"{'architecture':20s} {'px':>4s} {'layers':>6s} {'build':>7s} {'plain fwd':>9s} {'trace':>7s} "
          f"{'ratio':>6s}  last local field")
    tot_build = tot_plain = tot_trace = 0.0
    for name in names:
        size = get_spec(name).input_size
        t0 = time.perf_counter()
        model = _meta_model(name)
        t1 = time.perf_counter()
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device="meta"))
        t2 = time.perf_counter()
        table = trace_fields(model, size, arch=name)
        t3 = time.perf_counter()
        tot_build += t1 - t0
        tot_plain += t2 - t1
        tot_trace += t3 - t2
        local = [r for r in table.layers if not r.is_global]
        last = f"{local[-1].layer}: {local[-1].size[0]} px, jump {local[-1].jump[0]}" if local else "—"
        print(f"{name:20s} {size:4d} {len(table.layers):6d} {t1 - t0:7.3f} {t2 - t1:9.3f} {t3 - t2:7.3f} "
              f"{(t3 - t2) / max(t2 - t1, 1e-9):6.2f}  {last}")
    print(f"{'zoo':20s} {'':4s} {'':6s} {tot_build:7.3f} {tot_plain:9.3f} {tot_trace:7.3f} "
          f"{tot_trace / max(tot_plain, 1e-9):6.2f}")
    print(f"analytic receptive fields of {len(names)} architectures: {tot_build + tot_trace:.2f} s "
          f"(build {tot_build:.2f} s + trace {tot_trace:.2f} s; target < 2 s)")


def effective(size: int = 224, layer: str = "layer3", n: int = 8) -> None:
    from core.models.summary import forward_hooks

    model = build("resnet18", weights="none").eval()
    table = receptive_fields("resnet18", size)
    x = torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(0))
    effective_receptive_field(model, layer, table, inputs=x[:1])  # warm-up

    t0 = time.perf_counter()
    erf = effective_receptive_field(model, layer, table, inputs=x)
    t1 = time.perf_counter()

    class Stop(Exception):
        pass

    def make_hook(_):
        def hook(m, a, out):
            captured.append(out)
            raise Stop

        return hook

    captured: list[torch.Tensor] = []
    xb = x.clone().requires_grad_(True)
    t2 = time.perf_counter()
    with forward_hooks([(layer, model.get_submodule(layer))], make_hook):
        try:
            model(xb)
        except Stop:
            pass
    y = captured[0]
    torch.autograd.grad(y[:, :, y.shape[-2] // 2, y.shape[-1] // 2].sum(), xb)
    t3 = time.perf_counter()
    th = erf.theoretical
    print(f"ERF resnet18 (untrained) {layer} at {size} px, {n} noise inputs: {t1 - t0:.3f} s "
          f"(bare forward+backward {t3 - t2:.3f} s, ratio {(t1 - t0) / max(t3 - t2, 1e-9):.2f}); "
          f"theoretical {table.get(layer).size[0]} px ({th.clipped_area} px in the image), "
          f"95 % of the gradient on {erf.mass_pixels} px = {erf.mass_share:.1%}")


def main(names: list[str]) -> int:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; times in seconds")
    analytic(names or list(ARCHITECTURES))
    effective()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
