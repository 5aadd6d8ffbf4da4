"""Test-wide isolation: nothing is written into the repo or the user's caches, and nothing goes to the network."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="cnnpg-test-"))
# Set before anything imports core/, torch hub or huggingface_hub, so every default path lands in the temp folder.
os.environ.setdefault("CNNPG_HOME", str(_SESSION_HOME / "home"))
os.environ.setdefault("TORCH_HOME", str(_SESSION_HOME / "torch"))
os.environ.setdefault("HF_HOME", str(_SESSION_HOME / "hf"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")

ROOT = Path(__file__).resolve().parent.parent
