"""Shapley attribution: efficiency, symmetry, closed form = enumeration, what-if, speed path."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.analysis.attribution import (
    coalition_cache,
    explain_all_items,
    explain_items,
    explain_user,
    top_k_attribution,
    whatif,
)
from anchorrec.analysis.shapley import (
    abs_shares,
    branch_game_value,
    branch_shapley,
    coalitions,
    shapley_by_enumeration,
    shapley_weight_matrix,
)
from anchorrec.errors import ConfigError


def test_branch_closed_form_equals_enumeration_of_coalitions():
    rng = np.random.default_rng(1)
    user = rng.normal(size=(4, 6))
    items = rng.normal(size=(4, 9, 6))
    names = ("a", "b", "c", "d")
    value = {
        s: branch_game_value(user, items, [names.index(p) for p in sorted(s)])
        for s in coalitions(names)
    }
    np.testing.assert_allclose(
        branch_shapley(user, items), shapley_by_enumeration(names, value), atol=1e-12
    )


def test_weight_matrix_equals_permutation_definition_on_a_random_game():
    rng = np.random.default_rng(2)
    players = ("id", "image", "text", "fused")
    subsets = coalitions(players)
    value = {s: rng.normal(size=5) for s in subsets}
    values = np.stack([value[s] for s in subsets])
    phi = shapley_weight_matrix(players, subsets) @ values
    np.testing.assert_allclose(phi, shapley_by_enumeration(players, value), atol=1e-12)
    # efficiency: the values add up to v(N) - v(∅)
    np.testing.assert_allclose(phi.sum(0), value[subsets[-1]] - value[subsets[0]], atol=1e-12)


def test_symmetric_players_get_equal_values_and_a_null_player_gets_zero():
    players = ("a", "b", "c")
    # v depends on a and b symmetrically, never on c
    value = {s: np.array([float(("a" in s) + ("b" in s)) ** 2]) for s in coalitions(players)}
    subsets = coalitions(players)
    phi = shapley_weight_matrix(players, subsets) @ np.stack([value[s] for s in subsets])
    assert phi[0, 0] == pytest.approx(phi[1, 0])
    assert phi[2, 0] == pytest.approx(0.0)
    # branch level: two identical branches get identical values
    rng = np.random.default_rng(3)
    u = rng.normal(size=(3, 4))
    u[1] = u[0]
    it = rng.normal(size=(3, 5, 4))
    it[1] = it[0]
    out = branch_shapley(u, it)
    np.testing.assert_allclose(out[0], out[1])


def test_input_attribution_is_efficient_for_every_item_of_a_ranking(tiny_model):
    expl = explain_user(tiny_model, user=3, k=10)
    t = expl.items
    phi_sum = t[[f"phi_{p}" for p in expl.players]].sum(axis=1)
    np.testing.assert_allclose(t["baseline"] + phi_sum, t["score"], rtol=1e-9, atol=1e-9)
    branch_sum = t[[f"branch_{b}" for b in expl.branches]].sum(axis=1)
    np.testing.assert_allclose(branch_sum, t["score"], rtol=1e-4, atol=1e-5)
    shares = t[[f"share_{p}" for p in expl.players]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    # the ranking is by score, best first, and excludes the user's train items
    assert list(t["rank"]) == list(range(1, 11))
    assert (np.diff(t["score"]) <= 1e-9).all()
    seen = set(tiny_model.dataset.train[3].indices)
    assert not seen & set(t["item"])


def test_cached_scores_equal_the_models_scores(tiny_model):
    cache = coalition_cache(tiny_model)
    emb = tiny_model.model.compute_embeddings()
    expected = (emb.users[5] @ emb.items.T).detach().numpy()
    np.testing.assert_allclose(cache.scores(5), expected, rtol=1e-5, atol=1e-5)
    assert cache.subsets[0] == frozenset() and cache.subsets[-1] == frozenset(cache.players)
    assert coalition_cache(tiny_model) is cache  # built once


def test_all_items_path_agrees_with_item_path(tiny_model):
    whole = explain_all_items(tiny_model, 7)
    some = explain_items(tiny_model, 7, np.array([0, 5, 9]))
    np.testing.assert_allclose(
        whole.loc[[0, 5, 9], "phi_image"].to_numpy(),
        some["phi_image"].to_numpy(),
        rtol=1e-5,
        atol=1e-7,
    )


def test_batched_top_k_attribution_equals_per_user_explanation(tiny_model):
    table = top_k_attribution(tiny_model, k=5, users=np.array([2, 11]), batch=1)
    one = explain_user(tiny_model, 11, k=5).items
    rows = table[table["user"] == 11].reset_index(drop=True)
    np.testing.assert_array_equal(rows["item"], one["item"])
    for col in ("score", "baseline", "phi_id", "phi_text", "branch_image", "share_id"):
        np.testing.assert_allclose(rows[col], one[col], rtol=1e-5, atol=1e-6)


def test_whatif_ranks_and_flip_rate(tiny_model):
    w = whatif(tiny_model, 4, k=5)
    assert set(w.flip_rate) == {"id", "image", "text"}
    cache = coalition_cache(tiny_model)
    for p in cache.players:
        top_without, _ = cache.ranking(4, 5, drop=frozenset([p]))
        kept = len(set(top_without) & set(w.table["item"]))
        assert w.flip_rate[p] == pytest.approx(1 - kept / 5)
        assert (w.table[f"rank_without_{p}"] >= 1).all()


def test_top_k_and_whatif_within_a_set_of_items_rank_only_those(tiny_model):
    cache = coalition_cache(tiny_model)
    user, k = 4, 5
    within = np.zeros(cache.n_items, dtype=bool)
    within[::3] = True  # a "category": every third item
    unseen = within.copy()
    unseen[cache.seen(user)] = False
    scores = cache.scores(user).astype(np.float64)
    best = np.flatnonzero(unseen)[np.argsort(-scores[unseen], kind="stable")][:k]
    exp = explain_user(cache, user, k, within=within)
    np.testing.assert_array_equal(exp.items["item"], best)  # the top-k of the set, not a cut
    w = whatif(cache, user, k, within=within)
    np.testing.assert_array_equal(w.table["item"], best)
    for p in cache.players:  # ranks count only the set's unseen items
        ranks = cache.ranks(user, drop=frozenset([p]), within=within)
        assert sorted(ranks[unseen]) == list(range(1, int(unseen.sum()) + 1))
        assert (ranks[~unseen] == 0).all()
        np.testing.assert_array_equal(w.table[f"rank_without_{p}"], ranks[best])


def test_unknown_user_is_a_user_error(tiny_model):
    with pytest.raises(ConfigError, match="does not exist"):
        explain_user(tiny_model, 10_000)


def test_abs_shares_handle_all_zero():
    out = abs_shares(np.zeros((3, 2)))
    assert (out == 0).all()
    np.testing.assert_allclose(abs_shares(np.array([[1.0], [-3.0]])), [[0.25], [0.75]])


def test_persisted_coalition_cache_round_trips(tiny_model, tmp_path):
    from dataclasses import replace

    from anchorrec.analysis import attribution as at

    loaded = replace(tiny_model, model_dir=tmp_path)
    at._CACHES.pop(loaded.model, None)
    built = at.coalition_cache(loaded, persist=True)
    files = list((tmp_path / "attribution").glob("coalitions-*.npz"))
    assert len(files) == 1
    at._CACHES.pop(loaded.model, None)
    read = at.coalition_cache(loaded, persist=True)
    assert read is not built and read.subsets == built.subsets
    np.testing.assert_array_equal(read.items, built.items)
    np.testing.assert_allclose(
        explain_user(read, 2).items["score"], explain_user(built, 2).items["score"]
    )


def test_standardised_game_is_efficient_and_matches_the_batched_path(tiny_model):
    cache = coalition_cache(tiny_model)
    user = 6
    items, _ = cache.ranking(user, 5)
    zphi = cache.standardised_input_values(user, items)
    # efficiency: Σφ_z = z_N(item) − z_∅(item), z-scores among the user's unseen items
    unseen = np.setdiff1d(np.arange(cache.n_items), cache.seen(user))

    def z(drop):
        s = cache.scores(user, drop).astype(np.float64)
        return (s[items] - s[unseen].mean()) / s[unseen].std()

    expected = z(frozenset()) - z(frozenset(cache.players))
    np.testing.assert_allclose(zphi.sum(axis=0), expected, rtol=1e-5, atol=1e-6)
    table = top_k_attribution(tiny_model, k=5, users=np.array([user]))
    np.testing.assert_allclose(table["zphi_image"], zphi[1], rtol=1e-6, atol=1e-9)
    one = explain_user(tiny_model, user, 5).items
    np.testing.assert_allclose(one["zshare_id"], table["zshare_id"], rtol=1e-6)


def test_standardised_game_ignores_a_coalition_that_only_rescales_scores():
    from anchorrec.analysis.attribution import _zscore

    rng = np.random.default_rng(0)
    base = rng.normal(size=20)
    values = np.stack([base * s for s in (1.0, 5.0)])  # two coalitions, same ranking
    z = _zscore(values, values.mean(1, keepdims=True), values.std(1, keepdims=True))
    np.testing.assert_allclose(z[0], z[1])


def test_describe_rank_names_what_put_the_item_in_the_top_k(tiny_model):
    from anchorrec.analysis.attribution import coalition_cache, describe_rank, explain_user

    exp = explain_user(coalition_cache(tiny_model), 2, k=5)
    row = exp.items.iloc[0]
    sum_ = sum(row[f"rphi_{p}"] for p in exp.players) + row["standing_none"]
    assert sum_ == pytest.approx(1.0)  # a recommended item holds its top-5 place
    text = describe_rank(row, exp.players, 5)
    assert text.startswith("What put it in the top-5: of its place in the list")
    from anchorrec.analysis.attribution import PLAYER_WORDS

    best = max(exp.players, key=lambda p: row[f"rphi_{p}"])
    assert text.split(")", 1)[1].startswith(f" the {PLAYER_WORDS[best]}")  # largest first
    assert describe_rank({"item": 1}, exp.players, 5) == ""


def test_describe_recommendation_names_the_input_with_the_largest_share():
    from anchorrec.analysis.attribution import describe_recommendation

    row = {
        "item": 7,
        "rank": 2,
        "score": 1.5,
        "baseline": 0.25,
        "phi_id": 0.25,
        "phi_image": 1.25,
        "phi_text": -0.25,
    }
    text = describe_recommendation(row, ("id", "image", "text"))
    assert text.startswith("Item #7 is ranked #2 with score 1.500 (0.250 with every input removed)")
    # ordered by signed value: the image first, the text (which pulled it down) last
    assert text.index("picture raised it by +1.250") < text.index(
        "product text lowered it by -0.250"
    )
    assert "Its largest share of the score is the picture (71% of the total |φ|)." in text
    row["phi_text"] = -2.0  # a large negative value is the largest share too, as |φ|
    assert "largest share of the score is the product text" in describe_recommendation(
        row, ("id", "image", "text")
    )
