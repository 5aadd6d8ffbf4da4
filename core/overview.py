"""What the home page reports: the compute device, the state of the pretrained-weights cache, and the pages.

Speed matters here: Home is the first page a student opens, on a server that has imported nothing yet.
Asking torchvision and timm where each architecture's weights live costs their imports (about half of a
cold first load, measured by ``python -m bench home``). So the answer (a file name per architecture) is
worked out once and kept in ``<CNNPG_HOME>/cache/weights-index-<key>.json``; ``key`` changes with the
torchvision / timm versions and with the registry's source, so the index can never describe another
zoo. With the index, Home checks the same files :func:`core.models.weights_status` checks, without
importing either library. Nothing here touches the network: "downloadable" means "published, not here".
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import torch
import torch.hub

from core import paths
from core.device import DeviceInfo, device_info

_INDEX_SOURCES = ("models/registry.py", "models/weights.py")


@dataclass
class Overview:
    device: DeviceInfo
    torch_version: str
    weights: dict[str, str] = field(default_factory=dict)  # arch name -> cached | downloadable | unavailable

    @property
    def weights_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in self.weights.values():
            counts[status] = counts.get(status, 0) + 1
        return counts


def overview() -> Overview:
    """Device and weights-cache status, computed now (nothing typed in). Looks at caches only: no download."""
    return Overview(device=device_info(), torch_version=torch.__version__, weights=weights_statuses())


# ------------------------------------------------------------------------------------------ weights index
def _index_key() -> str:
    h = hashlib.sha256()
    for dist in ("torch", "torchvision", "timm"):
        try:
            h.update(f"{dist}={metadata.version(dist)};".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=none;".encode())
    core_dir = Path(__file__).resolve().parent
    for rel in _INDEX_SOURCES:
        h.update((core_dir / rel).read_bytes())
    return h.hexdigest()[:16]


def build_weights_index() -> dict[str, dict[str, str]]:
    """Where each architecture's weights would be cached (slow: imports torchvision and timm).

    ``{"resnet18": {"kind": "torchvision", "file": "resnet18-f37072fd.pth"}, "seresnet50": {"kind": "timm",
    "repo": "timm/seresnet50.a1_in1k", "files": [...], "manual": "seresnet50.a1_in1k.safetensors"}, "lenet5": {"kind": "none"}}``
    (file names relative to ``$TORCH_HOME/hub/checkpoints``).
    """
    # Deferred: core.models imports torchvision and timm (what the index exists to avoid), and its sources
    # module imports this one (hf_cache_dir): at the top it would be a cycle.
    from core.models import ARCHITECTURES
    from core.models.weights import _HF_FILES, _hf_repo, _tv_cache_file, manual_weights_path

    index: dict[str, dict[str, str]] = {}
    for name, spec in ARCHITECTURES.items():
        if not spec.has_pretrained:
            index[name] = {"kind": "none"}
        elif spec.source == "torchvision":
            index[name] = {"kind": "torchvision", "file": _tv_cache_file(spec).name}
        else:
            index[name] = {"kind": "timm", "repo": _hf_repo(spec), "files": list(_HF_FILES),
                           "manual": manual_weights_path(name).name}
    return index


def weights_index() -> dict[str, dict[str, str]]:
    """:func:`build_weights_index`, read from its file when this zoo was indexed before (atomic writes)."""
    folder = paths.home() / "cache"
    path = folder / f"weights-index-{_index_key()}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    index = build_weights_index()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w") as f:
            json.dump(index, f)
        os.replace(tmp, path)
    except OSError:  # a read-only home only costs speed
        pass
    return index


def weights_statuses() -> dict[str, str]:
    """Architecture -> ``cached`` | ``downloadable`` | ``unavailable``, as :func:`core.models.weights_status`
    says it, from the index (no torchvision / timm import once indexed)."""
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    out: dict[str, str] = {}
    for name, entry in weights_index().items():
        if entry["kind"] == "none":
            out[name] = "unavailable"
        elif entry["kind"] == "torchvision":
            out[name] = "cached" if (checkpoints / entry["file"]).is_file() else "downloadable"
        else:
            out[name] = "cached" if (checkpoints / entry["manual"]).is_file() or \
                _hf_cached(entry["repo"], entry["files"]) else "downloadable"
    return out


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, resolved from the environment now (huggingface_hub reads it at import).

    Lives here, not in :mod:`core.models.weights` (which re-exports it), so Home can look into the cache
    without importing the model zoo.
    """
    env = os.environ
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(var):
            return Path(env[var]).expanduser()
    hf_home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(hf_home).expanduser() / "hub"


def _hf_cached(repo: str, files: list[str]) -> bool:
    from huggingface_hub import try_to_load_from_cache  # optional, heavy: only when a timm entry is looked up

    return any(isinstance(found := try_to_load_from_cache(repo, f, cache_dir=str(hf_cache_dir())), str)
               and os.path.isfile(found) for f in files)


# ------------------------------------------------------------------------------------------ pages
def page_summary(path: str | os.PathLike, title: str = "") -> str:
    """What a page teaches: its docstring's first paragraph (first sentence when long), minus ``"<title>: "``.

    Read with :mod:`ast` (the page is not imported, nothing runs). ``""`` when the file has no docstring.
    """
    p = Path(path)
    try:
        return _page_summary(str(p.resolve()), p.stat().st_mtime_ns, title)
    except OSError:
        return ""


@lru_cache(maxsize=64)
def _page_summary(path: str, mtime_ns: int, title: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(Path(path).read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, ValueError):
        return ""
    text = " ".join(doc.split("\n\n")[0].split())
    end = text.find(". ")
    text = text if end < 0 or len(text) <= 200 else text[: end + 1]  # a short paragraph whole, else a sentence
    for prefix in (title, Path(path).stem.replace("_", " ")):
        if prefix and text.lower().startswith(prefix.lower() + ":"):
            text = text[len(prefix) + 1:].strip()
            break
    return text[:1].upper() + text[1:]
