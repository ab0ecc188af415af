"""The accuracy game: exact, efficient per shopper, the same accuracy the evaluation
measures, aggregated by segment with intervals, stored beside the model."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from anchorrec.analysis.accuracy_game import (
    OVERALL,
    accuracy_game,
    activity_buckets,
    past_categories,
    shopper_values,
)
from anchorrec.analysis.attribution import coalition_cache
from anchorrec.analysis.shapley import shapley_by_enumeration


def test_values_add_up_per_shopper_and_match_enumeration(tiny_model):
    cache = coalition_cache(tiny_model)
    sv = shopper_values(cache, tiny_model.dataset, k=10)
    assert sv.efficiency_error() < 1e-12
    from anchorrec.evaluation.metrics import per_user_metrics

    full = per_user_metrics(tiny_model.model, tiny_model.dataset, "test", 10)
    assert np.array_equal(sv.users, full["users"])
    np.testing.assert_allclose(sv.full["recall"], full["recall@10"], atol=1e-12)
    np.testing.assert_allclose(sv.full["ndcg"], full["ndcg@10"], atol=1e-12)
    # the Shapley values of the textbook definition, from each coalition's own accuracy
    import torch

    from anchorrec.models.base import Embeddings

    value = {}
    for s, subset in enumerate(cache.subsets):
        emb = Embeddings(torch.from_numpy(cache.users[s]), torch.from_numpy(cache.items[s]))
        value[subset] = per_user_metrics(emb, tiny_model.dataset, "test", 10)["recall@10"]
    expected = shapley_by_enumeration(cache.players, value)
    np.testing.assert_allclose(sv.values["recall"], expected, atol=1e-12)


def test_restricting_the_held_out_items_evaluates_only_shoppers_with_one(tiny_model):
    cache = coalition_cache(tiny_model)
    ds = tiny_model.dataset
    keep = np.zeros(ds.n_items, dtype=bool)
    keep[::3] = True
    sv = shopper_values(cache, ds, k=10, items=keep)
    test = ds.test.tocsr()
    has = np.flatnonzero(np.asarray(test[:, keep].sum(axis=1)).ravel() > 0)
    assert np.array_equal(sv.users, has)
    assert sv.efficiency_error() < 1e-12
    assert np.all((sv.full["recall"] >= 0) & (sv.full["recall"] <= 1))


def test_segments_and_differences_have_intervals(tiny_model):
    result = accuracy_game(tiny_model, k=10)
    frame = result.to_frame()
    assert set(frame["metric"]) == {"recall", "ndcg"}
    everyone = frame[(frame["kind"] == OVERALL) & (frame["metric"] == "recall")]
    assert list(everyone["input"]) == ["id", "image", "text", *_pairs(("id", "image", "text"))]
    assert (frame["low"] <= frame["value"] + 1e-12).all()
    assert (frame["value"] <= frame["high"] + 1e-12).all()
    image = result.value(OVERALL, OVERALL, "image").value
    text = result.value(OVERALL, OVERALL, "text").value
    assert result.value(OVERALL, OVERALL, "image − text").value == pytest.approx(image - text)
    assert "held-out items" in set(frame["kind"]) and "activity" in set(frame["kind"])
    with pytest.raises(KeyError):
        result.value(OVERALL, OVERALL, "fused")


def _pairs(players):
    return [f"{a} − {b}" for a, b in itertools.combinations(players, 2)]


def test_activity_buckets_cover_every_shopper_in_ordered_ranges():
    counts = np.array([3, 3, 3, 4, 5, 6, 7, 9, 20])
    labels = activity_buckets(counts)
    assert all(isinstance(v, str) and v for v in labels)
    # thirds of the shoppers: cut after the 1/3 and 2/3 quantiles (4 and 7)
    assert list(labels) == ["3–4 purchases"] * 4 + ["5–7 purchases"] * 3 + ["8+ purchases"] * 2
    assert list(activity_buckets(np.array([5, 5, 5]))) == ["5 purchases"] * 3


def test_past_category_is_the_most_bought_one(tiny_model):
    ds = tiny_model.dataset
    assert past_categories(ds) is None  # no catalogue table
    import dataclasses

    items = pd.DataFrame({"category": np.where(np.arange(ds.n_items) % 4 == 0, "a", "b")})
    labelled = dataclasses.replace(ds, items=items)
    past = past_categories(labelled)
    train = ds.train.tocsr()
    u = int(np.argmax(np.diff(train.indptr)))
    bought = train.indices[train.indptr[u] : train.indptr[u + 1]]
    a = int((bought % 4 == 0).sum())
    assert past[u] == ("a" if a > len(bought) - a else "b")


def test_stored_accuracy_game_reads_back_only_for_this_model(tmp_path, monkeypatch):
    import json

    from anchorrec.analysis.accuracy_game import (
        accuracy_game_file,
        read_accuracy_game,
        store_accuracy_game,
    )
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import load_model, save_model
    from anchorrec.models.registry import build_model
    from tests.conftest import make_tiny_dataset

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    ds = load_mmrec(save_mmrec(make_tiny_dataset(n_users=40, n_items=30), tmp_path / "tiny"))
    loaded = load_model(save_model(build_model("anchor", ds, seed=0), ds, tmp_path / "m"), ds)
    assert read_accuracy_game(loaded.model_dir) is None
    stored = store_accuracy_game(loaded)
    assert read_accuracy_game(loaded.model_dir) == stored
    assert read_accuracy_game(loaded.model_dir, k=10) is None  # measured at another cut-off
    path = loaded.model_dir / accuracy_game_file("mean")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "fingerprint": "0" * 16}))
    assert read_accuracy_game(loaded.model_dir) is None
