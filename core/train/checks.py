"""The three checks every setting's validation uses (``TrainConfig.validate`` and each objective's own check).

Gotcha: ``bool`` is a subclass of ``int`` in Python, so ``True`` would pass as a whole number of epochs;
:func:`is_int` refuses it, and :func:`is_num` refuses NaN and ±inf (JSON configs can carry neither, the CLI can).
"""
from __future__ import annotations

import math
from typing import Any

from core.errors import InputError


def need(cond: bool, msg: str) -> None:
    """Raise :class:`InputError` with ``msg`` (naming the setting and what it got) unless ``cond``."""
    if not cond:
        raise InputError(msg)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    return (is_int(v) or isinstance(v, float)) and math.isfinite(v)
