"""The Explain page's session state: every ``st.session_state`` key the page writes itself is read and written here.

Widget keys are ``explain_<name>`` (:func:`key`) and belong to their widgets, with one exception: ``explain_run_choice``
(the "Run" selectbox) is also set here, to the newest finished run when its value is gone and to the one-click
run when that run completes. The other keys hold what a button produced, so it survives the reruns of other
widgets: ``explain_quick_run`` (the folder of the one-click run while it trains), ``explain_curves`` (deletion /
insertion curves per method title), ``explain_pg_result`` (``PointingResult.to_dict()``) and
``explain_sanity_result`` (the sanity check's steps, maps included).

Gotcha: a widget's own key may only be written *before* the widget is drawn in a rerun (Streamlit raises
otherwise), which is why :func:`keep_run_choice` runs before the selectbox and :func:`quick_run_completed`
is followed by a rerun of the whole app.
"""
from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

P = "explain"  # the page's widget-key prefix
QUICK_RUN, RUN_CHOICE = f"{P}_quick_run", f"{P}_run_choice"
CURVES, POINTING, SANITY = f"{P}_curves", f"{P}_pg_result", f"{P}_sanity_result"

ss = st.session_state


def key(name: str) -> str:
    """A widget key of this page: ``key("method") == "explain_method"``."""
    return f"{P}_{name}"


# ------------------------------------------------------------------------------------------ one-click run
def quick_run() -> str | None:
    """The folder of the one-click run being trained, or None."""
    return ss.get(QUICK_RUN)


def quick_run_started(run_dir: str) -> None:
    ss[QUICK_RUN] = run_dir


def quick_run_completed(run_id: str) -> None:
    """The run is done: it becomes the chosen run (the caller reruns the app before the selectbox is drawn)."""
    ss[RUN_CHOICE] = run_id
    ss.pop(QUICK_RUN, None)


def quick_run_ended() -> None:
    """The run failed or was cancelled: the button comes back."""
    ss.pop(QUICK_RUN, None)


def keep_run_choice(ids: Sequence[str]) -> None:
    """Before the "Run" selectbox: a choice that is no longer offered (deleted run, first visit) becomes the
    first (newest) run."""
    if ss.get(RUN_CHOICE) not in ids:
        ss[RUN_CHOICE] = ids[0]


# ------------------------------------------------------------------------------------------ measurements
def set_curves(curves: dict[str, dict[str, Any]]) -> None:
    ss[CURVES] = curves


def curves() -> dict[str, dict[str, Any]] | None:
    return ss.get(CURVES)


def set_pointing(result: dict[str, Any]) -> None:
    ss[POINTING] = result


def pointing() -> dict[str, Any] | None:
    return ss.get(POINTING)


def set_sanity(steps: list[dict[str, Any]]) -> None:
    ss[SANITY] = steps


def sanity() -> list[dict[str, Any]] | None:
    return ss.get(SANITY)
