"""Behaviours of every model variant on tiny random graphs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from anchorrec.data.features import build_fused_features
from anchorrec.errors import ConfigError
from anchorrec.models import VARIANTS, build_model, preset_config
from anchorrec.models import graphs as graphs_mod
from anchorrec.models.base import Batch
from anchorrec.models.graphs import MeanGraph, knn_graph
from anchorrec.training import train
from tests.conftest import make_tiny_dataset
from tests.models.conftest import fast_config


def _gradient_trained(variant: str) -> bool:
    model = build_model(variant, make_tiny_dataset(), fast_config(variant))
    return any(p.requires_grad for p in model.parameters())


TRAINABLE = [v for v in VARIANTS if _gradient_trained(v)]
WITH_PLAYERS = [v for v in VARIANTS if v != "popularity"]


@pytest.mark.parametrize("variant", TRAINABLE)
def test_every_variant_trains_and_its_loss_falls(tiny_dataset, variant):
    result = train(tiny_dataset, variant, fast_config(variant), progress=False, device="cpu")
    losses = [r["loss"]["total"] for r in result.log]
    assert len(losses) == 6
    assert np.mean(losses[-2:]) < losses[0]
    assert 0.0 <= result.metrics["test"]["recall@20"] <= 1.0


@pytest.mark.parametrize("preset", ["default", "paper"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_branches_sum_to_the_embeddings(tiny_dataset, variant, preset):
    model = build_model(variant, tiny_dataset, fast_config(variant, preset), seed=0)
    emb = model.compute_embeddings()
    assert emb.users.shape[0] == tiny_dataset.n_users
    assert emb.items.shape[0] == tiny_dataset.n_items
    torch.testing.assert_close(sum(emb.user_branches.values()), emb.users, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(sum(emb.item_branches.values()), emb.items, atol=1e-6, rtol=1e-5)
    assert "final" in emb.spaces
    torch.testing.assert_close(emb.spaces["final"], emb.items)


@pytest.mark.parametrize("variant", WITH_PLAYERS)
def test_dropping_every_player_leaves_a_constant_score_per_user(tiny_dataset, variant):
    model = build_model(variant, tiny_dataset, fast_config(variant), seed=0)
    model.fit()  # closed-form models compute their weights; the others have nothing to do
    emb = model.compute_embeddings(frozenset(model.players))
    scores = emb.users @ emb.items.T
    spread = (scores - scores[:, :1]).abs().max()
    assert float(spread) < 1e-5
    # while with every player present, items are told apart
    full = model.compute_embeddings()
    assert float((full.users @ full.items.T).std(dim=1).min()) > 1e-4


def test_anchor_branches_and_players(tiny_dataset):
    model = build_model("anchor", tiny_dataset, fast_config("anchor"), seed=0)
    assert model.players == ("id", "image", "text")
    emb = model.compute_embeddings()
    assert set(emb.user_branches) == {"id", "fused", "text", "image"}
    assert set(emb.item_branches) == {"id", "fused", "text", "image", "recover"}
    paper = build_model("anchor", tiny_dataset, fast_config("anchor", "paper"), seed=0)
    emb = paper.compute_embeddings()
    # the released computation: the image view enters only a loss
    assert set(emb.user_branches) == {"id", "fused", "text"}
    assert set(emb.item_branches) == {"id", "fused", "text", "recover"}
    assert {"anchor_id", "anchor_fused", "anchor_image", "anchor_text", "anchor_mixup"} <= set(
        emb.spaces
    )


def test_paper_feature_tables_are_trainable_and_default_ones_frozen(tiny_dataset):
    paper = build_model("anchor", tiny_dataset, preset_config("paper"), seed=0)
    default = build_model("anchor", tiny_dataset, preset_config("default"), seed=0)
    assert {"feat_image", "feat_text", "feat_fused"} <= {n for n, _ in paper.named_parameters()}
    assert not any(n.startswith("feat_") for n, _ in default.named_parameters())
    assert not any(k.startswith("feat_") for k in default.state_dict())


def test_derived_fused_input_is_build_fused_features(tiny_dataset):
    model = build_model("anchor", tiny_dataset, fast_config("anchor"), seed=0)
    emb = model.compute_embeddings()
    expected = build_fused_features(tiny_dataset.features["image"], tiny_dataset.features["text"])
    np.testing.assert_allclose(emb.spaces["raw_fused"].numpy(), expected, rtol=1e-6)


def _graph_dense(model, drop, m):
    graph = model._graphs(frozenset(drop))[m]
    if isinstance(graph, MeanGraph):
        return graph.mm(torch.eye(graph.shape[0]))
    return graph.matrix.to_dense()


def test_dropping_a_player_replaces_its_features_by_the_mean_and_its_graph_by_the_mean_graph(
    tiny_dataset,
):
    model = build_model("anchor", tiny_dataset, fast_config("anchor"), seed=0)
    n = tiny_dataset.n_items
    mean_graph = torch.full((n, n), 1.0 / n)
    base_image = _graph_dense(model, (), "image")
    assert not torch.allclose(base_image, mean_graph)
    # image dropped: its graph is J/n, text untouched, the fused graph rebuilt
    torch.testing.assert_close(_graph_dense(model, {"image"}, "image"), mean_graph)
    assert torch.equal(_graph_dense(model, {"image"}, "text"), _graph_dense(model, (), "text"))
    fused_wo_image = _graph_dense(model, {"image"}, "fused")
    assert not torch.allclose(fused_wo_image, mean_graph)
    assert not torch.equal(fused_wo_image, _graph_dense(model, (), "fused"))
    expected = knn_graph(
        build_fused_features(
            np.broadcast_to(tiny_dataset.features["image"].mean(0), (n, 32)),
            tiny_dataset.features["text"],
        ),
        model.config.knn_k,
    ).toarray()
    np.testing.assert_allclose(fused_wo_image.numpy(), expected, atol=1e-6)
    # the fused graph is the mean graph only when all its sources are dropped
    torch.testing.assert_close(_graph_dense(model, {"image", "text"}, "fused"), mean_graph)
    # so a propagated view whose inputs are all removed carries nothing item-specific; with
    # the layer mean, what stays item-specific is the layer-0 term E_i ⊙ σ(gate(mean)): ID only
    released = build_model(
        "anchor", tiny_dataset, fast_config("anchor", modality_layer_mean=False), seed=0
    )
    mean_model = build_model("anchor", tiny_dataset, fast_config("anchor"), seed=0)
    assert mean_model.config.modality_layer_mean
    with torch.no_grad():
        mean_model.item_id.fill_(0.5)  # every item the same ID embedding
    for mdl in (released, mean_model):
        dropped = mdl.compute_embeddings(frozenset({"image", "text"}))
        for m in ("image", "text", "fused"):
            view = dropped.spaces[f"{m}_view"]
            torch.testing.assert_close(view, view[:1].expand_as(view))
    emb = model.compute_embeddings(frozenset({"image"}))
    raw = emb.spaces["raw_image"]
    torch.testing.assert_close(raw, raw[:1].expand_as(raw))
    torch.testing.assert_close(raw[0], torch.from_numpy(tiny_dataset.features["image"].mean(0)))
    # the coalition graphs are cached inside the model, not saved
    assert (frozenset({"image"}), "cpu", "mean") in model._graph_cache
    assert not any("graph" in k for k in model.state_dict())


def test_dropping_id_replaces_the_id_embeddings_by_their_means(tiny_dataset):
    model = build_model("anchor", tiny_dataset, fast_config("anchor"), seed=0)
    emb = model.compute_embeddings(frozenset({"id"}))
    for side in (emb.user_branches["id"], emb.item_branches["id"]):
        torch.testing.assert_close(side, side[:1].expand_as(side))
    # the gates read the mean ID embedding too, so modality branches still differ by item
    assert float(emb.item_branches["text"].std(0).max()) > 0


def test_a_shipped_fused_feature_is_its_own_player():
    ds = make_tiny_dataset()
    rng = np.random.default_rng(1)
    fused = rng.normal(size=(ds.n_items, 12)).astype(np.float32)
    ds = dataclasses.replace(ds, features={**ds.features, "fused": fused}, fingerprint="")
    model = build_model("anchor", ds, fast_config("anchor"), seed=0)
    assert model.players == ("id", "image", "text", "fused")
    mean_graph = torch.full((ds.n_items, ds.n_items), 1.0 / ds.n_items)
    torch.testing.assert_close(_graph_dense(model, {"fused"}, "fused"), mean_graph)
    assert torch.equal(
        _graph_dense(model, {"image", "text"}, "fused"), _graph_dense(model, (), "fused")
    )
    emb = model.compute_embeddings(frozenset(model.players))
    scores = emb.users @ emb.items.T
    assert float((scores - scores[:, :1]).abs().max()) < 1e-5


def test_unknown_players_cannot_be_dropped(tiny_dataset):
    model = build_model("lightgcn", tiny_dataset, fast_config("lightgcn"), seed=0)
    with pytest.raises(ConfigError):
        model.compute_embeddings(frozenset({"image"}))


def test_popularity_scores_are_the_train_popularity(tiny_dataset):
    model = build_model("popularity", tiny_dataset)
    assert model.players == ()
    emb = model.compute_embeddings()
    scores = emb.users[:3] @ emb.items.T
    pop = torch.from_numpy(tiny_dataset.item_popularity().astype(np.float32))
    for row in scores:
        torch.testing.assert_close(row, pop)


@pytest.mark.parametrize("tau", [0.0, -0.1])
def test_temperature_zero_is_rejected(tau):
    with pytest.raises(ConfigError, match="temperature"):
        preset_config("default", temperature=tau)
    with pytest.raises(ConfigError, match="temperature"):
        preset_config("paper", direct_temperature=tau)


def test_unknown_variant_and_missing_modalities_are_config_errors():
    ds = make_tiny_dataset(with_features=False)
    with pytest.raises(ConfigError, match="unknown"):
        build_model("anchorr", ds)
    with pytest.raises(ConfigError, match="image"):
        build_model("anchor", ds)
    assert build_model("lightgcn", ds).players == ("id",)


def test_knn_graph_keeps_self_and_k_neighbours_and_blocks_change_nothing(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5)).astype(np.float32)
    g = knn_graph(x, 4)
    assert (np.diff(g.indptr) == 4).all()
    assert all(i in g.indices[g.indptr[i] : g.indptr[i + 1]] for i in range(30))
    monkeypatch.setattr(graphs_mod, "KNN_BLOCK_ENTRIES", 64)  # 2 rows per block
    g_blocks = graphs_mod.knn_graph(x, 4)
    np.testing.assert_allclose(g.toarray(), g_blocks.toarray(), atol=1e-7)
    # symmetric normalisation of the cosine values: w_ij = s_ij / sqrt(d_i d_j)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = np.zeros((30, 30), np.float32)
    for i in range(30):
        cols = g.indices[g.indptr[i] : g.indptr[i + 1]]
        s[i, cols] = xn[i] @ xn[cols].T
    d = s.sum(1)
    np.testing.assert_allclose(g.toarray(), s / np.sqrt(np.outer(d, d)), atol=1e-6)


def test_loss_has_named_terms_and_total(tiny_dataset):
    model = build_model("anchor", tiny_dataset, fast_config("anchor"), seed=0)
    batch = Batch(
        torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 3]), torch.tensor([5, 6, 7, 8])
    )
    terms = model.loss(batch)
    assert {"bpr", "l2", "uim", "aal", "amp", "smooth", "total"} <= set(terms)
    torch.testing.assert_close(terms["total"], sum(v for k, v in terms.items() if k != "total"))
    none_terms = build_model("none", tiny_dataset, fast_config("none"), seed=0).loss(batch)
    assert "aal" not in none_terms and "amp" not in none_terms
    noamp = build_model("anchor-noamp", tiny_dataset, fast_config("anchor-noamp"), seed=0)
    assert "amp" not in noamp.loss(batch) and "aal" in noamp.loss(batch)


@pytest.mark.parametrize("width", [8, 200])  # narrower and wider than the distinct items
def test_similarity_preservation_equals_the_direct_formula(width):
    from anchorrec.models import losses

    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(50, width, generator=gen)
    items = torch.randint(0, 50, (64,), generator=gen)  # with repeats
    z = torch.randn(64, 6, generator=gen, requires_grad=True)
    fast = losses.similarity_preservation(z, feats, items)
    (g_fast,) = torch.autograd.grad(fast, z)
    zd = z.detach().double().requires_grad_(True)
    n = torch.nn.functional.normalize(feats[items].double(), dim=1)
    direct = torch.linalg.matrix_norm(zd @ zd.T - n @ n.T) / 64
    (g_direct,) = torch.autograd.grad(direct, zd)
    assert float(fast.detach()) == pytest.approx(float(direct.detach()), rel=1e-5)
    torch.testing.assert_close(g_fast.double(), g_direct, rtol=1e-4, atol=1e-7)


def test_a_shipped_fused_feature_equal_to_the_rule_counts_as_derived():
    ds = make_tiny_dataset()
    fused = build_fused_features(ds.features["image"], ds.features["text"])
    ds = dataclasses.replace(ds, features={**ds.features, "fused": fused}, fingerprint="")
    model = build_model("anchor", ds, fast_config("anchor"), seed=0)
    assert model.players == ("id", "image", "text")
