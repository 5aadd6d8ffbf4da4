"""The app's own folders. Nothing is written anywhere else.

``CNNPG_HOME`` (default: ``./var`` next to the code) holds runs, data sets and staging folders;
model weights use torchvision's / timm's own caches (``TORCH_HOME``, the Hugging Face cache).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """Root of everything the app writes (runs, data, staging). Created on first use."""
    p = Path(os.environ.get("CNNPG_HOME", ROOT / "var")).resolve()
    p.mkdir(parents=True, exist_ok=True)
    return p


def runs_dir() -> Path:
    p = Path(os.environ.get("CNNPG_RUNS_DIR", home() / "runs")).resolve()
    p.mkdir(parents=True, exist_ok=True)
    return p


def data_dir() -> Path:
    p = Path(os.environ.get("CNNPG_DATA_DIR", home() / "data")).resolve()
    p.mkdir(parents=True, exist_ok=True)
    return p
