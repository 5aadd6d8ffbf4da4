"""The Train page's settings as typed :class:`core.params.Param` descriptions, built from :class:`TrainConfig`.

Default and type come from the dataclass, help from its commented defaults (``field_help``), and what a comment
cannot say (widget, label, limits, choices) from one table here: a new field gets its widget from one line.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import torch

from core.data import DATASETS
from core.models import ARCHITECTURES, build
from core.models.card import format_params
from core.models.summary import count_params, summary
from core.params import Param
from core.train.config import AMP_CHOICES, MODES, OPTIMIZERS, PRESETS, TrainConfig, field_help
from core.train.estimate import split_sizes
from core.train.objectives import OBJECTIVES

MODE_TITLES = {"scratch": "From scratch", "linear_probe": "Linear probe", "finetune_last_k": "Fine-tune last k blocks",
               "full": "Full fine-tune"}
IMAGE_SIZES = (32, 48, 64, 96, 112, 128, 160, 192, 224, 299)
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)
WORKER_CHOICES = (None, 0, 1, 2, 4, 8)
# Fields drawn by their own page code, not from one description: ``weights`` (random / pretrained / a run chosen
# from a list), ``augmentation`` (a preset, the lab's pipeline or a JSON file), ``dataset_options`` (one widget
# per option: dataset_params). The objective's fields belong to the Distill page (distillation, self-training).
COMPOUND_FIELDS = ("weights", "augmentation", "dataset_options")
OBJECTIVE_FIELDS = ("objective", *(f for spec in OBJECTIVES.values() for f in spec.fields))


def _train_widgets(cuda: bool) -> dict[str, dict[str, Any]]:
    """What a TrainConfig field's comment cannot say: its widget, label, limits and choices."""
    return {
        "dataset": dict(kind="choice", label="Data set", choices=tuple(DATASETS), choice_labels=tuple(
            (k, s.title + ("" if s.offline else " (download)")) for k, s in DATASETS.items())),
        "image_size": dict(label="Image size", unit="px", choices=IMAGE_SIZES, widget="select_slider"),
        "val_fraction": dict(label="Validation fraction", min=0.0, max=0.5, step=0.05, widget="number"),
        "arch": dict(kind="choice", label="Architecture", choices=tuple(ARCHITECTURES), choice_labels=tuple(
            (k, f"{a.title} ({a.year})") for k, a in ARCHITECTURES.items())),
        "mode": dict(kind="choice", label="Mode", choices=tuple(MODES), choice_labels=tuple(MODE_TITLES.items())),
        "finetune_k": dict(label="k (blocks before the head that learn)", min=1, max=20, widget="number"),
        "epochs": dict(label="Epochs", min=1, max=1000, widget="number"),
        "max_steps": dict(label="Max steps (0 = no cap)", min=1, max=10_000_000, none_as=0, widget="number"),
        "batch_size": dict(label="Batch size", choices=BATCH_SIZES, widget="select_slider"),
        "optimizer": dict(kind="choice", label="Optimizer", choices=tuple(OPTIMIZERS),
                          help="\n\n".join(f"**{k}**: {v}" for k, v in OPTIMIZERS.items())),
        "lr": dict(label="Learning rate", min=1e-6, max=10.0, step=0.001, format="%.5f", log=True, widget="number"),
        "momentum": dict(label="Momentum (SGD)", min=0.0, max=0.999, step=0.05, widget="number"),
        "weight_decay": dict(label="Weight decay", min=0.0, max=1.0, step=1e-4, format="%.5f", widget="number"),
        "warmup_steps": dict(label="Warm-up steps (empty = use the fraction)", min=0, max=10_000_000,
                             widget="number"),
        "warmup_fraction": dict(label="Warm-up fraction", min=0.0, max=0.9, step=0.01, widget="number"),
        "min_lr_fraction": dict(label="Final learning rate (× peak)", min=0.0, max=1.0, step=0.05, widget="number"),
        "label_smoothing": dict(label="Label smoothing", min=0.0, max=0.9, step=0.05, widget="number"),
        "dropout": dict(label="Dropout (empty = the network's own)", min=0.0, max=0.95, step=0.05,
                        widget="number"),
        "stochastic_depth": dict(label="Stochastic depth (empty = the network's own)", min=0.0, max=0.95, step=0.05,
                                 widget="number"),
        "seed": dict(label="Seed", min=0, max=2**31 - 1, widget="number"),
        "device": dict(kind="choice", label="Device", choices=("auto", "cpu") + (("cuda",) if cuda else ())),
        "amp": dict(kind="choice", label="Mixed precision", choices=AMP_CHOICES),
        "num_workers": dict(kind="choice", label="Data workers", choices=WORKER_CHOICES, none_as="auto",
                            choice_labels=((None, "auto"),)),
        "log_every": dict(label="Log every", unit="steps", min=1, max=10_000, widget="number"),
        "checkpoint_every_s": dict(label="Checkpoint every", unit="s", min=5.0, max=36_000.0, step=30.0,
                                   widget="number"),
    }


def _kind(annotation: str) -> tuple[str, bool]:
    """("int" | "float" | "bool" | "text", optional) from a field's annotation string, e.g. "int | None"."""
    parts = [p.strip() for p in str(annotation).split("|")]
    base = next(p for p in parts if p != "None")
    return {"int": "int", "float": "float", "bool": "bool"}.get(base, "text"), "None" in parts


def train_params(cuda: bool | None = None) -> dict[str, Param]:
    """One description per TrainConfig field the Train page draws (all but COMPOUND_FIELDS and OBJECTIVE_FIELDS),
    in the dataclass's order: default and type from the dataclass, help from its comments (``field_help``).
    ``cuda``: offer the "cuda" device (default: when torch sees one)."""
    if cuda is None:
        cuda = torch.cuda.is_available()
    helps, ui = field_help(), _train_widgets(cuda)
    out = {}
    for f in dataclasses.fields(TrainConfig):
        if f.name in COMPOUND_FIELDS or f.name in OBJECTIVE_FIELDS:
            continue
        kind, optional = _kind(f.type)
        extra = dict(ui.get(f.name, {}))
        out[f.name] = Param(f.name, kind=extra.pop("kind", kind), default=f.default,
                            help=extra.pop("help", helps.get(f.name, "")), optional=optional, **extra)
    return out


def describe_config(cfg: dict) -> str:
    """A run's config (``config.json`` as a dict) in one line of words, as the live view shows it: "LeNet-5 · Shapes · From scratch · 15 epochs · batch 64 · 64 px"."""
    arch, ds = ARCHITECTURES.get(cfg.get("arch")), DATASETS.get(cfg.get("dataset"))
    weights = cfg.get("weights")
    start = {"none": "random weights", "pretrained": "pretrained (ImageNet)"}.get(
        weights, f"weights of run {str(weights).rstrip('/').rsplit('/', 1)[-1]}")
    how = MODE_TITLES.get(cfg.get("mode"), str(cfg.get("mode")))
    how = how if cfg.get("mode") == "scratch" else f"{how} from {start}"  # "From scratch" says it all
    budget = f"{cfg.get('epochs')} epoch{'s' if cfg.get('epochs') != 1 else ''}"
    if cfg.get("max_steps"):
        budget += f", at most {cfg['max_steps']:,} steps"
    return " · ".join([arch.title if arch else str(cfg.get("arch")), ds.title if ds else str(cfg.get("dataset")),
                       how, budget,
                       f"batch {cfg.get('batch_size')}", f"{cfg.get('image_size')} px"])


def _last_conv_map(arch: str, size: int) -> str:
    """``"5 × 5"``: the spatial size of the last convolution's output of ``arch`` at ``size`` px (meta device)."""
    h, w = [r for r in summary(arch, size).rows if r.type == "Conv2d"][-1].output_shape[-2:]
    return f"{h} × {w}"


@functools.lru_cache(maxsize=None)
def preset_figures(name: str) -> dict[str, str]:
    """The figures a preset's description names, computed from its settings: ``params`` (the network with the
    data set's class count, as the run builds it), ``classes``, ``epochs``, ``train_images`` (the training split
    after validation), ``image_size``, ``work_vs_64`` (FLOPs of one image against 64 px), ``last_map`` and
    ``last_map_32`` (the last convolution's map at the preset's size and at 32 px). Cached: presets do not change
    while the server runs."""
    cfg = TrainConfig.from_preset(name)
    classes = len(DATASETS[cfg.dataset].classes) or None
    model = build(cfg.arch, num_classes=classes, weights="none")
    work = summary(cfg.arch, cfg.image_size).flops / summary(cfg.arch, 64).flops
    num_train = split_sizes(cfg)[0]
    return {"params": format_params(count_params(model)), "classes": str(classes or "?"), "epochs": str(cfg.epochs),
            "train_images": f"{num_train:,}" if num_train is not None else "?", "image_size": str(cfg.image_size),
            "work_vs_64": f"{work:.0%}", "last_map": _last_conv_map(cfg.arch, cfg.image_size),
            "last_map_32": _last_conv_map(cfg.arch, 32)}


def preset_description(name: str) -> str:
    """A preset's description with its figures filled in (:func:`preset_figures`); none is typed into the text."""
    text = PRESETS[name].description
    return text.format_map(preset_figures(name)) if "{" in text else text
