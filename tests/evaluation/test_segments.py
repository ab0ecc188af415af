"""Segments every dataset has: user activity and item popularity from the train split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anchorrec.data.dataset import Dataset, interactions_matrix
from anchorrec.evaluation.metrics import evaluate, evaluate_item_buckets
from anchorrec.evaluation.segments import (
    activity_segments,
    popularity_buckets,
    popularity_segments,
    segment_means,
    user_activity,
)
from anchorrec.models.base import Embeddings


def _dataset(train_counts: list[int], n_items: int = 10) -> Dataset:
    pairs = [(u, i) for u, c in enumerate(train_counts) for i in range(c)]
    n = len(train_counts)
    u, i = (np.array(x) for x in zip(*pairs, strict=True))
    held = np.arange(n)
    return Dataset(
        name="seg",
        n_users=n,
        n_items=n_items,
        train=interactions_matrix(u, i, n, n_items),
        valid=interactions_matrix(held, np.full(n, n_items - 1), n, n_items),
        test=interactions_matrix(held, np.full(n, n_items - 2), n, n_items),
    )


def test_activity_tertiles_cover_every_user_with_stated_ranges():
    ds = _dataset([1, 1, 2, 3, 4, 5, 6, 7, 8])
    labels = user_activity(ds)
    assert list(labels) == ["light"] * 3 + ["medium"] * 3 + ["heavy"] * 3
    segments = activity_segments(ds)
    assert list(segments) == [
        "light (1–2 train interactions)",
        "medium (3–5 train interactions)",
        "heavy (6–8 train interactions)",
    ]
    assert sorted(np.concatenate(list(segments.values())).tolist()) == list(range(9))
    per_user = {"users": np.arange(9), "recall@20": np.arange(9) / 10}
    means = segment_means(per_user, segments)
    assert means["heavy (6–8 train interactions)"]["recall@20"] == pytest.approx(0.7)


def test_popularity_buckets_hold_head_torso_and_tail():
    ds = _dataset([8, 8, 6, 4, 2], n_items=10)
    segments = popularity_segments(ds)
    head, torso, tail = segments.values()
    assert list(head) == [0, 1] and list(tail) == [5, 6, 7, 8, 9]
    assert list(torso) == [2, 3, 4]
    assert list(segments)[0] == "head (5 train interactions)"
    assert set(popularity_buckets(ds.item_popularity())) == {"head", "torso", "tail"}


def test_bucket_recall_counts_only_the_bucket_items_as_truth():
    # two users; every user ranks items 0 > 1 > … > 5; train: u0 {0}, u1 {1}
    n, m = 2, 6
    train = interactions_matrix(np.array([0, 1]), np.array([0, 1]), n, m)
    test = interactions_matrix(np.array([0, 0, 1]), np.array([2, 5, 4]), n, m)
    ds = Dataset("b", n, m, train, test.copy(), test)
    emb = Embeddings(torch.ones(n, 1), torch.tensor([[6.0], [5], [4], [3], [2], [1]]))
    buckets = {"near": np.array([2, 3]), "far": np.array([4, 5]), "none": np.array([0])}
    out = evaluate_item_buckets(emb, ds, buckets, "test", ks=(1, 3))
    # u0's list without train item 0: [1, 2, 3, …]; u1's without 1: [0, 2, 3, 4, …]
    assert out["near"]["users"] == 1.0 and out["near"]["recall@3"] == pytest.approx(1.0)
    assert out["near"]["mrr@3"] == pytest.approx(1 / 2)
    assert out["far"]["users"] == 2.0 and out["far"]["recall@3"] == pytest.approx(0.0)
    assert "none" not in out  # no held-out item in it
    overall = evaluate(emb, ds, "test", ks=(3,))
    assert overall["recall@3"] == pytest.approx((1 / 2 + 0) / 2)
