"""The Train page's session state: settings widgets <-> TrainConfig, the run it shows, and the run it started.
The only code that writes ``st.session_state`` or the address bar for that page.

Keys: one per TrainConfig field, ``train_<field>`` (the widget's value, in the widget's type:
``Param.to_widget``); ``train_opt_<data set>_<option>`` per data-set option; ``train_preset``, ``train_weights``
("none" / "pretrained" / "checkpoint") and ``train_weights_run`` (the checkpoint's run folder);
``train_augmentation`` (a preset name, :data:`AUG_LAB` or :data:`AUG_FILE`) and ``train_aug_file`` (the upload);
``train_last_start`` (settings JSON, time) and ``train_estimate_result`` (settings JSON, estimate). The address bar
holds ``?run=<id>``, the run the page shows.

Gotcha: Streamlit forgets the state of a widget that was not drawn in the last rerun (k while the mode hides it,
the options of another data set), so :func:`config_from_widgets` falls back to each field's default for a key
that is missing instead of failing.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import streamlit as st

from core.augment import PRESETS as AUG_PRESETS
from core.augment import from_json, to_json
from core.data import DATASETS
from core.data.options import dataset_params
from core.errors import PAGE_ERRORS, InputError
from core.runs import launcher, store
from core.train.config import DEFAULT_PRESET, TrainConfig
from core.train.estimate import Estimate
from core.train.params import train_params
from views._identity import Viewer
from views._widgets import run_from_url

# One widget per TrainConfig field, drawn from its description (core.params), key "train_<field>"; the weights,
# the augmentation and the data set's options (key "train_opt_<data set>_<option>") have their own widgets.
PARAMS = train_params()
# Besides the six presets, the Augmentation lab's current pipeline (its page keeps the validated JSON in session
# state under LAB_SPEC_KEY) or a pipeline JSON file (the lab's Export tab writes one). Colons: no preset has one.
AUG_LAB, AUG_FILE = ":lab", ":file"
AUG_CHOICES = {**{k: k for k in AUG_PRESETS}, AUG_LAB: "the Augmentation lab's pipeline",
               AUG_FILE: "a pipeline JSON file"}
LAB_SPEC_KEY = "aug_spec_json"
ss = st.session_state


def init() -> None:
    """First visit: every widget holds the default preset."""
    if "train_arch" not in ss:
        ss["train_preset"] = DEFAULT_PRESET
        apply(TrainConfig.from_preset(DEFAULT_PRESET))


def apply(cfg: TrainConfig) -> None:
    """Put ``cfg`` into the widgets' session state (a preset was chosen)."""
    for name, param in PARAMS.items():
        ss[f"train_{name}"] = param.to_widget(getattr(cfg, name))
    aug = cfg.augmentation if isinstance(cfg.augmentation, str) else "none"
    ss["train_augmentation"] = aug
    if cfg.weights in ("none", "pretrained"):
        ss["train_weights"] = cfg.weights
    else:
        ss["train_weights"], ss["train_weights_run"] = "checkpoint", cfg.weights
    for param in dataset_params(DATASETS[cfg.dataset]):
        ss[f"train_opt_{cfg.dataset}_{param.name}"] = param.to_widget(cfg.dataset_options.get(param.name,
                                                                                              param.default))


def on_preset() -> None:
    """The Preset select box's callback: fill in every setting."""
    apply(TrainConfig.from_preset(ss["train_preset"]))


def config_from_widgets() -> TrainConfig:
    """The settings the widgets hold now (not validated yet). Raises InputError from :func:`augmentation`."""
    # Streamlit forgets the state of a widget that was not drawn in the last run (e.g. k when hidden): its default
    values = {name: p.from_widget(ss[f"train_{name}"]) if f"train_{name}" in ss else p.default
              for name, p in PARAMS.items()}
    spec = DATASETS[values["dataset"]]
    options = {p.name: p.from_widget(ss[key]) if (key := f"train_opt_{spec.name}_{p.name}") in ss else p.default
               for p in dataset_params(spec)}
    weights = ss.get("train_weights", "none")
    if weights == "checkpoint":
        weights = ss.get("train_weights_run") or "none"
    return TrainConfig(**values, dataset_options=options, weights=weights, augmentation=augmentation())


def augmentation() -> str | dict:
    """The chosen augmentation: a preset name, or a pipeline spec dict (plain JSON values) from the lab or a file.
    Raises InputError (shown under the settings) while the chosen source has no valid pipeline."""
    choice = ss.get("train_augmentation", "none")
    if choice == AUG_LAB:
        text = ss.get(LAB_SPEC_KEY)
        if not text:
            raise InputError("the Augmentation lab has no pipeline yet in this browser session: build one there "
                             "(Augmentation lab → Pipeline), or choose a preset or a JSON file")
        return json.loads(to_json(from_json(text)))
    if choice == AUG_FILE:
        upload = ss.get("train_aug_file")
        if upload is None:
            raise InputError("choose a pipeline JSON file (the Augmentation lab's Export tab writes one)")
        try:
            return json.loads(to_json(from_json(upload.getvalue())))
        except PAGE_ERRORS as err:
            raise InputError(f"{upload.name}: {err}") from None
    return choice


def current_run(viewer: Viewer) -> Path | None:
    """The run in the URL (?run=ID), else this browser's newest active run (then put in the URL): the page
    reattaches after a refresh, never to another student's run."""
    path = run_from_url("run")
    if path is not None:
        return path
    latest = store.latest_active_run(owner=viewer.owner)
    if latest is not None:
        st.query_params["run"] = latest.name
    return latest


def start(cfg: TrainConfig, viewer: Viewer) -> None:
    """Start a run of ``cfg`` owned by this browser and show it (URL). A double click sends two clicks: one run
    per request, the second within 3 s with equal settings is ignored."""
    last = ss.get("train_last_start")
    if last and last[0] == cfg.to_json() and time.time() - last[1] < 3:
        return
    run_dir = launcher.start(cfg, owner=viewer.owner)  # the run records this browser as its owner
    ss["train_last_start"] = (cfg.to_json(), time.time())
    st.query_params["run"] = run_dir.name


def remember_estimate(cfg: TrainConfig, estimate: Estimate) -> None:
    """Keep the duration estimate of ``cfg`` for the next reruns."""
    ss["train_estimate_result"] = (cfg.to_json(), estimate)


def estimate_for(cfg: TrainConfig | None) -> Estimate | None:
    """The kept estimate, while the settings are still the ones it was made for."""
    shown = ss.get("train_estimate_result")
    return shown[1] if shown and cfg is not None and shown[0] == cfg.to_json() else None
