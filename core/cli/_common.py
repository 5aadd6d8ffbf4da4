"""Helpers shared by CLI subcommands."""
from __future__ import annotations

import json
import sys
from typing import Any

from core.runs.store import json_safe


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (NaN/inf become null, paths become strings)."""
    json.dump(json_safe(obj), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
