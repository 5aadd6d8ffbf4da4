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

Heavy work inside a page request is *bounded*, not moved off the request:

- zip import validation (:mod:`core.data.zipimport`, which holds these limits): a cap on entries, on unpacked
  bytes and on decoded megapixels (``CNNPG_ZIP_MAX_MEGAPIXELS``), checked from the headers before any pixel is
  decoded, so a zip's cost is bounded whatever it holds;
- "Estimate duration" (:mod:`core.train.estimate`): a few warm-up and timed steps, a little evaluation, one
  checkpoint and a start-up probe once per server process, whatever the data set's size; a folder data set is
  counted from its file names (:func:`core.data.folders.count_images`), never decoded inside the request.

Gotcha: a test that replaces a function with ``monkeypatch`` must patch it in the module that calls it
(``budget.memory.available_memory``, read by ``memory_limit``), not the name re-exported here.
"""
from core.budget.caches import ByteLRU, dataset_cache, load_upload, upload_cache
from core.budget.disk import KIND_TITLES, MIN_FREE_BYTES, DiskUsage, app_folders, check_disk, disk_usage
from core.budget.memory import (
    ACTIVATION_FACTOR, PROCESS_BYTES, MemoryEstimate, available_memory, check_run_memory, estimate_run_memory,
    memory_limit,
)
from core.budget.oom import OUT_OF_MEMORY, is_out_of_memory, memory_guard, out_of_memory
from core.budget.queue import active_runs, check_queue, run_owner
from core.budget.settings import DEFAULTS, GiB, MiB, fmt_bytes, setting
from core.budget.storage import is_storage_error, storage_error, storage_message, writing
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
    "estimate_run_memory", "memory_limit",
    # out of memory during the work
    "OUT_OF_MEMORY", "is_out_of_memory", "memory_guard", "out_of_memory",
    # storage errors
    "is_storage_error", "storage_error", "storage_message", "writing",
    # caches
    "ByteLRU", "dataset_cache", "load_upload", "upload_cache",
    # errors (defined in core.errors)
    "BudgetError", "DiskBudgetExceeded", "NotEnoughMemory", "OutOfMemory", "QueueFull", "StorageError",
]
