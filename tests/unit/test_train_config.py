"""TrainConfig: JSON round trip, clear errors, presets, CLI flags generated from the fields."""
from __future__ import annotations

import dataclasses
import json

import pytest

from core.errors import InputError
from core.train.config import DEFAULT_PRESET, MODES, PRESETS, TrainConfig, field_help


def test_json_round_trip_keeps_every_field():
    cfg = TrainConfig(dataset_options={"n": 600, "bias": 0.5}, augmentation={"version": 1, "steps": [],
                      "mixing": None}, max_steps=7, warmup_steps=3, num_workers=0, lr=0.01)
    again = TrainConfig.from_json(cfg.to_json())
    assert again == cfg
    assert json.loads(again.to_json()) == cfg.to_dict()


def test_unknown_key_is_an_input_error():
    data = TrainConfig().to_dict() | {"learning_rate": 0.1}
    with pytest.raises(InputError, match="unknown training setting.*learning_rate"):
        TrainConfig.from_json(json.dumps(data))


def test_invalid_json_and_non_object():
    with pytest.raises(InputError, match="not valid JSON"):
        TrainConfig.from_json("{nope")
    with pytest.raises(InputError, match="JSON object"):
        TrainConfig.from_json("[1, 2]")


@pytest.mark.parametrize("changes, message", [
    ({"mode": "sideways"}, "mode must be one of"),
    ({"mode": "scratch", "weights": "pretrained"}, "set weights to 'none'"),
    ({"batch_size": 0}, "batch_size"),
    ({"lr": -1.0}, "lr must be"),
    ({"lr": float("nan")}, "lr must be"),
    ({"epochs": 0}, "epochs"),
    ({"max_steps": 0}, "max_steps"),
    ({"image_size": 8}, "image_size"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"val_fraction": 0.95}, "val_fraction"),
    ({"amp": "fp8"}, "amp"),
    ({"weights": "/no/such/run", "mode": "full"}, "no such run folder"),
    ({"finetune_k": 0}, "finetune_k"),
    ({"batch_size": True}, "batch_size"),
])
def test_validate_names_the_bad_setting(changes, message):
    with pytest.raises(InputError, match=message):
        TrainConfig(**changes).validate(check_registries=False)


def test_defaults_and_presets_validate_against_registries():
    TrainConfig().validate()
    for name in PRESETS:
        TrainConfig.from_preset(name).validate(check_registries=False)
    TrainConfig.from_preset(DEFAULT_PRESET).validate()
    TrainConfig.from_preset("shapes-resnet18").validate()
    TrainConfig.from_preset("shapes-tiny").validate()


def test_registry_errors_are_clear():
    with pytest.raises(InputError, match="unknown dataset"):
        TrainConfig(dataset="mnist-ish").validate()
    with pytest.raises(InputError, match="unknown architecture"):
        TrainConfig(arch="resnet9000").validate()
    with pytest.raises(InputError, match="unknown augmentation preset"):
        TrainConfig(augmentation="wobble").validate()
    with pytest.raises(InputError, match="unknown option"):
        TrainConfig(dataset_options={"colour": 1}).validate()


def test_every_field_has_help_and_every_mode_a_description():
    helps = field_help()
    assert {f.name for f in dataclasses.fields(TrainConfig)} == set(helps)
    assert all(MODES.values())


def test_cli_flags_follow_the_fields():
    from core.__main__ import build_parser
    from core.cli.train import config_from_args

    args = build_parser().parse_args(["train", "--preset", "shapes-tiny", "--max-steps", "5", "--lr", "0.2",
                                      "--dataset-options", '{"n": 60}', "--augmentation", "flip-crop",
                                      "--warmup-steps", "none"])
    cfg = config_from_args(args)
    assert (cfg.max_steps, cfg.lr, cfg.dataset_options, cfg.augmentation, cfg.warmup_steps) == \
        (5, 0.2, {"n": 60}, "flip-crop", None)
    assert cfg.image_size == PRESETS["shapes-tiny"].overrides["image_size"]


def test_a_config_from_a_preset_does_not_share_state_with_the_preset():
    cfg = TrainConfig.from_preset(DEFAULT_PRESET)
    cfg.dataset_options["n"] = 5
    assert TrainConfig.from_preset(DEFAULT_PRESET).dataset_options["n"] == PRESETS[DEFAULT_PRESET].overrides[
        "dataset_options"]["n"] != 5
