"""The augmentation registry: one :class:`AugSpec` per augmentation, built on ``torchvision.transforms.v2``.

A spec says what a student can set (typed :class:`Param` s with ranges, defaults and help: the page generates
its widgets from them) and how those settings become torchvision calls (:class:`Call`). A ``Call`` is both a
live ``v2`` object (``call.make()``) and the Python source that creates it (``call.code()``), so the exported
code is the pipeline that ran, not a second hand-written copy.

Adding an augmentation = one ``_register(AugSpec(...))`` below; the page, the CLI, the JSON schema and the
export pick it up. ``tests/unit/test_augment_registry.py`` sweeps every entry.

Gotcha: every image-level step must keep the image size (training batches must stack), so crops take the
input size ``(height, width)`` as their output size. In the exported code that size is the expression
``(height, width)`` (see :class:`Expr`), in the live objects it is the actual numbers.
"""
from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch
from torchvision.transforms import v2

from core import params
from core.augment.errors import AugmentError

GROUPS = ("geometry", "colour", "erasing", "policy", "mixing")
GROUP_TITLES = {
    "geometry": "Geometry",
    "colour": "Colour and pixel values",
    "erasing": "Erasing",
    "policy": "Policies (learned or random recipes)",
    "mixing": "Mixing two images (batch level)",
}
INTERPOLATIONS = ("nearest", "bilinear")


# ----------------------------------------------------------------------------------------------------------- params
@dataclass(frozen=True)
class Param(params.Param):
    """One setting of an augmentation: a :class:`core.params.Param` (kind, default, limits, help; the page draws
    its widget with ``views._params.param_widget``) whose bad values raise :class:`AugmentError`.

    kind: "float" | "int" | "bool" | "choice" | "range" (a ``(low, high)`` pair of floats, both within min..max).
    """

    error: ClassVar[type[Exception]] = AugmentError


# ------------------------------------------------------------------------------------------------------------ calls
@dataclass(frozen=True)
class Expr:
    """A keyword value whose source code is an expression of the image size, e.g. ``(height, width)``."""

    code: str
    value: Any


def _code(v: Any) -> str:
    if isinstance(v, Expr):
        return v.code
    if isinstance(v, enum.Enum):
        return f"v2.{type(v).__name__}.{v.name}"
    if isinstance(v, torch.dtype):
        return repr(v)  # "torch.float32"
    if isinstance(v, tuple):
        inner = ", ".join(_code(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_code(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(round(v, 10))  # reprs round-trip exactly; round() only trims float noise such as 0.30000000000000004
    return repr(v)


def _value(v: Any) -> Any:
    if isinstance(v, Expr):
        return v.value
    if isinstance(v, float):
        return round(v, 10)  # identical to what _code writes, so code and live object get the same numbers
    if isinstance(v, tuple):
        return tuple(_value(x) for x in v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


@dataclass(frozen=True)
class Call:
    """``v2.<cls>(**kwargs)`` as data: ``make()`` builds the object, ``code()`` writes its source."""

    cls: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def make(self) -> v2.Transform:
        return getattr(v2, self.cls)(**{k: _value(v) for k, v in self.kwargs})

    def code(self) -> str:
        return f"v2.{self.cls}(" + ", ".join(f"{k}={_code(v)}" for k, v in self.kwargs) + ")"


def call(cls: str, **kwargs: Any) -> Call:
    return Call(cls, tuple(kwargs.items()))


def size_expr(h: int, w: int, fraction: float = 1.0) -> Expr:
    """The output size ``(height, width)`` (times ``fraction``) as a live value and as source code."""
    if fraction == 1.0:
        return Expr("(height, width)", (h, w))
    f = round(fraction, 10)
    return Expr(
        f"(max(1, round({f!r} * height)), max(1, round({f!r} * width)))",
        (max(1, round(f * h)), max(1, round(f * w))),
    )


# ------------------------------------------------------------------------------------------------------------ specs
@dataclass(frozen=True)
class AugSpec:
    """One augmentation.

    build(params, height, width) -> list of :class:`Call` applied in order. ``params`` has every
    declared param (validated) plus ``"p"`` (the step's probability) for ``native_p`` specs, whose torchvision
    class takes ``p`` itself (``RandomHorizontalFlip(p=0.5)``); other steps with ``p < 1`` are wrapped in
    ``v2.RandomApply``. ``check(params)`` raises AugmentError for impossible combinations;
    ``size_check(params, height, width)`` for settings that cannot work on images that small.
    """

    name: str
    title: str
    group: str
    explanation: str
    build: Callable[[dict, int, int], list[Call]]
    params: tuple[Param, ...] = ()
    paper: str | None = None
    native_p: bool = False
    default_p: float = 1.0
    check: Callable[[dict], None] | None = None
    size_check: Callable[[dict, int, int], None] | None = None  # settings that only fail on small images

    @property
    def is_batch(self) -> bool:
        return self.group == "mixing"

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


REGISTRY: dict[str, AugSpec] = {}


def _register(spec: AugSpec) -> AugSpec:
    assert spec.group in GROUPS, spec.group
    assert spec.name not in REGISTRY, spec.name
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> AugSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise AugmentError(f"unknown augmentation '{name}'.{hint} Known: {', '.join(REGISTRY)}") from None


def _interp() -> Param:
    return Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS,
                 help="How new pixel values are computed: nearest keeps hard edges, bilinear is smoother.")


def _fill() -> Param:
    return Param("fill", "int", 0, 0, 255, 1, help="Grey level (0-255) of the area uncovered by the move.")


def _sym(x: float) -> tuple[float, float]:
    return (-float(x), float(x))


# ---- geometry ------------------------------------------------------------------------------------------------
_register(AugSpec(
    "rotation", "Rotation", "geometry",
    "Rotates by a random angle in [-degrees, +degrees] around the centre; corners leave the frame and the "
    "uncovered area is filled. Objects in photos appear at slight tilts, so a classifier should not care.",
    lambda p, h, w: [call("RandomRotation", degrees=_sym(p["degrees"]), interpolation=p["interpolation"],
                          fill=p["fill"])],
    (Param("degrees", "float", 30.0, 0, 180, 1, help="Largest rotation either way, in degrees."), _interp(), _fill()),
))
_register(AugSpec(
    "hflip", "Horizontal flip", "geometry",
    "Mirrors the image left-right. The most common augmentation: a cat facing left is still a cat. "
    "Wrong for text or digits, where mirroring changes the class.",
    lambda p, h, w: [call("RandomHorizontalFlip", p=p["p"])],
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "vflip", "Vertical flip", "geometry",
    "Mirrors the image top-bottom. Fine for aerial, satellite or microscope images; usually wrong for photos "
    "of the everyday world, which have a clear up and down.",
    lambda p, h, w: [call("RandomVerticalFlip", p=p["p"])],
    native_p=True, default_p=0.5,
))


def _crop_build(p: dict, h: int, w: int) -> list[Call]:
    out_size = size_expr(h, w, p["size_fraction"])
    calls = [call("RandomCrop", size=out_size, padding=p["padding"] or None, padding_mode=p["padding_mode"],
                  fill=0)]
    if p["size_fraction"] < 1.0:
        calls.append(call("Resize", size=size_expr(h, w), antialias=True))
    return calls


def _crop_check(p: dict) -> None:
    if p["padding"] == 0 and p["size_fraction"] == 1.0:
        raise AugmentError("crop: with padding 0 and size fraction 1 the crop is the whole image (nothing random); "
                           "add padding or lower the size fraction")


def _crop_size_check(p: dict, h: int, w: int) -> None:
    if p["padding_mode"] in ("reflect", "symmetric") and p["padding"] >= min(h, w):
        raise AugmentError(f"crop: {p['padding_mode']} padding of {p['padding']} px needs an image larger than "
                           f"that; this one is {w}×{h} px. Lower the padding or use constant / edge padding")


_register(AugSpec(
    "crop", "Random crop", "geometry",
    "Pads the border, then cuts a window at a random position (the classic CIFAR recipe: pad 4, crop 32). "
    "With a size fraction below 1 it cuts a smaller window and resizes it back to the input size.",
    _crop_build,
    (Param("padding", "int", 4, 0, 64, 1, help="Pixels added on every side before cropping."),
     Param("padding_mode", "choice", "constant", choices=("constant", "edge", "reflect", "symmetric"),
           help="constant = black border, edge = repeat the last pixel, reflect / symmetric = mirror."),
     Param("size_fraction", "float", 1.0, 0.3, 1.0, 0.05, help="Window side as a fraction of the image side.")),
    check=_crop_check, size_check=_crop_size_check,
))
_register(AugSpec(
    "random_resized_crop", "Random resized crop", "geometry",
    "Cuts a random window (area fraction in 'scale', aspect ratio in 'ratio') and resizes it to the input size: "
    "zoom plus reframing. The standard ImageNet training augmentation since GoogLeNet.",
    lambda p, h, w: [call("RandomResizedCrop", size=size_expr(h, w), scale=p["scale"], ratio=p["ratio"],
                          antialias=True)],
    (Param("scale", "range", (0.6, 1.0), 0.05, 1.0, 0.05, help="Area of the window as a fraction of the image."),
     Param("ratio", "range", (0.75, 4 / 3), 0.25, 4.0, 0.05, help="Width / height of the window.")),
    paper="https://arxiv.org/abs/1409.4842",
))


def _affine_build(p: dict, h: int, w: int) -> list[Call]:
    shear = None
    if p["shear"] or p["shear_y"]:
        shear = (-p["shear"], p["shear"], -p["shear_y"], p["shear_y"])
    return [call("RandomAffine", degrees=_sym(p["degrees"]),
                 translate=(p["translate"], p["translate"]) if p["translate"] else None,
                 scale=p["scale"], shear=shear, interpolation=p["interpolation"], fill=p["fill"])]


_register(AugSpec(
    "affine", "Affine (rotate, shift, scale, shear)", "geometry",
    "One random affine map: rotation, translation (fraction of the size), scaling and shear. Straight lines stay "
    "straight and parallel lines stay parallel. The preview shows the 2x3 matrix and where the corners went.",
    _affine_build,
    (Param("degrees", "float", 15.0, 0, 180, 1, help="Largest rotation either way (clockwise positive)."),
     Param("translate", "float", 0.1, 0, 0.5, 0.01, help="Largest shift as a fraction of width / height."),
     Param("scale", "range", (0.9, 1.1), 0.3, 2.0, 0.05, help="Zoom factor range."),
     Param("shear", "float", 10.0, 0, 45, 1, help="Largest horizontal shear angle, degrees."),
     Param("shear_y", "float", 0.0, 0, 45, 1, help="Largest vertical shear angle, degrees."),
     _interp(), _fill()),
))
_register(AugSpec(
    "perspective", "Perspective", "geometry",
    "Moves the four corners inwards by random amounts (up to distortion_scale of half the side) and warps the "
    "image to match: like looking at the scene from another angle.",
    lambda p, h, w: [call("RandomPerspective", distortion_scale=p["distortion_scale"], p=p["p"],
                          interpolation=p["interpolation"], fill=p["fill"])],
    (Param("distortion_scale", "float", 0.5, 0.0, 1.0, 0.05, help="0 = no change, 1 = strongest."),
     _interp(), _fill()),
    native_p=True, default_p=0.5,
))
def _elastic_size_check(p: dict, h: int, w: int) -> None:
    # torchvision blurs the random field with a kernel of 8·sigma + 1 px and reflect padding, which must be
    # smaller than the image
    half = int(8 * p["sigma"] + 1) // 2
    if half >= min(h, w):
        raise AugmentError(f"elastic: sigma {p['sigma']:g} needs images larger than {half} px on each side "
                           f"(blur kernel {2 * half + 1} px); this one is {w}×{h} px. Lower sigma to "
                           f"{max(0.5, (min(h, w) - 2) / 8):.1f} or less")


_register(AugSpec(
    "elastic", "Elastic distortion", "geometry",
    "Displaces every pixel along a smooth random field (random noise blurred with a Gaussian of width sigma, "
    "scaled by alpha): like the image printed on rubber. Introduced for handwritten digits.",
    lambda p, h, w: [call("ElasticTransform", alpha=p["alpha"], sigma=p["sigma"],
                          interpolation=p["interpolation"], fill=p["fill"])],
    (Param("alpha", "float", 50.0, 0, 250, 5, help="Strength of the displacement."),
     Param("sigma", "float", 5.0, 0.5, 20, 0.5, help="Smoothness of the displacement field (pixels)."),
     _interp(), _fill()),
    paper="https://doi.org/10.1109/ICDAR.2003.1227801", size_check=_elastic_size_check,
))


# ---- colour --------------------------------------------------------------------------------------------------
def _jitter(name: str, default: float, hi: float, text: str) -> None:
    _register(AugSpec(
        name, name.capitalize(), "colour", text,
        lambda p, h, w: [call("ColorJitter", **{name: p["strength"]})],
        (Param("strength", "float", default, 0.0, hi, 0.01,
               help="Factor drawn from [1-strength, 1+strength]" if name != "hue"
               else "Hue shift drawn from [-strength, +strength] (fraction of the colour wheel)."),),
    ))


_jitter("brightness", 0.4, 1.0, "Multiplies every pixel by a random factor: darker or brighter exposure.")
_jitter("contrast", 0.4, 1.0, "Pushes pixels away from (or towards) the mean grey level by a random factor.")
_jitter("saturation", 0.4, 1.0, "Blends with the grey version: 0 = grey, 1 = unchanged, 2 = vivid colours.")
_jitter("hue", 0.1, 0.5, "Rotates all colours around the colour wheel: red becomes orange or purple. "
        "Dangerous when colour defines the class (ripe vs unripe fruit).")
_register(AugSpec(
    "color_jitter", "Colour jitter", "colour",
    "Brightness, contrast, saturation and hue together, applied in a random order (as in AlexNet-era recipes "
    "and SimCLR). Each strength as in the single versions; 0 switches that part off.",
    lambda p, h, w: [call("ColorJitter", brightness=p["brightness"], contrast=p["contrast"],
                          saturation=p["saturation"], hue=p["hue"])],
    (Param("brightness", "float", 0.4, 0, 1, 0.01), Param("contrast", "float", 0.4, 0, 1, 0.01),
     Param("saturation", "float", 0.4, 0, 1, 0.01), Param("hue", "float", 0.1, 0, 0.5, 0.01)),
    paper="https://arxiv.org/abs/2002.05709",
))
_register(AugSpec(
    "grayscale", "Grayscale", "colour",
    "Replaces the colours by their grey level (kept as 3 identical channels so the shape stays [3, H, W]). "
    "Teaches the network not to rely on colour alone.",
    lambda p, h, w: [call("RandomGrayscale", p=p["p"])],
    native_p=True, default_p=0.2,
))


def _blur_check(p: dict) -> None:
    if p["kernel_size"] % 2 == 0:
        raise AugmentError(f"gaussian_blur: kernel_size must be odd (3, 5, 7, ...), got {p['kernel_size']}")


_register(AugSpec(
    "gaussian_blur", "Gaussian blur", "colour",
    "Blurs with a Gaussian of random width sigma (kernel_size bounds its reach): like an out-of-focus camera.",
    lambda p, h, w: [call("GaussianBlur", kernel_size=p["kernel_size"], sigma=p["sigma"])],
    (Param("kernel_size", "int", 9, 3, 51, 2, help="Odd size of the blur window in pixels."),
     Param("sigma", "range", (0.1, 2.0), 0.1, 10.0, 0.1, help="Blur width range (pixels).")),
    check=_blur_check,
))
_register(AugSpec(
    "sharpness", "Sharpness", "colour",
    "Sharpens (factor > 1) or softens (factor < 1) edges by blending with a smoothed copy.",
    lambda p, h, w: [call("RandomAdjustSharpness", sharpness_factor=p["factor"], p=p["p"])],
    (Param("factor", "float", 2.0, 0.0, 5.0, 0.1, help="0 = blurred, 1 = unchanged, 2 = twice as sharp."),),
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "posterize", "Posterize", "colour",
    "Keeps only the top 'bits' bits of every 8-bit value: fewer grey levels, poster-like flat colour areas.",
    lambda p, h, w: [call("RandomPosterize", bits=p["bits"], p=p["p"])],
    (Param("bits", "int", 4, 1, 8, 1, help="Bits kept per channel (8 = unchanged)."),),
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "solarize", "Solarize", "colour",
    "Inverts every pixel value at or above the threshold (0-255): bright areas turn dark, like a photo "
    "exposed to light while developing.",
    lambda p, h, w: [call("RandomSolarize", threshold=p["threshold"], p=p["p"])],
    (Param("threshold", "float", 128.0, 0, 255, 1, help="8-bit value from which pixels are inverted."),),
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "equalize", "Equalize", "colour",
    "Histogram equalisation per channel: spreads the grey levels so every level is about equally common.",
    lambda p, h, w: [call("RandomEqualize", p=p["p"])],
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "autocontrast", "Autocontrast", "colour",
    "Stretches each channel so its darkest pixel becomes 0 and its brightest 255.",
    lambda p, h, w: [call("RandomAutocontrast", p=p["p"])],
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "invert", "Invert", "colour",
    "Replaces every value v by 255 - v: a photographic negative.",
    lambda p, h, w: [call("RandomInvert", p=p["p"])],
    native_p=True, default_p=0.5,
))
_register(AugSpec(
    "gaussian_noise", "Gaussian noise", "colour",
    "Adds independent normal noise to every pixel (sigma in units of the full range, 0.1 = about 25 grey levels), "
    "then clips to the valid range: sensor noise in low light.",
    lambda p, h, w: [call("GaussianNoise", mean=p["mean"], sigma=p["sigma"], clip=True)],
    (Param("sigma", "float", 0.1, 0.0, 0.5, 0.01, help="Noise standard deviation (fraction of full range)."),
     Param("mean", "float", 0.0, -0.5, 0.5, 0.01, help="Noise mean: shifts the brightness.")),
))


# ---- erasing -------------------------------------------------------------------------------------------------
_register(AugSpec(
    "random_erasing", "Random erasing (cutout)", "erasing",
    "Blanks out a random rectangle (area fraction in 'scale', aspect ratio in 'ratio') with a constant grey "
    "level: the network must recognise the object from its other parts. Cutout is the same idea with squares.",
    lambda p, h, w: [call("RandomErasing", p=p["p"], scale=p["scale"], ratio=p["ratio"], value=p["value"])],
    (Param("scale", "range", (0.02, 0.33), 0.01, 1.0, 0.01, help="Area of the rectangle as a fraction."),
     Param("ratio", "range", (0.3, 3.3), 0.1, 10.0, 0.1, help="Aspect ratio range of the rectangle."),
     Param("value", "int", 0, 0, 255, 1, help="Grey level written into the rectangle.")),
    paper="https://arxiv.org/abs/1708.04896",
    native_p=True, default_p=0.5,
))


# ---- policies ------------------------------------------------------------------------------------------------
def _randaugment_check(p: dict) -> None:
    if p["magnitude"] >= p["num_magnitude_bins"]:
        raise AugmentError(
            f"randaugment: magnitude {p['magnitude']} needs at least {p['magnitude'] + 1} magnitude bins "
            f"(magnitude indexes the bins 0..{p['num_magnitude_bins'] - 1}); raise num_magnitude_bins or lower "
            "magnitude")


_register(AugSpec(
    "randaugment", "RandAugment", "policy",
    "For every image, picks N operations uniformly from 14 (rotate, shear, translate, colour, posterize, ...) "
    "and applies each at the same strength M (a bin out of num_magnitude_bins; the sign is random). Two numbers "
    "replace AutoAugment's expensive policy search.",
    lambda p, h, w: [call("RandAugment", num_ops=p["num_ops"], magnitude=p["magnitude"],
                          num_magnitude_bins=p["num_magnitude_bins"], interpolation=p["interpolation"])],
    (Param("num_ops", "int", 2, 0, 10, 1, help="N: operations applied one after the other."),
     Param("magnitude", "int", 9, 0, 100, 1, help="M: strength, an index into the magnitude bins."),
     Param("num_magnitude_bins", "int", 31, 2, 101, 1, help="How many strength levels 0..max are defined."),
     Param("interpolation", "choice", "nearest", choices=INTERPOLATIONS, help="For the geometric ops.")),
    paper="https://arxiv.org/abs/1909.13719",
    check=_randaugment_check,
))
_register(AugSpec(
    "trivialaugment", "TrivialAugment (wide)", "policy",
    "One random operation per image at a random strength: no settings to tune, yet as good as the searched "
    "policies.",
    lambda p, h, w: [call("TrivialAugmentWide", num_magnitude_bins=p["num_magnitude_bins"],
                          interpolation=p["interpolation"])],
    (Param("num_magnitude_bins", "int", 31, 2, 101, 1, help="Number of strength levels."),
     Param("interpolation", "choice", "nearest", choices=INTERPOLATIONS, help="For the geometric ops.")),
    paper="https://arxiv.org/abs/2103.10158",
))
_register(AugSpec(
    "augmix", "AugMix", "policy",
    "Builds several short chains of random operations and mixes their results (weights from a Dirichlet), "
    "then blends with the original: varied but never far from the real image. Targets robustness to corruptions.",
    lambda p, h, w: [call("AugMix", severity=p["severity"], mixture_width=p["mixture_width"],
                          chain_depth=p["chain_depth"], alpha=p["alpha"], all_ops=p["all_ops"],
                          interpolation=p["interpolation"])],
    (Param("severity", "int", 3, 1, 10, 1, help="Strength of the operations (1-10)."),
     Param("mixture_width", "int", 3, 1, 6, 1, help="Number of chains mixed."),
     Param("chain_depth", "int", -1, -1, 5, 1, help="Operations per chain; -1 = random 1 to 3."),
     Param("alpha", "float", 1.0, 0.1, 5.0, 0.1, help="Dirichlet / Beta concentration of the mixing weights."),
     Param("all_ops", "bool", True, help="Include brightness, colour, contrast, sharpness."),
     Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="For the geometric ops.")),
    paper="https://arxiv.org/abs/1912.02781",
))
_register(AugSpec(
    "autoaugment", "AutoAugment", "policy",
    "A policy found by reinforcement learning on one data set: 25 sub-policies of two (operation, probability, "
    "magnitude) triples; every image gets one sub-policy at random.",
    lambda p, h, w: [call("AutoAugment", policy=v2.AutoAugmentPolicy(p["policy"]), interpolation=p["interpolation"])],
    (Param("policy", "choice", "imagenet", choices=("imagenet", "cifar10", "svhn"),
           help="Which searched policy."),
     Param("interpolation", "choice", "nearest", choices=INTERPOLATIONS, help="For the geometric ops.")),
    paper="https://arxiv.org/abs/1805.09501",
))


# ---- mixing (batch level; built by core.augment.mixing, not by build_transform) --------------------------------
_register(AugSpec(
    "cutmix", "CutMix", "mixing",
    "Pastes a random box from another image of the batch. λ ~ Beta(α, α) sets the box area (1-λ); after the "
    "box is clipped to the image, λ is reset to the area the first image keeps, and the label becomes "
    "λ·own class + (1-λ)·other class.",
    lambda p, h, w: [call("CutMix", alpha=p["alpha"])],
    (Param("alpha", "float", 1.0, 0.05, 5.0, 0.05, help="Beta(α, α): 1 = uniform λ, small α = λ near 0 or 1."),),
    paper="https://arxiv.org/abs/1905.04899",
))
_register(AugSpec(
    "mixup", "MixUp", "mixing",
    "Blends two images pixel by pixel: λ·A + (1-λ)·B with λ ~ Beta(α, α), and the labels the same way.",
    lambda p, h, w: [call("MixUp", alpha=p["alpha"])],
    (Param("alpha", "float", 0.2, 0.05, 5.0, 0.05, help="Beta(α, α); the paper uses 0.2 on ImageNet."),),
    paper="https://arxiv.org/abs/1710.09412",
))


def image_specs() -> list[AugSpec]:
    return [s for s in REGISTRY.values() if not s.is_batch]


def mixing_specs() -> list[AugSpec]:
    return [s for s in REGISTRY.values() if s.is_batch]
