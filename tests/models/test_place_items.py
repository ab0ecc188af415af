"""Recommender.place_items: an unseen item placed in the catalogue, exactly as if it had been
there (kNN graphs, feature tables, ID embedding), without retraining."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anchorrec.data.dataset import IMAGE, TEXT
from anchorrec.errors import ConfigError
from anchorrec.models.config import preset_config
from anchorrec.models.graphs import extend_knn_rows, knn_from_rows, knn_graph, knn_rows
from anchorrec.models.registry import ID_ONLY_VARIANTS, MULTIMODAL_VARIANTS, build_model
from tests.conftest import make_tiny_dataset


def test_extending_knn_rows_equals_searching_the_longer_catalogue():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 12)).astype(np.float32)
    x[7] = 0  # a zero row keeps itself with weight 0
    more = np.concatenate([x, rng.normal(size=(3, 12)).astype(np.float32), x[[4]]])
    ext = extend_knn_rows(*knn_rows(x, 6), more, 6)
    full = knn_rows(more, 6)
    np.testing.assert_allclose(
        knn_from_rows(*ext).toarray(), knn_from_rows(*full).toarray(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(knn_graph(more, 6).toarray(), knn_from_rows(*full).toarray())


@pytest.mark.parametrize("variant", MULTIMODAL_VARIANTS)
def test_an_appended_item_is_scored_as_a_rebuilt_catalogue_scores_it(variant):
    ds = make_tiny_dataset()
    model = build_model(variant, ds, preset_config("default", variant=variant), seed=1).eval()
    rng = np.random.default_rng(0)
    feats = {IMAGE: rng.normal(size=(2, 32)), TEXT: rng.normal(size=(2, 16))}
    placed = model.place_items(feats)
    assert placed.n_items == ds.n_items + 2 and model.n_items == ds.n_items
    # the same copy with its graphs searched afresh over the longer catalogue
    fresh = model.place_items(feats)
    fresh.invalidate_graphs()
    a, b = placed.compute_embeddings(), fresh.compute_embeddings()
    torch.testing.assert_close(a.users, b.users, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.items, b.items, rtol=1e-5, atol=1e-6)
    # existing items keep their ID embeddings; the new ones get the catalogue mean
    e = model.item_id.detach()
    torch.testing.assert_close(placed.item_id.detach()[: ds.n_items], e)
    torch.testing.assert_close(placed.item_id.detach()[ds.n_items], e.mean(0))
    # the original model is untouched
    torch.testing.assert_close(model.compute_embeddings().items, model.compute_embeddings().items)
    assert model.compute_embeddings().items.shape[0] == ds.n_items


def test_replacing_an_items_content_with_its_own_changes_nothing():
    ds = make_tiny_dataset()
    model = build_model("anchor", ds, seed=2).eval()
    same = {m: ds.features[m][[3]] for m in (IMAGE, TEXT)}
    edited = model.place_items(same, np.array([3]), fresh=False)
    torch.testing.assert_close(
        edited.compute_embeddings().items, model.compute_embeddings().items, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("variant", ID_ONLY_VARIANTS)
def test_id_only_models_cannot_place_an_item(variant):
    ds = make_tiny_dataset()
    model = build_model(variant, ds)
    with pytest.raises(ConfigError, match="cannot rank an item it has never seen"):
        model.place_items({IMAGE: np.zeros((1, 32)), TEXT: np.zeros((1, 16))})
