"""Typed errors: one hierarchy. Every failure a user can cause is one of these, with a message a student understands.

The UI shows ``str(err)``; the CLI prints it on one line of stderr and exits non-zero (status 2).

    PlaygroundError                      the user's input or the server's limits, not a bug
    ├── InputError (also ValueError)     a bad argument or setting
    │   └── AugmentError                 an augmentation pipeline, parameter or string that cannot work
    ├── DataError                        a data set cannot be used as asked
    │   ├── DatasetUnavailable           not downloaded (yet), or the download failed
    │   └── DatasetNotFound              an imported data set that is gone or mistyped
    ├── TrainError                       a run cannot go on (out of memory, image too small for the network)
    ├── RunError                         a run folder cannot be used as asked (already running, deleted, ...)
    │   └── WeightsMissing               pretrained starting weights not here and not downloadable now
    ├── NotYourRun                       another session's run
    ├── BudgetError                      a shared resource of the server would be exceeded
    │   ├── QueueFull, DiskBudgetExceeded
    │   └── NotEnoughMemory (also InputError)
    ├── StorageError                     the app's storage cannot be written (read-only, full, not permitted)
    └── OutOfMemory                      the process ran out of memory at a named stage

Other modules subclass these for their own cases (``core.images.ImageError``, ``core.explain.ExplainError``,
``core.models.sources.WeightsError``, ``core.data.folders.DatasetLayoutError`` with its report, ...); the
packages' ``errors.py`` files re-export from here, so ``from core.data.errors import DataError`` keeps working.

**What pages catch** (one rule): ``PAGE_ERRORS`` = :class:`PlaygroundError`, :class:`OSError` and
:class:`MemoryError`, each passed to ``views._widgets.show_error``, which shows a PlaygroundError's message as
is, a storage OSError as "cannot write to <dir>: disk full" and a MemoryError as out of memory. A page never
catches ``RuntimeError`` or ``Exception``: core turns what a user can cause into a PlaygroundError where it
happens (torch's out-of-memory and shape errors in the training loop, a corrupt download in ``core.data``), and
anything else is a bug that should be seen, not hidden. A page that expects one specific subclass (a zip's
layout report) catches that subclass first.
"""


class PlaygroundError(Exception):
    """Base of every error that is the user's input, not a bug. Its message is shown as is."""


class InputError(PlaygroundError, ValueError):
    """A bad argument or setting (unknown architecture, impossible parameter combination, ...)."""


class AugmentError(InputError):
    """An augmentation setting that cannot work (unknown name, value out of range, impossible combination)."""


class DataError(PlaygroundError):
    """A data set cannot be used as asked: bad option, bad folder layout, hostile or broken archive, ..."""


class DatasetUnavailable(DataError):
    """A downloadable data set is not on disk (and download was not asked for) or could not be downloaded."""


class DatasetNotFound(DataError):
    """An imported data set that does not exist (any more): deleted in another tab, or a mistyped name."""


class TrainError(PlaygroundError):
    """A run cannot go on for a reason the user can fix (out of memory, image too small for the network, ...)."""


class RunError(PlaygroundError):
    """A run folder is missing, unreadable or in the wrong state for the request."""


class WeightsMissing(RunError):
    """The run starts from ImageNet weights that are not on this machine and cannot be downloaded now."""


class NotYourRun(PlaygroundError):
    """The run belongs to another browser (or to nobody) and this one is not in instructor mode."""


class BudgetError(PlaygroundError):
    """A shared resource of the server (queue places, disk, memory) would be exceeded: the message says which."""


class QueueFull(BudgetError):
    """Too many queued / running runs: on the server, or of this student."""


class DiskBudgetExceeded(BudgetError):
    """``var/`` already holds its budget: old runs or imported data sets must go first."""


class NotEnoughMemory(BudgetError, InputError):
    """A run's data set (plus model) cannot fit into the memory this machine has free."""


class StorageError(PlaygroundError):
    """The app's storage cannot be written: read-only, full, or not permitted. The message names the folder."""


class OutOfMemory(PlaygroundError):
    """The process ran out of memory at a named stage (building the model, loading the data, ...)."""


# What a page catches and hands to views._widgets.show_error (see the module docstring).
PAGE_ERRORS: tuple[type[BaseException], ...] = (PlaygroundError, OSError, MemoryError)
