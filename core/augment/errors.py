"""The one error type of ``core.augment``: a bad pipeline, parameter or string, said in words a student reads."""
from __future__ import annotations

from core.errors import InputError


class AugmentError(InputError):
    """An augmentation setting that cannot work (unknown name, value out of range, impossible combination).

    Subclass of :class:`core.errors.InputError` (hence also ``ValueError``): the UI shows ``str(err)``,
    the CLI prints it on one line.
    """
