"""Is the worker that a status file names still running? Pids are reused, so a pid alone does not say.

A status records the worker's ``pid`` and its kernel start time ``pid_start`` (``/proc/<pid>/stat`` field 22,
clock ticks since boot). The pid is alive and ours only if both match and the process is not a zombie. A run
started on another host (a shared runs folder) cannot be checked that way; its ``heartbeat`` must be recent.

Gotcha: field 2 of ``/proc/<pid>/stat`` is the command name in parentheses, and it may contain spaces and ``)``:
split after the *last* ``)``.
"""
from __future__ import annotations

import os
import socket
import time

_NO_PID_GRACE_S = 60.0  # a status with no pid yet (queued, the worker is starting) counts as alive this long
_HEARTBEAT_STALE_S = 120.0  # a run on another host counts as alive while its heartbeat is younger than this


def process_start_time(pid: int) -> int | None:
    """Kernel start time of ``pid`` (clock ticks since boot), to tell a reused pid from ours. None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
        return int(raw[raw.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int | None, start_time: int | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when known, started at ``start_time``."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
        fields = raw[raw.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):  # exited, waiting to be reaped by its parent
            return False
        if start_time is not None and int(fields[19]) != int(start_time):
            return False  # the pid was reused by another process
    except (OSError, ValueError, IndexError):
        pass  # no /proc (macOS): trust os.kill
    return True


def worker_alive(st: dict) -> bool:
    """Whether the worker a status dict names is still there (see the module's docstring)."""
    pid = st.get("pid")
    if not pid:
        created = st.get("created") or st.get("updated") or 0
        return time.time() - float(created) < _NO_PID_GRACE_S
    if st.get("host") not in (None, socket.gethostname()):
        return time.time() - float(st.get("heartbeat") or 0) < _HEARTBEAT_STALE_S
    return pid_alive(pid, st.get("pid_start"))
