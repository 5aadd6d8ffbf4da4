"""Training objectives, one :class:`ObjectiveSpec` entry each: what a run minimises and how its settings are checked.

An entry says everything the rest of the code asks about an objective, so adding one is one entry here plus, when it
needs a loss of its own, one class in :mod:`core.train.losses` (named by ``loss``):

- ``fields``: the TrainConfig fields only this objective reads (the Distill page draws them; the Train page does not);
- ``check``: validates those fields with the config's ``need(condition, message)`` (light: no torch), and
  ``check_registries``: the checks that need other packages' registries (run only with ``check_registries=True``);
- ``loss``: which of :data:`core.train.losses.LOSSES` the loop minimises each step;
- ``staged``: the run is several trainings in stages, each with its own folder and checkpoints
  (:mod:`core.train.selftrain`), so the loop hands it to that runner and a resume restarts the current stage;
- ``unlabelled_split``: the data set's unlabelled split is held in memory too (the memory estimate counts it).

Papers: distillation, Hinton, Vinyals & Dean 2015 (https://arxiv.org/abs/1503.02531); Noisy Student, Xie et al.
2020 (https://arxiv.org/abs/1911.04252).

Gotcha: this module is imported by :mod:`core.train.config`, which light processes read (a queued worker, the CLI's
parser): it must not import torch at module level. The checks that need torch import it when they run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from core.train.checks import is_int, is_num

Need = Callable[[bool, str], None]  # core.train.checks.need


@dataclass(frozen=True)
class ObjectiveSpec:
    name: str
    description: str  # one line for the pages and `python -m core train --help`
    fields: tuple[str, ...] = ()
    check: Callable[[Any, Need], None] | None = None
    check_registries: Callable[[Any], None] | None = None
    loss: str = "plain"
    staged: bool = False
    unlabelled_split: bool = False


def _check_distill(cfg, need: Need) -> None:
    need(is_num(cfg.temperature) and cfg.temperature > 0,
         f"temperature must be > 0 (1 = plain softmax, 2–8 typical), got {cfg.temperature!r}")
    need(is_num(cfg.alpha) and 0 <= cfg.alpha <= 1, f"alpha must be in [0, 1] (the KD term's weight), got {cfg.alpha!r}")
    from core.train.losses import teacher_info  # here: torch; this module stays light (queued workers)

    teacher_info(cfg.teacher)  # a finished run or a pretrained zoo model, else one clear error


def _check_self_train(cfg, need: Need) -> None:
    need(is_int(cfg.iterations) and 1 <= cfg.iterations <= 3,
         f"iterations must be 1, 2 or 3 student generations, got {cfg.iterations!r}")
    need(is_int(cfg.labelled_per_class) and cfg.labelled_per_class >= 1,
         f"labelled_per_class must be a whole number ≥ 1, got {cfg.labelled_per_class!r}")
    need(is_num(cfg.threshold) and 0 <= cfg.threshold <= 1,
         f"threshold must be a probability in [0, 1], got {cfg.threshold!r}")
    need(cfg.pseudo_labels in ("hard", "soft"), f"pseudo_labels must be hard or soft, got {cfg.pseudo_labels!r}")
    need(cfg.class_cap is None or (is_int(cfg.class_cap) and cfg.class_cap >= 1),
         f"class_cap must be empty (no cap) or a whole number ≥ 1, got {cfg.class_cap!r}")
    need(isinstance(cfg.student_augmentation, (str, dict)),
         "student_augmentation must be a preset name or a pipeline spec (JSON object)")


def _check_self_train_registries(cfg) -> None:
    from core.augment import resolve_spec  # here: torchvision; this module stays light (queued workers)
    from core.errors import InputError

    student = resolve_spec(cfg.student_augmentation)  # raises on an unknown preset or a bad spec
    if cfg.pseudo_labels == "soft" and (student["mixing"] or resolve_spec(cfg.augmentation)["mixing"]):
        raise InputError("soft pseudo-labels cannot be mixed with CutMix / MixUp (they mix class indices): "
                         "use hard pseudo-labels or an augmentation without mixing")


OBJECTIVES: dict[str, ObjectiveSpec] = {s.name: s for s in (
    ObjectiveSpec("plain", "Cross-entropy on the labels (soft labels with CutMix / MixUp; auxiliary heads count 0.3 "
                  "each)."),
    ObjectiveSpec("distill", "Knowledge distillation: match a frozen teacher's softened probabilities (temperature T, "
                  "weight alpha) plus cross-entropy on the labels (weight 1 − alpha). Hinton et al. 2015.",
                  fields=("teacher", "temperature", "alpha"), check=_check_distill, loss="distill"),
    ObjectiveSpec("self_train", "Self-training (Noisy Student): a teacher trained on a few labels pseudo-labels the "
                  "rest; a noised student learns from both and becomes the next teacher. Xie et al. 2020.",
                  fields=("iterations", "labelled_per_class", "threshold", "pseudo_labels", "class_cap",
                          "student_augmentation"),
                  check=_check_self_train, check_registries=_check_self_train_registries, staged=True,
                  unlabelled_split=True),
)}
