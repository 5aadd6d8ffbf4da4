"""core.params: typed parameter descriptions for augmentations, data-set options and TrainConfig fields."""
from __future__ import annotations

import dataclasses
import math

import pytest

from core.augment import REGISTRY, AugmentError
from core.data import DATASETS, DatasetSpec
from core.errors import InputError
from core.data.options import dataset_params
from core.params import Param
from core.train.params import COMPOUND_FIELDS, OBJECTIVE_FIELDS, train_params
from core.train.config import PRESETS, TrainConfig, field_help

PARAMS = train_params(cuda=False)


def _samples(p: Param) -> list:
    """Config values a widget may have to show: the default, every choice, both limits, None when optional."""
    values = [p.default, *p.choices]
    if p.kind in ("int", "float") and not p.choices:
        values += [v for v in (p.min, p.max) if v is not None]
    if p.optional:
        values.append(None)
    return values


def test_every_field_the_train_page_sets_has_a_description_and_the_rest_are_named():
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    assert list(PARAMS) == [f for f in fields if f not in COMPOUND_FIELDS + OBJECTIVE_FIELDS]  # dataclass order
    assert set(COMPOUND_FIELDS) | set(OBJECTIVE_FIELDS) < set(fields)  # no stale name hides a missing widget
    assert {"warmup_steps", "min_lr_fraction"} <= set(PARAMS)  # the two that had no widget


@pytest.mark.parametrize("name", list(PARAMS))
def test_a_train_description_comes_from_the_dataclass(name):
    p = PARAMS[name]
    field = {f.name: f for f in dataclasses.fields(TrainConfig)}[name]
    assert p.default == field.default
    assert p.optional == ("None" in str(field.type))
    assert p.help and (name == "optimizer" or p.help == field_help()[name])  # the field's comment, written once
    assert p.validate(p.default, "config") == p.default


@pytest.mark.parametrize("name", list(PARAMS))
def test_widget_and_config_values_round_trip(name):
    p = PARAMS[name]
    for value in _samples(p):
        shown = p.to_widget(value)
        assert p.from_widget(shown) == value and type(p.from_widget(shown)) is type(value), (value, shown)
        assert p.to_widget(p.from_widget(shown)) == shown


def test_none_has_its_own_widget_value():
    assert PARAMS["max_steps"].to_widget(None) == 0 and PARAMS["max_steps"].from_widget(0) is None
    assert PARAMS["num_workers"].to_widget(None) == "auto" and PARAMS["num_workers"].from_widget(0) == 0
    warm = PARAMS["warmup_steps"]  # 0 warm-up steps is a setting of its own, not "use the fraction"
    assert warm.to_widget(None) is None and warm.from_widget(None) is None and warm.from_widget(0) == 0
    assert PARAMS["dropout"].from_widget(0.0) == 0.0 and PARAMS["dropout"].from_widget(None) is None


@pytest.mark.parametrize("name", list(PARAMS))
def test_a_widgets_limits_stay_inside_what_the_config_accepts(name):
    """A student can reach every end of a widget: each must be a valid TrainConfig (no error after a click)."""
    p = PARAMS[name]
    for value in _samples(p):
        TrainConfig(**{name: value}).validate(check_registries=False)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_value_can_be_shown_by_its_widget(preset):
    cfg = TrainConfig.from_preset(preset)
    for name, p in PARAMS.items():
        assert p.validate(getattr(cfg, name), preset) == getattr(cfg, name)


def test_choices_labels_and_units():
    assert PARAMS["image_size"].title == "Image size (px)" and PARAMS["checkpoint_every_s"].title == \
        "Checkpoint every (s)"
    assert PARAMS["mode"].choice_label("finetune_last_k") == "Fine-tune last k blocks"
    assert PARAMS["num_workers"].choice_label("auto") == "auto" and PARAMS["num_workers"].choice_label(2) == "2"
    assert [p.to_widget(c) for p in [PARAMS["num_workers"]] for c in p.choices] == ["auto", 0, 1, 2, 4, 8]
    assert "cuda" in train_params(cuda=True)["device"].choices and "cuda" not in PARAMS["device"].choices
    assert PARAMS["lr"].log and not PARAMS["epochs"].log


def test_validate_says_what_is_wrong_with_a_typed_error():
    n = Param("n", "int", 5, 1, 10)
    assert n.validate(7.0, "shapes") == 7 and isinstance(n.validate(7.0, "shapes"), int)
    with pytest.raises(InputError, match=r"shapes: 'n' must be between 1 and 10, got 11"):
        n.validate(11, "shapes")
    with pytest.raises(InputError, match="whole number"):
        n.validate(2.5, "shapes")
    with pytest.raises(InputError, match="must be a number"):
        n.validate(True, "shapes")
    with pytest.raises(InputError, match="finite"):
        Param("x", "float", 0.0).validate(math.nan, "w")
    with pytest.raises(InputError, match="must be text"):
        Param("path", "path", "").validate(3, "folder")
    with pytest.raises(InputError, match="one of 32, 64"):
        Param("size", "int", 32, choices=(32, 64)).validate(48, "w")
    with pytest.raises(InputError, match="between -inf and 1"):
        Param("x", "float", 0.0, max=1.0).validate(2.0, "w")
    with pytest.raises(AssertionError):
        Param("x", "complex", 0)


def test_an_augmentation_param_is_the_same_description_raising_augment_error():
    p = REGISTRY["crop"].param("padding")
    assert isinstance(p, Param) and p.kind == "int" and (p.min, p.max) == (0, 64)
    with pytest.raises(AugmentError, match=r"crop: 'padding' must be between 0 and 64, got 65"):
        p.validate(65, "crop")
    scale = REGISTRY["random_resized_crop"].param("scale")
    assert scale.to_widget([0.5, 1]) == (0.5, 1.0) and scale.from_widget((0.5, 1.0)) == (0.5, 1.0)
    with pytest.raises(AugmentError, match="low .* above high"):
        scale.validate([0.9, 0.6], "random_resized_crop")


def test_log_scale_stops_are_one_two_five_per_decade():
    p = Param("lr", "float", 1e-3, 1e-4, 0.05, log=True)
    expected = [m * 10.0**e for e in range(-4, 0) for m in (1, 2, 5) if 1e-4 <= m * 10.0**e <= 0.05]
    assert p.slider_values() == pytest.approx(expected) and len(expected) == 9


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_data_set_option_has_a_description_with_its_registry_default_and_help(name):
    spec = DATASETS[name]
    params = dataset_params(spec)
    assert [p.name for p in params] == list(spec.options)
    for p in params:
        assert p.default == spec.options[p.name] and p.help == spec.option_help.get(p.name, "")
        assert p.validate(p.default, name) == p.default


def test_data_set_option_widgets():
    shapes = {p.name: p for p in dataset_params(DATASETS["shapes"])}
    assert (shapes["n"].kind, shapes["n"].min, shapes["n"].step) == ("int", 1, 500)
    assert (shapes["seed"].kind, shapes["seed"].min, shapes["seed"].step) == ("int", 0, 1)
    assert (shapes["bias"].kind, shapes["bias"].min, shapes["bias"].max) == ("float", 0.0, 1.0)
    (path,) = dataset_params(DATASETS["folder"])
    assert path.kind == "path" and path.suggest is not None and path.suggest_label == "Imported data set"
    # an option a registry entry adds without widget details still gets one, from its default's type
    new = DatasetSpec("new", "New", "", True, ("train",), 32, options={"flag": True, "k": 3, "p": 0.5, "s": "x"})
    assert [p.kind for p in dataset_params(new)] == ["bool", "int", "float", "text"]
