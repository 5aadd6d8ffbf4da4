"""Where a "Folder on the server" may live when the app serves a class: the allowed data roots.

A student types a path on the Data sets or Train page and the *server* opens it: it walks the folder, decodes
the images, caches their pixels and shows them (preview grid, mistakes gallery). Without a bound, ``/``, ``~``
or ``../../..`` would show the server's own files to everyone (and ``/`` walks the whole file system first).
So the pages accept a folder only inside an allowed root:

- the app's own data folder (``paths.data_dir()``, i.e. ``$CNNPG_HOME/data`` or ``$CNNPG_DATA_DIR``): imported
  zips land there, and an instructor can copy or link class folders into it;
- plus every folder an instructor lists in the environment variable ``CNNPG_DATA_ROOTS``, separated by
  ``os.pathsep`` (``:`` on Linux and macOS, ``;`` on Windows), e.g.
  ``CNNPG_DATA_ROOTS=/srv/datasets:/home/teacher/photos make run``.

The check resolves ``~``, ``..`` and every symbolic link (``Path.resolve``) *before* comparing, so neither
``data/../../etc`` nor a link inside a root that points out of it gets through; it refuses before anything is
listed or decoded. Only the pages call it: the CLI on a user's own machine opens any folder (``core.data``'s
generic opener stays unrestricted), since there the user already owns every file they could name.

Gotcha: this is a bound on what the *app* reads, not a sandbox: a root that itself contains links to
elsewhere is resolved too, so an instructor who lists ``/`` as a root has allowed everything.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from core import paths
from core.data.errors import DataError
from core.data.folders import NAME_RE

__all__ = ["ENV_VAR", "FolderNotAllowed", "allowed_roots", "check_server_folder", "is_allowed", "check_config"]

ENV_VAR = "CNNPG_DATA_ROOTS"


class FolderNotAllowed(DataError):
    """A typed server folder outside every allowed data root."""


def allowed_roots() -> list[Path]:
    """The folders (resolved, without duplicates, in order) under which the pages may open a server folder:
    the app's data folder first, then each entry of ``$CNNPG_DATA_ROOTS`` (empty entries ignored; a relative
    entry is taken relative to the server's working directory)."""
    roots = [paths.data_dir()]
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        entry = entry.strip()
        if entry:
            roots.append(Path(entry).expanduser().resolve())
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def is_allowed(path: str | os.PathLike) -> bool:
    """Whether ``path`` (after resolving ``~``, ``..`` and links) lies inside an allowed root (a root itself counts)."""
    resolved = Path(os.fspath(path)).expanduser().resolve()
    return any(resolved.is_relative_to(root) for root in allowed_roots())


def _where_text() -> str:
    roots = ", ".join(f"`{r}`" for r in allowed_roots())
    return (f"folders on this server must be inside {roots} (an instructor can allow more folders with the "
            f"environment variable {ENV_VAR})")


def check_server_folder(path: str | os.PathLike) -> Path:
    """The resolved folder a page may open for ``path``, or a :class:`FolderNotAllowed` / :class:`DataError`.

    ``path`` is what the user typed: a server path (absolute, relative, with ``~``) or the name of a data set
    imported from a zip (then it means ``data_dir()/folders/<name>``, as in ``core.data.folders``). Nothing
    under the folder is listed: only the path's own components are looked up to resolve links.
    The message never repeats the typed text (it is the user's, and error messages render as Markdown).
    """
    text = os.fspath(path).strip() if path is not None else ""
    if not text or "\x00" in text:
        raise DataError("choose a folder: give a server path or the name of an imported data set")
    candidate = Path(text).expanduser()
    if NAME_RE.fullmatch(text):
        imported = paths.data_dir() / "folders" / text
        if imported.is_dir():
            candidate = imported
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name too long: not a folder anyone may open
        raise FolderNotAllowed(f"this folder cannot be opened; {_where_text()}") from None
    if not any(resolved.is_relative_to(root) for root in allowed_roots()):
        raise FolderNotAllowed(f"this folder is outside the allowed data folders: {_where_text()}")
    if not resolved.is_dir():
        raise DataError("folder not found: check the spelling (it must be a folder of class sub-folders); "
                        + _where_text())
    return resolved


def check_config(config):
    """A training config whose "folder" data set path has passed :func:`check_server_folder` (the Train page's
    gate). Other data sets pass unchanged; an imported data set's name stays a name, a typed path is replaced
    by its resolved form, so the run opens exactly the folder that was checked (a link changed afterwards does
    not redirect it)."""
    if getattr(config, "dataset", None) != "folder":
        return config
    options = dict(getattr(config, "dataset_options", None) or {})
    typed = options.get("path")
    resolved = check_server_folder(typed)
    if isinstance(typed, str) and NAME_RE.fullmatch(typed.strip()) and \
            resolved == (paths.data_dir() / "folders" / typed.strip()).resolve():
        return config
    options["path"] = str(resolved)
    return dataclasses.replace(config, dataset_options=options)
