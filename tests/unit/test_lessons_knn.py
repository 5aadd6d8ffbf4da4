"""k-NN lesson: knn_predict against a brute-force reference (ties included), features, the experiment in small."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from core.errors import InputError
from core.lessons import knn
from core.lessons.data import load_lesson_data
from core.lessons.knn import knn_neighbours, knn_predict, network_features


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one intra-op thread is as fast, and on a busy shared machine OpenMP workers spinning at
    every small op's barrier made these tests ~7× slower (measured: 134 s vs 28 s for this file)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def brute_force(train: torch.Tensor, labels: torch.Tensor, queries: torch.Tensor, k: int) -> list[int]:
    """The rule written out in plain Python: sort by (exact distance, index), majority vote, a tie goes to the tied
    class seen first among the sorted neighbours."""
    out = []
    for q in queries.tolist():
        d = [(math.fsum((a - b) ** 2 for a, b in zip(q, t)), i) for i, t in enumerate(train.tolist())]
        nbrs = [i for _, i in sorted(d)[:k]]
        votes: dict[int, int] = {}
        for i in nbrs:
            votes[int(labels[i])] = votes.get(int(labels[i]), 0) + 1
        best = max(votes.values())
        out.append(next(int(labels[i]) for i in nbrs if votes[int(labels[i])] == best))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 4, 7])
def test_matches_brute_force_with_many_ties(seed, k):
    g = torch.Generator().manual_seed(seed)
    # Small integer coordinates in 2-D: many exactly equal distances and many tied votes, all exact in float32.
    train = torch.randint(-3, 4, (40, 2), generator=g).float()
    labels = torch.randint(0, 4, (40,), generator=g)
    queries = torch.randint(-3, 4, (60, 2), generator=g).float()
    got = knn_predict(train, labels, queries, k)
    assert got.dtype == torch.int64 and got.shape == (60,)
    assert got.tolist() == brute_force(train, labels, queries, k)


def test_high_dimensional_features_match_brute_force_in_small_blocks():
    g = torch.Generator().manual_seed(1)
    train = torch.randint(0, 5, (120, 30), generator=g).float()
    labels = torch.randint(0, 6, (120,), generator=g)
    queries = torch.randint(0, 5, (50, 30), generator=g).float()
    ref = brute_force(train, labels, queries, 5)
    # A block budget of ~2 query rows forces many blocks: the answer must not depend on the blocking.
    assert knn_predict(train, labels, queries, 5, block_bytes=2 * 4 * 120).tolist() == ref
    assert knn_predict(train, labels, queries, 5).tolist() == ref


def test_vote_tie_goes_to_the_class_with_the_closest_member():
    train = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    query = torch.tensor([[0.0]])
    # 2 votes each; class 0 owns the nearest point (distance 1).
    assert knn_predict(train, torch.tensor([0, 1, 1, 0]), query, 4).tolist() == [0]
    # Same votes, now class 1 owns the nearest point.
    assert knn_predict(train, torch.tensor([1, 0, 0, 1]), query, 4).tolist() == [1]
    # Three-way tie at k = 3: the nearest neighbour's class wins.
    assert knn_predict(train, torch.tensor([2, 0, 1, 1]), query, 3).tolist() == [2]
    # No tie: the majority wins although its members are farther.
    assert knn_predict(train, torch.tensor([0, 1, 1, 1]), query, 4).tolist() == [1]


def test_equal_distances_are_ordered_by_training_index():
    train = torch.tensor([[1.0], [-1.0], [1.0], [-1.0]])
    d, idx = knn_neighbours(train, torch.tensor([[0.0]]), 4)
    assert idx.tolist() == [[0, 1, 2, 3]] and torch.allclose(d, torch.ones(1, 4))
    # A 1-1 tie between equidistant points: the lower index counts as nearer.
    assert knn_predict(train, torch.tensor([3, 5, 5, 3]), torch.tensor([[0.0]]), 2).tolist() == [3]


def test_bad_inputs_raise_input_errors():
    t, y = torch.zeros(5, 3), torch.zeros(5, dtype=torch.int64)
    with pytest.raises(InputError, match="larger than the training set"):
        knn_predict(t, y, torch.zeros(2, 3), 6)
    with pytest.raises(InputError, match="dimensions"):
        knn_predict(t, y, torch.zeros(2, 4), 1)
    with pytest.raises(InputError, match="k must be"):
        knn_predict(t, y, torch.zeros(2, 3), 0)
    with pytest.raises(InputError, match="one label per"):
        knn_predict(t, y[:4], torch.zeros(2, 3), 1)


def test_network_features_read_the_classifier_input_and_remove_their_hook():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    x = torch.randn(7, 3, 8, 8)
    feats = network_features(model, x, batch_size=3)
    assert feats.shape == (7, 4)
    with torch.no_grad():
        assert torch.allclose(feats, model[:3](x), atol=1e-6)
    assert not model[3]._forward_pre_hooks


def test_knn_evaluate_reports_accuracy_memory_and_time(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    data = load_lesson_data("shapes", train_size=30, n_test=12, image_size=16)
    score = knn.knn_evaluate(data, 3)
    assert score.dims == 3 * 16 * 16 and 0.0 <= score.accuracy <= 1.0
    # k-NN holds the whole training set as float32 plus its labels.
    assert score.memory_bytes == 30 * 3 * 16 * 16 * 4 + 30 * 8
    assert score.ms_per_query > 0
    ref = brute_force(knn.pixel_features(data.x_train), data.y_train, knn.pixel_features(data.x_test), 3)
    assert score.accuracy == pytest.approx(sum(int(a == b) for a, b in zip(ref, data.y_test.tolist())) / 12)


@pytest.mark.slow
def test_lesson_in_small_measures_every_method(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    seen = []
    lesson = knn.knn_lesson(train_sizes=(24, 12), k=3, image_size=16, n_test=12, steps=3, gallery_queries=2,
                            progress=lambda f, m: seen.append(f))
    assert lesson.train_sizes == [12, 24]
    assert set(lesson.methods()) == {knn.PIXELS, knn.LINEAR, knn.CNN, knn.CNN_FEATURES}
    assert len(lesson.points) == 8
    pix = lesson.at(knn.PIXELS, 24)
    assert pix.memory_bytes == 24 * 3 * 16 * 16 * 4 + 24 * 8
    assert lesson.at(knn.PIXELS, 12).memory_bytes < pix.memory_bytes  # k-NN grows with the data ...
    assert lesson.at(knn.CNN, 12).memory_bytes == lesson.at(knn.CNN, 24).memory_bytes  # ... a network does not
    assert all(p.ms_per_query > 0 for p in lesson.points)
    # 3 steps of 64 images are under 10 passes over 24 images (ceil(3.75) = 4), but not over 12 (ceil(1.9) = 2).
    assert lesson.at(knn.CNN, 24).steps == 3 and lesson.at(knn.CNN, 12).steps == 2
    assert lesson.at(knn.LINEAR, 12).steps == 2 and lesson.at(knn.PIXELS, 12).steps == 0
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    g = lesson.gallery
    assert g.queries.shape == (2, 3, 16, 16) and g.pixel_neighbours.shape == (2, 3, 3, 16, 16)
    assert len(g.feature_labels) == 2 and len(g.feature_labels[0]) == 3
    text = lesson.conclusion()
    assert f"{pix.accuracy:.0%}" in text and "24 training images" in text


@pytest.mark.parametrize("n,steps,epochs,expected", [(6000, 600, 10, 600), (1000, 600, 10, 157), (100, 600, 10, 16),
                                                     (1, 600, 10, 1), (640, 50, 10, 50), (64, 600, 0.5, 1)])
def test_small_sets_stop_after_max_epochs_passes(n, steps, epochs, expected):
    assert knn.steps_for(n, steps, epochs) == expected == min(steps, max(1, -(-epochs * n // 64)))


def test_lesson_with_a_feature_network_at_another_image_size(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path))
    from core.lessons.fit import small_cnn

    net = knn.FeatureNet(small_cnn(6, width=4), image_size=24, label="k-NN · test net")
    lesson = knn.knn_lesson(train_sizes=(12,), k=1, image_size=16, n_test=6, steps=1, gallery_queries=0,
                            features=net)
    point = lesson.at(knn.RUN_FEATURES, 12)
    assert point is not None and point.memory_bytes > 12 * 16 * 4
    assert not net.model.fc._forward_pre_hooks


def test_k_larger_than_the_smallest_training_set_is_refused():
    with pytest.raises(InputError, match="smallest training set"):
        knn.knn_lesson(train_sizes=(3, 100), k=5)


# ------------------------------------------------------------------------------------------ pretrained features
@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty torchvision cache in tmp_path and no network: any download attempt fails the test."""
    import socket

    import core.models.weights as W

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(tmp_path / "data"))

    def no_network(*args, **kwargs):
        raise AssertionError("the lesson tried to reach the network")

    monkeypatch.setattr(W, "_urlopen", no_network)
    monkeypatch.setattr(W, "_hf_download", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    return W


def _seed_cache(W, arch: str) -> dict:
    """Put a locally made state dict where torchvision's cache keeps the ImageNet file (the offline pattern of
    tests/unit/test_weights_offline.py)."""
    from torchvision.models import get_model

    target = W.manual_weights_path(arch)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1)
    sd = get_model(arch, weights=None).state_dict()
    torch.save(sd, target)
    return sd


@pytest.mark.slow
def test_pretrained_features_come_from_the_cached_file(offline_cache):
    sd = _seed_cache(offline_cache, "resnet18")
    net = knn.pretrained_features()
    assert net.image_size == knn.PRETRAINED_SIZE and "ResNet-18" in net.label
    assert torch.equal(net.model.state_dict()["conv1.weight"], sd["conv1.weight"])
    res = knn.knn_lesson(train_sizes=[12], k=1, n_test=6, steps=2, image_size=16, gallery_queries=0,
                         pretrained="resnet18")
    feat = res.at(knn.RUN_FEATURES)
    assert res.notes == [] and feat is not None and 0 <= feat.accuracy <= 1
    # k-NN on 512-d features holds them and the network: more than the network alone.
    assert feat.memory_bytes > sum(v.numel() * v.element_size() for v in sd.values() if v.is_floating_point())


def test_without_the_cached_file_the_lesson_says_so_and_runs_without(offline_cache):
    with pytest.raises(knn.PretrainedMissing) as info:
        knn.pretrained_features("resnet18")
    assert str(offline_cache.manual_weights_path("resnet18")) in str(info.value)
    res = knn.knn_lesson(train_sizes=[12], k=1, n_test=6, steps=1, image_size=16, gallery_queries=0,
                         pretrained="resnet18")
    assert res.at(knn.RUN_FEATURES) is None and res.at(knn.PIXELS) is not None
    assert res.notes == [str(info.value)] and "never download" in res.notes[0]


def test_network_features_never_capture_another_sessions_forward():
    """The model may be the app's shared cache: while another session holds it (a Classify), the feature hook must
    not be on it yet. Main thread holds the lock and forwards a batch of 5; the feature thread (3 images) must get
    exactly its own 3 rows, equal to the features computed alone."""
    import threading
    import time

    from core.models.shared import exclusive

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    x = torch.randn(3, 3, 8, 8)
    alone = network_features(model, x)
    got = {}
    with exclusive(model):
        worker = threading.Thread(target=lambda: got.setdefault("f", network_features(model, x)))
        worker.start()
        time.sleep(0.3)  # the feature thread is now waiting for the model
        with torch.no_grad():
            model(torch.randn(5, 3, 8, 8))  # another session's forward
    worker.join(30)
    assert got["f"].shape == (3, 4) and torch.equal(got["f"], alone)
