"""param_widget (AppTest): each kind of description gets its widget; the Train page has one widget per TrainConfig
field a student sets, and values travel widget -> config -> widget unchanged."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import InputError
from core.train.params import train_params
from core.runs import launcher
from core.train.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
WIDGET_TYPES = ("checkbox", "selectbox", "radio", "select_slider", "slider", "number_input", "text_input",
                "file_uploader")


def _kinds_page():
    import streamlit as st

    from core.params import Param
    from views._params import param_widget

    params = [
        Param("flag", "bool", True),
        Param("colour", "choice", "red", choices=("red", "green")),
        Param("how", "choice", "a", choices=("a", "b"), widget="radio"),
        Param("size", "int", 64, choices=(32, 64, 128), widget="select_slider"),
        Param("k", "int", 3, 1, 9, 2),  # both limits: a slider
        Param("x", "float", 0.5, 0.0, 1.0, 0.1),
        Param("n", "int", 500, 1, 10_000, 500, widget="number"),
        Param("lr", "float", 0.01, 1e-4, 1.0, log=True, widget="slider"),
        Param("span", "range", (0.2, 0.8), 0.0, 1.0, 0.1),
        Param("cap", "int", None, 1, 100, optional=True, none_as=0, widget="number"),
        Param("warm", "int", None, 0, 100, optional=True, widget="number"),
        Param("name", "text", "abc"),
        Param("path", "path", "", suggest=lambda: [], suggest_label="Imported"),
        Param("pick", "path", "", suggest=lambda: ["one", "two"], suggest_label="Imported"),
    ]
    st.session_state["out"] = {p.name: param_widget(p, f"w_{p.name}", value=0.25 if p.name == "x" else None)
                               for p in params}


def _widgets(at: AppTest) -> dict[str, str]:
    """Widget key -> widget type, for every widget on the page (expanders included)."""
    return {w.key: kind for kind in WIDGET_TYPES for w in at.get(kind) if w.key}


def test_each_kind_of_description_gets_its_widget_and_returns_config_values():
    at = AppTest.from_function(_kinds_page).run()
    assert not at.exception, at.exception
    assert _widgets(at) == {
        "w_flag": "checkbox", "w_colour": "selectbox", "w_how": "radio", "w_size": "select_slider",
        "w_k": "slider", "w_x": "slider", "w_n": "number_input", "w_lr": "select_slider", "w_span": "slider",
        "w_cap": "number_input", "w_warm": "number_input", "w_name": "text_input", "w_path": "text_input",
        "w_pick": "selectbox",
    }
    out = at.session_state["out"]
    assert out == {"flag": True, "colour": "red", "how": "a", "size": 64, "k": 3, "x": 0.25, "n": 500, "lr": 0.01,
                   "span": (0.2, 0.8), "cap": None, "warm": None, "name": "abc", "path": "", "pick": "one"}
    assert at.slider(key="w_k").min == 1 and at.slider(key="w_k").max == 9 and at.slider(key="w_k").step == 2
    assert at.number_input(key="w_cap").min == 0  # the range reaches "0 = no cap" below the smallest real value
    assert at.number_input(key="w_warm").value is None  # None as an empty box, not 0 (0 is a setting)
    assert at.select_slider(key="w_lr").options == [str(v) for v in (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01,
                                                                     0.02, 0.05, 0.1, 0.2, 0.5, 1.0)]
    at.number_input(key="w_cap").set_value(7)
    at.number_input(key="w_warm").set_value(0)
    at.slider(key="w_span").set_value((0.1, 0.3))
    at.run()
    out = at.session_state["out"]
    assert (out["cap"], out["warm"], out["span"]) == (7, 0, (0.1, 0.3))
    at.number_input(key="w_cap").set_value(0).run()
    assert at.session_state["out"]["cap"] is None


def _train_page(runs_env, monkeypatch) -> tuple[AppTest, list]:
    """The Train page with launcher.start replaced by a recorder: Start shows the config it would run."""
    started = []

    def record(cfg, *args, **kwargs):
        started.append(cfg)
        raise InputError("recorded, not started")

    monkeypatch.setattr(launcher, "start", record)
    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at, started


def test_every_train_config_field_a_student_sets_has_a_widget_on_the_train_page(runs_env, monkeypatch):
    at, _ = _train_page(runs_env, monkeypatch)
    at.selectbox(key="train_mode").set_value("finetune_last_k").run()  # k appears only in that mode
    keys = set(_widgets(at))
    # Set on the Distill page (knowledge distillation and self-training), not here: the Train page trains "plain".
    elsewhere = {"objective", "teacher", "temperature", "alpha", "iterations", "labelled_per_class", "threshold",
                 "pseudo_labels", "class_cap", "student_augmentation"}
    missing = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in elsewhere:
            continue
        if f.name == "dataset_options":  # one widget per option of the chosen data set
            wanted = {f"train_opt_shapes_{opt}" for opt in ("n", "seed", "bias")}
        else:
            wanted = {f"train_{f.name}"}
        missing += sorted(wanted - keys)
    assert missing == []


def test_values_go_from_widgets_to_the_config_and_back(runs_env, monkeypatch):
    at, started = _train_page(runs_env, monkeypatch)
    # every field away from the default preset's value (a pretrained start allows a fine-tune mode)
    at.radio(key="train_weights").set_value("pretrained")
    at.selectbox(key="train_arch").set_value("resnet18")
    at.selectbox(key="train_mode").set_value("finetune_last_k").run()
    wanted = {"image_size": 48, "val_fraction": 0.2, "finetune_k": 2, "epochs": 2, "max_steps": 7, "batch_size": 16,
              "optimizer": "sgd", "lr": 0.05, "momentum": 0.8, "weight_decay": 0.001, "warmup_steps": 5,
              "warmup_fraction": 0.1, "min_lr_fraction": 0.1, "label_smoothing": 0.05, "dropout": 0.2, "seed": 11,
              "device": "cpu", "amp": "off", "num_workers": 0, "log_every": 5, "checkpoint_every_s": 60.0}
    widgets = _widgets(at)
    for name, value in wanted.items():
        getattr(at, widgets[f"train_{name}"])(key=f"train_{name}").set_value(value)
    for opt, value in (("n", 600), ("seed", 3), ("bias", 0.25)):
        getattr(at, widgets[f"train_opt_shapes_{opt}"])(key=f"train_opt_shapes_{opt}").set_value(value)
    at.run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    (cfg,) = started
    wanted |= {"arch": "resnet18", "weights": "pretrained", "mode": "finetune_last_k", "dataset": "shapes"}
    assert {name: getattr(cfg, name) for name in wanted} == wanted
    assert cfg.dataset_options == {"n": 600, "seed": 3, "bias": 0.25}
    assert cfg.objective == "plain" and cfg.augmentation == "none"

    # config -> widgets: a preset fills every widget with its value, as the widget holds it
    params = train_params()
    at.selectbox(key="train_preset").set_value("shapes-tiny").run()
    preset = TrainConfig.from_preset("shapes-tiny")
    shown = {name: getattr(at, widgets[f"train_{name}"])(key=f"train_{name}").value for name in params
             if name != "finetune_k"}  # hidden in the preset's mode
    assert shown == {name: params[name].to_widget(getattr(preset, name)) for name in shown}
    assert shown["max_steps"] == 30 and shown["warmup_steps"] is None and shown["num_workers"] == "auto"
    assert at.number_input(key="train_opt_shapes_n").value == preset.dataset_options["n"] == 1200


@pytest.mark.parametrize(("typed", "expected"), [(None, None), (0, 0), (40, 40)])
def test_warmup_steps_empty_means_use_the_fraction(runs_env, monkeypatch, typed, expected):
    at, started = _train_page(runs_env, monkeypatch)
    at.number_input(key="train_warmup_steps").set_value(typed).run()
    at.button(key="train_start").click().run()
    assert started[-1].warmup_steps == expected
