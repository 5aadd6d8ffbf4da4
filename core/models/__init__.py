"""The model zoo: 20 classic CNNs from LeNet-5 to EfficientNet, with honest metadata.

    from core.models import ARCHITECTURES, get_spec, build, trainable_stages, preprocess, weights_status

- :data:`ARCHITECTURES` — ``{name: ArchSpec}`` ordered by year (``registry.py``).
- :func:`build` — random, pretrained (``"default"``) or from a state-dict file; ``num_classes`` replaces every
  classifier head (``build.py``). Pretrained weights use torchvision's / timm's own caches (``weights.py``).
- :func:`trainable_stages` — input → output groups of modules for linear probes and "fine-tune the last k".
- :func:`preprocess` — the image → tensor transform the weights expect (``preprocessing.py``).
- :func:`summary` / :func:`layer_table` — per-layer shapes, parameters, MACs; FLOPs via FlopCounterMode.
- :func:`model_card` / :func:`zoo` — metadata from the source of truth; :func:`predict` — top-k + latency.
"""
from core.models.build import build, replace_head, trainable_stages, weights_label
from core.models.card import arch_facts, categories, model_card, signature_block, weights_meta, zoo
from core.models.predict import Prediction, classify, predict
from core.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD, preprocess
from core.models.registry import ARCHITECTURES, ArchSpec, get_module, get_spec
from core.models.summary import Summary, layer_table, min_input_size, summary
from core.models.weights import (
    WeightsError,
    WeightsFileError,
    WeightsUnavailable,
    download_weights,
    read_state_dict,
    weights_cache_path,
    weights_status,
)

__all__ = [
    "ARCHITECTURES",
    "ArchSpec",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Prediction",
    "Summary",
    "WeightsError",
    "WeightsFileError",
    "WeightsUnavailable",
    "arch_facts",
    "build",
    "categories",
    "classify",
    "download_weights",
    "get_module",
    "get_spec",
    "layer_table",
    "min_input_size",
    "model_card",
    "predict",
    "preprocess",
    "read_state_dict",
    "replace_head",
    "signature_block",
    "summary",
    "trainable_stages",
    "weights_cache_path",
    "weights_label",
    "weights_meta",
    "weights_status",
    "zoo",
]
