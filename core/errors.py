"""Typed errors. Every failure a user can cause is one of these, with a message a student understands.

The UI shows ``str(err)``; the CLI prints it on one line of stderr and exits non-zero.
"""


class PlaygroundError(Exception):
    """Base of every error that is the user's input, not a bug. Its message is shown as is."""


class InputError(PlaygroundError, ValueError):
    """A bad argument or setting (unknown architecture, impossible parameter combination, ...)."""
