"""Budgets of a shared server (issue 13): queue caps, disk budget, memory estimate, pixel budget of zip imports,
byte-bounded upload cache, cancel during data preparation, out-of-memory messages, and the launch / staging races."""
from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core import budget
from core.runs import launcher, store, worker
from core.train import TrainConfig

QUICK = dict(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, optimizer="adamw", lr=3e-3,
             log_every=2, epochs=1, max_steps=4)


@pytest.fixture
def home(tmp_path, monkeypatch):
    for var in ("CNNPG_MAX_QUEUED", "CNNPG_MAX_QUEUED_PER_OWNER", "CNNPG_DISK_BUDGET_GB", "CNNPG_MEMORY_FRACTION",
                "CNNPG_UPLOAD_CACHE_MB", "CNNPG_ZIP_MAX_MEGAPIXELS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_RUNS_DIR", str(tmp_path / "home" / "runs"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "home" / "data"))
    return tmp_path / "home"


@pytest.fixture
def fake_spawn(monkeypatch):
    """No worker process: the run stays 'queued' (no pid yet, so alive for the launcher's grace period)."""
    spawned = []
    monkeypatch.setattr(launcher, "spawn", lambda run_dir: spawned.append(Path(run_dir)))
    return spawned


def _set_owner(run_dir: Path, owner: str) -> None:
    store.write_status(run_dir, owner=owner)  # what the run store records (helper A); read defensively


# ------------------------------------------------------------------------------------------ 1. queue caps
def test_per_owner_and_global_queue_caps(home, fake_spawn, monkeypatch):
    monkeypatch.setenv("CNNPG_MAX_QUEUED_PER_OWNER", "2")
    monkeypatch.setenv("CNNPG_MAX_QUEUED", "3")
    runs = home / "runs"
    for _ in range(2):
        _set_owner(launcher.start(TrainConfig(**QUICK), runs, owner="ann"), "ann")
    with pytest.raises(budget.QueueFull, match="you already have 2 runs"):
        launcher.start(TrainConfig(**QUICK), runs, owner="ann")
    _set_owner(launcher.start(TrainConfig(**QUICK), runs, owner="bob"), "bob")  # another student still can
    with pytest.raises(budget.QueueFull, match="server already has 3 runs"):
        launcher.start(TrainConfig(**QUICK), runs, owner="cid")
    assert len(fake_spawn) == 3 and len(list(runs.glob("2*"))) == 3  # refused starts left no folder
    # a finished run frees its place
    store.write_status(fake_spawn[0], state="completed")
    launcher.start(TrainConfig(**QUICK), runs, owner="cid")


def test_queue_cap_holds_under_concurrent_starts(home, fake_spawn, monkeypatch):
    monkeypatch.setenv("CNNPG_MAX_QUEUED", "1")
    barrier = threading.Barrier(4)
    outcomes = []

    def one():
        barrier.wait()
        try:
            launcher.start(TrainConfig(**QUICK), home / "runs")
            outcomes.append("ok")
        except budget.QueueFull:
            outcomes.append("full")

    threads = [threading.Thread(target=one) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sorted(outcomes) == ["full", "full", "full", "ok"]


def test_owner_read_from_config_when_status_has_none(home):
    run = store.create_run(TrainConfig(**QUICK), home / "runs")
    cfg = store.read_json(run / store.CONFIG_FILE)
    store.atomic_write_json(run / store.CONFIG_FILE, dict(cfg, owner="zoe"))
    assert budget.active_runs(home / "runs") == [(run, "zoe")]


# ------------------------------------------------------------------------------------------ 2. disk budget
def _write(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(n))


def test_disk_usage_by_kind_counts_hard_links_once(home):
    mb = 2**20
    _write(home / "runs" / "r1" / "checkpoints" / "w.safetensors", 3 * mb)
    os.link(home / "runs" / "r1" / "checkpoints" / "w.safetensors", home / "runs" / "r1" / "last.safetensors")
    _write(home / "data" / "folders" / "pets" / "cat" / "1.png", 2 * mb)
    _write(home / "data" / "cache" / "shapes-x.npz", 1 * mb)
    _write(home / "data" / "cifar10" / "a.tar.gz", 4 * mb)
    u = budget.disk_usage(with_items=True)
    # allocated sizes: at least the bytes written, at most a few file-system blocks more
    for kind, size in {"runs": 3 * mb, "imports": 2 * mb, "caches": mb, "downloads": 4 * mb}.items():
        assert size <= u.parts[kind] < size + 64 * 1024, (kind, u.parts)
    assert u.items["imports"][0][0] == "pets"
    assert u.total_bytes == sum(u.parts.values()) and u.budget_bytes == 10 * 2**30


def test_disk_budget_refuses_new_run_and_zip_import(home, fake_spawn, monkeypatch):
    _write(home / "runs" / "old" / "big.bin", 2 * 2**20)
    monkeypatch.setenv("CNNPG_DISK_BUDGET_GB", str(1 / 1024))  # 1 MiB
    with pytest.raises(budget.DiskBudgetExceeded, match=r"holds 2 MiB of its 1 MiB budget.*delete old runs"):
        launcher.start(TrainConfig(**QUICK), home / "runs")
    assert fake_spawn == []
    from core.data.zipimport import import_zip

    with pytest.raises(budget.DiskBudgetExceeded):
        import_zip(_zip_of_images([(8, 8)]), "pets")
    assert not (home / "data" / "folders" / "pets").exists()
    monkeypatch.setenv("CNNPG_DISK_BUDGET_GB", "0")  # 0 = no budget
    launcher.start(TrainConfig(**QUICK), home / "runs")


def test_disk_full_refuses_before_writing(home, fake_spawn, monkeypatch):
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(budget.disk.shutil, "disk_usage", lambda p: real(p)._replace(free=10 * 2**20))
    with pytest.raises(budget.StorageError, match="disk full"):
        launcher.start(TrainConfig(**QUICK), home / "runs")


# ------------------------------------------------------------------------------------------ 3. memory estimate
def test_memory_estimate_matches_what_shapes_holds(home):
    from core.data.shapes import ShapesDataset

    n, size = 120, 24
    held = sum(a.nbytes for split in ("train", "test")
               for a in ShapesDataset(split, n=n, image_size=size, use_cache=False)._render_all().values())
    est = budget.estimate_run_memory(TrainConfig(dataset_options={"n": n}, image_size=size, device="cuda"))
    assert est.model_bytes == budget.PROCESS_BYTES  # on a GPU the activations are not in this machine's memory
    assert est.data_bytes == held, (est.data_bytes, held)
    assert est.draw_bytes == n * size * size  # the training split's masks, one byte a pixel while drawn


def test_validate_refuses_a_million_shapes_with_the_numbers(home, monkeypatch):
    monkeypatch.setattr(budget.memory, "available_memory", lambda: 8 * 2**30)  # memory_limit reads it there
    cfg = TrainConfig.from_preset("shapes-lenet5", dataset_options={"n": 1_000_000}, device="cpu")
    with pytest.raises(budget.NotEnoughMemory) as err:
        cfg.validate()
    msg = str(err.value)
    # 1,166,666 images × (3·64² pixels + 64²/8 packed mask + 43) B = 13.95 GiB held, + 3.81 GiB of masks while the
    # training split is drawn, + 0.5 GiB process + 64 × 3·64² × 4 × 64 B = 0.19 GiB of activations = 18.45 GiB
    held = 1_166_666 * (3 * 64 * 64 + 64 * 64 // 8 + 43) + 1_000_000 * 64 * 64
    expected = (held + 2**29 + 64 * 3 * 64 * 64 * 4 * 64) / 2**30
    assert f"about {expected:.1f} GiB" in msg and "about 18.5 GiB" in msg, msg
    assert "1,166,666 Shapes images at 64 px" in msg and "may use 6.0 GiB" in msg, msg
    from core.errors import InputError

    assert isinstance(err.value, InputError)  # pages and the CLI already show InputErrors as messages
    TrainConfig.from_preset("shapes-lenet5").validate()  # the default preset fits easily
    cfg.validate(check_memory=False)


# ------------------------------------------------------------------------------------------ 4. pixel budget + cache
def _zip_of_images(sizes, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (w, h) in enumerate(sizes):
            img = io.BytesIO()
            Image.new("RGB", (w, h), (i * 40 % 255, 90, 200)).save(img, fmt)
            zf.writestr(f"{'ab'[i % 2]}/{i}.png", img.getvalue())
    return buf.getvalue()


def test_zip_total_pixel_budget_refuses_before_decoding(home, monkeypatch):
    from core.data import DataError
    from core.data import zipimport

    data = _zip_of_images([(1000, 1000)] * 3 + [(10, 10)])  # 3 MP, tiny on disk (one colour)
    decoded = []
    real = zipimport.load_image
    monkeypatch.setattr(zipimport, "load_image", lambda *a, **k: decoded.append(1) or real(*a, **k))
    monkeypatch.setenv("CNNPG_ZIP_MAX_MEGAPIXELS", "2.5")
    with pytest.raises(DataError, match="more than 2.5 megapixels together"):  # 3 MP > 2.5
        zipimport.import_zip(data, "big")
    assert decoded == [] and not (home / "data" / "folders" / "big").exists()
    monkeypatch.setenv("CNNPG_ZIP_MAX_MEGAPIXELS", "4")
    report = zipimport.import_zip(data, "big")
    assert report.ok and sum(report.counts.values()) == 4 and len(decoded) == 4


def test_byte_lru_is_bounded_by_bytes():
    cache = budget.ByteLRU(1000, len)
    for i in range(10):
        cache.put(i, b"x" * 300)
    assert cache.bytes == 900 and len(cache) == 3 and cache.get(9) is not None and cache.get(0) is None
    cache.get(7)
    cache.put(10, b"y" * 300)  # evicts the least recently used (8), not the one just read
    assert cache.get(7) is not None and cache.get(8) is None
    cache.put("huge", b"z" * 2000)  # larger than the bound: not kept
    assert cache.get("huge") is None and cache.bytes <= 1000


def test_decoded_upload_cache_of_the_pages_is_bounded(monkeypatch):
    from views import _widgets

    monkeypatch.setenv("CNNPG_UPLOAD_CACHE_MB", "2")  # 2 MiB of decoded pixels
    budget.upload_cache().clear()
    w, h = 600, 400  # 0.72 MB decoded each
    for i in range(6):
        buf = io.BytesIO()
        Image.new("RGB", (w, h), (i, 0, 0)).save(buf, "PNG")
        img = _widgets._decode_upload(buf.getvalue(), f"u{i}.png")
        assert img.size == (w, h)
        img.paste((255, 255, 255), (0, 0, w, h))  # the caller's copy: the cached one must not change
    cache = budget.upload_cache()
    assert 0 < cache.bytes <= 2 * 2**20 and len(cache) == 2 == (2 * 2**20) // (w * h * 3)
    again = _widgets._decode_upload(buf.getvalue(), "u5.png")
    assert again.getpixel((0, 0)) == (5, 0, 0)
    budget.upload_cache().clear()


# ------------------------------------------------------------------------------------------ 7. out of memory
@pytest.mark.parametrize("target,stage", [("make_data", "loading the data set"), ("make_model", "building the model")])
def test_out_of_memory_names_the_stage(home, monkeypatch, target, stage):
    import core.train.loop as loop

    def boom(*a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory") if target == "make_data" else MemoryError()

    monkeypatch.setattr(loop, target, boom)
    run = store.create_run(TrainConfig(**QUICK), home / "runs")
    with pytest.raises(budget.OutOfMemory):
        worker.execute(run)
    st = store.effective_status(run)
    assert st["state"] == "failed" and st["message"].startswith(f"out of memory while {stage}"), st
    assert "internal error" not in st["message"]


def test_out_of_memory_elsewhere_in_the_worker_is_named_too(home, monkeypatch):
    import core.train.loop as loop

    def boom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(loop, "train", boom)  # e.g. while loading a checkpoint to resume
    run = store.create_run(TrainConfig(**QUICK), home / "runs")
    with pytest.raises(MemoryError):
        worker.execute(run)
    st = store.effective_status(run)
    assert st["state"] == "failed" and st["message"].startswith("out of memory"), st


# ------------------------------------------------------------------------------------------ 8. cancel in data prep
def test_cancel_during_data_preparation_ends_the_run_cancelled(home, monkeypatch):
    import core.train.loop as loop

    calls = []

    def slow_prep(cfg, dist, progress=None, select_train=None):
        for i in range(2000):  # 2000 × 10 ms = 20 s if never cancelled
            calls.append(i)
            progress(i + 1, 2000)
            time.sleep(0.01)
        raise AssertionError("data preparation was not interrupted")

    monkeypatch.setattr(loop, "make_data", slow_prep)
    run = store.create_run(TrainConfig(**QUICK), home / "runs")
    # the Cancel button's cancel file (launcher.cancel would also SIGTERM the recorded pid: this test process)
    threading.Timer(0.3, store.atomic_write_bytes, args=(run / store.CANCEL_FILE, b"cancel\n")).start()
    assert worker.execute(run) is None
    st = store.effective_status(run)
    assert st["state"] == "cancelled" and "while preparing the shapes data set" in st["message"], st
    assert 0 < len(calls) < 2000
    assert not (run / store.CANCEL_FILE).exists()  # a handled cancel does not cancel the next resume


@pytest.mark.slow
def test_cancel_of_a_real_worker_drawing_a_big_shapes_set(home):
    """A real worker process drawing 300,000 Shapes images (minutes): Cancel ends it within the poll interval."""
    cfg = TrainConfig(**dict(QUICK, dataset_options={"n": 300_000}))
    run = launcher.start(cfg, home / "runs")
    try:
        deadline = time.time() + 180
        while "preparing" not in str(store.read_status(run).get("message")) and time.time() < deadline:
            time.sleep(0.2)
        assert "preparing" in str(store.read_status(run).get("message")), store.read_status(run)
        launcher.cancel(run)
        st = launcher.wait(run, timeout=60)
        assert st["state"] == "cancelled" and "preparing" in st["message"], st
        assert not list((home / "data" / "cache").glob("shapes-*.npz"))  # nothing half-drawn was cached
    finally:
        st = store.read_status(run)
        if st.get("pid") and store.pid_alive(st["pid"], st.get("pid_start")):
            os.kill(st["pid"], 9)


# ------------------------------------------------------------------------------------------ 9. races
def test_delete_and_resume_of_one_run_do_not_interleave(home, monkeypatch, fake_spawn):
    """A delete that has checked "not active" must finish before a resume of the same run may start a worker."""
    run = store.create_run(TrainConfig(**QUICK), home / "runs")
    store.write_status(run, state="cancelled", pid=None)
    in_window, resumed = threading.Event(), threading.Event()
    real_is_active = store.is_active

    def slow_is_active(run_dir):
        value = real_is_active(run_dir)
        in_window.set()  # delete_run has decided "not active"; now a resume comes in
        resumed.wait(1.5)
        return value

    monkeypatch.setattr(store, "is_active", slow_is_active)
    errors = []

    def do_resume():
        in_window.wait(10)
        try:
            launcher.resume(run)
        except store.RunError as err:
            errors.append(str(err))
        finally:
            resumed.set()

    t = threading.Thread(target=do_resume)
    t.start()
    launcher.delete(run)
    t.join(30)
    # either the resume came first (the run is active and still there) or it found the run deleted: never a
    # worker started for a folder that is then removed under it
    assert not run.exists()
    assert fake_spawn == [] and errors and "deleted" in errors[0], (fake_spawn, errors)


def test_concurrent_zip_imports_share_the_staging_folder_safely(home, monkeypatch):
    """Import A finishing (and removing the empty staging root) while import B creates its staging folder."""
    from core.data import zipimport

    real_mkdtemp = zipimport.tempfile.mkdtemp
    a_done = threading.Event()

    def mkdtemp(prefix="", dir=None):
        if prefix.startswith("b-"):
            a_done.wait(1.5)  # without the lock A's cleanup removes the root right here
        return real_mkdtemp(prefix=prefix, dir=dir)

    monkeypatch.setattr(zipimport.tempfile, "mkdtemp", mkdtemp)
    data = _zip_of_images([(16, 16)] * 4)
    results = {}

    def run(name, after=None):
        try:
            results[name] = zipimport.import_zip(data, name).ok
        except Exception as err:  # noqa: BLE001 - the test reports it
            results[name] = repr(err)
        finally:
            if after is not None:
                after.set()

    tb = threading.Thread(target=run, args=("b",))
    tb.start()
    time.sleep(0.2)  # B is inside its staging step
    run("a", a_done)
    tb.join(30)
    assert results == {"a": True, "b": True}, results
    assert sorted(p.name for p in (home / "data" / "folders").iterdir()) == ["a", "b"]


def test_resume_takes_a_queue_place_too(home, fake_spawn, monkeypatch):
    monkeypatch.setenv("CNNPG_MAX_QUEUED_PER_OWNER", "1")
    runs = home / "runs"
    old = store.create_run(TrainConfig(**QUICK), runs)
    store.write_status(old, state="cancelled", owner="ann")
    _set_owner(launcher.start(TrainConfig(**QUICK), runs, owner="ann"), "ann")
    with pytest.raises(budget.QueueFull, match="you already have 1 run"):
        launcher.resume(old)
    assert store.read_status(old)["state"] == "cancelled" and len(fake_spawn) == 1
    store.write_status(fake_spawn[0], state="completed")
    launcher.resume(old)
    assert store.read_status(old)["state"] == "queued" and fake_spawn[-1] == old


def test_owner_from_the_stores_owned_by_block_counts_too(home, fake_spawn, monkeypatch):
    monkeypatch.setenv("CNNPG_MAX_QUEUED_PER_OWNER", "1")
    with store.owned_by("ann"):
        run = launcher.start(TrainConfig(**QUICK), home / "runs")
        assert store.read_status(run).get("owner") == "ann"
        with pytest.raises(budget.QueueFull):
            launcher.start(TrainConfig(**QUICK), home / "runs")
    launcher.start(TrainConfig(**QUICK), home / "runs", owner="bob")


def test_cancel_during_a_download_stops_it_and_keeps_no_partial_file(home, monkeypatch):
    """A real download path (a fake slow server): the worker's progress hook raises at the next chunk."""
    import io
    import urllib.request

    from core.data import builtin
    from core.train.data import PreparationCancelled

    class Slow(io.BytesIO):
        headers = {"Content-Length": str(64 << 20)}
        reads = 0

        def read(self, n=-1):
            Slow.reads += 1
            return b"x" * (1 << 20)  # 1 MiB a read, 64 reads to go

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Slow())
    stop_after = 3

    def progress(done, total):  # what core.train.loop's data_progress does once Cancel was pressed
        if done >= stop_after << 20:
            raise PreparationCancelled("cancelled while preparing the cifar10 data set")

    with pytest.raises(PreparationCancelled):
        builtin.download_dataset("cifar10", progress=progress)
    assert Slow.reads == stop_after
    assert [p for p in (home / "data").rglob("*") if p.is_file()] == []


def test_memory_guard_names_out_of_memory_and_leaves_other_errors_alone():
    """On the CPU torch's allocator failure is a RuntimeError: the guard makes it a clear typed error; a
    RuntimeError that is not about memory stays a bug (pages catch only PAGE_ERRORS)."""
    from core.errors import PAGE_ERRORS, OutOfMemory

    with pytest.raises(OutOfMemory, match="out of memory while drawing the maps"):
        with budget.memory_guard("drawing the maps"):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:114] DefaultCPUAllocator: can't allocate memory")
    with pytest.raises(OutOfMemory):
        with budget.memory_guard("x"):
            raise MemoryError()
    with pytest.raises(RuntimeError, match="shape mismatch") as info:
        with budget.memory_guard("x"):
            raise RuntimeError("shape mismatch")
    assert not isinstance(info.value, PAGE_ERRORS)
