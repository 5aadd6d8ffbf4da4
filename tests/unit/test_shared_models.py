"""Shared cached models across threads (browser sessions): a layer table must never count another session's
forward (reliability.md 21 and 23; issue 13, finding 4).

The bug this guards against: ``FlopCounterMode`` tracks modules with *process-global* module hooks, so while
one thread counted the FLOPs of a ResNet-18, a Classify of another ResNet-18 in a second thread was tracked
into the same table (conv1 once showed 96,129,024 MACs instead of 9,633,792), and that wrong table was cached
for everyone.
"""
from __future__ import annotations

import threading

import pytest
import torch
from PIL import Image

from core.models import build
from core.models.predict import predict
from core.models.shared import exclusive
from core.models.summary import flop_counter, layer_table, summary


def _table(s) -> list[tuple]:
    return [(r.name, r.type, r.output_shape, r.params, r.macs, r.note) for r in s.rows] + [("flops", s.flops)]


class _ClassifyLoop:
    """Classifies in a background thread until stopped; counts its forwards and keeps its first error."""

    def __init__(self, model, arch: str):
        self.model, self.arch = model, arch
        self.image = Image.new("RGB", (64, 64), (200, 40, 90))
        self.stop = threading.Event()
        self.forwards = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                predict(self.model, self.image, arch=self.arch, topk=1)
                self.forwards += 1
        except BaseException as err:  # reported by the test
            self.error = err

    def __enter__(self):
        self.thread.start()
        while self.forwards == 0 and self.error is None:  # the loop is really running before we count
            self.stop.wait(0.005)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=60)
        assert self.error is None, f"classify thread failed: {self.error!r}"


@pytest.fixture(scope="module")
def shared_resnet():
    """A ResNet-18 as the page cache would hold it (random weights: the numbers do not depend on them)."""
    torch.manual_seed(0)
    return build("resnet18", weights="none").eval()


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.slow
def test_layer_table_of_another_model_ignores_a_concurrent_classify(shared_resnet):
    """The Architectures page case: the table of a private (meta) ResNet-18 while a cached one classifies."""
    computed = summary("resnet18", 64)
    # anchor, by hand: conv1 at 64 px is a 32x32x64 map, each output 3*7*7 MACs (the issue saw 96,129,024)
    assert next(r.macs for r in computed.rows if r.name == "conv1") == 32 * 32 * 64 * 3 * 7 * 7 == 9_633_792
    alone = _table(computed)
    with _ClassifyLoop(shared_resnet, "resnet18") as loop:
        tables = [_table(summary("resnet18", 64)) for _ in range(20)]
    assert loop.forwards > 0
    wrong = [i for i, t in enumerate(tables) if t != alone]
    assert not wrong, f"{len(wrong)} of 20 tables differ from the table computed alone (first: {wrong[0]})"


@pytest.mark.slow
def test_layer_table_of_the_same_shared_model_ignores_a_concurrent_classify(shared_resnet):
    """The same cached model in two sessions: one builds its table, the other classifies with it."""
    with exclusive(shared_resnet):
        alone = _table(layer_table(shared_resnet, 64, arch="resnet18"))
    with _ClassifyLoop(shared_resnet, "resnet18") as loop:
        tables = [_table(layer_table(shared_resnet, 64, arch="resnet18")) for _ in range(20)]
    assert loop.forwards > 0
    wrong = [i for i, t in enumerate(tables) if t != alone]
    assert not wrong, f"{len(wrong)} of 20 tables differ from the table computed alone (first: {wrong[0]})"
    assert not shared_resnet._forward_hooks and all(not m._forward_hooks for m in shared_resnet.modules())


@pytest.mark.slow
def test_classify_results_are_unchanged_by_a_concurrent_layer_table(shared_resnet):
    """The other direction: Classify gives the same probabilities while tables are being counted."""
    image = Image.new("RGB", (64, 64), (10, 160, 220))
    alone = predict(shared_resnet, image, arch="resnet18", topk=3).topk
    stop = threading.Event()

    def tables() -> None:
        while not stop.is_set():
            summary("resnet18", 64)

    t = threading.Thread(target=tables, daemon=True)
    t.start()
    try:
        results = [predict(shared_resnet, image, arch="resnet18", topk=3).topk for _ in range(10)]
    finally:
        stop.set()
        t.join(timeout=60)
    assert all(r == alone for r in results)


def test_flop_counter_ignores_modules_run_by_another_thread():
    """Fast, deterministic check of the mechanism: a module called in another thread while this thread counts
    gets no entry in the per-module counts (with a bare FlopCounterMode it gets this thread's FLOPs)."""
    from torch import nn

    entered, release = threading.Event(), threading.Event()

    class Blocking(nn.Module):  # stays inside its forward until this thread has counted
        def forward(self, x):
            entered.set()
            release.wait(10)
            return x

    outer = nn.Sequential(Blocking())
    t = threading.Thread(target=lambda: outer(torch.zeros(1)), daemon=True)
    counter = flop_counter()
    with counter:
        t.start()
        assert entered.wait(10)
        nn.Linear(4, 4)(torch.zeros(2, 4))  # counted work in this thread while the other is inside its modules
    release.set()
    t.join(10)
    counts = counter.get_flop_counts()
    assert counts["Global"] and counter.get_total_flops() == 2 * 2 * 4 * 4
    assert not any(k.startswith("Sequential") for k in counts), sorted(counts)
