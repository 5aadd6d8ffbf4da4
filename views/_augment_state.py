"""The Augmentation lab's editor state: the pipeline lives in ``st.session_state`` as widget values, and the
callbacks here are the only code that writes it (they run before the widgets of the next rerun exist).

Keys: ``aug_steps`` (ordered ``{"uid", "name"}``), ``aug_s{uid}_p`` / ``aug_s{uid}_{param}`` (one per step
widget), ``aug_mixing`` / ``aug_mix_p`` / ``aug_mix_{name}_{param}``, ``aug_ra_*`` (RandAugment explorer), and
one-shot messages ``aug_import_msg`` / ``aug_ra_msg``. A step's uid never changes, so moving a step keeps its
widgets' values.
"""
from __future__ import annotations

import streamlit as st

from core.augment import PRESETS, REGISTRY, from_json, parse_timm, to_json, validate_spec
from core.errors import PAGE_ERRORS, PlaygroundError

ss = st.session_state
DEFAULT_PRESET = "randaugment-cutmix"
RA_DEFAULTS = {"aug_ra_n": 2, "aug_ra_m": 9, "aug_ra_bins": 31, "aug_ra_timm": "rand-m9-n2-mstd0.5"}


def widget_value(v):
    """A spec value as a widget holds it (a range slider takes a tuple, JSON gives a list)."""
    return tuple(v) if isinstance(v, list) else v


def init() -> None:
    """First visit: the default preset, and the RandAugment explorer's settings."""
    if "aug_steps" not in ss:
        load_spec(PRESETS[DEFAULT_PRESET])
    for key, default in RA_DEFAULTS.items():
        if key not in ss:
            ss[key] = default


def ensure(key: str, default) -> None:
    """A widget's value set before the widget is drawn (a widget created with ``key`` only, no ``value``)."""
    if key not in ss:
        ss[key] = default


def load_spec(spec: dict) -> None:
    """Put a (validated) spec into the editor's session state."""
    norm = validate_spec(spec)
    uid0 = ss.get("aug_next_uid", 0)
    steps = []
    for i, step in enumerate(norm["steps"]):
        uid = uid0 + i
        steps.append({"uid": uid, "name": step["name"]})
        ss[f"aug_s{uid}_p"] = float(step["p"])
        for k, v in step["params"].items():
            ss[f"aug_s{uid}_{k}"] = widget_value(v)
    ss["aug_next_uid"] = uid0 + len(steps)
    ss["aug_steps"] = steps
    mix = norm["mixing"]
    ss["aug_mixing"] = mix["name"] if mix else "none"
    if mix:
        ss["aug_mix_p"] = float(mix["p"])
        for k, v in mix["params"].items():
            ss[f"aug_mix_{mix['name']}_{k}"] = widget_value(v)


def add_step(name: str, params: dict | None = None) -> None:
    spec = REGISTRY[name]
    uid = ss.get("aug_next_uid", 0)
    ss["aug_next_uid"] = uid + 1
    ss[f"aug_s{uid}_p"] = float(spec.default_p)
    for p in spec.params:
        ss[f"aug_s{uid}_{p.name}"] = widget_value((params or {}).get(p.name, p.default))
    ss["aug_steps"] = [*ss["aug_steps"], {"uid": uid, "name": name}]


def current_spec() -> dict:
    """The pipeline the widgets describe now (not validated yet)."""
    steps = []
    for s in ss["aug_steps"]:
        spec = REGISTRY[s["name"]]
        params = {p.name: ss.get(f"aug_s{s['uid']}_{p.name}", p.default) for p in spec.params}
        steps.append({"name": s["name"], "p": float(ss.get(f"aug_s{s['uid']}_p", spec.default_p)),
                      "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}})
    mixing = None
    name = ss.get("aug_mixing", "none")
    if name != "none":
        spec = REGISTRY[name]
        mixing = {"name": name, "p": float(ss.get("aug_mix_p", 1.0)),
                  "params": {p.name: ss.get(f"aug_mix_{name}_{p.name}", p.default) for p in spec.params}}
    return {"version": 1, "steps": steps, "mixing": mixing}


def validated_spec() -> dict:
    """:func:`current_spec` validated (raises :class:`PlaygroundError`), also kept as JSON in ``aug_spec_json``
    (what the draws are cached by and what the export downloads)."""
    spec = validate_spec(current_spec())
    ss["aug_spec_json"] = to_json(spec)
    return spec


def clamp_ra_magnitude() -> int:
    """The number of magnitude bins, with M moved inside it (fewer bins than M + 1 just chosen)."""
    bins = int(ss["aug_ra_bins"])
    if ss["aug_ra_m"] >= bins:
        ss["aug_ra_m"] = bins - 1
    return bins


def pop_message(key: str) -> tuple[str, str] | None:
    """A one-shot ``(kind, text)`` left by a callback, shown once."""
    return ss.pop(key, None)


# ------------------------------------------------------------------------------------------ callbacks
def on_add() -> None:
    add_step(ss["aug_add_name"])


def on_move(i: int, d: int) -> None:
    steps = list(ss["aug_steps"])
    j = i + d
    if 0 <= j < len(steps):
        steps[i], steps[j] = steps[j], steps[i]
        ss["aug_steps"] = steps


def on_remove(i: int) -> None:
    steps = list(ss["aug_steps"])
    steps.pop(i)
    ss["aug_steps"] = steps


def on_preset() -> None:
    load_spec(PRESETS[ss["aug_preset"]])


def on_import(text: str | bytes | None) -> None:
    try:
        if text is None:
            raise PlaygroundError("choose a .json file first")
        load_spec(from_json(text))
        ss["aug_import_msg"] = ("ok", "Pipeline imported.")
    except PAGE_ERRORS as err:
        ss["aug_import_msg"] = ("error", str(err))


def on_timm() -> None:
    try:
        cfg = parse_timm(ss["aug_ra_timm"])
    except PAGE_ERRORS as err:
        ss["aug_ra_msg"] = ("error", str(err))
        return
    params = cfg.to_params()
    ss["aug_ra_n"], ss["aug_ra_m"] = params["num_ops"], params["magnitude"]
    ss["aug_ra_bins"] = params["num_magnitude_bins"]
    ss["aug_ra_msg"] = ("ok", "; ".join(cfg.notes) if cfg.notes else "Converted exactly.")


def on_ra_to_pipeline() -> None:
    add_step("randaugment", {"num_ops": ss["aug_ra_n"], "magnitude": ss["aug_ra_m"],
                             "num_magnitude_bins": ss["aug_ra_bins"]})
