"""Storage that cannot be written: one typed error (:class:`~core.errors.StorageError`) and one message for a full,
read-only or forbidden disk, wherever the app writes (run folders, staging, caches, downloads).

An ``OSError`` with ``errno`` ENOSPC / EDQUOT (full), EROFS (read-only) or EACCES / EPERM (not permitted) becomes
"cannot write to <folder>: <cause>", naming the folder the user can act on rather than the temporary file that
failed. :func:`writing` does it for a block.

Gotcha: any other ``OSError`` (a missing file, a broken network share) passes through unchanged: it is a different
problem, and calling it "disk full" would send the user to delete runs for nothing.
"""
from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from core.errors import StorageError

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}


def is_storage_error(err: BaseException) -> bool:
    """True for an OSError that says the storage cannot be written (full, read-only, not permitted)."""
    return isinstance(err, OSError) and err.errno in (_FULL | _READ_ONLY | _DENIED)


def storage_message(err: OSError, folder: str | os.PathLike | None = None) -> str:
    """One line naming the folder and the cause: "cannot write to /srv/var/runs: read-only file system"."""
    where = str(folder if folder is not None else (err.filename or "the app's folder"))
    if err.errno in _FULL:
        why = f"disk full ({err.strerror or 'no space left on the device'}); delete old runs or imported data sets"
    elif err.errno in _READ_ONLY:
        why = "read-only file system"
    elif err.errno in _DENIED:
        why = "permission denied (the app's user may not write there)"
    else:
        why = err.strerror or str(err)
    return f"cannot write to {where}: {why}"


def storage_error(err: OSError, folder: str | os.PathLike | None = None) -> StorageError:
    """The :class:`StorageError` for ``err`` (raise it ``from None``: the message already says everything)."""
    return StorageError(storage_message(err, folder))


@contextlib.contextmanager
def writing(folder: str | os.PathLike | None = None):
    """Turn a read-only / full / denied OSError inside the block into a :class:`StorageError` naming ``folder``
    (None: the path the failing call names)."""
    try:
        yield
    except OSError as err:
        if is_storage_error(err):
            raise storage_error(err, folder) from None
        raise

