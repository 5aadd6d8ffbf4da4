"""Budgets that keep one server usable by a whole class: queue caps, a disk budget for ``var/``, a memory check
for a run, typed messages for unwritable / full storage, and a byte-bounded cache for decoded uploads.

Settings (environment variables of the server; a whole or decimal number, else the default):

- ``CNNPG_MAX_QUEUED`` (default 6): queued + running runs on the whole server. Each queued worker already holds
  an interpreter with torch imported (about 0.5 GB) while it waits for the device.
- ``CNNPG_MAX_QUEUED_PER_OWNER`` (default 2): queued + running runs of one browser identity (the run's
  ``owner``); runs without an owner (the CLI, runs from before owners existed) count only towards the global cap.
- ``CNNPG_DISK_BUDGET_GB`` (default 10): what ``var/`` (runs, imported data sets, caches, downloads, staging) may
  hold before a new run or zip import is refused. ``0`` switches the check off.
- ``CNNPG_MEMORY_FRACTION`` (default 0.75): share of the memory available now that one run may plan to use
  (the rest is for the pages of the other students and the server itself).
- ``CNNPG_UPLOAD_CACHE_MB`` (default 256): decoded uploads kept in memory for reruns, all sessions together.
- ``CNNPG_DATASET_CACHE_MB`` (default 1024): decoded folder data sets the Data sets page keeps open.

Heavy work inside a page request is *bounded*, not moved off the request (measured on the shared 2-core machine):

- zip import validation (:mod:`core.data.zipimport`): at most 20,000 entries and 2 GiB unpacked, and at most
  ``CNNPG_ZIP_MAX_MEGAPIXELS`` (500) of images decoded, checked from the headers before any pixel is decoded:
  36 MP/s for JPEG photos, 12 MP/s for noisy PNGs, so at most ~14 s (JPEG) to ~40 s (PNG) of one core;
- "Estimate duration" (:mod:`core.train.estimate`): 2 warm-up + 3 to 30 timed steps (≥ 1.5 s), ≥ 0.5 s of
  evaluation, 24 Shapes images drawn, one checkpoint, and a start-up probe once per server process: 8.2 s for
  the default preset (18.9 s the first time), whatever the data set's size. Its one unbounded part is the
  size of a folder data set: opening the folder decodes every image the first time (19.4 s for 1,000 photos;
  then cached on disk), where :func:`core.data.folders.count_images` counts the files in 0.05 s.

Gotcha: every figure here is an estimate made *before* the work starts; it exists to refuse what clearly cannot
fit with a message that says the numbers, not to predict the exact peak.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from core.errors import (  # noqa: F401 - the budget errors, importable from here as before
    BudgetError, DiskBudgetExceeded, NotEnoughMemory, OutOfMemory, QueueFull, StorageError,
)
from core.paths import ROOT

GiB = 2**30
MiB = 2**20

DEFAULTS = {
    "CNNPG_MAX_QUEUED": 6,
    "CNNPG_MAX_QUEUED_PER_OWNER": 2,
    "CNNPG_DISK_BUDGET_GB": 10.0,
    "CNNPG_MEMORY_FRACTION": 0.75,
    "CNNPG_UPLOAD_CACHE_MB": 256.0,
    "CNNPG_DATASET_CACHE_MB": 1024.0,
}


def setting(name: str) -> float:
    """The numeric setting ``name`` from the environment (see the module docstring), else its default."""
    default = DEFAULTS[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


# ------------------------------------------------------------------------------------------ storage errors
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


def check_writable(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if needed and prove it can take a file (a tiny probe, removed). Raises StorageError."""
    folder = Path(folder)
    probe = folder / f".write-probe-{os.getpid()}-{threading.get_ident()}"
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    return folder


# ------------------------------------------------------------------------------------------ memory
OUT_OF_MEMORY = {
    "data": "out of memory while loading the data set: choose fewer images (n) or a smaller image size",
    "model": "out of memory while building the model: choose a smaller architecture or image size",
    "train": "out of memory while training: try a smaller batch size or image size",
}


def out_of_memory(stage: str) -> OutOfMemory:
    return OutOfMemory(OUT_OF_MEMORY.get(stage, OUT_OF_MEMORY["train"]))


@contextlib.contextmanager
def memory_guard(what: str, advice: str = "try a smaller image, batch or data set"):
    """Turn running out of memory inside the block into :class:`OutOfMemory` ("out of memory while <what>: …").

    Gotcha: on the CPU PyTorch's allocator failure is a plain ``RuntimeError`` ("DefaultCPUAllocator: can't
    allocate memory"), not ``MemoryError``; pages catch only ``core.errors.PAGE_ERRORS``, so heavy work is wrapped
    here and any other RuntimeError stays what it is: a bug, not the user's input.
    """
    try:
        yield
    except (MemoryError, RuntimeError) as err:
        if is_out_of_memory(err):
            raise OutOfMemory(f"out of memory while {what}: {advice}") from None
        raise


def is_out_of_memory(err: BaseException) -> bool:
    """MemoryError, torch.OutOfMemoryError, or a RuntimeError whose text says the allocator failed."""
    if isinstance(err, MemoryError):
        return True
    try:
        import torch  # here: this module stays light (a queued worker imports it); torch is loaded by then anyway

        if isinstance(err, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):  # pragma: no cover - torch is a dependency
        pass
    msg = str(err) if isinstance(err, RuntimeError) else ""
    return "out of memory" in msg or "can't allocate memory" in msg or "DefaultCPUAllocator" in msg


def available_memory() -> int | None:
    """Bytes of memory a new process can use now: MemAvailable, capped by the cgroup's limit. None if unknown."""
    avail = None
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    if avail is None:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    with contextlib.suppress(OSError, ValueError):  # cgroup v2: a container's own limit
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            room = max(0, int(limit) - used)
            avail = room if avail is None else min(avail, room)
    return avail


# Bytes per Shapes image besides its pixels: labels, bg_index, texture (int64), colors (3 B), radius, rotation,
# cx, cy (float32); its mask is kept bit-packed (S²/8 bytes) but drawn as one byte per pixel first.
_SHAPES_EXTRA_PER_IMAGE = 8 + 8 + 8 + 3 + 4 * 4
# Training activations kept for backward, per input byte (float32 input = 12 B per pixel): a rough factor that
# fits ResNet-18 at 224 px (~40 MB per image in training) within 2×; small networks need far less.
ACTIVATION_FACTOR = 64
# A worker process before any data: the interpreter with torch imported, the model and the optimizer state.
PROCESS_BYTES = 512 * MiB


@dataclass
class MemoryEstimate:
    data_bytes: int  # the splits the run holds in memory (decoded pixels, packed masks, labels)
    draw_bytes: int  # extra while drawing the largest split (its masks unpacked), freed afterwards
    model_bytes: int  # the process itself + activations of one training batch (CPU runs only: else on the GPU)
    detail: str  # how the figure was made, in words
    limit_bytes: int | None = None  # what this machine allows one run now (None: unknown)

    @property
    def total_bytes(self) -> int:
        return self.data_bytes + self.draw_bytes + self.model_bytes

    @property
    def fits(self) -> bool:
        return self.limit_bytes is None or self.total_bytes <= self.limit_bytes


def shapes_splits_held(options: dict, objective: str = "plain") -> list[int]:
    """Sizes of the Shapes splits a run holds: training (validation is carved out of it) and test; self-training
    also draws the unlabelled split."""
    from core.data import DATASETS  # here: the data sets import torch; this module stays light
    from core.data.shapes import split_size

    opts = {**DATASETS["shapes"].options, **(options or {})}
    n = int(opts["n"])
    held = [split_size("train", n), split_size("test", n, opts.get("n_eval"))]
    if objective == "self_train":
        held.append(split_size("unlabelled", n))
    return held


def estimate_run_memory(cfg) -> MemoryEstimate | None:
    """Memory ``cfg``'s run needs at its peak, or None when the data set's size is not known without opening it
    (folders: :func:`core.data.folders.decode_folder` refuses more than 4 GiB of pixels itself).

    Shapes keeps every image of a split decoded: ``3·S²`` pixel bytes + ``S²/8`` (packed mask) + 43 bytes of labels
    and drawing parameters each; while a split is drawn its masks take ``S²`` bytes each. Plus the worker process
    (:data:`PROCESS_BYTES`) and, on a CPU, one batch's activations: ``batch × 3·S² × 4 B ×``
    :data:`ACTIVATION_FACTOR`.
    """
    s = int(cfg.image_size)
    if cfg.dataset != "shapes":
        return None
    splits = shapes_splits_held(cfg.dataset_options, cfg.objective)
    n = sum(splits)
    data = n * (3 * s * s + -(-s * s // 8) + _SHAPES_EXTRA_PER_IMAGE)
    draw = max(splits) * s * s
    detail = f"{n:,} Shapes images at {s} px"
    model = PROCESS_BYTES
    if _runs_on_cpu(cfg.device):
        model += int(cfg.batch_size) * 3 * s * s * 4 * ACTIVATION_FACTOR
        detail += f" + the training process with a batch of {cfg.batch_size}"
    else:
        detail += " + the training process"
    return MemoryEstimate(data_bytes=data, draw_bytes=draw, model_bytes=model, detail=detail)


def _runs_on_cpu(device: str) -> bool:
    if device == "cpu":
        return True
    if device != "auto":
        return False
    try:
        import torch  # here: only when "auto" must be decided; this module stays light

        return not (torch.cuda.is_available() or torch.backends.mps.is_available())
    except Exception:  # noqa: BLE001 - no torch: assume the CPU
        return True


def memory_limit() -> int | None:
    avail = available_memory()
    return None if avail is None else int(avail * min(1.0, setting("CNNPG_MEMORY_FRACTION")))


def check_run_memory(cfg) -> MemoryEstimate | None:
    """Raise :class:`NotEnoughMemory` when ``cfg``'s run clearly cannot fit; returns the estimate otherwise."""
    est = estimate_run_memory(cfg)
    if est is None:
        return None
    est.limit_bytes = memory_limit()
    if not est.fits:
        frac = min(1.0, setting("CNNPG_MEMORY_FRACTION"))
        raise NotEnoughMemory(
            f"this run needs about {fmt_bytes(est.total_bytes)} of memory ({est.detail}); one run may use "
            f"{fmt_bytes(est.limit_bytes)} here ({frac:.0%} of the {fmt_bytes(est.limit_bytes / frac if frac else 0)} "
            "free now). Choose fewer images (n), a smaller image size or batch size")
    return est


def fmt_bytes(n: float) -> str:
    n = float(n)
    if n >= GiB:
        return f"{n / GiB:.1f} GiB"
    if n >= MiB:
        return f"{n / MiB:.0f} MiB"
    return f"{n / 1024:.0f} KiB"


# ------------------------------------------------------------------------------------------ queue caps
def run_owner(run_dir: Path, status: dict) -> str | None:
    """The run's ``owner`` (status.json, else config.json), or None for runs without one."""
    owner = status.get("owner")
    if owner is None:
        from core.runs import store  # here: core.runs.store imports TrainConfig, which imports this module

        cfg = store.read_json(run_dir / store.CONFIG_FILE, default={}) or {}
        owner = cfg.get("owner") if isinstance(cfg, dict) else None
    return str(owner) if owner else None


def active_runs(runs_dir: str | os.PathLike | None = None) -> list[tuple[Path, str | None]]:
    """(run folder, owner) of every queued or running run (a dead worker's run does not count)."""
    from core.runs import store  # here: see run_owner

    root = store.runs_root(runs_dir)
    out = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(root):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            p = Path(entry.path)
            if not (p / store.CONFIG_FILE).is_file():
                continue
            st = store.effective_status(p)
            if st.get("state") in store.ACTIVE_STATES:
                out.append((p, run_owner(p, st)))
    return out


def check_queue(owner: str | None = None, runs_dir: str | os.PathLike | None = None) -> None:
    """Raise :class:`QueueFull` when one more run would pass the global or this owner's cap."""
    total_cap = int(setting("CNNPG_MAX_QUEUED"))
    owner_cap = int(setting("CNNPG_MAX_QUEUED_PER_OWNER"))
    active = active_runs(runs_dir)
    if owner and owner_cap and sum(1 for _, o in active if o == str(owner)) >= owner_cap:
        raise QueueFull(f"you already have {owner_cap} run{'s' if owner_cap != 1 else ''} queued or running (the "
                        "limit per student): wait until one finishes, or cancel one on the Runs page")
    if total_cap and len(active) >= total_cap:
        raise QueueFull(f"the server already has {len(active)} runs queued or running (its limit is {total_cap}): "
                        "wait until one finishes, then start again")


# ------------------------------------------------------------------------------------------ disk budget
@dataclass
class DiskUsage:
    """Bytes ``var/`` holds, by kind. ``parts``: {kind: bytes}; ``items``: the largest entries of each kind."""

    parts: dict[str, int]
    budget_bytes: int | None
    free_bytes: int | None  # free space of the file system that holds var/
    items: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.parts.values())

    def table(self) -> list[dict[str, Any]]:
        return [{"what": KIND_TITLES[k], "size": fmt_bytes(v), "bytes": v} for k, v in self.parts.items()]


KIND_TITLES = {
    "runs": "Runs (checkpoints, logs)",
    "imports": "Imported data sets (zips)",
    "caches": "Caches (drawn Shapes, decoded folders)",
    "downloads": "Downloaded data sets",
    "staging": "Unfinished imports (staging)",
    "other": "Other",
}


def _tree_bytes(path: Path, seen: set) -> int:
    """Allocated bytes under ``path`` (hard links counted once: a run's last.safetensors is a link)."""
    total = 0
    stack = [path]
    while stack:
        p = stack.pop()
        try:
            it = os.scandir(p)
        except (NotADirectoryError, FileNotFoundError, PermissionError):
            continue
        with it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
                total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total


def disk_usage(*, with_items: bool = False) -> DiskUsage:
    """What uses the app's storage: runs, imported data sets, caches, downloads, staging (see KIND_TITLES)."""
    home, runs, data = app_folders()
    seen: set = set()
    parts = dict.fromkeys(KIND_TITLES, 0)
    items: dict[str, list[tuple[str, int]]] = {k: [] for k in KIND_TITLES}

    def add(kind: str, p: Path) -> None:
        if p.is_dir():
            size = _tree_bytes(p, seen)
        else:
            try:
                st = p.stat()
            except OSError:
                return
            if (st.st_dev, st.st_ino) in seen:
                return
            seen.add((st.st_dev, st.st_ino))
            size = getattr(st, "st_blocks", 0) * 512 or st.st_size
        parts[kind] += size
        if with_items:
            items[kind].append((p.name, size))

    handled = {runs.resolve(), data.resolve()}
    for p in _children(runs):
        add("runs", p)
    for p in _children(data):
        kind = {"folders": "imports", "cache": "caches", "staging": "staging"}.get(p.name, "downloads")
        if p.name in ("folders", "cache", "staging") and with_items:
            for q in _children(p):
                add(kind, q)
        else:
            add(kind, p)
    for p in _children(home):
        if p.resolve() not in handled and not any(h.is_relative_to(p.resolve()) for h in handled):
            add("other", p)
    for k in items:
        items[k].sort(key=lambda t: -t[1])
    budget = setting("CNNPG_DISK_BUDGET_GB")
    free = None
    for p in (home, *home.parents):  # the nearest folder that exists tells the file system
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(p).free
            break
    return DiskUsage(parts=parts, budget_bytes=int(budget * GiB) if budget else None, free_bytes=free, items=items)


def app_folders() -> tuple[Path, Path, Path]:
    """(home, runs, data) as :mod:`core.paths` resolves them, without creating them: measuring must work on a
    read-only disk too."""
    home = Path(os.environ.get("CNNPG_HOME", ROOT / "var")).resolve()
    runs = Path(os.environ.get("CNNPG_RUNS_DIR", home / "runs")).resolve()
    data = Path(os.environ.get("CNNPG_DATA_DIR", home / "data")).resolve()
    return home, runs, data


def _children(folder: Path) -> Iterable[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder)]
    except OSError:
        return []


# Minimum free space on the file system below which nothing new starts (a checkpoint must still fit).
MIN_FREE_BYTES = 256 * MiB


def check_disk(need_bytes: int = 0, what: str = "this") -> DiskUsage:
    """Raise :class:`DiskBudgetExceeded` when ``var/`` plus ``need_bytes`` passes the budget, or
    :class:`StorageError` when the disk itself is (nearly) full. Returns the usage it measured."""
    usage = disk_usage()
    if usage.budget_bytes is not None and usage.total_bytes + need_bytes > usage.budget_bytes:
        biggest = ", ".join(f"{KIND_TITLES[k].split(' (')[0].lower()} {fmt_bytes(v)}"
                            for k, v in sorted(usage.parts.items(), key=lambda kv: -kv[1]) if v)
        raise DiskBudgetExceeded(
            f"the app's storage holds {fmt_bytes(usage.total_bytes)} of its {fmt_bytes(usage.budget_bytes)} budget"
            + (f" ({biggest})" if biggest else "")
            + (f" and {what} needs about {fmt_bytes(need_bytes)} more" if need_bytes else "")
            + ": delete old runs (Runs page) or imported data sets (Data sets page) first")
    if usage.free_bytes is not None and usage.free_bytes < MIN_FREE_BYTES + need_bytes:
        raise StorageError(f"cannot write to {app_folders()[0]}: disk full ({fmt_bytes(usage.free_bytes)} free); "
                           "delete old runs or imported data sets")
    return usage


# ------------------------------------------------------------------------------------------ byte-bounded cache
class ByteLRU:
    """A thread-safe least-recently-used cache bounded by the total bytes of its values (not their count).

    ``size_of(value)`` gives a value's bytes. A value larger than the whole bound is returned but not kept.
    """

    def __init__(self, max_bytes: int | Callable[[], int], size_of: Callable[[Any], int]):
        self._max = max_bytes
        self._size_of = size_of
        self._data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def max_bytes(self) -> int:
        return int(self._max() if callable(self._max) else self._max)

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return default
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: Any, value: Any) -> None:
        size = int(self._size_of(value))
        limit = self.max_bytes
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > limit:
                return
            self._data[key] = (value, size)
            self._bytes += size
            while self._bytes > limit and self._data:
                _, (_, s) = self._data.popitem(last=False)
                self._bytes -= s

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


def _image_bytes(img) -> int:
    w, h = img.size
    return w * h * len(img.getbands())


_UPLOADS = ByteLRU(lambda: int(setting("CNNPG_UPLOAD_CACHE_MB") * MiB), _image_bytes)


def load_upload(data: bytes, name: str):
    """``core.images.load_image(data, name=name)``, remembered across reruns and sessions in a cache bounded by
    ``CNNPG_UPLOAD_CACHE_MB`` of decoded pixels (a 40 MP photo is 120 MB decoded). Returns a copy: callers may
    change it freely."""
    from core.images import load_image  # here: PIL; this module stays light

    key = (hashlib.sha256(data).hexdigest(), name)
    img = _UPLOADS.get(key)
    if img is None:
        img = load_image(data, name=name)
        _UPLOADS.put(key, img)
    return img.copy()


def upload_cache() -> ByteLRU:
    return _UPLOADS


def _dataset_bytes(ds) -> int:
    images = getattr(ds, "images", None)
    return int(getattr(images, "nbytes", 0) or 0)


_DATASETS = ByteLRU(lambda: int(setting("CNNPG_DATASET_CACHE_MB") * MiB), _dataset_bytes)


def dataset_cache() -> ByteLRU:
    """Decoded folder data sets the Data sets page keeps open between reruns, bounded by their pixels' bytes
    (``CNNPG_DATASET_CACHE_MB``, default 1024): a folder holds every image decoded, up to 4 GiB each."""
    return _DATASETS
