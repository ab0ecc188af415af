"""Per-user metrics and paired bootstrap intervals between models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from anchorrec.evaluation import (
    compare_to_reference,
    evaluate,
    paired_bootstrap_interval,
    per_user_metrics,
)
from anchorrec.models.base import Embeddings
from tests.evaluation.test_metrics import hand_dataset, hand_embeddings  # noqa: F401


def test_per_user_metrics_are_the_hand_computed_ones(hand_dataset, hand_embeddings):  # noqa: F811
    # the hand lists mask train + valid (the stricter rule; MMRec's masks train only)
    per_user = per_user_metrics(hand_embeddings, hand_dataset, "test", k=2, mask="train+valid")
    # masked lists: u0 [2, 3] against {2, 4} → rel 1 0;  u1 [0, 1] against {0} → 1 0
    l2, l3 = 1 / math.log2(2), 1 / math.log2(3)
    assert per_user["users"].tolist() == [0, 1]
    np.testing.assert_allclose(per_user["recall@2"], [0.5, 1.0])
    np.testing.assert_allclose(per_user["ndcg@2"], [l2 / (l2 + l3), 1.0])


def test_per_user_metrics_average_to_evaluate(tiny_dataset):
    g = torch.Generator().manual_seed(0)
    emb = Embeddings(
        torch.randn(tiny_dataset.n_users, 8, generator=g),
        torch.randn(tiny_dataset.n_items, 8, generator=g),
    )
    expected = evaluate(emb, tiny_dataset, "test", ks=(10,))
    per_user = per_user_metrics(emb, tiny_dataset, "test", k=10)
    assert len(per_user["users"]) == expected["users"]
    for metric in ("recall@10", "ndcg@10"):
        assert per_user[metric].mean() == pytest.approx(expected[metric])


def test_the_interval_finds_a_real_lead_and_a_tie():
    rng = np.random.default_rng(0)
    base = rng.random(3000)
    lead = base + 0.02 + 0.05 * rng.standard_normal(3000)  # true lead 0.02, noisy per user
    low, high = paired_bootstrap_interval(lead, base)
    assert 0 < low < 0.02 < high
    assert (low, high) == paired_bootstrap_interval(lead, base)  # seeded
    noise = base + 0.05 * rng.standard_normal(3000)  # no lead
    low, high = paired_bootstrap_interval(noise, base)
    assert low < 0 < high
    assert paired_bootstrap_interval(base, base) == (0.0, 0.0)
    with pytest.raises(ValueError, match="level"):
        paired_bootstrap_interval(base, base, level=95)


def test_compare_to_reference_gives_each_model_a_verdict_per_metric():
    users = np.arange(4)
    per_user = {
        "ref": {"users": users, "recall@20": np.array([0.0, 0.5, 0.5, 1.0])},
        "better": {"users": users, "recall@20": np.array([0.5, 1.0, 1.0, 1.0])},
        "same": {"users": users, "recall@20": np.array([0.5, 0.5, 0.0, 1.0])},
    }
    found = {d.model: d for d in compare_to_reference(per_user, "ref", ["recall@20"])}
    assert set(found) == {"better", "same"}
    assert found["better"].difference == pytest.approx(0.375) and found["better"].verdict == "above"
    assert found["same"].difference == 0.0 and found["same"].verdict == "tie"
    flipped = compare_to_reference(per_user, "better", ["recall@20"])
    assert {d.model: d.verdict for d in flipped}["ref"] == "below"
    with pytest.raises(ValueError, match="not among"):
        compare_to_reference(per_user, "missing")
    other = dict(per_user, odd={"users": users + 1, "recall@20": users * 0.0})
    with pytest.raises(ValueError, match="different users"):
        compare_to_reference(other, "ref", ["recall@20"])


def test_segment_means_of_per_user_metrics_equal_evaluate_segments(tiny_dataset):
    from anchorrec.evaluation import evaluate_segments, segment_means

    g = torch.Generator().manual_seed(1)
    emb = Embeddings(
        torch.randn(tiny_dataset.n_users, 8, generator=g),
        torch.randn(tiny_dataset.n_items, 8, generator=g),
    )
    segments = {"even": np.arange(0, tiny_dataset.n_users, 2), "odd": np.arange(1, 9, 2)}
    expected = evaluate_segments(emb, tiny_dataset, segments, "test", ks=(10,))
    got = segment_means(per_user_metrics(emb, tiny_dataset, "test", k=10), segments)
    assert set(got) == set(expected)
    for name, metrics in got.items():
        assert metrics["users"] == expected[name]["users"]
        for metric in ("recall@10", "ndcg@10"):
            assert metrics[metric] == pytest.approx(expected[name][metric])
    empty = segment_means(
        per_user_metrics(emb, tiny_dataset, "test", k=10), {"none": np.array([], int)}
    )
    assert empty == {}
