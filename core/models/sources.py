"""Where an architecture's pretrained weights come from: one object per source answers every question the zoo
asks about them, so no caller checks ``spec.source == "torchvision"``.

- :class:`TorchvisionSource`: the weights enum (``ResNet18_Weights.IMAGENET1K_V1``) carries the URL, the
  metadata (``meta``: acc@1, file size, categories, min size) and the evaluation transform; the file lives in
  ``$TORCH_HOME/hub/checkpoints/<file name of the URL>`` (torchvision's own cache).
- :class:`TimmSource`: ``timm.models.get_pretrained_cfg`` names the Hugging Face repository; the file lives in
  the hub cache, or where a person copied it (``$TORCH_HOME/hub/checkpoints/<model>.<tag>.safetensors``).
  timm publishes no accuracy, so those fields are ``None``.
- :class:`NoWeights`: architectures without published weights (LeNet-5, SE-ResNet-18).

A source never touches the network itself: :meth:`WeightsSource.download` says *what* to fetch and hands it
to a :class:`Fetch` (``core.models.weights`` passes its own, with its timeouts, hash check and offline
message). Registration facts (:meth:`WeightsSource.entry_facts`) are computed when an entry is registered, so
the value a reader of the registry sees is the one used.
"""
from __future__ import annotations

import os
import pickle
import re
import urllib.request
from pathlib import Path
from typing import Any, Callable, Protocol

import torch
from torch import nn
from torchvision.models import get_model_weights

from core.errors import InputError, PlaygroundError
from core.overview import hf_cache_dir

__all__ = [
    "Fetch", "HF_FILES", "NoWeights", "SOURCES", "TimmSource", "TorchvisionSource", "WeightsError",
    "WeightsFileError", "WeightsSource", "WeightsUnavailable", "source_of",
]

ProgressFn = Callable[[int, "int | None"], None]  # (bytes done, total bytes or None when unknown)

HF_FILES = ("model.safetensors", "pytorch_model.bin")  # timm's preference order
UNSAFE_HINT = (
    "it contains Python objects other than tensors (a pickle that could run code when loaded). Only plain "
    "state dicts are accepted: .safetensors, or .pt/.pth saved with torch.save(model.state_dict())"
)
_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


class WeightsError(PlaygroundError):
    """Base of weight-related failures."""


class WeightsUnavailable(WeightsError):
    """Pretrained weights do not exist for this model, or cannot be downloaded right now (offline...)."""


class WeightsFileError(WeightsError, InputError):
    """A weights file that is missing, unsafe (a pickle that would run code), corrupt or for another model."""


class Fetch(Protocol):
    """The network, as a source sees it (``core.models.weights`` implements it)."""

    def url(self, spec, url: str, dst: Path, progress: ProgressFn | None) -> Path:
        """Download ``url`` to ``dst`` atomically (hash-checked against the file name's hex), return ``dst``."""

    def hub(self, spec, repo: str, filenames: tuple[str, ...], progress: ProgressFn | None) -> Path:
        """The first of ``filenames`` that the Hugging Face repository ``repo`` has, via the hub cache."""


def _checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"  # read at call time: follows TORCH_HOME


class WeightsSource:
    """The questions asked about an architecture's pretrained weights. The answers here are those of an
    architecture without any (:class:`NoWeights`); each source overrides what it knows."""

    kind = "none"

    def entry_facts(self, entry: dict) -> dict:
        """Registry fields this source fills in when an entry is registered (``has_pretrained`` and, where
        the weights define them, ``min_input_size`` and ``input_size``); ``entry`` holds the typed fields."""
        return {"has_pretrained": False}

    def categories(self, spec) -> tuple[str, ...] | None:
        return None

    def meta(self, spec) -> dict[str, Any]:
        """weights name, acc1, acc5, file_size_mb, num_params_meta, gmacs_meta, recipe (``None``: not said)."""
        return {}

    def eval_transform(self, spec, build: Callable[..., Any]):
        """The weights' own evaluation transform (image -> normalised tensor), or None. ``build(size, crop_pct,
        interpolation, mean, std)`` makes one from numbers (``core.models.preprocessing.pipeline``)."""
        return None

    def manual_path(self, spec) -> Path | None:
        """Where a person copies the file by hand so that it loads offline."""
        return None

    def cache_path(self, spec) -> Path | None:
        """Where the file is (or, when the source has one fixed place, would be)."""
        return None

    def download_url(self, spec) -> str | None:
        return None

    def download(self, spec, progress: ProgressFn | None, fetch: Fetch) -> Path:
        raise WeightsUnavailable(f"{spec.title} has no pretrained weights; it can only be used untrained")

    def state_dict(self, spec, path: Path) -> dict[str, torch.Tensor]:
        """The cached file at ``path`` as a state dict for the spec's default model (read without running code)."""
        raise WeightsUnavailable(f"{spec.title} has no pretrained weights; it can only be used untrained")

    def index_entry(self, spec) -> dict:
        """What ``core.overview``'s weights index records (file names relative to the checkpoints folder)."""
        return {"kind": "none"}


class NoWeights(WeightsSource):
    """Architectures defined here (LeNet-5): nothing is published."""

    kind = "local"


class TorchvisionSource(WeightsSource):
    kind = "torchvision"

    @staticmethod
    def _default(tv_name: str):
        try:
            return get_model_weights(tv_name).DEFAULT
        except (ValueError, AttributeError, KeyError):  # no weights enum for this name
            return None

    def entry_facts(self, entry: dict) -> dict:
        w = self._default(entry["tv_name"])
        if w is None:
            return {"has_pretrained": False}
        facts: dict[str, Any] = {"has_pretrained": True, "input_size": int(w.transforms().crop_size[0])}
        if "min_size" in w.meta:
            facts["min_input_size"] = int(max(w.meta["min_size"]))
        return facts

    def enum(self, spec):
        """torchvision's default weights enum member (``ResNet18_Weights.IMAGENET1K_V1``) or None."""
        return self._default(spec.tv_name) if spec.tv_name and spec.has_pretrained else None

    def categories(self, spec) -> tuple[str, ...] | None:
        return tuple(self.enum(spec).meta["categories"]) if spec.has_pretrained else None

    def meta(self, spec) -> dict[str, Any]:
        if not spec.has_pretrained:
            return {}
        w = self.enum(spec)
        metrics = w.meta.get("_metrics", {}).get("ImageNet-1K", {})
        return {
            "weights": f"{type(w).__name__}.{w.name}",
            "acc1": metrics.get("acc@1"),
            "acc5": metrics.get("acc@5"),
            "file_size_mb": w.meta.get("_file_size"),
            "num_params_meta": w.meta.get("num_params"),
            "gmacs_meta": w.meta.get("_ops"),  # torchvision calls it GFLOPS; it is multiply-adds (see summary.py)
            "recipe": w.meta.get("recipe"),
        }

    def eval_transform(self, spec, build):
        return self.enum(spec).transforms() if spec.has_pretrained else None

    def cache_path(self, spec) -> Path | None:
        if not spec.has_pretrained:
            return None
        # Same directory and file name as torch.hub.load_state_dict_from_url.
        return _checkpoints() / os.path.basename(urllib.request.urlparse(self.enum(spec).url).path)

    manual_path = cache_path  # torchvision's own cache file is the place to copy it to

    def download_url(self, spec) -> str | None:
        return self.enum(spec).url if spec.has_pretrained else None

    def download(self, spec, progress, fetch: Fetch) -> Path:
        if not spec.has_pretrained:
            return super().download(spec, progress, fetch)
        return fetch.url(spec, self.download_url(spec), self.cache_path(spec), progress)

    def state_dict(self, spec, path: Path) -> dict[str, torch.Tensor]:
        try:
            # torchvision's own mechanism; the file is cached, so nothing is downloaded here.
            state_dict = self.enum(spec).get_state_dict(
                progress=False, check_hash=True, weights_only=True, map_location="cpu"
            )
        except pickle.UnpicklingError as err:
            raise WeightsFileError(f"refused to load the cached file {path.name}: {UNSAFE_HINT}") from err
        except (RuntimeError, EOFError, ValueError) as err:
            raise WeightsFileError(
                f"the cached weights file {path} is unreadable ({type(err).__name__}); delete it and download again"
            ) from err
        if spec.family == "DenseNet":
            # Same key fix-up as torchvision.models.densenet._load_state_dict (old checkpoints say norm.1).
            for key in list(state_dict):
                m = _DENSENET_KEY.match(key)
                if m:
                    state_dict[m.group(1) + m.group(2)] = state_dict.pop(key)
        return state_dict

    def index_entry(self, spec) -> dict:
        if not spec.has_pretrained:
            return super().index_entry(spec)
        return {"kind": "torchvision", "file": self.cache_path(spec).name}


class TimmSource(WeightsSource):
    kind = "timm"

    def entry_facts(self, entry: dict) -> dict:
        return {"has_pretrained": bool(entry.get("timm_tag"))}

    # timm and huggingface_hub are imported where a timm source needs them: importing timm costs about a
    # second, and most pages never touch an SE-ResNet's weights.
    @staticmethod
    def _cfg(spec):
        import timm.models  # timm: see the note above

        return timm.models.get_pretrained_cfg(spec.timm_pretrained_name)

    def hub_repo(self, spec) -> str:
        return self._cfg(spec).hf_hub_id or f"timm/{spec.timm_pretrained_name}"

    def categories(self, spec) -> tuple[str, ...] | None:
        if not spec.has_pretrained:
            return None
        from timm.data import ImageNetInfo  # timm: see the note above _cfg

        info = ImageNetInfo("imagenet-1k")
        # timm's descriptions read "tench, Tinca tinca"; keep the common name like torchvision does.
        return tuple(info.index_to_description(i).split(",")[0].strip() for i in range(info.num_classes()))

    def meta(self, spec) -> dict[str, Any]:
        if not spec.has_pretrained:
            return {}
        return {"weights": spec.timm_pretrained_name, "recipe": self._cfg(spec).origin_url or None}

    def eval_transform(self, spec, build):
        if not spec.has_pretrained:
            return None
        import timm.data  # timm: see the note above _cfg

        cfg = timm.data.resolve_data_config(pretrained_cfg=self._cfg(spec).to_dict())
        return build(int(cfg["input_size"][-1]), float(cfg["crop_pct"]), cfg.get("interpolation", "bilinear"),
                     cfg["mean"], cfg["std"])

    def manual_path(self, spec) -> Path | None:
        return _checkpoints() / f"{spec.timm_pretrained_name}.safetensors" if spec.has_pretrained else None

    def hub_cached_file(self, spec) -> Path | None:
        from huggingface_hub import try_to_load_from_cache  # huggingface_hub: see the note above _cfg

        for filename in HF_FILES:
            found = try_to_load_from_cache(self.hub_repo(spec), filename, cache_dir=str(hf_cache_dir()))
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
        return None

    def cache_path(self, spec) -> Path | None:
        if not spec.has_pretrained:
            return None
        manual = self.manual_path(spec)
        return self.hub_cached_file(spec) or (manual if manual.is_file() else None)

    def download_url(self, spec) -> str | None:
        if not spec.has_pretrained:
            return None
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        return f"{endpoint}/{self.hub_repo(spec)}/resolve/main/{HF_FILES[0]}"

    def download(self, spec, progress, fetch: Fetch) -> Path:
        if not spec.has_pretrained:
            return super().download(spec, progress, fetch)
        return fetch.hub(spec, self.hub_repo(spec), HF_FILES, progress)

    def state_dict(self, spec, path: Path) -> dict[str, torch.Tensor]:
        # timm's own pretrained loader, pointed at the cached file (no network round trip); timm imported here:
        # see the note above _cfg
        import timm

        try:
            ref: nn.Module = timm.create_model(
                spec.timm_pretrained_name, pretrained=True, pretrained_cfg_overlay={"file": str(path)}
            )
        except pickle.UnpicklingError as err:
            raise WeightsFileError(f"refused to load the cached file {path.name}: {UNSAFE_HINT}") from err
        except (RuntimeError, EOFError, ValueError, OSError) as err:
            raise WeightsFileError(
                f"the cached weights file {path} is unreadable or does not fit ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}); delete it and download again"
            ) from err
        return ref.state_dict()

    def index_entry(self, spec) -> dict:
        if not spec.has_pretrained:
            return super().index_entry(spec)
        return {"kind": "timm", "repo": self.hub_repo(spec), "files": list(HF_FILES),
                "manual": self.manual_path(spec).name}


TORCHVISION, TIMM, LOCAL = TorchvisionSource(), TimmSource(), NoWeights()
SOURCES: dict[str, WeightsSource] = {s.kind: s for s in (TORCHVISION, TIMM, LOCAL)}


def source_of(spec) -> WeightsSource:
    """The source object of an :class:`~core.models.registry.ArchSpec` (by its ``source`` field)."""
    return SOURCES[spec.source]
