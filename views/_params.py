"""One widget for one parameter description (:class:`core.params.Param`): every page draws its settings with it.

The widget is created from ``key`` only (no ``value=``): its value lives in ``st.session_state[key]`` in the
widget's type (``Param.to_widget``), so callbacks and presets may set it before the widget is drawn.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.params import Param


def param_widget(param: Param, key: str, value: Any = None) -> Any:
    """Draw ``param``'s widget under ``key`` and return its value as the config holds it (``from_widget``).

    ``value``: the config value shown when ``key`` has no state yet (default: ``param.default``). The widget:
    checkbox (bool); select box, radio or select slider (choices); slider or number box (numbers: a slider of
    1-2-5 stops for a log-scale one); range slider (range); text box (text); for a path with known values
    (``suggest``), a select box of them while the value is empty or one of them, else a text box.
    """
    ss = st.session_state
    if key not in ss:
        ss[key] = param.to_widget(param.default if value is None else value)
    label, help_ = param.title, param.help or None
    kind, widget = param.kind, param.widget
    if kind == "bool":
        st.checkbox(label, key=key, help=help_)
    elif param.choices:
        options = param.widget_choices()
        if ss[key] not in options:  # a config from the CLI or a file may hold a value the list lacks
            options = sorted([*options, ss[key]]) if widget == "select_slider" else [*options, ss[key]]
        draw = {"radio": st.radio, "select_slider": st.select_slider}.get(widget, st.selectbox)
        draw(label, options, key=key, help=help_, format_func=param.choice_label)
    elif kind in ("int", "float", "range"):
        _number(param, key, label, help_)
    elif kind == "path" and param.suggest is not None and (known := list(param.suggest())) \
            and ss[key] in ("", *known):
        ss[key] = ss[key] or known[0]
        st.selectbox(param.suggest_label or label, known, key=key, help=help_)
    else:  # text, path
        st.text_input(label, key=key, help=help_)
    return param.from_widget(ss[key])


def _number(param: Param, key: str, label: str, help_: str | None) -> None:
    cast = int if param.kind == "int" else float
    lo = None if param.min is None else cast(param.min)
    hi = None if param.max is None else cast(param.max)
    if param.optional and isinstance(param.none_as, (int, float)) and lo is not None:
        lo = min(lo, cast(param.none_as))  # "0 = no cap" lies below the smallest real value
    step = cast(param.step) if param.step is not None else cast(1 if param.kind == "int" else 0.01)
    slider = param.widget == "slider" or (param.widget == "auto" and lo is not None and hi is not None)
    if slider and param.log and param.kind == "float":
        stops = param.slider_values()
        current = st.session_state[key]
        st.select_slider(label, stops if current in stops else sorted([*stops, current]), key=key, help=help_)
    elif slider or param.kind == "range":
        st.slider(label, lo, hi, step=step, key=key, help=help_)
    else:
        st.number_input(label, min_value=lo, max_value=hi, step=step, format=param.format, key=key, help=help_)
