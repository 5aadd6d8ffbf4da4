"""Typed parameter descriptions: one :class:`Param` per setting a student can change, written once in ``core/``.

A description says what the setting is (kind, default, limits, step, choices, help, unit, log scale) and how the
config value and a widget's value map onto each other (``to_widget`` / ``from_widget``: ``None`` shown as "0 = no
cap", "auto" or an empty box). ``views/_params.py`` draws the widget for any description, so a page never guesses
a widget from a default's type. Three families use it: augmentation settings (``core.augment.specs`` — its
``Param`` is this class raising ``AugmentError``), data-set options (:func:`core.data.options.dataset_params`, from each
entry's ``option_widgets``) and the Train page's ``TrainConfig`` fields (:func:`core.train.params.train_params`,
built from the dataclass, its commented defaults and its registries). This module imports no other core package,
so every package may describe its settings with it without an import cycle.

Gotcha: a widget holds its value in ``st.session_state`` in the widget's type (a range slider a tuple, an int
number box an int): always go through ``to_widget`` / ``from_widget``, never put a config value there directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

from core.errors import InputError

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
