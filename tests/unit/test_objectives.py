"""Issue 14: a training objective is one entry (core.train.objectives.ObjectiveSpec). A new entry is accepted by
the config, has its own check run, picks its loss, and counts in the memory estimate, with no other edit."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from core.budget import estimate_run_memory
from core.errors import InputError
from core.train import objectives
from core.train.config import TrainConfig
from core.train.losses import PlainObjective, make_objective


def _with_entry(monkeypatch, spec):
    monkeypatch.setitem(objectives.OBJECTIVES, spec.name, spec)


def test_a_new_entry_is_validated_with_its_own_check_and_trains_with_its_loss(monkeypatch):
    seen = []

    def check(cfg, need):
        seen.append(cfg.objective)
        need(cfg.label_smoothing == 0.0, "probe wants label_smoothing 0")

    _with_entry(monkeypatch, objectives.ObjectiveSpec("probe", "a test objective", check=check, loss="plain"))
    with pytest.raises(InputError, match="probe wants label_smoothing 0"):
        TrainConfig(objective="probe").validate(check_registries=False)
    cfg = TrainConfig(objective="probe", label_smoothing=0.0).validate(check_registries=False)
    assert seen == ["probe", "probe"]
    loss = make_objective(cfg, ["a", "b"], torch.device("cpu"))
    assert isinstance(loss, PlainObjective)
    out, target = torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    value, _, _ = loss(out, target, None)
    assert value.item() == pytest.approx(torch.nn.functional.cross_entropy(out, target).item())


def test_an_unknown_objective_names_the_entries():
    with pytest.raises(InputError, match="plain, distill, self_train"):
        TrainConfig(objective="nope").validate(check_registries=False)


def test_the_memory_estimate_counts_the_unlabelled_split_from_the_entry(monkeypatch):
    base = TrainConfig(dataset="shapes", dataset_options={"n": 6000})
    plain = estimate_run_memory(base).data_bytes
    assert estimate_run_memory(dataclasses.replace(base, objective="self_train")).data_bytes > plain
    _with_entry(monkeypatch, objectives.ObjectiveSpec("probe", "x", unlabelled_split=True))
    assert estimate_run_memory(dataclasses.replace(base, objective="probe")).data_bytes == \
        estimate_run_memory(dataclasses.replace(base, objective="self_train")).data_bytes


def test_every_entry_names_a_loss_and_its_fields_are_config_fields():
    from core.train.losses import LOSSES

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    for spec in objectives.OBJECTIVES.values():
        assert spec.loss in LOSSES, spec.name
        assert set(spec.fields) <= names, spec.name


def test_a_drawn_data_set_is_estimated_from_its_entry(monkeypatch):
    """Issue 14.3: the memory and duration estimates read a data set's ``drawn`` entry, not its name."""
    import dataclasses as dc

    import core.data as data
    from core.train import estimate as est

    shapes = data.DATASETS["shapes"]
    probe = dc.replace(shapes, name="probe", drawn=dc.replace(shapes.drawn, bytes_per_image=lambda s: 1000,
                                                                    to_draw=lambda o, s: 7, label="probe images"))
    monkeypatch.setitem(data.DATASETS, "probe", probe)
    cfg = TrainConfig(dataset="probe", dataset_options={"n": 600})
    mem = estimate_run_memory(cfg)
    assert mem.data_bytes == (600 + 100) * 1000 and "700 probe images" in mem.detail  # train + test (n/6)
    assert est.images_to_draw(cfg) == 7
    assert estimate_run_memory(dc.replace(cfg, dataset="folder")) is None  # not drawn here: size unknown
