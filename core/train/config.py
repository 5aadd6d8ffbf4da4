"""``TrainConfig``: every setting of a training run, with commented defaults (nanoGPT's settings block as a dataclass).

A run folder stores its config as ``config.json``; ``python -m core train --config config.json`` re-runs it unchanged.
The Train page's widgets map one-to-one onto these fields, and ``PRESETS`` are configs that override only what
differs from the defaults (like nanoGPT's config files).

Gotcha: ``batch_size`` is per process. Under ``torchrun --nproc_per_node N`` one optimizer step sees N × batch_size
images, so the learning rate that worked on one process may need scaling.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.budget import check_run_memory
from core.errors import InputError
from core.train.checks import is_int, is_num, need
from core.train.objectives import OBJECTIVES, ObjectiveSpec

# What each training mode makes trainable. Ordered from "least trained" to "most trained".
MODES: dict[str, str] = {
    "scratch": "From scratch: random initial weights, every layer learns.",
    "linear_probe": "Linear probe: freeze the whole pretrained network, train only the new classifier head. "
    "Tests how good the pretrained features already are.",
    "finetune_last_k": "Fine-tune the last k blocks (plus the head); earlier blocks keep their pretrained filters.",
    "full": "Full fine-tune: start from the weights and let every layer adapt (use a small learning rate).",
}
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD with Nesterov momentum 0.9: the classic for CNNs; likes larger learning rates (~0.05-0.1).",
    "adamw": "AdamW: adaptive per-weight steps with decoupled weight decay; likes small learning rates (~1e-3).",
}
AMP_CHOICES = ("auto", "off", "bf16", "fp16")


@dataclass
class TrainConfig:
    # --- data ---
    dataset: str = "shapes"  # a key of core.data.DATASETS (Shapes works offline)
    dataset_options: dict = field(default_factory=dict)  # data-set options, e.g. {"n": 12000, "bias": 0.0}
    image_size: int = 64  # images are resized to image_size × image_size pixels
    val_fraction: float = 0.1  # share of the training split held out for validation (stratified); 0 = none
    augmentation: str | dict = "none"  # a core.augment preset name or a pipeline spec dict (Augmentation page)
    # --- model ---
    arch: str = "resnet18"  # a key of core.models.ARCHITECTURES
    weights: str = "none"  # "none" (random init) | "pretrained" (ImageNet) | a run folder or .safetensors file
    mode: str = "scratch"  # one of MODES: scratch | linear_probe | finetune_last_k | full
    finetune_k: int = 1  # finetune_last_k: how many blocks before the head also learn
    # --- budget ---
    epochs: int = 3  # passes over the training split
    max_steps: int | None = None  # optional cap on optimizer steps (None = epochs decide)
    batch_size: int = 64  # images per step (per process under torchrun)
    # --- optimisation ---
    optimizer: str = "adamw"  # one of OPTIMIZERS
    lr: float = 2e-3  # peak learning rate, reached after the warm-up (SGD wants ~25× more)
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.05  # pull towards zero (decoupled in AdamW; SGD wants ~5e-4); not on norms/biases
    warmup_steps: int | None = None  # linear warm-up length; None = warmup_fraction × total steps
    warmup_fraction: float = 0.15  # warm-up length as a share of all steps (when warmup_steps is empty)
    min_lr_fraction: float = 0.0  # cosine decays from lr to lr × min_lr_fraction at the last step
    label_smoothing: float = 0.1  # 0.1 = targets 0.9/rest shared: discourages over-confident logits
    dropout: float | None = None  # set every Dropout layer's p (None = the architecture's own); a student's noise
    stochastic_depth: float | None = None  # residual blocks skip their branch at random in training (the last block with this probability, earlier ones linearly less); a student's noise; None = the architecture's own
    # --- objective (one ObjectiveSpec each in core.train.objectives) ---
    objective: str = "plain"  # plain (cross-entropy) | distill (learn from a teacher) | self_train (Noisy Student)
    teacher: str | None = None  # distill: a finished run folder, or "pretrained:ARCH" (ImageNet classes only)
    temperature: float = 4.0  # distill: softmax temperature T of teacher and student (higher = softer targets)
    alpha: float = 0.9  # distill: weight of the KD term; 1 − alpha weighs cross-entropy on the true labels
    iterations: int = 2  # self_train: student generations after the labelled-only teacher (1–3)
    labelled_per_class: int = 50  # self_train: labelled images per class; the rest of the training split is unlabelled
    threshold: float = 0.7  # self_train: keep a pseudo-label only if the teacher's top probability ≥ threshold
    pseudo_labels: str = "hard"  # self_train: hard (the teacher's class) | soft (the teacher's probabilities)
    class_cap: int | None = None  # self_train: at most this many pseudo-labels per class, most confident first
    student_augmentation: str | dict = "randaugment"  # self_train: the students' input noise (stage 0 uses augmentation)
    # --- runtime ---
    seed: int = 0  # model init, data order and augmentation; same seed + CPU = same weights
    device: str = "auto"  # "auto" = CUDA → MPS → CPU, or "cpu", "cuda", "cuda:1", "mps"
    num_workers: int | None = None  # DataLoader worker processes; None = 0 on CPU, up to 8 on a GPU
    amp: str = "auto"  # mixed precision: auto (bf16/fp16 on CUDA, off elsewhere) | off | bf16 | fp16
    log_every: int = 10  # optimizer steps between two training-metric records
    checkpoint_every_s: float = 120.0  # also checkpoint mid-epoch this often (seconds), so a crash loses little

    # ---- JSON round trip ----
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        if not isinstance(data, dict):
            raise InputError(f"a training config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"unknown training setting(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str | bytes) -> TrainConfig:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"training config is not valid JSON: {err}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainConfig:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot read config file {path}: {err.strerror or err}") from None
        return cls.from_json(text)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> TrainConfig:
        if name not in PRESETS:
            raise InputError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})")
        return cls.from_dict(copy.deepcopy({**PRESETS[name].overrides, **overrides}))  # presets stay pristine

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    # ---- validation ----
    def validate(self, *, check_registries: bool = True, check_memory: bool | None = None) -> TrainConfig:
        """Raise :class:`InputError` naming the first bad setting; returns self so calls chain.

        ``check_registries`` also checks dataset / arch / augmentation names against the other packages'
        registries (imports torch and torchvision). ``check_memory`` (default: as ``check_registries``) refuses a
        run whose data set and batch clearly cannot fit into this machine's free memory
        (:class:`core.budget.NotEnoughMemory`, an InputError saying the estimate and the limit).
        """
        need(isinstance(self.dataset, str) and self.dataset != "", "dataset must be a data-set name")
        need(isinstance(self.dataset_options, dict), "dataset_options must be a JSON object, e.g. {\"n\": 6000}")
        need(is_int(self.image_size) and 16 <= self.image_size <= 1024,
             f"image_size must be an integer between 16 and 1024 pixels, got {self.image_size!r}")
        need(is_num(self.val_fraction) and 0 <= self.val_fraction < 0.9,
             f"val_fraction must be between 0 and 0.9, got {self.val_fraction!r}")
        need(isinstance(self.augmentation, (str, dict)),
             "augmentation must be a preset name or a pipeline spec (JSON object)")
        need(isinstance(self.arch, str) and self.arch != "", "arch must be an architecture name")
        need(isinstance(self.weights, str) and self.weights != "",
             "weights must be 'none', 'pretrained' or the path of a run folder / .safetensors checkpoint")
        need(self.mode in MODES, f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.mode == "scratch":
            need(self.weights == "none",
                 "mode 'scratch' trains from random weights: set weights to 'none', or choose a fine-tune mode "
                 "to start from pretrained weights")
        if self.weights not in ("none", "pretrained"):
            p = Path(self.weights)
            need(p.exists(), f"weights: no such run folder or checkpoint file: {self.weights}")
        need(is_int(self.finetune_k) and self.finetune_k >= 1,
             f"finetune_k must be a whole number of blocks ≥ 1, got {self.finetune_k!r}")
        need(is_int(self.epochs) and 1 <= self.epochs <= 10_000, f"epochs must be between 1 and 10000, got {self.epochs!r}")
        need(self.max_steps is None or (is_int(self.max_steps) and self.max_steps >= 1),
             f"max_steps must be empty or a whole number ≥ 1, got {self.max_steps!r}")
        need(is_int(self.batch_size) and 1 <= self.batch_size <= 4096,
             f"batch_size must be between 1 and 4096, got {self.batch_size!r}")
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        need(is_num(self.lr) and 0 < self.lr <= 10, f"lr must be a positive learning rate ≤ 10, got {self.lr!r}")
        need(is_num(self.momentum) and 0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum!r}")
        need(is_num(self.weight_decay) and 0 <= self.weight_decay <= 1,
             f"weight_decay must be between 0 and 1, got {self.weight_decay!r}")
        need(self.warmup_steps is None or (is_int(self.warmup_steps) and self.warmup_steps >= 0),
             f"warmup_steps must be empty or a whole number ≥ 0, got {self.warmup_steps!r}")
        need(is_num(self.warmup_fraction) and 0 <= self.warmup_fraction < 1,
             f"warmup_fraction must be in [0, 1), got {self.warmup_fraction!r}")
        need(is_num(self.min_lr_fraction) and 0 <= self.min_lr_fraction <= 1,
             f"min_lr_fraction must be in [0, 1], got {self.min_lr_fraction!r}")
        need(is_num(self.label_smoothing) and 0 <= self.label_smoothing < 1,
             f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        need(is_int(self.seed) and 0 <= self.seed < 2**63, f"seed must be a whole number ≥ 0, got {self.seed!r}")
        need(isinstance(self.device, str) and self.device != "", "device must be 'auto', 'cpu', 'cuda[:N]' or 'mps'")
        need(self.num_workers is None or (is_int(self.num_workers) and 0 <= self.num_workers <= 64),
             f"num_workers must be empty (auto) or between 0 and 64, got {self.num_workers!r}")
        need(self.amp in AMP_CHOICES, f"amp must be one of {', '.join(AMP_CHOICES)}, got {self.amp!r}")
        need(is_int(self.log_every) and self.log_every >= 1, f"log_every must be ≥ 1, got {self.log_every!r}")
        need(is_num(self.checkpoint_every_s) and self.checkpoint_every_s > 0,
             f"checkpoint_every_s must be > 0 seconds, got {self.checkpoint_every_s!r}")
        self._validate_objective()
        if check_registries:
            self._validate_registries()
        if check_registries if check_memory is None else check_memory:
            check_run_memory(self)  # e.g. Shapes n = 1,000,000 at 64 px holds ~16 GB of pixels
        return self

    def _validate_objective(self) -> None:
        need(self.dropout is None or (is_num(self.dropout) and 0 <= self.dropout < 1),
             f"dropout must be empty (the architecture's own) or in [0, 1), got {self.dropout!r}")
        need(self.stochastic_depth is None or (is_num(self.stochastic_depth) and 0 <= self.stochastic_depth < 1),
             f"stochastic_depth must be empty (the architecture's own) or in [0, 1), got {self.stochastic_depth!r}")
        need(self.objective in OBJECTIVES, f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.objective_spec.check is not None:
            self.objective_spec.check(self, need)

    @property
    def objective_spec(self) -> ObjectiveSpec:
        """The entry of ``objective`` in :data:`core.train.objectives.OBJECTIVES` (KeyError before validation)."""
        return OBJECTIVES[self.objective]

    def _validate_registries(self) -> None:
        # here, not at the top: these registries import torch, and a config is read by light processes too (a
        # queued worker, the CLI's argument parser)
        from core.augment import PRESETS as AUG_PRESETS, validate_spec
        from core.data import DATASETS
        from core.models import ARCHITECTURES, min_input_size

        if self.dataset not in DATASETS:
            raise InputError(f"unknown dataset {self.dataset!r} (choose from {', '.join(DATASETS)})")
        spec = DATASETS[self.dataset]
        unknown = sorted(set(self.dataset_options) - set(getattr(spec, "options", {}) or {}))
        if unknown:
            known = ", ".join(getattr(spec, "options", {}) or {}) or "none"
            raise InputError(f"unknown option(s) for dataset {self.dataset}: {', '.join(unknown)} (known: {known})")
        if self.arch not in ARCHITECTURES:
            raise InputError(f"unknown architecture {self.arch!r} (choose from {', '.join(ARCHITECTURES)})")
        smallest = min_input_size(self.arch)
        if self.image_size < smallest:
            raise InputError(f"image_size {self.image_size} px is too small for {self.arch}: it needs at least "
                             f"{smallest} px (its downsampling would shrink the image below one pixel)")
        if self.weights == "pretrained" and not ARCHITECTURES[self.arch].has_pretrained:
            raise InputError(f"{self.arch} has no pretrained weights: use weights 'none' and mode 'scratch'")
        if isinstance(self.augmentation, str):
            if self.augmentation not in AUG_PRESETS:
                raise InputError(
                    f"unknown augmentation preset {self.augmentation!r} (choose from {', '.join(AUG_PRESETS)})"
                )
        else:
            validate_spec(self.augmentation)
        if self.objective_spec.check_registries is not None:
            self.objective_spec.check_registries(self)


@dataclass(frozen=True)
class Preset:
    """A named starting point: ``overrides`` are the fields that differ from TrainConfig's defaults."""

    title: str
    # what it shows and why this recipe. Figures are {placeholders} that core.train.params.preset_description
    # computes from the settings (parameters, images, map sizes); measured times come from the benches, not this text
    description: str
    overrides: dict[str, Any]


# From random weights on the offline Shapes set (12k images at 64 px): what the two "from scratch" presets share.
_SHAPES_SCRATCH: dict[str, Any] = {
    "dataset": "shapes", "dataset_options": {"n": 12000}, "weights": "none", "mode": "scratch", "batch_size": 64,
    "image_size": 64, "optimizer": "adamw", "label_smoothing": 0.1, "warmup_fraction": 0.15, "augmentation": "none",
}
PRESETS: dict[str, Preset] = {
    "shapes-lenet5": Preset(
        title="Shapes · LeNet-5 from scratch (default, minutes on a CPU)",
        description="LeNet-5 (1998, {params} parameters) learns the {classes} Shapes classes from random weights, "
        "offline: {epochs} epochs over {train_images} images at {image_size} px, AdamW with warm-up and cosine decay, label smoothing, no "
        "augmentation (`python -m bench.default_preset` measures its time and test accuracy from a fresh home; a "
        "browser test checks ≥ 85 %). Why not a ResNet? On a CPU one ResNet-18 step at 64 px costs as much as many "
        "LeNet-5 steps, so in the same minutes it sees the data far fewer times: small network + many epochs wins "
        "on a small budget (the estimate below times either on your device).",
        overrides={**_SHAPES_SCRATCH, "arch": "lenet5", "epochs": 15, "lr": 3e-3, "weight_decay": 0.0},
    ),
    "shapes-resnet18": Preset(
        title="Shapes · ResNet-18 from scratch (slower on a CPU)",
        description="A ResNet-18 ({params} parameters) learns the {classes} Shapes classes from random weights, "
        "offline: AdamW with warm-up and cosine decay, label smoothing, no augmentation, {epochs} epochs over "
        "{train_images} images at {image_size} px (`python -m bench.default_preset --preset shapes-resnet18` measures it). Expect it to take several "
        "times the LeNet-5 default on a CPU, and longer while other programs compete for it. The estimate below "
        "is measured on your device.",
        overrides={**_SHAPES_SCRATCH, "arch": "resnet18", "epochs": 3, "lr": 2e-3, "weight_decay": 0.05},
    ),
    "shapes-explain": Preset(
        title="Shapes · LeNet-5 at 48 px (quick model for the Explain page)",
        description="LeNet-5 at {image_size} px (each step {work_vs_64} of a 64 px step's work; C5 still sees a "
        "{last_map} map, which the Explain page's Grad-CAM uses) on twice the default's images for a third of its "
        "epochs: {train_images} training images × {epochs} epochs, a higher peak learning rate and a short warm-up. On a small budget fresh images beat "
        "repeated ones (the same number of image-steps on half the images for twice the epochs scored lower). At 32 px "
        "the recipe overfits (C5's map is {last_map_32} there, so the global pool cannot make it position-invariant). The Explain "
        "page shows this preset's measured time and accuracy on your machine (`python -m bench.explain_preset`).",
        overrides={**_SHAPES_SCRATCH, "arch": "lenet5", "image_size": 48, "dataset_options": {"n": 24000},
                   "epochs": 5, "lr": 5e-3, "warmup_fraction": 0.05, "weight_decay": 0.0},
    ),
    "shapes-tiny": Preset(
        title="Shapes · smoke test (seconds)",
        description="A few dozen steps on a small Shapes set: checks that everything works; accuracy stays low.",
        overrides={"dataset": "shapes", "dataset_options": {"n": 1200}, "arch": "resnet18", "epochs": 1,
                   "max_steps": 30, "batch_size": 32, "image_size": 32},
    ),
    "shapes-linear-probe": Preset(
        title="Shapes · linear probe on ImageNet features",
        description="Freeze a pretrained ResNet-18 and train only its last layer: how far do ImageNet features "
        "get on drawn shapes? Needs the pretrained weights (downloaded once).",
        overrides={"dataset": "shapes", "dataset_options": {"n": 6000}, "arch": "resnet18",
                   "weights": "pretrained", "mode": "linear_probe", "epochs": 3, "batch_size": 64,
                   "image_size": 64, "optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.0},
    ),
    "shapes-finetune": Preset(
        title="Shapes · fine-tune pretrained ResNet-18",
        description="Start from ImageNet weights and fine-tune every layer with a small learning rate. "
        "Needs the pretrained weights (downloaded once).",
        overrides={"dataset": "shapes", "dataset_options": {"n": 6000}, "arch": "resnet18",
                   "weights": "pretrained", "mode": "full", "epochs": 2, "batch_size": 64, "image_size": 64,
                   "optimizer": "sgd", "lr": 0.01, "weight_decay": 5e-4, "augmentation": "pad-crop-flip"},
    ),
}
DEFAULT_PRESET = "shapes-lenet5"


def field_help() -> dict[str, str]:
    """Each field's comment from this file's source (the UI's and CLI's help text: written once, here)."""
    src = inspect.getsource(TrainConfig)
    out = {}
    for m in re.finditer(r"^\s{4}(\w+): [^=\n]+=[^#\n]*#\s*(.+)$", src, flags=re.M):
        out[m.group(1)] = m.group(2).strip()
    return out


def cli_command(config: TrainConfig) -> str:
    """The ``python -m core train`` command that runs ``config`` (only fields that differ from the defaults)."""
    default = TrainConfig()
    parts = ["python -m core train"]
    for f in dataclasses.fields(TrainConfig):
        value = getattr(config, f.name)
        if value == getattr(default, f.name):
            continue
        text = json.dumps(value) if isinstance(value, dict) else ("none" if value is None else str(value))
        parts.append(f"--{f.name.replace('_', '-')} {shlex.quote(text)}")
    return " \\\n    ".join(parts)
