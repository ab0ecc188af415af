"""New-product preview: placing an unseen item, its audience, attribution and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anchorrec.analysis import preview as pv
from anchorrec.analysis import preview_edit as pe
from anchorrec.data.dataset import IMAGE, TEXT
from anchorrec.errors import ConfigError
from tests.preview_support import encoded_shop, items_table

pytestmark = pytest.mark.slow  # the shop is encoded with the real offline encoders


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    return encoded_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def models(shop):
    from anchorrec.models.checkpoint import load_model

    return {v: load_model(shop / "models" / v) for v in ("anchor", "lightgcn")}


def _product_of(shop: Path, item: int) -> pv.NewProduct:
    row = items_table().iloc[item]
    return pv.NewProduct(row.title, row.description, row.category, shop / row.image)


def test_encoding_follows_the_catalogue_pipeline(shop, models):
    ds = models["anchor"].dataset
    for item in (0, 7):
        feats = pv.encode_product(_product_of(shop, item)).features
        np.testing.assert_allclose(feats[IMAGE][0], ds.features[IMAGE][item], atol=1e-4)
        np.testing.assert_allclose(feats[TEXT][0], ds.features[TEXT][item], atol=1e-5)


@pytest.mark.parametrize("item", [2, 13])
def test_a_copy_of_an_item_lands_on_it_in_every_content_space(shop, models, item):
    product = pv.encode_product(_product_of(shop, item))
    p = pv.preview_item(models["anchor"], product, k=5)
    assert p.can_rank and p.item == models["anchor"].dataset.n_items
    for space in pv.CONTENT_SPACES:
        top = p.neighbours[space].iloc[0]
        assert int(top["item"]) == item, space
        assert float(top["cosine"]) > 0.999, space
    # and in every content kNN graph it is the item's first neighbour (after itself)
    assert set(p.graph_neighbours) == {"fused", "text", "image"}
    for view, neighbours in p.graph_neighbours.items():
        assert int(neighbours[0]) == item, view


def test_identical_products_score_alike(shop, models):
    """Two placed copies of the same content are the same item to the model: equal scores."""
    product = pv.encode_product(_product_of(shop, 5))
    once = pv.placed_model(models["anchor"], product)
    twice = pv.placed_model(once, product)
    n = models["anchor"].dataset.n_items
    emb = twice.model.compute_embeddings()
    scores = (emb.users @ emb.items[[n, n + 1]].T).numpy()
    np.testing.assert_allclose(scores[:, 0], scores[:, 1], rtol=1e-5, atol=1e-6)
    for name in pv.CONTENT_SPACES + ("fused_view", "final"):
        x = emb.spaces[name].numpy()
        np.testing.assert_allclose(x[n], x[n + 1], rtol=1e-5, atol=1e-6, err_msg=name)
    # previewing twice gives the same answer (nothing random in the placement)
    a = pv.preview_item(models["anchor"], product, k=5, explain=False)
    b = pv.preview_item(models["anchor"], product, k=5, explain=False)
    np.testing.assert_array_equal(a.ranks, b.ranks)


def test_an_edit_that_changes_nothing_changes_no_rank(shop, models):
    lm = models["anchor"]
    row = items_table().iloc[9]
    same = pe.edited_product(lm.dataset, 9, title=row.title)  # re-encodes the same copy
    result = pe.preview_edit(lm, 9, same, k=5)
    assert result.can_change
    np.testing.assert_array_equal(result.ranks_before, result.ranks_after)
    assert result.summary()["leave"] == 0 and len(result.entered) == 0


def test_an_edit_moves_the_item(shop, models):
    lm = models["anchor"]
    other = pe.edited_product(
        lm.dataset, 9, title="Ring model 3", description="A ring.", image=shop / "images/0003.png"
    )
    result = pe.preview_edit(lm, 9, other, k=5)
    assert not np.array_equal(result.ranks_before, result.ranks_after)
    before = (result.ranks_before > 0) & (result.ranks_before <= 5)
    assert len(result.table) == int(before.sum())
    # the rows of shoppers who bought the item stay "already bought" (rank 0)
    bought = np.asarray(lm.dataset.train[:, 9].todense()).ravel() > 0
    assert (result.ranks_after[bought] == 0).all() and (result.ranks_after[~bought] > 0).all()


def test_the_audience_is_the_shoppers_whose_top_k_it_enters(shop, models):
    from anchorrec.models.ranking import top_k_items

    lm = models["anchor"]
    p = pv.preview_item(lm, pv.encode_product(_product_of(shop, 1)), k=8)
    placed = p.placed
    top, _ = top_k_items(
        placed.model.compute_embeddings(),
        np.arange(placed.dataset.n_users),
        8,
        placed.dataset.train,
    )
    entered = np.flatnonzero((top == p.item).any(axis=1))
    assert sorted(p.audience.tolist()) == entered.tolist()
    seg = p.segments.set_index(["segment", "name"])
    assert seg.loc[("all shoppers", "all"), "audience"] == len(p.audience)
    groups = seg.loc["shopper group"]
    assert set(groups.index) == {"visual", "textual"}
    assert groups["audience"].sum() == len(p.audience)
    assert int(p.distribution["shoppers"].sum()) == lm.dataset.n_users


def test_attribution_of_the_audience_is_exact(shop, models):
    p = pv.preview_item(models["anchor"], pv.encode_product(_product_of(shop, 6)), k=10)
    a = p.attribution
    assert a is not None and len(a) == len(p.audience) > 0
    assert a.efficiency_error() < 1e-4
    np.testing.assert_allclose(a.scores, p.scores[a.users], rtol=1e-4, atol=1e-5)
    assert set(a.players) == {"id", "image", "text"}
    text = p.why(int(p.audience[0]))
    assert text.startswith("The new product is ranked #")
    outsider = int(np.argmax(p.ranks))  # the worst-ranked shopper is explained on demand
    assert "ranked #" in p.why(outsider)


def test_id_only_models_say_they_cannot_rank_it(shop, models):
    lm = models["lightgcn"]
    product = pv.encode_product(_product_of(shop, 0))
    p = pv.preview_item(lm, product, k=5)
    assert not p.can_rank
    assert "cannot rank" in p.reason and "lightgcn" in p.reason
    assert len(p.audience) == 0
    assert p.to_json()["can_rank"] is False
    with pytest.raises(ConfigError, match="cannot rank an item it has never seen"):
        lm.model.place_items(product.features)
    edit = pe.preview_edit(lm, 0, product, k=5)
    assert not edit.can_change and "changes nothing" in edit.reason


def test_bad_inputs_name_the_field(shop, models, tmp_path, monkeypatch):
    good = shop / "images/0000.png"
    with pytest.raises(pv.PreviewInputError, match="title") as err:
        pv.encode_product(pv.NewProduct("  ", "a description", None, good))
    assert err.value.field == "title"
    with pytest.raises(pv.PreviewInputError) as err:
        pv.encode_product(pv.NewProduct("A title", "", None, good))
    assert err.value.field == "description"
    with pytest.raises(pv.PreviewInputError) as err:
        pv.encode_product(pv.NewProduct("A title", "Some copy", None, None))
    assert err.value.field == "image"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    for photo in (bad, tmp_path / "missing.jpg", b"", b"\x89PNG garbage"):
        with pytest.raises(pv.PreviewInputError) as err:
            pv.encode_product(pv.NewProduct("A title", "Some copy", None, photo))
        assert err.value.field == "image"
    monkeypatch.setattr(pv, "MAX_PHOTO_BYTES", 100)
    with pytest.raises(pv.PreviewInputError, match="limit"):
        pv.read_photo(good.read_bytes())
    with pytest.raises(pv.PreviewInputError, match="limit"):
        pv.read_photo(good)


def test_features_of_another_width_are_refused(models):
    lm = models["anchor"]
    with pytest.raises(ConfigError, match="1280-d"):
        lm.model.place_items({IMAGE: np.zeros((1, 32)), TEXT: np.zeros((1, 384))})
    with pytest.raises(ConfigError, match="image"):
        lm.model.place_items({TEXT: np.zeros((1, 384))})
    with pytest.raises(ConfigError, match="k must be"):
        pv.preview_item(lm, pv.ProductFeatures({}, "t", "d", None, "t"), k=0)


def test_a_fresh_replacement_forgets_purchases_and_id(models):
    lm = models["anchor"]
    ds = lm.dataset
    item = int(np.argmax(np.asarray(ds.train.sum(axis=0)).ravel()))  # the most bought item
    feats = {m: ds.features[m][item][None] for m in (IMAGE, TEXT)}
    placed = pv.placed_model(lm, feats, np.array([item]), fresh=True)
    assert placed.dataset.train[:, item].nnz == 0
    assert placed.dataset.n_items == ds.n_items
    e = lm.model.item_id.detach()
    others = np.setdiff1d(np.arange(ds.n_items), [item])
    np.testing.assert_allclose(
        placed.model.item_id.detach()[item].numpy(), e[others].mean(0).numpy(), atol=1e-6
    )
    kept = pv.placed_model(lm, feats, np.array([item]), fresh=False)
    assert kept.dataset.train[:, item].nnz == ds.train[:, item].nnz
