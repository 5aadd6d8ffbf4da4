"""Budgets that keep one server usable by a whole class, one module per budget:

- :mod:`~core.budget.settings`: the ``CNNPG_*`` limits read from the server's environment, and byte units;
- :mod:`~core.budget.queue`: caps on queued + running runs, per server and per student (:class:`QueueFull`);
- :mod:`~core.budget.disk`: what ``var/`` holds, and the budget a new run or zip import must fit
  (:class:`DiskBudgetExceeded`);
- :mod:`~core.budget.memory`: a run's memory estimated before it starts, refused if it clearly cannot fit
  (:class:`NotEnoughMemory`);
- :mod:`~core.budget.oom`: running out of memory during the work, as :class:`OutOfMemory` naming the step;
- :mod:`~core.budget.storage`: a full, read-only or forbidden disk, as :class:`StorageError` naming the folder;
- :mod:`~core.budget.caches`: byte-bounded caches for decoded uploads and open folder data sets.

Every name is importable from here (``from core import budget; budget.check_disk(...)``), as when this was one
module; the errors themselves are defined in :mod:`core.errors`. The package stays light: it imports neither
torch nor PIL at module level, because a queued worker imports it while it waits without torch.

Heavy work inside a page request is *bounded*, not moved off the request (measured on the shared 2-core machine):

- zip import validation (:mod:`core.data.zipimport`, which holds these limits): at most 20,000 entries and 2 GiB
  unpacked, and at most ``CNNPG_ZIP_MAX_MEGAPIXELS`` (500) of images decoded, checked from the headers before any
  pixel is decoded: 36 MP/s for JPEG photos, 12 MP/s for noisy PNGs, so at most ~14 s (JPEG) to ~40 s (PNG) of
  one core;
- "Estimate duration" (:mod:`core.train.estimate`): 2 warm-up + 3 to 30 timed steps (≥ 1.5 s), ≥ 0.5 s of
  evaluation, 24 Shapes images drawn, one checkpoint, and a start-up probe once per server process: 8.2 s for
  the default preset (18.9 s the first time), whatever the data set's size. Its one unbounded part is the
  size of a folder data set: opening the folder decodes every image the first time (19.4 s for 1,000 photos;
  then cached on disk), where :func:`core.data.folders.count_images` counts the files in 0.05 s.

Gotcha: a test that replaces a function with ``monkeypatch`` must patch it in the module that calls it
(``budget.memory.available_memory``, read by ``memory_limit``), not the name re-exported here.
"""
from core.budget.caches import ByteLRU, dataset_cache, load_upload, upload_cache
from core.budget.disk import KIND_TITLES, MIN_FREE_BYTES, DiskUsage, app_folders, check_disk, disk_usage
from core.budget.memory import (
    ACTIVATION_FACTOR, PROCESS_BYTES, MemoryEstimate, available_memory, check_run_memory, estimate_run_memory,
    memory_limit, shapes_splits_held,
)
from core.budget.oom import OUT_OF_MEMORY, is_out_of_memory, memory_guard, out_of_memory
from core.budget.queue import active_runs, check_queue, run_owner
from core.budget.settings import DEFAULTS, GiB, MiB, fmt_bytes, setting
from core.budget.storage import check_writable, is_storage_error, storage_error, storage_message, writing
from core.errors import (  # the budget errors, importable from here as before
    BudgetError, DiskBudgetExceeded, NotEnoughMemory, OutOfMemory, QueueFull, StorageError,
)

__all__ = [
    # settings
    "DEFAULTS", "GiB", "MiB", "fmt_bytes", "setting",
    # queue caps
    "active_runs", "check_queue", "run_owner",
    # disk budget
    "KIND_TITLES", "MIN_FREE_BYTES", "DiskUsage", "app_folders", "check_disk", "disk_usage",
    # memory before a run
    "ACTIVATION_FACTOR", "PROCESS_BYTES", "MemoryEstimate", "available_memory", "check_run_memory",
    "estimate_run_memory", "memory_limit", "shapes_splits_held",
    # out of memory during the work
    "OUT_OF_MEMORY", "is_out_of_memory", "memory_guard", "out_of_memory",
    # storage errors
    "check_writable", "is_storage_error", "storage_error", "storage_message", "writing",
    # caches
    "ByteLRU", "dataset_cache", "load_upload", "upload_cache",
    # errors (defined in core.errors)
    "BudgetError", "DiskBudgetExceeded", "NotEnoughMemory", "OutOfMemory", "QueueFull", "StorageError",
]
