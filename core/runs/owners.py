"""Who may act on a run: the browser that started it, or the instructor. Not a login.

A classroom shares one server: every student sees every run (sharing results is part of teaching) but may cancel,
resume or delete only the runs their own browser started. Each browser holds a random **token** (the page layer
keeps it in the address bar, ``?u=...``, so it survives a refresh and a bookmark); a run records its **owner id**,
a hash of that token (``status.json`` field ``owner``), so the files on disk never hold a token that could be
pasted into an address bar. An **instructor** proves knowing the server's secret (environment variable
``CNNPG_INSTRUCTOR_SECRET``) once per browser session and may then act on every run.

Runs without an owner (started before owners were recorded, or from the command line) belong to nobody: only the
instructor may act on them in the app; the CLI (``python -m core runs ...``) on the server still can.

What this does not protect against (it is not authentication): anyone who sees a student's address bar (a
projected screen, a shared link) can act as that student; the server's operator can do anything; there are no
accounts, passwords or audit logs. It keeps a class from stopping each other's runs by accident or by a casual
click, which is what a shared teaching server needs.

Gotcha: compare secrets and owner ids with :func:`hmac.compare_digest` (constant time), never ``==``.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from core.errors import NotYourRun

INSTRUCTOR_ENV = "CNNPG_INSTRUCTOR_SECRET"
TOKEN_BYTES = 16  # 128 random bits: not guessable by trying
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# A session that typed a wrong secret this many times gets no more tries (a reload starts a new session, so this
# only slows guessing down; a long random secret is what makes guessing hopeless).
MAX_SECRET_TRIES = 5


def new_token() -> str:
    """A fresh random browser token (URL-safe text)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def valid_token(token: object) -> bool:
    """Whether ``token`` looks like one :func:`new_token` made (address bars are user input)."""
    return isinstance(token, str) and 16 <= len(token) <= 64 and set(token) <= _TOKEN_CHARS


def owner_id(token: str) -> str:
    """The id a run records for the browser holding ``token``: a one-way hash, so run files reveal no token."""
    return hashlib.sha256(b"cnnpg-owner:" + token.encode("utf-8")).hexdigest()[:32]


def instructor_configured() -> bool:
    """Whether the server has an instructor secret (a non-blank ``CNNPG_INSTRUCTOR_SECRET``)."""
    return bool(os.environ.get(INSTRUCTOR_ENV, "").strip())


def check_instructor_secret(entered: str | None) -> bool:
    """True if ``entered`` equals the server's instructor secret (constant-time). False when none is configured."""
    secret = os.environ.get(INSTRUCTOR_ENV, "").strip()
    if not secret or not entered:
        return False
    return hmac.compare_digest(entered.strip().encode("utf-8"), secret.encode("utf-8"))


def may_act(run_owner: str | None, viewer: str | None, instructor: bool = False) -> bool:
    """Whether the browser with owner id ``viewer`` may cancel, resume or delete a run owned by ``run_owner``.

    The instructor may act on every run; a student only on runs whose recorded owner is theirs. A run with no
    owner (older, or started from the CLI) belongs to nobody.
    """
    if instructor:
        return True
    if not run_owner or not viewer:
        return False
    return hmac.compare_digest(str(run_owner).encode("utf-8"), str(viewer).encode("utf-8"))


def check_may_act(run_owner: str | None, viewer: str | None, instructor: bool = False, run_id: str = "") -> None:
    """Raise :class:`NotYourRun` unless :func:`may_act`."""
    if not may_act(run_owner, viewer, instructor):
        whose = "was started before runs recorded their owner (or from the command line)" if not run_owner \
            else "belongs to another browser"
        raise NotYourRun(f"run {run_id} {whose}: only the browser that started it, or the instructor, can cancel, "
                         "resume or delete it. You can still open it, compare it and download its results.")


def owner_label(run_owner: str | None, viewer: str | None) -> str:
    """What the Runs table says in its owner column (never the id itself)."""
    if not run_owner:
        return "nobody"
    return "you" if may_act(run_owner, viewer) else "someone else"
