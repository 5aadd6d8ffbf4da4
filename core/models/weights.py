"""Pretrained weights: where they live, downloading them with progress, and loading them safely.

Caches are the libraries' own, so weights downloaded here are found by plain torchvision / timm and
vice versa:

- torchvision: ``$TORCH_HOME/hub/checkpoints/<file name of the weights URL>`` (``torch.hub.get_dir()``),
  e.g. ``resnet18-f37072fd.pth``; the hex after the dash is the first digits of the file's SHA-256.
  Loading goes through ``weights.get_state_dict(...)`` (torchvision's ``load_state_dict_from_url``).
- timm (SE-ResNet): the Hugging Face hub cache (``$HF_HUB_CACHE``, default ``~/.cache/huggingface/hub``),
  repository ``timm/<model>.<tag>``, file ``model.safetensors`` (or ``pytorch_model.bin``). That cache's
  layout (``models--timm--…/snapshots/<commit>/``) cannot be filled by hand, so a file copied to
  ``$TORCH_HOME/hub/checkpoints/<model>.<tag>.safetensors`` (:func:`manual_weights_path`) is used as well:
  the offline message names that exact path.

Offline, huggingface_hub retries its first request five times with back-off (about 24 s before it gives
up); a 3-second connection test to the hub first makes "you are offline" arrive in seconds
(:func:`hub_unreachable`; ``HF_HUB_OFFLINE=1`` skips the test and the download).

Gotcha: torchvision's builders load cached checkpoints with ``torch.load(weights_only=False)`` (the
default of ``load_state_dict_from_url``), so a tampered file in the cache could run code. Here every
file is read with ``weights_only=True`` or as safetensors: a pickle that would run code is refused.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import pickle
import re
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn
from tqdm.auto import tqdm

from core.models.registry import ArchSpec, get_spec
from core.models.sources import (
    HF_FILES,
    TIMM,
    TORCHVISION,
    UNSAFE_HINT,
    WeightsError,
    WeightsFileError,
    WeightsUnavailable,
    source_of,
)
from core.overview import hf_cache_dir  # noqa: F401 (re-exported: the hub cache, resolved now)

__all__ = [
    "WeightsError",
    "WeightsUnavailable",
    "WeightsFileError",
    "ProgressFn",
    "weights_status",
    "weights_cache_path",
    "manual_weights_path",
    "hub_unreachable",
    "download_weights",
    "load_pretrained",
    "read_state_dict",
    "tv_weights",
]

ProgressFn = Callable[[int, "int | None"], None]  # (bytes done, total bytes or None when unknown)

_HF_FILES = HF_FILES  # names kept for core.overview's weights index
_HASH = re.compile(r"-([a-f0-9]+)\.")
_CHUNK = 1 << 20
_UNSAFE_HINT = UNSAFE_HINT


# ------------------------------------------------------------------------------------------ where
def tv_weights(spec: ArchSpec):
    """torchvision's default weights enum member (``ResNet18_Weights.IMAGENET1K_V1``) or None."""
    return TORCHVISION.enum(spec)


def _tv_cache_file(spec: ArchSpec) -> Path:
    return TORCHVISION.cache_path(spec)


def _hf_repo(spec: ArchSpec) -> str:
    return TIMM.hub_repo(spec)


def manual_weights_path(name: str) -> Path | None:
    """Where to copy a weights file by hand so that it loads offline (None: no pretrained weights exist).

    torchvision: its own cache file (``$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth``). timm:
    ``$TORCH_HOME/hub/checkpoints/<model>.<tag>.safetensors``, the hub's ``model.safetensors`` renamed.
    """
    spec = get_spec(name)
    return source_of(spec).manual_path(spec)


def weights_cache_path(name: str) -> Path | None:
    """Path of the cached pretrained file (tv: where it is or would be; timm: only when cached, in the
    Hugging Face cache or at :func:`manual_weights_path`)."""
    spec = get_spec(name)
    return source_of(spec).cache_path(spec)


def weights_status(name: str) -> str:
    """``"cached"`` (on disk, loads offline), ``"downloadable"`` (exists upstream, not here yet) or
    ``"unavailable"`` (no pretrained weights exist for this architecture)."""
    spec = get_spec(name)
    if not spec.has_pretrained:
        return "unavailable"
    path = weights_cache_path(spec.name)
    return "cached" if path is not None and path.is_file() else "downloadable"


# ------------------------------------------------------------------------------------------ download
def _urlopen(url: str, timeout: float = 30):
    """Seam for tests: monkeypatch this to make sure nothing touches the network."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (fixed https URLs from torchvision)


def _hf_download(**kwargs) -> str:
    """Seam for tests: ``huggingface_hub.hf_hub_download``."""
    from huggingface_hub import hf_hub_download  # here: huggingface_hub (~0.2 s) only when a timm file is fetched

    return hf_hub_download(**kwargs)


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hugging Face hub cannot be reached now (``None``: a TCP connection to it opened).

    One connection attempt with ``timeout`` seconds instead of huggingface_hub's five retries with back-off.
    ``HF_HUB_OFFLINE=1`` answers without touching the network. The endpoint follows ``HF_ENDPOINT``.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE"):
        return "HF_HUB_OFFLINE is set"
    url = urllib.request.urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as err:  # socket.gaierror (no DNS), timeout, connection refused, no route
        return f"cannot connect to {host}: {err.strerror or err or type(err).__name__}"


def _offline_message(spec: ArchSpec, where: str, err: BaseException | str) -> str:
    why = err if isinstance(err, str) else f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return (
        f"could not download pretrained weights for {spec.title} from {where} ({why[:200]}). "
        "Downloads need internet access; you may be offline. To use them anyway, download "
        f"{source_of(spec).download_url(spec)} on a machine that is online and copy the file to {manual_weights_path(spec.name)} "
        "(exactly this path and name), then try again. Meanwhile the model works untrained (its predictions are "
        "then meaningless)."
    )


def _fetch_url(spec: ArchSpec, url: str, dst: Path, progress: ProgressFn | None) -> Path:
    """Download ``url`` to ``dst`` (hash-checked against the hex in its name, written atomically)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    m = _HASH.search(dst.name)
    prefix = m.group(1) if m else None
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".partial", dir=dst.parent)
    try:
        sha = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out, _urlopen(url) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress:
                progress(0, total)
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                sha.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if prefix and not sha.hexdigest().startswith(prefix):
            raise WeightsUnavailable(
                f"the downloaded weights for {spec.title} are corrupted (SHA-256 does not start with {prefix}); "
                "try again"
            )
        os.replace(tmp, dst)  # atomic: a half-written file is never seen under the final name
        return dst
    except WeightsUnavailable:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError, ValueError) as err:
        raise WeightsUnavailable(_offline_message(spec, url, err)) from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _tqdm_with_callback(progress: ProgressFn | None):
    """A tqdm class for huggingface_hub that reports to ``progress`` and prints nothing."""
    class CallbackTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            self._done = 0
            self._cb_total = kwargs.get("total")
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            self._done += int(n or 0)
            if progress:
                progress(self._done, self._cb_total)
            return super().update(n)

    return CallbackTqdm


def _fetch_hub(spec: ArchSpec, repo: str, filenames: tuple[str, ...], progress: ProgressFn | None) -> Path:
    """The first of ``filenames`` the hub repository has, into the hub cache; fails fast when offline."""
    offline = hub_unreachable()
    if offline is not None:  # fail in seconds, not after the hub client's ~24 s of retries
        raise WeightsUnavailable(_offline_message(spec, f"the Hugging Face hub ({repo})", offline))
    last: BaseException | None = None
    for filename in filenames:
        try:
            path = _hf_download(
                repo_id=repo,
                filename=filename,
                cache_dir=str(hf_cache_dir()),
                tqdm_class=_tqdm_with_callback(progress),
            )
            return Path(path)
        except Exception as err:  # huggingface_hub raises many types (offline, 404, HTTP, OSError)
            last = err
            if type(err).__name__ not in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
                break
    raise WeightsUnavailable(_offline_message(spec, f"the Hugging Face hub ({repo})", last)) from last


def download_weights(name: str, progress: ProgressFn | None = None) -> Path:
    """Make sure the pretrained weights of ``name`` are in the cache and return their path.

    ``progress(bytes_done, total_or_None)`` is called as the file arrives (the page feeds it to
    ``st.progress``). Already cached: returns at once. Raises :class:`WeightsUnavailable` when the model
    has no pretrained weights or the download fails.
    """
    spec = get_spec(name)
    cached = weights_cache_path(spec.name)
    if cached is not None and cached.is_file():
        return cached
    return source_of(spec).download(spec, progress, _NETWORK)


class _Network:
    """The network as the weights sources see it (:class:`core.models.sources.Fetch`). Looked up at call time,
    so tests that replace ``_urlopen`` / ``_hf_download`` / ``hub_unreachable`` here reach every source."""

    def url(self, spec, url, dst, progress):
        return _fetch_url(spec, url, dst, progress)

    def hub(self, spec, repo, filenames, progress):
        return _fetch_hub(spec, repo, filenames, progress)


_NETWORK = _Network()


# ------------------------------------------------------------------------------------------ load
def _torch_load_safe(path: Path, what: str) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise WeightsFileError(f"refused to load {what}: {_UNSAFE_HINT}") from err
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        raise WeightsFileError(f"{what} is not a readable PyTorch file ({type(err).__name__}: {err})") from err


def read_state_dict(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a state dict from ``.safetensors`` or ``.pt``/``.pth``/``.bin`` without executing code.

    Returns ``(state_dict, metadata)``; metadata is the safetensors header's string dict (``{}`` for
    torch files). Accepts checkpoints that wrap the state dict (``{"model": ...}``, ``{"state_dict": ...}``)
    and strips ``module.`` (DataParallel/DDP) and ``_orig_mod.`` (torch.compile) prefixes.
    """
    p = Path(path)
    shown = p.name
    if p.suffix not in (".safetensors", ".pt", ".pth", ".bin", ".ckpt"):
        raise WeightsFileError(f"{shown}: weights must be a .safetensors, .pt or .pth file")
    if not p.is_file():
        raise WeightsFileError(f"weights file not found: {shown}")
    metadata: dict[str, str] = {}
    if p.suffix == ".safetensors":
        try:
            with safe_open(str(p), framework="pt") as f:
                metadata = dict(f.metadata() or {})
            obj: Any = load_file(str(p), device="cpu")
        except Exception as err:  # safetensors raises its own SafetensorError and others
            raise WeightsFileError(f"{shown} is not a valid safetensors file ({err})") from err
    else:
        obj = _torch_load_safe(p, shown)
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsFileError(f"{shown} does not contain a state dict (a mapping of names to tensors)")
    clean = {}
    for k, v in obj.items():
        for pre in ("module.", "_orig_mod."):
            if k.startswith(pre):
                k = k[len(pre):]
        clean[k] = v
    return clean, metadata


def load_into(model: nn.Module, state_dict: dict[str, torch.Tensor], what: str) -> None:
    """``model.load_state_dict(state_dict)`` (strict) with a message a student can act on."""
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        mine = model.state_dict()
        missing = [k for k in mine if k not in state_dict]
        unexpected = [k for k in state_dict if k not in mine]
        wrong = [k for k in mine if k in state_dict and tuple(mine[k].shape) != tuple(state_dict[k].shape)]
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {keys[0]})")
        raise WeightsFileError(
            f"{what} does not fit this architecture: " + ("; ".join(parts) or str(err).splitlines()[0])
        ) from err


def load_pretrained(model: nn.Module, name: str, progress: ProgressFn | None = None) -> None:
    """Load ImageNet weights into ``model`` (built by the spec's builder with its default class count).

    Downloads first when not cached (``progress`` as in :func:`download_weights`).
    """
    spec = get_spec(name)
    path = download_weights(spec.name, progress)
    load_into(model, source_of(spec).state_dict(spec, path), path.name)
