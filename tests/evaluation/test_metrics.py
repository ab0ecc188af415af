"""MMRec's metrics, pinned by a hand-computed example."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from anchorrec.data.dataset import Dataset, interactions_matrix
from anchorrec.evaluation import evaluate, top_k_items
from anchorrec.models.base import Embeddings
from tests.models.conftest import single_torch_thread  # noqa: F401


def _matrix(pairs):
    u, i = zip(*pairs, strict=True)
    return interactions_matrix(np.array(u), np.array(i), 2, 5)


@pytest.fixture
def hand_dataset():
    # u0: train {0}, valid {1}, test {2, 4};  u1: train {4}, valid {3}, test {0}
    return Dataset(
        name="hand",
        n_users=2,
        n_items=5,
        train=_matrix([(0, 0), (1, 4)]),
        valid=_matrix([(0, 1), (1, 3)]),
        test=_matrix([(0, 2), (0, 4), (1, 0)]),
    )


@pytest.fixture
def hand_embeddings():
    # every user ranks items 0 > 1 > 2 > 3 > 4
    users = torch.ones(2, 1)
    items = torch.tensor([[5.0], [4.0], [3.0], [2.0], [1.0]])
    return Embeddings(users, items)


def test_metrics_match_the_hand_computation(hand_dataset, hand_embeddings):
    # the hand lists below mask train + valid (the stricter rule; MMRec's masks train only)
    m = evaluate(hand_embeddings, hand_dataset, "test", ks=(1, 2, 3), mask="train+valid")
    # masked lists: u0 [2, 3, 4] against {2, 4} → rel 1 0 1;  u1 [0, 1, 2] against {0} → 1 0 0
    l2, l3, l4 = 1 / math.log2(2), 1 / math.log2(3), 1 / math.log2(4)
    expected = {
        "recall@1": (1 / 2 + 1) / 2,
        "recall@2": (1 / 2 + 1) / 2,
        "recall@3": (1 + 1) / 2,
        "precision@1": 1.0,
        "precision@2": 0.5,
        "precision@3": (2 / 3 + 1 / 3) / 2,
        "ndcg@1": 1.0,
        "ndcg@2": (l2 / (l2 + l3) + 1) / 2,
        "ndcg@3": ((l2 + l4) / (l2 + l3) + 1) / 2,
        "map@1": 1.0,
        "map@2": (1 / 2 + 1) / 2,
        "map@3": ((1 + 2 / 3) / 2 + 1) / 2,
        "hitrate@1": 1.0,
        "hitrate@3": 1.0,
        "coverage@1": 2 / 5,
        "coverage@3": 5 / 5,
        "mean_popularity@1": (0 + 1) / 2,  # items 2 and 0; train popularity 0 and 1
        "users": 2.0,
    }
    for key, value in expected.items():
        assert m[key] == pytest.approx(value), key


def test_valid_masks_train_only_and_test_masks_valid_too(hand_dataset, hand_embeddings):
    valid = evaluate(hand_embeddings, hand_dataset, "valid", ks=(1, 4))
    # u0: [1, 2, 3, 4] vs {1} → hit at 1;  u1: [0, 1, 2, 3] vs {3} → hit at 4
    assert valid["recall@1"] == pytest.approx(0.5)
    assert valid["recall@4"] == pytest.approx(1.0)
    top, scores = top_k_items(hand_embeddings, np.array([0, 1]), 5, hand_dataset.train)
    assert 0 not in top[0, :4] and 4 not in top[1, :4]
    assert (np.diff(scores, axis=1) <= 0).all()  # rank-1 score ≥ rank-2 score ≥ …


def test_metric_keys_are_lower_case_for_the_default_ks(tiny_dataset):
    rng = np.random.default_rng(0)
    emb = Embeddings(
        torch.from_numpy(rng.normal(size=(tiny_dataset.n_users, 4)).astype(np.float32)),
        torch.from_numpy(rng.normal(size=(tiny_dataset.n_items, 4)).astype(np.float32)),
    )
    m = evaluate(emb, tiny_dataset)
    for k in (5, 10, 20, 50):
        for name in ("recall", "ndcg", "precision", "map", "hitrate", "coverage"):
            assert 0.0 <= m[f"{name}@{k}"] <= 1.0
    assert m["recall@50"] >= m["recall@20"] >= m["recall@10"] >= m["recall@5"]


def test_batched_scoring_equals_one_batch(tiny_dataset):
    rng = np.random.default_rng(1)
    emb = Embeddings(
        torch.from_numpy(rng.normal(size=(tiny_dataset.n_users, 4)).astype(np.float32)),
        torch.from_numpy(rng.normal(size=(tiny_dataset.n_items, 4)).astype(np.float32)),
    )
    users = np.arange(tiny_dataset.n_users)
    one, _ = top_k_items(emb, users, 10, tiny_dataset.train)
    many, _ = top_k_items(emb, users, 10, tiny_dataset.train, batch=7)
    np.testing.assert_array_equal(one, many)


def test_a_segment_of_users_is_evaluated_alone(hand_dataset, hand_embeddings):
    # u0's test {2, 4} against the ranking 0 > 1 > 2 > 3 > 4 with {0} (train) and {1} (valid)
    # masked: top-2 is [2, 3], one hit of two; u1's test {0}, masked {4, 3}: top-1 is [0]
    u0 = evaluate(hand_embeddings, hand_dataset, "test", ks=(2,), users=[0])
    u1 = evaluate(hand_embeddings, hand_dataset, "test", ks=(2,), users=[1])
    both = evaluate(hand_embeddings, hand_dataset, "test", ks=(2,))
    assert u0["recall@2"] == 0.5 and u1["recall@2"] == 1.0 and u0["users"] == 1
    assert both["recall@2"] == pytest.approx((u0["recall@2"] + u1["recall@2"]) / 2)
    # duplicates and order do not matter; out-of-range ids are refused
    assert evaluate(hand_embeddings, hand_dataset, "test", ks=(2,), users=[1, 0, 1]) == both
    with pytest.raises(ValueError, match="users must be ids"):
        evaluate(hand_embeddings, hand_dataset, "test", users=[2])


def test_segments_are_evaluated_from_one_forward_pass(tiny_dataset):
    import dataclasses

    import pandas as pd

    from anchorrec.evaluation import evaluate_segments, user_segments

    groups = np.array(["a", "b", "c"])[np.arange(tiny_dataset.n_users) % 3]
    ds = dataclasses.replace(tiny_dataset, users=pd.DataFrame({"group": groups}))
    rng = np.random.default_rng(2)
    emb = Embeddings(
        torch.from_numpy(rng.normal(size=(ds.n_users, 4)).astype(np.float32)),
        torch.from_numpy(rng.normal(size=(ds.n_items, 4)).astype(np.float32)),
    )
    segments = user_segments(ds, "group")
    assert list(segments) == ["a", "b", "c"]
    assert user_segments(ds, "no such column") == {}
    by = evaluate_segments(emb, ds, {**segments, "nobody": np.array([], dtype=np.int64)})
    assert set(by) == {"a", "b", "c"}  # an empty segment is left out
    for name, users in segments.items():
        assert by[name] == evaluate(emb, ds, "test", users=users)
    whole = evaluate(emb, ds, "test")
    weighted = sum(by[g]["recall@20"] * by[g]["users"] for g in by) / whole["users"]
    assert weighted == pytest.approx(whole["recall@20"])


def test_mrr_is_the_reciprocal_rank_of_the_first_hit(hand_dataset, hand_embeddings):
    valid = evaluate(hand_embeddings, hand_dataset, "valid", ks=(1, 3, 4))
    # u0: [1, 2, 3, 4] vs {1} → first hit at rank 1;  u1: [0, 1, 2, 3] vs {3} → rank 4
    assert valid["mrr@1"] == pytest.approx(0.5)
    assert valid["mrr@3"] == pytest.approx(0.5)  # u1's hit is beyond 3
    assert valid["mrr@4"] == pytest.approx((1 + 1 / 4) / 2)
