"""core.explain on tiny hand-built models: formulas by hand, hooks, locks, modes, targets, no-signal maps."""
from __future__ import annotations

import gc
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import core.explain as ce
from core.explain import METHODS, ExplainError, explain
from core.explain.base import black_baseline, to_uint8_image

torch.set_num_threads(1)
CHEAP = {"scorecam": {"max_channels": 8}, "ig": {"steps": 16, "adaptive": False},
         "smoothgrad": {"samples": 4}, "occlusion": {"window": 8, "stride": 8}}


class Tiny(nn.Module):
    """conv 3->4 (3×3) -> ReLU module ``act`` -> BN -> conv 4->5 -> ReLU -> GAP -> linear 5->3."""

    def __init__(self, aux: bool = False) -> None:
        super().__init__()
        self.gate = nn.Identity()  # the concurrency test swaps in rendezvous points here ...
        self.gate2 = nn.Identity()  # ... and here, after the explained layer conv2
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 5, 3, stride=2, padding=1)
        self.act2 = nn.ReLU()
        self.fc = nn.Linear(5, 3)
        self.aux = aux
        torch.manual_seed(0)
        for p in self.parameters():
            nn.init.normal_(p, 0, 0.5)

    def forward(self, x):
        h = self.act2(self.gate2(self.conv2(self.bn(self.act(self.conv1(self.gate(x)))))))
        logits = self.fc(h.mean(dim=(2, 3)))
        return (logits, logits * 0.5) if self.aux else logits


def _x(seed: int = 0, size: int = 16) -> torch.Tensor:
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _hooks(model: nn.Module) -> int:
    return sum(len(getattr(m, d)) for m in model.modules()
               for d in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"))


def test_gradcam_equals_relu_of_weighted_sum_by_hand():
    model = Tiny().eval()
    x = _x()
    acts = {}
    h = model.conv2.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    h.remove()
    a = acts["a"]  # [1, 5, 8, 8]
    (g,) = torch.autograd.grad(logits[0, 2], a)
    alpha = g.mean(dim=(2, 3))  # [1, 5]
    by_hand = torch.relu((alpha[0, :, None, None] * a[0]).sum(0)).detach()
    e = explain(model, x, "gradcam", layer="conv2", target=2)
    assert e.native.shape == (8, 8)
    np.testing.assert_allclose(e.native, by_hand.numpy(), rtol=1e-5, atol=1e-6)
    up = F.interpolate(by_hand[None, None], size=(16, 16), mode="bilinear", align_corners=False)[0, 0]
    np.testing.assert_allclose(e.map, up.numpy(), rtol=1e-5, atol=1e-6)
    assert e.layer == "conv2" and e.target == 2 and e.method == "gradcam"


def test_gradcam_equals_captum_layer_gradcam_with_relu_and_bilinear():
    from captum.attr import LayerGradCam

    from core.explain.base import LogitsModel

    model = Tiny().eval()
    x = _x(3)
    ref = LayerGradCam(LogitsModel(model), model.conv2).attribute(x, target=1, relu_attributions=True)
    up = F.interpolate(ref, size=(16, 16), mode="bilinear", align_corners=False)[0, 0].detach().numpy()
    e = explain(model, x, "gradcam", layer="conv2", target=1)
    np.testing.assert_allclose(e.native, ref[0, 0].detach().numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(e.map, up, rtol=1e-5, atol=1e-7)


def test_gradcam_pp_by_hand():
    model = Tiny().eval()
    x = _x(1)
    acts = {}
    h = model.conv2.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    logits = model(x.clone().requires_grad_(True))
    h.remove()
    a = acts["a"][0]
    (g,) = torch.autograd.grad(logits[0, 0], acts["a"])
    g = g[0]
    alpha = g ** 2 / (2 * g ** 2 + a.sum(dim=(1, 2), keepdim=True) * g ** 3)
    alpha = torch.nan_to_num(alpha, nan=0.0, posinf=0.0, neginf=0.0)
    w = (alpha * g.clamp(min=0)).sum(dim=(1, 2))
    by_hand = torch.relu((w[:, None, None] * a).sum(0)).detach()
    e = explain(model, x, "gradcam_pp", layer="conv2", target=0)
    np.testing.assert_allclose(e.native, by_hand.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_on_the_tiny_model(method):
    model = Tiny().eval()
    e = explain(model, _x(2), method, layer="conv2" if METHODS[method].uses_layer else None,
                params=CHEAP.get(method))
    assert e.map.shape == (16, 16) and e.map.dtype == np.float32
    assert np.isfinite(e.map).all() and (e.map >= 0).all()
    assert e.image.shape == (16, 16, 3) and e.image.dtype == np.uint8
    assert 0 <= e.score <= 1 and e.label == f"class {e.target}"
    assert (e.layer is not None) == METHODS[method].uses_layer


def test_tuple_output_models_work_in_every_method():
    model = Tiny(aux=True).train()  # train mode: the call must switch to eval and restore train
    for method in METHODS:
        e = explain(model, _x(3), method, layer="conv2" if METHODS[method].uses_layer else None,
                    params=CHEAP.get(method))
        assert e.map.shape == (16, 16)
    assert model.training


def test_eval_mode_buffers_and_grads_unchanged_by_every_method():
    model = Tiny().train()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.running_var.uniform_(0.5, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for method in METHODS:
        explain(model, _x(4), method, layer="conv2" if METHODS[method].uses_layer else None, params=CHEAP.get(method))
        for k, v in model.state_dict().items():
            assert torch.equal(v, before[k]), f"{method} changed {k}"
        assert model.training, f"{method} left the model in eval mode"
        assert all(p.grad is None for p in model.parameters()), f"{method} left gradients on the weights"


@pytest.mark.slow
def test_hooks_released_after_100_calls_and_memory_flat():
    model = Tiny().eval()
    x = _x(5)
    explain(model, x, "gradcam", layer="conv2")
    gc.collect()
    tensors_before = sum(isinstance(o, torch.Tensor) for o in gc.get_objects())
    for i in range(100):
        explain(model, x, ["gradcam", "gradcam_pp", "guided_gradcam", "saliency"][i % 4], layer="conv2")
    gc.collect()
    assert _hooks(model) == 0
    tensors_after = sum(isinstance(o, torch.Tensor) for o in gc.get_objects())
    assert tensors_after - tensors_before < 20  # no per-call pile-up (100 calls × several tensors otherwise)


def test_hooks_released_when_the_method_raises(monkeypatch):
    model = Tiny().eval()
    import core.explain.gradcam as gc_mod

    def leaky(ctx):
        ctx.layer_module.register_forward_hook(lambda *a: None)  # a hook nobody removes ...
        ctx.model.act.register_full_backward_hook(lambda *a: None)
        raise RuntimeError("boom")  # ... and a failure mid-call

    monkeypatch.setattr(gc_mod, "compute", leaky)
    with pytest.raises(RuntimeError, match="boom"):
        explain(model, _x(), "gradcam", layer="conv2")
    assert _hooks(model) == 0


def test_hooks_released_when_the_forward_raises():
    model = Tiny().eval()
    original = model.fc.forward

    def flaky(h):
        if torch.is_grad_enabled():  # the attribution's forward fails (the no-grad top-k forward passes)
            raise RuntimeError("forward failed")
        return original(h)

    model.fc.forward = flaky
    for method in ("gradcam", "guided_gradcam", "ig"):
        with pytest.raises(RuntimeError, match="forward failed"):
            explain(model, _x(), method, layer="conv2")
        assert _hooks(model) == 0, method


class Rendezvous(nn.Module):
    """Holds one chosen forward of each worker thread until the other thread's chosen forward arrives (or a
    timeout): the attribution forwards of two calls overlap for sure when nothing serialises them. ``which``
    maps a thread name to the index of its forward that waits (guided Grad-CAM's guided-backprop forward is its
    3rd: top-k, Grad-CAM, guided backprop, then a plain forward that checks the guided one's logits)."""

    def __init__(self, which: dict[str, int]) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=1.0)
        self.which = which
        self.counts: dict[str, int] = {}

    def forward(self, x):
        name = threading.current_thread().name
        self.counts[name] = self.counts.get(name, 0) + 1
        if self.which.get(name) == self.counts[name]:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return x


WAIT_AT = {"guided": 3, "plain": 2, "cam1": 1, "cam2": 1}  # Grad-CAM's one forward serves top-k and attribution


def _concurrent(model, jobs):
    results, errors = {}, {}

    def work(name, method, target):
        try:
            results[name] = explain(model, _x(7), method, layer="conv2", target=target).map
        except Exception as err:  # noqa: BLE001 - the unlocked run may fail in Captum
            errors[name] = err

    threads = [threading.Thread(target=work, args=j, name=j[0]) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


JOBS = [("guided", "guided_gradcam", 0), ("plain", "saliency", 0), ("cam1", "gradcam", 1), ("cam2", "gradcam", 2)]


def _serial(model):
    return {name: explain(model, _x(7), method, layer="conv2", target=t).map for name, method, t in JOBS}


def test_two_threads_on_one_model_get_the_serial_maps():
    model = Tiny().eval()
    serial = _serial(model)
    for pair in (JOBS[:2], JOBS[2:]):
        model.gate, model.gate2 = Rendezvous(WAIT_AT), Rendezvous(WAIT_AT)
        results, errors = _concurrent(model, pair)
        assert not errors
        for name, _, _ in pair:
            np.testing.assert_array_equal(results[name], serial[name])
    assert _hooks(model) == 0


def test_without_the_lock_the_same_threads_interfere(monkeypatch):
    """The test above would catch a missing lock: with exclusive() made a no-op, two overlapping Grad-CAMs disturb
    each other (one's layer hook sees the other's forward: a wrong map, or "differentiated tensor not used in the
    graph"). The guided / saliency pair is no longer a reliable witness: our guidance is a TorchFunctionMode, whose
    stack is per thread, so it cannot leak into another thread's forward the way Captum's ReLU hooks did."""
    import contextlib

    model = Tiny().eval()
    serial = _serial(model)
    monkeypatch.setattr(ce, "exclusive", lambda m: contextlib.nullcontext(m))
    monkeypatch.setattr(ce, "hook_guard", lambda m: contextlib.nullcontext())
    for pair in (JOBS[2:],):
        model.gate, model.gate2 = Rendezvous(WAIT_AT), Rendezvous(WAIT_AT)
        results, errors = _concurrent(model, pair)
        wrong = sorted(errors) + [n for n in results if not np.array_equal(results[n], serial[n])]
        assert wrong, f"{pair[0][1]} and {pair[1][1]} did not interfere without the lock"


def test_targets_by_index_name_and_errors():
    model = Tiny().eval()
    names = ["cat", "dog", "owl"]
    assert explain(model, _x(), "saliency", target="Dog", classes=names).target == 1
    assert explain(model, _x(), "saliency", target="2", classes=names).label == "owl"
    with pytest.raises(ExplainError, match="out of range"):
        explain(model, _x(), "saliency", target=3, classes=names)
    with pytest.raises(ExplainError, match="did you mean 'dog'"):
        explain(model, _x(), "saliency", target="dogg", classes=names)
    top = explain(model, _x(), "saliency", classes=names)
    assert top.target == top.topk[0]["index"]


def test_bad_layers_and_params():
    model = Tiny().eval()
    with pytest.raises(ExplainError, match="unknown layer 'conv9'.*conv1"):
        explain(model, _x(), "gradcam", layer="conv9")
    with pytest.raises(ExplainError, match="not a convolutional layer"):
        explain(model, _x(), "gradcam", layer="fc")
    with pytest.raises(ExplainError, match="no parameter"):
        explain(model, _x(), "saliency", params={"steps": 3})
    with pytest.raises(ExplainError, match="unknown method 'lime'"):
        explain(model, _x(), "lime")


def test_no_signal_and_one_by_one_maps_are_flagged_not_stretched():
    model = Tiny().eval()
    with torch.no_grad():
        model.fc.weight.zero_()  # the score no longer depends on the image
    e = explain(model, _x(), "gradcam", layer="conv2")
    assert e.notes[0].startswith("no signal") and not e.has_signal and e.normalized() is None
    ig = explain(model, _x(), "ig")
    assert ig.notes[0].startswith("no signal") and np.isfinite(ig.map).all()

    class OnePixel(Tiny):
        def forward(self, x):
            return super().forward(F.adaptive_avg_pool2d(x, 2))

    one = explain(OnePixel().eval(), _x(), "gradcam", layer="conv2")
    assert one.native.shape == (1, 1) and one.notes[0].startswith("map is 1×1") and one.normalized() is None


def test_black_baseline_is_black_pixels_not_the_normalised_zero():
    x = _x()
    assert to_uint8_image(black_baseline(x)).max() == 0
    assert to_uint8_image(torch.zeros_like(x)).min() > 100  # the normalised zero is ImageNet grey


def test_guided_equals_captum_on_relu_modules_and_is_really_guided():
    """On a model whose rectifiers are all nn.ReLU modules (where Captum's guidance is complete), our Guided
    Grad-CAM equals Captum's GuidedGradCam (bilinear); and it is not the unguided product."""
    import warnings

    from captum.attr import GuidedGradCam

    from core.explain.base import LogitsModel

    model = Tiny().eval()
    x = _x(8)
    guided = explain(model, x, "guided_gradcam", layer="conv2", target=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = GuidedGradCam(LogitsModel(model), model.conv2).attribute(x, target=0, interpolate_mode="bilinear")
    np.testing.assert_allclose(guided.map, ref.detach()[0].abs().sum(0).numpy(), rtol=1e-4, atol=1e-7)
    # what an unguided "Guided Grad-CAM" would be: the plain input gradient times the upsampled Grad-CAM
    cam = explain(model, x, "gradcam", layer="conv2", target=0).map
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(xg)[0, 0], xg)
    unguided = (grad[0] * torch.from_numpy(cam)).abs().sum(0).numpy()
    assert not np.allclose(guided.map, unguided, rtol=1e-3, atol=1e-7)
    assert ce.available_methods(model)["guided_gradcam"] is None


class Functional(Tiny):
    """Rectifiers Captum cannot guide: functional ReLU (in place), SiLU, an nn.ReLU6 module, Hardswish; a sigmoid gate."""

    def __init__(self) -> None:
        super().__init__()
        self.six = nn.ReLU6(inplace=True)
        self.hand = False  # True: guide by hand with tensor hooks (the test's independent computation)

    def _act(self, z, fn):
        a = fn(z)
        if self.hand and a.requires_grad:
            a.register_hook(lambda g: g.clamp(min=0))  # only positive gradients into the unit ...
            z.register_hook(lambda g, a=a.detach(): g * (a > 0))  # ... and only where its output was positive
        return a

    def forward(self, x):
        h = self._act(self.conv1(x), lambda z: F.relu(z, inplace=not self.hand))
        h = self._act(self.bn(h), F.silu)
        h = self._act(self.conv2(h), self.six if not self.hand else F.relu6)
        h = self._act(h * torch.sigmoid(h.mean(dim=(2, 3), keepdim=True)), F.hardswish)  # SE-like gate, then Hardswish
        return self.fc(h.mean(dim=(2, 3)))


def test_guidance_is_real_for_functional_relu_silu_relu6_and_hardswish():
    """Issue trap: Captum guides nn.ReLU modules only. Ours guides every rectifier call; checked against guidance
    done by hand with tensor hooks, and the guided map differs from plain Saliency (and from Captum's)."""
    from core.explain.base import LogitsModel
    from core.explain.guidance import guided_input_gradient, guided_support

    model = Functional().eval()
    ok, note = guided_support(model)
    assert ok and all(k in note for k in ("ReLU ×1", "SiLU ×1", "ReLU6", "Hardswish ×1", "sigmoid ×1"))
    x = _x(4)
    with torch.no_grad():
        ours = guided_input_gradient(LogitsModel(model), x, 1)
    model.hand = True
    xg = x.clone().requires_grad_(True)
    (by_hand,) = torch.autograd.grad(model(xg)[0, 1], xg)
    model.hand = False
    torch.testing.assert_close(ours, by_hand, rtol=1e-5, atol=1e-7)
    xg = x.clone().requires_grad_(True)
    (plain,) = torch.autograd.grad(model(xg)[0, 1], xg)
    assert not torch.allclose(ours, plain, rtol=1e-3, atol=1e-6)  # really guided
    e = explain(model, x, "guided_gradcam", layer="conv2", target=1)
    sal = explain(model, x, "saliency", target=1)
    assert e.has_signal and not np.allclose(e.map / e.map.max(), sal.map / sal.map.max(), atol=1e-3)
    assert any("gates keep their plain gradient" in n for n in e.notes)
    assert ce.available_methods(model)["guided_gradcam"] is None


def test_guided_refused_where_there_is_no_rectifier():
    class Linearish(Tiny):
        def forward(self, x):
            return self.fc(torch.tanh(self.conv2(self.conv1(x))).mean(dim=(2, 3)))

    model = Linearish().eval()
    why = ce.available_methods(model)["guided_gradcam"]
    assert why and "no rectifier" in why
    with pytest.raises(ExplainError, match="not offered"):
        explain(model, _x(), "guided_gradcam", layer="conv2")


def test_ig_reaches_the_convergence_target_and_smoothgrad_is_seeded():
    model = Tiny().eval()
    e = explain(model, _x(9), "ig")
    gap = float(model(_x(9))[0, e.target] - model(black_baseline(_x(9)))[0, e.target])
    assert e.delta is not None and e.delta < 0.05 * abs(gap)
    assert e.signed is not None and abs(e.signed.sum() - gap) < 0.05 * abs(gap)  # completeness, sign kept
    for kind in ("blurred", "noise"):
        assert explain(model, _x(9), "ig", params={"baseline": kind}).delta is not None
    a = explain(model, _x(9), "smoothgrad", params={"samples": 8, "seed": 3}).map
    b = explain(model, _x(9), "smoothgrad", params={"samples": 8, "seed": 3}).map
    c = explain(model, _x(9), "smoothgrad", params={"samples": 8, "seed": 4}).map
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_default_cam_layer_rule_deepest_wide_map_after_its_relu():
    """The rule in core.explain.layers (measured there): the deepest layer at the architecture's CAM-layer depth
    whose map is ≥ 4 × 4, a ReLU module counting as its own layer. LeNet-5 at 48 px (the shapes-explain preset):
    C5 after its ReLU, 5 × 5 (the registry's S4 pool scored below a random point there); at 32 px C5 is 1 × 1, so
    the S4 pool (5 × 5) stays."""
    from core.explain.layers import MIN_SIDE, default_layer, layer_shapes
    from core.models import build, get_spec

    model = build("lenet5", weights="none", num_classes=6).eval()
    preferred = get_spec("lenet5").default_cam_layer
    assert preferred == "features.5"
    for size, want in ((48, "features.7"), (64, "features.7"), (32, "features.5")):
        shapes = layer_shapes(model, size)
        # independent check: the last module inside ``features`` whose output is at least MIN_SIDE wide
        wide = [n for n, s in shapes.items() if n.startswith("features.") and min(s[-2:]) >= MIN_SIDE]
        assert wide[-1] == want
        assert default_layer(model, size, preferred) == want
        assert isinstance(model.get_submodule(want), nn.ReLU if want == "features.7" else nn.MaxPool2d)
    assert explain(model, torch.zeros(1, 3, 48, 48), "gradcam", arch="lenet5", target=0).layer == "features.7"


def test_shared_explanation_cache_hits_misses_and_lifetime(monkeypatch):
    """core.explain.cache: same model object + same pixels + same request -> the stored result (no new attribution);
    any difference -> a new one; entries die with their model; the LRU is bounded."""
    import core.explain.cache as cache

    cache.clear()
    calls = []
    real = ce.explain

    def counting(*a, **k):
        calls.append(a[2] if len(a) > 2 else k.get("method"))
        return real(*a, **k)

    monkeypatch.setattr(ce, "explain", counting)
    model = Tiny().eval()
    a = cache.cached_explain(model, _x(1), "gradcam", layer="conv2", target=1)
    b = cache.cached_explain(model, _x(1).clone(), "gradcam", layer="conv2", target=1)  # equal pixels, new tensor
    assert b is a and len(calls) == 1
    np.testing.assert_array_equal(a.map, real(model, _x(1), "gradcam", layer="conv2", target=1).map)
    cache.cached_explain(model, _x(2), "gradcam", layer="conv2", target=1)  # other pixels
    cache.cached_explain(model, _x(1), "gradcam", layer="conv2", target=2)  # other class
    cache.cached_explain(model, _x(1), "gradcam", layer="conv1", target=1)  # other layer
    cache.cached_explain(model, _x(1), "smoothgrad", target=1, params={"samples": 2})
    cache.cached_explain(model, _x(1), "smoothgrad", target=1, params={"samples": 3})
    other = Tiny().eval()  # equal weights, another object: not assumed equal
    cache.cached_explain(other, _x(1), "gradcam", layer="conv2", target=1)
    assert len(calls) == 7 and cache.stats()["hits"] == 1 and cache.stats()["entries"] == 7
    del other
    gc.collect()
    assert cache.stats()["entries"] == 6  # the dead model's entry is gone
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for seed in range(5):
        cache.cached_explain(model, _x(10 + seed), "gradcam", layer="conv2", target=0)
    assert cache.stats()["entries"] == 3
    with pytest.raises(ExplainError):  # errors are not cached, and stay the typed error
        cache.cached_explain(model, _x(1), "gradcam", layer="nope")
    cache.clear()


def test_models_grid_one_image_one_method_several_models():
    """core.explain.compare: each model explains the same picture at its own size, the class by *name* in its own
    class list (top-1 with a note where it has no such class), and one model's error does not hide the others."""
    from PIL import Image

    from core.explain.compare import MAX_MODELS, ModelEntry, explain_models

    pil = Image.fromarray((np.random.RandomState(3).rand(20, 24, 3) * 255).astype("uint8"))
    m1, m2 = Tiny().eval(), Tiny().eval()
    with torch.no_grad():
        m2.fc.weight.mul_(-1)  # a different model
    rows = explain_models([ModelEntry("one", m1, None, ["a", "b", "c"], 16),
                           ModelEntry("two", m2, None, ["c", "x", "y"], 12),
                           ModelEntry("too small", m1, "lenet5", ["a", "b", "c"], 16)], pil, "gradcam", target="C")
    assert [r.entry.label for r in rows] == ["one", "two", "too small"]
    assert rows[0].explanation.target == 2 and rows[1].explanation.target == 0 and rows[0].note is None
    for r, size, t in ((rows[0], 16, 2), (rows[1], 12, 0)):
        direct = explain(r.entry.model, pil, "gradcam", target=t, image_size=size)
        assert r.explanation.map.shape == (size, size)
        np.testing.assert_allclose(r.explanation.map, direct.map, rtol=1e-5, atol=1e-7)
    assert rows[2].explanation is None and "smaller than lenet5's minimum input of 32 px" in rows[2].error
    other = explain_models([ModelEntry("two", m2, None, ["c", "x", "y"], 12)], pil, "saliency", target="zebra")[0]
    top1 = explain(m2, pil, "saliency", image_size=12).target
    assert other.explanation.target == top1 and "not one of its 3 classes" in other.note
    with pytest.raises(ExplainError):
        explain_models([ModelEntry("x", m1, None, ["a"], 16)] * (MAX_MODELS + 1), pil)
