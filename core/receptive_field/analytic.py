"""The theoretical receptive field of every layer of a real network, branched ones included.

Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019
(https://distill.pub/2019/computing-receptive-fields/). Per spatial axis a feature map carries three numbers,
in input pixels:

- ``size``: how many input pixels one unit depends on (``None``: every pixel — the map is *global*);
- ``jump``: the distance between two neighbouring units (the product of the strides so far);
- ``start``: the centre of unit 0 (pixel centres are 0, 1, 2, …; may be negative or ``x.5``).

A layer with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` maps them to::

    size' = size + d·(k − 1)·jump      jump' = jump·s      start' = start + (d·(k − 1)/2 − p)·jump

(the chain rule of :mod:`core.models.stacked_convs`, which teaches it for a plain stack). Unit ``(i, j)``
then sees the box centred at ``start + i·jump`` of side ``size``, in input pixels, *unclipped*: the part
outside the image is zero padding, reported separately.

Real networks are graphs, not chains, so instead of reading ``model.features`` this module runs one forward
on PyTorch's ``meta`` device (shapes only, no memory) under a ``TorchDispatchMode`` that sees every ATen
operation and propagates the three numbers *per tensor* — tensors are the edges of the graph:

- ``convolution``, ``max_pool2d``, ``avg_pool2d``, ``constant_pad_nd``: the formula above;
- elementwise ops and merges (``add`` of a residual, ``cat`` of Inception / DenseNet branches, ``mul`` of an
  SE gate): the **union** of the inputs' fields; a merge whose branches are not centred on the same pixel is
  flagged ``aligned=False``;
- a reduction over the spatial axes (SE's ``mean``, ``AdaptiveAvgPool2d(1)``, ``flatten`` + ``linear``):
  **global** — every later field is global too (an SE block multiplies every unit by a function of the
  whole image).

Results: :func:`receptive_fields` gives a :class:`FieldTable` (one :class:`LayerField` per reported module,
its output map's ``(h, w)`` and :class:`Field`); :func:`unit_field` the box of one unit in input pixels.
Checked against the exact *gradient support* (input pixels whose gradient for the unit can be non-zero) for
the zoo in ``tests/unit/test_receptive_field.py``.

Gotcha: the theoretical field is an upper bound of what a unit *can* see; most of its area barely matters
(:mod:`core.receptive_field.effective` measures how much).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable, Sequence

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from core.errors import InputError, PlaygroundError
from core.models.activations import feature_layers
from core.models.summary import forward_hooks, on_meta

__all__ = [
    "ReceptiveFieldError",
    "Axis",
    "Field",
    "LayerField",
    "FieldTable",
    "UnitField",
    "input_field",
    "union",
    "trace_fields",
    "receptive_fields",
    "tables_for",
    "report_layers",
    "unit_field",
]


class ReceptiveFieldError(InputError):
    """A receptive-field request that cannot be answered (unknown layer, unit outside the map, …)."""


# ------------------------------------------------------------------------------------------ field algebra
@dataclass(frozen=True)
class Axis:
    """The field along one spatial axis, in input pixels.

    ``cover``: the input pixels ``(first, last)`` that real data of this map comes from. A unit sees its
    analytic box (``size`` around ``start + i·jump``) cut to ``cover``; the rest of the box is zero padding —
    of the image, or of an inner map: Inception-v3 at 79 px drops its stem's last two rows (a valid 3×3/2 pool
    rounds down), so no later unit reads them although they lie inside the box.
    ``size=None``: global — every unit depends on all of ``cover``.
    """

    size: int | None
    jump: int
    start: float
    cover: tuple[float, float]

    @property
    def is_global(self) -> bool:
        return self.size is None

    def through(self, k: int, s: int, p: int, d: int, n_out: int) -> "Axis":
        """After a sliding window of kernel ``k``, stride ``s``, padding ``p`` (before), dilation ``d`` that
        gives ``n_out`` units."""
        if self.size is None:
            return Axis(None, self.jump * s, self.start + (d * (k - 1) / 2 - p) * self.jump, self.cover)
        out = Axis(self.size + d * (k - 1) * self.jump, self.jump * s,
                   self.start + (d * (k - 1) / 2 - p) * self.jump, self.cover)
        lo, hi = out.box(0)[0], out.box(n_out - 1)[1]
        return replace(out, cover=(max(lo, self.cover[0]), min(hi, self.cover[1])))

    def box(self, index: int) -> tuple[float, float]:
        """First and last input pixel (inclusive) of unit ``index``'s analytic field, padding included."""
        if self.size is None:
            return self.cover
        centre = self.start + index * self.jump
        half = (self.size - 1) / 2
        return centre - half, centre + half

    def globalised(self) -> "Axis":
        """The axis after a reduction over it: every unit depends on everything the map covered."""
        return replace(self, size=None)


@dataclass(frozen=True)
class Field:
    """Receptive field of a feature map: one :class:`Axis` per spatial axis (height, width)."""

    h: Axis
    w: Axis
    aligned: bool = True  # False once branches centred on different pixels were merged
    depth: int = 0  # convolutions on the longest path from the input

    @property
    def is_global(self) -> bool:
        return self.h.is_global or self.w.is_global

    def axes(self) -> tuple[Axis, Axis]:
        return self.h, self.w

    def to_dict(self) -> dict[str, Any]:
        g = self.is_global
        return {
            "size": None if g else [self.h.size, self.w.size],
            "jump": [self.h.jump, self.w.jump],
            "start": [_num(self.h.start), _num(self.w.start)],
        }


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def input_field(h: int, w: int) -> Field:
    """The field of the input image itself: each pixel sees itself."""
    return Field(Axis(1, 1, 0.0, (0.0, h - 1.0)), Axis(1, 1, 0.0, (0.0, w - 1.0)))


def _union_axis(axes: Sequence[Axis]) -> tuple[Axis, bool]:
    """Union of the fields of several maps of the same size merged unit by unit; (axis, aligned)."""
    full = [a for a in axes if not a.is_global]
    jumps = {a.jump for a in axes}
    cover = (min(a.cover[0] for a in axes), max(a.cover[1] for a in axes))
    if any(a.is_global for a in axes):
        ref = full[0] if full else axes[0]
        return Axis(None, ref.jump, ref.start, cover), True
    if len(jumps) > 1:
        raise _Untraceable(f"branches with different strides ({sorted(jumps)}) merge")
    lo = min(a.start - (a.size - 1) / 2 for a in full)
    hi = max(a.start + (a.size - 1) / 2 for a in full)
    aligned = len({a.start for a in full}) == 1
    return Axis(int(round(hi - lo + 1)), full[0].jump, (lo + hi) / 2, cover), aligned


def union(fields: Sequence[Field]) -> Field:
    """The field of a map computed unit by unit from several maps of the same size (add, cat, mul)."""
    if len(fields) == 1:
        return fields[0]
    h, ah = _union_axis([f.h for f in fields])
    w, aw = _union_axis([f.w for f in fields])
    return Field(h, w, aligned=ah and aw and all(f.aligned for f in fields), depth=max(f.depth for f in fields))


def _globalise(f: Field, h: bool = True, w: bool = True) -> Field:
    """``f`` after a reduction over its height and / or width."""
    return replace(f, h=f.h.globalised() if h else f.h, w=f.w.globalised() if w else f.w)


class _Untraceable(Exception):
    """An operation whose output field is not the same box for every unit (irregular adaptive pooling)."""


# ------------------------------------------------------------------------------------------ tracing
_UNKNOWN = "unknown"  # marker: this tensor depends on the input, but not through a regular sliding window


def _ints(v, n: int = 2) -> list[int]:
    if isinstance(v, int):
        return [v] * n
    v = [int(t) for t in v]
    return v * n if len(v) == 1 else v


def _spatial(t: torch.Tensor) -> tuple[int, int] | None:
    return (int(t.shape[-2]), int(t.shape[-1])) if t.dim() >= 3 else None


class _FieldTracer(TorchDispatchMode):
    """Propagates a :class:`Field` from every traced input tensor to every output tensor of each ATen op.

    Tensors are keyed by ``id``; every traced tensor is kept alive for the whole forward, so an id is never
    reused by another tensor meanwhile (meta tensors cost no memory).
    """

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[int, Field | str] = {}
        self._alive: list[torch.Tensor] = []
        self.notes: list[str] = []

    def set(self, t: torch.Tensor, f: Field | str) -> None:
        self.fields[id(t)] = f
        self._alive.append(t)

    def get(self, t: Any) -> Field | str | None:
        return self.fields.get(id(t)) if isinstance(t, torch.Tensor) else None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat_in, _ = tree_flatten((args, kwargs))
        out = self._fast_pointwise(func, flat_in)
        if out is None:
            out = func(*args, **kwargs)
        traced = [(t, self.get(t)) for t in flat_in if self.get(t) is not None]
        if not traced:
            return out
        flat_out = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        if not flat_out:
            return out
        try:
            result = self._rule(func, args, kwargs, traced, flat_out[0])
        except _Untraceable as why:
            self.notes.append(str(why))
            result = _UNKNOWN
        for t in flat_out:
            # max_pool2d_with_indices also returns the indices: same field, harmless
            self.set(t, result)
        return out

    @staticmethod
    def _fast_pointwise(func, flat_in) -> torch.Tensor | None:
        """Speed: on ``meta`` some activations (hardswish, hardsigmoid) run a slow Python decomposition just
        to produce a tensor of the input's shape; a one-tensor pointwise op's output is exactly that."""
        tensors = [t for t in flat_in if isinstance(t, torch.Tensor)]
        if len(tensors) != 1 or not tensors[0].is_meta or torch.Tag.pointwise not in func.tags:
            return None
        return tensors[0] if func._schema.is_mutable else torch.empty_like(tensors[0])

    def _rule(self, func, args, kwargs, traced, out: torch.Tensor) -> Field | str:
        if any(f == _UNKNOWN for _, f in traced):
            return _UNKNOWN
        name = func.overloadpacket.__name__
        x, fx = traced[0]
        if name == "convolution":
            if args[0] is not x:
                raise _Untraceable("a convolution whose weights depend on the input")
            stride, padding, dilation, transposed = args[3], args[4], args[5], args[6]
            if transposed:
                raise _Untraceable("transposed convolution")
            k = list(args[1].shape[-2:])
            return self._window(fx, _spatial(out), k, _ints(stride), _ints(padding), _ints(dilation), conv=True)
        if name in ("max_pool2d_with_indices", "max_pool2d", "avg_pool2d"):
            k = _ints(args[1])
            stride = _ints(args[2]) if len(args) > 2 and args[2] else k
            padding = _ints(args[3]) if len(args) > 3 else [0, 0]
            dilation = _ints(args[4]) if name != "avg_pool2d" and len(args) > 4 else [1, 1]
            return self._window(fx, _spatial(out), k, stride, padding, dilation)
        if name in ("_adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d"):
            return self._adaptive(fx, _spatial(x), _spatial(out))
        if name == "constant_pad_nd":
            pad = list(args[1]) + [0] * 4  # (left, right, top, bottom)
            return replace(fx, w=replace(fx.w, start=fx.w.start - pad[0] * fx.w.jump),
                           h=replace(fx.h, start=fx.h.start - pad[2] * fx.h.jump))
        if name in ("mean", "sum", "amax", "amin", "max", "min", "std", "var") and x.dim() >= 3:
            return self._reduction(fx, x, args, kwargs, out)
        return self._pointwise(traced, out)

    @staticmethod
    def _window(f: Field, n_out, k, s, p, d, conv: bool = False) -> Field:
        return Field(f.h.through(k[0], s[0], p[0], d[0], n_out[0]), f.w.through(k[1], s[1], p[1], d[1], n_out[1]),
                     aligned=f.aligned, depth=f.depth + int(conv))

    @staticmethod
    def _adaptive(f: Field, size_in, size_out) -> Field:
        axes = []
        for a, n_in, n_out in zip(f.axes(), size_in, size_out):
            if n_out == n_in:  # LeNet-5's global pool at 32 px: a 1×1 map stays as it is
                axes.append(a)
            elif n_out == 1:
                axes.append(a.globalised())
            elif n_in % n_out == 0:  # a regular pool: kernel = stride = n_in / n_out
                k = n_in // n_out
                axes.append(a.through(k, k, 0, 1, n_out))
            else:
                raise _Untraceable(f"adaptive pooling {n_in} -> {n_out} uses windows of different sizes")
        return Field(axes[0], axes[1], aligned=f.aligned, depth=f.depth)

    def _reduction(self, f: Field, x: torch.Tensor, args, kwargs, out: torch.Tensor) -> Field:
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        if dims is None or (isinstance(dims, (list, tuple)) and len(dims) == 0):
            return _globalise(f)  # a full reduction
        dims = {int(d) % x.dim() for d in ([dims] if isinstance(dims, int) else dims)}
        # averaging over an axis of length 1 changes nothing
        rh = x.dim() - 2 in dims and x.shape[-2] > 1
        rw = x.dim() - 1 in dims and x.shape[-1] > 1
        if out.dim() != x.dim():  # keepdim=False: the spatial axes are no longer the last two
            return _globalise(f)
        return _globalise(f, h=rh, w=rw)

    @staticmethod
    def _pointwise(traced, out: torch.Tensor) -> Field:
        """Elementwise ops, merges (add, cat, mul), activations, views: the union of the inputs' fields.

        An input broadcast from size 1 along an axis (an SE gate ``[N, C, 1, 1]``) is global along it; an
        output without spatial axes (flatten, linear) is global; any other change of spatial size is not a
        sliding window and cannot be followed."""
        so = _spatial(out)
        if so is None or any(_spatial(t) is None for t, _ in traced):
            return union([_globalise(f) for _, f in traced])
        fields = []
        for t, f in traced:
            si = _spatial(t)
            if any(a != b and a != 1 for a, b in zip(si, so)):
                raise _Untraceable(f"spatial size {si} -> {so}")
            fields.append(_globalise(f, h=si[0] != so[0], w=si[1] != so[1]))
        # global fields last: the union takes jump and start from the first (full-size) map
        return union(sorted(fields, key=lambda f: f.is_global))


# ------------------------------------------------------------------------------------------ per-layer table
@dataclass(frozen=True)
class LayerField:
    """The field of one module's output feature map."""

    layer: str  # dotted module name, as model.get_submodule takes it
    type: str
    shape: tuple[int, int]  # the output map's (h, w)
    field: Field

    @property
    def is_global(self) -> bool:
        return self.field.is_global

    @property
    def size(self) -> tuple[int, int] | None:
        return None if self.is_global else (self.field.h.size, self.field.w.size)

    @property
    def jump(self) -> tuple[int, int]:
        return self.field.h.jump, self.field.w.jump

    @property
    def start(self) -> tuple[float, float]:
        return self.field.h.start, self.field.w.start

    def clipped(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """Extent (h, w) of the *centre* unit's field once cut to the image."""
        u = unit_field(self, self.shape[0] // 2, self.shape[1] // 2, input_size)
        return u.clipped_box[2] - u.clipped_box[0] + 1, u.clipped_box[3] - u.clipped_box[1] + 1

    def to_dict(self, input_size: tuple[int, int] | None = None) -> dict[str, Any]:
        d = {"layer": self.layer, **self.field.to_dict(), "type": self.type, "shape": list(self.shape),
             "aligned": self.field.aligned, "depth": self.field.depth}
        if input_size is not None:
            d["clipped"] = list(self.clipped(input_size))
        return d


@dataclass(frozen=True)
class FieldTable:
    """Every reported layer of one model at one input size, in the order their forward finished."""

    arch: str
    input_size: tuple[int, int]
    layers: tuple[LayerField, ...]
    notes: tuple[str, ...] = field(default=())  # operations that could not be followed

    def get(self, layer: str) -> LayerField:
        for row in self.layers:
            if row.layer == layer:
                return row
        names = [r.layer for r in self.layers]
        hint = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
        raise ReceptiveFieldError(f"unknown layer {layer!r} for {self.arch or 'this model'}; layers: {hint}")

    @property
    def names(self) -> list[str]:
        return [r.layer for r in self.layers]

    def to_rows(self) -> list[dict[str, Any]]:
        return [r.to_dict(self.input_size) for r in self.layers]


def report_layers(model: nn.Module) -> list[str]:
    """The modules whose output maps are reported: those of :func:`core.models.activations.feature_layers`
    (convolutions, pools, blocks and stages) plus adaptive pools (where a field becomes global)."""
    names = set(feature_layers(model))
    for name, m in model.named_modules():
        if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            names.add(name)
    return [n for n, _ in model.named_modules() if n in names]


def trace_fields(model: nn.Module, input_size: int | tuple[int, int], *, in_channels: int = 3,
                 layers: Iterable[str] | None = None, arch: str = "") -> FieldTable:
    """Trace ``model`` once on a ``[1, in_channels, H, W]`` input and return the field of each layer.

    The model runs on its own device (use a ``meta`` model: no memory, milliseconds). Hooks fire after each
    module's forward and read the field of its output tensor; a module called twice reports its last call.
    Raises ``RuntimeError`` from the model itself when the input is too small for it.
    """
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    names = list(layers) if layers is not None else report_layers(model)
    modules = [(n, model.get_submodule(n)) for n in names]
    tracer = _FieldTracer()
    records: dict[str, LayerField] = {}
    skipped: list[str] = []

    def make_hook(name: str):
        def hook(module, inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            f = tracer.get(out)
            if isinstance(f, Field) and isinstance(out, torch.Tensor) and out.dim() == 4:
                records.pop(name, None)  # re-insert: order of the last call
                records[name] = LayerField(name, type(module).__name__, (int(out.shape[-2]), int(out.shape[-1])), f)
            elif f == _UNKNOWN:
                skipped.append(name)

        return hook

    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    x = torch.zeros(1, in_channels, h, w, device=device)
    with forward_hooks(modules, make_hook), torch.no_grad():
        with tracer:
            tracer.set(x, input_field(h, w))
            model(x)
    notes = [f"{why}; not reported: {', '.join(dict.fromkeys(skipped))}" if skipped else why
             for why in dict.fromkeys(tracer.notes)]
    return FieldTable(arch=arch, input_size=(h, w), layers=tuple(records.values()), notes=tuple(notes))


@lru_cache(maxsize=256)
def receptive_fields(arch: str, input_size: int | str | None = None) -> FieldTable:
    """The per-layer field table of zoo architecture ``arch`` at a square ``input_size`` (default: its own).

    Weights do not matter, so the model is built on the ``meta`` device and cached results are shared
    (do not mutate). Too-small inputs raise :class:`InputError` naming the minimum.
    """
    return on_meta(arch, input_size, trace_fields, ReceptiveFieldError)


def tables_for(archs: Iterable[str], input_size: int) -> tuple[list[FieldTable], list[str]]:
    """:func:`receptive_fields` of several architectures at one square size, for a comparison. One that cannot
    be traced at that size is skipped with its reason (``"alexnet: input size 40 is too small …"``)."""
    tables, skipped = [], []
    for arch in archs:
        try:
            tables.append(receptive_fields(arch, int(input_size)))
        except PlaygroundError as err:
            skipped.append(f"{arch}: {err}")
    return tables, skipped


# ------------------------------------------------------------------------------------------ one unit
@dataclass(frozen=True)
class UnitField:
    """What unit ``(row, col)`` of ``layer`` sees. Boxes are ``(top, left, bottom, right)`` in input pixels,
    inclusive; ``box`` is the analytic field (may reach into zero padding), ``clipped_box`` the real pixels it
    reads (:attr:`Axis.cover`). For a global field both are what the reduced map covered, for every unit."""

    layer: str
    row: int
    col: int
    is_global: bool
    box: tuple[float, float, float, float]
    clipped_box: tuple[int, int, int, int]
    area: int  # pixels of the analytic field (inside the image or not)
    clipped_area: int  # pixels of the field that are real image pixels

    @property
    def padding_share(self) -> float:
        """Share of the analytic field that is zero padding (around the image or an inner map)."""
        return 0.0 if not self.area else 1 - self.clipped_area / self.area

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "unit": [self.row, self.col], "global": self.is_global,
                "box": [_num(v) for v in self.box], "clipped_box": list(self.clipped_box), "area": self.area,
                "clipped_area": self.clipped_area, "padding_share": self.padding_share}


def unit_field(layer: LayerField, row: int, col: int, input_size: int | tuple[int, int]) -> UnitField:
    """The input region of unit ``(row, col)`` of ``layer``'s output map for an ``input_size`` image."""
    H, W = (input_size, input_size) if isinstance(input_size, int) else input_size
    h, w = layer.shape
    if not (0 <= row < h and 0 <= col < w):
        raise ReceptiveFieldError(f"unit ({row}, {col}) is outside {layer.layer}'s {h}×{w} map")
    fh, fw = layer.field.h, layer.field.w
    t, b = fh.box(row)
    l, r = fw.box(col)
    ct, cb = max(0, math.ceil(max(t, fh.cover[0]))), min(H - 1, math.floor(min(b, fh.cover[1])))
    cl, cr = max(0, math.ceil(max(l, fw.cover[0]))), min(W - 1, math.floor(min(r, fw.cover[1])))
    inside = max(0, cb - ct + 1) * max(0, cr - cl + 1)
    area = int(round((b - t + 1) * (r - l + 1)))
    return UnitField(layer.layer, row, col, layer.is_global, (t, l, b, r), (ct, cl, cb, cr), area, inside)
