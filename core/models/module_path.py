"""Module paths: how the zoo names a part of a built model (``default_cam_layer``, ``head``, ``stages``,
``signature`` in :mod:`core.models.registry`).

A path is a dotted name, as in ``model.get_submodule(...)``, plus an optional slice of an ``nn.Sequential`` on
any part: ``"features[0:5]"`` is VGG-16's first block (conv-ReLU-conv-ReLU-pool).
"""
from __future__ import annotations

import re

from torch import nn

from core.errors import InputError

__all__ = ["get_module"]

_PART = re.compile(r"^([^\[\]]+)(?:\[(-?\d*):(-?\d*)\])?$")


def get_module(model: nn.Module, path: str) -> nn.Module:
    """Resolve a dotted module path, with an optional ``[a:b]`` slice of an ``nn.Sequential``.

    ``get_module(vgg16, "features[0:5]")`` returns a new ``nn.Sequential`` that *shares* the five modules
    (no copy: its parameters are the model's parameters). ``""`` is the model itself.
    """
    if not path:
        return model
    module = model
    for part in path.split("."):
        m = _PART.match(part)
        if m is None:
            raise InputError(f"bad module path {path!r}")
        name, start, stop = m.groups()
        try:
            module = module.get_submodule(name)
        except AttributeError as err:
            raise InputError(f"no module {path!r} in {type(model).__name__}") from err
        if m.group(2) is not None or m.group(3) is not None:
            if not isinstance(module, nn.Sequential):
                raise InputError(f"{name!r} in {path!r} is not an nn.Sequential and cannot be sliced")
            module = module[int(start) if start else None : int(stop) if stop else None]
    return module
