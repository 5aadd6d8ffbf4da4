"""The model zoo: one :class:`ArchSpec` per architecture, in one ordered table (by year).

Like torchvision's ``@register_model`` registry behind ``list_models()`` / ``get_model()``, every page,
CLI command and test reads this table; adding an architecture is one ``_register(...)`` call.

What a spec holds is *structure and teaching text* only. Every number shown to users (parameters,
GFLOPs, ImageNet accuracy, file size, categories) is computed from the model or read from the weights
enums at run time (:mod:`core.models.card`), never typed here.

Module paths (``default_cam_layer``, ``head``, ``stages``, ``signature``) are dotted names in the built
model plus an optional slice of an ``nn.Sequential``: ``"features[0:5]"`` is VGG-16's first block
(:func:`core.models.module_path.get_module`). What the weights define (``has_pretrained``, ``input_size``,
``min_input_size``) comes from the entry's weights source (:mod:`core.models.sources`) at registration.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from torch import nn
from torchvision import models as tv_models
from torchvision.models.vgg import cfgs

from core.errors import InputError
from core.models.lenet import LeNet5
from core.models.module_path import get_module  # noqa: F401 (re-exported: callers import it from here)
from core.models.sources import SOURCES

__all__ = ["ArchSpec", "ARCHITECTURES", "get_spec", "get_module", "canonical_name"]


@dataclass(frozen=True)
class ArchSpec:
    """One architecture of the zoo.

    ``builder(num_classes, init=True)`` returns a randomly initialised model with ``num_classes``
    outputs (``init=False`` may skip expensive initialisation when weights are loaded right after).
    ``head`` lists every ``nn.Linear`` that :func:`core.models.build` replaces for a new class count
    (auxiliary heads included). ``stages`` are ordered input → output groups; the last one is the
    classifier head. ``min_input_size`` is the smallest square input the forward accepts (``None``:
    unknown, probed on demand by :func:`core.models.summary.min_input_size`).
    """

    name: str
    title: str
    family: str
    year: int
    paper: str
    idea: str
    input_size: int  # torchvision entries: the crop size their weights were evaluated at (from the weights)
    default_cam_layer: str
    source: str  # "torchvision" | "timm" | "local"
    builder: Callable[..., nn.Module] = field(repr=False, compare=False)
    head: tuple[str, ...]
    stages: tuple[tuple[str, tuple[str, ...]], ...]
    signature: str
    signature_title: str
    signature_note: str
    has_pretrained: bool
    aux_logits: bool = False
    default_num_classes: int = 1000
    min_input_size: int | None = None
    tv_name: str | None = None  # torchvision model name (weights enum via get_model_weights)
    timm_name: str | None = None  # timm architecture name
    timm_tag: str | None = None  # timm pretrained tag ("a1_in1k"), None: no pretrained weights
    notes: str = ""  # deviations from the paper, worth knowing

    @property
    def timm_pretrained_name(self) -> str | None:
        return f"{self.timm_name}.{self.timm_tag}" if self.timm_name and self.timm_tag else None


# ------------------------------------------------------------------------------------------ builders
def _tv(tv_name: str, **fixed) -> Callable[..., nn.Module]:
    """Builder for a torchvision architecture (random init; weights are loaded by core.models.weights)."""

    def build(num_classes: int, init: bool = True) -> nn.Module:
        kwargs = dict(fixed)
        if "init_weights" in kwargs:
            kwargs["init_weights"] = init
        return tv_models.get_model(tv_name, weights=None, num_classes=num_classes, **kwargs)

    build.__name__ = f"build_{tv_name}"
    return build


def _timm(timm_name: str) -> Callable[..., nn.Module]:
    def build(num_classes: int, init: bool = True) -> nn.Module:
        import timm  # ~1 s to import: paid only by pages and runs that build an SE-ResNet

        return timm.create_model(timm_name, pretrained=False, num_classes=num_classes)

    build.__name__ = f"build_{timm_name}"
    return build


def _lenet(num_classes: int, init: bool = True) -> nn.Module:
    return LeNet5(num_classes=num_classes)


# ------------------------------------------------------------------------------------------ stage helpers
def _seq(container: str, bounds: list[tuple[str, int, int | None]]) -> list[tuple[str, tuple[str, ...]]]:
    """Stages that are slices of one nn.Sequential, e.g. ``("stage2", 2, 4)`` -> ``features[2:4]``."""
    return [(name, (f"{container}[{a}:{'' if b is None else b}]",)) for name, a, b in bounds]


def _vgg_layout(cfg: str, bn: bool) -> tuple[list[tuple[str, tuple[str, ...]]], str, int]:
    """VGG's blocks (split at each max-pool) from torchvision's own layer config, its first stacked
    3×3 block (the signature) and the index of the last max-pool (the Grad-CAM layer)."""
    per_conv = 3 if bn else 2  # conv, [bn,] relu
    stages, sig, i, start, convs = [], None, 0, 0, 0
    for v in cfgs[cfg]:
        if v == "M":
            i += 1
            stages.append((f"block{len(stages) + 1}", (f"features[{start}:{i}]",)))
            if sig is None and convs >= 2:
                sig = f"features[{start}:{i}]"
            start, convs = i, 0
        else:
            i += per_conv
            convs += 1
    return stages, sig or stages[0][1][0], i - 1


# ------------------------------------------------------------------------------------------ the table
_ENTRIES: list[ArchSpec] = []


def _register(**kw) -> None:
    """Add one entry. Facts its weights define (whether they exist, the input size they were evaluated at,
    the smallest input they accept) are filled in here by its weights source, before anyone can read it;
    an entry may not type one of them as well (the typed value would silently lose)."""
    facts = SOURCES[kw["source"]].entry_facts(kw)
    typed = sorted(k for k in facts if k in kw and kw[k] is not None and kw[k] != facts[k])
    if typed:
        raise ValueError(f"registry entry {kw['name']!r}: {', '.join(typed)} come from its weights; do not type them")
    _ENTRIES.append(ArchSpec(**{**kw, **facts}))


_register(
    name="lenet5",
    title="LeNet-5",
    family="LeNet",
    year=1998,
    paper="http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf",
    idea=(
        "Convolution then subsampling, repeated: small 5×5 filters shared across the whole image learn "
        "their own features instead of hand-designed ones — the template of every CNN since."
    ),
    input_size=32,
    min_input_size=32,
    default_cam_layer="features.5",
    source="local",
    builder=_lenet,
    head=("classifier.3",),
    stages=(
        ("C1", ("features[0:3]",)),
        ("C3", ("features[3:6]",)),
        ("C5", ("features[6:8]",)),
        ("F6", ("classifier[0:3]",)),
        ("head", ("classifier.3",)),
    ),
    signature="features",
    signature_title="conv → pool → conv → pool",
    signature_note=(
        "The whole feature extractor is two rounds of a 5×5 convolution followed by 2×2 pooling: each "
        "round detects local patterns, then halves the resolution so the next round sees a wider area. "
        "Every later CNN in this zoo repeats this pattern, only deeper and wider."
    ),
    default_num_classes=10,
    notes=(
        "Defined here (torchvision has no LeNet): 3 input channels, ReLU and max-pooling instead of tanh "
        "and trainable subsampling, full C3 connections, linear output instead of RBF units, and a global "
        "average pool so inputs larger than 32 px work. Untrained only (no ImageNet weights exist)."
    ),
)

_register(
    name="alexnet",
    title="AlexNet",
    family="AlexNet",
    year=2012,
    paper="https://papers.nips.cc/paper_files/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html",
    idea=(
        "LeNet's recipe scaled up to ImageNet on GPUs: ReLU, dropout and data augmentation let 60 M "
        "parameters train, winning ILSVRC 2012 by a wide margin. Its first layer uses big 11×11 filters "
        "with stride 4."
    ),
    default_cam_layer="features.12",
    source="torchvision",
    builder=_tv("alexnet"),
    head=("classifier.6",),
    stages=tuple(
        _seq("features", [("conv1", 0, 3), ("conv2", 3, 6), ("conv3-5", 6, None)])
        + [("fc6-7", ("classifier[0:6]",)), ("head", ("classifier.6",))]
    ),
    signature="features[0:3]",
    signature_title="11×11 stride-4 convolution + overlapping max-pool",
    signature_note=(
        "The first layer looks at 11×11 pixel patches and moves 4 pixels at a time, shrinking a 224 px "
        "image to 55×55 in one step; a 3×3 max-pool with stride 2 (overlapping windows) halves it again. "
        "Big kernels are expensive per parameter — VGG showed stacked 3×3 convolutions see as far for less."
    ),
    tv_name="alexnet",
    notes=(
        "torchvision implements the single-GPU variant from Krizhevsky's 'One weird trick' "
        "(https://arxiv.org/abs/1404.5997): 64/192/384/256/256 channels and no local response normalisation."
    ),
)

for _key, _cfg, _bn, _title in (
    ("vgg11", "A", False, "VGG-11"),
    ("vgg11_bn", "A", True, "VGG-11-BN"),
    ("vgg16", "D", False, "VGG-16"),
    ("vgg16_bn", "D", True, "VGG-16-BN"),
):
    _blocks, _sig, _last_pool = _vgg_layout(_cfg, _bn)
    _register(
        name=_key,
        title=_title,
        family="VGG",
        year=2014,
        paper="https://arxiv.org/abs/1409.1556",
        idea=(
            "Only 3×3 convolutions, stacked: two 3×3 layers see what one 5×5 sees (three see a 7×7) with "
            "fewer parameters and more non-linearities. Depth, not filter size, buys the receptive field."
            + (" Batch normalisation after every convolution makes the deep plain stack easy to train." if _bn else "")
        ),
        default_cam_layer=f"features.{_last_pool}",
        source="torchvision",
        builder=_tv(_key),
        head=("classifier.6",),
        stages=tuple(_blocks + [("fc6-7", ("classifier[0:6]",)), ("head", ("classifier.6",))]),
        signature=_sig,
        signature_title="stacked 3×3 convolutions + max-pool",
        signature_note=(
            "Two 3×3 convolutions in a row, then a 2×2 max-pool. The second convolution sees 3×3 outputs "
            "of the first, so together they cover a 5×5 patch of the input with 2·9·C² weights instead of "
            "25·C², and with two ReLUs instead of one."
            + (" Here each convolution is followed by BatchNorm2d." if _bn else "")
        ),
        tv_name=_key,
        notes=(
            "Batch normalisation (https://arxiv.org/abs/1502.03167) postdates the VGG paper; the BN variants "
            "are torchvision's." if _bn else ""
        ),
    )

_register(
    name="googlenet",
    title="GoogLeNet (Inception-v1)",
    family="GoogLeNet",
    year=2014,
    paper="https://arxiv.org/abs/1409.4842",
    idea=(
        "Inception modules run 1×1, 3×3 and 5×5 convolutions and a pooling branch side by side and "
        "concatenate the results; cheap 1×1 'bottleneck' convolutions shrink the channels first. Two "
        "auxiliary classifiers inject extra gradient into the middle of the network during training."
    ),
    default_cam_layer="inception5b",
    source="torchvision",
    builder=_tv("googlenet", aux_logits=True, transform_input=True, init_weights=True),
    head=("fc", "aux1.fc2", "aux2.fc2"),
    stages=(
        ("stem", ("conv1", "conv2", "conv3")),
        ("inception3", ("inception3a", "inception3b")),
        ("inception4", ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e")),
        ("inception5", ("inception5a", "inception5b")),
        ("head", ("fc", "aux1", "aux2")),
    ),
    signature="inception3a",
    signature_title="Inception module",
    signature_note=(
        "Four branches read the same input: a 1×1 convolution, 1×1 → 3×3, 1×1 → 3×3 (torchvision's "
        "stand-in for the paper's 5×5) and 3×3 max-pool → 1×1; their outputs are concatenated along the "
        "channels. The 1×1 convolutions before the bigger kernels cut the channel count, which is what "
        "keeps the module cheap."
    ),
    aux_logits=True,
    tv_name="googlenet",
    notes=(
        "torchvision adds batch normalisation to every convolution and uses 3×3 instead of 5×5 in the third "
        "branch. transform_input=True is always set (untrained too) so pretrained and untrained models take "
        "the same ImageNet-normalised input and state dicts are interchangeable. The auxiliary heads run only "
        "in train() mode."
    ),
)

_register(
    name="inception_v3",
    title="Inception-v3",
    family="Inception",
    year=2015,
    paper="https://arxiv.org/abs/1512.00567",
    idea=(
        "Factorise big convolutions: a 5×5 becomes two 3×3, and an n×n becomes a 1×n followed by an n×1, "
        "keeping the receptive field at a fraction of the cost; one auxiliary classifier regularises training."
    ),
    default_cam_layer="Mixed_7c",
    source="torchvision",
    builder=_tv("inception_v3", aux_logits=True, transform_input=True, init_weights=True),
    head=("fc", "AuxLogits.fc"),
    stages=(
        ("stem", ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3")),
        ("mixed5", ("Mixed_5b", "Mixed_5c", "Mixed_5d")),
        ("mixed6", ("Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e")),
        ("mixed7", ("Mixed_7a", "Mixed_7b", "Mixed_7c")),
        ("head", ("fc", "AuxLogits")),
    ),
    signature="Mixed_6b",
    signature_title="Inception module with factorised 7×7 convolutions",
    signature_note=(
        "Look at the 1×7 and 7×1 convolutions: applied one after the other they cover a 7×7 window with "
        "14·C² weights instead of 49·C². The module still runs several such branches in parallel and "
        "concatenates them, like GoogLeNet's."
    ),
    aux_logits=True,
    tv_name="inception_v3",
    notes=(
        "transform_input=True is always set (untrained too) so pretrained and untrained models take the same "
        "ImageNet-normalised input. The auxiliary head needs ≥ 299 px in train() mode."
    ),
)

# torchvision's ResNets and timm's SE-ResNets share module names: conv1/bn1 stem, layer1..4, fc head.
_RESNET_STAGES = (
    ("stem", ("conv1", "bn1")),
    ("layer1", ("layer1",)),
    ("layer2", ("layer2",)),
    ("layer3", ("layer3",)),
    ("layer4", ("layer4",)),
    ("head", ("fc",)),
)

for _key, _title, _block in (
    ("resnet18", "ResNet-18", "basic"),
    ("resnet34", "ResNet-34", "basic"),
    ("resnet50", "ResNet-50", "bottleneck"),
    ("resnet101", "ResNet-101", "bottleneck"),
):
    _register(
        name=_key,
        title=_title,
        family="ResNet",
        year=2015,
        paper="https://arxiv.org/abs/1512.03385",
        idea=(
            "Residual connections: each block learns a correction F(x) that is added to its input, "
            "y = x + F(x), so the gradient flows straight through the identity path and networks of 100+ "
            "layers train." + (" Deeper ResNets use 1×1 → 3×3 → 1×1 bottleneck blocks." if _block == "bottleneck" else "")
        ),
        default_cam_layer="layer4",
        source="torchvision",
        builder=_tv(_key),
        head=("fc",),
        stages=_RESNET_STAGES,
        signature="layer1.0",
        signature_title="residual block" if _block == "basic" else "bottleneck residual block",
        signature_note=(
            (
                "Two 3×3 convolutions with batch norm compute F(x); the block's forward adds its input x back "
                "before the last ReLU (the addition is in the code, so it does not appear in the printout)."
                if _block == "basic"
                else "A 1×1 convolution squeezes the channels, a 3×3 works at the reduced width, a second 1×1 "
                "expands back (×4); the block's forward adds its input back before the last ReLU. "
                "`downsample` is the 1×1 projection used when the shapes of x and F(x) differ."
            )
            + " Because the identity path needs no learning, a block can start as 'do nothing' and only learn "
            "what helps."
        ),
        tv_name=_key,
    )

_register(
    name="densenet121",
    title="DenseNet-121",
    family="DenseNet",
    year=2016,
    paper="https://arxiv.org/abs/1608.06993",
    idea=(
        "Dense connectivity: every layer in a block receives the concatenation of all earlier feature maps "
        "and adds only a few new channels (growth rate 32). Feature reuse gives ResNet accuracy with far "
        "fewer parameters."
    ),
    default_cam_layer="features.norm5",
    source="torchvision",
    builder=_tv("densenet121"),
    head=("classifier",),
    stages=(
        ("stem", ("features.conv0", "features.norm0")),
        ("block1", ("features.denseblock1", "features.transition1")),
        ("block2", ("features.denseblock2", "features.transition2")),
        ("block3", ("features.denseblock3", "features.transition3")),
        ("block4", ("features.denseblock4", "features.norm5")),
        ("head", ("classifier",)),
    ),
    signature="features.denseblock1",
    signature_title="dense block",
    signature_note=(
        "Read the input channels of each layer's first BatchNorm: 64, 96, 128, … — every layer sees all "
        "earlier outputs concatenated and contributes 32 new channels. Each layer is a 1×1 'bottleneck' "
        "convolution then a 3×3; transition layers between blocks halve channels and resolution."
    ),
    tv_name="densenet121",
)

for _key, _title, _tag in (("seresnet18", "SE-ResNet-18", None), ("seresnet50", "SE-ResNet-50", "a1_in1k")):
    _register(
        name=_key,
        title=_title,
        family="SENet",
        year=2017,
        paper="https://arxiv.org/abs/1709.01507",
        idea=(
            "Squeeze-and-excitation: a block averages each feature map to one number, passes these through a "
            "tiny two-layer bottleneck and rescales the channels with the result — the network learns which "
            "channels matter for this particular image, for ~10 % more parameters."
        ),
        input_size=224,
        default_cam_layer="layer4",
        source="timm",
        builder=_timm(_key),
        head=("fc",),
        stages=_RESNET_STAGES,
        signature="layer1.0.se",
        signature_title="squeeze-and-excitation module",
        signature_note=(
            "Squeeze: the forward first averages each channel over all positions (in code, not shown). "
            "Excitation: fc1 (a 1×1 convolution) shrinks the channels 16×, fc2 restores them and a sigmoid "
            "turns them into per-channel weights in (0, 1) that multiply the block's output."
        ),
        timm_name=_key,
        timm_tag=_tag,
        notes=(
            "From timm (torchvision has no SENet)."
            + (" timm publishes no pretrained weights for it: untrained only." if _tag is None else
               " Pretrained weights 'a1_in1k' come from 'ResNet strikes back' (https://arxiv.org/abs/2110.00476) "
               "via the Hugging Face hub; timm's pretrained_cfg carries no ImageNet accuracy.")
        ),
    )

_register(
    name="mobilenet_v2",
    title="MobileNet-V2",
    family="MobileNet",
    year=2018,
    paper="https://arxiv.org/abs/1801.04381",
    idea=(
        "Inverted residual blocks: expand the channels with a 1×1 convolution, filter each channel on its own "
        "with a depthwise 3×3, project back with a linear 1×1 — a fraction of the multiply-adds of a full "
        "convolution. Its small size makes it a natural student for knowledge distillation (Distill page)."
    ),
    default_cam_layer="features.18",
    source="torchvision",
    builder=_tv("mobilenet_v2"),
    head=("classifier.1",),
    stages=tuple(
        _seq(
            "features",
            [("stem", 0, 1), ("stage1", 1, 2), ("stage2", 2, 4), ("stage3", 4, 7), ("stage4", 7, 11),
             ("stage5", 11, 14), ("stage6", 14, 17), ("stage7", 17, 18), ("conv_head", 18, 19)],
        )
        + [("head", ("classifier.1",))]
    ),
    signature="features.3",
    signature_title="inverted residual block",
    signature_note=(
        "1×1 expand (24 → 144 channels), depthwise 3×3 (groups=144: one filter per channel), 1×1 project "
        "back to 24 with no activation (a 'linear bottleneck'), and the input added back. The residual joins "
        "the thin ends, the inverse of ResNet's bottleneck."
    ),
    tv_name="mobilenet_v2",
)

for _key, _title, _bounds, _cam in (
    ("mobilenet_v3_small", "MobileNet-V3-Small",
     [("stem", 0, 1), ("stage1", 1, 2), ("stage2", 2, 4), ("stage3", 4, 9), ("stage4", 9, 12), ("conv_head", 12, 13)],
     "features.12"),
    ("mobilenet_v3_large", "MobileNet-V3-Large",
     [("stem", 0, 1), ("stage1", 1, 2), ("stage2", 2, 4), ("stage3", 4, 7), ("stage4", 7, 13), ("stage5", 13, 16),
      ("conv_head", 16, 17)],
     "features.16"),
):
    _register(
        name=_key,
        title=_title,
        family="MobileNet",
        year=2019,
        paper="https://arxiv.org/abs/1905.02244",
        idea=(
            "Blocks found by architecture search for phones: inverted residuals with squeeze-and-excitation and "
            "the cheap hard-swish activation. Small and Large target different latency budgets; either can be "
            "the student on the Distill page."
        ),
        default_cam_layer=_cam,
        source="torchvision",
        builder=_tv(_key),
        head=("classifier.3",),
        stages=tuple(_seq("features", _bounds) + [("fc", ("classifier[0:3]",)), ("head", ("classifier.3",))]),
        signature="features.5",
        signature_title="inverted residual block with squeeze-and-excitation",
        signature_note=(
            "MobileNet-V2's block (1×1 expand, depthwise 5×5, linear 1×1 project, residual) with a "
            "SqueezeExcitation module between the depthwise and the projection, and Hardswish, a "
            "piecewise-linear approximation of swish that is cheap on phones."
        ),
        tv_name=_key,
    )

for _key, _title in (("efficientnet_b0", "EfficientNet-B0"), ("efficientnet_b3", "EfficientNet-B3")):
    _register(
        name=_key,
        title=_title,
        family="EfficientNet",
        year=2019,
        paper="https://arxiv.org/abs/1905.11946",
        idea=(
            "Compound scaling: grow depth, width and input resolution together by fixed ratios from a searched "
            "base network, B0. B3 is B0 scaled up three steps (more layers, more channels, 300 px inputs)."
        ),
        default_cam_layer="features.8",
        source="torchvision",
        builder=_tv(_key),
        head=("classifier.1",),
        stages=tuple(
            _seq("features", [("stem", 0, 1)] + [(f"stage{i}", i, i + 1) for i in range(1, 8)] + [("conv_head", 8, 9)])
            + [("head", ("classifier.1",))]
        ),
        signature="features.2.1",
        signature_title="MBConv block",
        signature_note=(
            "MobileNet-V2's inverted residual (1×1 expand ×6, depthwise 3×3, squeeze-and-excitation, linear 1×1 "
            "project) with SiLU activations. StochasticDepth randomly skips the whole block during training, "
            "a regulariser for deep networks."
        ),
        tv_name=_key,
    )


ARCHITECTURES: dict[str, ArchSpec] = {s.name: s for s in sorted(_ENTRIES, key=lambda s: s.year)}


def canonical_name(name: str) -> str:
    return re.sub(r"[\s_\-]", "", str(name).lower())


_BY_CANONICAL = {canonical_name(k): k for k in ARCHITECTURES}


def get_spec(name: str) -> ArchSpec:
    """The spec for ``name`` ("resnet18", also "ResNet-18"); unknown names raise :class:`InputError`."""
    if isinstance(name, ArchSpec):
        return name
    key = _BY_CANONICAL.get(canonical_name(name))
    if key is None:
        raise InputError(f"unknown architecture {name!r}; choose one of: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[key]
