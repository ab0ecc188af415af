""" "Because you bought …": the history split is exact and adds up to the explained part."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from anchorrec.analysis import history as hi
from anchorrec.analysis.history import because_you_bought, history_explainer
from anchorrec.errors import ConfigError
from anchorrec.models.graphs import normalised_bipartite
from anchorrec.models.registry import build_model
from tests.analysis.conftest import FakeLoadedModel
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def dataset():
    return make_tiny_dataset(n_users=30, n_items=24)


def _loaded(variant, ds, **config):
    from anchorrec.models.config import preset_config

    cfg = preset_config("default", variant=variant)
    if config:
        cfg = replace(cfg, **config)
    model = build_model(variant, ds, cfg, seed=0)
    model.eval()
    return FakeLoadedModel(model=model, dataset=ds)


@pytest.mark.parametrize("variant", ["anchor", "direct", "lightgcn", "mf"])
def test_history_basis_rebuilds_the_user_vectors(dataset, variant):
    loaded = _loaded(variant, dataset)
    basis = loaded.model.history_basis()
    per_item = np.zeros((dataset.n_items, basis.own.shape[1]))
    for term in basis.terms.values():
        per_item = per_item + term
    rebuilt = basis.own + basis.weights @ per_item
    users = loaded.model.compute_embeddings().users.numpy()
    np.testing.assert_allclose(rebuilt, users, rtol=1e-5, atol=1e-6)
    # every weight sits on one of the user's train items
    w = basis.weights.tocoo()
    assert (dataset.train.toarray()[w.row, w.col] > 0).all()


@pytest.mark.parametrize("variant", ["anchor", "lightgcn"])
def test_contributions_add_up_to_the_explained_part_of_the_score(dataset, variant):
    loaded = _loaded(variant, dataset)
    emb = loaded.model.compute_embeddings()
    for user, item in [(0, 3), (5, 11), (17, 2)]:
        h = because_you_bought(loaded, user, item)
        score = float(emb.users[user] @ emb.items[item])
        assert h.unowned + h.explained == pytest.approx(score, rel=1e-5, abs=1e-6)
        assert h.contributions.sum() == pytest.approx(h.score - h.unowned, abs=1e-12)
        np.testing.assert_allclose(h.by_path.sum(axis=0), h.contributions, atol=1e-12)
        assert sorted(h.history) == sorted(dataset.train.tocsr()[user].indices)
        assert np.all(np.diff(np.abs(h.contributions)) <= 1e-12)  # largest first


def test_lightgcn_split_equals_an_enumeration_of_paths(dataset):
    """Two layers: paths u→j (l = 1) and u→j→v (l = 2) credited to their first hop j."""
    loaded = _loaded("lightgcn", dataset, id_layers=2)
    model = loaded.model
    a_hat = normalised_bipartite(dataset.train)[0].toarray().astype(np.float64)
    e = np.concatenate([model.user_id.detach().numpy(), model.item_id.detach().numpy()])
    n_users = dataset.n_users
    h_items = model.compute_embeddings().items.numpy().astype(np.float64)
    user, item = 4, 9
    history = dataset.train.tocsr()[user].indices
    expected = {}
    for j in history:
        node = n_users + j
        one_hop = a_hat[user, node] * e[node]
        two_hop = sum(a_hat[user, node] * a_hat[node, v] * e[v] for v in range(len(e)))
        expected[int(j)] = float((one_hop + two_hop) / 3 @ h_items[item])
    got = dict(because_you_bought(loaded, user, item).top(len(history)))
    assert set(got) == set(expected)
    for j in expected:
        assert got[j] == pytest.approx(expected[j], rel=1e-4, abs=1e-6)
    own = float(e[user] / 3 @ h_items[item])
    assert because_you_bought(loaded, user, item).unowned == pytest.approx(own, rel=1e-4, abs=1e-6)


def test_matrix_factorisation_owns_nothing_through_its_history(dataset):
    h = because_you_bought(_loaded("mf", dataset), 3, 5)
    assert h.explained == 0 and len(h.history) == 0 and h.unowned == pytest.approx(h.score)


def test_a_model_not_linear_in_history_gets_none(tiny_model):
    hi._CACHES.pop(tiny_model.model, None)
    assert history_explainer(tiny_model) is None
    assert because_you_bought(tiny_model, 0, 0) is None


def test_unknown_user_or_item_is_a_user_error(dataset):
    loaded = _loaded("lightgcn", dataset)
    with pytest.raises(ConfigError, match="user 99"):
        because_you_bought(loaded, 99, 0)
    with pytest.raises(ConfigError, match="item 999"):
        because_you_bought(loaded, 0, 999)


def test_json_record_keeps_the_sum(dataset):
    h = because_you_bought(_loaded("anchor", dataset), 2, 6)
    rec = h.to_json(top=2)
    assert len(rec["items"]) == min(2, len(h.history))
    assert rec["items_left_out"] == len(h.history) - len(rec["items"])
    assert rec["unowned"] + rec["explained"] == pytest.approx(rec["score"])
