"""The cold-start path: exact routing, store/load with the model, the published ranking one
switch away, and a previewed shoe reaching the shoppers who buy shoes."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from anchorrec.analysis.cold_explain import explain_routed
from anchorrec.data.dataset import IMAGE, TEXT
from anchorrec.errors import ConfigError
from anchorrec.models.checkpoint import load_model
from anchorrec.models.cold_start import (
    COLD_START_FILE,
    CONTENT,
    GENERATOR,
    GLOBAL,
    PER_SHOPPER,
    TAIL_CALIBRATION,
    TASTE,
    ColdStart,
    apply_cold_start,
    catalogue_centre,
    centred_units,
    history_coherence,
    ranking_embeddings,
    routed_items,
    taste_basis,
    taste_scale,
    taste_weights,
    with_cold_start,
    write_cold_start,
)
from anchorrec.models.model_dir import ModelDir
from anchorrec.training.cold_start_fit import fit_cold_start
from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR
from tests.models.conftest import single_torch_thread  # noqa: F401

ANCHOR = SAMPLE_DATASET_DIR / MODELS_DIR / "anchor"
TINY_GRID = {
    "thresholds": (2,),
    "image_weights": (0.5,),
    "spreads": (1.0,),
    "shifts": (-0.5, 0.0),
    "ridges": (10.0,),
    "sharpnesses": (3.0,),
}


@pytest.fixture(scope="module")
def published():
    return with_cold_start(load_model(ANCHOR), False)


def _cold(ds, mechanism: str = CONTENT, calibration: str = TAIL_CALIBRATION) -> ColdStart:
    gen = None
    if mechanism == GENERATOR:
        gen = np.random.default_rng(0).normal(size=(1280 + 384, 64)).astype(np.float32) * 0.01
    if mechanism == TASTE:
        centre, scale = taste_basis(ds)
        return ColdStart(
            TASTE,
            calibration,
            2,
            0.5,
            1.0,
            0.3,
            dataset_fingerprint=ds.fingerprint,
            sharpness=3.0,
            centre=centre,
            taste_scale=scale,
        )
    return ColdStart(mechanism, calibration, 2, 0.5, 1.0, 0.3, gen, 10.0, ds.fingerprint)


@pytest.mark.parametrize(
    ("mechanism", "calibration"),
    [(CONTENT, TAIL_CALIBRATION), (GENERATOR, GLOBAL), (TASTE, PER_SHOPPER)],
)
def test_routing_keeps_warm_scores_and_its_explanation_adds_up(published, mechanism, calibration):
    ds = published.dataset
    cold = _cold(ds, mechanism, calibration)
    emb = published.model.eval_embeddings()
    routed = routed_items(ds.train, cold.threshold)
    assert 0 < routed.sum() < ds.n_items
    on = apply_cold_start(cold, emb, ds)
    users = np.array([0, 5, 17])
    before = (emb.users[users] @ emb.items.T).numpy()
    after = (on.users[users] @ on.items.T).numpy()
    np.testing.assert_allclose(after[:, ~routed], before[:, ~routed], rtol=1e-5, atol=1e-5)
    assert not np.allclose(after[:, routed], before[:, routed], atol=1e-3)
    item = int(np.flatnonzero(routed)[0])
    loaded = dataclasses.replace(published, cold_start=cold)
    for reason in explain_routed(loaded, users, item):
        parts = reason.offset + reason.image_total + reason.text_total
        assert parts == pytest.approx(after[list(users).index(reason.user), item], abs=1e-4)
        if mechanism != GENERATOR:
            assert len(reason.purchases) == ds.train[reason.user].nnz
            assert reason.image.sum() + reason.text.sum() == pytest.approx(
                reason.image_total + reason.text_total, abs=1e-6
            )


def test_history_coherence_is_the_mean_cosine_of_two_different_purchases(published):
    ds = published.dataset
    units = centred_units(ds.features, catalogue_centre(ds.features))
    got = history_coherence(ds.train, units[0])
    for u in (0, 7, 123):
        x = units[0][ds.train[u].indices]
        cos = x @ x.T
        n = len(x)
        assert got[u] == pytest.approx((cos.sum() - np.trace(cos)) / (n * (n - 1)), abs=1e-5)


def test_taste_weights_lean_to_the_modality_a_shopper_buys_by(published):
    """The sample plants shoppers who buy by look and shoppers who buy by description: the
    weight read from their own train history leans to image for the first, text for the
    second (the planted group is only read here, never by the mechanism)."""
    import pandas as pd

    ds = published.dataset
    group = pd.read_csv(SAMPLE_DATASET_DIR / "users.csv")["group"].to_numpy()
    units = centred_units(ds.features, catalogue_centre(ds.features))
    w = taste_weights(ds.train, units, taste_scale(ds.train, units), 3.0)
    assert w[group == "visual"].mean() > 0.6 > 0.4 > w[group == "textual"].mean()


def test_a_taste_calibration_round_trips_through_json(published):
    ds = published.dataset
    cold = _cold(ds, TASTE, PER_SHOPPER)
    again = ColdStart.from_json(json.loads(json.dumps(cold.to_json())))
    emb = published.model.eval_embeddings()
    a, b = apply_cold_start(cold, emb, ds), apply_cold_start(again, emb, ds)
    np.testing.assert_allclose(
        (a.users[:50] @ a.items.T).numpy(), (b.users[:50] @ b.items.T).numpy(), atol=1e-4
    )
    broken = {**cold.to_json(), "centre": None}
    with pytest.raises(ConfigError, match="centre"):
        ColdStart.from_json(broken)


def test_a_warm_item_has_no_routed_explanation(published):
    ds = published.dataset
    loaded = dataclasses.replace(published, cold_start=_cold(ds))
    warm = int(np.flatnonzero(~routed_items(ds.train, 2))[0])
    with pytest.raises(ConfigError, match="ranked by the model itself"):
        explain_routed(loaded, np.array([0]), warm)


def test_the_fit_chooses_on_valid_and_stores_with_the_model(published, tmp_path):
    cold, per, base = fit_cold_start(published, **TINY_GRID)
    assert cold.report["fitted_on"] == "valid"
    assert per and cold.name in per  # the kept one is the best of the mechanisms compared
    for trial in per.values():  # every mechanism's best keeps within the warm budget on valid
        assert base["warm"] - trial.warm <= cold.report["warm_budget"] + 1e-12
    # the kept setting costs warm items at most the budget on valid, and it gains new arrivals
    assert base["warm"] - cold.report["valid_on"]["warm"] <= cold.report["warm_budget"] + 1e-12
    assert cold.report["valid_on"]["new"] > base["new"]
    # stored beside a copy of the model, tagged with its fingerprint, loaded with it
    model_dir = tmp_path / "anchor"
    shutil.copytree(ANCHOR, model_dir, ignore=shutil.ignore_patterns("projections", "per_user"))
    (model_dir / COLD_START_FILE).unlink(missing_ok=True)
    assert load_model(model_dir, published.dataset).cold_start is None
    write_cold_start(ModelDir(model_dir), cold)
    stored = json.loads((model_dir / COLD_START_FILE).read_text())
    assert stored["fingerprint"] == ModelDir(model_dir).fingerprint()
    again = load_model(model_dir, published.dataset).cold_start
    assert again is not None and again.name == cold.name and again.shift == cold.shift
    # a calibration written for another model is not read
    stored["fingerprint"] = "0" * 16
    (model_dir / COLD_START_FILE).write_text(json.dumps(stored))
    assert load_model(model_dir, published.dataset).cold_start is None


def test_cold_start_off_gives_the_published_ranking(tmp_path, capsys):
    from anchorrec.cli import main

    assert (
        main(
            [
                "recommend",
                str(ANCHOR),
                "--user",
                "0,1,2",
                "--k",
                "20",
                "--json",
                "--cold-start",
                "off",
            ]
        )
        == 0
    )
    off = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    loaded = load_model(ANCHOR)
    emb = loaded.model.eval_embeddings()
    for user in (0, 1, 2):
        scores = (emb.users[user] @ emb.items.T).clone()
        scores[torch.as_tensor(loaded.dataset.train[user].indices)] = -torch.inf
        expect = torch.topk(scores, 20).indices.tolist()
        assert [r["item"] for r in off if r["user"] == user] == expect
    assert not any(r["new_arrival"] for r in off)


def test_recommend_ranks_through_the_shipped_cold_start_by_default(capsys):
    from anchorrec.cli import main

    loaded = load_model(ANCHOR)
    if loaded.cold_start is None:
        pytest.skip("the shipped anchor model has no stored cold-start path")
    assert main(["recommend", str(ANCHOR), "--user", "all", "--k", "20", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(rows) == 20 * loaded.dataset.n_users
    emb = ranking_embeddings(loaded)
    for user in (3, 400):
        scores = (emb.users[user] @ emb.items.T).clone()
        scores[torch.as_tensor(loaded.dataset.train[user].indices)] = -torch.inf
        assert [r["item"] for r in rows if r["user"] == user] == torch.topk(
            scores, 20
        ).indices.tolist()
    routed = routed_items(loaded.dataset.train, loaded.cold_start.threshold)
    listed = [r for r in rows if r["new_arrival"]]
    assert listed and all(routed[r["item"]] for r in listed)
    assert len(listed) < len(rows) / 4  # new arrivals join the lists, they do not take them over


def test_a_previewed_shoe_reaches_shoppers_who_buy_shoes(published):
    from anchorrec.analysis.preview import ProductFeatures, preview_item

    loaded = load_model(ANCHOR)
    if loaded.cold_start is None:
        pytest.skip("the shipped anchor model has no stored cold-start path")
    ds = loaded.dataset
    cats = ds.items["category"].astype(str).to_numpy()
    shoes = np.flatnonzero(np.char.find(cats.astype(str), "shoe") >= 0)
    if not len(shoes):
        shoes = np.flatnonzero(np.isin(cats, ["boots", "sneakers", "sandals", "heels"]))
    assert len(shoes), "the sample has a shoe"
    shoe = int(shoes[0])
    product = ProductFeatures(
        {m: ds.features[m][shoe][None] for m in (IMAGE, TEXT)},
        "A shoe",
        "the sample's own shoe, photo and copy",
        cats[shoe],
        "",
    )
    preview = preview_item(loaded, product, k=20)
    assert preview.routed and len(preview.audience) > 0
    bought_shoes = np.zeros(ds.n_users, dtype=bool)
    bought_shoes[np.unique(ds.train[:, shoes].tocoo().row)] = True
    in_audience = bought_shoes[preview.audience].mean()
    assert in_audience > 1.5 * bought_shoes.mean(), (in_audience, bought_shoes.mean())
    # and the explanation is the content scorer's, labelled as such
    assert "photo and copy" in preview.why(int(preview.audience[0]))
    off = preview_item(published, product, k=20, explain=False)
    assert len(off.audience) < len(preview.audience)


def test_evaluate_reports_warm_and_new_arrivals_side_by_side(capsys):
    from anchorrec.cli import main

    if load_model(ANCHOR).cold_start is None:
        pytest.skip("the shipped anchor model has no stored cold-start path")
    assert main(["evaluate", str(ANCHOR), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # --json: the one document on stdout
    assert report["cold_start"] is True
    on, off = report["items"]["cold start"], report["items"]["published"]
    assert set(on) == set(off) == {"warm", "new", "all"}
    assert on["new"]["recall@20"] > off["new"]["recall@20"]
    assert on["warm"]["users"] == off["warm"]["users"]  # the same shoppers, both rankings
    assert report["recall@20"] == pytest.approx(on["all"]["recall@20"], abs=0.02)
    assert "cold start: new arrivals +" in captured.err  # the gain and the cost, in words


def test_reused_ranking_embeddings_give_the_same_marked_lists():
    """The Recommendations page ranks with embeddings computed once per model: the lists and
    their new-arrival marks equal a fresh ``recommend`` through the path."""
    from anchorrec.models.cold_start import ranking_embeddings, routed_mask, with_cold_start
    from anchorrec.models.recommend import recommend

    loaded = load_model(ANCHOR)
    on = with_cold_start(loaded, True)
    if on.cold_start is None:
        pytest.skip("the shipped anchor model has no stored cold-start path")
    users = list(range(0, loaded.dataset.n_users, 97))
    fresh = recommend(on, users, 20)
    reused = recommend(loaded, users, 20, embeddings=ranking_embeddings(on), routed=routed_mask(on))
    assert [(r.user, r.item, r.new_arrival) for r in fresh] == [
        (r.user, r.item, r.new_arrival) for r in reused
    ]
    assert any(r.new_arrival for r in fresh)  # the marks were exercised


@pytest.mark.parametrize("calibration", [TAIL_CALIBRATION, PER_SHOPPER, GLOBAL])
def test_calibrating_some_shoppers_gives_their_rows_of_the_whole(published, calibration):
    from anchorrec.models.cold_start import calibrated

    ds = published.dataset
    cold = _cold(ds, TASTE, calibration)
    emb = published.model.eval_embeddings()
    _, whole, _ = calibrated(cold, emb, ds)
    rows = np.array([3, 40, 40, 977])
    _, some, _ = calibrated(cold, emb, ds, rows=rows)
    np.testing.assert_allclose(some.alpha[rows], whole.alpha[rows], rtol=1e-5)
    np.testing.assert_allclose(some.beta[rows], whole.beta[rows], rtol=1e-5, atol=1e-6)
    others = np.setdiff1d(np.arange(ds.n_users), rows)
    if calibration == GLOBAL:  # one pair for everybody: every row is known
        np.testing.assert_allclose(some.alpha, whole.alpha)
    else:  # rows nobody asked for carry no number
        assert np.isnan(some.alpha[others]).all() and np.isnan(some.beta[others]).all()
