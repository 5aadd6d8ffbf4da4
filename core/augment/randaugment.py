"""RandAugment explorer: every operation at one magnitude, and timm-style config strings both ways.

torchvision's ``RandAugment(num_ops=N, magnitude=M, num_magnitude_bins=B)`` picks N of 14 operations per image
and applies each at strength ``M / (B - 1)`` of that operation's maximum (e.g. Rotate max 30°), with a random
sign for the signed ones (rotate, shear, translate, brightness ...).

timm (https://github.com/huggingface/pytorch-image-models, ``timm.data.auto_augment``) names settings with
strings such as ``rand-m9-n2-mstd0.5``: ``m`` = magnitude on a 0..10 scale (strength m/10), ``n`` = ops per image,
``mstd`` = std of Gaussian noise added to m per op, ``p`` = probability of each op (timm default 0.5),
``mmax``, ``inc``, ``t`` (op set). torchvision has no magnitude noise and always applies its ops, so:

- ``rand-mM-nN`` maps exactly to ``RandAugment(num_ops=N, magnitude=M, num_magnitude_bins=11)``
  (M/10 of the maximum, as in timm);
- the other keys are parsed, kept in the string, and listed in ``notes`` as not reproduced by torchvision.

Gotcha: timm's op list differs a little from torchvision's (timm has Invert and SolarizeAdd, no Identity), so
the same string is "the same settings", not pixel-identical images.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch
from torchvision.transforms import v2

from core.augment.errors import AugmentError
from core.augment.policies import op_text

TIMM_DEFAULT_M = 10
TIMM_DEFAULT_N = 2
_KEY_ORDER = ("m", "n", "mstd", "mmax", "inc", "p")


@dataclass
class TimmRandAugment:
    """The settings a timm ``rand-...`` string names. None = not given (timm's default applies)."""

    n: int = TIMM_DEFAULT_N
    m: int = TIMM_DEFAULT_M
    mstd: float | None = None
    mmax: int | None = None
    inc: int | None = None
    p: float | None = None
    t: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_string(self) -> str:
        """Canonical string: ``rand-m9-n2`` then the optional keys in a fixed order."""
        parts = ["rand", f"m{self.m}", f"n{self.n}"]
        if self.mstd is not None:
            parts.append(f"mstd{_num(self.mstd)}")
        if self.mmax is not None:
            parts.append(f"mmax{self.mmax}")
        if self.inc is not None:
            parts.append(f"inc{self.inc}")
        if self.p is not None:
            parts.append(f"p{_num(self.p)}")
        if self.t is not None:
            parts.append(f"t{self.t}")
        return "-".join(parts)

    def to_params(self) -> dict:
        """Params of the ``randaugment`` registry step that reproduce these settings in torchvision."""
        return {"num_ops": self.n, "magnitude": self.m, "num_magnitude_bins": TIMM_DEFAULT_M + 1}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# key -> (conversion, which converted values are allowed); ``t`` names timm's op set and is kept as text
_SECTIONS = {
    "m": (int, None),
    "n": (int, None),
    "mstd": (float, None),
    "mmax": (int, None),
    "inc": (int, lambda v: v in (0, 1)),
    "p": (float, lambda v: 0.0 <= v <= 1.0),
    "t": (str, bool),
}


def _section_value(key: str, val: str) -> int | float | str | None:
    """The value of one section (``"9"`` of ``m9``), or None when it does not convert or is out of range."""
    convert, allowed = _SECTIONS[key]
    try:
        value = convert(val)
    except ValueError:  # int("9.5"), float("1.2.3"): Python's way of saying "not a number"
        return None
    return value if allowed is None or allowed(value) else None


def parse_timm(text: str) -> TimmRandAugment:
    """Parse ``rand-m9-n2-mstd0.5`` (timm's grammar; order of sections free). Bad strings -> AugmentError."""
    if not isinstance(text, str) or not text.strip():
        raise AugmentError("RandAugment string is empty; expected something like 'rand-m9-n2-mstd0.5'")
    sections = text.strip().split("-")
    if sections[0] != "rand":
        raise AugmentError(f"RandAugment string must start with 'rand-' (e.g. 'rand-m9-n2'), got '{text}'")
    cfg = TimmRandAugment()
    seen: set[str] = set()
    for sec in sections[1:]:
        if not sec:
            raise AugmentError(f"empty section in '{text}' (two dashes in a row?)")
        if sec.startswith("t"):
            key, val = "t", sec[1:]
        else:
            match = re.fullmatch(r"([a-z]+)(\d.*)", sec)
            if not match:
                raise AugmentError(f"section '{sec}' of '{text}' is not KEY+NUMBER (like m9, n2, mstd0.5)")
            key, val = match.groups()
        if key not in _SECTIONS:
            raise AugmentError(f"unknown section '{sec}' in '{text}' (known keys: m, n, mstd, mmax, inc, p, t)")
        if key in seen:
            raise AugmentError(f"'{key}' is given twice in '{text}'")
        seen.add(key)
        value = _section_value(key, val)
        if value is None:
            raise AugmentError(f"bad value in section '{sec}' of '{text}'")
        if key == "mstd" and not math.isfinite(value):
            raise AugmentError(f"mstd must be a non-negative number in '{text}'")
        setattr(cfg, key, value)
    if not 0 <= cfg.m <= TIMM_DEFAULT_M:
        raise AugmentError(f"magnitude m{cfg.m} is outside 0..{TIMM_DEFAULT_M} in '{text}' "
                           "(only timm's standard 0..10 scale converts to torchvision)")
    if not 0 <= cfg.n <= 10:
        raise AugmentError(f"number of ops n{cfg.n} is outside 0..10 in '{text}'")
    if cfg.mmax is not None:
        cfg.notes.append(f"mmax{cfg.mmax}: only clips timm's magnitude noise; nothing to reproduce in torchvision")
    if cfg.mstd:
        cfg.notes.append(f"mstd{_num(cfg.mstd)}: torchvision uses the same magnitude every time (no noise)")
    if cfg.p is not None and cfg.p != 1.0:
        cfg.notes.append(f"p{_num(cfg.p)}: torchvision always applies the chosen ops (p = 1)")
    if cfg.p is None:
        cfg.notes.append("timm applies each chosen op with p = 0.5 by default; torchvision always applies it")
    if cfg.inc:
        cfg.notes.append("inc1: timm's 'increasing' op variants have no torchvision equivalent")
    if cfg.t is not None:
        cfg.notes.append(f"t{cfg.t}: timm's op set selection is not reproduced")
    return cfg


def to_timm(num_ops: int, magnitude: int, num_magnitude_bins: int = 31) -> tuple[str, bool]:
    """torchvision settings -> (timm string, exact). m = M·10/(B-1), rounded when B-1 does not divide evenly."""
    if num_magnitude_bins < 2:
        raise AugmentError("num_magnitude_bins must be at least 2")
    if not 0 <= magnitude < num_magnitude_bins:
        raise AugmentError(f"magnitude {magnitude} must be below num_magnitude_bins ({num_magnitude_bins})")
    m_exact = magnitude * TIMM_DEFAULT_M / (num_magnitude_bins - 1)
    m = round(m_exact)
    return TimmRandAugment(n=num_ops, m=m).to_string(), math.isclose(m, m_exact)


@dataclass
class OpPreview:
    op: str
    magnitude: float
    text: str
    image: torch.Tensor  # uint8 [3, H, W]


def ops_at_magnitude(image: torch.Tensor, magnitude: int, num_magnitude_bins: int = 31,
                     interpolation: str = "nearest") -> list[OpPreview]:
    """Every RandAugment operation applied once to ``image`` at magnitude bin ``magnitude`` (positive sign).

    Uses torchvision's own op table and image math (``RandAugment._AUGMENTATION_SPACE`` and
    ``_apply_image_or_video_transform``), so the strengths are exactly those RandAugment uses.
    """
    if not 0 <= magnitude < num_magnitude_bins:
        raise AugmentError(f"magnitude {magnitude} must be in 0..{num_magnitude_bins - 1}")
    t = v2.RandAugment(num_ops=1, magnitude=magnitude, num_magnitude_bins=num_magnitude_bins,
                       interpolation=interpolation)
    h, w = image.shape[-2:]
    out = []
    for op, (fn, _signed) in t._AUGMENTATION_SPACE.items():
        mags = fn(num_magnitude_bins, h, w)
        m = 0.0 if mags is None else float(mags[magnitude])
        img = t._apply_image_or_video_transform(image, op, m, interpolation=t.interpolation, fill=t._fill)
        out.append(OpPreview(op, m, op_text({"op": op, "magnitude": m}), img))
    return out
