"""This browser's identity (a random token kept in the address bar, ``?u=...``) and the instructor mode.

Not a login: see core/runs/owners.py for what it protects against and what not. The token lives in the session
state and in the address bar, so a refresh or a bookmark keeps it; Streamlit clears query parameters when the
user switches pages, so every page that reads it (and app.py, for all pages) puts it back with
:func:`ensure_identity`.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.runs import owners

TOKEN_PARAM = "u"
_TOKEN_KEY = "identity_token"
_INSTRUCTOR_KEY = "identity_instructor"
_TRIES_KEY = "identity_secret_tries"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: ``owner`` is the id runs started here record; ``instructor`` may act on every run."""

    token: str
    owner: str
    instructor: bool

    def may_act(self, run_owner: str | None) -> bool:
        return owners.may_act(run_owner, self.owner, self.instructor)


def ensure_identity() -> Viewer:
    """This browser's identity: the token in the address bar, else the one this session already has, else a new
    one; the address bar is set to it (so a refresh or a bookmark keeps it)."""
    ss = st.session_state
    url_token = st.query_params.get(TOKEN_PARAM)
    token = url_token if owners.valid_token(url_token) else ss.get(_TOKEN_KEY)
    if not owners.valid_token(token):
        token = owners.new_token()
    ss[_TOKEN_KEY] = token
    if url_token != token:
        st.query_params[TOKEN_PARAM] = token
    instructor = bool(ss.get(_INSTRUCTOR_KEY)) and owners.instructor_configured()
    return Viewer(token=token, owner=owners.owner_id(token), instructor=instructor)


def _enter(secret_key: str) -> None:
    ss = st.session_state
    if owners.check_instructor_secret(ss.get(secret_key)):
        ss[_INSTRUCTOR_KEY] = True
        ss[_TRIES_KEY] = 0
    else:
        ss[_TRIES_KEY] = ss.get(_TRIES_KEY, 0) + 1
        ss["identity_flash"] = "That is not the instructor secret."
    ss[secret_key] = ""  # never keep the secret in the session


def _leave() -> None:
    st.session_state[_INSTRUCTOR_KEY] = False


def identity_sidebar(viewer: Viewer) -> None:
    """Sidebar box: whose runs this browser may change, and the instructor's secret entry."""
    ss = st.session_state
    with st.sidebar.expander("Instructor mode" if viewer.instructor else "Your runs", expanded=viewer.instructor,
                             icon=":material/badge:"):
        if viewer.instructor:
            st.success("Instructor mode: you can cancel, resume and delete every run.")
            st.button("Leave instructor mode", key="identity_leave", on_click=_leave)
            return
        st.caption("You can open and compare every run; you can cancel, resume or delete the runs this browser "
                   "started. The address bar (`?u=…`) names this browser: bookmark it to keep your runs yours, and "
                   "do not share it (it is not a password, just a random name).")
        if not owners.instructor_configured():
            st.caption(f"Instructor mode is off on this server (set `{owners.INSTRUCTOR_ENV}` to enable it).")
            return
        if ss.get(_TRIES_KEY, 0) >= owners.MAX_SECRET_TRIES:
            st.caption("Too many wrong instructor secrets in this session.")
            return
        st.text_input("Instructor secret", type="password", key="identity_secret",
                      help=f"the value of {owners.INSTRUCTOR_ENV} on the server")
        st.button("Enter instructor mode", key="identity_enter", on_click=_enter, args=("identity_secret",))
        flash = ss.pop("identity_flash", None)
        if flash:
            st.error(flash)
