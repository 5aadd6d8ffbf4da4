"""Data-set options as typed :class:`core.params.Param` descriptions: one per option of a registry entry.

The widget details come from the entry's ``option_widgets`` (core/data/__init__.py); an option without them gets a
widget guessed from its default's type, so a new data set never lacks its widgets.
"""
from __future__ import annotations

from typing import Any

from core.data import DatasetSpec, folders
from core.params import Param


def _imported() -> list[str]:
    return folders.list_imported()  # looked up on each call: tests replace it


def _guess(default: Any) -> dict[str, Any]:
    if isinstance(default, bool):
        return dict(kind="bool")
    if isinstance(default, int):
        return dict(kind="int", min=0, max=1_000_000, step=1, widget="number")
    if isinstance(default, float):
        return dict(kind="float", min=0.0, max=1.0, step=0.05) if 0 <= default <= 1 else dict(kind="float")
    return dict(kind="text")


def dataset_params(spec: DatasetSpec) -> tuple[Param, ...]:
    """One description per option of data set ``spec`` (its default, help and widget details from the entry)."""
    out = []
    for opt, default in spec.options.items():
        extra = dict(spec.option_widgets.get(opt) or _guess(default))
        if extra["kind"] == "path":
            extra["suggest"] = _imported
            extra.setdefault("suggest_label", "Imported data set")
            extra["label"] = "Folder on the server"
        out.append(Param(opt, default=default, help=spec.option_help.get(opt, ""), **extra))
    return tuple(out)
