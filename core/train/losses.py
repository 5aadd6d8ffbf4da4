"""Training objectives: what the loop minimises, as one small callable per objective.

The loop calls ``loss, logits, parts = objective(out, target, x)`` once per step and knows nothing else about
the objective. ``out`` is the network's output (logits ``[B, K]``, or in train mode a namedtuple
``(logits, aux...)`` for GoogLeNet / Inception-v3), ``target`` class indices ``[B]`` or soft labels ``[B, K]``
(CutMix / MixUp, soft pseudo-labels), ``x`` the normalised input batch ``[B, 3, S, S]`` (a teacher sees exactly
the batch the student sees, mixed and augmented). ``parts`` are the detached terms the loop logs (``ce``,
``kd``). A new objective is one entry in :data:`core.train.objectives.OBJECTIVES` (its fields, checks and which
loss it uses), plus one class here and its line in :data:`LOSSES` if it needs a new loss; the loop does not change.

- ``plain``: cross-entropy on the main logits + 0.3 × each auxiliary head's cross-entropy.
- ``distill``: knowledge distillation (Hinton, Vinyals, Dean 2015, https://arxiv.org/abs/1503.02531), see
  :func:`distillation_loss`. The teacher is frozen, in ``eval()``, without gradients, and is never part of the
  student's checkpoint (it is not a submodule of the student).
- ``self_train``: Noisy Student (Xie et al. 2020, https://arxiv.org/abs/1911.04252) is a *data source*, not a
  loss: each stage trains with ``plain`` on labelled + pseudo-labelled images (see :mod:`core.train.selftrain`).

Gotcha: PyTorch's ``F.kl_div(..., reduction="mean")`` averages over all B × K elements, which is K× smaller than
the KL divergence per sample; the paper's term is ``reduction="batchmean"``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from core import runfiles
from core.errors import InputError
from core.models import ARCHITECTURES, build
from core.models.activations import main_output
from core.models.shared import load_run_model
from core.train.config import TrainConfig
from core.train.objectives import OBJECTIVES

AUX_LOSS_WEIGHT = 0.3  # GoogLeNet / Inception-v3 auxiliary classifiers (Szegedy et al. 2015 used 0.3)



def split_output(out) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(main logits ``[B, K]``, auxiliary logits) of a network's output (a tensor or a logits namedtuple)."""
    if isinstance(out, tuple):
        return out[0], [a for a in out[1:] if a is not None]
    return out, []


def classification_loss(out, target: torch.Tensor, label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy on the main logits, plus 0.3 × each auxiliary head's loss (GoogLeNet, Inception-v3).

    ``out``: logits ``[B, K]``, or in train mode for aux-logit models a namedtuple (logits, aux...).
    ``target``: class indices ``[B]`` or soft labels ``[B, K]`` (CutMix / MixUp). Returns (loss, main logits).
    """
    logits, aux = split_output(out)
    loss = F.cross_entropy(logits, target, label_smoothing=label_smoothing)
    for a in aux:
        loss = loss + AUX_LOSS_WEIGHT * F.cross_entropy(a, target, label_smoothing=label_smoothing)
    return loss, logits


def kd_term(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)), averaged over the batch (``reduction="batchmean"``).

    Why T²: the gradient of the softened KL with respect to the student's logits shrinks like 1/T², so
    multiplying by T² keeps the KD term's pull about the same size whatever T is (Hinton et al. 2015, §2).
    Computed in float32 (under autocast a bf16 softmax of logits / T loses the small probabilities KD is about).
    """
    T = float(temperature)
    log_p_s = F.log_softmax(student_logits.float() / T, dim=1)
    log_p_t = F.log_softmax(teacher_logits.float() / T, dim=1)
    return F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True) * (T * T)


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor,
                      temperature: float, alpha: float, label_smoothing: float = 0.0) -> torch.Tensor:
    """α · T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α) · CE(z_s, y)  (Hinton et al. 2015).

    ``student_logits``, ``teacher_logits``: ``[B, K]``; ``targets``: class indices ``[B]`` or soft labels
    ``[B, K]`` (the CE part then uses the soft label, e.g. CutMix's area-weighted pair). ``temperature`` T > 0
    softens both distributions (T = 1: plain softmax); ``alpha`` in [0, 1] (0 = plain cross-entropy).
    The teacher's logits should come without gradient (``torch.no_grad()`` or ``.detach()``).

    Gotcha: with ``reduction="mean"`` the KL would be divided by B × K instead of B: K× too small.
    """
    return distillation_parts(student_logits, teacher_logits, targets, temperature, alpha, label_smoothing)[0]


def distillation_parts(student_logits, teacher_logits, targets, temperature: float, alpha: float,
                       label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, CE, KD) of :func:`distillation_loss`; CE and KD unweighted (what the loop logs)."""
    if not temperature > 0:
        raise InputError(f"temperature must be > 0, got {temperature!r}")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"alpha must be in [0, 1], got {alpha!r}")
    ce = F.cross_entropy(student_logits, targets, label_smoothing=label_smoothing)
    kd = kd_term(student_logits, teacher_logits, temperature)
    return alpha * kd + (1.0 - alpha) * ce, ce, kd


# ------------------------------------------------------------------ objectives (what the loop calls)
class PlainObjective:
    """Cross-entropy (+ auxiliary heads). Logged part: ``ce``."""

    parts = ("ce",)

    def __init__(self, label_smoothing: float = 0.0):
        self.label_smoothing = label_smoothing

    def __call__(self, out, target: torch.Tensor, x: torch.Tensor):
        loss, logits = classification_loss(out, target, self.label_smoothing)
        return loss, logits, (loss.detach(),)


class DistillObjective:
    """Knowledge distillation from a frozen ``teacher`` on the same batch. Logged parts: ``ce``, ``kd``.

    Auxiliary heads (GoogLeNet, Inception-v3 students) keep their 0.3 × cross-entropy; only the main logits
    are distilled.
    """

    parts = ("ce", "kd")

    def __init__(self, teacher: nn.Module, temperature: float, alpha: float, label_smoothing: float = 0.0):
        self.teacher = freeze(teacher)
        self.temperature, self.alpha, self.label_smoothing = float(temperature), float(alpha), label_smoothing

    def teacher_logits(self, x: torch.Tensor) -> torch.Tensor:
        self.teacher.eval()  # guard: nobody may have switched it back (BatchNorm statistics must not move)
        with torch.no_grad():
            return main_output(self.teacher(x))

    def __call__(self, out, target: torch.Tensor, x: torch.Tensor):
        logits, aux = split_output(out)
        total, ce, kd = distillation_parts(logits, self.teacher_logits(x), target, self.temperature, self.alpha,
                                           self.label_smoothing)
        for a in aux:
            total = total + AUX_LOSS_WEIGHT * F.cross_entropy(a, target, label_smoothing=self.label_smoothing)
        return total, logits, (ce.detach(), kd.detach())


def freeze(model: nn.Module) -> nn.Module:
    """eval() + ``requires_grad_(False)``: a teacher neither learns nor updates its BatchNorm statistics."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _plain(cfg, classes: list[str], device: torch.device) -> PlainObjective:
    return PlainObjective(cfg.label_smoothing)


def _distill(cfg, classes: list[str], device: torch.device) -> DistillObjective:
    teacher = load_teacher(cfg.teacher, classes).to(device)
    return DistillObjective(teacher, cfg.temperature, cfg.alpha, cfg.label_smoothing)


# An ObjectiveSpec's ``loss`` -> (cfg, classes, device) -> the callable the loop uses.
LOSSES: dict[str, Any] = {"plain": _plain, "distill": _distill}


def make_objective(cfg, classes: list[str], device: torch.device):
    """The rule: ``cfg.objective``'s entry (:mod:`core.train.objectives`) names its loss here; a self-training stage
    trains with ``plain``."""
    if cfg.objective not in OBJECTIVES:
        raise InputError(f"unknown objective {cfg.objective!r} (choose from {', '.join(OBJECTIVES)})")
    return LOSSES[OBJECTIVES[cfg.objective].loss](cfg, classes, device)


# ------------------------------------------------------------------ teachers
PRETRAINED_PREFIX = "pretrained:"


def teacher_info(teacher: str | None) -> dict[str, Any]:
    """What a teacher setting names, checked without loading weights: {"kind", "arch", "classes", "run_dir"}.

    ``teacher``: a finished run folder (its checkpoint meta names the classes) or ``"pretrained:ARCH"`` (a zoo
    model with ImageNet weights: only for data sets whose classes are ImageNet's). Raises :class:`InputError`.
    """
    if not teacher or not isinstance(teacher, str):
        raise InputError("distillation needs a teacher: a finished run folder or 'pretrained:ARCH'")
    if teacher.startswith(PRETRAINED_PREFIX):
        arch = teacher[len(PRETRAINED_PREFIX):]
        if arch not in ARCHITECTURES or not ARCHITECTURES[arch].has_pretrained:
            raise InputError(f"teacher {teacher!r}: {arch!r} is not an architecture with pretrained weights")
        return {"kind": "pretrained", "arch": arch, "classes": None, "run_dir": None}
    run_dir = Path(teacher)
    if not (run_dir / runfiles.CONFIG_FILE).is_file():
        raise InputError(f"teacher: no such run folder: {teacher}")
    state = runfiles.effective_status(run_dir).get("state")
    if state != "completed":
        raise InputError(f"teacher run {run_dir.name} is {state or 'unknown'}, not completed: distil from a "
                         "finished run")
    kind = "best" if runfiles.has_checkpoint(run_dir, "best") else "last"
    meta = runfiles.checkpoint_meta(run_dir, kind) or {}
    arch = TrainConfig.load(run_dir / runfiles.CONFIG_FILE).arch
    return {"kind": "run", "arch": arch, "classes": list(meta.get("classes") or []), "run_dir": run_dir}


def check_teacher_classes(info: dict[str, Any], classes: list[str]) -> None:
    """The teacher must predict exactly the student's classes, in the same order (else KD compares apples and
    pears): raise :class:`InputError` naming the difference."""
    if info["kind"] == "pretrained":
        theirs = _imagenet_categories(info["arch"])
    else:
        theirs = info["classes"]
    if list(theirs) != list(classes):
        only_t = [c for c in theirs if c not in classes][:5]
        only_s = [c for c in classes if c not in theirs][:5]
        detail = ("same classes in another order" if not only_t and not only_s and len(theirs) == len(classes)
                  else f"teacher only: {only_t or 'none'}; data set only: {only_s or 'none'}")
        raise InputError(f"the teacher predicts {len(theirs)} classes and the data set has {len(classes)}: the "
                         f"class lists must be equal ({detail})")


def load_teacher(teacher: str | None, classes: list[str]) -> nn.Module:
    """The frozen teacher network, loaded strictly (a partial key match is an error), eval, no grad."""
    info = teacher_info(teacher)
    check_teacher_classes(info, classes)
    if info["kind"] == "pretrained":
        return freeze(build(info["arch"], weights="default"))
    return freeze(load_run_model(info["run_dir"]).model)


def _imagenet_categories(arch: str) -> list[str]:
    """ImageNet class names from the architecture's weights enum (torchvision), else ResNet-18's (same list)."""
    # here: torchvision's weights enums, only for a pretrained teacher
    from torchvision.models import ResNet18_Weights, get_model_weights

    tv_name = ARCHITECTURES[arch].tv_name
    if tv_name:
        return list(get_model_weights(tv_name).DEFAULT.meta["categories"])
    return list(ResNet18_Weights.DEFAULT.meta["categories"])  # timm ImageNet models use the same 1000 classes


def estimate_teacher(cfg, num_classes: int, device: torch.device) -> nn.Module | None:
    """For the duration estimate: the teacher's architecture with random weights (same speed), or None when
    ``cfg`` does not distil. A teacher that cannot be read yet costs nothing here (validation reports it)."""
    if cfg.objective != "distill":
        return None
    try:
        arch = teacher_info(cfg.teacher)["arch"]
    except InputError:
        return None
    return freeze(build(arch, num_classes=num_classes, weights="none")).to(device)


# ------------------------------------------------------------------ the experiment the page runs
KD_STUDENT_EPOCHS = 3  # the student's budget by default: short, so the teacher's extra signal can matter


def kd_pair(teacher_run: str, *, arch: str | None = None, temperature: float = 4.0, alpha: float = 0.9,
            epochs: int = KD_STUDENT_EPOCHS, seed: int | None = None, **overrides: Any):
    """(student with KD, the same student without KD): one config each, identical but for the objective.

    Both take the teacher run's data settings (data set, options, image size, validation share), so the class
    lists match and the budget (epochs, batch, optimizer, schedule) is the same: the difference in accuracy is
    the teacher's doing. ``arch`` defaults to the teacher's architecture.
    """
    base = TrainConfig.load(Path(teacher_run) / runfiles.CONFIG_FILE)
    changes: dict[str, Any] = {"arch": arch or base.arch, "epochs": epochs, "max_steps": None, "weights": "none",
                               "mode": "scratch", "objective": "plain", "teacher": None, **overrides}
    if seed is not None:
        changes["seed"] = seed
    plain = base.replace(**changes)
    kd = plain.replace(objective="distill", teacher=str(teacher_run), temperature=temperature, alpha=alpha)
    return kd, plain
