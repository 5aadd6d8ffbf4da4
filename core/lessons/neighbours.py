"""k-nearest neighbours by brute force: the ``k`` closest stored rows of each query, and their majority vote.

k-NN needs no training: it stores every training vector and compares each query with all of them (Cover & Hart
1967, "Nearest neighbor pattern classification", https://doi.org/10.1109/TIT.1967.1053964; CS231n's notes,
https://cs231n.github.io/classification/). Used by the k-NN lesson (:mod:`core.lessons.knn`) on raw pixels
(:func:`pixel_features`) and on a network's features (:mod:`core.lessons.features`).

Shapes: ``train_features float [N, D]``, ``train_labels int64 [N]``, ``query_features float [Q, D]`` ->
predictions ``int64 [Q]``. Distances are Euclidean, computed a block of queries at a time
(``‖q‖² − 2 q·t + ‖t‖²``, one matrix product) so memory stays at ``block × N`` floats, never ``Q × N``.
Gotcha: the expansion can come out slightly negative for a query equal to a stored row (rounding), so squared
distances are clamped at 0 before the square root; ties are broken by training index (a stable sort).
"""
from __future__ import annotations

import torch

from core.errors import InputError

__all__ = ["knn_neighbours", "knn_predict", "tensor_bytes", "pixel_features"]

#: Memory one block of the distance matrix may take (float32): 32 MiB.
_BLOCK_BYTES = 32 * 2**20


def _check_knn_inputs(train_features: torch.Tensor, train_labels: torch.Tensor, query_features: torch.Tensor,
                      k: int) -> None:
    if train_features.ndim != 2 or query_features.ndim != 2:
        raise InputError(f"features must be 2-D [N, D]; got {tuple(train_features.shape)} and "
                         f"{tuple(query_features.shape)}")
    if train_features.shape[1] != query_features.shape[1]:
        raise InputError(f"training features have {train_features.shape[1]} dimensions, queries "
                         f"{query_features.shape[1]}")
    if train_labels.shape != (train_features.shape[0],):
        raise InputError(f"need one label per training row: {tuple(train_labels.shape)} labels for "
                         f"{train_features.shape[0]} rows")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(f"k must be a whole number ≥ 1, got {k!r}")
    if k > train_features.shape[0]:
        raise InputError(f"k = {k} is larger than the training set ({train_features.shape[0]} items)")
    if len(train_labels) and int(train_labels.min()) < 0:
        raise InputError("training labels must be ≥ 0 (unlabelled items cannot vote)")


def knn_neighbours(train_features: torch.Tensor, query_features: torch.Tensor, k: int, *,
                   block_bytes: int = _BLOCK_BYTES) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest training rows of each query: ``(distances float [Q, k], indices int64 [Q, k])``,
    nearest first. Rows at exactly the same distance are ordered by training index (a stable sort), so the
    result is deterministic."""
    if k < 1 or k > train_features.shape[0]:
        raise InputError(f"k must be between 1 and the training-set size ({train_features.shape[0]}), got {k}")
    t = train_features.float()
    q_all = query_features.float()
    t_sq = (t * t).sum(1)  # [N]
    rows = max(1, block_bytes // (4 * max(1, t.shape[0])))
    dists, idxs = [], []
    for start in range(0, q_all.shape[0], rows):
        q = q_all[start:start + rows]
        d2 = (q * q).sum(1, keepdim=True) - 2.0 * (q @ t.T) + t_sq  # [B, N]
        d2.clamp_(min=0.0)
        d_sorted, i_sorted = torch.sort(d2, dim=1, stable=True)
        dists.append(d_sorted[:, :k].sqrt())
        idxs.append(i_sorted[:, :k])
    if not dists:
        return torch.empty(0, k), torch.empty(0, k, dtype=torch.int64)
    return torch.cat(dists), torch.cat(idxs)


def knn_predict(train_features: torch.Tensor, train_labels: torch.Tensor, query_features: torch.Tensor, k: int,
                *, num_classes: int | None = None, block_bytes: int = _BLOCK_BYTES) -> torch.Tensor:
    """k-NN classification by majority vote of the ``k`` nearest training rows (Euclidean distance).

    A vote tie goes to the tied class whose nearest member (among the k neighbours) is closest to the query;
    neighbours at exactly equal distances count in training-index order. Returns ``int64 [Q]``.
    Memory: one block of at most ``block_bytes`` of distances at a time.
    """
    _check_knn_inputs(train_features, train_labels, query_features, k)
    labels = train_labels.long()
    c = int(num_classes) if num_classes is not None else int(labels.max()) + 1
    _, idx = knn_neighbours(train_features, query_features, k, block_bytes=block_bytes)
    nbr = labels[idx]  # [Q, k], nearest first
    votes = torch.zeros(nbr.shape[0], c, dtype=torch.int64).scatter_add_(1, nbr, torch.ones_like(nbr))
    tied = votes == votes.max(dim=1, keepdim=True).values  # [Q, C]: the classes with the most votes
    # The first neighbour (nearest) whose class is among the tied ones decides; argmax returns the first True.
    first = tied.gather(1, nbr).to(torch.uint8).argmax(dim=1, keepdim=True)
    return nbr.gather(1, first).squeeze(1)


def tensor_bytes(*tensors: torch.Tensor) -> int:
    """Bytes held by the tensors' elements."""
    return sum(t.numel() * t.element_size() for t in tensors)


def pixel_features(x_uint8: torch.Tensor) -> torch.Tensor:
    """Raw pixels as k-NN features: ``uint8 [N, 3, S, S]`` -> ``float [N, 3·S·S]`` in [0, 1]."""
    return x_uint8.flatten(1).float() / 255.0
