"""Unwritable or full storage (issue 13, item 5): a read-only or full ``var/`` gives a message naming the folder and
the cause ("cannot write to <dir>: read-only file system" / "disk full") from core, on the pages, and in a
worker's status — never a bare PermissionError, "internal error" or "interrupted".

Running as root makes chmod ineffective, so the failures are injected by making the OS calls raise
``OSError(errno.EROFS / ENOSPC)``; one chmod test runs where it can.
"""
from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core import budget
from core.runfiles import checkpoints
from core.runs import launcher, store, worker
from core.train import TrainConfig

QUICK = dict(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, optimizer="adamw", lr=3e-3,
             log_every=2, epochs=1, max_steps=4)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNPG_DISK_BUDGET_GB", raising=False)
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(tmp_path / "home" / "runs"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "home" / "data"))
    return tmp_path / "home"


def refuse_under(monkeypatch, module, name: str, folder: Path, code: int) -> None:
    """Make ``module.name`` (an os-level call taking a path first) fail with ``code`` for paths under ``folder``."""
    real = getattr(module, name)

    def fake(path, *args, **kwargs):
        if str(path).startswith(str(folder)):
            raise OSError(code, os.strerror(code), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, name, fake)


def test_messages_name_the_folder_and_the_cause():
    ro = budget.storage_message(OSError(errno.EROFS, "Read-only file system", "/srv/var/runs/x"), "/srv/var/runs")
    assert ro == "cannot write to /srv/var/runs: read-only file system"
    full = budget.storage_message(OSError(errno.ENOSPC, "No space left on device", "/srv/var/runs/x/a.tmp"))
    assert full.startswith("cannot write to /srv/var/runs/x/a.tmp: disk full")
    denied = budget.storage_message(PermissionError(errno.EACCES, "Permission denied"), "/srv/var")
    assert "cannot write to /srv/var: permission denied" in denied


def test_start_on_a_read_only_runs_folder_says_so(home, monkeypatch):
    runs = home / "runs"
    runs.mkdir(parents=True)
    refuse_under(monkeypatch, os, "mkdir", runs, errno.EROFS)
    with pytest.raises(budget.StorageError, match=r"cannot write to .*runs.*: read-only file system"):
        launcher.start(TrainConfig(**QUICK), runs)
    assert list(runs.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_start_on_a_chmod_0500_runs_folder_says_so(home):
    runs = home / "runs"
    runs.mkdir(parents=True)
    runs.chmod(0o500)
    try:
        with pytest.raises(budget.StorageError, match="cannot write to .*permission denied"):
            launcher.start(TrainConfig(**QUICK), runs)
    finally:
        runs.chmod(0o700)


def test_zip_import_on_a_full_disk_says_disk_full_and_leaves_nothing(home, monkeypatch):
    from core.data import zipimport

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(4):
            img = io.BytesIO()
            Image.new("RGB", (8, 8), (i * 60, 0, 0)).save(img, "PNG")
            zf.writestr(f"{'ab'[i % 2]}/{i}.png", img.getvalue())
    real_open = open

    def full_open(path, mode="r", *a, **k):
        if "x" in mode or "w" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(zipimport, "open", full_open, raising=False)  # _extract's writes
    with pytest.raises(budget.StorageError, match=r"cannot write to .*staging.*: disk full"):
        zipimport.import_zip(buf.getvalue(), "pets")
    data = home / "data"
    assert not (data / "folders" / "pets").exists() and not (data / "staging").exists()


def test_cache_write_on_read_only_storage_is_a_storage_error(home, monkeypatch):
    import numpy as np

    from core.data import cache

    folder = home / "data" / "cache"
    refuse_under(monkeypatch, os, "mkdir", home / "data", errno.EROFS)
    with pytest.raises(budget.StorageError, match=r"cannot write to .*data.*: read-only file system"):
        cache.save(folder / "x.npz", {"a": np.zeros(3)})
    # the Data sets page opens Shapes through cache_dir: the same typed error, not a bare OSError
    from core.data import open_dataset

    with pytest.raises(budget.StorageError, match="read-only file system"):
        open_dataset("shapes", "train", image_size=16, n=12)


def test_worker_status_says_disk_full_not_interrupted(home, monkeypatch):
    run = store.create_run(TrainConfig(**QUICK), home / "runs")

    def full(run_dir, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(run_dir) / "checkpoints" / ".w.tmp"))

    monkeypatch.setattr(checkpoints, "save_checkpoint", full)  # the writer the worker uses (RunFolder)
    with pytest.raises(OSError):
        worker.execute(run)
    st = store.effective_status(run)
    assert st["state"] == "failed", st
    assert st["message"].startswith(f"cannot write to {run / 'checkpoints'}: disk full"), st["message"]


def test_worker_status_is_written_in_place_when_no_new_file_fits(home, monkeypatch):
    """Disk full: status.json cannot be replaced by a new copy; the final state is still recorded."""
    run = store.create_run(TrainConfig(**QUICK), home / "runs")
    store.write_status(run, state="running", pid=os.getpid())

    def no_room(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "end_session", no_room)
    worker._record_end(run, state="failed", message="cannot write to X: disk full")
    st = store.read_status(run)
    assert st["state"] == "failed" and st["message"] == "cannot write to X: disk full" and st["ended"]
    assert store.effective_status(run)["state"] == "failed"  # not "interrupted"


def test_page_helper_turns_a_raw_storage_oserror_into_the_message(monkeypatch):
    from views import _widgets

    shown = []
    monkeypatch.setattr(_widgets.st, "error", lambda text, icon=None: shown.append(text))
    _widgets.show_error(PermissionError(errno.EROFS, "Read-only file system", "/srv/var/runs"))
    _widgets.show_error(MemoryError())
    assert shown[0] == "cannot write to /srv/var/runs: read-only file system"
    assert shown[1].startswith("out of memory")


class _Stream(io.BytesIO):
    headers = {"Content-Length": str(4 << 20)}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_on_a_full_disk_says_disk_full_not_no_network(home, monkeypatch):
    import urllib.request

    from core.data import builtin

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: _Stream(b"x" * (4 << 20)))
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(builtin.os, "fdopen", lambda fd, mode="r": Full(real_fdopen(fd, mode)))
    with pytest.raises(budget.StorageError, match=r"cannot write to .*cifar10.*: disk full"):
        builtin.download_dataset("cifar10")
    assert [p for p in (home / "data").rglob("*") if p.is_file()] == []  # no .part file left
