"""EASE, item-kNN and RP3β: their weights equal the textbook formulas, they sit behind the
model contract (one player, save/load, evaluation, attribution) and EASE refuses clearly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.evaluation import evaluate
from anchorrec.models import build_model, item_item, preset_config
from anchorrec.models.checkpoint import load_model
from anchorrec.training import train
from tests.conftest import make_tiny_dataset

ITEM_ITEM = ("ease", "itemknn", "rp3beta")


def _x(dataset) -> np.ndarray:
    return (dataset.train.toarray() > 0).astype(np.float64)


def _assert_top_k(got: np.ndarray, full: np.ndarray, k: int, axis: int) -> None:
    """``got`` keeps, along ``axis``, k largest entries of ``full`` (any of tied ones), rest 0."""
    kept = got != 0
    np.testing.assert_allclose(got[kept], full[kept], rtol=1e-5, atol=1e-7)
    assert (kept.sum(axis) <= k).all()
    top = -np.sort(-full, axis=axis)
    top = top[:k] if axis == 0 else top[:, :k]
    np.testing.assert_allclose(
        -np.sort(-got, axis=axis)[:k] if axis == 0 else -np.sort(-got, axis=axis)[:, :k],
        np.where(top > 0, top, 0.0),
        rtol=1e-5,
        atol=1e-7,
    )


def test_ease_weights_are_the_closed_form(tiny_dataset):
    x = _x(tiny_dataset)
    lam = 7.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    got = item_item.ease_weights(tiny_dataset.train, lam)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # W = I − P·diagMat(1/diag(P)), the form of the EASE paper
    np.testing.assert_allclose(got, np.eye(len(p)) - p / np.diag(p)[None, :], atol=1e-5)


def test_itemknn_weights_are_shrunk_cosine_with_k_neighbours_per_target(tiny_dataset):
    x = _x(tiny_dataset)
    k, shrink = 5, 3.0
    norms = np.sqrt((x * x).sum(0))
    sim = (x.T @ x) / (norms[:, None] * norms[None, :] + shrink + 1e-6)
    np.fill_diagonal(sim, 0.0)
    _assert_top_k(item_item.itemknn_weights(tiny_dataset.train, k, shrink), sim, k, axis=0)


def test_rp3beta_weights_are_the_penalised_three_step_walk(tiny_dataset):
    x = _x(tiny_dataset)
    alpha, beta, k = 0.7, 0.4, 6
    p_ui = (x / x.sum(1, keepdims=True).clip(1)) ** alpha
    p_iu = (x.T / x.sum(0)[:, None].clip(1)) ** alpha
    w = (p_iu @ p_ui) / x.sum(0).clip(1)[None, :] ** beta
    np.fill_diagonal(w, 0.0)
    _assert_top_k(item_item.rp3beta_weights(tiny_dataset.train, alpha, beta, k), w, k, axis=1)


@pytest.mark.parametrize("variant", ITEM_ITEM)
def test_scores_are_train_rows_times_the_weights(tiny_dataset, variant):
    model = build_model(variant, tiny_dataset, preset_config(variant=variant, knn_neighbours=8))
    model.fit()
    emb = model.compute_embeddings()
    expected = _x(tiny_dataset).astype(np.float32) @ model.weights.numpy()
    np.testing.assert_allclose((emb.users @ emb.items.T).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert model.players == ("id",) and model.id_only
    torch.testing.assert_close(emb.item_branches["id"], emb.items)


@pytest.mark.parametrize("variant", ITEM_ITEM)
def test_trained_saved_and_loaded_like_any_model(tiny_dataset, tmp_path, variant):
    result = train(tiny_dataset, variant, out_dir=tmp_path / variant, progress=False)
    assert result.log == [] and result.best_epoch == 0  # closed form: no epochs
    assert result.metrics["mask"] == "train"
    loaded = load_model(tmp_path / variant, tiny_dataset)
    assert loaded.config == result.config and loaded.config.variant == variant
    assert evaluate(loaded.model, tiny_dataset, "test")["recall@20"] == pytest.approx(
        result.metrics["test"]["recall@20"]
    )
    assert evaluate(loaded.model, tiny_dataset, "test")["recall@20"] > 0.1
    other = make_tiny_dataset(seed=3)
    with pytest.raises(CheckpointError, match="fingerprint"):
        load_model(tmp_path / variant, other)


def test_attribution_of_an_item_item_model_has_one_player(tiny_dataset, tmp_path):
    from anchorrec.analysis.attribution import coalition_cache, explain_user

    train(tiny_dataset, "ease", out_dir=tmp_path / "ease", progress=False)
    loaded = load_model(tmp_path / "ease", tiny_dataset)
    cache = coalition_cache(loaded)
    rec = explain_user(cache, 0, 5).to_json()
    assert cache.players == ("id",)
    for item in rec["items"]:
        assert item["baseline"] + item["attribution"]["id"] == pytest.approx(
            item["score"], abs=1e-4
        )


@pytest.mark.parametrize("variant", ITEM_ITEM)
def test_background_game_of_an_item_item_model_is_exact_and_uses_the_drawn_rows(
    tiny_dataset, tmp_path, variant
):
    from anchorrec.analysis.attribution import BACKGROUND_GAME, coalition_cache, explain_user
    from anchorrec.models.base import ID, Background

    train(tiny_dataset, variant, out_dir=tmp_path / variant, progress=False)
    loaded = load_model(tmp_path / variant, tiny_dataset)
    model = loaded.model
    rng = np.random.default_rng(0)
    draw = Background.draw(tiny_dataset.n_users, tiny_dataset.n_items, rng)
    full = model.compute_embeddings()
    drawn = model.compute_embeddings(frozenset({ID}), background=draw)
    # the removed input takes the drawn user's and item's values, not the catalogue mean
    assert torch.equal(drawn.users, full.users[torch.as_tensor(draw.users)])
    assert torch.equal(drawn.items, full.items[torch.as_tensor(draw.items)])
    cache = coalition_cache(loaded, game=BACKGROUND_GAME)
    for item in explain_user(cache, 0, 5).to_json()["items"]:
        assert item["baseline"] + item["attribution"]["id"] == pytest.approx(
            item["score"], abs=1e-4
        )


def test_ease_refuses_a_catalogue_beyond_its_documented_size(monkeypatch, tiny_dataset):
    assert item_item.EASE_MAX_ITEMS == 32768  # the figure docs/comparisons.md states
    monkeypatch.setattr(item_item, "EASE_MAX_ITEMS", tiny_dataset.n_items - 1)
    with pytest.raises(ConfigError, match=r"limited to 39 items.*itemknn or rp3beta"):
        build_model("ease", tiny_dataset, preset_config(variant="ease"))
    big = sp.csr_matrix((2, 100_000), dtype=np.float32)
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="224 GiB"):
        item_item.ease_weights(big, 1.0)  # refused before any allocation


def test_neighbourhood_models_refuse_beyond_their_dense_limit(monkeypatch, tiny_dataset):
    monkeypatch.setattr(item_item, "DENSE_MAX_ITEMS", 10)
    for variant in ("itemknn", "rp3beta"):
        with pytest.raises(ConfigError, match="dense items × items"):
            build_model(variant, tiny_dataset, preset_config(variant=variant))


@pytest.mark.parametrize(
    "overrides",
    [{"ease_lambda": 0.0}, {"knn_neighbours": 0}, {"knn_shrink": -1.0}, {"rp3_alpha": 0.0}],
)
def test_bad_baseline_hyper_parameters_are_config_errors(overrides):
    with pytest.raises(ConfigError):
        preset_config(variant="ease", **overrides)
