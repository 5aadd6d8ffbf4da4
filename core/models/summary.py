"""Per-layer tables, parameter counts and FLOPs, measured from the model itself.

Conventions (stated once, used everywhere in the app):

- **MACs** are multiply-accumulates: a 3×3 convolution with C_in → C_out channels producing an H×W map costs
  ``H·W·C_out·C_in·9`` MACs (divided by ``groups``).
- **FLOPs** are counted by :class:`torch.utils.flop_counter.FlopCounterMode`, which counts a multiply-add as
  **2** floating-point operations (only convolutions and matrix multiplies are counted; ReLU, pooling,
  batch-norm are cheap and ignored). So ``GFLOPs = FLOPs · 1e-9 = 2 · GMACs``.
- torchvision's weights meta ``_ops`` (documented as "GFLOPS") is in fact GMACs: ResNet-50 has
  ``_ops = 4.089`` and FlopCounterMode measures 8.18 GFLOPs. Papers usually quote multiply-adds too.
  The app shows GFLOPs as defined above and GMACs next to it where it compares with papers.

:func:`summary` builds the architecture on PyTorch's ``meta`` device (shapes only, no memory, no arithmetic),
so a table for VGG-16 at 224 px takes milliseconds and needs no weights; :func:`layer_table` does the same for
any model you pass (a real forward on its own device).

Gotcha: modules that do not run in eval mode (GoogLeNet's and Inception-v3's auxiliary classifiers) still
hold parameters. They get rows with ``output_shape=None`` so per-layer parameters always sum to the total.

Thread safety (a server shares cached models between browser sessions): ``FlopCounterMode`` attributes FLOPs
to modules through a ``ModuleTracker`` that registers *process-global* module hooks, so it sees every module
any thread runs. A Classify in another session during a count was attributed into the table (conv1 of a
ResNet-18 showed 10x its MACs). :func:`flop_counter` confines the tracker to the counting thread (the op
interception itself, a ``TorchDispatchMode``, is already thread-local), and :func:`layer_table` holds the
model's lock (:func:`core.models.shared.exclusive`) and ignores hook calls from other threads. Measured in
``tests/unit/test_shared_models.py``: 20 tables during a classify loop all equal the table computed alone.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode
from torch.utils.module_tracker import ModuleTracker

from core.errors import InputError
from core.models.registry import get_spec
from core.models.shared import exclusive

__all__ = [
    "LayerRow",
    "Summary",
    "forward_hooks",
    "flop_counter",
    "layer_table",
    "summary",
    "count_params",
    "min_input_size",
    "MAX_INPUT_SIZE",
]

MAX_INPUT_SIZE = 1024  # px; a bound on the memory a real forward may take (meta forwards take none)


@dataclass
class LayerRow:
    name: str  # dotted module name ("layer1.0.conv1")
    type: str  # class name ("Conv2d")
    output_shape: tuple[int, ...] | None  # None: the module did not run (e.g. aux head in eval mode)
    params: int  # parameters owned directly by this module, counted at its first call only
    macs: int  # multiply-accumulates of this call (FLOPs / 2)
    note: str = ""


@dataclass
class Summary:
    arch: str
    input_size: int
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    flops: int  # FlopCounterMode total for one image: 2 per multiply-add
    output_shape: tuple[int, ...] | None
    params_not_run: int = 0  # parameters of modules that did not run (auxiliary heads in eval mode)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gflops(self) -> float:
        return self.flops / 1e9

    @property
    def gmacs(self) -> float:
        return self.flops / 2e9

    @property
    def inference_params(self) -> int:
        return self.total_params - self.params_not_run

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(gflops=self.gflops, gmacs=self.gmacs, inference_params=self.inference_params)
        return d


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (each shared tensor once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@contextmanager
def forward_hooks(
    modules: Iterable[tuple[str, nn.Module]], make_hook: Callable[[str], Callable]
) -> Iterator[list]:
    """Register ``module.register_forward_hook(make_hook(name))`` on each module; always remove them.

    Hooks are a resource: leaving one on a cached model makes every later forward slower and keeps
    its outputs alive. The ``finally`` removes them even when the forward raises.
    """
    handles = []
    try:
        for name, module in modules:
            handles.append(module.register_forward_hook(make_hook(name)))
        yield handles
    finally:
        for h in handles:
            h.remove()


class _ThreadModuleTracker(ModuleTracker):
    """A ``ModuleTracker`` that follows only the modules run by the thread that entered it.

    Its hooks are still process-global (PyTorch has no per-thread module hooks), so other threads call them;
    they return at once there. Cost for such a thread: two Python calls per module call while a count runs
    (ResNet-18: ~130), well under a millisecond against a ~30 ms forward.
    """

    def __init__(self) -> None:
        super().__init__()
        self._owner: int | None = None

    def __enter__(self):
        self._owner = threading.get_ident()
        return super().__enter__()

    def _fw_pre_hook(self, mod, input) -> None:
        if threading.get_ident() == self._owner:
            super()._fw_pre_hook(mod, input)

    def _fw_post_hook(self, mod, input, output) -> None:
        if threading.get_ident() == self._owner:
            super()._fw_post_hook(mod, input, output)


def flop_counter() -> FlopCounterMode:
    """A ``FlopCounterMode(display=False)`` whose per-module counts see only the thread that enters it.

    Use this, never a bare ``FlopCounterMode``, in the app's process: see the module docstring.
    Raises ``RuntimeError`` if this PyTorch's FlopCounterMode no longer keeps its tracker in ``mod_tracker``
    (then the confinement could not be installed, and silently wrong tables are worse than an error).
    """
    counter = FlopCounterMode(display=False)
    if not isinstance(getattr(counter, "mod_tracker", None), ModuleTracker):
        raise RuntimeError("FlopCounterMode of this PyTorch has no mod_tracker: per-thread counting unavailable")
    counter.mod_tracker = _ThreadModuleTracker()
    return counter


def _shape_of(out: Any) -> tuple[int, ...] | None:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)) and out:  # GoogLeNetOutputs etc.: the main output comes first
        return _shape_of(out[0])
    return None


def _check_size(input_size: Any) -> int:
    try:
        size = int(str(input_size).strip())  # "224" and 224 pass; 224.5, "abc" and None do not
    except ValueError:
        raise InputError(f"input size must be a whole number of pixels, got {input_size!r}") from None
    if not 1 <= size <= MAX_INPUT_SIZE:
        raise InputError(f"input size must be between 1 and {MAX_INPUT_SIZE} px, got {size}")
    return size


def layer_table(model: nn.Module, input_size: int, *, arch: str = "", in_channels: int = 3) -> Summary:
    """Run one ``[1, 3, S, S]`` forward through ``model`` and tabulate every leaf module call.

    The model is used as is (its device, its mode: call ``.eval()`` first for inference shapes) and is left
    unchanged: hooks are removed, no gradients are recorded. Safe on a model shared between threads: the
    forward runs under the model's lock, and neither the hooks nor the FLOP counter see other threads. Raises ``RuntimeError`` from the forward
    (e.g. an input too small for the network); :func:`summary` turns that into an :class:`InputError`.
    """
    size = _check_size(input_size)
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    targets = [
        (n, m)
        for n, m in model.named_modules()
        if n and (next(m.children(), None) is None or next(m.parameters(recurse=False), None) is not None)
    ]
    calls: list[tuple[str, nn.Module, tuple[int, ...] | None]] = []
    me = threading.get_ident()

    def make_hook(name: str):
        def hook(module, inputs, output):
            if threading.get_ident() == me:  # a forward that bypasses the lock must not land in our table
                calls.append((name, module, _shape_of(output)))

        return hook

    x = torch.zeros(1, in_channels, size, size, device=device)
    counter = flop_counter()
    with exclusive(model, eval_mode=False), forward_hooks(targets, make_hook), counter, torch.no_grad():
        out = model(x)

    # FlopCounterMode names modules "<RootClass>.<dotted name>" and sums over all calls of a module.
    prefix = type(model).__name__ + "."
    flops_by_name = {
        k[len(prefix):]: sum(v.values()) for k, v in counter.get_flop_counts().items() if k.startswith(prefix)
    }
    n_calls: dict[str, int] = {}
    for name, _, _ in calls:
        n_calls[name] = n_calls.get(name, 0) + 1

    rows: list[LayerRow] = []
    seen: set[str] = set()
    call_index: dict[str, int] = {}
    for name, module, shape in calls:
        first = name not in seen
        seen.add(name)
        call_index[name] = call_index.get(name, 0) + 1
        leaf = next(module.children(), None) is None
        macs = flops_by_name.get(name, 0) // 2 // n_calls[name] if leaf else 0
        rows.append(
            LayerRow(
                name=name,
                type=type(module).__name__,
                output_shape=shape,
                params=sum(p.numel() for p in module.parameters(recurse=False)) if first else 0,
                macs=int(macs),
                note="" if n_calls[name] == 1 else f"call {call_index[name]} of {n_calls[name]}",
            )
        )
    not_run = 0
    for name, module in targets:
        if name not in seen:
            p = sum(q.numel() for q in module.parameters(recurse=False))
            not_run += p
            rows.append(LayerRow(name, type(module).__name__, None, p, 0, "not run in this mode"))
    return Summary(
        arch=arch or type(model).__name__,
        input_size=size,
        rows=rows,
        total_params=count_params(model),
        trainable_params=count_params(model, trainable_only=True),
        flops=int(counter.get_total_flops()),
        output_shape=_shape_of(out),
        params_not_run=not_run,
    )


class _SkipInitOnMeta(TorchFunctionMode):
    """Random initialisation on meta tensors is pointless (there are no values) yet slow: ``normal_`` and
    friends run Python reference implementations there (~8 ms per layer). Inside this mode the in-place
    initialisation ops return their meta tensor untouched."""

    _INIT_OPS = frozenset(
        "normal_ uniform_ fill_ zero_ erfinv_ mul_ add_ sub_ div_ clamp_ copy_ exponential_ bernoulli_ "
        "random_ log_normal_ cauchy_ geometric_".split()
    )

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if (
            getattr(func, "__name__", "") in self._INIT_OPS
            and args
            and isinstance(args[0], torch.Tensor)
            and args[0].is_meta
        ):
            return args[0]
        return func(*args, **(kwargs or {}))


def _meta_model(name: str) -> nn.Module:
    """The architecture with shapes only (``meta`` device): building VGG-16 this way allocates nothing."""
    spec = get_spec(name)
    with torch.device("meta"), _SkipInitOnMeta():
        model = spec.builder(num_classes=spec.default_num_classes, init=False).eval()
    # Speed: on meta tensors batch-norm runs a slow Python decomposition (~5 ms per call; most of a DenseNet
    # summary). It preserves shapes and FlopCounterMode ignores it, so this private copy skips it; hooks
    # still fire and its parameters are still counted.
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.forward = _passthrough.__get__(m)
    return model


def _passthrough(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x


def _runs_at(model: nn.Module, size: int) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device="meta"))
        return True
    except RuntimeError:
        return False


@lru_cache(maxsize=None)
def min_input_size(name: str) -> int:
    """Smallest square input (px) ``name`` accepts: torchvision's ``min_size`` meta, else probed on meta."""
    spec = get_spec(name)
    if spec.min_input_size:
        return spec.min_input_size
    model = _meta_model(spec.name)
    lo, hi = 1, spec.input_size  # invariant: runs at hi
    if _runs_at(model, lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _runs_at(model, mid) else (mid, hi)
    return hi


def on_meta(name: str, input_size: int | str | None, walk, error: type[InputError] = InputError):
    """``walk(model, size, arch=name)`` on zoo architecture ``name`` built on the ``meta`` device, at a square
    ``input_size`` (default: its own). A too-small input raises ``error`` naming the minimum, whether the registry
    knows it or only the forward pass finds out (a RuntimeError from a map that shrank below one pixel)."""
    spec = get_spec(name)
    size = _check_size(spec.input_size if input_size is None else input_size)
    too_small = error(f"input size {size} is too small for {spec.name} (min {min_input_size(spec.name)} px)")
    if spec.min_input_size and size < spec.min_input_size:
        raise too_small
    try:
        return walk(_meta_model(spec.name), size, arch=spec.name)
    except RuntimeError as err:
        if size < min_input_size(spec.name):
            raise too_small from err
        raise


def summary(name: str, input_size: int | None = None) -> Summary:
    """The per-layer table of architecture ``name`` for one ``[1, 3, S, S]`` image (S default: its input size).

    Shapes, parameters and FLOPs do not depend on weight values, so this runs on the meta device.
    Too-small inputs raise :class:`InputError` naming the minimum.
    """
    return on_meta(name, input_size, layer_table)


@lru_cache(maxsize=None)
def default_summary(name: str) -> Summary:
    """:func:`summary` at the architecture's default input size, cached in memory (do not mutate)."""
    return summary(name)
