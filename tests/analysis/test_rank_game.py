"""The rank game: exact, efficient, ties shared, agreeing with the list it explains."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.analysis.attribution import coalition_cache
from anchorrec.analysis.attribution.rank_game import (
    RANK_DISCOUNT,
    TOP_K,
    _standing,
    rank_top_k,
    rank_values,
)
from anchorrec.analysis.shapley import shapley_by_enumeration
from anchorrec.errors import ConfigError


def test_a_recommended_item_is_in_the_top_k_with_every_input(tiny_model):
    cache = coalition_cache(tiny_model)
    result = rank_top_k(cache, k=5)
    assert len(result) == 5 * cache.n_users
    np.testing.assert_array_equal(result.full, 1.0)
    assert result.efficiency_error() < 1e-12
    assert np.all((result.empty >= 0) & (result.empty <= 1))
    np.testing.assert_array_equal(result.ranks, np.tile(np.arange(1, 6), cache.n_users))


@pytest.mark.parametrize("standing", [TOP_K, RANK_DISCOUNT])
def test_values_equal_the_textbook_definition(tiny_model, standing):
    cache = coalition_cache(tiny_model)
    user = 3
    items = np.flatnonzero(~cache.excluded(user))[:12]
    result = rank_values(cache, user, items, k=4, standing=standing)
    value = {}
    for subset in cache.subsets:
        ranks = cache.ranks(user, drop=frozenset(cache.players) - subset)[items]
        scores = cache.scores(user, frozenset(cache.players) - subset)
        if np.ptp(scores[~cache.excluded(user)]) == 0:  # all tied: uniform over the places
            n = int((~cache.excluded(user)).sum())
            places = np.arange(1, n + 1)
            u = np.mean(places <= 4) if standing == TOP_K else np.mean(1 / np.log2(1 + places))
            value[subset] = np.full(len(items), u)
        else:
            value[subset] = (ranks <= 4) * 1.0 if standing == TOP_K else 1 / np.log2(1 + ranks)
    np.testing.assert_allclose(result.values, shapley_by_enumeration(cache.players, value))


def test_ties_share_the_places_they_tie_for():
    scores = np.array([[3.0, 2.0, 2.0, 2.0, 1.0]])
    excluded = np.zeros(5, dtype=bool)
    top = _standing(scores, np.array([0, 1, 4]), excluded, 2, TOP_K)
    np.testing.assert_allclose(top[0], [1.0, 1 / 3, 0.0])
    disc = _standing(scores, np.array([1]), excluded, 2, RANK_DISCOUNT)
    expected = np.mean(1 / np.log2(1 + np.array([2, 3, 4])))
    assert disc[0, 0] == pytest.approx(expected)


def test_bad_arguments_are_user_errors(tiny_model):
    cache = coalition_cache(tiny_model)
    with pytest.raises(ConfigError, match="standing"):
        rank_values(cache, 0, [1], standing="score")
    with pytest.raises(ConfigError, match="k >= 1"):
        rank_values(cache, 0, [1], k=0)
    with pytest.raises(ConfigError, match="does not exist"):
        rank_values(cache, 10_000, [1])
