"""Shortcut learning: when the background colour gives the class away, a network learns the colour, not the shape.

Data sets are always biased. Shapes' ``bias`` knob makes it explicit: in the *training* split each class owns a
background hue with probability ``b`` (so colour alone predicts the label with accuracy ``b + (1 − b)/6``); in
the test split the background is random. A network trained on the biased split scores well on held-out biased
images and falls towards chance on the unbiased test split: it took the shortcut (Geirhos et al. 2020,
"Shortcut learning in deep neural networks", https://arxiv.org/abs/2004.07780).

Two remedies, measured side by side: **colour augmentation** (the engine's ``hue`` step at full strength: every
training image's colours are rotated by a random angle, so the background hue no longer predicts anything) and
**unbiased data** (the same number of images with random backgrounds).

The three networks are real runs of the training engine (:func:`core.runs.launcher.start`: a worker subprocess
each, state on disk), so a browser refresh or a rerun does not kill them and each can be opened on the Runs page.
:func:`start_shortcut` writes a small *group file* and starts the first run; :func:`advance` (called by every
poll of the page, or :func:`wait_for_group` in a script) starts the next one when the previous has completed;
:func:`group_progress` reads their progress; :func:`shortcut_results` evaluates the finished networks (test
accuracy, agreement with the background colour, the Grad-CAM pointing game).
Gotcha: the runs start one at a time from the page's polls, so closing the page pauses the lesson between two
runs (a run that has started finishes); opening the page again continues it.

Shapes: test images ``uint8 [M, 3, S, S]``, predictions ``int64 [M]``.
Gotcha: the *validation* images that show the model "works" are held out from the biased training split, so
they carry the same bias: in-distribution accuracy hides the shortcut; only the unbiased test split reveals it.
"""
from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.data.shapes import CLASSES, ShapesDataset
from core.errors import InputError, PlaygroundError
from core.explain import ExplainError
from core.explain.metrics import pointing_game
from core.lessons.data import to_float
from core.lessons.fit import accuracy, predict
from core.models.shared import load_run_model
from core.paths import home
from core.runs import launcher, results, store
from core.train.config import TrainConfig

__all__ = ["ShortcutSettings", "shortcut_configs", "start_shortcut", "advance", "wait_for_group", "ShortcutGroup",
           "load_group", "latest_group", "last_duration", "RunProgress", "group_progress", "ShortcutModel",
           "ShortcutLesson", "shortcut_results", "example_images", "HUE_AUGMENTATION", "BIASED", "AUGMENTED",
           "UNBIASED", "LABELS"]

BIASED, AUGMENTED, UNBIASED = "Biased data", "Biased data + hue augmentation", "Unbiased data"
LABELS = (BIASED, AUGMENTED, UNBIASED)
#: The engine's hue jitter at full strength: a hue shift drawn from the whole colour wheel per image.
HUE_AUGMENTATION: dict[str, Any] = {"version": 1, "steps": [{"name": "hue", "params": {"strength": 0.5}}],
                                   "mixing": None}
_GROUP_DIR = ("lessons", "shortcut")


class ShortcutError(PlaygroundError):
    """A shortcut-lesson group that cannot be read, or whose runs did not all finish."""


@dataclass
class ShortcutSettings:
    """What the page's widgets set; one :class:`TrainConfig` per network follows from it.

    Defaults: LeNet-5 at 48 px for 10 epochs over 6,000 Shapes images (10 % held out), the recipe of the
    Train page's ``shapes-explain`` preset made shorter so the three runs fit a lesson. Measured (one run each,
    engine in-process): the unbiased network reached 65.1 % on the test split, the biased one (4,000 images,
    8 epochs) 99.8 % on its biased validation images and 16.2 % (chance) on the test split; with 4,000 images and
    8 epochs the unbiased one reached only 47 %, too close to chance to make the point clearly.
    """

    bias: float = 1.0  # how often a training image's background hue is its class's
    n: int = 6000  # images in the training split, before the 10 % validation hold-out
    epochs: int = 10
    image_size: int = 48
    arch: str = "lenet5"
    lr: float = 3e-3
    seed: int = 0

    def validate(self) -> ShortcutSettings:
        if not isinstance(self.bias, (int, float)) or not 0.0 <= float(self.bias) <= 1.0:
            raise InputError(f"bias must be between 0 and 1, got {self.bias!r}")
        for name, value, lo, hi in (("n", self.n, 60, 100_000), ("epochs", self.epochs, 1, 200),
                                    ("image_size", self.image_size, 32, 128)):
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise InputError(f"{name} must be a whole number between {lo:,} and {hi:,}, got {value!r}")
        return self


def shortcut_configs(settings: ShortcutSettings) -> dict[str, Any]:
    """The three runs' :class:`core.train.config.TrainConfig`, by label: the same network, budget and seed;
    only the data (biased or not) and the augmentation (none or hue) differ."""
    s = settings.validate()
    base = dict(dataset="shapes", image_size=s.image_size, arch=s.arch, weights="none", mode="scratch",
                epochs=s.epochs, batch_size=64, optimizer="adamw", lr=s.lr, weight_decay=0.0, label_smoothing=0.1,
                val_fraction=0.1, seed=s.seed)

    def options(bias: float) -> dict:
        return {"n": s.n, "bias": float(bias)}  # the unbiased test split has n / 6 images

    return {
        BIASED: TrainConfig(dataset_options=options(s.bias), augmentation="none", **base),
        AUGMENTED: TrainConfig(dataset_options=options(s.bias), augmentation=HUE_AUGMENTATION, **base),
        UNBIASED: TrainConfig(dataset_options=options(0.0), augmentation="none", **base),
    }


def example_images(bias: float, n: int = 6, image_size: int = 64) -> tuple[list[tuple[np.ndarray, str]],
                                                                           list[tuple[np.ndarray, str]]]:
    """The bias made visible before anything trains: ``n`` training images at ``bias`` and ``n`` unbiased test
    images, each as ``(uint8 [S, S, 3] array, class name)``. Rendered on the fly (never written to the cache)."""
    tr = ShapesDataset("train", n=n, image_size=image_size, bias=bias, lazy=True, use_cache=False)
    te = ShapesDataset("test", n=n, n_eval=n, image_size=image_size, lazy=True, use_cache=False)
    return ([(tr[i][0].permute(1, 2, 0).numpy(), CLASSES[tr[i][1]]) for i in range(n)],
            [(te[i][0].permute(1, 2, 0).numpy(), CLASSES[te[i][1]]) for i in range(n)])


# ------------------------------------------------------------------------------------------ the group on disk
@dataclass
class ShortcutGroup:
    """Three runs trained one after another: the group file ``<home>/lessons/shortcut/<id>.json`` holds the
    settings and each run's folder once it has been started (None before)."""

    path: Path
    settings: ShortcutSettings
    runs: dict[str, Path | None]  # label -> run folder (None: not started yet)
    created: float
    owner: str | None = None  # the browser that started it (core.runs.owners), None from a script

    @property
    def id(self) -> str:
        return self.path.stem

    def _write(self) -> None:
        store.atomic_write_json(self.path, {
            "settings": asdict(self.settings), "created": self.created, "owner": self.owner,
            "runs": {label: (str(p) if p is not None else None) for label, p in self.runs.items()}})


def _group_dir() -> Path:
    return home().joinpath(*_GROUP_DIR)


def start_shortcut(settings: ShortcutSettings) -> ShortcutGroup:
    """Write a new group file and start its first run (:func:`advance` starts the others, one at a time).

    The runs record the owner of the enclosing :func:`core.runs.store.owned_by` (the page's browser). One run at
    a time, not three at once: each browser may hold only a couple of queued runs (:mod:`core.budget`), and on
    one device the runs would train one after another anyway. Raises the launcher's errors (queue full, disk
    budget) with nothing left behind."""
    shortcut_configs(settings)  # refuse bad settings before anything is written
    folder = _group_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    group = ShortcutGroup(folder / f"{stamp}-{secrets.token_hex(3)}.json", settings,
                          {label: None for label in LABELS}, time.time(), store.current_owner())
    group._write()
    try:
        return advance(group)
    except BaseException:
        group.path.unlink(missing_ok=True)
        raise


def advance(group: ShortcutGroup) -> ShortcutGroup:
    """Start the group's next run when none of its runs is queued or running and every earlier one completed;
    returns the group as it is now on disk. Safe to call from every poll of every open page: the group file's
    lock makes sure two polls never start the same run twice."""
    lock = group.path.with_name(group.path.name + ".lock")
    with store.file_lock(lock):
        group = load_group(group.path)
        for label, run_dir in group.runs.items():
            if run_dir is None:
                cfg = shortcut_configs(group.settings)[label]
                with store.owned_by(group.owner):
                    group.runs[label] = Path(launcher.start(cfg))
                group._write()
                break
            if store.effective_status(run_dir).get("state") != "completed":
                break  # still training (wait), or stopped (the page says so; nothing more starts)
    return group


def wait_for_group(group: ShortcutGroup, timeout: float = 3600.0, poll: float = 0.5) -> ShortcutGroup:
    """Advance the group until its three runs have completed or one of them stopped otherwise (scripts, the
    benchmark, tests; the page advances it from its live view instead)."""
    deadline = time.time() + timeout
    while True:
        group = advance(group)
        progress = group_progress(group)
        if all(p.state == "completed" for p in progress) or any(p.stopped for p in progress):
            return group
        active = [p for p in progress if p.active and p.run_dir is not None]
        if active:
            launcher.wait(active[0].run_dir, timeout=max(1.0, deadline - time.time()), poll=poll)
        if time.time() > deadline:
            raise TimeoutError(f"shortcut lesson {group.id} still training after {timeout:.0f} s")


def load_group(path: str | os.PathLike) -> ShortcutGroup:
    """Read a group file. Raises :class:`ShortcutError` when it is missing or not a shortcut group."""
    path = Path(path)
    data = store.read_json(path)
    try:
        settings = ShortcutSettings(**data["settings"])
        runs = {label: (Path(data["runs"][label]) if data["runs"][label] else None) for label in LABELS}
        created = float(data["created"])
        owner = data.get("owner")
    except (TypeError, KeyError, ValueError):
        raise ShortcutError(f"{path.name} is not a shortcut-lesson group (missing or unreadable)") from None
    return ShortcutGroup(path, settings, runs, created, owner if isinstance(owner, str) else None)


def latest_group(owner: str | None = None) -> ShortcutGroup | None:
    """The most recently started group of ``owner`` whose started runs' folders still exist (None when there is
    none). A page passes its browser's owner id, so a student never attaches to another student's runs."""
    folder = _group_dir()
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json"), reverse=True):  # names sort by creation time
        try:
            group = load_group(path)
        except ShortcutError:
            continue
        if group.owner == owner and all(p.is_dir() for p in group.runs.values() if p is not None):
            return group
    return None


@dataclass
class RunProgress:
    label: str
    run_dir: Path | None  # None: not started yet
    state: str  # waiting (not started) | queued | running | completed | failed | cancelled | interrupted
    fraction: float
    text: str  # the Runs page's one-line progress (step, epoch, img/s, ETA)
    message: str  # the worker's status message (what it does now, or why it failed)
    wall_seconds: float | None

    @property
    def active(self) -> bool:
        return self.state in ("waiting", "queued", "running")

    @property
    def stopped(self) -> bool:
        """Ended without completing: failed, cancelled or interrupted (the lesson cannot compare it)."""
        return not self.active and self.state != "completed"


def group_progress(group: ShortcutGroup) -> list[RunProgress]:
    """One :class:`RunProgress` per run, read from the run folders (a run folder deleted meanwhile reads as
    failed with a message that says so)."""
    out = []
    for label, run_dir in group.runs.items():
        if run_dir is None:
            out.append(RunProgress(label, None, "waiting", 0.0, "", "starts when the run before it has completed",
                                   None))
            continue
        if not run_dir.is_dir():
            out.append(RunProgress(label, run_dir, "failed", 0.0, "", "the run folder was deleted", None))
            continue
        view = results.load_view(run_dir)
        prog = view.progress()
        st = view.status
        out.append(RunProgress(label, run_dir, str(st.get("state", "queued")), float(prog["fraction"]),
                               prog["text"], str(st.get("message") or ""), store.wall_seconds(st)))
    return out


# ------------------------------------------------------------------------------------------ results
@dataclass
class ShortcutModel:
    label: str
    train_bias: float
    augmented: bool
    val_accuracy: float  # held-out images of its own training distribution (the run's last validation)
    test_accuracy: float  # the unbiased test split
    colour_test_accuracy: float  # test images relabelled by background colour: how much the net follows colour
    seconds: float  # the run's training time (the engine's train_time_s)
    losses: list[float]  # the run's logged training losses
    run_dir: Path | None = None
    run_test_accuracy: float | None = None  # what the engine's own final test recorded (the same images)
    pointing: float | None = None  # Grad-CAM's peak on the shape (pointing game), share of test images
    pointing_chance: float | None = None  # a uniformly random point's hit rate (the shapes' area share)


@dataclass
class ShortcutLesson:
    bias: float
    train_size: int  # training images each network saw (the split minus the validation hold-out)
    epochs: int
    arch: str
    image_size: int
    shortcut_train: float  # how often background colour predicts the label in the biased training split
    shortcut_test: float  # ... and in the test split
    models: list[ShortcutModel]
    seconds: float  # from the first run's start to the last run's end (queue included)
    eval_seconds: float  # evaluating the three networks here
    notes: list[str] = field(default_factory=list)

    @property
    def chance(self) -> float:
        """Accuracy of a uniform guess among Shapes' classes."""
        return 1 / len(CLASSES)

    def model(self, label: str) -> ShortcutModel | None:
        return next((m for m in self.models if m.label == label), None)

    def conclusion(self) -> str:
        b, a, u = self.model(BIASED), self.model(AUGMENTED), self.model(UNBIASED)
        if b is None:
            return ""
        drop = b.val_accuracy - b.test_accuracy
        text = (f"Trained on backgrounds that give the class away {self.shortcut_train:.0%} of the time, the CNN "
                f"scored {b.val_accuracy:.0%} on held-out biased images but {b.test_accuracy:.0%} on the unbiased "
                f"test split ({abs(100 * drop):.0f} percentage points {'lost' if drop >= 0 else 'gained'}; it "
                f"agrees with the background colour on {b.colour_test_accuracy:.0%} of test images). ")
        if drop < 0.05:
            return text + "At this budget the shortcut did not show: the biased model did not lose accuracy."
        fixes = []
        for m in (a, u):
            if m is not None:
                verdict = "restores most of it" if m.test_accuracy > b.test_accuracy + 0.5 * drop else (
                    "helps" if m.test_accuracy > b.test_accuracy + 0.02 else "does not help at this budget")
                fixes.append(f"{m.label.lower()} reaches {m.test_accuracy:.0%} on the test split ({verdict})")
        text += "; ".join(fixes).capitalize() + "." if fixes else ""
        pointed = [m for m in (b, a, u) if m is not None and m.pointing is not None]
        if len(pointed) > 1:
            text += (" Grad-CAM's peak lands on the shape in " + ", ".join(
                f"{m.pointing:.0%} ({m.label.lower()})" for m in pointed)
                + f" of test images; a random point would land on it in {pointed[0].pointing_chance:.0%}.")
        return text


def shortcut_results(group: ShortcutGroup, *, n_pointing: int = 60) -> ShortcutLesson:
    """Evaluate the group's three finished runs on the unbiased test split: accuracy, agreement with the
    background colour and (``n_pointing`` > 0) the Grad-CAM pointing game against Shapes' masks.

    Raises :class:`ShortcutError` naming the runs that are not completed."""
    progress = group_progress(group)
    unfinished = [p for p in progress if p.state != "completed"]
    if unfinished:
        raise ShortcutError("not all three runs have completed: " + "; ".join(
            f"{p.label.lower()} is {p.state}" + (f" ({p.message})" if p.message else "") for p in unfinished))
    s = group.settings
    start = time.perf_counter()
    test = ShapesDataset("test", n=s.n, image_size=s.image_size, seed=s.seed)  # the runs' own test split
    x_test_u8, y_test = test.tensors()
    x_test = to_float(x_test_u8)
    bg_test = torch.from_numpy(test.background_index.copy())
    train_biased = ShapesDataset("train", n=s.n, image_size=s.image_size, seed=s.seed, bias=s.bias)
    models = []
    num_train = 0
    for label, run_dir in group.runs.items():
        view = results.load_view(run_dir)
        rm = load_run_model(run_dir, "last")  # the final network: the one the engine's own test evaluated
        pred = predict(rm.model, x_test)
        cfg = view.config
        val = view.evals[-1]["acc"] if view.evals else math.nan
        run_test = view.test.get("acc") if view.test else None
        num_train = int(view.meta.get("num_train") or num_train)
        point = _pointing(rm.model, test, cfg.get("arch", s.arch), n_pointing) if n_pointing > 0 else (None, None)
        models.append(ShortcutModel(
            label=label, train_bias=float(cfg["dataset_options"].get("bias", 0.0)),
            augmented=cfg.get("augmentation") not in ("none", None), val_accuracy=float(val),
            test_accuracy=accuracy(pred, y_test), colour_test_accuracy=accuracy(pred, bg_test),
            seconds=float(view.train[-1].get("train_time_s", 0.0)) if view.train else 0.0,
            losses=[float(r["loss"]) for r in view.train if "loss" in r], run_dir=run_dir,
            run_test_accuracy=float(run_test) if run_test is not None else None,
            pointing=point[0], pointing_chance=point[1]))
    span = _span(group)
    return ShortcutLesson(
        bias=s.bias, train_size=num_train, epochs=s.epochs, arch=s.arch, image_size=s.image_size,
        shortcut_train=train_biased.background_shortcut_accuracy(),
        shortcut_test=test.background_shortcut_accuracy(),
        models=models, seconds=span, eval_seconds=time.perf_counter() - start)


def _span(group: ShortcutGroup) -> float:
    """Seconds from the first run's start to the last run's end (NaN until they have all ended)."""
    statuses = [store.effective_status(p) for p in group.runs.values() if p is not None and p.is_dir()]
    begun = [float(st["started"]) for st in statuses if st.get("started")]
    ended = [float(st["ended"]) for st in statuses if st.get("ended")]
    return (max(ended) - min(begun)) if len(ended) == len(LABELS) and begun else math.nan


def last_duration() -> tuple[float, ShortcutSettings] | None:
    """How long the most recent completed lesson on this server took (first start to last end) and with which
    settings: the page states it before a new start. None when no lesson has completed here yet."""
    folder = _group_dir()
    for path in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
        try:
            group = load_group(path)
        except ShortcutError:
            continue
        if all(p is not None for p in group.runs.values()) and all(
                pr.state == "completed" for pr in group_progress(group)):
            span = _span(group)
            if math.isfinite(span):
                return span, group.settings
    return None


def _pointing(model, test, arch: str, n: int) -> tuple[float | None, float | None]:
    """Pointing-game hit rate of Grad-CAM on the architecture's CAM layer, or (None, None) when the explain
    package cannot score this model."""
    try:
        res = pointing_game(model, test, "gradcam", n=min(n, len(test)), arch=arch)
    except ExplainError:
        return None, None
    return res.hit_rate, res.random_hit_rate
