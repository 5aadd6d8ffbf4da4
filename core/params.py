"""Typed parameter descriptions: one :class:`Param` per setting a student can change, written once in ``core/``.

A description says what the setting is (kind, default, limits, step, choices, help, unit, log scale) and how the
config value and a widget's value map onto each other (``to_widget`` / ``from_widget``: ``None`` shown as "0 = no
cap", "auto" or an empty box). ``views/_params.py`` draws the widget for any description, so a page never guesses
a widget from a default's type. Three families use it: augmentation settings (``core.augment.specs`` — its
``Param`` is this class raising ``AugmentError``), data-set options (:func:`dataset_params`) and the Train page's
``TrainConfig`` fields (:func:`train_params`, built from the dataclass, its commented defaults and its registries).

Gotcha: a widget holds its value in ``st.session_state`` in the widget's type (a range slider a tuple, an int
number box an int): always go through ``to_widget`` / ``from_widget``, never put a config value there directly.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

import torch

from core.data import DATASETS, DatasetSpec, folders
from core.errors import InputError
from core.models import ARCHITECTURES
from core.train.config import AMP_CHOICES, MODES, OPTIMIZERS, TrainConfig, field_help

KINDS = ("int", "float", "bool", "choice", "text", "path", "range")
# "auto": checkbox (bool), select box (choice), slider (numbers with both limits; a range slider for "range"),
# number box (numbers without both limits), text box (text, path). The others force one widget.
WIDGETS = ("auto", "slider", "number", "select", "select_slider", "radio")


@dataclass(frozen=True)
class Param:
    """One setting: enough to draw a widget, validate a value and convert it between config and widget.

    kind: "int" | "float" | "bool" | "choice" | "text" | "path" | "range" (a ``(low, high)`` pair of floats, both
    within min..max). min / max bound the config value. ``choices`` also applies to int / float kinds (a select slider of sizes). ``optional``:
    ``None`` is a valid value, shown in the widget as ``none_as`` (``None`` = an empty number box).
    ``choice_labels`` name choices for display; ``suggest`` lists known values of a text / path setting (the
    imported data sets), offered in a select box.
    """

    name: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple = ()
    help: str = ""
    label: str = ""
    unit: str = ""  # appended to the label: "Image size (px)"
    log: bool = False  # spans decades (a learning rate): a slider offers 1-2-5 steps per decade
    optional: bool = False
    none_as: Any = None  # the widget value for None: 0 ("0 = no cap"; the widget's range extends to it), "auto",
    # or None (an empty number box)
    widget: str = "auto"
    format: str | None = None  # printf format of a number box, e.g. "%.5f"
    choice_labels: tuple[tuple[Any, str], ...] = ()
    suggest: Callable[[], Sequence[str]] | None = None
    suggest_label: str = ""

    error: ClassVar[type[Exception]] = InputError  # what validate raises (core.augment: AugmentError)

    def __post_init__(self) -> None:  # a registry bug, not user input: fail at import time
        if self.kind not in KINDS or self.widget not in WIDGETS:
            raise AssertionError(f"param {self.name}: unknown kind {self.kind!r} or widget {self.widget!r}")

    @property
    def title(self) -> str:
        text = self.label or self.name.replace("_", " ")
        return f"{text} ({self.unit})" if self.unit else text

    def choice_label(self, value: Any) -> str:
        """How a choice (as the widget holds it) is shown: its label, else the value itself."""
        for choice, label in self.choice_labels:
            if self.to_widget(choice) == value:
                return label
        return str(value)

    # ------------------------------------------------------------------ config value <-> widget value
    def to_widget(self, value: Any) -> Any:
        """The config ``value`` as the widget holds it (None → ``none_as``, list → tuple, ints as int)."""
        if value is None and self.optional:
            return self.none_as
        if self.kind == "range" and isinstance(value, (list, tuple)):
            return tuple(float(v) for v in value)
        if isinstance(value, bool) or value is None:
            return value
        if self.kind == "int" and isinstance(value, (int, float)) and float(value).is_integer():
            return int(value)
        if self.kind == "float" and isinstance(value, (int, float)):
            return float(value)
        return value

    def from_widget(self, value: Any) -> Any:
        """The widget's ``value`` as the config holds it (``none_as`` → None); the inverse of ``to_widget``."""
        if self.optional and value == self.none_as and (value is None) == (self.none_as is None):
            return None
        if value is None:
            return None
        if self.kind == "range":
            return tuple(float(v) for v in value)
        if self.kind == "int" and not isinstance(value, bool) and isinstance(value, (int, float)):
            return int(value)
        if self.kind == "float" and not isinstance(value, bool) and isinstance(value, (int, float)):
            return float(value)
        return value

    def widget_choices(self) -> list:
        """The options of a select box / select slider, as the widget holds them."""
        return [self.to_widget(c) for c in self.choices]

    def slider_values(self) -> list[float]:
        """A log-scale setting's slider stops: 1, 2, 5 × each power of ten within min..max."""
        lo, hi = float(self.min), float(self.max)
        out = []
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
            out += [round(m * 10.0**e, 12) for m in (1, 2, 5) if lo <= m * 10.0**e <= hi]
        return out

    # ------------------------------------------------------------------ validation
    def validate(self, value: Any, where: str) -> Any:
        """Return ``value`` normalised (ints as int, ranges as tuples) or raise ``self.error`` naming ``where``."""
        what = f"{where}: '{self.name}'"
        if value is None and self.optional:
            return None
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise self.error(f"{what} must be true or false, got {value!r}")
            return value
        if self.kind == "choice" or self.choices and self.kind in ("int", "float"):
            if value not in self.choices:
                raise self.error(f"{what} must be one of {', '.join(map(str, self.choices))}; got {value!r}")
            return value
        if self.kind == "range":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise self.error(f"{what} must be a pair [low, high], got {value!r}")
            lo, hi = (self._number(v, what, integral=False) for v in value)
            if lo > hi:
                raise self.error(f"{what} low ({lo:g}) is above high ({hi:g})")
            return (lo, hi)
        if self.kind in ("float", "int"):
            return self._number(value, what, integral=self.kind == "int")
        if not isinstance(value, str):  # text, path
            raise self.error(f"{what} must be text, got {value!r}")
        return value

    def _number(self, value: Any, what: str, *, integral: bool) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{what} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.error(f"{what} must be a finite number, got {value!r}")
        if integral:
            if float(value) != int(value):
                raise self.error(f"{what} must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            lo = "-inf" if self.min is None else f"{self.min:g}"
            hi = "inf" if self.max is None else f"{self.max:g}"
            raise self.error(f"{what} must be between {lo} and {hi}, got {value:g}")
        return value


# ------------------------------------------------------------------------------------------------- data-set options
# The widget details of each registry option (core.data.DATASETS only holds name -> default and help). A new option
# without an entry here gets a widget from its default's type (_guess), so a data set never lacks its widgets.
_DATASET_OPTIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("shapes", "n"): dict(kind="int", min=1, max=1_000_000, step=500, widget="number"),
    ("shapes", "seed"): dict(kind="int", min=0, max=1_000_000, step=1, widget="number"),
    ("shapes", "bias"): dict(kind="float", min=0.0, max=1.0, step=0.05, widget="slider"),
    ("folder", "path"): dict(kind="path", suggest_label="Imported data set"),
}


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
    """One description per option of data set ``spec`` (its default and help from the registry entry)."""
    out = []
    for opt, default in spec.options.items():
        extra = dict(_DATASET_OPTIONS.get((spec.name, opt)) or _guess(default))
        if extra["kind"] == "path":
            extra["suggest"] = _imported
            extra["label"] = "Folder on the server"
        out.append(Param(opt, default=default, help=spec.option_help.get(opt, ""), **extra))
    return tuple(out)


# ------------------------------------------------------------------------------------------------ TrainConfig fields
MODE_TITLES = {"scratch": "From scratch", "linear_probe": "Linear probe", "finetune_last_k": "Fine-tune last k blocks",
               "full": "Full fine-tune"}
IMAGE_SIZES = (32, 48, 64, 96, 112, 128, 160, 192, 224, 299)
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)
WORKER_CHOICES = (None, 0, 1, 2, 4, 8)
# Fields drawn by their own page code, not from one description: ``weights`` (random / pretrained / a run chosen
# from a list), ``augmentation`` (a preset, the lab's pipeline or a JSON file), ``dataset_options`` (one widget
# per option: dataset_params). The objective's fields belong to the Distill page (distillation, self-training).
COMPOUND_FIELDS = ("weights", "augmentation", "dataset_options")
OBJECTIVE_FIELDS = ("objective", "teacher", "temperature", "alpha", "iterations", "labelled_per_class", "threshold",
                    "pseudo_labels", "class_cap", "student_augmentation")


def _train_widgets(cuda: bool) -> dict[str, dict[str, Any]]:
    """What a TrainConfig field's comment cannot say: its widget, label, limits and choices."""
    return {
        "dataset": dict(kind="choice", label="Data set", choices=tuple(DATASETS), choice_labels=tuple(
            (k, s.title + ("" if s.offline else " (download)")) for k, s in DATASETS.items())),
        "image_size": dict(label="Image size", unit="px", choices=IMAGE_SIZES, widget="select_slider"),
        "val_fraction": dict(label="Validation fraction", min=0.0, max=0.5, step=0.05, widget="number"),
        "arch": dict(kind="choice", label="Architecture", choices=tuple(ARCHITECTURES), choice_labels=tuple(
            (k, f"{a.title} ({a.year})") for k, a in ARCHITECTURES.items())),
        "mode": dict(kind="choice", label="Mode", choices=tuple(MODES), choice_labels=tuple(MODE_TITLES.items())),
        "finetune_k": dict(label="k (blocks before the head that learn)", min=1, max=20, widget="number"),
        "epochs": dict(label="Epochs", min=1, max=1000, widget="number"),
        "max_steps": dict(label="Max steps (0 = no cap)", min=1, max=10_000_000, none_as=0, widget="number"),
        "batch_size": dict(label="Batch size", choices=BATCH_SIZES, widget="select_slider"),
        "optimizer": dict(kind="choice", label="Optimizer", choices=tuple(OPTIMIZERS),
                          help="\n\n".join(f"**{k}**: {v}" for k, v in OPTIMIZERS.items())),
        "lr": dict(label="Learning rate", min=1e-6, max=10.0, step=0.001, format="%.5f", log=True, widget="number"),
        "momentum": dict(label="Momentum (SGD)", min=0.0, max=0.999, step=0.05, widget="number"),
        "weight_decay": dict(label="Weight decay", min=0.0, max=1.0, step=1e-4, format="%.5f", widget="number"),
        "warmup_steps": dict(label="Warm-up steps (empty = use the fraction)", min=0, max=10_000_000,
                             widget="number"),
        "warmup_fraction": dict(label="Warm-up fraction", min=0.0, max=0.9, step=0.01, widget="number"),
        "min_lr_fraction": dict(label="Final learning rate (× peak)", min=0.0, max=1.0, step=0.05, widget="number"),
        "label_smoothing": dict(label="Label smoothing", min=0.0, max=0.9, step=0.05, widget="number"),
        "dropout": dict(label="Dropout (empty = the network's own)", min=0.0, max=0.95, step=0.05,
                        widget="number"),
        "seed": dict(label="Seed", min=0, max=2**31 - 1, widget="number"),
        "device": dict(kind="choice", label="Device", choices=("auto", "cpu") + (("cuda",) if cuda else ())),
        "amp": dict(kind="choice", label="Mixed precision", choices=AMP_CHOICES),
        "num_workers": dict(kind="choice", label="Data workers", choices=WORKER_CHOICES, none_as="auto",
                            choice_labels=((None, "auto"),)),
        "log_every": dict(label="Log every", unit="steps", min=1, max=10_000, widget="number"),
        "checkpoint_every_s": dict(label="Checkpoint every", unit="s", min=5.0, max=36_000.0, step=30.0,
                                   widget="number"),
    }


def _kind(annotation: str) -> tuple[str, bool]:
    """("int" | "float" | "bool" | "text", optional) from a field's annotation string, e.g. "int | None"."""
    parts = [p.strip() for p in str(annotation).split("|")]
    base = next(p for p in parts if p != "None")
    return {"int": "int", "float": "float", "bool": "bool"}.get(base, "text"), "None" in parts


def train_params(cuda: bool | None = None) -> dict[str, Param]:
    """One description per TrainConfig field the Train page draws (all but COMPOUND_FIELDS and OBJECTIVE_FIELDS),
    in the dataclass's order: default and type from the dataclass, help from its comments (``field_help``).
    ``cuda``: offer the "cuda" device (default: when torch sees one)."""
    if cuda is None:
        cuda = torch.cuda.is_available()
    helps, ui = field_help(), _train_widgets(cuda)
    out = {}
    for f in dataclasses.fields(TrainConfig):
        if f.name in COMPOUND_FIELDS or f.name in OBJECTIVE_FIELDS:
            continue
        kind, optional = _kind(f.type)
        extra = dict(ui.get(f.name, {}))
        out[f.name] = Param(f.name, kind=extra.pop("kind", kind), default=f.default,
                            help=extra.pop("help", helps.get(f.name, "")), optional=optional, **extra)
    return out
