"""Helpers shared by CLI subcommands."""
from __future__ import annotations

import json
import sys
from typing import Any


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (NaN/inf become null, paths become strings)."""
    json.dump(_clean(obj), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj
